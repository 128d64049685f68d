"""Several hosts and no shared directory: two generator APIs, one worker and two proxies, each with its own
IMGEDGE_DATA_DIR, sharing only S3 (rclone), PostgreSQL and Redis, with every secret from the environment."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
import pyvips

from imgedge.generator.outbound.signing import new_webhook_secret
from tests.conftest import free_port, photo
from tests.engines.postgres import PostgresServer
from tests.engines.s3 import S3Server, rclone_s3
from tests.scaleout.processes import IMGEDGE, Worker, clean_env, imgedge, redis_server, stop, wait_http

# A lost worker's claim on a job lasts this plus arq's 10 s; only then does another run it again.
JOB_TIMEOUT_S = 6
# Guards against a hang, far above what anything here takes.
WAIT_S = 120.0


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]  # what every host shares: engines and secrets
    apis: list[str]
    proxies: list[str]
    worker: Worker
    worker_env: dict[str, str]
    s3: S3Server
    bucket: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def settled(self, client: httpx.Client, api: str, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            job: dict[str, Any] = client.get(f"{api}/v1/jobs/{job_id}", headers=self.auth).json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.1)
        pytest.fail(f"job {job_id} did not settle")

    def upload(self, client: httpx.Client, api: str, png: bytes) -> str:
        grant = client.post(f"{api}/v1/uploads", json={}, headers=self.auth)
        assert grant.status_code == 201, grant.text
        # Root-relative without IMGEDGE_PUBLIC_URL: relative to the API that issued it.
        stored = client.put(urljoin(f"{api}/", grant.json()["upload_url"]), content=png)
        assert stored.status_code == 201 and stored.json()["moderation"] == "approved", stored.text
        asset_id: str = stored.json()["asset_id"]
        return asset_id

    def variant(self, asset_id: str, width: int) -> str:
        return imgedge(self.env, "url", asset_id, "--width", str(width), "--format", "webp")


def shared_env(s3: S3Server, bucket: str, database_url: str, redis_url: str) -> dict[str, str]:
    return clean_env(
        **s3.env(),
        IMGEDGE_STORE_URL=f"s3://{bucket}/originals",
        IMGEDGE_DATABASE_URL=database_url,
        IMGEDGE_QUEUE_REDIS_URL=redis_url + "/0",
        IMGEDGE_CACHE_REDIS_URL=redis_url + "/1",
        # Secrets every host must agree on; with shared backends nothing may generate its own.
        IMGEDGE_KEYS=secrets.token_urlsafe(24),
        IMGEDGE_ORIGIN_TOKEN=secrets.token_urlsafe(24),
        IMGEDGE_ADMIN_TOKEN=secrets.token_urlsafe(24),
        IMGEDGE_UPLOAD_SECRET=secrets.token_urlsafe(24),
        IMGEDGE_WEBHOOK_SECRET=new_webhook_secret(),
        IMGEDGE_WARM_ON_START="0",
        IMGEDGE_EAGER_VARIANTS="0",
        IMGEDGE_WORKER_JOB_TIMEOUT=str(JOB_TIMEOUT_S),
        IMGEDGE_PLAYGROUND_WIDTHS="64,128",
        OMP_NUM_THREADS="1",
    )


def host_env(env: dict[str, str], root: Path, name: str, **settings: str) -> dict[str, str]:
    data = root / name
    data.mkdir()
    return env | {"IMGEDGE_DATA_DIR": str(data), **settings}


@contextlib.contextmanager
def started(commands: list[tuple[list[str], dict[str, str], str]], logs: Path) -> Iterator[None]:
    """Starts every (command, env, health URL) at once, then waits for each to answer."""
    processes = []
    try:
        for index, (command, env, _) in enumerate(commands):
            with (logs / f"{index}.log").open("wb") as log:  # the child keeps its own copy of the handle
                processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        for process, (_, _, url) in zip(processes, commands, strict=True):
            wait_http(url, process)
        yield
    finally:
        for process in processes:  # all at once: each takes a moment to shut down
            process.send_signal(signal.SIGTERM)
        for process in processes:
            stop(process)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, model_data_dir: Path
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("hosts")
    (root / "logs").mkdir()
    api_ports, proxy_ports = [free_port(), free_port()], [free_port(), free_port()]
    with rclone_s3(root / "s3-server") as s3, redis_server(free_port()) as redis_db0:
        bucket = "imgedge"
        s3.make_bucket(bucket)
        redis_url = redis_db0.rsplit("/", 1)[0]
        env = shared_env(s3, bucket, postgres.create_database(), redis_url)
        env["IMGEDGE_PROXY_URL"] = f"http://127.0.0.1:{proxy_ports[0]}"  # purges go to one proxy
        key = imgedge(host_env(env, root, "operator"), "keys", "create", "--name", "site").splitlines()[-1]
        serve = [*IMGEDGE, "serve", "--workers", "1", "--no-sample", "--only"]
        hosts = [
            ([*serve, "generator"], host_env(env, root, f"api{i}", IMGEDGE_GENERATOR_PORT=str(port)),
             f"http://127.0.0.1:{port}/healthz")
            for i, port in enumerate(api_ports, 1)
        ] + [
            ([*serve, "proxy"], host_env(env, root, f"proxy{i}", IMGEDGE_PORT=str(port),
                                          IMGEDGE_ORIGIN_URL=f"http://127.0.0.1:{api}"),
             f"http://127.0.0.1:{port}/healthz")
            for i, (port, api) in enumerate(zip(proxy_ports, api_ports, strict=True), 1)
        ]  # fmt: skip
        worker_env = host_env(env, root, "worker")
        # The worker host's own copy of the tiny model (what its image would carry), not built again here.
        shutil.copytree(model_data_dir / "models" / "tiny", root / "worker" / "models" / "tiny")
        cluster = Cluster(
            root=root, env=env, apis=[f"http://127.0.0.1:{p}" for p in api_ports],
            proxies=[f"http://127.0.0.1:{p}" for p in proxy_ports], worker=Worker("w1", worker_env),
            worker_env=worker_env, s3=s3, bucket=bucket, key=key,
        )  # fmt: skip
        try:
            with started(hosts, root / "logs"):
                cluster.worker.wait_for("ready")
                yield cluster
        finally:
            cluster.worker.stop()  # the one running now: a test may have replaced the first


def png(seed: int) -> bytes:
    image = photo("astronaut", 96).extract_area(0, 0, 96 - seed % 7, 96)
    return bytes(image.write_to_buffer(".png"))


def test_a_prompt_posted_to_one_api_is_made_by_the_worker_and_served_by_the_other_proxy(
    cluster: Cluster,
) -> None:
    api1, api2 = cluster.apis
    body = {"prompt": "two hosts", "width": 64, "height": 64, "steps": 2, "seed": 5}
    with httpx.Client(timeout=60) as client:
        accepted = client.post(f"{api1}/v1/images", json=body, headers=cluster.auth)
        assert accepted.status_code == 202, accepted.text
        job = cluster.settled(client, api2, accepted.json()["job_id"])
        assert job["status"] == "done", job
        asset = client.get(f"{api2}/v1/images/{job['asset_id']}", headers=cluster.auth).json()
        assert asset["provenance"]["prompt"] == "two hosts"
        served = client.get(cluster.proxies[1] + cluster.variant(job["asset_id"], 48))
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert pyvips.Image.new_from_buffer(served.content, "").width == 48
    assert cluster.worker.saw(f"job {job['id']} done")
    assert (cluster.s3.root / cluster.bucket / "originals" / f"{job['asset_id']}.png").exists()


def test_an_upload_through_the_second_api_is_served_by_the_first_proxy(cluster: Cluster) -> None:
    with httpx.Client(timeout=60) as client:
        asset_id = cluster.upload(client, cluster.apis[1], png(1))
        served = client.get(cluster.proxies[0] + cluster.variant(asset_id, 40))
    assert served.status_code == 200 and pyvips.Image.new_from_buffer(served.content, "").width == 40


def test_a_purge_reaches_both_proxies(cluster: Cluster) -> None:
    admin = {"Authorization": f"Bearer {cluster.env['IMGEDGE_ADMIN_TOKEN']}"}
    with httpx.Client(timeout=60) as client:
        asset_id = cluster.upload(client, cluster.apis[0], png(2))
        path = cluster.variant(asset_id, 32)
        for proxy in cluster.proxies:
            assert client.get(proxy + path).status_code == 200
            assert client.get(proxy + path).headers["cache-status"].startswith("imgedge; hit")
        # Rejected through API #2: its purge goes to proxy #1, which fans it out to #2 over Redis.
        rejected = client.post(f"{cluster.apis[1]}/v1/admin/assets/{asset_id}/reject", json={}, headers=admin)
        assert rejected.status_code == 200, rejected.text
        deadline = time.monotonic() + WAIT_S
        while {client.get(proxy + path).status_code for proxy in cluster.proxies} != {451}:
            assert time.monotonic() < deadline, "a proxy still serves the rejected asset"
            time.sleep(0.1)


def test_a_worker_killed_mid_job_still_settles_it(cluster: Cluster) -> None:
    body = {"prompt": "killed mid-job", "width": 256, "height": 256, "steps": 12, "seed": 9}
    with httpx.Client(timeout=60) as client:
        job_id = client.post(f"{cluster.apis[0]}/v1/images", json=body, headers=cluster.auth).json()["job_id"]
        deadline = time.monotonic() + WAIT_S
        while not cluster.worker.saw(f"job {job_id} started try 1"):
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.01)
        cluster.worker.process.send_signal(signal.SIGKILL)
        cluster.worker.process.wait()
        assert not cluster.worker.saw(f"job {job_id} done"), "finished before the kill; make the job longer"
        # Its host brings the worker back (same data dir, no other state): it runs the job again once the
        # lost claim expires.
        cluster.worker.stop()
        cluster.worker = Worker("w1-restarted", cluster.worker_env)
        job = cluster.settled(client, cluster.apis[1], job_id)
    assert job["status"] == "done" or (job["status"] == "failed" and job["error"]), job


def test_s3_down_gives_503_from_the_api_and_cached_variants_keep_being_served(cluster: Cluster) -> None:
    with httpx.Client(timeout=60) as client:
        asset_id = cluster.upload(client, cluster.apis[0], png(3))
        path = cluster.variant(asset_id, 24)
        assert client.get(cluster.proxies[0] + path).status_code == 200
        origin_headers = {"Authorization": f"Bearer {cluster.env['IMGEDGE_ORIGIN_TOKEN']}"}
        with cluster.s3.down():
            original = client.get(f"{cluster.apis[0]}/originals/{asset_id}", headers=origin_headers)
            assert original.status_code == 503 and int(original.headers["retry-after"]) >= 1, original.text
            grant = client.post(f"{cluster.apis[1]}/v1/uploads", json={}, headers=cluster.auth).json()
            refused = client.put(urljoin(f"{cluster.apis[1]}/", grant["upload_url"]), content=png(4))
            assert refused.status_code == 503 and "retry-after" in refused.headers
            ready = client.get(f"{cluster.apis[0]}/readyz")  # what a load balancer asks
            assert ready.status_code == 503 and "store s3://imgedge/originals/ unavailable" in ready.text
            cached = client.get(cluster.proxies[0] + path)
            assert cached.status_code == 200 and cached.headers["cache-status"].startswith("imgedge; hit")
        assert (
            client.get(f"{cluster.apis[0]}/originals/{asset_id}", headers=origin_headers).status_code == 200
        )


def test_no_host_wrote_shared_state_into_its_own_directory(cluster: Cluster) -> None:
    """Runs last: after every flow, the per-host data dirs hold only per-host things (models, caches)."""
    for host in ("api1", "api2", "proxy1", "proxy2", "worker", "operator"):
        written = {p.relative_to(cluster.root / host).parts[0] for p in (cluster.root / host).rglob("*")}
        assert not written & {"originals", "imgedge.sqlite3", "secrets"}, (host, written)
