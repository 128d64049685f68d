"""Where originals come from. The pipeline only ever sees bytes; sources plug in through this table.

Adding a source is a module here, a row in SOURCES and its tests; see docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from imgedge.proxy.sources.base import ASSET, REMOTE, S3, Source, SourceImage, SourceRef, asset_id_of
from imgedge.proxy.sources.filesystem import DirectorySource
from imgedge.proxy.sources.http import HttpSource
from imgedge.proxy.sources.router import SourceRouter

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

# Where asset ids are read from (IMGEDGE_SOURCE). Remote and S3 URLs have their own sources in the router.
SOURCES: Mapping[str, Callable[[ProxyConfig], Source]] = MappingProxyType(
    {"http": HttpSource, "filesystem": DirectorySource}
)


def build_source(config: ProxyConfig, assets: Source | None = None) -> SourceRouter:
    """Every source the proxy reads, behind one router; `assets` replaces the configured asset source."""
    return SourceRouter.from_config(config, assets or SOURCES[config.source](config))


__all__ = [
    "ASSET", "REMOTE", "S3", "SOURCES", "DirectorySource", "HttpSource", "Source", "SourceImage", "SourceRef",
    "SourceRouter", "asset_id_of", "build_source",
]  # fmt: skip
