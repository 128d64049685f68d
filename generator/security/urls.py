"""Webhook URLs a client gives: absolute http(s), a real host name or address, no userinfo (credentials in
URLs end up in logs and Referer headers), no fragment, bounded length. Where they may point is checked after
DNS resolution (imgedge.generator.outbound.destinations)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from imgedge.generator.errors import ApiError

MAX_URL_CHARS = 2048
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def check_webhook_url(url: str) -> str:
    reason = webhook_url_problem(url)
    if reason is not None:
        raise ApiError(422, f"webhook_url {reason}")
    return url


def webhook_url_problem(url: str) -> str | None:
    if len(url) > MAX_URL_CHARS:
        return f"is longer than {MAX_URL_CHARS} characters"
    if not url.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "must be ASCII without spaces or control characters (use punycode for the host)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    if parts.fragment or url.endswith("#"):
        return "must not contain a fragment"
    if not parts.hostname or not _valid_host(parts.hostname):
        return "must name a valid host"
    return None


def _valid_host(host: str) -> bool:
    if ":" in host:  # an IPv6 literal, already bracket-checked by urlsplit
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)
