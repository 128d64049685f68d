"""The frozen transform spec and its one canonical string form."""

from __future__ import annotations

from dataclasses import dataclass

from imgedge.formats import AUTO
from imgedge.formats import FORMATS as OUTPUT_FORMATS

FITS = ("inside", "cover", "force", "pad")
FORMATS = (AUTO, *(f.name for f in OUTPUT_FORMATS))
GRAVITIES = ("ce", "no", "so", "ea", "we", "noea", "nowe", "soea", "sowe", "sm", "fp")
DEFAULT_BACKGROUND = "ffffff"
# q:auto targets on the SSIMULACRA2 scale, whose documented anchors are 50 "medium", 70 "high" and 90
# "visually lossless" quality; `good` is the default. How they were chosen: docs/quality.md.
QUALITY_LEVELS = {"low": 50, "good": 70, "best": 80}
DEFAULT_QUALITY_TARGET = QUALITY_LEVELS["good"]
QUALITY_TARGET_RANGE = (10, 99)


def fmt_number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


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
    # q:auto: the perceptual target the encoder quality is chosen for (0: a fixed quality).
    quality_target: int = 0
    # w:auto / dpr:auto: sizes from client hints where the proxy honours them; `width` is then the fallback.
    width_auto: bool = False
    dpr_auto: bool = False

    def canonical(self, *, with_expiry: bool = True) -> str:
        """Options in a fixed order, defaults left out: the only input to signatures and cache keys."""
        parts: list[str] = []
        if self.crop is not None:
            parts.append("c:" + ":".join(str(v) for v in self.crop))
        if self.width_auto:
            parts.append(f"w:auto:{self.width}" if self.width else "w:auto")
        elif self.width:
            parts.append(f"w:{self.width}")
        if self.height:
            parts.append(f"h:{self.height}")
        if self.aspect is not None:
            parts.append(f"ar:{self.aspect[0]}:{self.aspect[1]}")
        if self.dpr_auto:
            parts.append("dpr:auto")
        if self.fit != "inside":
            parts.append(f"fit:{self.fit}")
        if self.gravity == "fp" and self.focus is not None:
            parts.append(f"g:fp:{fmt_number(self.focus[0])}:{fmt_number(self.focus[1])}")
        elif self.gravity != "ce":
            parts.append(f"g:{self.gravity}")
        if self.enlarge:
            parts.append("el:1")
        if self.rotate:
            parts.append(f"rot:{self.rotate}")
        if self.flip:
            parts.append("flip:1")
        if self.flop:
            parts.append("flop:1")
        if self.blur:
            parts.append(f"bl:{fmt_number(self.blur)}")
        if self.sharpen:
            parts.append(f"sh:{fmt_number(self.sharpen)}")
        if self.background != DEFAULT_BACKGROUND:
            parts.append(f"bg:{self.background}")
        if self.quality_target:
            parts.append(quality_target_text(self.quality_target))
        elif self.quality:
            parts.append(f"q:{self.quality}")
        if self.format != "auto":
            parts.append(f"f:{self.format}")
        if not self.strip:
            parts.append("strip:0")
        if with_expiry and self.expires:
            parts.append(f"exp:{self.expires}")
        return "/".join(parts)

    @property
    def resizes(self) -> bool:
        return bool(self.width or self.height)

    @property
    def uses_hints(self) -> bool:
        return self.width_auto or self.dpr_auto


_LEVEL_NAMES = {target: name for name, target in QUALITY_LEVELS.items()}


def quality_target_text(target: int) -> str:
    """`q:auto` for the default target, `q:auto:low` / `q:auto:best` for the other levels, else the number."""
    if target == DEFAULT_QUALITY_TARGET:
        return "q:auto"
    return f"q:auto:{_LEVEL_NAMES.get(target, target)}"
