"""Whose fault a libvips error is: the input's when it does not decode on its own, the library's otherwise."""

from __future__ import annotations

import logging

import pytest
import pyvips

from imgedge.imaging.errors import CorruptImage, LibvipsFailure
from imgedge.imaging.failures import blame, decodes
from tests.conftest import libvips_blocked, photo


def failure_of(action: str, image: pyvips.Image) -> pyvips.Error:
    try:
        getattr(image, action)(sigma=1).avg()
    except pyvips.Error as exc:
        return exc
    raise AssertionError(f"{action} did not fail")


def test_damaged_input_is_the_clients_fault() -> None:
    png = photo("coffee", 64).write_to_buffer(".png")
    truncated = png[: len(png) * 2 // 3]
    assert decodes(png) and not decodes(truncated)
    try:
        pyvips.Image.new_from_buffer(truncated, "", fail_on="error").avg()
    except pyvips.Error as exc:
        error = blame(exc, truncated, stage="transform")
    assert isinstance(error, CorruptImage) and error.status == 422
    assert error.message in ("source image is truncated", "source image could not be decoded")


def test_a_library_failure_on_good_input_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    png = photo("coffee", 64).write_to_buffer(".png")
    image = pyvips.Image.new_from_buffer(png, "")
    with libvips_blocked("VipsSharpen"):
        exc = failure_of("sharpen", image)
    with caplog.at_level(logging.ERROR, logger="imgedge.imaging"):
        error = blame(exc, png, stage="transform")
    assert isinstance(error, LibvipsFailure)
    assert (error.status, error.message, error.stage) == (500, "image processing failed", "transform")
    assert "operation is blocked" in error.detail and "blocked" not in error.message
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert "operation is blocked" in record.getMessage()
    assert record.fields["stage"] == "transform"  # type: ignore[attr-defined]


def test_without_the_input_nothing_is_blamed_on_the_client() -> None:
    image = photo("coffee", 32)
    with libvips_blocked("VipsSharpen"):
        exc = failure_of("sharpen", image)
    assert isinstance(blame(exc, None, stage="encode"), LibvipsFailure)
