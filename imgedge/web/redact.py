"""Secrets never reach logs: the path segment after a secret-bearing prefix (an upload URL's token) is
replaced before an access-log line is written. Query strings and headers are not logged at all."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[redacted]"


def path_redactor(secret_prefixes: tuple[str, ...]) -> Callable[[str], str]:
    def redact(path: str) -> str:
        for prefix in secret_prefixes:
            if path.startswith(prefix) and len(path) > len(prefix):
                rest = path[len(prefix) :].partition("/")[2]
                return prefix + REDACTED + ("/" + rest if rest else "")
        return path

    return redact


def url_for_logs(url: str) -> str:
    """A URL without its userinfo, query and fragment, which may carry a receiver's secrets."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return REDACTED
    netloc = f"[{host}]{port}" if ":" in host else f"{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
