"""Every IMGEDGE_* setting, declared once with its type, default and help.

Each package declares its settings in its own `settings.py` with the constructors below; its config reads
them with `Setting.read`. The README's configuration tables are generated from these declarations
(`imgedge settings --markdown`), and a test fails when the two differ or when code reads an undeclared name.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from imgedge.env import ConfigError

T = TypeVar("T")

# Where declarations live; importing these is cheap (they import only this module).
DECLARING_MODULES = (
    "imgedge.common_settings",
    "imgedge.proxy.settings",
    "imgedge.cache.settings",
    "imgedge.generator.settings",
)
GROUP_TITLES = {
    "common": "Both services",
    "proxy": "Proxy",
    "cache": "Cache",
    "generator": "Generator",
    "worker": "Generation workers",
}

_REGISTRY: dict[str, Setting[object]] = {}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    name: str
    group: str
    kind: str  # what the docs call its type: integer, number, flag, text, list, size, seconds, …
    default: T
    help: str
    parse: Callable[[str], T]
    # How the docs show the default when it is computed at start-up (e.g. "number of cores").
    shown_default: str | None = None
    # Older names still read, after this one.
    aliases: tuple[str, ...] = ()

    def read(self, environ: Mapping[str, str] | None = None, *, default: T | None = None) -> T:
        env = os.environ if environ is None else environ
        for name in (self.name, *self.aliases):
            raw = env.get(name, "").strip()
            if raw:
                try:
                    return self.parse(raw)
                except ValueError as exc:
                    raise ConfigError(f"{name} {exc}") from None
        return self.default if default is None else default

    def is_set(self, environ: Mapping[str, str] | None = None) -> bool:
        env = os.environ if environ is None else environ
        return any(env.get(name, "").strip() for name in (self.name, *self.aliases))

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        value: object = self.default
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, tuple):
            return ",".join(str(v) for v in value) or "(empty)"
        return "(unset)" if value in ("", None) else str(value)


def _declare(setting: Setting[T]) -> Setting[T]:
    if not re.fullmatch(r"IMGEDGE_[A-Z0-9_]+", setting.name):
        raise ValueError(f"setting names are IMGEDGE_ + capitals, got {setting.name!r}")
    if setting.name in _REGISTRY:
        raise ValueError(f"{setting.name} is declared twice")
    _REGISTRY[setting.name] = setting  # type: ignore[assignment]
    return setting


def _bounded(value: float, low: float | None, high: float | None) -> None:
    if low is not None and value < low:
        raise ValueError(f"must be at least {low:g}, got {value:g}")
    if high is not None and value > high:
        raise ValueError(f"must be at most {high:g}, got {value:g}")


def integer(
    group: str, name: str, default: int, help: str, *, low: int | None = None, high: int | None = None,
    shown_default: str | None = None, aliases: tuple[str, ...] = (),
) -> Setting[int]:  # fmt: skip
    def parse(raw: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]+", raw):
            raise ValueError(f"must be an integer, got {raw!r}")
        _bounded(int(raw), low, high)
        return int(raw)

    return _declare(Setting(name, group, "integer", default, help, parse, shown_default, aliases))


def number(
    group: str, name: str, default: float, help: str, *, low: float | None = None, high: float | None = None,
    kind: str = "number", shown_default: str | None = None,
) -> Setting[float]:  # fmt: skip
    def parse(raw: str) -> float:
        if not re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", raw):
            raise ValueError(f"must be a number, got {raw!r}")
        _bounded(float(raw), low, high)
        return float(raw)

    return _declare(Setting(name, group, kind, default, help, parse, shown_default))


def seconds(group: str, name: str, default: float, help: str, *, low: float = 0.0) -> Setting[float]:
    return number(group, name, default, help, low=low, kind="seconds")


def flag(group: str, name: str, default: bool, help: str) -> Setting[bool]:
    def parse(raw: str) -> bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValueError(f"must be 1 or 0, got {raw!r}")

    return _declare(Setting(name, group, "flag", default, help, parse))


def text(
    group: str, name: str, default: str, help: str, *, choices: tuple[str, ...] = (),
    shown_default: str | None = None, kind: str = "text", aliases: tuple[str, ...] = (),
) -> Setting[str]:  # fmt: skip
    def parse(raw: str) -> str:
        if choices and raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {raw!r}")
        return raw

    shown = shown_default if shown_default is not None or not choices else None
    full_help = f"{help} ({' / '.join(choices)})" if choices else help
    return _declare(Setting(name, group, kind, default, full_help, parse, shown, aliases))


def secret(group: str, name: str, help: str, *, generated_as: str | None = None) -> Setting[str]:
    shown = f"generated once in `data/secrets/{generated_as}`" if generated_as else "(unset)"
    return _declare(Setting(name, group, "secret", "", help, lambda raw: raw, shown))


def items(
    group: str, name: str, default: tuple[str, ...], help: str, *, shown_default: str | None = None
) -> Setting[tuple[str, ...]]:
    def parse(raw: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in raw.split(",") if item.strip())

    return _declare(Setting(name, group, "list", default, help, parse, shown_default))


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10}
_UNITS |= {"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


def parse_size(raw: str) -> int:
    """Byte count such as 1048576, 512MiB, 2G (binary multiples)."""
    match = re.fullmatch(r"\s*([0-9]+)\s*([a-zA-Z]*)\s*", raw)
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {raw!r} (use e.g. 1048576, 512MiB, 2GiB)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def size(group: str, name: str, default: int, help: str) -> Setting[int]:
    def parse(raw: str) -> int:
        try:
            return parse_size(raw)
        except ValueError as exc:
            raise ValueError(f": {exc}") from None

    return _declare(Setting(name, group, "size", default, help, parse, _human_size(default)))


def _human_size(value: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value and value % factor == 0:
            return f"{value // factor} {unit}"
    return str(value)


def all_settings() -> list[Setting[object]]:
    for module in DECLARING_MODULES:
        importlib.import_module(module)
    return sorted(_REGISTRY.values(), key=lambda s: (list(GROUP_TITLES).index(s.group), s.name))


def declared(name: str) -> bool:
    return name in set(iter_names())


def markdown_tables() -> str:
    """The README's configuration tables, one per group."""
    out: list[str] = []
    for group, title in GROUP_TITLES.items():
        rows = [s for s in all_settings() if s.group == group]
        if not rows:
            continue
        out += [f"#### {title}", "", "| variable | type | default | meaning |", "|---|---|---|---|"]
        out += [f"| `{s.name}` | {s.kind} | {_cell(s.default_text)} | {_cell(_help(s))} |" for s in rows]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _help(setting: Setting[object]) -> str:
    if not setting.aliases:
        return setting.help
    return f"{setting.help} (also read as {', '.join(f'`{a}`' for a in setting.aliases)})"


def _cell(value: str) -> str:
    shown = value if value.startswith("`") or value.startswith("(") or " " in value else f"`{value}`"
    return shown.replace("|", "\\|")


def iter_names() -> Iterator[str]:
    for setting in all_settings():
        yield setting.name
        yield from setting.aliases
