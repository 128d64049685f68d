from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imgedge.cache.entry import CorruptEntry, Entry, decode_entry, encode_entry

texts = st.text(max_size=40)
entries = st.builds(
    Entry,
    body=st.binary(max_size=2000),
    media_type=texts,
    etag=texts,
    tags=st.lists(texts, max_size=4).map(tuple),
    created_at=st.floats(min_value=0, max_value=4e9),
    headers=st.lists(st.tuples(texts, texts), max_size=3).map(tuple),
)


@given(entries)
def test_round_trip(entry: Entry) -> None:
    assert decode_entry(encode_entry(entry)) == entry


@given(entries, st.data())
def test_any_truncation_is_detected(entry: Entry, data: st.DataObject) -> None:
    encoded = encode_entry(entry)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    with pytest.raises(CorruptEntry):
        decode_entry(encoded[:cut])


@given(entries, st.data())
def test_any_flipped_byte_is_detected(entry: Entry, data: st.DataObject) -> None:
    encoded = bytearray(encode_entry(entry))
    index = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    encoded[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(CorruptEntry):
        decode_entry(bytes(encoded))


def test_appended_bytes_are_detected() -> None:
    encoded = encode_entry(Entry(b"body", "image/png", '"x"', ("asset:a",), 1.0))
    with pytest.raises(CorruptEntry):
        decode_entry(encoded + b"\0")


@pytest.mark.parametrize("garbage", [b"", b"IEC1", b"\x89PNG\r\n\x1a\n" + b"\0" * 64])
def test_garbage_is_detected(garbage: bytes) -> None:
    with pytest.raises(CorruptEntry):
        decode_entry(garbage)
