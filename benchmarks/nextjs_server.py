"""The Next.js 16 image optimizer as a peer: `next start` of the minimal app in benchmarks/nextjs, with its
default sharp optimizer, on local copies of the same canonical originals.

`npm ci` installs the pinned `next` from the npm registry into benchmarks/nextjs/node_modules (ignored by
git) the first time; `next build` runs when the build is missing or older than the app's files. The
originals go to `public/bench/` (also ignored) before `next start`, which serves what is there when it
starts. Next.js caches optimized images under `.next/cache/images`, keyed by URL, width, quality and the
negotiated type; that cache is emptied at each start, and the uncached workloads add a `?v=N` query to the
source URL so that every request is a new cache key (the file itself is the same, as thumbor's are).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from benchmarks import processes

APP = Path(__file__).resolve().parent / "nextjs"
MIN_NODE = (20, 9)  # what Next.js 16 requires
_APP_FILES = ("package.json", "package-lock.json", "next.config.mjs", "app/layout.js", "app/page.js")


def node_version() -> tuple[int, int] | None:
    if shutil.which("node") is None:
        return None
    done = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30, check=False)
    found = re.match(r"v(\d+)\.(\d+)", done.stdout.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def unavailable_reason() -> str | None:
    """Why the Next.js peer cannot run here, or None when it can."""
    version = node_version()
    if version is None or shutil.which("npm") is None:
        return "Node.js and npm are not installed: no Next.js peer this time"
    if version < MIN_NODE:
        return f"Node.js {version[0]}.{version[1]} is older than Next.js 16 needs (20.9): no Next.js peer"
    return None


def _ensure_built(app: Path, log: Path) -> None:
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1"}
    with log.open("ab") as out:
        if not (app / "node_modules" / ".bin" / "next").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=app, env=env, stdout=out,
                           stderr=subprocess.STDOUT, timeout=900, check=True)  # fmt: skip
        build_id = app / ".next" / "BUILD_ID"
        newest = max((app / name).stat().st_mtime for name in _APP_FILES)
        if not build_id.exists() or build_id.stat().st_mtime < newest:
            subprocess.run([str(app / "node_modules" / ".bin" / "next"), "build"], cwd=app, env=env,
                           stdout=out, stderr=subprocess.STDOUT, timeout=900, check=True)  # fmt: skip


def installed_version(app: Path = APP) -> str:
    package = app / "node_modules" / "next" / "package.json"
    found = re.search(r'"version"\s*:\s*"([^"]+)"', package.read_text()) if package.exists() else None
    return found.group(1) if found else "not run"


def path(file_name: str, *, width: int = 400, quality: int = 80, version: int | None = None) -> str:
    source = f"/bench/{file_name}" + (f"?v={version}" if version is not None else "")
    return f"/_next/image?url={quote(source, safe='/')}&w={width}&q={quality}"


@dataclass(slots=True)
class NextServer:
    process: subprocess.Popen[bytes]
    base_url: str

    @classmethod
    def start(cls, originals: dict[str, bytes], *, port: int, log: Path, app: Path = APP) -> NextServer:
        """`originals`: file name → PNG bytes, served from public/bench/."""
        log.parent.mkdir(parents=True, exist_ok=True)
        _ensure_built(app, log)
        public = app / "public" / "bench"
        shutil.rmtree(public, ignore_errors=True)
        public.mkdir(parents=True)
        for name, data in originals.items():
            (public / name).write_bytes(data)
        shutil.rmtree(app / ".next" / "cache" / "images", ignore_errors=True)
        argv = [str(app / "node_modules" / ".bin" / "next"), "start", "-p", str(port), "-H", "127.0.0.1"]
        env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1", "NODE_ENV": "production"}
        process = processes.start(argv, env=env, log=log, cwd=app)
        base_url = f"http://127.0.0.1:{port}"
        probe = path(next(iter(originals)), version=0)
        processes.wait_http(base_url + probe, process, timeout_s=120, log=log)
        return cls(process, base_url)

    def stop(self) -> None:
        processes.stop(self.process)
