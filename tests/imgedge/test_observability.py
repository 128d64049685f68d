"""Logs: JSON off a terminal, one readable line on one, uvicorn's own lines in the same form, and no
INFO line for every poll, probe or scrape."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from imgedge.observability import QUIET_PATHS, ConsoleFormatter, JsonFormatter, RequestIdMiddleware
from imgedge.serve import _uvicorn
from tests.conftest import free_port


def record(message: str = "request", **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("imgedge.access", logging.INFO, __file__, 1, message, None, None)
    made.fields = fields
    return made


def test_console_lines_are_readable_and_json_lines_are_parseable() -> None:
    line = ConsoleFormatter().format(record(method="GET", path="/x", status=200))
    assert line.endswith("INFO    imgedge.access: request method=GET path=/x status=200")
    assert "\n" not in line
    entry = json.loads(JsonFormatter().format(record(status=200)))
    assert entry["logger"] == "imgedge.access" and entry["status"] == 200


def test_polls_probes_and_scrapes_log_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    async def ok(request: Request) -> Response:
        return PlainTextResponse("ok", status_code=404 if "missing" in request.url.path else 200)

    app = Starlette(routes=[Route("/{path:path}", ok, methods=["GET", "POST"])])
    client = TestClient(RequestIdMiddleware(app, quiet_paths=(*QUIET_PATHS, "/v1/jobs/")))
    caplog.set_level(logging.DEBUG, logger="imgedge.access")
    for method, path in [
        ("GET", "/v1/jobs/1"),
        ("GET", "/healthz"),
        ("GET", "/v1/jobs/missing"),
        ("POST", "/v1/jobs/1"),
    ]:
        client.request(method, path)
    levels = {(r.fields["method"], r.fields["path"]): r.levelname for r in caplog.records}  # type: ignore[attr-defined]
    assert levels == {
        ("GET", "/v1/jobs/1"): "DEBUG",
        ("GET", "/healthz"): "DEBUG",
        ("GET", "/v1/jobs/missing"): "INFO",
        ("POST", "/v1/jobs/1"): "INFO",
    }


def test_uvicorn_lines_follow_the_same_format(tmp_path: Path) -> None:
    """`imgedge serve` starts uvicorn this way: with stderr not a terminal, every line is JSON."""
    port = free_port()
    env = {"IMGEDGE_DATA_DIR": str(tmp_path), "IMGEDGE_SOURCE": "filesystem", "PATH": "/usr/bin:/bin"}
    command = _uvicorn("imgedge.proxy.app:create_app_from_env", "--host", "127.0.0.1", "--port", str(port))
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    lines = [line for line in stderr.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert any(e["logger"].startswith("uvicorn") and "Uvicorn running" in e["msg"] for e in entries), lines
    assert not any(e.get("path") == "/healthz" for e in entries)  # the probe logged at DEBUG only
    assert sys.executable in command
