from __future__ import annotations

from imgedge.generator.outbound.transform_urls import TransformUrls


def test_widths_past_the_source_collapse_into_the_source_width() -> None:
    urls = TransformUrls(b"k" * 32, (320, 640, 960, 1280), "http://proxy.test")
    assert urls.widths_for(512) == (320, 512)
    assert urls.widths_for(4000) == (320, 640, 960, 1280)
    assert urls.widths_for(None) == (320, 640, 960, 1280)
    described = urls.describe("0" * 32, 512)
    assert list(described["widths"]) == ["320", "512"]  # type: ignore[call-overload]
    assert str(described["srcset"]).endswith(" 512w")
