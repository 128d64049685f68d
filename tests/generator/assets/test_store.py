from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from imgedge.generator.assets.canonical import canonicalize
from imgedge.generator.assets.records import Provenance
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.storage.blobs import FilesystemBlobStore
from tests.generator.conftest import store_for


def png(shade: int) -> bytes:
    data: bytes = (pyvips.Image.black(4, 4, bands=3) + shade).cast("uchar").write_to_buffer(".png")
    return data


def open_store(data_dir: Path) -> AssetStore:
    return store_for(GeneratorConfig(data_dir=data_dir))


def test_put_is_idempotent_and_content_addressed(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    canonical = canonicalize(png(1), max_pixels=100)
    first = store.put(canonical, Provenance(origin="ingest"))
    second = store.put(canonical, Provenance(origin="upload"), moderation="pending")
    assert first == second
    assert store.read(first.id) == canonical.png
    layout = FilesystemBlobStore(tmp_path / "originals")
    assert layout.path_for(first.id) == tmp_path / "originals" / first.id[:2] / f"{first.id}.png"
    assert layout.path_for(first.id).read_bytes() == canonical.png


def test_moderation_changes_report_whether_anything_changed(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    record = store.put(canonicalize(png(2), max_pixels=100), Provenance(), moderation="pending")
    assert store.set_moderation(record.id, "approved", "ok") is True
    assert store.set_moderation(record.id, "approved", "ok") is False
    updated = store.get(record.id)
    assert updated is not None and updated.moderation_reason == "ok"
    with pytest.raises(ValueError):
        store.set_moderation(record.id, "maybe")


def test_delete_removes_row_and_file(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    record = store.put(canonicalize(png(3), max_pixels=100), Provenance())
    assert store.delete(record.id) is True
    assert store.get(record.id) is None and not store.blobs.exists(record.id)
    assert not FilesystemBlobStore(tmp_path / "originals").path_for(record.id).exists()
    assert store.delete(record.id) is False


def test_invalid_ids_never_touch_the_filesystem(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    assert store.get("../../etc/passwd") is None
    with pytest.raises(ValueError):
        FilesystemBlobStore(tmp_path / "originals").path_for("../x")
