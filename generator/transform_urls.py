"""Ready-made transform URLs for an asset, built with the proxy's own URL builder and signing key."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from proxy.signing import load_signing_keys
from proxy.urls import build_path, srcset


class TransformUrls:
    def __init__(self, key: bytes | None, widths: Sequence[int], base_url: str) -> None:
        self.key = key
        self.widths = tuple(widths)
        self.base_url = base_url.rstrip("/")

    @classmethod
    def for_data_dir(cls, data_dir: Path, widths: Sequence[int], base_url: str) -> TransformUrls:
        keys = load_signing_keys(data_dir)
        return cls(keys[0] if keys else None, widths, base_url)

    def paths(self, asset_id: str) -> list[str]:
        return [build_path(asset_id, key=self.key, width=w, fmt="auto") for w in self.widths]

    def describe(self, asset_id: str) -> dict[str, object]:
        return {
            "widths": {
                str(w): self.base_url + p for w, p in zip(self.widths, self.paths(asset_id), strict=True)
            },
            "srcset": srcset(asset_id, self.widths, key=self.key, base_url=self.base_url, fmt="auto"),
        }
