"""IMGEDGE_REMOTE_SOURCES: the URL prefixes remote and S3 originals may come from. Nothing else is fetched.

Prefixes are compared part by part, not as strings, so `https://images.example.com` does not admit
`https://images.example.com.evil.net/` or `https://images.example.com@evil.net/`. A host may start with
`*.` for its subdomains; a bare `https://` admits every host (the address checks still apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class AllowedPrefix:
    scheme: str
    host: str  # "" for any host; "*.example.com" for subdomains of example.com
    port: int | None
    path: str

    @classmethod
    def parse(cls, text: str) -> AllowedPrefix:
        """ValueError with the reason for a prefix that is not `scheme://host[:port][/path]`."""
        parts = urlsplit(text.strip())
        if parts.scheme not in ("http", "https", "s3"):
            raise ValueError(f"{text!r}: a source prefix starts with http://, https:// or s3://")
        if "@" in parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{text!r}: a source prefix has no credentials, query or fragment")
        host = (parts.hostname or "").lower()
        if parts.scheme == "s3" and not host:
            raise ValueError(f"{text!r}: an S3 prefix names its bucket")
        if not host and parts.path:
            raise ValueError(f"{text!r}: a path needs a host")
        port = parts.port if parts.port is not None else _DEFAULT_PORTS.get(parts.scheme)
        return cls(parts.scheme, host, port, parts.path or "/")

    def admits(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme != self.scheme or "@" in parts.netloc:
            return False
        host = (parts.hostname or "").lower()
        if self.host.startswith("*."):
            if not host.endswith(self.host[1:]):
                return False
        elif self.host and host != self.host:
            return False
        port = parts.port if parts.port is not None else _DEFAULT_PORTS.get(parts.scheme)
        if self.host and port != self.port:
            return False
        return (parts.path or "/").startswith(self.path)


def parse_prefixes(items: tuple[str, ...]) -> tuple[AllowedPrefix, ...]:
    return tuple(AllowedPrefix.parse(item) for item in items)


def admitted(url: str, prefixes: tuple[AllowedPrefix, ...]) -> bool:
    return any(prefix.admits(url) for prefix in prefixes)
