"""An administrator's moderation decision, and what must follow it."""

from __future__ import annotations

from imgedge.generator.assets.records import AssetRecord
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.errors import ApiError
from imgedge.generator.metrics import Metrics
from imgedge.generator.outbound.proxy_variants import ProxyVariants


class ModerationReview:
    def __init__(self, store: AssetStore, variants: ProxyVariants, metrics: Metrics) -> None:
        self.store = store
        self.variants = variants
        self.metrics = metrics

    def decide(self, asset_id: str, state: str, reason: str | None) -> AssetRecord:
        if self.store.get(asset_id) is None:
            raise ApiError(404, "asset not found")
        changed = self.store.set_moderation(asset_id, state, reason)
        updated = self.store.get(asset_id)
        assert updated is not None
        if changed:
            if state == "rejected":
                self.metrics.moderation_rejections.inc()
            # Variants rendered under the old state carry its cache lifetime; the proxy must forget them.
            self.variants.purge(asset_id)
            if state == "approved":
                self.variants.warm(asset_id, updated.width)
        if state == "rejected":
            # The decision is about the picture: every other record of it goes with it.
            for other in self.store.same_content(asset_id):
                if self.store.set_moderation(other, "rejected", reason):
                    self.variants.purge(other)
        return updated
