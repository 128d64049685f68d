"""Where the bytes of canonical originals live, by content-addressed key (the asset id).

A BlobStore puts atomically (a reader sees the whole blob or none) and idempotently (same key, same bytes).
Implementations are picked by URL scheme from BLOB_STORES: `file://…` (a directory) and `s3://BUCKET/PREFIX`
(an S3-compatible bucket, s3_blobs.py); see docs/architecture.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from imgedge.atomic import remove_stale_temporaries, write_atomic
from imgedge.generator.storage.blob_keys import BlobNotFound, check_key
from imgedge.generator.storage.s3_blobs import S3BlobStore
from imgedge.generator.storage.urls import path_from_url

__all__ = [
    "BLOB_STORES",
    "BlobNotFound",
    "BlobStore",
    "FilesystemBlobStore",
    "S3BlobStore",
    "open_blob_store",
]


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes:
        """Raises BlobNotFound; StoreUnavailable when the store cannot be reached."""
        ...

    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None:
        """Deleting a missing blob is not an error."""
        ...

    def readiness_problem(self) -> str | None:
        """Why new blobs could not be stored right now, or None."""
        ...

    def sweep_temporaries(self) -> int:
        """Removes what puts cut short by a crash left behind; how many."""
        ...


class BlobStoreClass(Protocol):
    def from_url(self, url: str) -> BlobStore: ...


class FilesystemBlobStore:
    """root/ab/abcdef….png: two hex characters of fan-out keep directories small."""

    def __init__(self, root: Path, suffix: str = ".png") -> None:
        self.root = root
        self.suffix = suffix
        root.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_url(cls, url: str) -> FilesystemBlobStore:
        return cls(path_from_url(url))

    def path_for(self, key: str) -> Path:
        return self.root / key[:2] / f"{check_key(key)}{self.suffix}"

    def put(self, key: str, data: bytes) -> None:
        write_atomic(self.path_for(key), data)

    def get(self, key: str) -> bytes:
        try:
            return self.path_for(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self.path_for(key).exists()

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def sweep_temporaries(self) -> int:
        # A put writes root/ab/.tmp-… and renames it: a crash in between leaves an original's worth of bytes.
        return remove_stale_temporaries(self.root, depth=2)

    def readiness_problem(self) -> str | None:
        try:
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-"):
                pass
        except OSError as exc:
            return f"store not writable: {exc.strerror}"
        return None


# URL scheme → implementation.
BLOB_STORES: dict[str, BlobStoreClass] = {"file": FilesystemBlobStore, "s3": S3BlobStore}


def open_blob_store(url: str) -> BlobStore:
    scheme = urlsplit(url).scheme
    if scheme not in BLOB_STORES:
        raise ValueError(f"no blob store for {scheme or 'a URL without a scheme'}: {url!r}")
    return BLOB_STORES[scheme].from_url(url)
