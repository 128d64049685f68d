"""One transform, start to finish, on a worker thread: inspect → load/scale → colour → steps → encode."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyvips

from imgedge.imaging.autoquality import has_quality
from imgedge.imaging.colour import to_srgb
from imgedge.imaging.encode import EncoderSettings
from imgedge.imaging.failures import blame
from imgedge.imaging.inspect import Header
from imgedge.provenance import ProvenanceLabel
from imgedge.proxy.autoquality import Choice, LearnRequest, QualityPlan
from imgedge.proxy.negotiate import resolve as resolve_format
from imgedge.proxy.pipeline import load
from imgedge.proxy.pipeline.animation import keeps_animation, load_animated
from imgedge.proxy.pipeline.budget import encode_within
from imgedge.proxy.pipeline.deadline import Deadline, TransformTimeout
from imgedge.proxy.pipeline.decoded import DecodedImage, header_of
from imgedge.proxy.pipeline.geometry import Plan, plan, resolve
from imgedge.proxy.pipeline.steps import STEPS, StepContext
from imgedge.url.spec import TransformSpec


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    format: str
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)  # stage → milliseconds
    quality: int = 0  # the encoder quality q:auto chose (0: the spec's or the format's default)
    learn: LearnRequest | None = None  # q:auto used the estimate; this is what to learn from


def _watch(image: pyvips.Image, deadline: Deadline | None) -> pyvips.Image:
    return deadline.watch(image) if deadline is not None else image


def _check(deadline: Deadline | None) -> None:
    if deadline is not None:
        deadline.check()


def _load(
    data: bytes | DecodedImage,
    spec: TransformSpec,
    header: Header,
    animated: bool,
    deadline: Deadline | None,
    level_ratio: float,
) -> tuple[pyvips.Image, TransformSpec, Plan]:
    """The source decoded, cut and scaled, with the spec settled against the size it was cut to; every
    image libvips computes from is watched, so the deadline can stop it mid-operation. Raw pixels with a
    pyramid are scaled from the smallest level at least `level_ratio` times the output."""
    if animated:
        assert isinstance(data, bytes)
        spec = resolve(spec, header.width, header.height)
        geometry = plan(header.width, header.height, spec)
        return _watch(load_animated(data, geometry.scaled), deadline), spec, geometry
    if load.needs_full_decode(spec):
        image, origin = load.cut(load.orient(_watch(load.load_full(data), deadline), spec), spec)
        spec = resolve(spec, image.width, image.height, origin)
        geometry = plan(image.width, image.height, spec)
        return load.scale_to(image, geometry.scaled), spec, geometry
    spec = resolve(spec, header.width, header.height)
    geometry = plan(header.width, header.height, spec)
    scaled = load.load_scaled(data, geometry.scaled, level_ratio=level_ratio)
    return _watch(scaled, deadline), spec, geometry


def transform(
    data: bytes | DecodedImage,
    spec: TransformSpec,
    negotiated_format: str,
    *,
    max_pixels: int,
    settings: EncoderSettings,
    deadline: Deadline | None = None,
    mark: bytes | None = None,
    quality_plan: QualityPlan | None = None,
    label: ProvenanceLabel | None = None,
    level_ratio: float = 0.0,
    header: Header | None = None,
) -> Rendered:
    """`label`: the provenance of a generated original, kept in the variant's XMP even when stripping.
    `header`: the source's, when the caller has read it already."""
    started = time.perf_counter()
    header = header or header_of(data, max_pixels=max_pixels)
    animated = isinstance(data, bytes) and keeps_animation(
        header, spec, negotiated_format, max_pixels=max_pixels
    )
    stage = "transform"
    try:
        image, spec, geometry = _load(data, spec, header, animated, deadline, level_ratio)
        image = to_srgb(image, keep_profile=not spec.strip)
        pads_transparent = geometry.pad is not None and len(spec.background) == 8
        corners_transparent = spec.round_corner is not None and len(spec.round_corner[2]) == 8
        alpha = (image.hasalpha() and not spec.flatten) or pads_transparent or corners_transparent
        output_format = resolve_format(negotiated_format, alpha)
        ctx = StepContext(spec=spec, plan=geometry, output_format=output_format, mark=mark)
        for step in STEPS:
            _check(deadline)
            image = step(image, ctx)
        # Materialise here: libvips is lazy, and without this the encode stage would absorb all the work.
        image = _watch(_watch(image, deadline).copy_memory(), deadline)
        transformed = time.perf_counter()
        _check(deadline)
        stage = "encode"
        choice, learn = Choice(spec.quality), None
        if quality_plan is not None and has_quality(output_format) and not animated:
            choice, learn = quality_plan.choose(output_format, image)
        quality = choice.quality
        body = encode_within(
            image, output_format, quality=quality, strip=spec.strip, settings=settings,
            max_bytes=spec.max_bytes, check=lambda: _check(deadline), auto=quality_plan is not None,
            tuning=choice.tuning, xmp=label.xmp() if label is not None else None,
        )  # fmt: skip
    except pyvips.Error as exc:
        if deadline is not None and deadline.killed:
            raise TransformTimeout() from None
        # Until the copy above the input may be at fault (decoding is lazy); after it, only the library.
        suspect = data if isinstance(data, bytes) and stage == "transform" else None
        raise blame(exc, suspect, stage=stage, all_pages=animated) from None
    done = time.perf_counter()
    return Rendered(
        body=body,
        format=output_format,
        width=image.width,
        height=image.get("page-height") if animated else image.height,
        timings={"transform": (transformed - started) * 1000, "encode": (done - transformed) * 1000},
        quality=quality if quality_plan is not None else 0,
        learn=learn,
    )
