"""`/healthz` (the process answers) and `/readyz` (it can do its work: origin reachable, disk writable)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.proxy.routes import HEALTHZ, READYZ
from imgedge.proxy.sources import Source

_NO_STORE = {"Cache-Control": "no-store"}


class HealthRoutes:
    def __init__(self, origin: Source, disk_dir: Path | None) -> None:
        self.origin = origin
        self.disk_dir = disk_dir

    def routes(self) -> list[Route]:
        return [
            Route(HEALTHZ, self.healthz, methods=["GET", "HEAD"]),
            Route(READYZ, self.readyz, methods=["GET", "HEAD"]),
        ]

    async def healthz(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"}, headers=_NO_STORE)

    async def readyz(self, _: Request) -> Response:
        problems = [p for p in (await self.origin.ready(), disk_problem(self.disk_dir)) if p]
        body = {"ready": not problems, "problems": problems}
        return JSONResponse(body, status_code=503 if problems else 200, headers=_NO_STORE)


def disk_problem(disk_dir: Path | None) -> str | None:
    if disk_dir is None:
        return None
    try:
        disk_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=disk_dir, prefix=".ready-"):
            pass
    except OSError as exc:
        return f"disk cache not writable: {exc.strerror}"
    return None
