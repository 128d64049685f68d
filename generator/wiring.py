"""The generator's composition root: builds each part once and hands it to whoever needs it.

The API (app.py) and `imgedge worker` (jobs/worker.py) both start from `wire`; routes and jobs receive the
parts they use as arguments, never this object.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from imgedge.generator.assets.description import AssetDescriber
from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.assets.repository import AssetRepository
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.background import Background
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.jobs.lifecycle import JobLifecycle
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.jobs.runner import GenerationRunner
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.backend import ModelSlot
from imgedge.generator.outbound.job_webhooks import JobWebhooks, WebhookSettings
from imgedge.generator.outbound.proxy_client import ProxyClient
from imgedge.generator.outbound.proxy_variants import ProxyVariants
from imgedge.generator.outbound.purge_outbox import PurgeOutbox
from imgedge.generator.outbound.transform_urls import TransformUrls
from imgedge.generator.outbound.warm_plan import WarmPlanner, WarmPolicy
from imgedge.generator.outbound.webhook_outbox import WebhookOutbox
from imgedge.generator.storage.blobs import open_blob_store
from imgedge.generator.storage.database import Database, open_database


def open_asset_store(config: GeneratorConfig, database: Database) -> AssetStore:
    return AssetStore(
        open_blob_store(config.originals_url), AssetRepository(database), max_pixels=config.max_pixels
    )


def default_transform_urls(config: GeneratorConfig) -> TransformUrls:
    return TransformUrls.for_data_dir(
        config.data_dir, config.playground_widths, config.public_proxy_url,
        (config.default_steps, config.default_guidance),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Parts:
    database: Database
    store: AssetStore
    jobs: JobRepository
    outbox: PurgeOutbox
    policy: ModerationPolicy
    metrics: Metrics
    background: Background
    http: httpx.AsyncClient
    proxy: ProxyClient
    variants: ProxyVariants
    describer: AssetDescriber
    model: ModelSlot
    runner: GenerationRunner
    lifecycle: JobLifecycle
    webhooks: JobWebhooks

    async def close(self) -> None:
        """Cancels what is still in the background; callers drain first when it must finish."""
        await self.background.cancel()
        await self.http.aclose()
        self.runner.close()
        self.database.close()


def wire(
    config: GeneratorConfig, *, store: AssetStore | None = None, urls: TransformUrls | None = None
) -> Parts:
    database = open_database(config.database_url)
    store = store or open_asset_store(config, database)
    jobs, outbox, metrics, background = (
        JobRepository(database),
        PurgeOutbox(database),
        Metrics(),
        Background(),
    )
    policy = ModerationPolicy.from_config(config)
    http = httpx.AsyncClient(follow_redirects=False)
    proxy = ProxyClient(http, config.proxy_url, config.admin_token)
    warming = WarmPolicy(config.warm_learned, config.warm_budget, config.warm_coverage)
    planner = WarmPlanner(proxy, urls, warming) if urls is not None else None
    variants = ProxyVariants(proxy, outbox, planner, background, eager=config.eager_variants)
    describer = AssetDescriber(store, urls)
    webhooks = JobWebhooks(
        http,
        WebhookSettings.from_config(config),
        describer.by_id,
        metrics,
        background,
        WebhookOutbox(database),
    )
    model = ModelSlot()
    runner = GenerationRunner(model, policy, store, metrics, variants, temporary_ttl_s=config.temporary_ttl_s)
    lifecycle = JobLifecycle(jobs, runner, metrics, webhooks.job_finished)
    return Parts(
        database=database, store=store, jobs=jobs, outbox=outbox, policy=policy, metrics=metrics,
        background=background, http=http, proxy=proxy, variants=variants, describer=describer, model=model,
        runner=runner, lifecycle=lifecycle, webhooks=webhooks,
    )  # fmt: skip
