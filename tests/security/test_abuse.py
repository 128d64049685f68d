"""Abuse that does not work: forwarded headers believed only from the trusted proxy; moderation decisions that
follow the picture; block lists that see through invisible and look-alike characters; no URL built from
`Host`; no secret in the logs; nosniff everywhere and a strict page; /metrics only for this machine or the
token; other sites' pages cannot start work."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import photo
from tests.security.conftest import BLOCKED_WORD, LISTED_ORIGIN, METRICS_TOKEN, Edge


def test_x_forwarded_for_from_an_untrusted_peer_changes_nothing(edge: Edge) -> None:
    with edge.client() as client:  # 127.0.0.1: not a trusted proxy, however loopback it is
        statuses = [
            client.post("/v1/uploads", json={}, headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(12)
        ]
    assert statuses.count(429) >= 6, statuses  # one bucket (burst 5), whatever the header says


def test_the_trusted_proxy_names_the_client(edge: Edge) -> None:
    # Each client behind the proxy has its own bucket; a spoofed hop to the left of the real one is ignored.
    for client_ip in ("198.51.100.30", "198.51.100.31"):
        with edge.client(behind=client_ip) as client:
            assert [client.post("/v1/uploads", json={}).status_code for _ in range(5)] == [201] * 5
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=edge.generator, transport=transport, timeout=30) as client:
        forwarded = {"X-Forwarded-For": "198.51.100.32"}
        while client.post("/v1/uploads", json={}, headers=forwarded).status_code != 429:
            pass
        spoofed = client.post("/v1/uploads", json={}, headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.32"})
    assert spoofed.status_code == 429  # still 198.51.100.32, whose bucket is empty
    assert '"client": "198.51.100.32"' in edge.log_text()


def upload(client: httpx.Client, data: bytes, *, temporary: bool) -> str:
    grant = client.post("/v1/uploads", json={"temporary": temporary})
    assert grant.status_code == 201, grant.text
    stored = client.put(grant.json()["upload_url"], content=data, headers={"Content-Type": "image/png"})
    assert stored.status_code == 201, stored.text
    asset_id: str = stored.json()["asset_id"]
    return asset_id


def test_a_rejected_picture_stays_rejected_after_expiry_and_a_new_upload(edge: Edge) -> None:
    picture = bytes(photo("coffee", 300).write_to_buffer(".png"))
    admin = {"Authorization": f"Bearer {edge.admin_token}"}
    with edge.client(behind="198.51.100.40") as client:
        first = upload(client, picture, temporary=True)
        variant = edge.proxy + edge.url(first, width=100)
        assert httpx.get(variant, timeout=30).status_code == 200  # cached at the proxy while approved
        rejected = client.post(f"/v1/admin/assets/{first}/reject", json={"reason": "test"}, headers=admin)
        assert rejected.status_code == 200
        time.sleep(0.5)
        assert httpx.get(variant, timeout=30).status_code == 451
        deadline = time.monotonic() + 30  # expiry (1 s) plus the janitor's passes and its purge
        while client.get(f"/v1/images/{first}").status_code != 404:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert httpx.get(variant, timeout=30).status_code != 200
        again = upload(client, picture, temporary=False)
    response = httpx.get(edge.proxy + edge.url(again, width=100), timeout=30)
    assert again == first
    assert response.status_code == 451
    assert "immutable" not in response.headers.get("cache-control", "")


@pytest.mark.parametrize(
    "prompt",
    [
        f"a {BLOCKED_WORD} thing",
        f"a {BLOCKED_WORD.upper()} thing",
        "a " + "\u200b".join(BLOCKED_WORD) + " thing",
        "a " + "".join(chr(ord(c) + 0xFEE0) for c in BLOCKED_WORD) + " thing",
        "a " + BLOCKED_WORD[:3] + "\u00ad" + BLOCKED_WORD[3:] + " thing",
    ],
    ids=["plain", "capitals", "zero-width", "fullwidth", "soft-hyphen"],
)
def test_the_block_list_sees_through_invisible_and_compatibility_characters(edge: Edge, prompt: str) -> None:
    with edge.client(behind="198.51.100.50") as client:
        response = client.post("/v1/images", json={"prompt": prompt, "width": 64, "height": 64, "steps": 1})
    assert response.status_code == 422 and "moderation" in response.json()["error"]


def test_returned_urls_never_come_from_host(edge: Edge) -> None:
    with edge.client(behind="198.51.100.60") as client:
        job = client.post(
            "/v1/images", json={"prompt": "host", "width": 64, "height": 64, "steps": 1},
            headers={"Host": "evil.example"},
        )  # fmt: skip
        grant = client.post("/v1/uploads", json={}, headers={"Host": "evil.example"})
    assert job.status_code == 202 and grant.status_code == 201
    assert job.headers["location"].startswith("/v1/jobs/")
    assert "evil.example" not in job.text + grant.text + job.headers["location"]


def test_upload_tokens_never_reach_the_log(edge: Edge) -> None:
    picture = bytes(photo("chelsea", 200).write_to_buffer(".png"))
    with edge.client(behind="198.51.100.70") as client:
        grant = client.post("/v1/uploads", json={}).json()
        token = grant["upload_url"].rsplit("/", 1)[1]
        assert client.put(grant["upload_url"], content=picture).status_code == 201
        client.put(f"/v1/uploads/{token}x", content=picture)  # a refused one is logged too
    time.sleep(0.5)
    log = edge.log_text()
    assert "/v1/uploads/[redacted]" in log
    assert token not in log, [line for line in log.splitlines() if token in line]


def test_every_response_says_nosniff(edge: Edge) -> None:
    responses = [
        httpx.get(edge.proxy + edge.url(edge.photo, width=64), timeout=30),
        httpx.get(f"{edge.proxy}/not/a/valid/url", timeout=30),
        httpx.get(f"{edge.proxy}/healthz", timeout=30),
        httpx.post(f"{edge.proxy}/admin/purge/x", timeout=30),
        httpx.get(f"{edge.generator}/v1/images", timeout=30),
        httpx.get(f"{edge.generator}/v1/jobs/nope", timeout=30),
        httpx.get(f"{edge.generator}/", timeout=30),
        httpx.get(f"{edge.generator}/playground/playground.js", timeout=30),
        httpx.get(f"{edge.generator}/originals/{edge.photo}", timeout=30),
    ]
    assert [r.headers.get("x-content-type-options") for r in responses] == ["nosniff"] * len(responses)
    page = responses[6].headers
    assert "'unsafe-inline'" not in page["content-security-policy"]
    assert "frame-ancestors 'none'" in page["content-security-policy"]
    assert page["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("service", ["proxy", "generator"])
def test_metrics_are_for_this_machine_or_the_token(edge: Edge, service: str) -> None:
    assert httpx.get(f"{edge.proxy if service == 'proxy' else edge.generator}/metrics").status_code == 200
    with edge.client(service, behind="203.0.113.80") as remote:
        assert remote.get("/metrics").status_code == 403
        wrong = remote.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = remote.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert wrong.status_code == 403 and right.status_code == 200
    # A local proxy that nobody listed forwards for someone else: not this machine either.
    base = edge.proxy if service == "proxy" else edge.generator
    assert httpx.get(f"{base}/metrics", headers={"X-Forwarded-For": "203.0.113.81"}).status_code == 403


def test_other_sites_cannot_start_work(edge: Edge) -> None:
    body = {"prompt": "csrf", "width": 64, "height": 64, "steps": 1}
    with edge.client(behind="198.51.100.90") as client:
        plain = client.post(
            "/v1/images", content=str(body).encode(),
            headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
        )  # fmt: skip
        foreign = client.post("/v1/images", json=body, headers={"Origin": "https://evil.example"})
        same = client.post("/v1/uploads", json={}, headers={"Origin": edge.generator})
        listed = client.post("/v1/uploads", json={}, headers={"Origin": LISTED_ORIGIN})
        preflight = client.options(
            "/v1/uploads",
            headers={"Origin": LISTED_ORIGIN, "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type"},
        )  # fmt: skip
    assert plain.status_code == 403 and foreign.status_code == 403
    assert same.status_code == 201
    assert listed.status_code == 201 and listed.headers["access-control-allow-origin"] == LISTED_ORIGIN
    assert preflight.status_code == 200
    with httpx.Client(timeout=30) as client:
        purge = client.post(
            f"{edge.proxy}/admin/purge/{edge.photo}",
            headers={"Authorization": f"Bearer {edge.admin_token}", "Origin": "https://evil.example"},
        )
    assert purge.status_code == 403
