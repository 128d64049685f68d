"""Strict input, never a 5xx: one spelling per signature; JSON only as application/json, bounded in depth,
with finite numbers and valid text; webhook URLs without userinfo, fragments or other schemes; query numbers
in ASCII digits; and a record once stored can always be read back."""

from __future__ import annotations

import json
import time
import zlib

import httpx
import pytest

from tests.security.conftest import Edge

JSON = {"Content-Type": "application/json"}


def spellings(signature: str) -> set[str]:
    """Other ways to write the same 32 bytes: padding, the standard alphabet, the unused low bits."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    others = {signature + "=", signature + "==", signature.replace("-", "+").replace("_", "/")}
    others |= {signature[:-1] + alphabet[(last & ~3) | low] for low in range(4)}
    others |= {signature.upper(), "%" + signature, signature + "%00"}
    return others - {signature}


def test_only_one_spelling_of_a_signature_verifies(edge: Edge) -> None:
    path = edge.url(edge.photo, width=72, fmt="webp")
    signature, rest = path[1:].split("/", 1)
    with edge.client("proxy") as client:
        assert client.get(path).status_code == 200
        statuses = {variant: client.get(f"/{variant}/{rest}").status_code for variant in spellings(signature)}
    assert set(statuses.values()) == {403}, statuses


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ('{"prompt": ' + "[" * 1000 + "]" * 1000 + "}", 400, "nested"),
        ('{"prompt": "x", "guidance": NaN}', 400, "NaN"),
        ('{"prompt": "x", "guidance": 1e999}', 400, "out of range"),
        ('{"prompt": "x", "seed": ' + "9" * 5000 + "}", 400, "not valid JSON"),
        ('{"prompt": "x", "prompt": "y"}', 400, "twice"),
        ('{"prompt": "lone \\ud800 surrogate"}', 400, "surrogate"),
        ('{"prompt": "bell \\u0007"}', 422, "control"),
        (b'{"prompt": "\xff"}', 400, "not valid JSON"),
        ('{"prompt": "x", "colour": "red"}', 422, "unknown field"),
        ('{"prompt": "x", "webhook_url": "http://[::1"}', 422, "webhook_url"),
        ('{"prompt": "x", "webhook_url": "http://example.com:99999/"}', 422, "webhook_url"),
        ('{"prompt": "x", "webhook_url": "https://user:pw@example.com/"}', 422, "user name"),
        ('{"prompt": "x", "webhook_url": "https://example.com/#frag"}', 422, "fragment"),
        ('{"prompt": "x", "webhook_url": "ftp://example.com/"}', 422, "http(s)"),
        ('{"prompt": "x", "webhook_url": "https://exa mple.com/"}', 422, "spaces"),
        ('{"prompt": "x", "webhook_url": "https://bücher.example/"}', 422, "punycode"),
        ("[]", 422, "object"),
    ],
)
def test_hostile_json_is_a_clear_4xx(edge: Edge, body: str | bytes, status: int, says: str) -> None:
    with edge.client(behind=f"198.51.101.{zlib.crc32(str(body).encode()) % 250}") as client:
        response = client.post("/v1/images", content=body, headers=JSON)
    assert response.status_code == status, response.text
    assert says in response.json()["error"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_json_endpoints_take_json_only(edge: Edge, content_type: str) -> None:
    with edge.client(behind=f"198.51.102.{len(content_type)}") as client:
        response = client.post("/v1/uploads", content=b"{}", headers={"Content-Type": content_type})
        empty = client.post("/v1/uploads", content=b"", headers={"Content-Type": content_type})
    assert response.status_code == empty.status_code == 415


@pytest.mark.parametrize("value", ["²", "١٢", "12x", "-1", "1e3", "0", "101", "9" * 40])
def test_query_numbers_are_ascii_digits_in_range(edge: Edge, value: str) -> None:
    with edge.client() as client:
        response = client.get("/v1/images", params={"limit": value})
    assert response.status_code == 422 and "limit" in response.json()["error"]


@pytest.mark.parametrize("digits", ["²00", "١٢٠", "1e3", "0x10", "+5", " 5"])
def test_proxy_options_are_ascii_digits(edge: Edge, digits: str) -> None:
    with edge.client("proxy") as client:
        response = client.get(f"/_/w:{digits}/{edge.photo}")
    assert 400 <= response.status_code < 500


def test_a_stored_record_can_always_be_read_back(edge: Edge) -> None:
    prompt = "éclair 🍰 with\nnew lines\tand tabs, 中文, \u200dzero-width joiner"
    with edge.client(behind="198.51.100.21") as client:
        created = client.post("/v1/images", json={"prompt": prompt, "width": 64, "height": 64, "steps": 1})
        assert created.status_code == 202, created.text
        deadline = time.monotonic() + 60
        while (job := client.get(created.json()["status_url"])).json()["status"] not in ("done", "failed"):
            assert job.status_code == 200 and time.monotonic() < deadline
            time.sleep(0.1)
        assert job.json()["status"] == "done", job.text
        image = client.get(job.json()["image_url"])
    assert image.status_code == 200
    assert json.loads(image.text)["provenance"]["prompt"] == prompt


def test_nothing_above_answered_5xx(edge: Edge) -> None:
    log = edge.log_text()
    server_errors = [
        line for line in log.splitlines() if '"status": 5' in line and '"status": 503' not in line
    ]
    assert server_errors == []
    assert httpx.get(f"{edge.generator}/healthz", timeout=10).status_code == 200
