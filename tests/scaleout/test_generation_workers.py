"""The generator API and two `imgedge worker` processes on a real redis-server (arq)."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.scaleout.processes import Worker, clean_env, redis_server, uvicorn_app

# A worker's claim on a job lasts this plus arq's 10 s; only then can the other worker retry a lost job.
JOB_TIMEOUT_S = 15
# Bounds for waiting on jobs: a guard against a hang, far above what the jobs take.
JOB_WAIT_S = 240.0


@dataclass
class Cluster:
    api: str
    workers: list[Worker]

    def submit(self, client: httpx.Client, prompt: str, side: int, steps: int) -> str:
        body = {"prompt": prompt, "width": side, "height": side, "steps": steps, "seed": 7}
        response = client.post(self.api + "/v1/images", json=body)
        assert response.status_code == 202, response.text
        job_id: str = response.json()["job_id"]
        return job_id

    def settled(self, client: httpx.Client, job_id: str) -> dict[str, object]:
        deadline = time.monotonic() + JOB_WAIT_S
        while time.monotonic() < deadline:
            job: dict[str, object] = client.get(f"{self.api}/v1/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.2)
        pytest.fail(f"job {job_id} did not finish")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, model_data_dir: Path) -> Iterator[Cluster]:
    root: Path = tmp_path_factory.mktemp("workers")
    # The session's tiny model, so that neither worker spends its start building one.
    shutil.copytree(model_data_dir / "models" / "tiny", root / "data" / "models" / "tiny")
    port = free_port()
    with redis_server(free_port()) as redis_url:
        env = clean_env(
            IMGEDGE_DATA_DIR=str(root / "data"),
            IMGEDGE_GENERATOR_PORT=str(port),
            IMGEDGE_QUEUE_REDIS_URL=redis_url,
            IMGEDGE_EAGER_VARIANTS="0",
            IMGEDGE_WARM_ON_START="0",
            IMGEDGE_RATE_BURST="100",
            # One anonymous test client submits every job, at more steps than strangers get.
            IMGEDGE_ANON_MAX_STEPS="8",
            IMGEDGE_ANON_MAX_JOBS="10",
            IMGEDGE_WORKER_JOB_TIMEOUT=str(JOB_TIMEOUT_S),
            IMGEDGE_WORKER_MAX_TRIES="3",
            # Two workers share two cores: one thread each keeps them from fighting over both.
            OMP_NUM_THREADS="1",
        )
        # An API with a Redis queue loads no model; the workers do.
        with uvicorn_app("imgedge.generator.app:create_app_from_env", port, env):
            workers = [Worker(name, env) for name in ("w1", "w2")]
            try:
                for worker in workers:
                    worker.wait_for("ready")
                yield Cluster(api=f"http://127.0.0.1:{port}", workers=workers)
            finally:
                for worker in workers:
                    worker.stop()


def test_jobs_are_spread_over_both_workers(cluster: Cluster) -> None:
    with httpx.Client(timeout=30) as client:
        job_ids = [cluster.submit(client, f"spread {i}", 128, 8) for i in range(6)]
        jobs = [cluster.settled(client, job_id) for job_id in job_ids]
    assert [job["status"] for job in jobs] == ["done"] * 6, jobs
    ran = {job_id: [w.name for w in cluster.workers if w.saw(f"job {job_id} done")] for job_id in job_ids}
    assert all(len(names) == 1 for names in ran.values()), ran
    assert {names[0] for names in ran.values()} == {"w1", "w2"}, ran
    per_worker = {w.name: sum(names == [w.name] for names in ran.values()) for w in cluster.workers}
    print("jobs per worker:", per_worker)
    # Each worker counts the jobs it ran on its own /metrics (they used to stay at 0 in the API's).
    for worker in cluster.workers:
        text = httpx.get(f"http://127.0.0.1:{worker.metrics_port}/metrics", timeout=10).text
        assert f"imgedge_generator_jobs_done_total {float(per_worker[worker.name])}" in text, text
        assert "imgedge_generator_generation_seconds_count" in text


def test_a_worker_killed_mid_job_does_not_lose_it(cluster: Cluster) -> None:
    with httpx.Client(timeout=30) as client:
        job_id = cluster.submit(client, "killed mid-job", 192, 8)
        started = f"job {job_id} started try 1"
        deadline = time.monotonic() + JOB_WAIT_S
        while not any(w.saw(started) for w in cluster.workers):
            assert time.monotonic() < deadline, "no worker started the job"
            time.sleep(0.01)
        victim = next(w for w in cluster.workers if w.saw(started))
        survivor = next(w for w in cluster.workers if w is not victim)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        assert not victim.saw(f"job {job_id} done"), "the job finished before the kill; make it longer"
        job = cluster.settled(client, job_id)
    assert job["status"] == "done", job
    assert survivor.saw(f"job {job_id} started try 2") and survivor.saw(f"job {job_id} done")
