"""One transform, start to finish, on a worker thread: inspect → load/scale → colour → steps → encode."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyvips

from imgedge.imaging.colour import to_srgb
from imgedge.imaging.encode import EncoderSettings, encode
from imgedge.imaging.errors import CorruptImage
from imgedge.imaging.inspect import inspect
from imgedge.proxy.negotiate import resolve
from imgedge.proxy.pipeline import load
from imgedge.proxy.pipeline.animation import keeps_animation, load_animated
from imgedge.proxy.pipeline.deadline import Deadline, TransformTimeout
from imgedge.proxy.pipeline.decoded import DecodedImage
from imgedge.proxy.pipeline.geometry import plan
from imgedge.proxy.pipeline.steps import STEPS, StepContext
from imgedge.url.spec import TransformSpec


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    format: str
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)  # stage → milliseconds


def _watch(image: pyvips.Image, deadline: Deadline | None) -> pyvips.Image:
    return deadline.watch(image) if deadline is not None else image


def _check(deadline: Deadline | None) -> None:
    if deadline is not None:
        deadline.check()


def transform(
    data: bytes | DecodedImage,
    spec: TransformSpec,
    negotiated_format: str,
    *,
    max_pixels: int,
    settings: EncoderSettings,
    deadline: Deadline | None = None,
) -> Rendered:
    started = time.perf_counter()
    header = data.header if isinstance(data, DecodedImage) else inspect(data, max_pixels=max_pixels)
    animated = isinstance(data, bytes) and keeps_animation(
        header, spec, negotiated_format, max_pixels=max_pixels
    )
    try:
        if animated:
            assert isinstance(data, bytes)
            geometry = plan(header.width, header.height, spec)
            image = _watch(load_animated(data, geometry.scaled), deadline)
        elif load.needs_full_decode(spec):
            loaded = _watch(load.load_full(data), deadline)
            image = load.crop_rect(load.orient(loaded, spec), spec)
            geometry = plan(image.width, image.height, spec)
            image = load.scale_to(image, geometry.scaled)
        else:
            geometry = plan(header.width, header.height, spec)
            image = _watch(load.load_scaled(data, geometry.scaled), deadline)
        image = to_srgb(image, keep_profile=not spec.strip)
        pads_transparent = geometry.pad is not None and len(spec.background) == 8
        output_format = resolve(negotiated_format, image.hasalpha() or pads_transparent)
        ctx = StepContext(spec=spec, plan=geometry, output_format=output_format)
        for step in STEPS:
            _check(deadline)
            image = step(image, ctx)
        # Materialise here: libvips is lazy, and without this the encode stage would absorb all the work.
        image = _watch(_watch(image, deadline).copy_memory(), deadline)
        transformed = time.perf_counter()
        _check(deadline)
        body = encode(image, output_format, quality=spec.quality, strip=spec.strip, settings=settings)
    except pyvips.Error as exc:
        if deadline is not None and deadline.killed:
            raise TransformTimeout() from None
        raise CorruptImage(_public_reason(str(exc))) from None
    done = time.perf_counter()
    return Rendered(
        body=body,
        format=output_format,
        width=image.width,
        height=image.get("page-height") if animated else image.height,
        timings={"transform": (transformed - started) * 1000, "encode": (done - transformed) * 1000},
    )


def _public_reason(detail: str) -> str:
    lowered = detail.lower()
    if "truncat" in lowered or "premature" in lowered or "end of" in lowered:
        return "source image is truncated"
    return "source image could not be decoded"
