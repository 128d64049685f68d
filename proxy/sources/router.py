"""One Source for the proxy: asset ids go to the configured asset source (IMGEDGE_SOURCE), remote URLs to
RemoteSource and s3:// URLs to S3Source, each made only when IMGEDGE_REMOTE_SOURCES admits such URLs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from imgedge.proxy.errors import Forbidden
from imgedge.proxy.sources.base import ASSET, REMOTE, S3, Source, SourceImage, SourceRef

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig


class SourceRouter:
    def __init__(self, assets: Source, others: Mapping[str, Source]) -> None:
        self.assets = assets
        self.others = dict(others)

    @classmethod
    def from_config(cls, config: ProxyConfig, assets: Source) -> SourceRouter:
        schemes = {prefix.scheme for prefix in config.remote_sources}
        others: dict[str, Source] = {}
        # Imported only where admitted: every proxy worker would hold the remote source's httpcore and h11.
        if schemes & {"http", "https"}:
            from imgedge.proxy.sources.remote import RemoteSource

            others[REMOTE] = RemoteSource(config)
        if "s3" in schemes:
            from imgedge.proxy.sources.s3 import S3Source

            others[S3] = S3Source(config)
        return cls(assets, others)

    async def fetch(self, ref: SourceRef, previous: SourceImage | None = None) -> SourceImage:
        if ref.kind == ASSET:
            return await self.assets.fetch(ref)  # originals of assets never change: nothing to revalidate
        source = self.others.get(ref.kind)
        if source is None:
            raise Forbidden(f"{ref.kind} sources are not enabled (IMGEDGE_REMOTE_SOURCES)")
        return await source.fetch(ref, previous)

    @property
    def fetches(self) -> int:
        return sum(getattr(s, "fetches", 0) for s in (self.assets, *self.others.values()))

    async def ready(self) -> str | None:
        return await self.assets.ready()

    async def aclose(self) -> None:
        for source in (self.assets, *self.others.values()):
            await source.aclose()
