"""Counters for the metrics endpoint, in the Prometheus text format (no client library needed for a few)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Metrics:
    jobs_submitted: int = 0
    jobs_refused_queue_full: int = 0
    jobs_refused_rate_limited: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    model_invocations: int = 0
    generation_seconds_sum: float = 0.0
    generation_seconds_count: int = 0
    moderation_rejections: int = 0
    uploads_stored: int = 0
    uploads_refused: int = 0
    webhook_failures: int = 0
    purges_failed: int = 0
    queue_depth: int = 0

    def observe_generation(self, seconds: float) -> None:
        self.generation_seconds_sum += seconds
        self.generation_seconds_count += 1

    def render(self) -> str:
        lines = []
        counters = {
            "jobs_submitted_total": self.jobs_submitted,
            "jobs_refused_queue_full_total": self.jobs_refused_queue_full,
            "jobs_refused_rate_limited_total": self.jobs_refused_rate_limited,
            "jobs_done_total": self.jobs_done,
            "jobs_failed_total": self.jobs_failed,
            "model_invocations_total": self.model_invocations,
            "moderation_rejections_total": self.moderation_rejections,
            "uploads_stored_total": self.uploads_stored,
            "uploads_refused_total": self.uploads_refused,
            "webhook_failures_total": self.webhook_failures,
            "purges_failed_total": self.purges_failed,
        }
        for name, value in counters.items():
            lines += [f"# TYPE imgedge_generator_{name} counter", f"imgedge_generator_{name} {value}"]
        lines += [
            "# TYPE imgedge_generator_queue_depth gauge",
            f"imgedge_generator_queue_depth {self.queue_depth}",
        ]
        lines += [
            "# TYPE imgedge_generator_generation_seconds summary",
            f"imgedge_generator_generation_seconds_sum {self.generation_seconds_sum:.6f}",
            f"imgedge_generator_generation_seconds_count {self.generation_seconds_count}",
        ]
        return "\n".join(lines) + "\n"
