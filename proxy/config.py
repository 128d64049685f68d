"""Proxy configuration: one frozen dataclass from IMGEDGE_* variables, validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from imgedge import common_settings as C
from imgedge.env import ConfigError
from imgedge.errors import PublicError
from imgedge.formats import FORMATS
from imgedge.imaging.encode import EncoderSettings
from imgedge.netcheck import Network, parse_networks
from imgedge.proxy import settings as S
from imgedge.proxy.dialects.next_image_config import NextImageConfig
from imgedge.proxy.sources import SOURCES
from imgedge.proxy.sources.allowlist import AllowedPrefix, parse_prefixes
from imgedge.secrets import load_signing_keys, setting_or_file
from imgedge.url import ParseSettings, parse_options
from imgedge.web.limits import WebLimits
from imgedge.web.metrics_listener import parse_address


def parse_presets(raw: str) -> dict[str, str]:
    """`thumb=w:200/h:200/fit:cover;hero=w:1600/q:70`"""
    presets: dict[str, str] = {}
    for item in raw.split(";"):
        if not item.strip():
            continue
        name, sep, options = item.partition("=")
        if not sep or not name.strip() or not options.strip():
            raise ConfigError(f"IMGEDGE_PRESETS: expected name=options, got {item!r}")
        presets[name.strip()] = options.strip().strip("/")
    return presets


def encoder_settings_from_env() -> EncoderSettings:
    """`IMGEDGE_{FORMAT}_QUALITY` and `IMGEDGE_{FORMAT}_EFFORT` (PNG: `_COMPRESSION`) for each format row."""
    quality = {name: setting.read() for name, setting in S.QUALITY.items()}
    effort = {name: setting.read() for name, setting in S.EFFORT.items()}
    return EncoderSettings(quality=quality, effort=effort)


def check_encoder_settings(settings: EncoderSettings) -> None:
    for f in FORMATS:
        if f.quality_option and not 1 <= settings.quality_for(f.name) <= 100:
            raise ConfigError(
                f"IMGEDGE_{f.name.upper()}_QUALITY must be within 1..100, got {settings.quality_for(f.name)}"
            )
        low, high = f.effort_range
        if f.effort_option and not low <= settings.effort_for(f.name) <= high:
            raise ConfigError(
                f"IMGEDGE_{f.name.upper()}_{f.effort_setting} must be within {low}..{high}, "
                f"got {settings.effort_for(f.name)}"
            )


def imgproxy_keys_from_env() -> tuple[tuple[bytes, bytes], ...]:
    """IMGEDGE_IMGPROXY_KEY and IMGEDGE_IMGPROXY_SALT: hex, paired in order (several pairs for rotation)."""
    keys, salts = S.IMGPROXY_KEY.read(), S.IMGPROXY_SALT.read()
    if len(keys) != len(salts):
        raise ConfigError(
            f"IMGEDGE_IMGPROXY_KEY has {len(keys)} keys but IMGEDGE_IMGPROXY_SALT has {len(salts)} salts"
        )
    try:
        return tuple((bytes.fromhex(key), bytes.fromhex(salt)) for key, salt in zip(keys, salts, strict=True))
    except ValueError:
        raise ConfigError("IMGEDGE_IMGPROXY_KEY and IMGEDGE_IMGPROXY_SALT must be hex") from None


def remote_from_env() -> tuple[tuple[AllowedPrefix, ...], tuple[Network, ...]]:
    try:
        return parse_prefixes(S.REMOTE_SOURCES.read()), parse_networks(S.REMOTE_ALLOWED_NETWORKS.read())
    except ValueError as exc:
        raise ConfigError(f"IMGEDGE_REMOTE_SOURCES / IMGEDGE_REMOTE_ALLOWED_NETWORKS: {exc}") from None


DEFAULT_PRESETS = {"thumb": "w:256/h:256/fit:cover/g:sm", "avatar": "w:128/h:128/fit:cover/g:sm"}


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8080
    source: str = "http"  # a row of imgedge.proxy.sources.SOURCES: http (the generator's store) | filesystem
    origin_url: str = "http://127.0.0.1:8081"
    origin_token: str = ""
    originals_dir: Path = Path("data/originals")  # the filesystem source's root
    origin_timeout_s: float = 10.0
    prompt_url_wait_s: float = 30.0  # a prompt URL's wait for its generation (proxy/prompts.py)
    origin_retries: int = 2
    origin_cooldown_s: float = 10.0
    origin_wait_s: float = 10.0  # for an origin that has not answered since this process started
    queue_size: int = 64  # transforms waiting for a worker thread before new misses get 503
    keys: tuple[bytes, ...] = ()
    allow_unsigned: bool = False
    admin_token: str = ""
    max_src_pixels: int = 50_000_000
    max_src_bytes: int = 50 * 1024 * 1024
    max_width: int = 8192
    max_height: int = 8192
    max_dpr: float = 4.0
    max_result_pixels: int = 25_000_000
    transform_memory: int = 1 << 30  # estimated peak bytes of the transforms in flight (security/cost.py)
    transform_threads: int = 2  # libvips transforms in flight at once, per process
    transform_timeout_s: float = 20.0
    transform_nice: int = 10  # transform threads yield the CPU to the event loop that answers hits
    transform_libvips_threads: int = 1  # libvips' threads per transform; 0: libvips' own default
    decoded_source_max_pixels: int = 4_194_304  # keep originals up to 2048x2048 as raw pixels; 0 = never
    pyramid_level_ratio: float = 1.0  # resize from the smallest level this many times the output; 0 = off
    popular_variants: int = 512  # distinct variant specs counted for the generator's warm-up; 0 = off
    presets: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PRESETS))
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    auto_quality_default: bool = True  # f:auto without q means q:auto
    auto_quality_learn: bool = True
    client_hints: bool = False
    remote_sources: tuple[AllowedPrefix, ...] = ()
    remote_networks: tuple[Network, ...] = ()
    remote_timeout_s: float = 10.0
    remote_max_redirects: int = 3
    remote_ttl_s: float = 3600.0
    watermark: str = ""
    thumbor_prefix: str = "/thumbor"
    thumbor_key: bytes = b""
    imgproxy_prefix: str = "/imgproxy"
    imgproxy_keys: tuple[tuple[bytes, bytes], ...] = ()  # (key, salt) pairs
    imgproxy_signature_size: int = 32
    web: WebLimits = field(default_factory=WebLimits)
    metrics_address: str = ""  # host:port for /metrics instead of the proxy's port
    heartbeat_fd: int = 0  # the pipe `imgedge serve` watches this worker's event loop through; 0 = none
    next_image: NextImageConfig = field(default_factory=NextImageConfig)

    @classmethod
    def from_env(cls) -> ProxyConfig:
        data_dir = Path(C.DATA_DIR.read())
        host = C.HOST.read()
        presets = dict(DEFAULT_PRESETS)
        presets.update(parse_presets(S.PRESETS.read()))
        remote_sources, remote_networks = remote_from_env()
        cfg = cls(
            data_dir=data_dir,
            host=host,
            port=C.PORT.read(),
            source=S.SOURCE.read(),
            origin_url=(S.ORIGIN_URL.read() or f"http://{host}:{C.GENERATOR_PORT.read()}").rstrip("/"),
            origin_token=setting_or_file(C.ORIGIN_TOKEN, data_dir, "origin.token"),
            originals_dir=Path(S.SOURCE_DIR.read() or data_dir / "originals"),
            origin_timeout_s=S.ORIGIN_TIMEOUT.read(),
            origin_retries=S.ORIGIN_RETRIES.read(),
            origin_cooldown_s=S.ORIGIN_COOLDOWN.read(),
            origin_wait_s=S.ORIGIN_WAIT.read(),
            queue_size=S.TRANSFORM_QUEUE_SIZE.read(),
            keys=load_signing_keys(data_dir),
            allow_unsigned=S.ALLOW_UNSIGNED.read(),
            admin_token=setting_or_file(C.ADMIN_TOKEN, data_dir, "admin.token"),
            max_src_pixels=C.MAX_SRC_PIXELS.read(),
            max_src_bytes=S.MAX_SRC_BYTES.read(),
            max_width=S.MAX_WIDTH.read(),
            max_height=S.MAX_HEIGHT.read(),
            max_dpr=S.MAX_DPR.read(),
            max_result_pixels=S.MAX_RESULT_PIXELS.read(),
            transform_memory=S.TRANSFORM_MEMORY.read(),
            transform_threads=S.TRANSFORM_THREADS.read(default=os.cpu_count() or 2),
            transform_timeout_s=S.TRANSFORM_TIMEOUT.read(),
            transform_nice=S.TRANSFORM_NICE.read(),
            transform_libvips_threads=S.TRANSFORM_LIBVIPS_THREADS.read(),
            decoded_source_max_pixels=S.DECODED_SOURCE_MAX_PIXELS.read(),
            pyramid_level_ratio=S.PYRAMID_LEVEL_RATIO.read(),
            popular_variants=S.POPULAR_VARIANTS.read(),
            presets=presets,
            encoder=encoder_settings_from_env(),
            auto_quality_default=S.AUTO_QUALITY_DEFAULT.read(),
            auto_quality_learn=S.AUTO_QUALITY_LEARN.read(),
            client_hints=S.CLIENT_HINTS.read(),
            remote_sources=remote_sources,
            remote_networks=remote_networks,
            remote_timeout_s=S.REMOTE_TIMEOUT.read(),
            remote_max_redirects=S.REMOTE_MAX_REDIRECTS.read(),
            remote_ttl_s=S.REMOTE_TTL.read(),
            watermark=S.WATERMARK.read(),
            prompt_url_wait_s=S.PROMPT_URL_WAIT.read(),
            thumbor_prefix=S.THUMBOR_PREFIX.read(),
            thumbor_key=S.THUMBOR_SECURITY_KEY.read().encode(),
            imgproxy_prefix=S.IMGPROXY_PREFIX.read(),
            imgproxy_keys=imgproxy_keys_from_env(),
            imgproxy_signature_size=S.IMGPROXY_SIGNATURE_SIZE.read(),
            web=WebLimits.from_env(),
            metrics_address=S.METRICS_ADDRESS.read(),
            heartbeat_fd=C.HEARTBEAT_FD.read(),
            next_image=NextImageConfig.from_env(max_width=S.MAX_WIDTH.read()),
        )
        cfg.validate()
        return cfg

    @property
    def search_slot_path(self) -> Path:
        """The lock file that lets one q:auto search at a time run on this host (proxy/search_slot.py)."""
        return self.data_dir / "run" / "quality-search.lock"

    @property
    def popular_dir(self) -> Path:
        """Where each worker publishes its request counts for the others on this host."""
        return self.data_dir / "run" / "popular"

    @property
    def parse_settings(self) -> ParseSettings:
        return ParseSettings(presets=self.presets, max_dpr=self.max_dpr, watermark=self.watermark)

    def validate(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError(f"IMGEDGE_SOURCE must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if not self.keys and not self.allow_unsigned:
            raise ConfigError("no signing key: set IMGEDGE_KEYS or IMGEDGE_ALLOW_UNSIGNED=1")
        positive = {
            "IMGEDGE_MAX_SRC_PIXELS": self.max_src_pixels,
            "IMGEDGE_MAX_SRC_BYTES": self.max_src_bytes,
            "IMGEDGE_MAX_WIDTH": self.max_width,
            "IMGEDGE_MAX_HEIGHT": self.max_height,
            "IMGEDGE_TRANSFORM_THREADS": self.transform_threads,
            "IMGEDGE_TRANSFORM_QUEUE_SIZE": self.queue_size,
            "IMGEDGE_MAX_RESULT_PIXELS": self.max_result_pixels,
            "IMGEDGE_TRANSFORM_MEMORY": self.transform_memory,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {value}")
        if not 1 <= self.max_dpr <= 4:
            raise ConfigError(f"IMGEDGE_MAX_DPR must be within 1..4, got {self.max_dpr}")
        check_encoder_settings(self.encoder)
        self._validate_dialects()
        if self.metrics_address:
            parse_address(self.metrics_address, "IMGEDGE_METRICS_ADDRESS")
        self.next_image.validate()
        for name, definition in self.presets.items():
            try:
                parse_options(definition.split("/"), ParseSettings(max_dpr=self.max_dpr))
            except PublicError as exc:
                raise ConfigError(f"IMGEDGE_PRESETS: preset {name!r} is invalid: {exc.message}") from None

    def _validate_dialects(self) -> None:
        for name, prefix in (("THUMBOR", self.thumbor_prefix), ("IMGPROXY", self.imgproxy_prefix)):
            if prefix and (not prefix.startswith("/") or prefix.endswith("/") or "//" in prefix):
                raise ConfigError(f"IMGEDGE_{name}_PREFIX must look like /name (or be empty), got {prefix!r}")
        prefixes = [p for p in (self.thumbor_prefix, self.imgproxy_prefix, self.next_image.path, "/gen") if p]
        if len(set(prefixes)) != len(prefixes):  # /gen: prompt URLs (proxy/dialects/prompt.py)
            raise ConfigError(
                "IMGEDGE_THUMBOR_PREFIX, IMGEDGE_IMGPROXY_PREFIX and IMGEDGE_NEXT_IMAGE_PATH must differ"
                " (and none may be /gen, where prompt URLs live)"
            )
