"""The generator's Prometheus series (prometheus-client), in a registry per process.

The API process serves them on `/metrics`; each `imgedge worker` serves its own on
IMGEDGE_WORKER_METRICS_PORT (workers may run on other hosts, so they share no directory to aggregate
through): Prometheus scrapes every process and sums, e.g. `sum(imgedge_generator_jobs_done_total)`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_PREFIX = "imgedge_generator"
# Generation takes from a fraction of a second (tiny model, GPU) to minutes (large model, CPU).
_GENERATION_BUCKETS = (0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()

        def counter(name: str, help_text: str) -> Counter:
            return Counter(name, help_text, namespace=_PREFIX, registry=self.registry)

        self.jobs_submitted = counter("jobs_submitted", "Generation jobs accepted")
        self.requests_reused = counter(
            "requests_reused", "Requests answered with the image an identical earlier request made"
        )
        self.requests_joined = counter(
            "requests_joined", "Requests given the job of an identical request still in flight"
        )
        self.jobs_refused_queue_full = counter("jobs_refused_queue_full", "Jobs refused: the queue was full")
        self.jobs_refused_rate_limited = counter(
            "jobs_refused_rate_limited", "Requests refused by the rate limit"
        )
        self.jobs_done = counter("jobs_done", "Jobs finished with an image (in the process that ran them)")
        self.jobs_failed = counter("jobs_failed", "Jobs that failed (in the process that ran them)")
        self.model_invocations = counter("model_invocations", "Runs of the model")
        self.moderation_rejections = counter("moderation_rejections", "Prompts or images rejected")
        self.uploads_stored = counter("uploads_stored", "Uploads stored")
        self.uploads_refused = counter("uploads_refused", "Uploads refused")
        self.webhook_failures = counter("webhook_failures", "Webhooks given up on")
        self.webhooks_delivered = counter("webhooks_delivered", "Webhooks the receiver accepted")
        self.purges_failed = counter("purges_failed", "Purges the proxy did not acknowledge")
        self.libvips_failures = counter(
            "libvips_failures", "libvips failing on images that decode (answered 500: the server's fault)"
        )
        self.queue_depth = Gauge(
            "queue_depth", "Jobs waiting or running (as this API process counts them)",
            namespace=_PREFIX, registry=self.registry,
        )  # fmt: skip
        self.generation_seconds = Histogram(
            "generation_seconds", "Time to generate, moderate and store one image",
            namespace=_PREFIX, registry=self.registry, buckets=_GENERATION_BUCKETS,
        )  # fmt: skip
        # Per API key (id, name): what was asked (generate | upload | read), or why work was refused (rate |
        # quota). Only keys that exist get a series, so there are as many label sets as keys.
        self.api_key_requests = Counter(
            "api_key_requests", "Requests per API key", ["key", "name", "kind"],
            namespace=_PREFIX, registry=self.registry,
        )  # fmt: skip
        self.api_key_refusals = Counter(
            "api_key_refused", "Work refused per API key (rate limit, daily quota)",
            ["key", "name", "reason"], namespace=_PREFIX, registry=self.registry,
        )  # fmt: skip
        self.auth_refusals = Counter(
            "auth_refused", "Requests refused for their credentials (missing, invalid, revoked)", ["reason"],
            namespace=_PREFIX, registry=self.registry,
        )  # fmt: skip

    def observe_generation(self, seconds: float) -> None:
        self.generation_seconds.observe(seconds)

    def count_key(self, key_id: str, name: str, kind: str) -> None:
        self.api_key_requests.labels(key_id, name, kind).inc()

    def count_key_refusal(self, key_id: str, name: str, reason: str) -> None:
        self.api_key_refusals.labels(key_id, name, reason).inc()

    def count_auth_refusal(self, reason: str) -> None:
        self.auth_refusals.labels(reason).inc()

    def value(self, series: str) -> float:
        """A series' current value by its exposed name without the prefix, e.g. `jobs_done_total`."""
        found = self.registry.get_sample_value(f"{_PREFIX}_{series}")
        return 0.0 if found is None else found

    def render(self) -> bytes:
        return generate_latest(self.registry)
