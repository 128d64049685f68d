"""Originals as files: `{root}/{id}`, `{root}/{id}.*` or the store's layout `{root}/ab/{id}.png`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pyvips

from imgedge.imaging.errors import SourceTooLarge
from imgedge.provenance import ProvenanceLabel, declared_source_type
from imgedge.proxy.errors import NotFound
from imgedge.proxy.metrics import ORIGIN_FETCHES
from imgedge.proxy.sources.base import SourceImage, SourceRef, asset_id_of

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig


class DirectorySource:
    def __init__(self, config: ProxyConfig) -> None:
        self._root = config.originals_dir
        self._max_bytes = config.max_src_bytes
        self.fetches = 0

    def _find(self, asset_id: str) -> Path | None:
        candidates = [self._root / asset_id, self._root / asset_id[:2] / f"{asset_id}.png"]
        candidates += sorted(self._root.glob(f"{asset_id}.*"))
        return next((p for p in candidates if p.is_file()), None)

    async def fetch(self, ref: SourceRef, previous: SourceImage | None = None) -> SourceImage:
        asset_id = asset_id_of(ref)
        self.fetches += 1
        ORIGIN_FETCHES.inc()
        path = await anyio.to_thread.run_sync(self._find, asset_id)
        if path is None:
            raise NotFound("asset not found")
        size = path.stat().st_size
        if size > self._max_bytes:
            raise SourceTooLarge(f"source is {size} bytes, limit is {self._max_bytes}")
        data = await anyio.Path(path).read_bytes()
        label = await anyio.to_thread.run_sync(declared_label, data)
        return SourceImage(
            data=data, etag=hashlib.sha256(data).hexdigest()[:32], moderation="approved", label=label
        )

    async def ready(self) -> str | None:
        return None if self._root.is_dir() else f"source directory {self._root} is missing"

    async def aclose(self) -> None:
        return None


def declared_label(data: bytes) -> ProvenanceLabel | None:
    """A file that declares an IPTC digital source type in its XMP (the generator's originals do) keeps
    that declaration in its variants; there is no origin here to say more (no record link)."""
    try:
        header = pyvips.Image.new_from_buffer(data, "")
        xmp = header.get("xmp-data") if header.get_typeof("xmp-data") else None
    except pyvips.Error:
        return None  # the transform reports the file's problem with its own status
    source_type = declared_source_type(bytes(xmp)) if xmp else None
    return ProvenanceLabel.checked(source_type) if source_type else None
