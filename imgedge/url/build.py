"""Build signed transform paths and srcset strings; the `imgedge url` command and other tools use these."""

from __future__ import annotations

import time
from collections.abc import Sequence

from imgedge.url.parse import ParseSettings, parse_options
from imgedge.url.signing import sign
from imgedge.url.spec import fmt_number

UNSIGNED = "_"
INFO_OPTIONS = "info"  # what an /info URL's signature covers in place of the options


def info_path(asset_id: str, *, key: bytes | None) -> str:
    """`/info/{signature}/{asset_id}`: the asset's size and placeholders as JSON."""
    signature = sign([key], INFO_OPTIONS, asset_id) if key is not None else UNSIGNED
    return f"/info/{signature}/{asset_id}"


def build_path(
    asset_id: str,
    *,
    key: bytes | None,
    width: int | None = None,
    height: int | None = None,
    fit: str | None = None,
    gravity: str | None = None,
    fmt: str | None = None,
    quality: int | str | None = None,  # 1-100, or `auto`, `auto:low|good|best` or `auto:{target}`
    dpr: float | None = None,
    expires_in: int | None = None,
    extra: Sequence[str] = (),
    settings: ParseSettings | None = None,
    now: float | None = None,
) -> str:
    """`/{signature}/{canonical options}/{asset_id}`; `key=None` gives an unsigned `/_/…` path."""
    segments: list[str] = list(extra)
    for name, value in (
        ("w", width),
        ("h", height),
        ("fit", fit),
        ("g", gravity),
        ("f", fmt),
        ("q", quality),
    ):
        if value is not None:
            segments.append(f"{name}:{value}")
    if dpr is not None:
        segments.append(f"dpr:{fmt_number(dpr)}")
    if expires_in is not None:
        segments.append(f"exp:{int((now if now is not None else time.time()) + expires_in)}")
    spec = parse_options(segments, settings or ParseSettings())
    canonical = spec.canonical()
    signature = sign([key], canonical, asset_id) if key is not None else UNSIGNED
    return "/" + "/".join(filter(None, (signature, canonical, asset_id)))


def srcset(
    asset_id: str, widths: Sequence[int], *, key: bytes | None, base_url: str = "", **opts: object
) -> str:
    """`url 320w, url 640w, …` with each width signed separately; other options apply to every candidate."""
    candidates = []
    for width in sorted(set(widths)):
        path = build_path(asset_id, key=key, width=width, **opts)  # type: ignore[arg-type]
        candidates.append(f"{base_url}{path} {width}w")
    return ", ".join(candidates)
