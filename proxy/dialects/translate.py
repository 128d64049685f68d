"""Dialects translate their URLs into native option segments, so every dialect reaches the one spec
through the one parser (its checks, normalisation and canonical form); errors still name the dialect's
part."""

from __future__ import annotations

from dataclasses import dataclass, field

from imgedge.url import ParseSettings, parse_options
from imgedge.url.errors import OptionError, UrlError
from imgedge.url.spec import TransformSpec

MAX_PATH = 4096  # bytes of a thumbor or imgproxy path: a source URL (2048) and room for options


def check_length(path: str) -> None:
    if len(path) > MAX_PATH:
        raise UrlError(f"URL path is longer than {MAX_PATH} bytes")


@dataclass(slots=True)
class Translation:
    segments: list[tuple[str, str]] = field(default_factory=list)  # (native segment, the part it came from)

    def add(self, segment: str, part: str) -> None:
        self.segments.append((segment, part))

    def spec(self, settings: ParseSettings, *, suffix_format: str | None = None) -> TransformSpec:
        try:
            return parse_options([s for s, _ in self.segments], settings, suffix_format=suffix_format)
        except OptionError as exc:
            problem = exc.message.removeprefix(f"{exc.option}: ")
            part = next((p for s, p in self.segments if s.partition(":")[0] == exc.option), exc.option)
            raise OptionError(part, problem) from None
