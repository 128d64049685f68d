"""One attempt at a webhook delivery: resolve and check the destination, connect to the checked address,
POST the body signed by the Standard Webhooks convention (signing.py)."""

from __future__ import annotations

import time
from typing import Literal

import httpx

from imgedge.generator.outbound.destinations import ForbiddenDestination, Unresolvable, resolve_destination
from imgedge.generator.outbound.signing import signed_headers
from imgedge.generator.outbound.webhook_outbox import Delivery
from imgedge.generator.version import software_version

Outcome = Literal["delivered", "retry", "permanent"]
# Receivers answering these will answer them again: the request itself is wrong (Standard Webhooks
# senders retry everything else).
_PERMANENT = frozenset(range(400, 500)) - {408, 409, 425, 429}
TIMEOUT_S = 10.0


async def attempt(
    client: httpx.AsyncClient, delivery: Delivery, key: bytes, *, allow_private: bool
) -> tuple[Outcome, str]:
    """How this attempt ended, and why, for the log."""
    try:
        destination = await resolve_destination(delivery.url, allow_private=allow_private)
    except Unresolvable as exc:
        return "retry", str(exc)
    except ForbiddenDestination as exc:
        return "permanent", str(exc)
    url, host_header, extensions = destination.pinned()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": software_version().replace(" ", "/"),
        **host_header,
        **signed_headers(key, delivery.id, int(time.time()), delivery.body),
    }
    try:
        response = await client.post(
            url, content=delivery.body, headers=headers, timeout=TIMEOUT_S, extensions=extensions
        )
    except httpx.HTTPError as exc:
        return "retry", f"{type(exc).__name__}: {exc}"
    if response.is_success:
        return "delivered", f"answered {response.status_code}"
    return (
        "permanent" if response.status_code in _PERMANENT else "retry"
    ), f"answered {response.status_code}"
