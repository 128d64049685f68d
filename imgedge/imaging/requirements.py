"""What imgedge needs of libvips, checked once per process by every entry point before it starts.

A missing saver option or codec would otherwise surface per request, as an error that looks like the
client's (see docs/architecture.md). `require_libvips()` refuses with one message: what was found, what is
needed, how to fix it. `libvips_summary()` is what `imgedge --version` and `imgedge doctor` print.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import pyvips

from imgedge.formats import FORMATS, OutputFormat
from imgedge.imaging.encode import EncoderSettings, save, saver_options
from imgedge.imaging.errors import LibvipsUnsupported
from imgedge.imaging.libvips import (
    BINARY_DISTRIBUTION,
    Binding,
    binding,
    operation_exists,
    optional_arguments,
    saver_for,
    version,
    version_text,
)

log = logging.getLogger("imgedge.imaging")

# The oldest libvips imgedge is tested on: Debian 12's, by `make test-system-libvips`. Older ones lack
# pieces it relies on (block_untrusted_set, which keeps risky loaders off, is from 8.13).
MIN_VERSION = (8, 14)

# Formats people upload and transform (loader → what users call it); the loaders accept what the pipeline
# passes them: fail_on everywhere, n for the animated ones.
REQUIRED_LOADERS = {"jpegload": "JPEG", "pngload": "PNG", "webpload": "WebP", "gifload": "GIF",
                    "heifload": "AVIF/HEIF"}  # fmt: skip
OPTIONAL_LOADERS = {"tiffload": "TIFF", "jxlload": "JPEG XL"}
LOADER_ARGUMENTS = {"jpegload": ("fail_on",), "pngload": ("fail_on",), "webpload": ("fail_on", "n"),
                    "gifload": ("fail_on", "n"), "heifload": ("fail_on",)}  # fmt: skip
# The operations imgedge calls by name (a test keeps this list complete); some depend on how libvips was
# built (icc_transform needs lcms). Python-level pyvips helpers (bandjoin, ifthenelse…) need none.
OPERATIONS = (
    "thumbnail_buffer", "thumbnail_image", "autorot", "rot", "flip", "extract_area", "crop", "smartcrop",
    "embed", "gaussblur", "sharpen", "flatten", "colourspace", "icc_transform", "cast", "copy", "linear",
    "extract_band", "join", "find_trim", "composite2", "replicate", "resize", "round", "avg", "black", "xyz",
    "add", "reduce", "premultiply", "unpremultiply", "bandfold",
)  # fmt: skip


_EVERYTHING = "every loader, saver, option and operation imgedge uses"


@dataclass(frozen=True, slots=True)
class LibvipsReport:
    version: str
    binding: Binding
    reads: tuple[str, ...]  # formats it decodes, of those imgedge accepts
    writes: tuple[str, ...]  # output formats that encoded and decoded back with imgedge's options
    missing: tuple[str, ...]  # what imgedge needs and this libvips lacks

    @property
    def ok(self) -> bool:
        return not self.missing


def _sample() -> pyvips.Image:
    ramp = pyvips.Image.xyz(16, 16).extract_band(0) * 16
    return ramp.bandjoin([ramp, 255 - ramp]).cast("uchar").copy(interpretation="srgb")


def _label(row: OutputFormat) -> str:
    return {"webp": "WebP"}.get(row.name, row.name.upper())


def _saver_problem(row: OutputFormat) -> str | None:
    """Encodes a small image with exactly the options imgedge passes, then decodes it back."""
    saver = saver_for(row.suffix)
    if saver is None:
        return f"a saver for {_label(row)}"
    accepted = optional_arguments(saver)
    tunings = {name for options in row.auto_quality_tunings.values() for name in options}
    wanted = {*row.saver_options, *row.auto_quality_options, *tunings, row.quality_option, row.effort_option}
    wanted -= {None}
    lacking = sorted(str(name) for name in wanted - accepted)
    if not accepted & {"keep", "strip"}:
        lacking.append("keep (or strip)")
    if lacking:
        return f"{saver} option {', '.join(lacking)} ({_label(row)} output)"
    settings = EncoderSettings()  # q:auto's options include the plain ones: one encode tries them all
    options = saver_options(row.name, quality=0, keep="none", settings=settings, auto=True)
    try:
        data = save(_sample(), row.name, "none", **settings.options(row.name, 0, auto=True))
        pyvips.Image.new_from_buffer(data, "", fail_on="error").avg()
    except pyvips.Error as exc:
        detail = " ".join(str(exc).split())
        spelled = ", ".join(f"{name}={value}" for name, value in options.items())
        return f"{_label(row)} output with {spelled} (libvips said: {detail})"
    return None


def _loader_problems() -> Iterator[str]:
    for loader, label in REQUIRED_LOADERS.items():
        operation = f"{loader}_buffer"
        if not operation_exists(operation):
            yield f"a loader for {label} ({loader})"
            continue
        lacking = sorted(set(LOADER_ARGUMENTS[loader]) - optional_arguments(operation))
        if lacking:
            yield f"{operation} option {', '.join(lacking)}"


@contextlib.contextmanager
def _libvips_warnings_muted() -> Iterator[None]:
    logger = logging.getLogger("pyvips")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _reads() -> tuple[str, ...]:
    loaders = {**REQUIRED_LOADERS, **OPTIONAL_LOADERS}
    return tuple(sorted(label for loader, label in loaders.items() if operation_exists(f"{loader}_buffer")))


@functools.lru_cache(maxsize=1)
def check_libvips() -> LibvipsReport:
    missing: list[str] = []
    if version() < (*MIN_VERSION, 0):
        missing.append(f"libvips {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer (this is {version_text()})")
    missing += [f"the {name} operation" for name in OPERATIONS if not operation_exists(name)]
    missing += _loader_problems()
    writes = []
    for row in FORMATS:
        with _libvips_warnings_muted():  # e.g. 8.14 reading its own AVIF: "ignoring nclx profile"
            problem = _saver_problem(row)
        if problem is None:
            writes.append(_label(row))
        else:
            missing.append(problem)
    return LibvipsReport(version_text(), binding(), _reads(), tuple(writes), tuple(missing))


def shadow_note(found: Binding) -> str:
    return (
        f"{BINARY_DISTRIBUTION} {found.bundled} is installed but not used: pyvips binds to the system's"
        " libvips (it was built while libvips-dev was installed); `imgedge doctor` says how to switch back"
    )


def fix_text(found: Binding) -> str:
    python = sys.executable
    minimum = f"{MIN_VERSION[0]}.{MIN_VERSION[1]}"
    if found.from_bundle:
        return f"upgrade {BINARY_DISTRIBUTION}: {python} -m pip install --upgrade {BINARY_DISTRIBUTION}"
    return "\n".join([
        f"use the libvips that {BINARY_DISTRIBUTION} bundles; in this order (pyvips first, built without"
        " the system's libvips, then pyvips-binary's binding back in place):",
        f"  PKG_CONFIG_LIBDIR= {python} -m pip install --force-reinstall --no-deps --no-cache-dir pyvips",
        f"  {python} -m pip install --force-reinstall --no-deps {BINARY_DISTRIBUTION}",
        f"or install a system libvips that has all of that (libvips {minimum} or newer)",
    ])  # fmt: skip


def refusal(report: LibvipsReport) -> str:
    found = f"libvips {report.version} {report.binding.describe()}"
    if report.binding.shadowed_bundle:
        found += f"; {BINARY_DISTRIBUTION} {report.binding.bundled} is installed but not used"
    indent = "\n" + " " * len("  needs: ")
    return "\n".join([
        "cannot run on this libvips.",
        f"  found: {found}",
        f"  needs: {indent.join(report.missing)}",
        f"  fix:   {fix_text(report.binding).replace(chr(10), indent)}",
    ])  # fmt: skip


def require_libvips() -> LibvipsReport:
    report = check_libvips()
    if not report.ok:
        raise LibvipsUnsupported(refusal(report))
    _log_once(report)
    return report


@functools.lru_cache(maxsize=1)
def _log_once(report: LibvipsReport) -> None:
    log.info("libvips %s %s", report.version, report.binding.describe())
    if report.binding.shadowed_bundle:
        log.warning("%s", shadow_note(report.binding))


def libvips_summary() -> str:
    report = check_libvips()
    return "\n".join([
        f"libvips {report.version} {report.binding.describe()}",
        f"reads:  {', '.join(report.reads) or 'nothing imgedge accepts'}",
        f"writes: {', '.join(report.writes) or 'nothing imgedge serves'}",
    ])  # fmt: skip


def doctor(args: argparse.Namespace) -> int:
    """0 when imgedge can run on this libvips (from where --expect says), else 1; prints why."""
    report = check_libvips()
    if args.json:
        print(json.dumps({**asdict(report), "origin": report.binding.origin, "ok": report.ok}, indent=2))
    else:
        print(libvips_summary())
        if report.binding.shadowed_bundle:
            print(f"note:   {shadow_note(report.binding)}")
            print("        " + fix_text(report.binding).replace("\n", "\n        "))
        print(refusal(report) if not report.ok else f"ok:     {_EVERYTHING}")
    if args.expect and report.binding.origin != args.expect:
        print(f"expected the libvips from {args.expect}, found {report.binding.origin}", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """`imgedge doctor` for environments with only pyvips, such as the Makefile's install checks."""
    from imgedge.cli import add_doctor_arguments  # the command line's own options; cli stays light

    parser = argparse.ArgumentParser(prog="python -m imgedge.imaging.requirements", description=__doc__)
    add_doctor_arguments(parser)
    return doctor(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
