from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import pyvips

from imgedge.cli import main
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.tiny import ensure_tiny_model
from tests.conftest import libvips_blocked
from tests.generator.conftest import store_for

ROOT = Path(__file__).resolve().parents[2]


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IMGEDGE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "imgedge.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def seeded_data_dir(tmp_path: Path, model_data_dir: Path) -> Path:
    """A fresh data dir that already holds the tiny model, so the subprocess does not rebuild it."""
    ensure_tiny_model(GeneratorConfig(data_dir=model_data_dir).tiny_model_dir)
    data_dir = tmp_path / "data"
    shutil.copytree(GeneratorConfig(data_dir=model_data_dir).tiny_model_dir, data_dir / "models" / "tiny")
    return data_dir


def test_ingest_prints_ids_and_fails_on_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    pyvips.Image.black(30, 20, bands=3).write_to_file(str(good))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    data_dir = tmp_path / "data"

    ok = run_cli(data_dir, "ingest", str(good))
    assert ok.returncode == 0, ok.stderr
    asset_id = ok.stdout.strip()
    record = store_for(GeneratorConfig(data_dir=data_dir)).get(asset_id)
    assert record is not None
    assert (record.width, record.height, record.moderation, record.provenance.origin) == (
        30,
        20,
        "approved",
        "ingest",
    )

    mixed = run_cli(data_dir, "ingest", str(bad), str(good), str(tmp_path / "missing.png"))
    assert mixed.returncode == 1
    assert mixed.stdout.split() == [asset_id]
    assert "bad.png" in mixed.stderr and "missing.png" in mixed.stderr


def test_ingest_tells_a_library_failure_from_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.png"
    pyvips.Image.black(30, 20, bands=3).write_to_file(str(good))
    monkeypatch.setenv("IMGEDGE_DATA_DIR", str(tmp_path / "data"))
    with libvips_blocked("VipsForeignSavePng"):
        assert main(["ingest", str(good)]) == 1
    err = capsys.readouterr().err
    assert f"imgedge: {good}: libvips failed (canonicalize): " in err
    assert "corrupt" not in err


def test_generate_prints_the_asset_id_deterministically(tmp_path: Path, model_data_dir: Path) -> None:
    data_dir = seeded_data_dir(tmp_path, model_data_dir)
    args = ("generate", "a quiet harbour", "--aspect", "16:9", "--seed", "11", "--steps", "2")
    first = run_cli(data_dir, *args)
    assert first.returncode == 0, first.stderr
    asset_id = first.stdout.strip()
    record = store_for(GeneratorConfig(data_dir=data_dir)).get(asset_id)
    assert record is not None and record.width > record.height
    assert record.provenance.prompt == "a quiet harbour" and record.provenance.seed == 11
    assert run_cli(data_dir, *args).stdout.strip() == asset_id
    refused = run_cli(data_dir, "generate", "x", "--steps", "0")
    assert refused.returncode == 1 and "steps" in refused.stderr


def test_factory_loads_the_model_at_start_up(tmp_path: Path, model_data_dir: Path) -> None:
    data_dir = seeded_data_dir(tmp_path, model_data_dir)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "IMGEDGE_DATA_DIR": str(data_dir), "IMGEDGE_PROXY_URL": "http://127.0.0.1:9"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "imgedge.generator.app:create_app_from_env",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        health = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health["status"] == "ok"
        # Secrets are created on first start and shared through the data dir.
        assert (data_dir / "secrets" / "origin.token").exists()
        assert (data_dir / "secrets" / "admin.token").exists()
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=60)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says how it ended.
    assert "Application shutdown complete" in output
    assert "model imgedge/tiny-random-sd ready on cpu" in output
