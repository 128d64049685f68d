"""Moderation decisions belong to the picture: kept against its content hash, whatever happens to records."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imgedge.generator.assets.canonical import canonical_from_pixels, canonicalize
from imgedge.generator.assets.content_hash import content_hash
from imgedge.generator.assets.records import Provenance
from imgedge.generator.assets.rejections import REJECTED_BEFORE
from tests.generator.assets.test_store import open_store, png


def test_the_hash_ignores_text_chunks() -> None:
    pixels = np.random.default_rng(1).random((16, 24, 3))
    generated = canonical_from_pixels(pixels, {"imgedge:prompt": "a fox"}, "trainedAlgorithmicMedia")
    uploaded = canonicalize(generated.png, max_pixels=10_000)  # the same picture, its provenance stripped
    assert generated.asset_id != uploaded.asset_id
    assert content_hash(generated.png) == content_hash(uploaded.png)
    assert content_hash(canonicalize(png(7), max_pixels=100).png) != content_hash(uploaded.png)


def test_a_rejected_picture_stays_rejected_after_deletion(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    canonical = canonicalize(png(3), max_pixels=100)
    record = store.put(canonical, Provenance(origin="upload"), temporary=True, expires_at=1.0)
    assert store.set_moderation(record.id, "rejected", "not allowed")
    assert store.delete(record.id)  # what expiry does
    again = store.put(canonical, Provenance(origin="upload"))
    assert (again.id, again.moderation, again.moderation_reason) == (record.id, "rejected", REJECTED_BEFORE)


def test_an_approval_lifts_the_rejection(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    canonical = canonicalize(png(4), max_pixels=100)
    record = store.put(canonical, Provenance(origin="upload"))
    store.set_moderation(record.id, "rejected", "first look")
    store.set_moderation(record.id, "approved", "second look")
    store.delete(record.id)
    assert store.put(canonical, Provenance(origin="upload")).moderation == "approved"


def test_every_record_of_the_picture_is_found(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    pixels = np.random.default_rng(2).random((8, 8, 3))
    generated = store.put(
        canonical_from_pixels(pixels, {"imgedge:prompt": "x"}, None), Provenance("generated")
    )
    uploaded = store.put(canonicalize(store.read(generated.id), max_pixels=1000), Provenance(origin="upload"))
    assert store.same_content(generated.id) == [uploaded.id]
    store.set_moderation(uploaded.id, "rejected", "no")
    # A generation that lands on a rejected picture is born rejected too.
    assert store.put(
        canonical_from_pixels(pixels, {"imgedge:prompt": "y"}, None), Provenance()
    ).moderation == ("rejected")


def test_a_record_stored_before_hashes_were_kept_is_hashed_when_judged(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    canonical = canonicalize(png(5), max_pixels=100)
    record = store.put(canonical, Provenance(origin="ingest"))
    store.rejections.forget(record.id)  # as if stored by an older version
    store.set_moderation(record.id, "rejected", "old one")
    store.delete(record.id)
    assert store.put(canonical, Provenance(origin="ingest")).moderation == "rejected"
