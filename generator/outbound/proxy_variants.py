"""What the proxy holds of our assets: warm a new asset's variants, and have them purged when its
moderation state changes (through the persistent outbox, so a proxy that is down is purged later)."""

from __future__ import annotations

from imgedge.generator.background import Background
from imgedge.generator.outbound.proxy_client import ProxyClient
from imgedge.generator.outbound.purge_outbox import PurgeOutbox
from imgedge.generator.outbound.warm_plan import WarmPlanner


class ProxyVariants:
    def __init__(
        self,
        proxy: ProxyClient,
        outbox: PurgeOutbox,
        planner: WarmPlanner | None,
        background: Background,
        *,
        eager: bool,
    ) -> None:
        self.proxy = proxy
        self.outbox = outbox
        self.planner = planner
        self.background = background
        self.eager = eager

    def warm(self, asset_id: str, source_width: int | None) -> None:
        """Renders the variants visitors are likely to ask for ahead of the first one, when eager variants are
        on: the proxy's most requested ones, or the srcset widths until it has learned them."""
        if self.eager and self.planner is not None:
            self.background.spawn(self._warm(self.planner, asset_id, source_width), name=f"warm-{asset_id}")

    async def _warm(self, planner: WarmPlanner, asset_id: str, source_width: int | None) -> int:
        return await self.proxy.warm(await planner.plan(asset_id, source_width))

    def purge(self, asset_id: str) -> None:
        self.outbox.add(asset_id)
        self.background.spawn(self.outbox.flush(self.proxy.purge), name=f"purge-{asset_id}")
