from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imgedge.url import ParseSettings, TransformSpec, parse_options
from imgedge.url.errors import OptionError, UrlError

SETTINGS = ParseSettings(presets={"thumb": "w:200/h:200/fit:cover/g:sm", "hero": "w:1600/q:70"})


def parse(url_options: str, suffix: str | None = None) -> TransformSpec:
    return parse_options([s for s in url_options.split("/") if s] if url_options else [], SETTINGS,
                         suffix_format=suffix)  # fmt: skip


def canon(url_options: str) -> str:
    return parse(url_options).canonical()


_number = st.integers(0, 1000).map(lambda i: i / 1000)
segments = st.lists(
    st.one_of(
        st.integers(0, 5000).map(lambda v: f"w:{v}"),
        st.integers(0, 5000).map(lambda v: f"height:{v}"),
        st.sampled_from(
            [
                "fit:inside",
                "rt:fill",
                "fit:cover",
                "fit:force",
                "resize:stretch",
                "fit:pad",
                "fit:contain",
                "fit:limit",
            ]
        ),
        st.sampled_from(["g:ce", "gravity:north", "g:soea", "g:sm", "g:smart", "g:we", "g:nw"]),
        st.tuples(_number, _number).map(lambda p: f"fp:{p[0]}:{p[1]}"),
        st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(1, 999), st.integers(1, 999)).map(
            lambda c: "c:{}:{}:{}:{}".format(*c)
        ),
        st.tuples(st.integers(1, 32), st.integers(1, 32)).map(lambda a: f"ar:{a[0]}:{a[1]}"),
        st.integers(100, 400).map(lambda d: f"dpr:{d / 100}"),
        st.integers(1, 100).map(lambda q: f"q:{q}"),
        st.sampled_from(["f:auto", "format:avif", "f:webp", "f:jpg", "ext:jpeg", "f:png", "f:gif"]),
        st.integers(0, 2000).map(lambda b: f"bl:{b / 100}"),
        st.integers(0, 1000).map(lambda s: f"sh:{s / 100}"),
        st.sampled_from(["rot:0", "rot:90", "rotate:180", "rot:270", "rot:-90", "rot:360"]),
        st.sampled_from(["flip", "flip:1", "flip:0", "flop:true", "flop:no"]),
        st.sampled_from(
            ["bg:fff", "bg:FFFFFF", "bg:000000", "background:10:20:30", "bg:ff000080", "bg:ffffffff"]
        ),
        st.sampled_from(["strip:1", "strip:0", "sm:false"]),
        st.sampled_from(["el:1", "enlarge:0"]),
        st.sampled_from(["pr:thumb", "preset:hero"]),
        st.integers(1, 2**31).map(lambda e: f"exp:{e}"),
    ),
    max_size=12,
)


def _valid(options: list[str]) -> list[str] | None:
    """Drop repeats of the same option (a 400 by design), keep the first occurrence."""
    seen: set[str] = set()
    kept = []
    for segment in options:
        name = segment.split(":")[0]
        name = {"w": "width", "height": "h", "rt": "fit", "resize": "fit", "gravity": "g", "format": "f",
                "ext": "f", "rotate": "rot", "background": "bg", "sm": "strip", "enlarge": "el", "fp": "g",
                "preset": "pr"}.get(name, name)  # fmt: skip
        if name in seen:
            continue
        seen.add(name)
        kept.append(segment)
    return kept


@settings(max_examples=400, deadline=None)
@given(segments)
def test_parse_of_canonical_is_identity(options: list[str]) -> None:
    options = _valid(options) or []
    try:
        spec = parse_options(options, SETTINGS)
    except OptionError as exc:
        # The legitimate refusals of these inputs: ar alongside both width and height, and sizes that dpr or
        # ar fold beyond what a canonical w/h may say.
        assert exc.option == "aspect" or "gives a side over" in exc.message
        return
    canonical = spec.canonical()
    assert parse(canonical) == spec
    assert parse(canonical).canonical() == canonical


@settings(max_examples=300, deadline=None)
@given(segments, st.randoms(use_true_random=False))
def test_option_order_does_not_matter(options: list[str], rnd: object) -> None:
    options = _valid(options) or []
    shuffled = list(options)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    try:
        expected = parse_options(options, SETTINGS).canonical()
    except OptionError:
        with pytest.raises(OptionError):
            parse_options(shuffled, SETTINGS)
        return
    assert parse_options(shuffled, SETTINGS).canonical() == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("w:400/h:300/fit:cover/g:smart/q:75/f:auto", "h:300/width:400/rt:fill/gravity:sm/quality:75"),
        ("w:400", "w:400/fit:inside/g:ce/f:auto/strip:1/el:0/rot:0/bg:ffffff/flip:0/dpr:1"),
        ("w:400/g:north", "w:400"),  # gravity cannot change a fit-inside result
        ("w:200/dpr:2", "w:400"),
        ("w:400/ar:16:9", "w:400/h:225"),
        ("w:400/ar:32:18", "w:400/h:225"),
        ("pr:thumb", "w:200/h:200/fit:cover/g:sm"),
        ("pr:thumb/g:no", "w:200/h:200/fit:cover/g:no"),
        ("rot:-90", "rot:270"),
        ("bg:F00", "bg:ff0000ff"),
        ("fit:cover/w:300", "w:300"),  # one free side: every mode fits inside
        ("f:jpg", "format:jpeg"),
    ],
)
def test_equivalent_urls_share_one_canonical_form(a: str, b: str) -> None:
    assert canon(a) == canon(b)


def test_extension_sets_the_format() -> None:
    assert parse("w:100", "webp") == parse("w:100/f:webp")
    with pytest.raises(OptionError, match="format"):
        parse("f:png", "webp")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ("w:abc", "w:"),
        ("width:-5", "width:"),
        ("w:100001", "w:"),
        ("q:0", "q:"),
        ("quality:101", "quality:"),
        ("dpr:5", "dpr:"),
        ("f:bmp", "f:"),
        ("fit:squash", "fit:"),
        ("g:up", "g:"),
        ("fp:1.5:0.5", "fp:"),
        ("c:0:0:0:10", "c:"),
        ("c:1:2:3", "c:"),
        ("rot:45", "rot:"),
        ("bg:zzzzzz", "bg:"),
        ("bl:101", "bl:"),
        ("sh:-1", "sh:"),
        ("flip:maybe", "flip:"),
        ("pr:nosuch", "pr:"),
        ("zoom:2", "zoom:"),
        ("w:1/width:2", "width:"),
        ("g:no/fp:0.5:0.5", "fp:"),
        ("w:400/h:300/ar:1:1", "aspect:"),
    ],
)
def test_bad_options_name_the_offender(options: str, named: str) -> None:
    with pytest.raises(OptionError) as info:
        parse(options)
    assert info.value.message.startswith(named)
    assert info.value.status == 400


def test_empty_segment_is_a_bad_request() -> None:
    with pytest.raises(UrlError):
        parse_options(["w:1", "", "h:2"], SETTINGS)


def test_max_dpr_setting() -> None:
    with pytest.raises(OptionError, match="dpr"):
        parse_options(["w:10", "dpr:3"], ParseSettings(max_dpr=2))


def test_expiry_is_in_the_signed_form_but_not_in_the_key_form() -> None:
    spec = parse("w:10/exp:2000000000")
    assert spec.canonical() == "w:10/exp:2000000000"
    assert spec.canonical(with_expiry=False) == "w:10"


@pytest.mark.parametrize(
    "option",
    [
        "w:\u0661\u0662\u0660",  # Arabic-Indic digits, which int() reads as 120
        "w:1_000",
        "w: 5",
        "w:+5",
        "w:0x10",
        "dpr:1e0",
        "bl:\u0661",
        "bl:nan",
        "bg:fffffff\n",
        "bg:fff\n",
    ],
)
def test_numbers_are_ascii_digits_in_one_spelling(option: str) -> None:
    with pytest.raises(OptionError):
        parse_options([option], ParseSettings())
