"""Storage locations as URLs, so the scheme can choose the implementation (file:, sqlite:, …)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname


def file_url(path: Path) -> str:
    return path.absolute().as_uri()


def sqlite_url(path: Path) -> str:
    return "sqlite:" + file_url(path).removeprefix("file:")


def path_from_url(url: str) -> Path:
    return Path(url2pathname(urlsplit(url).path))
