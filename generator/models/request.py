"""What a client may ask the model for, validated once at the edge into a frozen value."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.security.text import check_text
from imgedge.generator.security.urls import check_webhook_url
from imgedge.url.errors import UrlError
from imgedge.url.prompt import ASPECTS, canonical_prompt
from imgedge.url.prompt import size_for_aspect as url_size_for_aspect

MAX_PROMPT_CHARS = 2000
MAX_SEED = 2**32 - 1
MODEL_MULTIPLE = 8


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    prompt: str
    width: int
    height: int
    seed: int
    steps: int
    guidance: float
    negative_prompt: str | None = None
    temporary: bool = False
    webhook_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GenerationRequest:
        return cls(**data)


def size_for_aspect(aspect: str) -> tuple[int, int]:
    """The original's size for an aspect ratio (imgedge.url.prompt holds the table prompt URLs share)."""
    try:
        return url_size_for_aspect(aspect)
    except UrlError:
        raise ApiError(422, f"aspect must be one of {', '.join(ASPECTS)}") from None


def model_size(width: int, height: int) -> tuple[int, int]:
    """What the model runs at for an original of this size: each side up to a multiple of 8 (what diffusion
    pipelines accept); the generator crops the centre back to width x height."""
    return -(-width // MODEL_MULTIPLE) * MODEL_MULTIPLE, -(-height // MODEL_MULTIPLE) * MODEL_MULTIPLE


def _int_field(body: dict[str, Any], name: str, default: int | None) -> int | None:
    value = body.get(name)
    if value is None:  # absent or null: the default
        return default
    # JSON has one number type: 64.0 is the integer 64 (as JSON Schema, and so /openapi.json, reads it).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(422, f"{name} must be an integer")
    return value


FIELDS = frozenset(
    {"prompt", "negative_prompt", "aspect", "width", "height", "seed", "steps", "guidance", "temporary",
     "webhook_url"}
)  # fmt: skip


def parse_generation_request(body: object, config: GeneratorConfig) -> GenerationRequest:
    if not isinstance(body, dict):
        raise ApiError(422, "request body must be a JSON object")
    unknown = sorted(str(k) for k in body if k not in FIELDS)
    if unknown:
        raise ApiError(422, f"unknown field {unknown[0][:40]!r} (fields: {', '.join(sorted(FIELDS))})")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(422, "prompt is required")
    check_text("prompt", prompt, max_chars=MAX_PROMPT_CHARS, multiline=True)
    # One spelling per prompt (NFC, trimmed): what the model reads and what makes requests identical.
    prompt = canonical_prompt(prompt)
    negative = body.get("negative_prompt")
    if negative is not None and not isinstance(negative, str):
        raise ApiError(422, f"negative_prompt must be a string of at most {MAX_PROMPT_CHARS} characters")
    if negative is not None:
        check_text("negative_prompt", negative, max_chars=MAX_PROMPT_CHARS, multiline=True)
        negative = canonical_prompt(negative)
    width, height = _size(body, config)
    seed = _int_field(body, "seed", None)
    if seed is None:
        seed = secrets.randbelow(MAX_SEED + 1)
    if not 0 <= seed <= MAX_SEED:
        raise ApiError(422, f"seed must be between 0 and {MAX_SEED}")
    steps = _int_field(body, "steps", config.default_steps)
    assert steps is not None
    if not 1 <= steps <= config.max_steps:
        raise ApiError(422, f"steps must be between 1 and {config.max_steps}")
    guidance = body.get("guidance", config.default_guidance)
    if isinstance(guidance, bool) or not isinstance(guidance, int | float) or not 0 <= guidance <= 30:
        raise ApiError(422, "guidance must be a number between 0 and 30")  # NaN compares false: refused
    temporary = body.get("temporary", False)
    if not isinstance(temporary, bool):
        raise ApiError(422, "temporary must be true or false")
    webhook = body.get("webhook_url")
    if webhook is not None and not isinstance(webhook, str):
        raise ApiError(422, "webhook_url must be an http(s) URL")
    if webhook is not None:
        check_webhook_url(webhook)
    return GenerationRequest(
        prompt=prompt, negative_prompt=negative or None, width=width, height=height, seed=seed, steps=steps,
        guidance=float(guidance), temporary=temporary, webhook_url=webhook,
    )  # fmt: skip


def _size(body: dict[str, Any], config: GeneratorConfig) -> tuple[int, int]:
    width = _int_field(body, "width", None)
    height = _int_field(body, "height", None)
    aspect = body.get("aspect")
    if width is None and height is None:
        if aspect is not None and not isinstance(aspect, str):
            raise ApiError(422, "aspect must be a string such as 16:9")
        width, height = (512, 512) if aspect is None else size_for_aspect(aspect)
        if max(width, height) > config.max_side:
            # The service's own default must not get past its limit either.
            raise ApiError(
                422, f"the default size, {width}x{height}, is over this service's longest side "
                f"({config.max_side}): give width and height",
            )  # fmt: skip
        return width, height
    if aspect is not None:
        raise ApiError(422, "give either aspect or width and height, not both")
    if width is None or height is None:
        raise ApiError(422, "give both width and height")
    for name, side in (("width", width), ("height", height)):
        if side % 8 or not 64 <= side <= config.max_side:
            raise ApiError(422, f"{name} must be a multiple of 8 between 64 and {config.max_side}")
    return width, height
