"""A diffusers text-to-image pipeline from a local directory: IMGEDGE_MODEL, or the tiny built-in one."""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.backend import GeneratedImage, ModelLoadError, StepCallback
from imgedge.generator.models.model_hash import hash_model_dir
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.models.tiny import ensure_tiny_model

log = logging.getLogger("imgedge.generator")

TINY_MODEL_ID = "imgedge/tiny-random-sd"
_WARM_REQUEST = GenerationRequest(prompt="warm-up", width=64, height=64, seed=0, steps=1, guidance=1.0)


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
    """The configured directory and its id; without one, the tiny built-in model (built on first use)."""
    if config.model:
        return Path(config.model).expanduser(), config.model
    _quiet_libraries()
    ensure_tiny_model(config.tiny_model_dir)
    return config.tiny_model_dir, TINY_MODEL_ID


def _from_pretrained(model_dir: Path, device: str) -> tuple[Any, str]:
    import diffusers
    import torch

    pipeline_class: Any = diffusers.DiffusionPipeline
    dtype = torch.float16 if device == "cuda" else torch.float32
    try:
        pipeline = pipeline_class.from_pretrained(model_dir, local_files_only=True, **_dtype_argument(dtype))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the model in {model_dir}: {exc}") from exc
    pipeline = pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline, str(dtype).removeprefix("torch.")


def _step_callback(pipeline: Any, steps: int, on_step: StepCallback | None) -> dict[str, Any]:
    """diffusers' per-step hook, for pipelines that have one (most text-to-image pipelines do)."""
    if on_step is None or "callback_on_step_end" not in inspect.signature(pipeline.__call__).parameters:
        return {}

    def hook(_pipe: Any, step: int, _timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        on_step(step + 1, steps)
        return kwargs

    return {"callback_on_step_end": hook}


@dataclass(frozen=True, slots=True)
class DiffusersDirectoryBackend:
    pipeline: Any
    model_id: str
    model_hash: str
    device: str
    dtype: str
    load_seconds: float

    @classmethod
    def load(cls, config: GeneratorConfig) -> DiffusersDirectoryBackend:
        started = time.perf_counter()
        model_dir, model_id = model_dir_for(config)
        if not (model_dir / "model_index.json").exists():
            raise ModelLoadError(
                f"IMGEDGE_MODEL={model_dir} is not a diffusers model directory (no model_index.json)"
            )
        _quiet_libraries()
        device = pick_device(config.device)
        pipeline, dtype = _from_pretrained(model_dir, device)
        model_hash = hash_model_dir(model_dir, config.data_dir / "models" / "hashes.json")
        log.info(
            "diffusers pipeline %s from %s on %s (%s)", type(pipeline).__name__, model_dir, device, dtype
        )
        return cls(pipeline, model_id, model_hash, device, dtype, time.perf_counter() - started)

    @property
    def scheduler_name(self) -> str:
        return type(self.pipeline.scheduler).__name__

    @property
    def has_safety_checker(self) -> bool:
        return getattr(self.pipeline, "safety_checker", None) is not None

    def generate(self, request: GenerationRequest, on_step: StepCallback | None = None) -> GeneratedImage:
        import torch

        # A CPU generator makes the starting noise the same on every device, so a seed means the same picture.
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        with torch.inference_mode():
            output = self.pipeline(
                prompt=request.prompt, negative_prompt=request.negative_prompt, width=request.width,
                height=request.height, num_inference_steps=request.steps, guidance_scale=request.guidance,
                generator=generator, output_type="np",
                **_step_callback(self.pipeline, request.steps, on_step),
            )  # fmt: skip
        nsfw = getattr(output, "nsfw_content_detected", None)
        return GeneratedImage(
            pixels=np.asarray(output.images[0]), flagged=bool(nsfw[0]) if nsfw is not None else None
        )

    def warm(self) -> None:
        # Kernel selection and allocator growth happen here rather than in the first user's request.
        self.generate(_WARM_REQUEST)
