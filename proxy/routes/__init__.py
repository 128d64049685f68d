"""The service routes (health, metrics, admin). Every other path is a transform URL; this is the one list.

Only names and paths live here, so the metrics module can label requests without importing the routes.
"""

from __future__ import annotations

HEALTHZ = "/healthz"
READYZ = "/readyz"
METRICS = "/metrics"
ADMIN_PREFIX = "/admin/"
INFO_PREFIX = "/info/"
TRANSFORM = "transform"

_EXACT = {HEALTHZ: "healthz", READYZ: "readyz", METRICS: "metrics"}


def route_name(path: str) -> str:
    """The route family of a path, as requests are labelled in metrics: transform unless listed here."""
    name = _EXACT.get(path)
    if name is not None:
        return name
    if path.startswith(INFO_PREFIX):
        return "info"
    return "admin" if path.startswith(ADMIN_PREFIX) else TRANSFORM
