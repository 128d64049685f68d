"""Served variants of generated images keep a minimal provenance XMP, and `strip` removes everything else;
read back by ExifTool, an independent reader."""

from __future__ import annotations

import json

import pytest
import pyvips

from imgedge.formats import BY_NAME
from imgedge.imaging.encode import EncoderSettings, encode
from imgedge.provenance import TRAINED_ALGORITHMIC_MEDIA, ProvenanceLabel
from tests.conftest import photo
from tests.imaging.exiftool import exiftool_tags, metadata_groups

LABEL = ProvenanceLabel(TRAINED_ALGORITHMIC_MEDIA, "https://gen.example.com/v1/images/" + "ab" * 16)
SECRET = "a private prompt"
FORMATS = ("avif", "webp", "jpeg", "png")


def rich_source() -> pyvips.Image:
    """What a canonical original decodes to, and more: an ICC profile, text chunks with a prompt, and an
    XMP packet of its own."""
    image = photo("astronaut", 256).icc_export(output_profile="srgb").copy()
    image.set_type(pyvips.GValue.gstr_type, "png-comment-0-imgedge:prompt", SECRET)
    image.set_type(
        pyvips.GValue.blob_type,
        "xmp-data",
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{SECRET}</x:xmpmeta>'.encode(),
    )
    return image


@pytest.mark.parametrize("fmt", FORMATS)
def test_strip_keeps_only_the_provenance_label(fmt: str) -> None:
    image = rich_source()
    settings = EncoderSettings()
    plain = encode(image, fmt, quality=0, strip=True, settings=settings)
    labelled = encode(image, fmt, quality=0, strip=True, settings=settings, xmp=LABEL.xmp())

    tags = exiftool_tags(labelled, BY_NAME[fmt].suffix)
    assert tags["XMP-iptcExt:DigitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert tags["XMP-dcterms:Provenance"] == LABEL.record
    assert metadata_groups(tags) == {"XMP-iptcExt", "XMP-dcterms"}, tags
    assert SECRET not in json.dumps(tags, ensure_ascii=False)
    assert metadata_groups(exiftool_tags(plain, BY_NAME[fmt].suffix)) == set()
    added = len(labelled) - len(plain)
    print(f"{fmt}: the label adds {added} bytes ({len(plain)} → {len(labelled)})")
    assert 0 < added < 1024


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_prompt_is_written_only_when_given(fmt: str) -> None:
    image = rich_source()
    with_prompt = ProvenanceLabel.checked(
        TRAINED_ALGORITHMIC_MEDIA, LABEL.record, 'dunes & "wind" <at> dusk ☀'
    )
    assert with_prompt is not None
    data = encode(image, fmt, quality=0, strip=True, settings=EncoderSettings(), xmp=with_prompt.xmp())
    tags = exiftool_tags(data, BY_NAME[fmt].suffix)
    assert tags["XMP-iptcExt:AIPromptInformation"] == 'dunes & "wind" <at> dusk ☀'
    assert "XMP-iptcExt:AIPromptInformation" not in exiftool_tags(
        encode(image, fmt, quality=0, strip=True, settings=EncoderSettings(), xmp=LABEL.xmp()),
        BY_NAME[fmt].suffix,
    )


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_strip_0_keeps_the_profile_and_replaces_the_xmp_but_no_text_chunks(fmt: str) -> None:
    image = rich_source()
    data = encode(image, fmt, quality=0, strip=False, settings=EncoderSettings(), xmp=LABEL.xmp())
    tags = exiftool_tags(data, BY_NAME[fmt].suffix)
    assert "ICC_Profile" in {name.split(":")[0] for name in tags}
    assert tags["XMP-iptcExt:DigitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert SECRET not in json.dumps(tags, ensure_ascii=False)
    unlabelled = exiftool_tags(encode(image, fmt, quality=0, strip=False, settings=EncoderSettings()), ".x")
    assert SECRET not in json.dumps(unlabelled, ensure_ascii=False)


def test_untrusted_label_parts_are_dropped_not_written() -> None:
    assert ProvenanceLabel.checked("http://example.com/not-iptc") is None
    label = ProvenanceLabel.checked(TRAINED_ALGORITHMIC_MEDIA, 'javascript:alert(1)"', "x" * 5000)
    assert label == ProvenanceLabel(TRAINED_ALGORITHMIC_MEDIA)
    multi_line = ProvenanceLabel.checked(TRAINED_ALGORITHMIC_MEDIA, "urn:imgedge:asset:1", "two\nlines")
    assert multi_line is not None and multi_line.prompt == "two lines"
