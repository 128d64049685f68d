"""What the generator needs from a model, whatever runs it: the seam where a new backend plugs in.

A backend turns one validated request into pixels; making them a canonical PNG with provenance, moderating
and storing it happen outside (imgedge.generator.generation), the same for every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.request import GenerationRequest


class ModelLoadError(RuntimeError):
    pass


# Told (steps done, steps in all) after each inference step, e.g. to draw progress.
StepCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    # height x width x 3, floats in [0, 1]
    pixels: np.ndarray
    # What the model's own safety checker said; None when it has none.
    flagged: bool | None


class ModelBackend(Protocol):
    @property
    def model_id(self) -> str: ...
    @property
    def model_hash(self) -> str:
        """Content hash of the weights and configuration, recorded in every asset's provenance."""
        ...

    @property
    def device(self) -> str: ...
    @property
    def scheduler_name(self) -> str: ...
    def generate(self, request: GenerationRequest, on_step: StepCallback | None = None) -> GeneratedImage:
        """Blocking; the same request (seed included) gives the same pixels."""
        ...

    def warm(self) -> None:
        """One minimal run, so one-time costs are paid before the first user arrives."""
        ...


class ModelBackendClass(Protocol):
    def load(self, config: GeneratorConfig) -> ModelBackend: ...


class ModelSlot:
    """The model this process runs, once loaded (the API starts serving health checks before that)."""

    def __init__(self, model: ModelBackend | None = None) -> None:
        self.model = model

    def require(self) -> ModelBackend:
        if self.model is None:
            raise RuntimeError("model is not loaded")
        return self.model
