"""Prompt URLs: a transform of the image a generation request makes, named by that request, not an asset id.

    /gen/{signature}/{options…}/{width}x{height}-{seed}-{prompt}[.ext]

`prompt` is the unpadded base64url of the prompt's UTF-8 in its canonical form (Unicode NFC, leading and
trailing ASCII whitespace removed). The signature is HMAC-SHA256, as for asset URLs, over
`/gen/{canonical options}/{generation}` (or `/gen/{generation}` without options), so only holders of a
signing key can mint one and the proxy never spends generation on a URL nobody signed. Exactly one spelling
parses: no padding, no leading zeros, no prompt that is not already canonical.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import unicodedata
from dataclasses import dataclass

from imgedge.url.errors import UrlError
from imgedge.url.parse import ParseSettings, parse_options
from imgedge.url.signing import signature_for, signed_message

PROMPT_PREFIX = "gen"
# Characters stripped from both ends of a prompt: ASCII whitespace, which every language trims alike.
TRIMMED = " \t\n\r\f\v"
MAX_PROMPT_BYTES = 2000  # UTF-8; the segment then stays under 2,700 characters, inside any CDN's URL limit
MAX_SEED = 2**32 - 1
MIN_SIDE, MAX_SIDE, SIDE_MULTIPLE = 64, 2048, 8

ASPECTS = {"1:1": (1, 1), "16:9": (16, 9), "9:16": (9, 16), "4:3": (4, 3), "3:4": (3, 4)}
# The area an aspect ratio scales from: 512² is the native size of the SD 1.x/Turbo family.
BASE_AREA = 512 * 512

_GENERATION = re.compile(r"(0|[1-9][0-9]{0,4})x(0|[1-9][0-9]{0,4})-(0|[1-9][0-9]{0,9})-([A-Za-z0-9_-]+)")


def canonical_prompt(prompt: str) -> str:
    return unicodedata.normalize("NFC", prompt).strip(TRIMMED)


def size_for_aspect(aspect: str) -> tuple[int, int]:
    """The original's size for an aspect ratio: exactly that ratio (16:9 → 672x378), the largest such size
    inside the multiple-of-64 size near 512² (multiples of 64 keep the latent grid divisible)."""
    if aspect not in ASPECTS:
        raise UrlError(f"aspect must be one of {', '.join(ASPECTS)}")
    w, h = ASPECTS[aspect]
    scale = math.sqrt(BASE_AREA / (w * h))
    near_w, near_h = max(64, round(w * scale / 64) * 64), max(64, round(h * scale / 64) * 64)
    k = min(near_w // w, near_h // h)
    return w * k, h * k


def aspect_of(width: int, height: int) -> str | None:
    """The aspect ratio whose size this is, if any (those sizes need not be multiples of 8)."""
    return ASPECT_SIZES.get((width, height))


ASPECT_SIZES = {size_for_aspect(aspect): aspect for aspect in ASPECTS}


@dataclass(frozen=True, slots=True)
class Generation:
    """What a prompt URL asks the generator for; steps, guidance and the model are the generator's own."""

    prompt: str
    seed: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if not self.prompt or canonical_prompt(self.prompt) != self.prompt:
            raise UrlError("prompt must be non-empty, NFC and without surrounding whitespace")
        if len(self.prompt.encode("utf-8")) > MAX_PROMPT_BYTES:
            raise UrlError(f"prompt: at most {MAX_PROMPT_BYTES} bytes of UTF-8 in a prompt URL")
        if not all(ch.isprintable() or ch in "\n\t" for ch in self.prompt):
            raise UrlError("prompt: control characters are not allowed")
        if not 0 <= self.seed <= MAX_SEED:
            raise UrlError(f"seed must be between 0 and {MAX_SEED}")
        if aspect_of(self.width, self.height) is not None:
            return
        for name, side in (("width", self.width), ("height", self.height)):
            if side % SIDE_MULTIPLE or not MIN_SIDE <= side <= MAX_SIDE:
                raise UrlError(f"{name} must be a multiple of 8 between {MIN_SIDE} and {MAX_SIDE}")

    @classmethod
    def of(cls, prompt: str, seed: int, width: int, height: int) -> Generation:
        return cls(canonical_prompt(prompt), seed, width, height)

    def segment(self) -> str:
        encoded = base64.urlsafe_b64encode(self.prompt.encode("utf-8")).rstrip(b"=").decode("ascii")
        return f"{self.width}x{self.height}-{self.seed}-{encoded}"

    def request_body(self) -> dict[str, object]:
        """The generator API's `POST /v1/images` body for this generation (an aspect's size by its name)."""
        aspect = aspect_of(self.width, self.height)
        size: dict[str, object] = (
            {"aspect": aspect} if aspect is not None else {"width": self.width, "height": self.height}
        )
        return {"prompt": self.prompt, "seed": self.seed, **size}


def parse_generation(segment: str) -> Generation:
    match = _GENERATION.fullmatch(segment)
    if match is None:
        raise UrlError("expected {width}x{height}-{seed}-{base64url prompt}")
    width, height, seed, encoded = match.groups()
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        prompt = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise UrlError("prompt: not base64url of UTF-8 text") from None
    generation = Generation(prompt, int(seed), int(width), int(height))
    if generation.segment() != segment:  # trailing bits, or a prompt that is not canonical
        raise UrlError("prompt: not in its one canonical spelling")
    return generation


def prompt_message(canonical_options: str, generation: Generation) -> bytes:
    return f"/{PROMPT_PREFIX}".encode() + signed_message(canonical_options, generation.segment())


def build_prompt_path(
    generation: Generation,
    *,
    key: bytes,
    options: list[str] | tuple[str, ...] = (),
    settings: ParseSettings | None = None,
) -> str:
    """`/gen/{signature}/{canonical options}/{generation}`; always signed (there is no unsigned form)."""
    canonical = parse_options(list(options), settings or ParseSettings()).canonical()
    signature = signature_for(key, prompt_message(canonical, generation))
    return "/" + "/".join(filter(None, (PROMPT_PREFIX, signature, canonical, generation.segment())))
