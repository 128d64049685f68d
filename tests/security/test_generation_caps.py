"""Generation cost: an anonymous client gets at most IMGEDGE_ANON_MAX_PIXELS and IMGEDGE_ANON_MAX_STEPS (403
naming the setting) and IMGEDGE_ANON_MAX_JOBS queued + running jobs (429); the administrator is not capped."""

from __future__ import annotations

import time

import httpx

from tests.security.conftest import Edge


def test_an_anonymous_client_cannot_ask_for_the_most_expensive_image(edge: Edge) -> None:
    with edge.client(behind="198.51.100.10") as client:
        big = client.post("/v1/images", json={"prompt": "big", "width": 1536, "height": 1536})
        slow = client.post("/v1/images", json={"prompt": "slow", "width": 64, "height": 64, "steps": 50})
    assert big.status_code == 403 and "IMGEDGE_ANON_MAX_PIXELS" in big.json()["error"]
    assert slow.status_code == 403 and "IMGEDGE_ANON_MAX_STEPS" in slow.json()["error"]
    assert edge.answers()


def test_an_anonymous_client_has_at_most_two_jobs_in_flight(edge: Edge) -> None:
    body = {"width": 256, "height": 256, "steps": 2}
    with edge.client(behind="198.51.100.11") as client:
        statuses = [client.post("/v1/images", json={"prompt": f"job {i}", **body}) for i in range(4)]
        assert [r.status_code for r in statuses[:2]] == [202, 202]
        refused = [r for r in statuses[2:] if r.status_code != 202]
        assert refused and all(r.status_code == 429 for r in refused)
        assert "IMGEDGE_ANON_MAX_JOBS" in refused[0].json()["error"] and refused[0].headers["retry-after"]
        # Another client is counted apart.
        with edge.client(behind="198.51.100.12") as other:
            assert other.post("/v1/images", json={"prompt": "mine", **body}).status_code == 202
        # Once its jobs are done, the first client may submit again.
        for response in statuses[:2]:
            wait_job(client, response.json()["job_id"])
        assert client.post("/v1/images", json={"prompt": "again", **body}).status_code == 202


def test_the_administrator_is_not_capped_by_the_anonymous_steps(edge: Edge) -> None:
    with edge.client(behind="198.51.100.13") as client:
        response = client.post(
            "/v1/images",
            json={"prompt": "admin", "width": 64, "height": 64, "steps": 3},
            headers={"Authorization": f"Bearer {edge.admin_token}"},
        )
    assert response.status_code == 202


def wait_job(client: httpx.Client, job_id: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if client.get(f"/v1/jobs/{job_id}").json()["status"] in ("done", "failed"):
            return
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")
