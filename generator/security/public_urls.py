"""Absolute URLs the API returns come from IMGEDGE_PUBLIC_URL; without it they are root-relative paths. The
request's `Host` never goes into a URL: anyone can send any Host, and caches and clients would pass it on."""

from __future__ import annotations

from starlette.requests import Request


def public_url(request: Request, base: str, route: str, **params: str) -> str:
    path = str(request.app.url_path_for(route, **params))
    return base + path if base else path
