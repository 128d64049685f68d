"""The start-up check of libvips: what it reports here, and the one message when something is missing.

These run in both test jobs: on pyvips-binary's libvips (`make test`) and on Debian's (`make
test-system-libvips`), so the facts are checked against independent evidence, not restated.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips

from imgedge.cli import main
from imgedge.formats import FORMATS
from imgedge.generator.app import create_app as create_generator
from imgedge.generator.config import GeneratorConfig
from imgedge.imaging import requirements
from imgedge.imaging.errors import LibvipsUnsupported
from imgedge.imaging.libvips import operation_exists
from imgedge.imaging.requirements import check_libvips, require_libvips
from imgedge.proxy.app import create_app as create_proxy
from imgedge.proxy.config import ProxyConfig
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_check() -> Iterator[None]:
    """Each test sees its own check, and leaves the real one behind for the rest of the session."""
    check_libvips.cache_clear()
    yield
    check_libvips.cache_clear()


@pytest.fixture
def libvips_8_13(monkeypatch: pytest.MonkeyPatch, fresh_check: None) -> None:
    # No libvips older than Debian 12's can be installed here; imgedge reads the version through
    # pyvips.version, while pyvips' own feature checks read the real one.
    monkeypatch.setattr(pyvips, "version", lambda flag: (8, 13, 0)[flag])


def bundled_binding_in_use() -> bool:
    """Is the imported _libvips the very file pyvips-binary installed? (Found without imgedge's own code.)"""
    if not pyvips.API_mode:
        return False
    try:
        files = importlib.metadata.files("pyvips-binary") or []
    except importlib.metadata.PackageNotFoundError:
        return False
    loaded = Path(sys.modules["_libvips"].__file__ or "")
    for record in files:
        if record.name == loaded.name and record.hash is not None:
            digest = hashlib.sha256(loaded.read_bytes()).digest()
            recorded = base64.urlsafe_b64decode(record.hash.value + "==")
            return Path(str(record.locate())).resolve() == loaded.resolve() and digest == recorded
    return False


def test_this_libvips_has_everything_imgedge_uses() -> None:
    report = require_libvips()
    assert report.ok, report.missing
    assert len(report.writes) == len(FORMATS)
    assert {"JPEG", "PNG", "WebP", "GIF", "AVIF/HEIF"} <= set(report.reads)
    assert report.version == ".".join(str(pyvips.version(i)) for i in range(3))


def test_doctor_names_where_libvips_came_from(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["origin"] == ("pyvips-binary" if bundled_binding_in_use() else "system")
    assert Path(report["binding"]["library"]).is_file()
    other = "system" if report["origin"] == "pyvips-binary" else "pyvips-binary"
    assert main(["doctor", "--expect", other]) == 1
    assert f"expected the libvips from {other}, found {report['origin']}" in capsys.readouterr().err


def test_version_prints_the_libvips_line_and_formats(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("imgedge ") and lines[1].startswith("Python ")
    assert lines[2].startswith(f"libvips {pyvips.version(0)}.{pyvips.version(1)}.")
    assert lines[3].startswith("reads:") and "JPEG" in lines[3]
    assert lines[4] == "writes: AVIF, WebP, JPEG, PNG, GIF"


def test_too_old_a_libvips_is_refused_with_one_message(libvips_8_13: None) -> None:
    with pytest.raises(LibvipsUnsupported) as refused:
        require_libvips()
    message = str(refused.value)
    lines = message.splitlines()
    assert lines[0] == "cannot run on this libvips."
    assert lines[1].startswith("  found: libvips 8.13.0 from ")
    assert lines[2] == "  needs: libvips 8.14 or newer (this is 8.13.0)"
    assert lines[3].startswith("  fix:   ")
    assert f"{sys.executable} -m pip install --" in message


def test_every_entry_point_refuses_before_doing_anything(
    libvips_8_13: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMGEDGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IMGEDGE_QUEUE_REDIS_URL", "redis://127.0.0.1:9")  # never reached
    photo = tmp_path / "photo.png"
    pyvips.Image.black(8, 8, bands=3).write_to_file(str(photo))
    for argv in (["serve"], ["ingest", str(photo)], ["generate", "a harbour"], ["worker", "--burst"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"imgedge {argv[0]}: cannot run on this libvips.\n"), err
        assert err.count("cannot run") == 1
    assert not (tmp_path / "data").exists()  # no secrets, no store, no children
    with pytest.raises(LibvipsUnsupported):
        create_proxy(ProxyConfig(data_dir=tmp_path, keys=(b"k",)))
    with pytest.raises(LibvipsUnsupported):
        create_generator(GeneratorConfig(data_dir=tmp_path / "g"))


def test_uvicorn_factories_exit_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    too_old = (
        "import sys, pyvips, uvicorn; pyvips.version = lambda flag: (8, 13, 0)[flag]; "
        "uvicorn.run(sys.argv[1], factory=True, port=int(sys.argv[2]), log_level='warning')"
    )
    env = {**os.environ, "IMGEDGE_DATA_DIR": str(tmp_path)}
    started = {}
    for name in ("proxy", "generator"):
        factory = f"imgedge.{name}.app:create_app_from_env"
        started[name] = subprocess.Popen(
            [sys.executable, "-c", too_old, factory, str(free_port())],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    for name, process in started.items():
        _, err = process.communicate(timeout=120)
        assert process.returncode == 1, err
        assert err.startswith(f"imgedge {name}: cannot run on this libvips.\n"), err
        assert "Traceback" not in err and err.count("cannot run") == 1


def test_a_codec_this_libvips_lacks_is_refused(fresh_check: None) -> None:
    # libvips' own switch for operations, as a build without libheif's encoder would look.
    pyvips.operation_block_set("VipsForeignSaveHeif", True)
    try:
        report = check_libvips()
    finally:
        pyvips.operation_block_set("VipsForeignSaveHeif", False)
    # 8.18 no longer finds a blocked saver; 8.14 finds it and refuses to run it.
    assert len(report.missing) == 1 and "AVIF" in report.missing[0], report.missing
    assert "AVIF" not in report.writes
    assert f"  needs: {report.missing[0]}" in requirements.refusal(report)


def test_every_operation_imgedge_calls_is_checked_at_start() -> None:
    # A method added to the pipeline that only newer libvips have (maxpair is 8.15) must show up here, and
    # then in the start-up check, which `make test-system-libvips` runs on Debian's 8.14.
    sources = [*ROOT.glob("proxy/pipeline/*.py"), *ROOT.glob("imgedge/imaging/*.py")]
    sources += [*ROOT.glob("generator/assets/*.py"), ROOT / "proxy/render.py"]
    # Modules without pyvips (the metric's numpy) would only add numpy's `np.subtract(` and the like.
    texts = [text for text in (path.read_text() for path in sources) if "import pyvips" in text]
    called = {name for text in texts for name in re.findall(r"\.(\w+)\(", text)}
    python_level = set(vars(pyvips.Image))  # pyvips' own methods, whatever the library has
    operations = {name for name in called - python_level if operation_exists(name)}
    assert operations <= set(requirements.OPERATIONS), operations - set(requirements.OPERATIONS)
