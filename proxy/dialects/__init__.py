"""URL dialects: each turns its own URL grammar into one ParsedRequest; the rest of the proxy sees only that.

A dialect owns a path prefix; native owns every path no other dialect claims. Adding one (thumbor,
imgproxy, Next.js) is a module here, a row in DIALECTS and its tests; see docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from imgedge.proxy.dialects.base import BOUNDED, UNSIGNED, Credential, Dialect, ParsedRequest, ReplyHeaders
from imgedge.proxy.dialects.imgproxy import IMGPROXY, ImgproxyDialect
from imgedge.proxy.dialects.native import NATIVE, NativeDialect
from imgedge.proxy.dialects.next_image import NEXT_IMAGE, NextImageDialect
from imgedge.proxy.dialects.prompt import PROMPT, PromptDialect
from imgedge.proxy.dialects.thumbor import THUMBOR, ThumborDialect

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

# One row per dialect; a prefixed dialect whose prefix setting is empty is switched off.
DIALECTS: Mapping[str, Callable[[ProxyConfig], Dialect]] = MappingProxyType(
    {
        NATIVE: NativeDialect, THUMBOR: ThumborDialect, IMGPROXY: ImgproxyDialect,
        NEXT_IMAGE: NextImageDialect, PROMPT: PromptDialect,
    }
)  # fmt: skip


class DialectRouter:
    """Picks a dialect by path prefix (`/name`, no trailing slash), longest first, else the unprefixed one."""

    def __init__(self, dialects: Sequence[Dialect]) -> None:
        fallbacks = [d for d in dialects if not d.prefix]
        if len(fallbacks) != 1:
            raise ValueError(f"exactly one dialect must own the unprefixed paths, got {len(fallbacks)}")
        self._fallback = fallbacks[0]
        prefixed = sorted((d for d in dialects if d.prefix), key=lambda d: len(d.prefix), reverse=True)
        self._prefixed = tuple((d.prefix, d) for d in prefixed)

    def parse(self, path: str, query: str) -> ParsedRequest:
        for prefix, dialect in self._prefixed:
            # Whole segments only: `/thumbor` owns `/thumbor/…`, not `/thumbnails/…`.
            if path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in ("", "/"):
                return dialect.parse(path[len(prefix) :], query)
        return self._fallback.parse(path, query)


def build_dialects(config: ProxyConfig) -> DialectRouter:
    dialects = [(name, make(config)) for name, make in DIALECTS.items()]
    return DialectRouter([dialect for name, dialect in dialects if name == NATIVE or dialect.prefix])


__all__ = [
    "BOUNDED", "DIALECTS", "UNSIGNED", "Credential", "Dialect", "DialectRouter", "ParsedRequest",
    "ReplyHeaders", "build_dialects",
]  # fmt: skip
