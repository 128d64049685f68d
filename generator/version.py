from __future__ import annotations

from importlib import metadata


def software_version() -> str:
    try:
        return f"imgedge {metadata.version('imgedge')}"
    except metadata.PackageNotFoundError:
        return "imgedge dev"
