"""Where originals come from. The pipeline only ever sees bytes; sources plug in through this table.

Adding a source is a module here, a row in SOURCES and its tests; see docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from imgedge.proxy.sources.base import ASSET, Source, SourceImage, SourceRef, asset_id_of
from imgedge.proxy.sources.filesystem import DirectorySource
from imgedge.proxy.sources.http import HttpSource

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

SOURCES: Mapping[str, Callable[[ProxyConfig], Source]] = MappingProxyType(
    {"http": HttpSource, "filesystem": DirectorySource}
)


def build_source(config: ProxyConfig) -> Source:
    return SOURCES[config.source](config)


__all__ = [
    "ASSET", "SOURCES", "DirectorySource", "HttpSource", "Source", "SourceImage", "SourceRef", "asset_id_of",
    "build_source",
]  # fmt: skip
