from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from imgedge.env import ConfigError, env_bool, env_float, env_int, env_list
from imgedge.secrets import env_or_file


def _widths(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return tuple(int(w) for w in env_list(name, tuple(str(d) for d in default)))
    except ValueError:
        raise ConfigError(f"{name} must be a comma-separated list of integers") from None


def _browsable(host: str) -> str:
    # A wildcard listen address is no address a browser can load from; loopback is where it is reachable.
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


PLAYGROUND_WIDTHS = (320, 640, 960, 1280)


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8081
    max_upload_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000
    # Shared secret the proxy presents to read originals that are not publicly served (pending review).
    proxy_token: str = ""
    # Bearer token for the moderation endpoints; also what the proxy's purge endpoint expects.
    admin_token: str = ""
    # Signs upload URLs; an empty value disables uploads rather than signing with a guessable key.
    upload_secret: str = ""
    upload_url_ttl_s: int = 600
    # Empty means the tiny built-in model under data_dir/models/tiny.
    model: str = ""
    # "auto" picks CUDA with fp16 when present.
    device: str = "auto"
    default_steps: int = 4
    max_steps: int = 50
    max_side: int = 1536
    default_guidance: float = 2.0
    queue_size: int = 16
    rate_per_minute: float = 30.0
    rate_burst: int = 10
    moderation_blocklist: tuple[str, ...] = ()
    moderation_review_patterns: tuple[str, ...] = ()
    moderation_review_all: bool = False
    temporary_ttl_s: int = 3600
    janitor_interval_s: float = 30.0
    webhook_secret: str = ""
    webhook_attempts: int = 5
    webhook_backoff_s: float = 1.0
    webhook_allow_private: bool = False  # loopback / private / link-local webhook targets (tests, one host)
    proxy_url: str = "http://127.0.0.1:8080"
    # Public base for the transform URLs handed out in metadata; empty gives root-relative paths. from_env
    # defaults it to the proxy's own address: pages on the generator's origin (the playground) load them.
    public_proxy_url: str = ""
    playground_widths: tuple[int, ...] = PLAYGROUND_WIDTHS
    eager_variants: bool = True
    warm_on_start: bool = True

    @classmethod
    def from_env(cls) -> GeneratorConfig:
        data_dir = Path(os.environ.get("IMGEDGE_DATA_DIR", "data"))
        host = os.environ.get("IMGEDGE_HOST", "127.0.0.1")
        proxy_port = env_int("IMGEDGE_PORT", 8080)
        admin_token = env_or_file("IMGEDGE_ADMIN_TOKEN", data_dir, "admin.token")
        cfg = cls(
            data_dir=data_dir,
            host=host,
            port=env_int("IMGEDGE_GENERATOR_PORT", 8081),
            max_upload_bytes=env_int("IMGEDGE_MAX_UPLOAD_BYTES", 25 * 1024 * 1024),
            max_pixels=env_int("IMGEDGE_MAX_SRC_PIXELS", 50_000_000),
            proxy_token=env_or_file("IMGEDGE_ORIGIN_TOKEN", data_dir, "origin.token"),
            admin_token=admin_token,
            upload_secret=env_or_file("IMGEDGE_UPLOAD_SECRET", data_dir, "upload.secret"),
            upload_url_ttl_s=env_int("IMGEDGE_UPLOAD_URL_TTL", 600),
            model=os.environ.get("IMGEDGE_MODEL", ""),
            device=os.environ.get("IMGEDGE_DEVICE", "auto"),
            default_steps=env_int("IMGEDGE_DEFAULT_STEPS", 4),
            max_steps=env_int("IMGEDGE_MAX_STEPS", 50),
            max_side=env_int("IMGEDGE_MAX_SIDE", 1536),
            default_guidance=env_float("IMGEDGE_DEFAULT_GUIDANCE", 2.0),
            queue_size=env_int("IMGEDGE_QUEUE_SIZE", 16),
            rate_per_minute=env_float("IMGEDGE_RATE_PER_MINUTE", 30.0),
            rate_burst=env_int("IMGEDGE_RATE_BURST", 10),
            moderation_blocklist=env_list("IMGEDGE_MODERATION_BLOCKLIST"),
            moderation_review_patterns=env_list("IMGEDGE_MODERATION_REVIEW_PATTERNS"),
            moderation_review_all=env_bool("IMGEDGE_MODERATION_REVIEW_ALL", False),
            temporary_ttl_s=env_int("IMGEDGE_TEMPORARY_TTL", 3600),
            janitor_interval_s=env_float("IMGEDGE_JANITOR_INTERVAL", 30.0),
            webhook_secret=env_or_file("IMGEDGE_WEBHOOK_SECRET", data_dir, "webhook.secret"),
            webhook_attempts=env_int("IMGEDGE_WEBHOOK_ATTEMPTS", 5),
            webhook_backoff_s=env_float("IMGEDGE_WEBHOOK_BACKOFF", 1.0),
            webhook_allow_private=env_bool("IMGEDGE_WEBHOOK_ALLOW_PRIVATE", False),
            proxy_url=os.environ.get("IMGEDGE_PROXY_URL") or f"http://{host}:{proxy_port}",
            public_proxy_url=os.environ.get("IMGEDGE_PUBLIC_PROXY_URL")
            or f"http://{_browsable(host)}:{proxy_port}",
            playground_widths=_widths("IMGEDGE_PLAYGROUND_WIDTHS", PLAYGROUND_WIDTHS),
            eager_variants=env_bool("IMGEDGE_EAGER_VARIANTS", True),
            warm_on_start=env_bool("IMGEDGE_WARM_ON_START", True),
        )
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"IMGEDGE_GENERATOR_PORT out of range: {self.port}")
        if self.max_upload_bytes <= 0 or self.max_pixels <= 0:
            raise ConfigError("upload limits must be positive")
        if not 1 <= self.default_steps <= self.max_steps:
            raise ConfigError("IMGEDGE_DEFAULT_STEPS must be between 1 and IMGEDGE_MAX_STEPS")
        if self.max_side < 64 or self.max_side % 8:
            raise ConfigError("IMGEDGE_MAX_SIDE must be a multiple of 8 and at least 64")
        if self.queue_size < 1:
            raise ConfigError("IMGEDGE_QUEUE_SIZE must be at least 1")
        if self.rate_per_minute <= 0 or self.rate_burst < 1:
            raise ConfigError("IMGEDGE_RATE_PER_MINUTE must be positive and IMGEDGE_RATE_BURST at least 1")
        if self.temporary_ttl_s < 1 or self.janitor_interval_s <= 0:
            raise ConfigError("IMGEDGE_TEMPORARY_TTL and IMGEDGE_JANITOR_INTERVAL must be positive")
        if self.webhook_attempts < 1 or self.webhook_backoff_s < 0:
            raise ConfigError("IMGEDGE_WEBHOOK_ATTEMPTS must be at least 1, IMGEDGE_WEBHOOK_BACKOFF >= 0")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"IMGEDGE_DEVICE must be auto, cpu or cuda, got {self.device!r}")
        if not self.proxy_url.startswith(("http://", "https://")):
            raise ConfigError(f"IMGEDGE_PROXY_URL must be an http(s) URL, got {self.proxy_url!r}")
        if any(w < 1 for w in self.playground_widths):
            raise ConfigError("IMGEDGE_PLAYGROUND_WIDTHS must be positive")

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "imgedge.sqlite3"

    @property
    def tiny_model_dir(self) -> Path:
        return self.data_dir / "models" / "tiny"
