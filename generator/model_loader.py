"""Load a diffusers text-to-image pipeline from a local directory: the tiny built-in one or a real model."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.model_hash import hash_model_dir
from imgedge.generator.tiny_model import ensure_tiny_model

log = logging.getLogger("imgedge.generator")

TINY_MODEL_ID = "imgedge/tiny-random-sd"


class ModelLoadError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class LoadedModel:
    pipeline: Any
    model_id: str
    model_hash: str
    device: str
    dtype: str
    has_safety_checker: bool
    load_seconds: float

    @property
    def scheduler_name(self) -> str:
        return type(self.pipeline.scheduler).__name__


def _quiet_libraries() -> None:
    # Progress bars and hub chatter would interleave with the service log on every request.
    from diffusers.utils import logging as diffusers_log
    from transformers.utils import logging as transformers_log

    diffusers_logging: Any = diffusers_log  # unannotated modules
    transformers_logging: Any = transformers_log
    diffusers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()


def _dtype_argument(dtype: object) -> dict[str, object]:
    # diffusers renamed `torch_dtype` to `dtype` (as transformers did); older releases know only the former.
    from diffusers.utils import deprecation_utils

    renamed = hasattr(deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE")
    return {"dtype": dtype} if renamed else {"torch_dtype": dtype}


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("IMGEDGE_DEVICE=cuda but torch sees no CUDA device")
    return requested


def model_dir_for(config: GeneratorConfig) -> tuple[Path, str]:
    if config.model:
        return Path(config.model).expanduser(), config.model
    _quiet_libraries()
    ensure_tiny_model(config.tiny_model_dir)
    return config.tiny_model_dir, TINY_MODEL_ID


def load_model(config: GeneratorConfig) -> LoadedModel:
    started = time.perf_counter()
    model_dir, model_id = model_dir_for(config)
    if not (model_dir / "model_index.json").exists():
        raise ModelLoadError(
            f"IMGEDGE_MODEL={model_dir} is not a diffusers model directory (no model_index.json)"
        )
    import diffusers
    import torch

    pipeline_class: Any = diffusers.DiffusionPipeline

    _quiet_libraries()
    device = pick_device(config.device)
    dtype = torch.float16 if device == "cuda" else torch.float32
    try:
        pipeline = pipeline_class.from_pretrained(model_dir, local_files_only=True, **_dtype_argument(dtype))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the model in {model_dir}: {exc}") from exc
    pipeline = pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    model_hash = hash_model_dir(model_dir, config.data_dir / "models" / "hashes.json")
    return LoadedModel(
        pipeline=pipeline,
        model_id=model_id,
        model_hash=model_hash,
        device=device,
        dtype=str(dtype).removeprefix("torch."),
        has_safety_checker=getattr(pipeline, "safety_checker", None) is not None,
        load_seconds=time.perf_counter() - started,
    )
