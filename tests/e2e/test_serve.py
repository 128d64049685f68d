"""`imgedge serve`, `imgedge ingest`, `imgedge url` and `imgedge purge` as a user runs them."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from imgedge.generator.outbound.signing import new_webhook_secret
from tests.e2e.serving import IMGEDGE, imgedge, serve_env, serving

SHARED_SECRETS = {
    **{name: "a-secret-shared-by-every-host"
       for name in ("IMGEDGE_KEYS", "IMGEDGE_ORIGIN_TOKEN", "IMGEDGE_ADMIN_TOKEN", "IMGEDGE_UPLOAD_SECRET")},
    "IMGEDGE_WEBHOOK_SECRET": new_webhook_secret(),
}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Two workers: purges must reach the memory tier of both processes.
    return serve_env(tmp_path_factory.mktemp("serve") / "data", IMGEDGE_WORKERS="2")


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    with serving(env, "--no-sample") as process:
        yield process


def test_ingest_url_and_fetch(
    env: dict[str, str], server: subprocess.Popen[str], tmp_path: Path, landscape_png: bytes
) -> None:
    source = tmp_path / "coffee.png"
    source.write_bytes(landscape_png)
    asset_id = imgedge(env, "ingest", str(source))
    assert len(asset_id.splitlines()) == 1
    path = imgedge(
        env, "url", asset_id, "--width", "300", "--height", "200", "--fit", "cover", "--format", "webp"
    )
    base = f"http://127.0.0.1:{env['IMGEDGE_PORT']}"
    response = httpx.get(base + path, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == (300, 200)
    auto = httpx.get(base + imgedge(env, "url", asset_id, "--width", "100"), headers={"Accept": "image/webp"})
    assert auto.headers["content-type"] == "image/webp" and auto.headers["vary"] == "Accept"
    tampered = httpx.get(base + path.replace("w:300", "w:301"))
    assert tampered.status_code == 403
    metrics = httpx.get(base + "/metrics").text  # aggregated over both workers
    assert "imgedge_proxy_requests_total" in metrics


def test_purge_reaches_every_worker(
    env: dict[str, str], server: subprocess.Popen[str], tmp_path: Path, photo_png: bytes
) -> None:
    source = tmp_path / "astronaut.png"
    source.write_bytes(photo_png)
    asset_id = imgedge(env, "ingest", str(source))
    url = f"http://127.0.0.1:{env['IMGEDGE_PORT']}" + imgedge(env, "url", asset_id, "--width", "123")
    with httpx.Client(timeout=60) as client:
        statuses = [
            client.get(url, headers={"Connection": "close"}).headers["cache-status"] for _ in range(12)
        ]
        assert statuses[0] == "imgedge; fwd=miss; stored"
        assert all(s.startswith("imgedge; hit") for s in statuses[1:])
        imgedge(env, "purge", asset_id)
        after = client.get(url, headers={"Connection": "close"})
        assert after.status_code == 200 and after.headers["cache-status"] == "imgedge; fwd=miss; stored"


def test_serve_stops_cleanly_on_sigterm(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        # Secrets are set, the database is not there: the start stops naming the setting, password hidden.
        ({"IMGEDGE_DATABASE_URL": "postgresql://imgedge:hunter2@127.0.0.1:9/imgedge", **SHARED_SECRETS},
         "imgedge generator: IMGEDGE_DATABASE_URL: cannot connect to postgresql://imgedge:***@127.0.0.1:9/imgedge"),
        # A shared database, and a secret left to be generated per host: refused, naming the secret.
        ({"IMGEDGE_DATABASE_URL": "postgresql://imgedge:hunter2@127.0.0.1:9/imgedge"},
         "IMGEDGE_ORIGIN_TOKEN must be set: IMGEDGE_DATABASE_URL is a shared service"),
    ],
)  # fmt: skip
def test_a_generator_that_cannot_start_says_which_setting_to_fix(
    tmp_path: Path, settings: dict[str, str], message: str
) -> None:
    env = serve_env(tmp_path / "data", **settings)
    done = subprocess.run(
        [*IMGEDGE, "serve", "--only", "generator", "--startup-timeout", "60"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert message in done.stderr and "hunter2" not in done.stderr and "Traceback" not in done.stderr
