from __future__ import annotations

import pytest

from imgedge.url import ParseSettings, parse_options
from imgedge.url.errors import OptionError
from imgedge.url.hints import NO_HINTS, ClientHints, dpr_bucket, parse_hints, resolve, width_bucket
from imgedge.url.spec import TransformSpec


def parse(options: str) -> TransformSpec:
    return parse_options(options.split("/"), ParseSettings())


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("w:400/q:auto", "w:400/q:auto"),
        ("w:400/quality:auto:good", "w:400/q:auto"),
        ("w:400/q:auto:70", "w:400/q:auto"),
        ("w:400/q:auto:LOW", "w:400/q:auto:low"),
        ("w:400/q:auto:50", "w:400/q:auto:low"),
        ("w:400/q:auto:best", "w:400/q:auto:best"),
        ("w:400/q:auto:85", "w:400/q:auto:85"),
        ("w:400/q:80", "w:400/q:80"),
        ("w:auto", "w:auto"),
        ("width:auto:400", "w:auto:400"),
        ("w:auto:200/dpr:2", "w:auto:400"),
        ("w:auto:400/ar:16:9/fit:cover", "w:auto:400/ar:16:9/fit:cover"),
        ("w:300/h:200/dpr:auto", "w:300/h:200/dpr:auto"),
    ],
)
def test_auto_options_have_one_canonical_form(given: str, canonical: str) -> None:
    assert parse(given).canonical() == canonical
    assert parse(canonical).canonical() == canonical


def test_an_explicit_quality_replaces_a_presets_auto_quality() -> None:
    settings = ParseSettings(presets={"hero": "w:1600/q:auto:best"})
    assert parse_options(["pr:hero", "q:60"], settings).canonical() == "w:1600/q:60"
    settings = ParseSettings(presets={"hero": "w:1600/q:60"})
    assert parse_options(["pr:hero", "q:auto"], settings).canonical() == "w:1600/q:auto"


@pytest.mark.parametrize(
    "given",
    ["q:auto:worst", "q:auto:5", "q:auto:100", "q:auto:1:2", "w:auto:x", "w:auto/h:300", "w:auto/dpr:auto",
     "dpr:automatic"],
)  # fmt: skip
def test_bad_auto_options_are_refused(given: str) -> None:
    with pytest.raises(OptionError):
        parse(given)


def test_hints_are_bounded_and_bucketed() -> None:
    hints = parse_hints(dpr="2.2", width="700", viewport_width="390", save_data="on")
    assert hints == ClientHints(dpr=2.0, width=768, viewport_width=480, save_data=True)
    assert parse_hints(dpr="1e309", width="-4", viewport_width="9" * 40, save_data="off") == NO_HINTS
    assert width_bucket(10**9) == 3840 and width_bucket(1) == 160
    assert dpr_bucket(1.2) == 1.0 and dpr_bucket(1.3) == 1.5 and dpr_bucket(9) == 4.0
    assert dpr_bucket(3.5, max_dpr=2) == 2.0


def test_resolve_uses_hints_only_when_honoured() -> None:
    spec = parse("w:auto:400/ar:16:9/fit:cover")
    hints = ClientHints(dpr=2.0, width=1280)
    plain = resolve(spec, hints, honour_hints=False, auto_quality_default=False)
    assert plain.spec.canonical() == "w:400/h:225/fit:cover" and plain.vary == ()
    hinted = resolve(spec, hints, honour_hints=True, auto_quality_default=False)
    assert hinted.spec.canonical() == "w:1280/h:720/fit:cover"
    assert hinted.vary == ("Sec-CH-Width", "Sec-CH-Viewport-Width", "Sec-CH-DPR")
    viewport = resolve(
        spec, ClientHints(dpr=2.0, viewport_width=480), honour_hints=True, auto_quality_default=False
    )
    assert viewport.spec.width == 1024  # 480 CSS px at 2x, rounded up to a bucket


def test_dpr_auto_multiplies_the_urls_sizes_and_reports_it() -> None:
    spec = parse("w:300/h:200/fit:cover/dpr:auto")
    resolved = resolve(spec, ClientHints(dpr=3.0), honour_hints=True, auto_quality_default=False, max_dpr=2)
    assert resolved.spec.canonical() == "w:600/h:400/fit:cover"
    assert resolved.dpr == 2.0 and resolved.vary == ("Sec-CH-DPR",)
    assert resolve(spec, NO_HINTS, honour_hints=True, auto_quality_default=False).spec.width == 300


def test_auto_quality_is_the_default_for_auto_format_and_save_data_lowers_it() -> None:
    assert resolve(
        parse("w:400"), NO_HINTS, honour_hints=False, auto_quality_default=True
    ).spec.canonical() == ("w:400/q:auto")
    assert resolve(
        parse("w:400/f:webp"), NO_HINTS, honour_hints=False, auto_quality_default=True
    ).spec == parse("w:400/f:webp")
    assert (
        resolve(parse("w:400/q:80"), NO_HINTS, honour_hints=False, auto_quality_default=True).spec.quality
        == 80
    )
    saving = resolve(parse("w:400/q:auto:best"), ClientHints(save_data=True), honour_hints=True,
                     auto_quality_default=True)  # fmt: skip
    assert saving.spec.canonical() == "w:400/q:auto:low" and saving.vary == ("Save-Data",)
