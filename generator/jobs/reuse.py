"""The same request is generated once: an identical request with an explicit seed gets the image the first
one made, or the job still making it.

A request's canonical form (model id, weights hash and scheduler; software version; prompt and negative
prompt, already NFC and trimmed; size, seed, steps, guidance) hashes to a key. `request_keys` maps the key to
the job that makes it; its primary key is the single-flight across API processes: of several identical
requests arriving together, one insert wins and submits a job under the id it reserved, the others read that
id. A key whose job failed, or whose image is gone, is taken over by compare-and-set on the job id.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.errors import ApiError
from imgedge.generator.jobs.model_identity import ModelIdentities
from imgedge.generator.jobs.records import Job
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.jobs.submission import prompt_refused
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.storage.database import Database
from imgedge.generator.version import software_version
from imgedge.origin_protocol import MODERATION_HEADER

KEY_VERSION = "r1"
# A reserved key's job row is written microseconds after the key; a reader that finds no job waits this
# long for it before taking the key over (the winner crashed, or its submission was refused).
RESERVATION_GRACE_S = 5.0
_WAIT_STEP_S = 0.02
_MAX_ROUNDS = 1000

NEW, REUSED, JOINED = "new", "reused", "joined"


@dataclass(frozen=True, slots=True)
class Outcome:
    job: Job
    how: str  # NEW: a job was submitted; REUSED: done, its image handed out again; JOINED: still in flight


Submit = Callable[[str], Awaitable[Job]]  # submits a job under the given id (moderation, caps, queue, row)


def canonical_request(request: GenerationRequest, model_id: str, model_hash: str, scheduler: str) -> str:
    return json.dumps(
        {
            "v": KEY_VERSION, "model": model_id, "model_hash": model_hash, "scheduler": scheduler,
            "software": software_version(), "prompt": request.prompt,
            "negative_prompt": request.negative_prompt or "", "width": request.width,
            "height": request.height, "seed": request.seed, "steps": request.steps,
            "guidance": repr(float(request.guidance)),
        },
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip


def result_refused() -> ApiError:
    return ApiError(
        422, "this request's image was refused by the moderation policy", {MODERATION_HEADER: "rejected"}
    )


class RequestKeys:
    """The request_keys table: insert-or-get and compare-and-set, in SQL SQLite and PostgreSQL share."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, key: str) -> tuple[str, float] | None:
        with self.database.transaction() as db:
            row = db.execute("SELECT job_id, created_at FROM request_keys WHERE request_key = ?", (key,))
            found = row.fetchone()
        return (found[0], found[1]) if found is not None else None

    def claim(self, key: str, job_id: str) -> bool:
        with self.database.transaction() as db:
            cursor = db.execute(
                "INSERT INTO request_keys (request_key, job_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (request_key) DO NOTHING",
                (key, job_id, time.time()),
            )
            return cursor.rowcount == 1

    def replace(self, key: str, old_job_id: str, job_id: str) -> bool:
        with self.database.transaction() as db:
            cursor = db.execute(
                "UPDATE request_keys SET job_id = ?, created_at = ? WHERE request_key = ? AND job_id = ?",
                (job_id, time.time(), key, old_job_id),
            )
            return cursor.rowcount == 1

    def release(self, key: str, job_id: str) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM request_keys WHERE request_key = ? AND job_id = ?", (key, job_id))


class RequestReuse:
    def __init__(
        self,
        keys: RequestKeys,
        jobs: JobRepository,
        store: AssetStore,
        identities: ModelIdentities,
        policy: ModerationPolicy,
        metrics: Metrics,
    ) -> None:
        self.keys = keys
        self.jobs = jobs
        self.store = store
        self.identities = identities
        self.policy = policy
        self.metrics = metrics

    def key_for(self, request: GenerationRequest) -> str | None:
        """Blocking the first time in a process without the model (see jobs/model_identity.py)."""
        model = self.identities.current()
        if model is None:
            return None
        text = canonical_request(request, model.model_id, model.model_hash, model.scheduler)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    async def existing(self, request: GenerationRequest, *, joinable: bool = True) -> Outcome | None:
        """What an identical request already gives this one (its image, or its job in flight), without
        submitting anything; None when a new job must make it. Raises for a blocked prompt or image."""
        self._check_prompt(request)
        key = await asyncio.to_thread(self.key_for, request)
        if key is None:
            return None
        for _ in range(_MAX_ROUNDS):
            row = await asyncio.to_thread(self.keys.get, key)
            if row is None:
                return None
            job = await asyncio.to_thread(self.jobs.get, row[0])
            if job is None and time.time() - row[1] < RESERVATION_GRACE_S:
                await asyncio.sleep(_WAIT_STEP_S)  # the winner is writing its job row
                continue
            return await asyncio.to_thread(self._settled, job, request, joinable)
        return None

    async def submit(self, request: GenerationRequest, submit: Submit, *, joinable: bool = True) -> Outcome:
        """`joinable=False` (a request with its own webhook) may reuse a finished image but never waits on
        another caller's job: it gets a job of its own, whose webhook it will receive."""
        self._check_prompt(request)
        key = await asyncio.to_thread(self.key_for, request)
        if key is None:
            return Outcome(await submit(uuid.uuid4().hex), NEW)
        for _ in range(_MAX_ROUNDS):
            row = await asyncio.to_thread(self.keys.get, key)
            if row is None:
                reserved = uuid.uuid4().hex
                if await asyncio.to_thread(self.keys.claim, key, reserved):
                    return await self._lead(key, reserved, submit)
                continue
            job_id, reserved_at = row
            job = await asyncio.to_thread(self.jobs.get, job_id)
            if job is None and time.time() - reserved_at < RESERVATION_GRACE_S:
                await asyncio.sleep(_WAIT_STEP_S)  # the winner is writing its job row
                continue
            outcome = await asyncio.to_thread(self._settled, job, request, joinable)
            if outcome is not None:
                return outcome
            if job is not None and job.status in ("queued", "running"):
                # Not joinable: a job of its own, the key left to the job in flight.
                return Outcome(await submit(uuid.uuid4().hex), NEW)
            reserved = uuid.uuid4().hex
            if await asyncio.to_thread(self.keys.replace, key, job_id, reserved):
                return await self._lead(key, reserved, submit)
        raise ApiError(503, "identical requests are contending; retry", {"Retry-After": "1"})

    def _check_prompt(self, request: GenerationRequest) -> None:
        if self.policy.check_prompt(request.prompt).state == "rejected":
            self.metrics.moderation_rejections.inc()
            raise prompt_refused()  # a blocked prompt gets nothing, not even an image made before the block

    def _settled(self, job: Job | None, request: GenerationRequest, joinable: bool) -> Outcome | None:
        """The answer an existing job gives this request, or None when a new job must make it."""
        if job is None or job.status == "failed":
            return None
        if job.status != "done":
            if joinable and (request.temporary or not job.request.temporary):
                self.metrics.requests_joined.inc()
                return Outcome(job, JOINED)
            return None
        record = self.store.get(job.asset_id or "")
        if record is None or (record.expires_at is not None and record.expires_at <= time.time()):
            return None  # deleted, or a temporary image past its time: make it again
        if record.moderation == "rejected":
            raise result_refused()
        if record.temporary and not request.temporary:
            return None  # a permanent copy is asked for: storing it again makes the asset permanent
        self.metrics.requests_reused.inc()
        return Outcome(job, REUSED)

    async def _lead(self, key: str, job_id: str, submit: Submit) -> Outcome:
        try:
            job = await submit(job_id)
        except BaseException:
            # Refused (caps, queue full): the next identical request tries again.
            await asyncio.to_thread(self.keys.release, key, job_id)
            raise
        return Outcome(job, NEW)
