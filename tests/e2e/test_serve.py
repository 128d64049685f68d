"""`imgedge serve`, `imgedge ingest`, `imgedge url` and `imgedge purge` as a user runs them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    # Two workers: purges must reach the memory tier of both processes. A hung one is found in 5 s.
    return serve_env(
        tmp_path_factory.mktemp("serve") / "data", IMGEDGE_WORKERS="2", IMGEDGE_PROXY_WORKER_TIMEOUT="5"
    )


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


def _misses(base: str) -> float:
    lines = httpx.get(base + "/metrics", timeout=10).text.splitlines()
    found = [ln for ln in lines if ln.startswith("imgedge_cache_lookups_total{") and 'result="miss"' in ln]
    return sum(float(ln.rsplit(" ", 1)[1]) for ln in found)


def _counted(popular: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(v["options"], v["format"]): v["count"] for v in popular["variants"]}


def _wait_for_counts(
    client: httpx.Client, base: str, admin: dict[str, str], expected: dict[tuple[str, str], int]
) -> dict[str, Any]:
    """Each worker publishes its counts every few seconds: wait until these variants read as expected."""
    deadline = time.monotonic() + 30
    while True:
        popular: dict[str, Any] = client.get(base + "/admin/popular", headers=admin).json()
        counted = _counted(popular)
        found = {key: counted.get(key, 0) for key in expected}
        if found == expected or time.monotonic() > deadline:
            assert found == expected
            return popular
        time.sleep(0.5)


def test_new_assets_are_warmed_with_the_variants_visitors_request(
    env: dict[str, str], server: subprocess.Popen[str], tmp_path: Path, photo_png: bytes, landscape_png: bytes
) -> None:
    base = f"http://127.0.0.1:{env['IMGEDGE_PORT']}"
    generator = f"http://127.0.0.1:{env['IMGEDGE_GENERATOR_PORT']}"
    admin = {
        "Authorization": "Bearer " + (Path(env["IMGEDGE_DATA_DIR"]) / "secrets" / "admin.token").read_text()
    }
    source = tmp_path / "seen.png"
    source.write_bytes(landscape_png)
    seen = imgedge(env, "ingest", str(source))
    traffic = [  # (options, Accept, requests): what visitors of this site ask for
        (["--width", "200"], "image/avif,image/webp,*/*", 15),
        (["--width", "150", "--height", "150", "--fit", "cover"], "image/webp,*/*", 10),
        (["--width", "90", "--format", "png"], "*/*", 5),
    ]
    with httpx.Client(timeout=60) as client:
        for options, accept, count in traffic:
            url = base + imgedge(env, "url", seen, *options)
            for _ in range(count):  # fresh connections spread the requests over both workers
                assert client.get(url, headers={"Accept": accept, "Connection": "close"}).status_code == 200
        # Counted as rendered: f:auto URLs without a quality get q:auto (IMGEDGE_AUTO_QUALITY_DEFAULT).
        learned = {
            ("w:200/q:auto", "avif"): 15,
            ("w:150/h:150/fit:cover/q:auto", "webp"): 10,
            ("w:90/f:png", "png"): 5,
        }
        popular = _wait_for_counts(client, base, admin, learned)
        assert popular["processes"] == 2

        before = _misses(base)
        grant = client.post(generator + "/v1/uploads", json={}).json()
        # Root-relative unless IMGEDGE_PUBLIC_URL names the public base.
        uploaded = client.put(str(httpx.URL(generator).join(grant["upload_url"])), content=photo_png)
        assert uploaded.status_code == 201
        fresh = uploaded.json()["asset_id"]
        deadline = time.monotonic() + 60
        while _misses(base) < before + 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        settled = _misses(base)  # the warm-up may hold more (the variants of the tests above): let it end
        while time.monotonic() < deadline:
            time.sleep(1.5)
            settled, previous = _misses(base), settled
            if settled == previous:
                break
        for options, accept, _ in traffic:
            first = client.get(base + imgedge(env, "url", fresh, *options), headers={"Accept": accept})
            assert first.headers["cache-status"].startswith("imgedge; hit"), options
        unlearned = client.get(base + imgedge(env, "url", fresh, "--width", "320"))
        assert unlearned.headers["cache-status"] == "imgedge; fwd=miss; stored"
        # The warm-up requests were prefetches, not counted as visitors; the first requests above were.
        _wait_for_counts(client, base, admin, {key: count + 1 for key, count in learned.items()})


def _proxy_workers(server: subprocess.Popen[str]) -> set[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return {int(pid) for pid in children if b"imgedge.proxy.app" in _cmdline(int(pid))}


def _cmdline(pid: int) -> bytes:
    # A child listed a moment ago may be gone (killed and reaped) by the time its cmdline is read.
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (ProcessLookupError, FileNotFoundError):
        return b""


def test_a_proxy_worker_that_dies_is_replaced(env: dict[str, str], server: subprocess.Popen[str]) -> None:
    base = f"http://127.0.0.1:{env['IMGEDGE_PORT']}"
    workers = _proxy_workers(server)
    assert len(workers) == 2  # no uvicorn master between `imgedge serve` and its workers
    dead = min(workers)
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replaced = _proxy_workers(server)
        if len(replaced) == 2 and dead not in replaced:
            break
        assert httpx.get(base + "/healthz", timeout=10).status_code == 200  # the other worker serves on
        time.sleep(0.2)
    assert len(replaced) == 2 and dead not in replaced
    with httpx.Client(timeout=10) as client:
        deadline = time.monotonic() + 60
        answered: set[str] = set()
        while time.monotonic() < deadline and len(answered) < 2:  # both, the replacement included
            reply = client.get(base + "/healthz", headers={"Connection": "close"})
            answered.add(reply.headers["x-request-id"][:8])  # its first 8 characters name the process
    assert len(answered) == 2 and server.poll() is None


def test_a_proxy_worker_whose_loop_stops_is_killed_and_replaced(
    env: dict[str, str], server: subprocess.Popen[str]
) -> None:
    base = f"http://127.0.0.1:{env['IMGEDGE_PORT']}"
    workers = _proxy_workers(server)
    hung = min(workers)
    os.kill(hung, signal.SIGSTOP)  # alive, holding its connections, running nothing: as a deadlocked loop
    stopped_at = time.monotonic()
    with httpx.Client(timeout=10, headers={"Connection": "close"}) as client:
        while time.monotonic() - stopped_at < 60 and (
            hung in (now := _proxy_workers(server)) or len(now) < 2
        ):
            assert client.get(base + "/healthz").status_code == 200  # the other worker takes every connection
            time.sleep(0.2)
    now = _proxy_workers(server)
    # 5 s after its last beat, which came up to a second before it stopped.
    assert hung not in now and len(now) == 2 and time.monotonic() - stopped_at >= 4
    assert server.poll() is None


def test_serve_killed_outright_takes_its_services_with_it(tmp_path: Path) -> None:
    env = serve_env(tmp_path / "data", IMGEDGE_WORKERS="1")
    with serving(env, "--no-sample") as process:
        children = [
            int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        ]
        assert len(children) == 2  # the proxy worker and the generator
        process.kill()  # as the OOM killer would: no cleanup of its own
        process.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(map(_running, children)):
            time.sleep(0.2)
        assert not any(map(_running, children))
    for port in (env["IMGEDGE_PORT"], env["IMGEDGE_GENERATOR_PORT"]):
        with socket.socket() as listener:  # free for the next `imgedge serve`, which listens the same way
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", int(port)))
            listener.listen()


def _running(pid: int) -> bool:
    # An orphan is reparented to whatever reaps it here; one that exited and waits to be reaped has stopped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


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


def test_a_taken_port_stops_serve_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = serve_env(tmp_path / "data", IMGEDGE_PORT=str(taken.getsockname()[1]))
        done = subprocess.run(
            [*IMGEDGE, "serve", "--only", "proxy"], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{env['IMGEDGE_PORT']}: Address already in use" in done.stderr
