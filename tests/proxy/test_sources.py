"""Source refs and the filesystem source (the HTTP source is exercised against a real origin in
test_http.py and test_faults.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imgedge.cache.keys import source_key
from imgedge.env import ConfigError
from imgedge.errors import PublicError
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.sources import SOURCES, DirectorySource, HttpSource, SourceRef, build_source

_ASSET_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def test_asset_refs_keep_their_id_and_other_refs_get_a_derived_one() -> None:
    assert SourceRef.asset("cat").cache_id == "cat"
    remote = SourceRef("url", "https://example.com/cat.png")
    derived = remote.cache_id
    assert derived == SourceRef("url", "https://example.com/cat.png").cache_id
    assert derived != SourceRef("url", "https://example.com/dog.png").cache_id
    assert not _ASSET_ID.fullmatch(derived)  # can never be mistaken for an asset
    assert "~" not in source_key(derived)  # usable as a key segment as it is


@pytest.fixture()
def originals(tmp_path: Path) -> Path:
    root = tmp_path / "originals"
    (root / "ab").mkdir(parents=True)
    (root / "plain").write_bytes(b"plain bytes")
    (root / "suffixed.jpg").write_bytes(b"suffixed bytes")
    (root / "ab" / "abcdef.png").write_bytes(b"store layout bytes")
    (root / "huge.png").write_bytes(b"x" * 101)
    return root


def directory(root: Path, max_bytes: int = 100) -> DirectorySource:
    return DirectorySource(ProxyConfig(data_dir=root.parent, originals_dir=root, max_src_bytes=max_bytes))


@pytest.mark.parametrize(
    ("asset_id", "data"),
    [("plain", b"plain bytes"), ("suffixed", b"suffixed bytes"), ("abcdef", b"store layout bytes")],
)
async def test_directory_source_finds_each_layout(originals: Path, asset_id: str, data: bytes) -> None:
    image = await directory(originals).fetch(SourceRef.asset(asset_id))
    assert image.data == data and image.moderation == "approved" and len(image.etag) == 32


@pytest.mark.parametrize(
    ("ref", "status"),
    [(SourceRef.asset("missing"), 404), (SourceRef.asset("huge"), 413), (SourceRef("url", "plain"), 404)],
)
async def test_directory_source_refusals(originals: Path, ref: SourceRef, status: int) -> None:
    with pytest.raises(PublicError) as raised:
        await directory(originals).fetch(ref)
    assert raised.value.status == status


async def test_directory_source_readiness(originals: Path) -> None:
    assert await directory(originals).ready() is None
    assert "missing" in str(await directory(originals / "gone").ready())


async def test_the_table_builds_sources_and_config_accepts_only_its_names(tmp_path: Path) -> None:
    for name, kind in (("filesystem", DirectorySource), ("http", HttpSource)):
        source = build_source(ProxyConfig(data_dir=tmp_path, source=name))
        assert isinstance(source.assets, kind) and not source.others  # no remote sources allowed
        await source.aclose()
    with pytest.raises(ConfigError, match=", ".join(SOURCES)):
        ProxyConfig(data_dir=tmp_path, source="ftp", keys=(b"k",)).validate()
