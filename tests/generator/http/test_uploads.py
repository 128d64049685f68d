from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from PIL import Image
from skimage import data as skimage_data

from imgedge.generator.config import GeneratorConfig
from tests.conftest import libvips_blocked


def astronaut() -> np.ndarray:
    # skimage ships this photo inside the package: no download.
    photo: np.ndarray = skimage_data.astronaut()  # type: ignore[no-untyped-call]
    return photo


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    png: bytes = pyvips.Image.new_from_array(
        np.ascontiguousarray(astronaut()[:height, :width]), interpretation="srgb"
    ).write_to_buffer(".png")
    return png


def bomb_header(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG signature and IHDR claiming 10 gigapixels, followed by almost nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\0" * 1000)
    idat_chunk = struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + chunk + idat_chunk


def rotated_jpeg_with_gps() -> bytes:
    """A real photo, stored sideways (landscape) with EXIF orientation 6 and a GPS position."""
    photo = Image.fromarray(astronaut()[:, :, :3]).resize((120, 80))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "TestCam"
    gps = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    photo.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def upload_url(client: Any, **body: Any) -> str:
    response = client.post("/v1/uploads", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["method"] == "PUT"
    url: str = response.json()["upload_url"]
    return url


def stored_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "originals").rglob("*") if p.is_file()]


def test_upload_stores_a_canonical_original(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    with served.client() as client:
        url = upload_url(client)
        stored = client.put(url, content=png_bytes())
        assert stored.status_code == 201, stored.text
        asset = stored.json()["asset_id"]
        meta = client.get(f"/v1/images/{asset}").json()
        assert (meta["width"], meta["height"]) == (40, 30)
        assert meta["provenance"]["origin"] == "upload"
        assert meta["provenance"]["digital_source_type"] is None
        assert client.get(f"/originals/{asset}").status_code == 200
        # Single use: the same URL cannot store a second file.
        assert client.put(url, content=png_bytes(20, 20)).status_code == 409


def test_exif_orientation_applied_and_gps_stripped(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    source = rotated_jpeg_with_gps()
    assert pyvips.Image.new_from_buffer(source, "").get_typeof("exif-ifd3-GPSLatitude") != 0
    with served.client() as client:
        stored = client.put(upload_url(client), content=source, headers={"content-type": "text/plain"})
        assert stored.status_code == 201, stored.text
        original = client.get(f"/originals/{stored.json()['asset_id']}").content
    image = pyvips.Image.new_from_buffer(original, "")
    assert (image.width, image.height) == (80, 120)  # portrait after applying the orientation
    assert [f for f in image.get_fields() if f.startswith(("exif", "xmp", "iptc"))] == []
    assert b"GPS" not in original and b"TestCam" not in original


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [
        ("zero bytes", b"", 422),
        ("truncated png", png_bytes()[:200], 422),
        ("random bytes", os.urandom(4096), 415),
        (
            "svg claiming to be an image",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>',
            415,
        ),
        ("decompression bomb header", bomb_header(), 413),
    ],
)
def test_bad_files_get_4xx_and_leave_nothing_behind(
    serve: Any, config: GeneratorConfig, name: str, body: bytes, status: int
) -> None:
    served = serve(config)
    with served.client() as client:
        url = upload_url(client)
        response = client.put(url, content=body, headers={"content-type": "image/png"})
        assert response.status_code == status, (name, response.text)
        assert response.json()["error"]
        assert stored_files(served.config.data_dir) == []
        # A refused file does not use up the URL.
        assert client.put(url, content=png_bytes()).status_code == 201


def test_oversized_upload_is_refused(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config, max_upload_bytes=1000)
    with served.client() as client:
        response = client.put(upload_url(client), content=png_bytes(200, 200))
        assert response.status_code == 413
        streamed = client.put(upload_url(client), content=iter([b"\x89PNG\r\n\x1a\n", b"\0" * 2000]))
        assert streamed.status_code == 413
    assert stored_files(served.config.data_dir) == []


def test_forged_and_expired_upload_urls_are_refused(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    with served.client() as client:
        assert client.put("/v1/uploads/not-a-token", content=png_bytes()).status_code == 403
        forged = URLSafeTimedSerializer("wrong-secret", salt="imgedge-upload-v1").dumps(
            {"u": "x", "t": False}
        )
        assert client.put(f"/v1/uploads/{forged}", content=png_bytes()).status_code == 403

        class SignedLongAgo(TimestampSigner):
            def get_timestamp(self) -> int:
                return 1_000_000_000

        old = URLSafeTimedSerializer("upload-secret", salt="imgedge-upload-v1", signer=SignedLongAgo)
        expired = old.dumps({"u": "x", "t": False})
        assert client.put(f"/v1/uploads/{expired}", content=png_bytes()).status_code == 410


def test_temporary_upload_expires(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    with served.client() as client:
        stored = client.put(upload_url(client, temporary=True), content=png_bytes())
        meta = client.get(f"/v1/images/{stored.json()['asset_id']}").json()
    assert meta["temporary"] is True and meta["expires_at"] is not None


def test_a_library_failure_on_a_good_upload_is_a_counted_500(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    with served.client() as client:
        url, upload = upload_url(client), png_bytes()
        with libvips_blocked("VipsForeignSavePng"):  # the canonical PNG cannot be written
            failed = client.put(url, content=upload)
        assert failed.status_code == 500 and failed.json()["error"] == "image processing failed"
        assert "imgedge_generator_libvips_failures_total 1.0\n" in client.get("/metrics").text
        assert stored_files(served.config.data_dir) == []
        assert client.put(url, content=upload).status_code == 201  # the URL was not used up
