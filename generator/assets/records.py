"""What the generator knows about an asset: its record and the provenance it was made with."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

ASSET_ID_RE = re.compile(r"^[0-9a-f]{32}$")

MODERATION_STATES = ("approved", "pending", "rejected")


@dataclass(frozen=True, slots=True)
class Provenance:
    origin: str = "ingest"  # ingest | upload | generated
    model: str | None = None
    model_hash: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    software: str | None = None


@dataclass(frozen=True, slots=True)
class AssetRecord:
    id: str
    width: int
    height: int
    bytes: int
    content_type: str
    moderation: str
    temporary: bool
    created_at: float
    provenance: Provenance = field(default_factory=Provenance)
    moderation_reason: str | None = None
    expires_at: float | None = None


def valid_asset_id(asset_id: str) -> bool:
    return ASSET_ID_RE.fullmatch(asset_id) is not None


def check_moderation_state(state: str) -> None:
    if state not in MODERATION_STATES:
        raise ValueError(f"unknown moderation state {state!r}")


def expiry(temporary: bool, ttl_s: float) -> float | None:
    """When an asset stored now expires: temporary ones after `ttl_s`, others never."""
    return time.time() + ttl_s if temporary else None
