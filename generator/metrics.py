"""Counters for the metrics endpoint, in the Prometheus text format (no client library needed for a few)."""

from __future__ import annotations

from dataclasses import dataclass, field


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**values: str) -> str:
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in values.items()) + "}"


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
    # Per API key (id, name) and what was asked (generate | upload | read), or why it was refused (rate |
    # quota). Only keys that exist get a series, so the label sets stay as few as the keys.
    api_key_requests: dict[tuple[str, str, str], int] = field(default_factory=dict)
    api_key_refusals: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # Requests refused for their credentials: missing, invalid, revoked.
    auth_refusals: dict[str, int] = field(default_factory=dict)

    def count_key(self, key_id: str, name: str, kind: str) -> None:
        series = (key_id, name, kind)
        self.api_key_requests[series] = self.api_key_requests.get(series, 0) + 1

    def count_key_refusal(self, key_id: str, name: str, reason: str) -> None:
        series = (key_id, name, reason)
        self.api_key_refusals[series] = self.api_key_refusals.get(series, 0) + 1

    def count_auth_refusal(self, reason: str) -> None:
        self.auth_refusals[reason] = self.auth_refusals.get(reason, 0) + 1

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
        return "\n".join(lines + self._render_keys()) + "\n"

    def _render_keys(self) -> list[str]:
        lines = ["# TYPE imgedge_generator_api_key_requests_total counter"]
        for (key_id, name, kind), value in sorted(self.api_key_requests.items()):
            labels = _labels(key=key_id, name=name, kind=kind)
            lines.append(f"imgedge_generator_api_key_requests_total{labels} {value}")
        lines.append("# TYPE imgedge_generator_api_key_refused_total counter")
        for (key_id, name, reason), value in sorted(self.api_key_refusals.items()):
            labels = _labels(key=key_id, name=name, reason=reason)
            lines.append(f"imgedge_generator_api_key_refused_total{labels} {value}")
        lines.append("# TYPE imgedge_generator_auth_refused_total counter")
        for reason, value in sorted(self.auth_refusals.items()):
            lines.append(f"imgedge_generator_auth_refused_total{_labels(reason=reason)} {value}")
        return lines
