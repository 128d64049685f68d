"""Storage that cannot be reached right now: a 503 with Retry-After for the client, never a 500."""

from __future__ import annotations

from imgedge.errors import PublicError

RETRY_AFTER_S = 5


class StorageUnavailable(PublicError):
    status = 503
    default_message = "storage unavailable"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(RETRY_AFTER_S)})


class StoreUnavailable(StorageUnavailable):
    default_message = "originals store unavailable"


class DatabaseUnavailable(StorageUnavailable):
    default_message = "database unavailable"
