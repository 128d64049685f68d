"""thumbor 7.8 in its own virtualenv, file loader on the same originals, the same output settings."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks import processes

VERSION = "7.8.*"

# No result storage and no source storage: every request loads, decodes, resizes and encodes, as an
# uncached imgedge request does (thumbor's file loader reads the page-cached file, imgedge its cached pixels).
_CONFIG = """
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {root!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
AUTO_WEBP = False
QUALITY = {quality}
WEBP_QUALITY = {quality}
ALLOW_UNSAFE_URL = True
RESPECT_ORIENTATION = True
MAX_AGE = 86400
"""


def ensure_venv(venv: Path) -> Path:
    thumbor = venv / "bin" / "thumbor"
    if not thumbor.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", f"thumbor=={VERSION}"]
        subprocess.run(pip, check=True, timeout=900)
    return thumbor


def installed_version(venv: Path) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "thumbor"), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    return (done.stdout or done.stderr).strip().split()[-1] if done.returncode == 0 else "?"


def path(file_name: str, *, width: int = 400, fmt: str = "webp", quality: int = 80) -> str:
    return f"/unsafe/{width}x0/filters:format({fmt}):quality({quality})/{file_name}"


@dataclass(slots=True)
class ThumborServer:
    process: subprocess.Popen[bytes]
    base_url: str

    @classmethod
    def start(
        cls, venv: Path, *, root: Path, port: int, processes_count: int, log: Path, quality: int = 80
    ) -> ThumborServer:
        thumbor = ensure_venv(venv)
        conf = log.parent / "thumbor.conf"
        conf.write_text(_CONFIG.format(root=str(root.resolve()), quality=quality))
        argv = [str(thumbor), "--port", str(port), "--ip", "127.0.0.1", "--conf", str(conf)]
        argv += ["--processes", str(processes_count), "--log-level", "error"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        process = processes.start(argv, env=env, log=log)
        base_url = f"http://127.0.0.1:{port}"
        processes.wait_http(f"{base_url}/healthcheck", process, timeout_s=120, log=log)
        return cls(process, base_url)

    def stop(self) -> None:
        processes.stop(self.process)
