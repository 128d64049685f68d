"""The frozen transform spec and its one canonical string form."""

from __future__ import annotations

from dataclasses import dataclass

from imgedge.formats import AUTO
from imgedge.formats import FORMATS as OUTPUT_FORMATS

FITS = ("inside", "cover", "force", "pad")
FORMATS = (AUTO, *(f.name for f in OUTPUT_FORMATS))
GRAVITIES = ("ce", "no", "so", "ea", "we", "noea", "nowe", "soea", "sowe", "sm", "fp")
DEFAULT_BACKGROUND = "ffffff"


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

    def canonical(self, *, with_expiry: bool = True) -> str:
        """Options in a fixed order, defaults left out: the only input to signatures and cache keys."""
        parts: list[str] = []
        if self.crop is not None:
            parts.append("c:" + ":".join(str(v) for v in self.crop))
        if self.width:
            parts.append(f"w:{self.width}")
        if self.height:
            parts.append(f"h:{self.height}")
        if self.aspect is not None:
            parts.append(f"ar:{self.aspect[0]}:{self.aspect[1]}")
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
        if self.quality:
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
