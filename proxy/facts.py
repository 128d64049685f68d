"""Facts about an original as a dialect's JSON: thumbor's `meta/` and imgproxy's `/info`.

Both read the original's header (through the source cache, like a transform) and the geometry a transform
would use; imgproxy's `average` and `blurhash` come from the asset's placeholders (proxy/info.py: computed
once per asset, shared with the native /info).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import anyio
import pyvips

from imgedge.imaging.inspect import inspect
from imgedge.proxy.dialects.base import THUMBOR_META, ParsedRequest
from imgedge.proxy.dialects.imgproxy_info import PLACEHOLDER_FIELDS, average_rgba
from imgedge.proxy.http_headers import variant_cache_control
from imgedge.proxy.info import InfoService
from imgedge.proxy.pipeline.geometry import Box, offset, plan, resolve
from imgedge.proxy.render import Renderer
from imgedge.proxy.replies import Reply
from imgedge.proxy.security import check_moderation
from imgedge.url.errors import OptionError
from imgedge.url.spec import TransformSpec

_FORMATS = {
    "jpegload": "jpeg", "pngload": "png", "webpload": "webp", "gifload": "gif", "tiffload": "tiff",
    "jxlload": "jxl",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImageFacts:
    width: int
    height: int
    format: str
    size: int  # bytes of the original
    frames: int


def image_facts(data: bytes, *, max_pixels: int) -> ImageFacts:
    header = inspect(data, max_pixels=max_pixels)
    loader = header.loader.removesuffix("_buffer").removesuffix("_source")
    fmt = _FORMATS.get(loader, loader.removesuffix("load"))
    if loader == "heifload":
        image = pyvips.Image.new_from_buffer(data, "", access="sequential")
        compression = image.get("heif-compression") if image.get_typeof("heif-compression") else "hevc"
        fmt = "avif" if compression == "av1" else "heic"
    return ImageFacts(header.width, header.height, fmt, len(data), header.pages)


def imgproxy_info(
    facts: ImageFacts, fields: tuple[str, ...], placeholders: dict[str, object]
) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if "dimensions" in fields:
        document |= {"width": facts.width, "height": facts.height}
    if "size" in fields:
        document["size"] = facts.size
    if "format" in fields:
        document["format"] = facts.format
    if "average" in fields:
        document["average"] = average_rgba(str(placeholders["average_color"]))
    if "blurhash" in fields:
        document["blurhash"] = placeholders["blurhash"]
    return document


def thumbor_operations(facts: ImageFacts, spec: TransformSpec) -> tuple[list[dict[str, Any]], Box]:
    """What thumbor's meta/ lists (crops in source pixels, then the resize) and the target size."""
    operations: list[dict[str, Any]] = []
    width, height = facts.width, facts.height
    if spec.crop is not None:
        x, y, w, h = spec.crop
        w, h = min(w, width - x), min(h, height - y)
        operations.append({"type": "crop", "left": x, "top": y, "right": x + w, "bottom": y + h})
        width, height = w, h
    spec = resolve(spec, width, height)
    geometry = plan(width, height, spec)
    target = geometry.scaled
    if geometry.crop is not None:
        gravity = spec.gravity if spec.gravity != "sm" else "ce"
        cx, cy = offset(geometry.scaled, geometry.crop, gravity, spec.focus)
        sx, sy = geometry.scaled.width / width, geometry.scaled.height / height
        right, bottom = cx + geometry.crop.width, cy + geometry.crop.height
        operations.append({
            "type": "crop", "left": round(cx / sx), "top": round(cy / sy),
            "right": round(right / sx), "bottom": round(bottom / sy),
        })  # fmt: skip
        target = geometry.crop
    if (target.width, target.height) != (width, height):
        operations.append({"type": "resize", "width": target.width, "height": target.height})
    operations += [{"type": "flip_horizontally"}] if spec.flop else []
    operations += [{"type": "flip_vertically"}] if spec.flip else []
    return operations, geometry.pad or target


def thumbor_meta(facts: ImageFacts, spec: TransformSpec, url: str) -> dict[str, Any]:
    operations, target = thumbor_operations(facts, spec)
    source = {"url": url, "width": facts.width, "height": facts.height, "frameCount": facts.frames}
    return {
        "thumbor": {
            "source": source,
            "operations": operations,
            "target": {"width": target.width, "height": target.height},
        }
    }


class FactsReplies:
    def __init__(self, renderer: Renderer, info: InfoService | None = None) -> None:
        self.renderer = renderer
        self.info = info

    async def reply(self, parsed: ParsedRequest, method: str, lifetime: int) -> Reply:
        original = await self.renderer.original(parsed.source)
        check_moderation(original.moderation, parsed.spec)
        max_pixels = self.renderer.config.max_src_pixels
        facts = await anyio.to_thread.run_sync(lambda: image_facts(original.data, max_pixels=max_pixels))
        if parsed.reply == THUMBOR_META:
            document = thumbor_meta(facts, parsed.spec, parsed.source.location)
        else:
            placeholders: dict[str, object] = {}
            if PLACEHOLDER_FIELDS.intersection(parsed.info_fields):
                if self.info is None:
                    raise OptionError("info", "placeholders are not available here")
                placeholders = (await self.info.info(parsed.source)).placeholders
            document = imgproxy_info(facts, parsed.info_fields, placeholders)
        text = json.dumps(document, separators=(",", ":"))
        media_type = "application/json"
        if parsed.callback:
            text, media_type = f"{parsed.callback}({text});", "application/javascript"
        body = text.encode()
        cache_control = variant_cache_control(original.moderation, parsed.spec.expires, time.time(), lifetime)
        headers = [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", cache_control.encode()),
            (b"surrogate-key", parsed.source.cache_id.encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
        ]
        return Reply(200, headers, b"" if method == "HEAD" else body)
