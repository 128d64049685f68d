"""The limit for cache hits: a bare Starlette app under uvicorn returning one variant's bytes from memory."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks import processes


def create_app() -> Starlette:
    body = Path(os.environ["BENCH_BARE_BODY"]).read_bytes()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}

    async def variant(_: Request) -> Response:
        return Response(body, media_type="image/webp", headers=headers)

    async def healthz(_: Request) -> Response:
        return Response(b"ok")

    return Starlette(routes=[Route("/healthz", healthz), Route("/{path:path}", variant)])


@dataclass(slots=True)
class BareServer:
    process: subprocess.Popen[bytes]
    base_url: str

    @classmethod
    def start(cls, body: Path, *, port: int, workers: int, log: Path) -> BareServer:
        # The same server settings `imgedge serve` gives the proxy, so only the application differs.
        argv = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.bare_endpoint:create_app"]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log"]
        env = {**os.environ, "BENCH_BARE_BODY": str(body.resolve())}
        process = processes.start(argv, env=env, log=log, cwd=Path(__file__).resolve().parent.parent)
        base_url = f"http://127.0.0.1:{port}"
        processes.wait_http(f"{base_url}/healthz", process, timeout_s=60, log=log)
        return cls(process, base_url)

    def stop(self) -> None:
        processes.stop(self.process)
