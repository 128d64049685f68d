"""Typed readers for IMGEDGE_* settings, shared by every package's config."""

from __future__ import annotations

import os
from collections.abc import Mapping

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A setting is malformed or out of range; the message names the variable."""


def _raw(name: str, environ: Mapping[str, str] | None) -> str:
    return (os.environ if environ is None else environ).get(name, "").strip()


def env_int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    raw = _raw(name, environ)
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    raw = _raw(name, environ)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    raw = _raw(name, environ).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def env_list(
    name: str, default: tuple[str, ...] = (), environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    env = os.environ if environ is None else environ
    if name not in env:
        return default
    return tuple(item.strip() for item in env[name].split(",") if item.strip())
