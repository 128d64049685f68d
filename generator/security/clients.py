"""What a caller (generator/keys/records.py: an API key, the administrator, or anonymous) may ask for.

Anonymous callers get the IMGEDGE_ANON_* caps and a cap on their queued + running jobs, counted per address;
a key gets the caps on its record where it has them, else the service's maxima; the administrator gets the
maxima. A generation over a cap is refused with 403 naming it; one job too many in flight with 429."""

from __future__ import annotations

from dataclasses import dataclass

from imgedge.generator.errors import ApiError
from imgedge.generator.keys.records import Caller
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.security.limits import GeneratorLimits

ANON_MAX_PIXELS = "IMGEDGE_ANON_MAX_PIXELS"
ANON_MAX_STEPS = "IMGEDGE_ANON_MAX_STEPS"
KEY_MAX_PIXELS = "the key's --max-pixels"
KEY_MAX_STEPS = "the key's --max-steps"


@dataclass(frozen=True, slots=True)
class Caps:
    max_pixels: int
    max_steps: int
    max_jobs: int | None  # queued + running; None: no cap of its own (the queue's size still applies)
    # Whose caps these are and where each is set, for the refusal; "": only the service's maxima, which the
    # request parser enforces already.
    who: str = ""
    pixels_setting: str = ""
    steps_setting: str = ""


def caps_for(caller: Caller, limits: GeneratorLimits) -> Caps:
    if caller.anonymous:
        return Caps(
            min(limits.anon_max_pixels, limits.max_pixels), min(limits.anon_max_steps, limits.max_steps),
            limits.anon_max_jobs, "anonymous requests", ANON_MAX_PIXELS, ANON_MAX_STEPS,
        )  # fmt: skip
    key = caller.key
    if key is not None and (key.max_pixels is not None or key.max_steps is not None):
        return Caps(
            min(key.max_pixels or limits.max_pixels, limits.max_pixels),
            min(key.max_steps or limits.max_steps, limits.max_steps),
            None, f"API key {key.name!r}",
            KEY_MAX_PIXELS if key.max_pixels is not None else "",
            KEY_MAX_STEPS if key.max_steps is not None else "",
        )  # fmt: skip
    return Caps(limits.max_pixels, limits.max_steps, None)


def check_generation_caps(request: GenerationRequest, caps: Caps) -> None:
    pixels = request.width * request.height
    if caps.pixels_setting and pixels > caps.max_pixels:
        raise ApiError(
            403,
            f"{request.width}x{request.height} is {pixels} pixels; {caps.who} may ask for at most "
            f"{caps.max_pixels} ({caps.pixels_setting})",
        )
    if caps.steps_setting and request.steps > caps.max_steps:
        raise ApiError(403, f"{caps.who} may ask for at most {caps.max_steps} steps ({caps.steps_setting})")


def too_many_jobs(max_jobs: int) -> ApiError:
    return ApiError(
        429,
        f"this client already has {max_jobs} jobs queued or running (IMGEDGE_ANON_MAX_JOBS); retry when one "
        "finishes",
        {"Retry-After": "5"},
    )
