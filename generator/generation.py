"""Run the pipeline for one request and turn its pixels into a canonical PNG that carries its provenance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvips

from imgedge.generator.canonical import Canonical, asset_id_for
from imgedge.generator.generation_request import GenerationRequest
from imgedge.generator.model_loader import LoadedModel
from imgedge.generator.png_provenance import TRAINED_ALGORITHMIC_MEDIA, embed
from imgedge.generator.store import Provenance
from imgedge.generator.version import software_version


@dataclass(frozen=True, slots=True)
class Generated:
    canonical: Canonical
    provenance: Provenance
    # None when the model has no safety checker to ask.
    flagged: bool | None


def provenance_for(model: LoadedModel, request: GenerationRequest) -> Provenance:
    return Provenance(
        origin="generated", model=model.model_id, model_hash=model.model_hash, prompt=request.prompt,
        negative_prompt=request.negative_prompt, seed=request.seed, steps=request.steps,
        guidance=request.guidance, scheduler=model.scheduler_name, software=software_version(),
    )  # fmt: skip


def run_pipeline(model: LoadedModel, request: GenerationRequest) -> tuple[np.ndarray, bool | None]:
    import torch

    # A CPU generator makes the starting noise identical on every device, so a seed means the same picture.
    generator = torch.Generator(device="cpu").manual_seed(request.seed)
    with torch.inference_mode():
        output = model.pipeline(
            prompt=request.prompt, negative_prompt=request.negative_prompt, width=request.width,
            height=request.height, num_inference_steps=request.steps, guidance_scale=request.guidance,
            generator=generator, output_type="np",
        )  # fmt: skip
    pixels = np.asarray(output.images[0])
    nsfw = getattr(output, "nsfw_content_detected", None)
    flagged = bool(nsfw[0]) if nsfw is not None else None
    return pixels, flagged


def encode_png(pixels: np.ndarray, fields: dict[str, str]) -> bytes:
    rgb = np.ascontiguousarray((np.clip(pixels, 0.0, 1.0) * 255).round().astype(np.uint8))
    height, width, bands = rgb.shape
    image = pyvips.Image.new_from_memory(rgb.tobytes(), width, height, bands, "uchar")
    image = image.copy(interpretation="srgb")
    png: bytes = image.write_to_buffer(".png", compression=6, keep="none")
    return embed(png, fields, TRAINED_ALGORITHMIC_MEDIA)


def generate(model: LoadedModel, request: GenerationRequest) -> Generated:
    pixels, flagged = run_pipeline(model, request)
    provenance = provenance_for(model, request)
    # Only inputs that determine the pixels go into the file (no timestamps), so same request → same bytes.
    fields = {
        "Software": provenance.software or "",
        "imgedge:model": model.model_id,
        "imgedge:model_hash": model.model_hash,
        "imgedge:prompt": request.prompt,
        "imgedge:negative_prompt": request.negative_prompt or "",
        "imgedge:seed": str(request.seed),
        "imgedge:steps": str(request.steps),
        "imgedge:guidance": repr(request.guidance),
        "imgedge:scheduler": model.scheduler_name,
        "imgedge:size": f"{request.width}x{request.height}",
    }
    png = encode_png(pixels, fields)
    canonical = Canonical(png=png, width=request.width, height=request.height, asset_id=asset_id_for(png))
    return Generated(canonical=canonical, provenance=provenance, flagged=flagged)


def warm(model: LoadedModel) -> None:
    """One minimal run, so kernel selection and allocator growth happen before the first user arrives."""
    warm_request = GenerationRequest(prompt="warm-up", width=64, height=64, seed=0, steps=1, guidance=1.0)
    run_pipeline(model, warm_request)
