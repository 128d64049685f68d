from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from imgedge.generator.atomic import write_atomic
from imgedge.generator.canonical import canonicalize
from imgedge.generator.store import OriginalStore, Provenance


def png(shade: int) -> bytes:
    data: bytes = (pyvips.Image.black(4, 4, bands=3) + shade).cast("uchar").write_to_buffer(".png")
    return data


def test_put_is_idempotent_and_content_addressed(tmp_path: Path) -> None:
    store = OriginalStore(tmp_path)
    canonical = canonicalize(png(1), max_pixels=100)
    first = store.put(canonical, Provenance(origin="ingest"))
    second = store.put(canonical, Provenance(origin="upload"), moderation="pending")
    assert first == second
    assert store.read(first.id) == canonical.png
    assert store.path_for(first.id) == tmp_path / "originals" / first.id[:2] / f"{first.id}.png"


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "x" / "file.png"

    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert not target.exists()
    assert list((tmp_path / "x").iterdir()) == []
    write_atomic(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["file.png"]


def test_moderation_changes_report_whether_anything_changed(tmp_path: Path) -> None:
    store = OriginalStore(tmp_path)
    record = store.put(canonicalize(png(2), max_pixels=100), Provenance(), moderation="pending")
    assert store.set_moderation(record.id, "approved", "ok") is True
    assert store.set_moderation(record.id, "approved", "ok") is False
    updated = store.get(record.id)
    assert updated is not None and updated.moderation_reason == "ok"
    with pytest.raises(ValueError):
        store.set_moderation(record.id, "maybe")


def test_delete_removes_row_and_file(tmp_path: Path) -> None:
    store = OriginalStore(tmp_path)
    record = store.put(canonicalize(png(3), max_pixels=100), Provenance())
    assert store.delete(record.id) is True
    assert store.get(record.id) is None and not store.path_for(record.id).exists()
    assert store.delete(record.id) is False


def test_invalid_ids_never_touch_the_filesystem(tmp_path: Path) -> None:
    store = OriginalStore(tmp_path)
    assert store.get("../../etc/passwd") is None
    with pytest.raises(ValueError):
        store.path_for("../x")
