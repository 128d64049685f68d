"""The S3 originals store against a real S3 server (`rclone serve s3`)."""

from __future__ import annotations

import hashlib
import re

import pytest

from imgedge.env import ConfigError
from imgedge.generator.storage.blobs import BlobNotFound, S3BlobStore, open_blob_store
from imgedge.generator.storage.errors import StoreUnavailable
from tests.engines.s3 import S3Server

KEY = "0123456789abcdef" * 2
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64


def test_put_get_exists_delete_under_the_prefix(s3_server: S3Server, s3_bucket: str) -> None:
    blobs = open_blob_store(f"s3://{s3_bucket}/originals/v1")
    assert isinstance(blobs, S3BlobStore)
    assert not blobs.exists(KEY)
    with pytest.raises(BlobNotFound):
        blobs.get(KEY)
    blobs.put(KEY, PNG)
    blobs.put(KEY, PNG)  # same key, same bytes: a second put changes nothing
    assert blobs.exists(KEY) and blobs.get(KEY) == PNG
    # One whole object under the prefix, named by the asset id, and nothing else.
    stored = s3_server.root / s3_bucket / "originals" / "v1" / f"{KEY}.png"
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(PNG).digest()
    assert [p.name for p in stored.parent.iterdir()] == [f"{KEY}.png"]
    blobs.delete(KEY)
    blobs.delete(KEY)
    assert not blobs.exists(KEY)
    assert blobs.readiness_problem() is None


def test_keys_that_are_not_asset_ids_never_become_object_names(s3_bucket: str) -> None:
    blobs = open_blob_store(f"s3://{s3_bucket}")
    for key in ("../other-bucket/x", KEY.upper(), KEY + "0", ""):
        with pytest.raises(ValueError):
            blobs.put(key, b"x")


def test_a_wrong_secret_stops_the_start_naming_the_setting(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789")
    with pytest.raises(
        ConfigError, match=r"IMGEDGE_STORE_URL: .*refused the credentials.*AWS_SECRET_ACCESS_KEY"
    ):
        open_blob_store(f"s3://{s3_bucket}/originals")


def test_a_missing_bucket_stops_the_start_naming_the_setting(s3_bucket: str) -> None:
    with pytest.raises(ConfigError, match="IMGEDGE_STORE_URL: bucket 'no-such-bucket' does not exist"):
        open_blob_store("s3://no-such-bucket/originals")


def test_an_unreachable_endpoint_stops_the_start_naming_the_setting(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMGEDGE_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(
        ConfigError, match=re.escape("IMGEDGE_S3_ENDPOINT_URL: cannot reach http://127.0.0.1:9")
    ):
        open_blob_store(f"s3://{s3_bucket}")


def test_a_store_that_goes_away_is_unavailable_not_missing(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = open_blob_store(f"s3://{s3_bucket}")
    blobs.put(KEY, PNG)
    assert isinstance(blobs, S3BlobStore)
    # The same store once its server is gone: every call is a 503 with Retry-After, never "not found".
    monkeypatch.setenv("IMGEDGE_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    from imgedge.s3 import s3_client

    gone = S3BlobStore(blobs.location, s3_client(connect_timeout_s=1, attempts=1))
    for call in (lambda: gone.get(KEY), lambda: gone.exists(KEY), lambda: gone.put(KEY, PNG)):
        with pytest.raises(StoreUnavailable) as unavailable:
            call()
        assert unavailable.value.status == 503 and unavailable.value.headers["Retry-After"] == "5"
    assert "unavailable" in str(gone.readiness_problem())
