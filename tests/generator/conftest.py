from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from imgedge.generator.app import create_app
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.diffusers_directory import DiffusersDirectoryBackend
from imgedge.generator.outbound.transform_urls import TransformUrls
from imgedge.generator.storage.database import Database, SqliteDatabase, open_database
from imgedge.generator.storage.urls import sqlite_url
from imgedge.generator.wiring import open_asset_store
from imgedge.web.uvicorn_args import PROTOCOL
from tests.engines.postgres import PostgresServer

SIGNING_KEY = b"test-signing-key"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks specification's example


class ServerThread:
    """A real uvicorn on 127.0.0.1 in a background thread, on a port the OS picked."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="on", http=PROTOCOL, proxy_headers=False)
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.sock.close()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Stands in for the webhook consumer and for the proxy's purge/variant endpoints: a real HTTP server that
    records what it was sent and answers with scripted statuses."""

    requests: list[Recorded] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            body = await request.body()
            status = self.statuses.pop(0) if self.statuses else 200
            with self.arrived:
                self.requests.append(Recorded(request.method, request.url.path, dict(request.headers), body))
                self.arrived.notify_all()
            return Response(b"ok" if status < 300 else b"no", status_code=status)

        return Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST", "PUT"])])

    def wait_for(self, count: int, path_prefix: str = "/") -> list[Recorded]:
        def matching() -> list[Recorded]:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

        with self.arrived:
            self.arrived.wait_for(lambda: len(matching()) >= count, timeout=60)
            return matching()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    recv = Receiver()
    with ServerThread(recv.app()) as server:
        yield recv, server.url


@pytest.fixture
def config(tmp_path: Path) -> GeneratorConfig:
    return GeneratorConfig(
        data_dir=tmp_path / "data",
        proxy_token="origin-token",
        admin_token="admin-token",
        upload_secret="upload-secret",
        webhook_secret=WEBHOOK_SECRET,
        webhook_backoff_s=0.0,
        webhook_allow_private=True,  # the receiver lives on 127.0.0.1
        default_steps=2,
        rate_per_minute=6000,
        rate_burst=1000,
        proxy_url="http://127.0.0.1:9",  # discard port: nothing listens, purges must be retried later
        playground_widths=(64, 128),
        eager_variants=False,
        janitor_interval_s=3600,
    )


def fixed_urls() -> TransformUrls:
    return TransformUrls(SIGNING_KEY, (64, 128), "")


def database_for(config: GeneratorConfig) -> SqliteDatabase:
    return SqliteDatabase(config.db_path)


def store_for(config: GeneratorConfig) -> AssetStore:
    """The store the service would open for this config (same files, same database)."""
    return open_asset_store(config, database_for(config))


@dataclass
class Served:
    url: str
    app: Starlette
    config: GeneratorConfig

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def wait_job(self, job_id: str) -> dict[str, Any]:
        """Polls until the job leaves queued/running; the cap only guards against a hung test run."""
        with self.client() as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                body: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
                if body["status"] in ("done", "failed"):
                    return body
                time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish")


@pytest.fixture
def serve(tiny_model: DiffusersDirectoryBackend) -> Iterator[Any]:
    servers: list[ServerThread] = []

    def start(config: GeneratorConfig, **overrides: Any) -> Served:
        cfg = replace(config, **overrides)
        app = create_app(cfg, model=tiny_model, urls=fixed_urls())
        server = ServerThread(app).__enter__()
        servers.append(server)
        return Served(server.url, app, cfg)

    yield start
    for server in reversed(servers):
        server.__exit__()


def submit(served: Served, **body: Any) -> dict[str, Any]:
    """POST /v1/images for a small, fast image; checks the 202 and its Location."""
    with served.client() as client:
        response = client.post("/v1/images", json={"width": 64, "height": 64, "steps": 2, "seed": 1, **body})
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == created["status_url"]
    return created


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind the generator supports."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "imgedge.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    opened = open_database(database_url)
    yield opened
    opened.close()
