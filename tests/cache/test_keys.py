from __future__ import annotations

import inspect
import re

from hypothesis import given
from hypothesis import strategies as st

from imgedge.cache.keys import KEY_SCHEMA, asset_tag, source_key, variant_key

ids = st.text(min_size=1, max_size=80)
specs = st.text(max_size=200)
formats = st.sampled_from(["webp", "avif", "jpeg", "png"])
versions = st.text(min_size=1, max_size=10)
FILE_SAFE = re.compile(r"[A-Za-z0-9._~/-]+")


@given(ids, specs, formats, versions)
def test_same_inputs_same_key(asset_id: str, spec: str, fmt: str, version: str) -> None:
    assert variant_key(asset_id, spec, fmt, version) == variant_key(asset_id, spec, fmt, version)


@given(ids, specs, formats, versions)
def test_keys_are_versioned_and_safe_as_file_names(asset_id: str, spec: str, fmt: str, version: str) -> None:
    for key in (variant_key(asset_id, spec, fmt, version), source_key(asset_id)):
        assert key.startswith(KEY_SCHEMA + "/")
        assert FILE_SAFE.fullmatch(key)
        assert ".." not in key.split("/")
        assert all(part and not part.startswith(".") for part in key.split("/"))


@given(ids, specs, specs, formats, formats, versions, versions)
def test_anything_that_changes_the_bytes_changes_the_key(
    asset_id: str, spec_a: str, spec_b: str, fmt_a: str, fmt_b: str, ver_a: str, ver_b: str
) -> None:
    base = variant_key(asset_id, spec_a, fmt_a, ver_a)
    assert (variant_key(asset_id, spec_b, fmt_a, ver_a) == base) == (spec_a == spec_b)
    assert (variant_key(asset_id, spec_a, fmt_b, ver_a) == base) == (fmt_a == fmt_b)
    assert (variant_key(asset_id, spec_a, fmt_a, ver_b) == base) == (ver_a == ver_b)


@given(ids, ids, specs)
def test_different_assets_never_share_a_key(a: str, b: str, spec: str) -> None:
    assert (variant_key(a, spec, "webp", "1") == variant_key(b, spec, "webp", "1")) == (a == b)
    assert (source_key(a) == source_key(b)) == (a == b)


def test_field_boundaries_cannot_be_shifted() -> None:
    assert variant_key("a", "w:400", "webp", "1") != variant_key("a", "w:40", "0webp", "1")


def test_plain_asset_ids_stay_readable_in_the_key() -> None:
    asset = "0123abcd" * 8
    assert variant_key(asset, "w:400", "webp", "1").startswith(f"v1/var/{asset}/")
    assert source_key(asset) == f"v1/src/{asset}/original"
    assert source_key(asset, "vips") == f"v1/src/{asset}/vips"


def test_unsafe_asset_ids_are_hashed() -> None:
    key = source_key("../../etc/passwd")
    assert "passwd" not in key and ".." not in key


def test_variant_and_source_keys_never_collide() -> None:
    assert variant_key("a", "", "webp", "1") != source_key("a")


def test_the_url_signature_is_not_an_input() -> None:
    params = list(inspect.signature(variant_key).parameters)
    assert params == ["asset_id", "canonical_spec", "output_format", "encoder_version"]
    assert list(inspect.signature(source_key).parameters) == ["asset_id", "form"]


def test_asset_tag() -> None:
    assert asset_tag("0123abcd") == "asset:0123abcd"
