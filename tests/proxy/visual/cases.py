"""What the visual references cover: transforms of the originals at common device sizes.

A device is a CSS width and a pixel ratio; its URL asks for `w:{css}/dpr:{ratio}`, as a srcset does. The hero
crop runs at every device size; the other transforms at two sizes each, so each fit, gravity, smart crop,
pad, rotation, output format and q:auto is checked at a phone size and a larger one without rendering
every combination (a 3840 px AVIF alone would take seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

CHROMIUM_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"

PHONE, PHONE_2X = (360, 1), (360, 2)
TABLET, TABLET_2X = (768, 1), (768, 2)
LAPTOP, LAPTOP_2X = (1280, 1), (1280, 2)
DESKTOP, DESKTOP_2X = (1920, 1), (1920, 2)
DEVICES = (PHONE, PHONE_2X, TABLET, TABLET_2X, LAPTOP, LAPTOP_2X, DESKTOP, DESKTOP_2X)


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    asset: str  # an original of originals.py, by its name without the suffix
    options: str  # the URL's options besides w and dpr
    devices: tuple[tuple[int, int], ...]
    accept: str = "*/*"
    # Render this width of the asset first and wait for q:auto to learn from it (same size class).
    learn_from_width: int = 0


@dataclass(frozen=True, slots=True)
class Render:
    case: Case
    css_width: int
    dpr: int

    @property
    def id(self) -> str:
        return f"{self.case.name}-{self.css_width}x{self.dpr}"

    @property
    def segments(self) -> list[str]:
        dpr = [f"dpr:{self.dpr}"] if self.dpr != 1 else []
        return [f"w:{self.css_width}", *dpr, *self.case.options.split("/")]


CASES = (
    Case("hero-cover", "sheet", "ar:16:9/fit:cover/f:jpeg", DEVICES),
    Case("inside-webp", "sheet", "f:webp", (PHONE, TABLET_2X)),
    Case("square-avif", "sheet", "ar:1:1/fit:cover/f:avif", (PHONE, PHONE_2X)),
    Case("smart-crop", "astronaut", "ar:16:9/fit:cover/g:sm/f:webp", (PHONE, TABLET)),
    Case("gravity-north", "portrait", "ar:1:1/fit:cover/g:no/f:jpeg", (PHONE_2X, TABLET)),
    Case("crop-rect", "sheet", "c:768:640:1536:1280/f:jpeg", (TABLET, LAPTOP)),
    Case("force", "sheet", "h:360/fit:force/f:png", (PHONE,)),
    Case("pad-transparent", "logo", "ar:16:9/fit:pad/bg:00000000/f:png", (PHONE, TABLET)),
    Case("pad-colour", "portrait", "ar:16:9/fit:pad/g:we/bg:1e3a5f/f:webp", (PHONE, LAPTOP)),
    Case("alpha-on-jpeg", "logo", "bg:f5c400/f:jpeg", (PHONE,)),
    Case("rotate-flop", "portrait", "rot:90/flop/f:jpeg", (PHONE, DESKTOP)),
    Case("auto-avif", "sheet", "f:auto", (PHONE, TABLET), accept=CHROMIUM_ACCEPT),
    Case("auto-webp", "portrait", "q:auto/f:webp", (PHONE_2X,)),
    Case("auto-webp-learned", "astronaut", "q:auto/f:webp", (PHONE,), learn_from_width=300),
)

RENDERS = tuple(Render(case, css, dpr) for case in CASES for css, dpr in case.devices)
