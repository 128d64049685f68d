"""A client for the generation API, standard library only: `pip install imgedge` (no extras) is enough.

    from imgedge.client import GeneratorClient

    client = GeneratorClient("http://127.0.0.1:8081", api_key=None)
    image = client.generate("a lighthouse at dusk", aspect="16:9")   # submit, poll, fetch metadata
    image["transforms"]["srcset"]                                    # signed transform URLs

Each step is also its own call: `submit` → `Job`, `job` / `wait` → `Job`, `image` → the metadata.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

MAX_RESPONSE_BYTES = 8 << 20  # metadata is kilobytes; a bound keeps a wrong URL from filling memory


class ApiError(Exception):
    """The API answered with an error: its status, its message, and when to retry (429, 503)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after


class JobFailed(Exception):
    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id} failed: {job.error}")
        self.job = job


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    status: str  # queued | running | done | failed
    asset_id: str | None
    error: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Job:
        return cls(
            str(body.get("job_id") or body["id"]), body["status"], body.get("asset_id"), body.get("error")
        )

    @property
    def settled(self) -> bool:
        return self.status in ("done", "failed")


class GeneratorClient:
    def __init__(self, base_url: str, *, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def submit(self, prompt: str, **options: Any) -> Job:
        """POST /v1/images. Options: aspect, width, height, seed, steps, guidance, negative_prompt,
        temporary, webhook_url (None values are left out)."""
        body = {"prompt": prompt, **{k: v for k, v in options.items() if v is not None}}
        return Job.from_json(self._request("POST", "/v1/images", body))

    def job(self, job_id: str) -> Job:
        return Job.from_json(self._request("GET", f"/v1/jobs/{quote(job_id, safe='')}"))

    def wait(self, job_id: str, *, timeout_s: float = 300.0, interval_s: float = 0.25) -> Job:
        """Polls until the job is done or failed; TimeoutError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        delay = interval_s
        while True:
            job = self.job(job_id)
            if job.settled:
                return job
            if time.monotonic() + delay > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout_s:g} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def image(self, asset_id: str) -> dict[str, Any]:
        """GET /v1/images/{id}: size, provenance, moderation state, signed transform URLs and srcset."""
        return self._request("GET", f"/v1/images/{quote(asset_id, safe='')}")

    def recent(self, limit: int = 12) -> list[dict[str, Any]]:
        images: list[dict[str, Any]] = self._request("GET", "/v1/images?" + urlencode({"limit": limit}))[
            "images"
        ]
        return images

    def generate(self, prompt: str, *, timeout_s: float = 300.0, **options: Any) -> dict[str, Any]:
        """Submit, wait, and return the image's metadata; JobFailed when the job fails."""
        job = self.wait(self.submit(prompt, **options).id, timeout_s=timeout_s)
        if job.status != "done" or job.asset_id is None:
            raise JobFailed(job)
        return self.image(job.asset_id)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return _json(response.read(MAX_RESPONSE_BYTES + 1))
        except urllib.error.HTTPError as exc:
            raise _api_error(exc) from None


def _json(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ApiError(502, "response too large")
    parsed = json.loads(raw)
    if not isinstance(parsed, dict):
        raise ApiError(502, "response is not a JSON object")
    return parsed


def _api_error(exc: urllib.error.HTTPError) -> ApiError:
    try:
        message = str(json.loads(exc.read(64 << 10)).get("error", exc.reason))
    except (ValueError, AttributeError):
        message = str(exc.reason)
    retry_after = exc.headers.get("Retry-After") if exc.headers else None
    return ApiError(exc.code, message, float(retry_after) if retry_after and retry_after.isdigit() else None)
