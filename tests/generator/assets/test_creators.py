"""Who made an asset: a set of callers per asset, forgotten with the record."""

from __future__ import annotations

from pathlib import Path

from imgedge.generator.assets.canonical import canonicalize
from imgedge.generator.assets.records import Provenance
from tests.generator.assets.test_store import open_store, png


def test_creators_are_a_set_and_go_with_the_record(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    canonical = canonicalize(png(5), max_pixels=100)
    record = store.put(canonical, Provenance(origin="upload"), moderation="pending")
    for creator in ("anon:192.0.2.1", "anon:192.0.2.1", "admin"):
        store.creators.record(record.id, creator)
    assert store.creators.made_by(record.id, "anon:192.0.2.1") and store.creators.made_by(record.id, "admin")
    assert not store.creators.made_by(record.id, "anon:192.0.2.2")
    assert store.delete(record.id)
    again = store.put(canonical, Provenance(origin="upload"), moderation="pending")
    assert again.id == record.id and not store.creators.made_by(record.id, "anon:192.0.2.1")
