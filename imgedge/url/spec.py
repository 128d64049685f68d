"""The frozen transform spec and its one canonical string form."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields

from imgedge.formats import AUTO
from imgedge.formats import FORMATS as OUTPUT_FORMATS

# inside/cover/force/pad as before; clamp: cover that never upscales and never restores the box's ratio
# (each side at most the source's); outside: scale to cover the box without cropping; auto: cover when the
# source and the box have the same orientation, else inside.
FITS = ("inside", "cover", "force", "pad", "clamp", "outside", "auto")
FORMATS = (AUTO, *(f.name for f in OUTPUT_FORMATS))
COMPASS = ("ce", "no", "so", "ea", "we", "noea", "nowe", "soea", "sowe")
# sm: libvips attention; fp: a focal point in 0..1 of the image; fr: a focal region in source pixels.
GRAVITIES = (*COMPASS, "sm", "fp", "fr")
WATERMARK_POSITIONS = (*COMPASS, "re")  # re: repeated over the whole image
DEFAULT_BACKGROUND = "ffffff"
ORIG = -1  # a width or height of "orig": the source's own, known only once the source is read
# q:auto targets on the SSIMULACRA2 scale, whose documented anchors are 50 "medium", 70 "high" and 90
# "visually lossless" quality; `good` is the default. How they were chosen: docs/quality.md.
QUALITY_LEVELS = {"low": 50, "good": 70, "best": 80}
DEFAULT_QUALITY_TARGET = QUALITY_LEVELS["good"]
QUALITY_TARGET_RANGE = (10, 99)


def fmt_number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _dimension(value: int) -> str:
    return "orig" if value == ORIG else str(value)


@dataclass(frozen=True, slots=True)
class CropArea:
    """A `width` x `height` area of the source placed by gravity (0: the whole side; below 1: a fraction)."""

    width: float
    height: float
    gravity: str = "ce"
    focus: tuple[float, float] | None = None

    def canonical(self) -> str:
        place = f"fp:{fmt_number(self.focus[0])}:{fmt_number(self.focus[1])}" if self.focus else self.gravity
        return f"c:{fmt_number(self.width)}:{fmt_number(self.height)}:{place}"


@dataclass(frozen=True, slots=True)
class Watermark:
    """An image laid over the result: an asset id or an allowed source URL, fetched like originals."""

    mark: str
    opacity: float = 1.0
    position: str = "ce"
    x: str = "0"  # offset from the anchored edge in px, or "Np": N percent of the result's width
    y: str = "0"
    width_ratio: float = 0.0  # the mark fits inside this fraction of the result (0: its own size)
    height_ratio: float = 0.0

    def canonical(self) -> str:
        numbers = (self.opacity, self.position, self.x, self.y, self.width_ratio, self.height_ratio)
        text = ":".join(fmt_number(n) if isinstance(n, float) else n for n in numbers)
        return f"wm:{text}:{encode_mark(self.mark)}"


def encode_mark(mark: str) -> str:
    """Asset ids stand as they are; URLs as `url.` + unpadded base64url (an asset id never has a dot)."""
    if "://" not in mark:
        return mark
    return "url." + base64.urlsafe_b64encode(mark.encode()).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class TransformSpec:
    width: int = 0
    height: int = 0
    fit: str = "inside"
    gravity: str = "ce"
    focus: tuple[float, float] | None = None
    crop: tuple[int, int, int, int] | None = None
    aspect: tuple[int, int] | None = None
    enlarge: bool = False
    rotate: int = 0
    flip: bool = False
    flop: bool = False
    blur: float = 0.0
    sharpen: float = 0.0
    background: str = DEFAULT_BACKGROUND
    quality: int = 0
    format: str = "auto"
    strip: bool = True
    expires: int = 0
    trim: tuple[float, str] | None = None  # threshold, reference: "" (top-left pixel), "br" or a hex colour
    area: CropArea | None = None
    region: tuple[int, int, int, int] | None = None  # gravity fr: left, top, right, bottom in source px
    extend: bool = False  # pad up to the box when the resized image is smaller
    adaptive: bool = False  # swap the box's sides when its orientation differs from the source's
    brightness: int = 0  # -100..100: percent of full scale added to every channel
    contrast: int = 0  # -100..100
    grayscale: bool = False
    round_corner: tuple[int, int, str] | None = None  # radii x and y, corner colour (rrggbb00: transparent)
    watermark: Watermark | None = None
    max_bytes: int = 0  # lossy formats lower their quality until the body fits
    flatten: bool = False  # lay alpha onto `background` whatever the format (else only for formats without)
    # q:auto: the perceptual target the encoder quality is chosen for (0: a fixed quality).
    quality_target: int = 0
    # w:auto / dpr:auto: sizes from client hints where the proxy honours them; `width` is then the fallback.
    width_auto: bool = False
    dpr_auto: bool = False
    # The hash, once computed (0: not yet; `dataclasses.replace` starts the new spec at 0). A spec keys
    # several memos on a cache hit's path, and hashing its fields costs about 0.4 µs each time. Not pickled
    # anywhere: a string's hash differs between processes.
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        cached = self._hash
        if not cached:
            cached = hash(tuple(getattr(self, name) for name in _SPEC_FIELDS)) or 1
            object.__setattr__(self, "_hash", cached)
        return cached

    def canonical(self, *, with_expiry: bool = True) -> str:
        """Options in a fixed order, defaults left out: the only input to signatures and cache keys."""
        parts = [*self._geometry(), *self._filters()]
        if self.background != DEFAULT_BACKGROUND:
            parts.append(f"bg:{self.background}")
        if self.flatten:
            parts.append("fl:1")
        if self.quality_target:
            parts.append(quality_target_text(self.quality_target))
        elif self.quality:
            parts.append(f"q:{self.quality}")
        if self.max_bytes:
            parts.append(f"mb:{self.max_bytes}")
        if self.format != "auto":
            parts.append(f"f:{self.format}")
        if not self.strip:
            parts.append("strip:0")
        if with_expiry and self.expires:
            parts.append(f"exp:{self.expires}")
        return "/".join(parts)

    def _geometry(self) -> list[str]:
        parts: list[str] = []
        if self.trim is not None:
            threshold, reference = self.trim
            parts.append(":".join(p for p in ("t", fmt_number(threshold), reference) if p))
        if self.crop is not None:
            parts.append("c:" + ":".join(str(v) for v in self.crop))
        elif self.area is not None:
            parts.append(self.area.canonical())
        if self.width_auto:
            parts.append(f"w:auto:{self.width}" if self.width else "w:auto")
        elif self.width:
            parts.append(f"w:{_dimension(self.width)}")
        if self.height:
            parts.append(f"h:{_dimension(self.height)}")
        if self.aspect is not None:
            parts.append(f"ar:{self.aspect[0]}:{self.aspect[1]}")
        if self.dpr_auto:
            parts.append("dpr:auto")
        if self.fit != "inside":
            parts.append(f"fit:{self.fit}")
        if self.extend:
            parts.append("ex:1")
        if self.adaptive:
            parts.append("ad:1")
        if self.gravity == "fp" and self.focus is not None:
            parts.append(f"g:fp:{fmt_number(self.focus[0])}:{fmt_number(self.focus[1])}")
        elif self.gravity == "fr" and self.region is not None:
            parts.append("g:fr:" + ":".join(str(v) for v in self.region))
        elif self.gravity != "ce":
            parts.append(f"g:{self.gravity}")
        if self.enlarge:
            parts.append("el:1")
        return parts

    def _filters(self) -> list[str]:
        flags = (
            (self.rotate, f"rot:{self.rotate}"), (self.flip, "flip:1"), (self.flop, "flop:1"),
            (self.blur, f"bl:{fmt_number(self.blur)}"), (self.sharpen, f"sh:{fmt_number(self.sharpen)}"),
            (self.brightness, f"br:{self.brightness}"), (self.contrast, f"co:{self.contrast}"),
            (self.grayscale, "gs:1"),
        )  # fmt: skip
        parts = [text for on, text in flags if on]
        if self.round_corner is not None:
            parts.append("rc:" + ":".join(str(v) for v in self.round_corner))
        if self.watermark is not None:
            parts.append(self.watermark.canonical())
        return parts

    @property
    def resizes(self) -> bool:
        return bool(self.width or self.height)

    @property
    def uses_hints(self) -> bool:
        return self.width_auto or self.dpr_auto


_SPEC_FIELDS = tuple(f.name for f in fields(TransformSpec) if f.compare)

_LEVEL_NAMES = {target: name for name, target in QUALITY_LEVELS.items()}


def quality_target_text(target: int) -> str:
    """`q:auto` for the default target, `q:auto:low` / `q:auto:best` for the other levels, else the number."""
    if target == DEFAULT_QUALITY_TARGET:
        return "q:auto"
    return f"q:auto:{_LEVEL_NAMES.get(target, target)}"
