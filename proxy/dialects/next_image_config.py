"""Configuration of Next.js's image API: the one unsigned space imgedge serves, bounded by what it lists."""

from __future__ import annotations

from dataclasses import dataclass

from imgedge.env import ConfigError
from imgedge.formats import AUTO_ORDER
from imgedge.proxy import settings as S
from imgedge.proxy.dialects.native import UNSIGNED_MARKERS
from imgedge.proxy.routes import ADMIN_PREFIX, route_name

OFF = "off"
# What Next.js's `images.formats` may name: the formats f:auto negotiates (its spelling, or ours).
_NEGOTIABLE = {spelling: f.name for f in AUTO_ORDER for spelling in (f.name, f.media_type)}


def _numbers(variable: str, items: tuple[str, ...], low: int, high: int) -> tuple[int, ...]:
    values: list[int] = []
    for item in items:
        if not item.isascii() or not item.isdigit() or not low <= int(item) <= high:
            raise ConfigError(f"{variable}: expected whole numbers within {low}..{high}, got {item!r}")
        values.append(int(item))
    if not values:
        raise ConfigError(f"{variable} must list at least one value")
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True, slots=True)
class NextImageConfig:
    path: str = "/_next/image"  # "" when switched off
    sizes: tuple[int, ...] = (640, 750, 828, 1080, 1200, 1920, 2048, 3840, 16, 32, 48, 64, 96, 128, 256, 384)
    qualities: tuple[int, ...] = (75,)
    formats: tuple[str, ...] = ("webp",)  # format names, in Next.js's order of preference
    disposition: str = "attachment"

    @classmethod
    def from_env(cls, max_width: int) -> NextImageConfig:
        path = S.NEXT_IMAGE_PATH.read().rstrip("/") or "/"
        formats = []
        for item in S.NEXT_IMAGE_FORMATS.read():
            name = _NEGOTIABLE.get(item.lower())
            if name is None:
                known = ", ".join(_NEGOTIABLE)
                raise ConfigError(f"IMGEDGE_NEXT_IMAGE_FORMATS: {item!r} is not one of {known}")
            formats.append(name)
        config = cls(
            path="" if path.lower() == OFF else path,
            sizes=_numbers("IMGEDGE_NEXT_IMAGE_SIZES", S.NEXT_IMAGE_SIZES.read(), 1, max_width),
            qualities=_numbers("IMGEDGE_NEXT_IMAGE_QUALITIES", S.NEXT_IMAGE_QUALITIES.read(), 1, 100),
            formats=tuple(dict.fromkeys(formats)),
            disposition=S.NEXT_IMAGE_CONTENT_DISPOSITION.read(),
        )
        config.validate()
        return config

    def validate(self) -> None:
        if not self.path:
            return
        if not self.path.startswith("/") or self.path == "/" or "//" in self.path:
            raise ConfigError(f"IMGEDGE_NEXT_IMAGE_PATH must be a path like /_next/image, got {self.path!r}")
        if route_name(self.path) != "transform" or self.path.startswith(ADMIN_PREFIX.rstrip("/")):
            raise ConfigError(f"IMGEDGE_NEXT_IMAGE_PATH {self.path!r} is one of the proxy's own routes")
        if self.path.split("/")[1] in UNSIGNED_MARKERS:
            raise ConfigError(f"IMGEDGE_NEXT_IMAGE_PATH {self.path!r} would hide native unsigned URLs")
