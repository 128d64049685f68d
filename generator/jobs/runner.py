"""What running a generation job means: make_asset on the model's own thread, then count and warm."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.generation import make_asset
from imgedge.generator.jobs.records import Job
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.backend import ModelSlot
from imgedge.generator.outbound.proxy_variants import ProxyVariants


class GenerationRunner:
    def __init__(
        self,
        model: ModelSlot,
        policy: ModerationPolicy,
        store: AssetStore,
        metrics: Metrics,
        variants: ProxyVariants,
        *,
        temporary_ttl_s: float,
    ) -> None:
        self.model = model
        self.policy = policy
        self.store = store
        self.metrics = metrics
        self.variants = variants
        self.temporary_ttl_s = temporary_ttl_s
        # One thread: the model is used by one job at a time, and torch already spreads that over the cores.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imgedge-model")

    async def __call__(self, job: Job) -> str:
        model = self.model.require()
        self.metrics.model_invocations.inc()
        make = partial(
            make_asset, model, job.request, self.policy, self.store, temporary_ttl_s=self.temporary_ttl_s
        )
        made = await asyncio.get_running_loop().run_in_executor(self._executor, make)
        self.metrics.observe_generation(made.generation_seconds)
        if made.verdict.state == "rejected":
            self.metrics.moderation_rejections.inc()
        elif made.record.moderation == "approved":
            self.variants.warm(made.record.id, made.record.width)
        return made.record.id

    def close(self) -> None:
        self._executor.shutdown(wait=True)
