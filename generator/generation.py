"""The one way an image is made: generate → canonical PNG with provenance → moderate → store.

The API's jobs (in-process or on `imgedge worker` processes) and `imgedge generate` all call make_asset.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from imgedge.generator.assets.canonical import Canonical, canonical_from_pixels
from imgedge.generator.assets.moderation import ModerationPolicy, Verdict
from imgedge.generator.assets.png_provenance import TRAINED_ALGORITHMIC_MEDIA
from imgedge.generator.assets.records import AssetRecord, Provenance, expiry
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.models.backend import ModelBackend, StepCallback
from imgedge.generator.models.request import GenerationRequest, model_size
from imgedge.generator.version import software_version


@dataclass(frozen=True, slots=True)
class Generated:
    canonical: Canonical
    provenance: Provenance
    # None when the model has no safety checker to ask.
    flagged: bool | None


@dataclass(frozen=True, slots=True)
class MadeAsset:
    record: AssetRecord
    verdict: Verdict
    generation_seconds: float


def provenance_for(model: ModelBackend, request: GenerationRequest) -> Provenance:
    return Provenance(
        origin="generated", model=model.model_id, model_hash=model.model_hash, prompt=request.prompt,
        negative_prompt=request.negative_prompt, seed=request.seed, steps=request.steps,
        guidance=request.guidance, scheduler=model.scheduler_name, software=software_version(),
    )  # fmt: skip


def png_text(provenance: Provenance, request: GenerationRequest) -> dict[str, str]:
    # Only inputs that determine the pixels go into the file (no timestamps), so same request → same bytes.
    return {
        "Software": provenance.software or "",
        "imgedge:model": provenance.model or "",
        "imgedge:model_hash": provenance.model_hash or "",
        "imgedge:prompt": request.prompt,
        "imgedge:negative_prompt": request.negative_prompt or "",
        "imgedge:seed": str(request.seed),
        "imgedge:steps": str(request.steps),
        "imgedge:guidance": repr(request.guidance),
        "imgedge:scheduler": provenance.scheduler or "",
        "imgedge:size": f"{request.width}x{request.height}",
    }


def generate(
    model: ModelBackend, request: GenerationRequest, on_step: StepCallback | None = None
) -> Generated:
    # The model takes multiples of 8; the exact requested ratio comes from a centre crop.
    width, height = model_size(request.width, request.height)
    sized = replace(request, width=width, height=height)
    image = model.generate(sized, on_step) if on_step is not None else model.generate(sized)
    pixels = centre_crop(image.pixels, request.width, request.height)
    provenance = provenance_for(model, request)
    canonical = canonical_from_pixels(pixels, png_text(provenance, request), TRAINED_ALGORITHMIC_MEDIA)
    return Generated(canonical=canonical, provenance=provenance, flagged=image.flagged)


def centre_crop(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """An exact aspect ratio out of the model's slightly larger frame (see model_size)."""
    top, left = (pixels.shape[0] - height) // 2, (pixels.shape[1] - width) // 2
    return pixels[top : top + height, left : left + width]


def make_asset(
    model: ModelBackend,
    request: GenerationRequest,
    policy: ModerationPolicy,
    store: AssetStore,
    *,
    temporary_ttl_s: float,
    on_step: StepCallback | None = None,
) -> MadeAsset:
    """Blocking (model, encoder, file and database work): run it off the event loop."""
    started = time.perf_counter()
    generated = generate(model, request, on_step)
    seconds = time.perf_counter() - started
    verdict = policy.check_generated(request.prompt, generated.flagged)
    record = store.put(
        generated.canonical,
        generated.provenance,
        moderation=verdict.state,
        moderation_reason=verdict.reason,
        temporary=request.temporary,
        expires_at=expiry(request.temporary, temporary_ttl_s),
    )
    return MadeAsset(record=record, verdict=verdict, generation_seconds=seconds)
