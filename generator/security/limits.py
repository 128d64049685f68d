"""The generator's sizes and caps as one frozen value, built from its config, and which route may send how
many bytes (the BodyLimit middleware asks before anything is read)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Scope

from imgedge.generator.config import GeneratorConfig

UPLOAD_PREFIX = "/v1/uploads/"


@dataclass(frozen=True, slots=True)
class GeneratorLimits:
    max_json_bytes: int
    max_upload_bytes: int
    max_pixels: int  # any client: IMGEDGE_MAX_SIDE squared
    max_steps: int
    anon_max_pixels: int
    anon_max_steps: int
    anon_max_jobs: int

    @classmethod
    def from_config(cls, config: GeneratorConfig) -> GeneratorLimits:
        return cls(
            max_json_bytes=config.max_json_bytes,
            max_upload_bytes=config.max_upload_bytes,
            max_pixels=config.max_side * config.max_side,
            max_steps=config.max_steps,
            anon_max_pixels=config.anon_max_pixels,
            anon_max_steps=config.anon_max_steps or config.default_steps,
            anon_max_jobs=config.anon_max_jobs,
        )

    def body_limit(self, scope: Scope) -> int:
        if scope["method"] == "PUT" and scope["path"].startswith(UPLOAD_PREFIX):
            return self.max_upload_bytes
        return self.max_json_bytes
