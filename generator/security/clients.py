"""Who is asking, and what that allows: today every client of the API is anonymous, known by its address
(imgedge.web.clients decides which), except the administrator; API keys will be a third kind with caps of
their own. A generation over a cap is refused with 403 naming it; one job too many in flight with 429."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from imgedge.generator.errors import ApiError
from imgedge.generator.http.auth import bearer_matches
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.security.limits import GeneratorLimits


@dataclass(frozen=True, slots=True)
class Client:
    owner: str  # what jobs are counted under: "anon:<address>", "admin"
    anonymous: bool


@dataclass(frozen=True, slots=True)
class Caps:
    max_pixels: int
    max_steps: int
    max_jobs: int | None  # queued + running; None: no cap of its own (the queue's size still applies)
    pixels_setting: str = ""
    steps_setting: str = ""


def client_of(request: Request, admin_token: str, proxy_token: str = "") -> Client:
    if bearer_matches(request, admin_token):
        return Client("admin", anonymous=False)
    # The proxy resolving prompt URLs: every one was signed by a holder of the proxy's signing keys.
    if bearer_matches(request, proxy_token):
        return Client("proxy", anonymous=False)
    address = request.client.host if request.client else "unknown"
    return Client(f"anon:{address}", anonymous=True)


def caps_for(client: Client, limits: GeneratorLimits) -> Caps:
    if client.anonymous:
        return Caps(
            min(limits.anon_max_pixels, limits.max_pixels), min(limits.anon_max_steps, limits.max_steps),
            limits.anon_max_jobs, "IMGEDGE_ANON_MAX_PIXELS", "IMGEDGE_ANON_MAX_STEPS",
        )  # fmt: skip
    return Caps(limits.max_pixels, limits.max_steps, None)


def check_generation_caps(request: GenerationRequest, caps: Caps) -> None:
    pixels = request.width * request.height
    if caps.pixels_setting and pixels > caps.max_pixels:
        raise ApiError(
            403,
            f"{request.width}x{request.height} is {pixels} pixels; anonymous requests may ask for at most "
            f"{caps.max_pixels} ({caps.pixels_setting})",
        )
    if caps.steps_setting and request.steps > caps.max_steps:
        raise ApiError(
            403, f"anonymous requests may ask for at most {caps.max_steps} steps ({caps.steps_setting})"
        )


def too_many_jobs(max_jobs: int) -> ApiError:
    return ApiError(
        429,
        f"this client already has {max_jobs} jobs queued or running (IMGEDGE_ANON_MAX_JOBS); retry when one "
        "finishes",
        {"Retry-After": "5"},
    )
