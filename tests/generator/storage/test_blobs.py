from __future__ import annotations

from pathlib import Path

import pytest

from imgedge.generator.storage.blobs import BlobNotFound, FilesystemBlobStore, open_blob_store
from imgedge.generator.storage.urls import file_url

KEY = "0123456789abcdef" * 2


def test_put_get_exists_delete(tmp_path: Path) -> None:
    blobs = FilesystemBlobStore(tmp_path / "originals")
    assert not blobs.exists(KEY)
    with pytest.raises(BlobNotFound):
        blobs.get(KEY)
    blobs.put(KEY, b"first")
    blobs.put(KEY, b"first")  # the same key holds the same bytes: a second put changes nothing
    assert blobs.exists(KEY) and blobs.get(KEY) == b"first"
    # Complete or absent: nothing but the blob itself is left in its directory.
    assert [p.name for p in (tmp_path / "originals" / KEY[:2]).iterdir()] == [f"{KEY}.png"]
    blobs.delete(KEY)
    blobs.delete(KEY)
    assert not blobs.exists(KEY)
    assert blobs.readiness_problem() is None


def test_keys_that_are_not_asset_ids_never_reach_the_filesystem(tmp_path: Path) -> None:
    blobs = FilesystemBlobStore(tmp_path / "originals")
    for key in ("../../etc/passwd", KEY.upper(), KEY + "0", ""):
        with pytest.raises(ValueError):
            blobs.put(key, b"x")
        with pytest.raises(ValueError):
            blobs.get(key)


def test_blob_stores_are_opened_by_url(tmp_path: Path) -> None:
    store = open_blob_store(file_url(tmp_path / "o"))
    assert isinstance(store, FilesystemBlobStore) and store.root == tmp_path / "o"
    with pytest.raises(ValueError, match="no blob store for ftp"):
        open_blob_store("ftp://host/originals")
