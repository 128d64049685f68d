"""A generation job as clients see it: its request, where it stands, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imgedge.generator.models.request import GenerationRequest

JOB_STATES = ("queued", "running", "done", "failed")
SETTLED_STATES = ("done", "failed")


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    status: str
    request: GenerationRequest
    asset_id: str | None
    error: str | None
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "asset_id": self.asset_id,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "request": {k: v for k, v in self.request.to_json().items() if k != "webhook_url"},
        }
