from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import free_port
from tests.scaleout.processes import clean_env, imgedge, imgedge_serve, redis_server, uvicorn_app, varnishd


@dataclass(frozen=True)
class Stack:
    """Varnish → proxy A (under `imgedge serve`, with the generator) and proxy B, sharing one Redis."""

    env: dict[str, str]
    varnish: str
    proxy_a: str
    proxy_b: str
    admin_token: str
    asset_id: str

    def url(self, *options: str) -> str:
        return imgedge(self.env, "url", self.asset_id, *options)

    def stats(self, proxy: str) -> dict[str, dict[str, object]]:
        response = httpx.get(proxy + "/admin/stats", headers=self.admin, timeout=30)
        response.raise_for_status()
        stats: dict[str, dict[str, object]] = response.json()
        return stats

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, photo_png: bytes) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("scaleout")
    port_a, port_b, varnish_port = free_port(), free_port(), free_port()
    with redis_server(free_port()) as redis_url:
        env = clean_env(
            IMGEDGE_DATA_DIR=str(root / "data"),
            IMGEDGE_PORT=str(port_a),
            IMGEDGE_GENERATOR_PORT=str(free_port()),
            IMGEDGE_CACHE_REDIS_URL=redis_url,
            # Each instance keeps its own disk tier, so a hit on the other instance can only come from Redis.
            IMGEDGE_CACHE_DISK_DIR=str(root / "cache-a"),
            IMGEDGE_CDN_PURGE_URLS=f"http://127.0.0.1:{varnish_port}/",
            IMGEDGE_WARM_ON_START="0",
            IMGEDGE_EAGER_VARIANTS="0",
            # One proxy process under `imgedge serve` (its default is one per core): /admin/stats counts
            # per process, and these tests count every lookup and transform of proxy A.
            IMGEDGE_WORKERS="1",
            # As a deployment behind this VCL may run: hints honoured, Varnish normalising them.
            IMGEDGE_CLIENT_HINTS="1",
        )
        with imgedge_serve(env):
            source = root / "astronaut.png"
            source.write_bytes(photo_png)
            asset_id = imgedge(env, "ingest", str(source))
            admin_token = (root / "data" / "secrets" / "admin.token").read_text().strip()
            env_b = env | {"IMGEDGE_PORT": str(port_b), "IMGEDGE_CACHE_DISK_DIR": str(root / "cache-b")}
            with (
                uvicorn_app("imgedge.proxy.app:create_app_from_env", port_b, env_b),
                varnishd(varnish_port, port_a, root / "varnish"),
            ):
                yield Stack(
                    env=env,
                    varnish=f"http://127.0.0.1:{varnish_port}",
                    proxy_a=f"http://127.0.0.1:{port_a}",
                    proxy_b=f"http://127.0.0.1:{port_b}",
                    admin_token=admin_token,
                    asset_id=asset_id,
                )
