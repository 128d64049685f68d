"""The generator's composition root: owns the collaborators and the flows that cross them."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from imgedge.generator.background import Background
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.destinations import ForbiddenDestination, check_destination
from imgedge.generator.errors import ApiError
from imgedge.generator.generation import generate
from imgedge.generator.generation_request import GenerationRequest
from imgedge.generator.janitor import Janitor
from imgedge.generator.job_queue import JobQueue, QueueFull
from imgedge.generator.jobs import Job, JobStore
from imgedge.generator.metrics import Metrics
from imgedge.generator.model_loader import LoadedModel
from imgedge.generator.moderation import ModerationPolicy
from imgedge.generator.proxy_client import ProxyClient
from imgedge.generator.purge_outbox import PurgeOutbox
from imgedge.generator.redis_queue import RedisJobQueue, queue_redis_url
from imgedge.generator.store import AssetRecord, OriginalStore, Provenance
from imgedge.generator.transform_urls import TransformUrls
from imgedge.generator.uploads import UploadTokens, validate_upload
from imgedge.generator.webhooks import deliver

log = logging.getLogger("imgedge.generator")


class GeneratorService:
    def __init__(self, config: GeneratorConfig, store: OriginalStore, urls: TransformUrls | None) -> None:
        self.config = config
        self.store = store
        self.urls = urls
        self.model: LoadedModel | None = None
        self.metrics = Metrics()
        self.jobs = JobStore(config.db_path)
        self.policy = ModerationPolicy.from_config(config)
        self.outbox = PurgeOutbox(config.db_path)
        self.uploads = UploadTokens(config.upload_secret, config.upload_url_ttl_s, config.db_path)
        self.http = httpx.AsyncClient(follow_redirects=False)
        self.proxy = ProxyClient(self.http, config.proxy_url, config.admin_token)
        self.background = Background()
        # One thread: the model is used by one job at a time, and torch already spreads that over the cores.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imgedge-model")
        # With a queue Redis, `imgedge worker` processes run the jobs; otherwise this process does.
        redis_url = queue_redis_url()
        self.queue: JobQueue | RedisJobQueue = (
            RedisJobQueue(redis_url, self.jobs, self.metrics, config.queue_size)
            if redis_url
            else JobQueue(self.jobs, self.run_job, self.metrics, config.queue_size, self.job_finished)
        )
        self.janitor = Janitor(store, self.outbox, self.proxy, config.janitor_interval_s)
        self._janitor_task: asyncio.Task[None] | None = None

    async def start(self, model: LoadedModel) -> None:
        self.model = model
        self.queue.start()
        self._janitor_task = asyncio.create_task(self.janitor.run_forever(), name="imgedge-janitor")

    async def stop(self) -> None:
        await self.queue.stop()
        if self._janitor_task is not None:
            self._janitor_task.cancel()
            await asyncio.gather(self._janitor_task, return_exceptions=True)
        await self.background.cancel()
        await self.http.aclose()
        self.executor.shutdown(wait=True)

    def submit(self, request: GenerationRequest) -> Job:
        verdict = self.policy.check_prompt(request.prompt)
        if verdict.state == "rejected":
            # Refused before spending model time on it; still a rejection for the counters.
            self.metrics.moderation_rejections += 1
            raise ApiError(422, "prompt refused by the moderation policy")
        if not self.queue.has_room():
            self.metrics.jobs_refused_queue_full += 1
            raise ApiError(429, "generation queue is full", {"Retry-After": str(self.queue.retry_after())})
        job = self.jobs.create(request)
        try:
            self.queue.submit(job.id)
        except QueueFull as full:
            self.jobs.set_status(job.id, "failed", error="queue full")
            raise ApiError(429, "generation queue is full", {"Retry-After": str(full.retry_after)}) from None
        self.metrics.jobs_submitted += 1
        return job

    async def run_job(self, job: Job) -> str:
        model = self.model
        if model is None:
            raise RuntimeError("model is not loaded")
        request = job.request
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        self.metrics.model_invocations += 1
        generated = await loop.run_in_executor(self.executor, generate, model, request)
        self.metrics.observe_generation(time.perf_counter() - started)
        verdict = self.policy.check_generated(request.prompt, generated.flagged)
        # The atomic file write (with fsync) and the SQLite insert stay off the event loop.
        record = await asyncio.to_thread(
            self.store.put,
            generated.canonical,
            generated.provenance,
            moderation=verdict.state,
            moderation_reason=verdict.reason,
            temporary=request.temporary,
            expires_at=time.time() + self.config.temporary_ttl_s if request.temporary else None,
        )
        if verdict.state == "rejected":
            self.metrics.moderation_rejections += 1
        elif record.moderation == "approved":
            self.warm_variants(record.id)
        return record.id

    async def job_finished(self, job: Job) -> None:
        if job.request.webhook_url:
            self.background.spawn(self._send_webhook(job, job.request.webhook_url), name=f"webhook-{job.id}")

    async def _send_webhook(self, job: Job, url: str) -> None:
        try:
            # Again at delivery: the name may resolve differently than when the job was submitted.
            await check_destination(url, allow_private=self.config.webhook_allow_private)
        except ForbiddenDestination as exc:
            self.metrics.webhook_failures += 1
            log.warning("webhook for job %s not sent: %s", job.id, exc)
            return
        payload = {"event": "job." + job.status, "job": job.to_json()}
        if job.asset_id is not None:
            payload["image"] = self.describe(job.asset_id)
        delivered = await deliver(
            self.http, url, payload, secret=self.config.webhook_secret,
            attempts=self.config.webhook_attempts, backoff_s=self.config.webhook_backoff_s,
        )  # fmt: skip
        if not delivered:
            self.metrics.webhook_failures += 1
            log.warning("webhook for job %s to %s was not delivered", job.id, url)

    async def store_upload(self, data: bytes, temporary: bool) -> AssetRecord:
        # Decoding and re-encoding, the atomic write and the SQLite insert stay off the event loop.
        canonical = await asyncio.to_thread(
            validate_upload, data, max_bytes=self.config.max_upload_bytes, max_pixels=self.config.max_pixels
        )
        verdict = self.policy.check_upload()
        record = await asyncio.to_thread(
            self.store.put,
            canonical,
            Provenance(origin="upload"),
            moderation=verdict.state,
            moderation_reason=verdict.reason,
            temporary=temporary,
            expires_at=time.time() + self.config.temporary_ttl_s if temporary else None,
        )
        self.metrics.uploads_stored += 1
        if record.moderation == "approved":
            self.warm_variants(record.id)
        return record

    async def set_moderation(self, asset_id: str, state: str, reason: str | None) -> AssetRecord:
        record = self.store.get(asset_id)
        if record is None:
            raise ApiError(404, "asset not found")
        if self.store.set_moderation(asset_id, state, reason):
            if state == "rejected":
                self.metrics.moderation_rejections += 1
            # Variants rendered under the old state carry its cache lifetime; the proxy must forget them.
            self.outbox.add(asset_id)
            self.background.spawn(self.outbox.flush(self.proxy.purge), name=f"purge-{asset_id}")
            if state == "approved":
                self.warm_variants(asset_id)
        updated = self.store.get(asset_id)
        assert updated is not None
        return updated

    def warm_variants(self, asset_id: str) -> None:
        if self.config.eager_variants and self.urls is not None:
            record = self.store.get(asset_id)
            paths = self.urls.paths(asset_id, record.width if record else None)
            self.background.spawn(self.proxy.warm(paths), name=f"warm-{asset_id}")

    def describe(self, asset_id: str) -> dict[str, object]:
        record = self.store.get(asset_id)
        if record is None:
            raise ApiError(404, "asset not found")
        return describe_record(record, self.urls)


def describe_record(record: AssetRecord, urls: TransformUrls | None) -> dict[str, object]:
    p = record.provenance
    return {
        "asset_id": record.id,
        "width": record.width,
        "height": record.height,
        "bytes": record.bytes,
        "content_type": record.content_type,
        "created_at": record.created_at,
        "temporary": record.temporary,
        "expires_at": record.expires_at,
        "moderation": {"state": record.moderation, "reason": record.moderation_reason},
        "provenance": {
            "origin": p.origin, "model": p.model, "model_hash": p.model_hash, "prompt": p.prompt,
            "negative_prompt": p.negative_prompt, "seed": p.seed, "steps": p.steps, "guidance": p.guidance,
            "scheduler": p.scheduler, "software": p.software,
            "digital_source_type": "trainedAlgorithmicMedia" if p.origin == "generated" else None,
        },
        "original_url": f"/originals/{record.id}",
        "transforms": urls.describe(record.id, record.width) if urls is not None else None,
    }  # fmt: skip
