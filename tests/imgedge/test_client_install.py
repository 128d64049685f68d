"""`pip install imgedge` without extras, for real, into a fresh virtual environment: it needs no other
package, `imgedge url` signs a URL that the proxy (from the full install) verifies, the generation client
imports, and subcommands that need an extra say which one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from imgedge.cache.config import CacheConfig
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from tests.conftest import photo, running

ROOT = Path(__file__).resolve().parents[2]
KEY = "client-install-key"
ASSET_ID = "c1" * 16
# What a wheel is built from: the packaging files and the packages (imgedge/ links to the others).
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "imgedge", "proxy", "cache", "generator")


@dataclass
class Venv:
    python: Path
    imgedge: Path

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("IMGEDGE_", "PYTHON"))}
        return subprocess.run(
            args, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120, check=False
        )


def _run(*args: str, cwd: Path | None = None) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    tmp = tmp_path_factory.mktemp("client-install")
    tree = tmp / "src"
    tree.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(source, tree / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, tree / name)
    # The wheel is built with this environment's setuptools (offline); the install below is the real one.
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(tmp),
        str(tree),
    )
    wheel = next(tmp.glob("imgedge-*.whl"))
    _run(sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv"))
    python = tmp / "venv" / "bin" / "python"
    # --no-index: were the core to need any other distribution, this install would fail.
    _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index", str(wheel))
    yield Venv(python, tmp / "venv" / "bin" / "imgedge")


def test_the_core_install_has_no_dependencies(core: Venv) -> None:
    servers = "('pyvips', 'starlette', 'httpx', 'torch')"
    probe = f"import importlib.util as u; print([m for m in {servers} if u.find_spec(m)])"
    done = core.run(str(core.python), "-c", probe)
    assert done.stdout.strip() == "[]", done.stderr
    imports = core.run(str(core.python), "-c", "import imgedge.client, imgedge.url.build, imgedge.provenance")
    assert imports.returncode == 0, imports.stderr
    assert core.run(str(core.imgedge), "--version").stdout.startswith("imgedge 0.1.0")
    assert "IMGEDGE_KEYS" in core.run(str(core.imgedge), "settings").stdout
    # Package data travels in the wheel: uvicorn's log configuration for `imgedge serve`.
    shipped = core.run(str(core.python), "-c", "import imgedge.serve as s; print(s.LOG_CONFIG.is_file())")
    assert shipped.stdout.strip() == "True", shipped.stderr


def test_a_url_signed_by_the_core_install_verifies_at_the_proxy(core: Venv, tmp_path: Path) -> None:
    signed = core.run(
        str(core.imgedge), "url", ASSET_ID, "--width", "64", "--format", "webp",
        env={"IMGEDGE_KEYS": KEY, "IMGEDGE_DATA_DIR": str(tmp_path / "client-data")},
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    path = signed.stdout.strip()
    originals = tmp_path / "originals"
    originals.mkdir()
    (originals / f"{ASSET_ID}.png").write_bytes(photo("coffee", 128).write_to_buffer(".png"))
    config = ProxyConfig(
        data_dir=tmp_path, keys=(KEY.encode(),), source="filesystem", originals_dir=originals
    )
    app = create_app(config, cache_config=CacheConfig(disk_dir=tmp_path / "cache"))
    with running(app) as proxy:
        good = httpx.get(proxy + path, timeout=30)
        tampered = httpx.get(proxy + path.replace("w:64", "w:65"), timeout=30)
    assert good.status_code == 200 and good.headers["content-type"] == "image/webp"
    assert tampered.status_code == 403


def test_subcommands_that_need_an_extra_say_which(core: Venv) -> None:
    for command, extra in (
        (["generate", "a prompt"], "generator"),
        (["serve"], "generator"),
        (["purge", "x"], "server"),
    ):
        done = core.run(str(core.imgedge), *command)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"pip install 'imgedge[{extra}]'" in done.stderr and "Traceback" not in done.stderr
    assert core.run(str(core.imgedge), "generate", "--help").returncode == 0
