"""The generator's errors: a status and the public message the client sees; bad input is never a 500."""

from __future__ import annotations

from imgedge.errors import PublicError


class ApiError(PublicError):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, headers=headers)
        self.status = status
