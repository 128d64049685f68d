"""Generator configuration: one frozen dataclass from the settings in generator/settings.py, validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from imgedge import common_settings as C
from imgedge.env import ConfigError
from imgedge.generator import settings as S
from imgedge.generator.outbound.signing import new_webhook_secret, signing_key
from imgedge.generator.storage.blobs import BLOB_STORES
from imgedge.generator.storage.database import DATABASES
from imgedge.generator.storage.urls import file_url, sqlite_url
from imgedge.secrets import setting_or_file
from imgedge.web.limits import WebLimits
from imgedge.web.metrics_listener import parse_address


def _widths(raw: tuple[str, ...]) -> tuple[int, ...]:
    try:
        return tuple(int(w) for w in raw)
    except ValueError:
        raise ConfigError("IMGEDGE_PLAYGROUND_WIDTHS must be a comma-separated list of integers") from None


def _browsable(host: str) -> str:
    # A wildcard listen address is no address a browser can load from; loopback is where it is reachable.
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


PLAYGROUND_WIDTHS = (320, 640, 960, 1280)
DATABASE_FILE = "imgedge.sqlite3"


def storage_urls_from_env() -> tuple[str, str]:
    """(store URL, database URL) as configured, without the rest of the config (secrets, model, limits):
    what `imgedge keys`, `imgedge db` and `imgedge migrate` need."""
    data_dir = Path(C.DATA_DIR.read())
    store = C.STORE_URL.read() or file_url(data_dir / "originals")
    return store, C.DATABASE_URL.read() or sqlite_url(data_dir / DATABASE_FILE)


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    data_dir: Path = Path("data")
    # IMGEDGE_STORE_URL and IMGEDGE_DATABASE_URL as set; empty means the embedded default in data_dir.
    store: str = ""
    database: str = ""
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
    # Generation jobs that may wait before the API answers 429.
    job_queue_size: int = 16
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
    # Base of the provenance record links in served variants; empty leaves the link out.
    public_generator_url: str = ""
    # Prompts are personal data: they go into served images only when the operator opts in.
    provenance_prompt: bool = False
    eager_variants: bool = True
    warm_learned: bool = True
    warm_budget: int = 12
    warm_coverage: float = 0.9
    warm_on_start: bool = True
    # Without an API key: allowed anyway (announced), and whether such uploads wait for review.
    allow_anonymous: bool = False
    review_anonymous_uploads: bool = True
    # Base of the absolute URLs the API returns; empty gives root-relative paths (never the request's Host).
    public_url: str = ""
    max_json_bytes: int = 64 * 1024
    anon_max_pixels: int = 1_048_576
    anon_max_steps: int = 0  # 0: default_steps
    anon_max_jobs: int = 2
    metrics_address: str = ""  # host:port for /metrics instead of the generator's port
    web: WebLimits = field(default_factory=WebLimits)

    @classmethod
    def from_env(cls) -> GeneratorConfig:
        data_dir = Path(C.DATA_DIR.read())
        host = C.HOST.read()
        proxy_port = C.PORT.read()
        cfg = cls(
            data_dir=data_dir,
            store=C.STORE_URL.read(),
            database=C.DATABASE_URL.read(),
            host=host,
            port=C.GENERATOR_PORT.read(),
            max_upload_bytes=S.MAX_UPLOAD_BYTES.read(),
            max_pixels=C.MAX_SRC_PIXELS.read(),
            proxy_token=setting_or_file(C.ORIGIN_TOKEN, data_dir, "origin.token"),
            admin_token=setting_or_file(C.ADMIN_TOKEN, data_dir, "admin.token"),
            upload_secret=setting_or_file(S.UPLOAD_SECRET, data_dir, "upload.secret"),
            upload_url_ttl_s=S.UPLOAD_URL_TTL.read(),
            model=S.MODEL.read(),
            device=S.DEVICE.read(),
            default_steps=S.DEFAULT_STEPS.read(),
            max_steps=S.MAX_STEPS.read(),
            max_side=S.MAX_SIDE.read(),
            default_guidance=S.DEFAULT_GUIDANCE.read(),
            job_queue_size=S.JOB_QUEUE_SIZE.read(),
            rate_per_minute=S.RATE_PER_MINUTE.read(),
            rate_burst=S.RATE_BURST.read(),
            moderation_blocklist=S.MODERATION_BLOCKLIST.read(),
            moderation_review_patterns=S.MODERATION_REVIEW_PATTERNS.read(),
            moderation_review_all=S.MODERATION_REVIEW_ALL.read(),
            temporary_ttl_s=S.TEMPORARY_TTL.read(),
            janitor_interval_s=S.JANITOR_INTERVAL.read(),
            webhook_secret=setting_or_file(S.WEBHOOK_SECRET, data_dir, "webhook.whsec", new_webhook_secret),
            webhook_attempts=S.WEBHOOK_ATTEMPTS.read(),
            webhook_backoff_s=S.WEBHOOK_BACKOFF.read(),
            webhook_allow_private=S.WEBHOOK_ALLOW_PRIVATE.read(),
            proxy_url=S.PROXY_URL.read() or f"http://{host}:{proxy_port}",
            public_proxy_url=S.PUBLIC_PROXY_URL.read() or f"http://{_browsable(host)}:{proxy_port}",
            playground_widths=_widths(S.PLAYGROUND_WIDTHS.read()),
            public_generator_url=S.PUBLIC_GENERATOR_URL.read()
            or f"http://{_browsable(host)}:{C.GENERATOR_PORT.read()}",
            provenance_prompt=S.PROVENANCE_PROMPT.read(),
            eager_variants=S.EAGER_VARIANTS.read(),
            warm_learned=S.WARM_LEARNED.read(),
            warm_budget=S.WARM_BUDGET.read(),
            warm_coverage=S.WARM_COVERAGE.read(),
            warm_on_start=S.WARM_ON_START.read(),
            allow_anonymous=S.ALLOW_ANONYMOUS.read(),
            review_anonymous_uploads=S.REVIEW_ANONYMOUS_UPLOADS.read(),
            public_url=S.PUBLIC_URL.read().rstrip("/"),
            max_json_bytes=S.MAX_JSON_BYTES.read(),
            anon_max_pixels=S.ANON_MAX_PIXELS.read(),
            anon_max_steps=S.ANON_MAX_STEPS.read(),
            anon_max_jobs=S.ANON_MAX_JOBS.read(),
            metrics_address=S.METRICS_ADDRESS.read(),
            web=WebLimits.from_env(),
        )
        cfg.validate()
        return cfg

    def validate(self) -> None:
        for name, url, table in ((C.STORE_URL.name, self.originals_url, BLOB_STORES),
                                 (C.DATABASE_URL.name, self.database_url, DATABASES)):  # fmt: skip
            if urlsplit(url).scheme not in table:
                raise ConfigError(f"{name} must start with one of {', '.join(f'{s}://' for s in table)}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"IMGEDGE_GENERATOR_PORT out of range: {self.port}")
        if self.max_upload_bytes <= 0 or self.max_pixels <= 0:
            raise ConfigError("upload limits must be positive")
        if not 1 <= self.default_steps <= self.max_steps:
            raise ConfigError("IMGEDGE_DEFAULT_STEPS must be between 1 and IMGEDGE_MAX_STEPS")
        if self.max_side < 64 or self.max_side % 8:
            raise ConfigError("IMGEDGE_MAX_SIDE must be a multiple of 8 and at least 64")
        if self.job_queue_size < 1:
            raise ConfigError("IMGEDGE_JOB_QUEUE_SIZE must be at least 1")
        if self.rate_per_minute <= 0 or self.rate_burst < 1:
            raise ConfigError("IMGEDGE_RATE_PER_MINUTE must be positive and IMGEDGE_RATE_BURST at least 1")
        if self.temporary_ttl_s < 1 or self.janitor_interval_s <= 0:
            raise ConfigError("IMGEDGE_TEMPORARY_TTL and IMGEDGE_JANITOR_INTERVAL must be positive")
        if self.webhook_secret:
            try:
                signing_key(self.webhook_secret)
            except ValueError as exc:
                raise ConfigError(f"IMGEDGE_WEBHOOK_SECRET {exc}") from None
        if self.webhook_attempts < 1 or self.webhook_backoff_s < 0:
            raise ConfigError("IMGEDGE_WEBHOOK_ATTEMPTS must be at least 1, IMGEDGE_WEBHOOK_BACKOFF >= 0")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"IMGEDGE_DEVICE must be auto, cpu or cuda, got {self.device!r}")
        if not self.proxy_url.startswith(("http://", "https://")):
            raise ConfigError(f"IMGEDGE_PROXY_URL must be an http(s) URL, got {self.proxy_url!r}")
        if any(w < 1 for w in self.playground_widths):
            raise ConfigError("IMGEDGE_PLAYGROUND_WIDTHS must be positive")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ConfigError(f"IMGEDGE_PUBLIC_URL must be an http(s) URL, got {self.public_url!r}")
        if self.max_json_bytes < 1024 or self.anon_max_jobs < 1 or self.anon_max_steps < 0:
            raise ConfigError(
                "IMGEDGE_MAX_JSON_BYTES must be at least 1024, IMGEDGE_ANON_MAX_JOBS at least 1"
            )
        if self.metrics_address:
            parse_address(self.metrics_address, "IMGEDGE_GENERATOR_METRICS_ADDRESS")

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def db_path(self) -> Path:
        return self.data_dir / DATABASE_FILE

    # Where originals' bytes and the metadata live; the scheme picks the implementation (storage/).
    @property
    def originals_url(self) -> str:
        return self.store or file_url(self.originals_dir)

    @property
    def database_url(self) -> str:
        return self.database or sqlite_url(self.db_path)

    @property
    def tiny_model_dir(self) -> Path:
        return self.data_dir / "models" / "tiny"
