"""Model backends by name, and loading the configured one."""

from __future__ import annotations

import logging
import time

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.backend import ModelBackend, ModelBackendClass, ModelLoadError
from imgedge.generator.models.diffusers_directory import DiffusersDirectoryBackend

log = logging.getLogger("imgedge.generator")

# Name → implementation; another backend (a remote inference API, another runtime) is one more row.
MODEL_BACKENDS: dict[str, ModelBackendClass] = {"diffusers": DiffusersDirectoryBackend}
DEFAULT_BACKEND = "diffusers"


def load_model(config: GeneratorConfig, backend: str = DEFAULT_BACKEND) -> ModelBackend:
    if backend not in MODEL_BACKENDS:
        raise ModelLoadError(f"unknown model backend {backend!r}; known: {', '.join(MODEL_BACKENDS)}")
    return MODEL_BACKENDS[backend].load(config)


def load_and_warm(config: GeneratorConfig) -> ModelBackend:
    started = time.perf_counter()
    model = load_model(config)
    loaded = time.perf_counter()
    if config.warm_on_start:
        model.warm()
    log.info(
        "model %s ready on %s in %.2f s (load %.2f s, hash %s)",
        model.model_id, model.device, time.perf_counter() - started, loaded - started, model.model_hash[:12],
    )  # fmt: skip
    return model
