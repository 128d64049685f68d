"""What the proxy holds of our assets: warm a new asset's variants, and have them purged when its
moderation state changes (through the persistent outbox, so a proxy that is down is purged later)."""

from __future__ import annotations

from imgedge.generator.background import Background
from imgedge.generator.outbound.proxy_client import ProxyClient
from imgedge.generator.outbound.purge_outbox import PurgeOutbox
from imgedge.generator.outbound.transform_urls import TransformUrls


class ProxyVariants:
    def __init__(
        self,
        proxy: ProxyClient,
        outbox: PurgeOutbox,
        urls: TransformUrls | None,
        background: Background,
        *,
        eager: bool,
    ) -> None:
        self.proxy = proxy
        self.outbox = outbox
        self.urls = urls
        self.background = background
        self.eager = eager

    def warm(self, asset_id: str, source_width: int | None) -> None:
        """Renders the srcset variants ahead of the first visitor, when eager variants are on."""
        if self.eager and self.urls is not None:
            paths = self.urls.paths(asset_id, source_width)
            self.background.spawn(self.proxy.warm(paths), name=f"warm-{asset_id}")

    def purge(self, asset_id: str) -> None:
        self.outbox.add(asset_id)
        self.background.spawn(self.outbox.flush(self.proxy.purge), name=f"purge-{asset_id}")
