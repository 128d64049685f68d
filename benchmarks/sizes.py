"""Bytes per variant per format against the PNG original, read from imgedge's own responses."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from imgedge.url.build import build_path


@dataclass(frozen=True, slots=True)
class VariantSize:
    asset: str
    original_bytes: int
    width: int
    format: str
    bytes: int

    @property
    def saving(self) -> float:
        return 1 - self.bytes / self.original_bytes


def measure(
    base_url: str,
    key: bytes | None,
    assets: dict[str, tuple[str, int]],
    widths: tuple[int, ...],
    fmts: tuple[str, ...],
) -> list[VariantSize]:
    """`assets`: name → (asset id, original PNG bytes)."""
    found = []
    with httpx.Client(base_url=base_url, timeout=120.0) as client:
        for name, (asset_id, original_bytes) in assets.items():
            for width in widths:
                for fmt in fmts:
                    response = client.get(build_path(asset_id, key=key, width=width, fmt=fmt))
                    response.raise_for_status()
                    found.append(VariantSize(name, original_bytes, width, fmt, len(response.content)))
    return found
