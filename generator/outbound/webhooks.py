"""Job-completion webhooks: a signed POST, retried with exponential backoff a bounded number of times."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from imgedge.web.redact import url_for_logs

log = logging.getLogger("imgedge.generator")

SIGNATURE_HEADER = "X-Imgedge-Signature"
# Receivers must not retry on these: the request itself is wrong and will stay wrong.
_PERMANENT = frozenset(range(400, 500)) - {408, 425, 429}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    # The timestamp is inside the MAC so a captured delivery cannot be replayed later with a new date.
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance_s: int = 300) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    *,
    secret: str,
    attempts: int,
    backoff_s: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> bool:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    for attempt in range(attempts):
        if attempt:
            await sleep(backoff_s * 2 ** (attempt - 1))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
            "X-Imgedge-Delivery-Attempt": str(attempt + 1),
        }
        try:
            response = await client.post(url, content=body, headers=headers, timeout=10.0)
        except httpx.HTTPError as exc:
            log.info("webhook to %s failed (attempt %d): %s", url_for_logs(url), attempt + 1, exc)
            continue
        if response.is_success:
            return True
        log.info(
            "webhook to %s answered %d (attempt %d)", url_for_logs(url), response.status_code, attempt + 1
        )
        if response.status_code in _PERMANENT:
            return False
    return False
