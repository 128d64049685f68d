"""Shared test vectors for every client of the URL grammar: options → canonical string → signature.

The Python package is the reference: this module computes the vectors from `imgedge.url`, the Python test
(`tests/url/test_vectors.py`) fails when the committed file differs, and the JavaScript client's tests
(`clients/js/test/`) check their own results against the same file. Regenerate after a grammar change:

    .venv/bin/python -m tests.url.vectors
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from imgedge.formats import SPELLINGS
from imgedge.url import ParseSettings, parse_options
from imgedge.url.build import build_path, srcset
from imgedge.url.errors import OptionError, UrlError
from imgedge.url.parse import _FIT_ALIASES, _GRAVITY_ALIASES, ALIASES
from imgedge.url.prompt import Generation, build_prompt_path, size_for_aspect
from imgedge.url.signing import sign
from imgedge.url.spec import QUALITY_LEVELS

VECTORS_FILE = Path(__file__).resolve().parents[2] / "clients" / "js" / "test" / "vectors.json"
KEY = "imgedge-test-vectors-key"
ASSET = "3f2a9c0d1e-_Zz"
PRESETS = {
    "thumb": "w:256/h:256/fit:cover/g:sm", "hero": "w:1600/q:70", "soft": "bl:2/q:60/f:webp",
    "adaptive": "w:auto:800/q:auto:low",
}  # fmt: skip
NOW = 1_800_000_000
WATERMARK = "markasset"  # IMGEDGE_WATERMARK, the mark of a `wm` without `wmu`

# Written by hand: every option, its long and short names, value aliases, folding and the edge cases of
# number formatting (ties at the third decimal round half to even, as Python's round does).
CASES: list[str] = [
    "", "w:400", "width:400", "w:400/h:300", "h:300/w:400", "w:0/h:0", "w:400/h:300/fit:cover",
    "h:300/width:400/rt:fill", "w:200/h:150/dpr:2/fit:crop", "w:333/dpr:1.5", "w:1/dpr:1.5", "w:3/dpr:1.5",
    "h:101/dpr:2.5", "w:100/dpr:1.0005", "w:100/dpr:4", "w:100/dpr:4.5", "dpr:2", "w:0007", "w:+5", "w:-0",
    "w:1e3", "w:12.5", "w:", "w", "w:1:2", "w:100000", "w:100001", "W:400", "WIDTH:400", "w:400/w:500",
    "w:400/width:500", "fit:inside/w:1/h:1", "fit:fit", "fit:limit", "w:1/h:1/fit:cover",
    "w:1/h:1/fit:fill", "w:1/h:1/fit:crop", "w:1/h:1/fit:force", "w:1/h:1/fit:stretch", "w:1/h:1/fit:scale",
    "w:1/h:1/fit:pad", "w:1/h:1/fit:contain", "w:1/h:1/fit:CONTAIN", "w:1/h:1/resize:fill",
    "w:1/h:1/resizing_type:fill", "w:1/h:1/fit:squash", "w:10/fit:cover", "w:10/fit:cover/g:sm",
    "w:10/h:10/fit:cover/g:sm", "w:10/h:10/fit:cover/g:smart", "w:10/h:10/fit:cover/g:attention",
    "w:10/h:10/fit:cover/g:auto", "w:10/h:10/fit:cover/gravity:north", "w:10/h:10/fit:cover/g:top",
    "w:10/h:10/fit:cover/g:n", "w:10/h:10/fit:cover/g:s", "w:10/h:10/fit:cover/g:bottom",
    "w:10/h:10/fit:cover/g:e", "w:10/h:10/fit:cover/g:right", "w:10/h:10/fit:cover/g:w",
    "w:10/h:10/fit:cover/g:left", "w:10/h:10/fit:cover/g:ne", "w:10/h:10/fit:cover/g:northwest",
    "w:10/h:10/fit:cover/g:se", "w:10/h:10/fit:cover/g:sw", "w:10/h:10/fit:cover/g:ce",
    "w:10/h:10/fit:cover/g:centre", "w:10/h:10/fit:cover/g:center", "w:10/h:10/fit:cover/g:c",
    "w:10/h:10/fit:pad/g:soea", "w:10/h:10/fit:force/g:soea", "w:10/h:10/fit:cover/g:middle",
    "w:10/h:10/fit:cover/g:fp:0.3:0.4", "w:10/h:10/fit:cover/fp:0.3:0.4", "w:10/h:10/fit:cover/focus:0:1",
    "w:10/h:10/fit:cover/fp:0.0625:0.1875", "w:10/h:10/fit:cover/fp:0.3125:0.4375",
    "w:10/h:10/fit:cover/fp:0.5625:0.9375", "w:10/h:10/fit:cover/fp:0.00049:0.0005",
    "w:10/h:10/fit:cover/fp:0.9995:0.99951", "w:10/h:10/fit:cover/fp:.5:1.",
    "w:10/h:10/fit:cover/fp:5e-1:1e0",
    "w:10/h:10/fit:cover/fp:1.5:0", "w:10/h:10/fit:cover/fp:0.5", "w:10/h:10/fit:cover/fp:nan:0",
    "w:10/h:10/fit:cover/fp:inf:0", "w:10/h:10/fit:cover/g:fp", "w:10/h:10/fit:cover/g:fp:0.2:0.2/g:sm",
    "w:10/h:10/fit:cover/g:sm/fp:0.2:0.2", "fp:0.2:0.7", "ar:16:9/fp:0.2:0.7", "ar:16:9/g:sm",
    "c:0:0:100:100", "crop:10:20:300:200/w:100", "c:0:0:0:100", "c:-1:0:10:10", "c:1:2:3", "ar:16:9",
    "aspect:4:3/w:800", "ar:16:9/w:1200/fit:cover", "ar:9:16/h:1600", "aspect_ratio:32:18/w:640",
    "ar:1:1/w:333/dpr:1.5", "ar:3:1/w:2", "ar:16:9/w:1/h:1", "ar:0:1", "ar:10001:1", "ar:16",
    "q:75", "quality:1", "q:100", "q:0", "q:101", "q:75.5", "f:auto", "f:avif", "format:WEBP", "ext:jpg",
    "f:jpeg", "f:png", "f:gif", "f:bmp", "bl:2", "blur:0.5", "bl:0", "bl:100", "bl:100.0004", "bl:0.0625",
    "bl:2.0005", "bl:1e-7", "sh:1.25", "sharpen:10", "sh:10.1", "rot:90", "rotate:-90", "rot:360",
    "rot:-360", "rot:45", "rot:450", "flip", "flip:1", "flip:0", "flip:true", "flip:yes", "flip:y", "flip:on",
    "flip:t", "flip:OFF", "flip:maybe", "flip:", "flop", "flip/flop", "bg:fff", "bg:FFFFFF", "bg:000",
    "bg:12ab34", "bg:12ab34ff", "bg:12ab3480", "bg:00000000", "background:255:0:0", "bg:255:0:0:128",
    "bg:255:0:0:255", "bg:256:0:0", "bg:12345", "bg:ggg", "bg:1:2", "strip:0", "sm:0", "strip_metadata:1",
    "sm:1", "el:1", "enlarge:1", "el:0", "exp:1800000000", "expires:1", "exp:0", "exp:1099511627777",
    "pr:thumb", "preset:hero", "pr:thumb:hero", "pr:hero:thumb", "pr:thumb/w:100", "w:100/pr:thumb",
    "pr:soft/f:avif", "pr:nope", "pr", "pr:", "w:10//h:10", "bogus:1",
    "w:10/h:10/fit:cover/g:fp:0.1:0.9/c:1:2:30:40/el:1/rot:270/flip/flop/bl:1.5/sh:0.5/bg:102030/q:60/f:webp/"
    "sm:0/exp:1800000000",
    "bac\u212aground:102030", "w:\u0664\u0660\u0660", "w: 5", "w:5 ", "w:1_0", "bl:1_0", "bl:1e400",
    "fp:0.5:1e-400", "w:" + "0" * 30 + "5", "w:" + "0" * 32 + "5", "bg:ff\n", "q:\uff17\uff15",
    # Options of the thumbor and imgproxy era: orig sizes, crop areas, new fits, focal regions, filters.
    "w:orig", "h:ORIG", "w:orig/h:300", "w:orig/ar:16:9", "w:orig/dpr:2", "w:50001/dpr:2", "h:60000/dpr:2",
    "ar:1:10000/w:20", "ar:10000:1/h:11", "w:100000/ar:1:2", "c:0.5:0.5", "c:300:200", "c:0.5:0.5:no",
    "c:300:200:soea", "c:300:200:fp:0.25:0.75", "c:1:1:sm", "c:1:1:fr:0:0:5:5", "c:1:1:fp:0.5", "c:1",
    "c:1:2:3:4:5:6", "c:0:0", "c:100001:1", "c:0.0625:1.5:ce", "w:10/h:10/fit:clamp",
    "w:10/h:10/fit:clamp/el:1", "w:10/h:10/fit:outside", "w:10/h:10/fit:auto", "w:10/fit:clamp",
    "w:10/h:10/fit:clamp/g:sm", "w:10/h:10/fit:outside/g:sm", "w:10/h:10/fit:auto/g:no",
    "w:10/h:10/g:fr:10:20:30:40", "w:10/h:10/fit:cover/g:fr:10:20:30:40",
    "w:10/h:10/fit:cover/g:fr:10:20:10:40", "w:10/h:10/fit:cover/g:fr:1:2:3",
    "w:10/h:10/fit:cover/g:FR:0:0:1:1", "t:10", "trim:0", "t:10:tl", "t:10:top-left", "t:10:br",
    "t:10:BOTTOM-RIGHT", "t:10:ff0000", "t:10:f00", "t:10:ff0000ff", "t:10:nope", "t:443", "t:0.0625:br",
    "t:1:2:3", "w:10/h:10/ex:1", "w:10/h:10/extend", "w:10/ex:1", "w:10/h:10/fit:cover/ex:1",
    "w:10/h:10/fit:force/ex:1", "w:10/h:10/fit:pad/ex:1", "w:10/h:10/fit:outside/ex:1",
    "w:10/h:10/ex:1/g:so", "w:10/h:10/fit:clamp/ex:1/g:so", "w:10/h:10/ad:1", "w:10/ad:1",
    "w:10/h:10/fit:cover/adaptive:1", "w:auto/ar:1:1/ex:1/ad:1", "br:10", "brightness:-100", "br:101",
    "br:0", "co:-5", "contrast:100", "co:1.5", "gs", "grayscale:1", "gs:0", "rc:10", "rc:10:20",
    "rc:10:20:000", "rc:10:20:00000000", "round_corner:5:5:ffffffff", "rc:0", "rc:1:2:3:4", "rc:1:2:xyz",
    "wm:0.5", "wm:0.5/wmu:markasset2",
    "watermark:1:ce/watermark_url:markasset2", "wm:1:soea", "wm:1:SOEA:10:20", "wm:1:re:5p:-5p:0.25",
    "wm:0.5:no:0:0:0.25:0.5:markasset2",
    "wm:0.5:no:0:0:0.25:0.5:url.aHR0cHM6Ly9tYXJrcy5leGFtcGxlLmNvbS9sb2dvLnBuZw",
    "wm:0.5/wmu:url.aHR0cHM6Ly9tYXJrcy5leGFtcGxlLmNvbS9sb2dvLnBuZw",
    "wm:0.5/wmu:url.aHR0cHM6Ly9tYXJrcy5leGFtcGxlLmNvbS_DpCDDti5wbmc=",
    "wmu:url.aHR0cHM6Ly9tYXJrcy5leGFtcGxlLmNvbS9sb2dvLnBuZw", "wm:0.5:no:0:0:0.25:0.5:markasset2/wmu:other",
    "wm:1:top", "wm:1:ce:1.5", "wm:1:ce:0:0:2", "wm:1:ce:0:0:0.5:0.5", "wm:2",
    "wm:0.5:ce:0:0:0.1:0.1:bad.mark", "wmu:url.__4", "wmu:url.aHR0cHM6Ly94LwE", "wmu:url.", "wmu:url.YQ=\n",
    "wmu:url.Y", "wmu:url.YQ", "wmu:url.YR", "wm:0.0625:ce:0p:0p:0.0625", "mb:1000", "max_bytes:1", "mb:0",
    "mb:1073741825", "fl", "fl:1", "flatten:0", "fl/bg:00000000", "fl/bg:ff000080", "fl/bg:ff0000ff",
    "t:10/c:0.5:0.5/w:orig/ex:1/br:5/co:5/gs/rc:3/wm:1/mb:99/fl/f:png",
    # Client hints and q:auto.
    "w:auto", "W:AUTO", "w:auto:640", "w:auto:0", "w:auto:640/dpr:2", "w:auto:640/dpr:1.5", "w:auto:1:2",
    "w:auto:x", "w:auto/h:100", "w:auto/h:0", "w:auto/dpr:auto", "w:auto/ar:16:9",
    "w:auto:1200/ar:16:9/fit:cover", "w:auto:1200/ar:16:9/fit:cover/g:sm", "w:auto/fit:cover/g:sm",
    "w:auto/w:100", "dpr:auto", "DPR:Auto/w:400", "dpr:auto/h:300/ar:4:3", "dpr:auto:2", "q:auto", "Q:AUTO",
    "quality:auto", "q:auto:low", "q:auto:good", "q:auto:best", "q:auto:BEST", "q:auto:55", "q:auto:70",
    "q:auto:080", "q:auto:50", "q:auto:10", "q:auto:99", "q:auto:9", "q:auto:100", "q:auto:+55",
    "q:auto:5.5", "q:auto:\u00b2", "q:auto:high", "q:auto:", "q:auto:1:2", "q:auto/q:75", "q:auto/f:webp",
    "pr:adaptive", "pr:adaptive/q:60", "pr:adaptive/ar:1:1/fit:cover", "pr:adaptive:hero",
    "pr:adaptive/w:640", "pr:adaptive/w:auto", "dpr:2/pr:adaptive",
]  # fmt: skip

# Spellings the generated cases draw from, so many combinations are checked, not only the hand-written ones.
_POOL: list[str] = [
    "w:640", "width:1280", "h:480", "height:720", "dpr:2", "dpr:1.5", "dpr:3.25", "fit:cover", "rt:fill",
    "fit:pad", "fit:force", "fit:inside", "g:sm", "g:north", "gravity:sowe", "fp:0.25:0.75", "fp:0.0625:0.5",
    "ar:16:9", "ar:4:3", "aspect:9:16", "c:10:10:500:400", "q:70", "quality:80", "f:webp", "format:avif",
    "ext:jpg", "bl:1.5", "sh:0.3", "rot:90", "rotate:180", "flip", "flop:1", "bg:000", "bg:ff000080",
    "strip:0", "el:1", "exp:1800000000", "pr:thumb", "pr:hero", "w:auto", "w:auto:960", "dpr:auto", "q:auto",
    "q:auto:best", "q:auto:60", "pr:adaptive", "w:orig", "c:0.5:0.5", "c:300:200:soea", "fit:clamp",
    "fit:outside", "fit:auto", "g:fr:10:20:300:400", "t:10:br", "ex:1", "ad:1", "br:-20", "co:15", "gs",
    "rc:12", "wm:0.5:soea:10:10:0.2", "mb:50000", "fl",
]  # fmt: skip
GENERATED_CASES = 400


def _settings() -> ParseSettings:
    return ParseSettings(presets=PRESETS, watermark=WATERMARK)


def _generated(count: int) -> list[str]:
    rng = random.Random(14)
    return ["/".join(rng.sample(_POOL, rng.randint(1, 6))) for _ in range(count)]


def _error(exc: UrlError) -> dict[str, Any]:
    option = exc.option if isinstance(exc, OptionError) else None
    return {"error": exc.message, "option": option}


def option_vector(options: str, suffix: str | None = None) -> dict[str, Any]:
    segments = options.split("/") if options else []
    vector: dict[str, Any] = {"segments": segments}
    if suffix is not None:
        vector["suffix"] = suffix
    try:
        spec = parse_options(segments, _settings(), suffix_format=suffix)
    except UrlError as exc:
        return vector | _error(exc)
    canonical = spec.canonical()
    return vector | {
        "canonical": canonical,
        "canonical_without_expiry": spec.canonical(with_expiry=False),
        "signature": sign([KEY.encode()], canonical, ASSET),
    }


def build_vectors() -> list[dict[str, Any]]:
    """`build_path` and `srcset` with their keyword options, as the JavaScript client names them."""
    calls: list[dict[str, Any]] = [
        {"width": 400},
        {"width": 400, "height": 300, "fit": "cover", "gravity": "sm"},
        {"width": 200, "height": 150, "dpr": 2, "fit": "crop"},
        {"width": 1200, "fmt": "webp", "quality": 70},
        {"width": 320, "expires_in": 3600},
        {"width": 640, "quality": "auto"},
        {"width": 640, "quality": "auto:best", "fmt": "avif"},
        {"extra": ["w:auto:800", "ar:16:9", "fit:cover"], "quality": "auto:low"},
        {"height": 500, "dpr": 1.5, "extra": ["ar:4:3", "fit:cover", "g:fp:0.25:0.125"]},
        {"extra": ["pr:thumb"]},
        {},
    ]
    vectors = []
    for call in calls:
        kwargs = dict(call)
        for unsigned in (False, True):
            key = None if unsigned else KEY.encode()
            path = build_path(ASSET, key=key, settings=_settings(), now=NOW, **kwargs)
            vectors.append({"options": call, "signed": not unsigned, "path": path})
    return vectors


def srcset_vectors() -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = [
        {"widths": [320, 640, 960, 1280]},
        {
            "widths": [1280, 320, 640, 320],
            "fit": "cover",
            "height": 400,
            "base_url": "https://img.example.com",
        },
    ]
    vectors = []
    for call in calls:
        kwargs = {k: v for k, v in call.items() if k != "widths"}
        text = srcset(ASSET, call["widths"], key=KEY.encode(), settings=_settings(), **kwargs)
        vectors.append({"options": call, "srcset": text})
    return vectors


PROMPTS: list[tuple[dict[str, Any], list[str]]] = [
    ({"prompt": "a red fox in the snow", "seed": 7}, []),
    ({"prompt": "  caf\u0065\u0301 at dusk\n", "seed": 0, "aspect": "16:9"}, ["w:320", "f:webp"]),
    ({"prompt": "\u5bcc\u58eb\u5c71\u3068\u685c \U0001f338", "seed": 4294967295, "width": 768, "height": 512},
     ["w:400", "h:300", "fit:cover", "g:sm"]),
    ({"prompt": "lighthouse", "seed": 42, "aspect": "9:16"}, ["pr:thumb"]),
    ({"prompt": "x" * 2000, "seed": 1, "aspect": "4:3"}, ["q:auto"]),
    ({"prompt": " ", "seed": 1}, []),
    ({"prompt": "x" * 2001, "seed": 1}, []),
    ({"prompt": "bell \u0007", "seed": 1}, []),
    ({"prompt": "ok", "seed": 4294967296}, []),
    ({"prompt": "ok", "seed": 1, "width": 100, "height": 64}, []),
    ({"prompt": "ok", "seed": 1, "width": 4096, "height": 64}, []),
]  # fmt: skip


def prompt_vectors() -> list[dict[str, Any]]:
    vectors = []
    for generation, segments in PROMPTS:
        vector: dict[str, Any] = {"generation": generation, "segments": segments}
        try:
            width, height = (
                (generation["width"], generation["height"])
                if "width" in generation
                else size_for_aspect(generation.get("aspect", "1:1"))
            )
            made = Generation.of(generation["prompt"], generation["seed"], width, height)
            path = build_prompt_path(made, key=KEY.encode(), options=segments, settings=_settings())
        except UrlError as exc:
            vectors.append(vector | {"error": exc.message})
            continue
        vectors.append(vector | {"segment": made.segment(), "path": path})
    return vectors


def all_vectors() -> dict[str, Any]:
    return {
        "about": "Generated by `python -m tests.url.vectors` from imgedge.url; do not edit by hand.",
        "key": KEY,
        "asset_id": ASSET,
        "now": NOW,
        "presets": PRESETS,
        "watermark": WATERMARK,
        "grammar": {
            "options": dict(sorted(ALIASES.items())),
            "fits": dict(sorted(_FIT_ALIASES.items())),
            "gravities": dict(sorted(_GRAVITY_ALIASES.items())),
            "formats": dict(sorted(SPELLINGS.items())),
            "quality_levels": QUALITY_LEVELS,
        },
        "options": [option_vector(case) for case in CASES + _generated(GENERATED_CASES)]
        + [option_vector("w:400", suffix) for suffix in ("webp", "JPG", "tiff")]
        + [option_vector("f:webp", "webp"), option_vector("f:png", "webp")],
        "build": build_vectors(),
        "srcset": srcset_vectors(),
        "prompt": prompt_vectors(),
    }


def render() -> str:
    return json.dumps(all_vectors(), indent=1, ensure_ascii=True) + "\n"


if __name__ == "__main__":
    VECTORS_FILE.write_text(render())
    print(f"wrote {VECTORS_FILE}")
