"""The format table in imgedge.formats is the only list of output formats; the CDN tier must follow it."""

from __future__ import annotations

import re
from pathlib import Path

from imgedge.formats import AUTO_ORDER, FORMATS

ROOT = Path(__file__).resolve().parents[2]
VCL = ROOT / "deploy" / "varnish" / "default.vcl"


def normalise_accept_sub() -> str:
    match = re.search(r"^sub imgedge_normalize_accept \{\n(.*?)^\}", VCL.read_text(), re.M | re.S)
    assert match, "deploy/varnish/default.vcl has no sub imgedge_normalize_accept"
    return match.group(1)


def test_the_vcl_tries_every_negotiable_format_in_rank_order() -> None:
    body = normalise_accept_sub()
    branches = re.findall(r'set req\.http\.Accept = "([^"]+)";', body)
    assert branches[:-1] == [f.media_type for f in AUTO_ORDER], (
        "add a branch to the VCL for each ranked format"
    )
    legacy = set(branches[-1].split(","))
    assert legacy == {f.media_type for f in FORMATS if f.fallback_for}
    for fmt in AUTO_ORDER:
        assert f"image/{fmt.media_type.removeprefix('image/')}[[:space:]]*(,|$|;" in body, fmt.name


def test_no_proxy_module_keeps_its_own_media_types() -> None:
    media_types = [f.media_type for f in FORMATS]
    for module in sorted((ROOT / "proxy").rglob("*.py")):
        text = module.read_text()
        assert not [m for m in media_types if m in text], f"{module.relative_to(ROOT)} names a media type"


def test_the_vcl_rounds_hints_to_the_proxys_buckets() -> None:
    from imgedge.url.hints import DPR_BUCKETS, WIDTH_BUCKETS, dpr_bucket

    text = VCL.read_text()
    widths = re.search(r"sub imgedge_width_bucket \{(.*?)\n\}", text, re.S)
    assert widths is not None
    assert tuple(int(w) for w in re.findall(r'X-Imgedge-Width = "(\d+)"', widths.group(1))) == WIDTH_BUCKETS
    hints = re.search(r"sub imgedge_normalize_hints \{(.*?)\n\}", text, re.S)
    assert hints is not None
    pairs = re.findall(r'<= ([\d.]+)\) \{\n\s+set req.http.Sec-CH-DPR = "([\d.]+)"', hints.group(1))
    for threshold, bucket in pairs:
        assert dpr_bucket(float(threshold)) == float(bucket) and dpr_bucket(float(threshold) + 0.01) > float(
            bucket
        )
    assert len(pairs) == len(DPR_BUCKETS) - 1
