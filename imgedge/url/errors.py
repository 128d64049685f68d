"""Errors of the URL grammar: every one is the client's mistake, so every one is a 400."""

from __future__ import annotations

from imgedge.errors import PublicError


class UrlError(PublicError):
    status = 400
    default_message = "bad request"


class OptionError(UrlError):
    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        super().__init__(f"{option}: {problem}")
