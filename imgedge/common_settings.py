"""Settings both services (and `imgedge serve`) read: where the data is, where they listen, shared secrets."""

from __future__ import annotations

from imgedge import settings as s

DATA_DIR = s.text(
    "common", "IMGEDGE_DATA_DIR", "data", "store, SQLite database, caches and generated secrets",
    kind="path", shown_default="./data",
)  # fmt: skip
HOST = s.text("common", "IMGEDGE_HOST", "127.0.0.1", "listen address of both services")
PORT = s.integer("common", "IMGEDGE_PORT", 8080, "the proxy's port", low=1, high=65535)
GENERATOR_PORT = s.integer(
    "common", "IMGEDGE_GENERATOR_PORT", 8081, "the generator's port", low=1, high=65535
)
WORKERS = s.integer(
    "common", "IMGEDGE_WORKERS", 1,
    "proxy worker processes under `imgedge serve` (one listening socket; a worker that dies is replaced)",
    low=1, high=256,
    shown_default="number of cores",
)  # fmt: skip
PROXY_WORKER_TIMEOUT = s.seconds(
    "common", "IMGEDGE_PROXY_WORKER_TIMEOUT", 10.0,
    "a proxy worker under `imgedge serve` whose event loop has not run for this long is killed and replaced "
    "(0: never)",
)  # fmt: skip
HEARTBEAT_FD = s.integer(
    "common", "IMGEDGE_HEARTBEAT_FD", 0,
    "set by `imgedge serve` on each proxy worker: the pipe its event loop writes a sign of life to every "
    "second (0: none)",
    low=0,
)  # fmt: skip
SUPERVISOR_PID = s.integer(
    "common", "IMGEDGE_SUPERVISOR_PID", 0,
    "set by `imgedge serve` on each service it starts: its own pid, so that the service stops when it exits, "
    "however it exits (0: none)",
    low=0,
)  # fmt: skip
CONNECTION_TABLE_FD = s.integer(
    "common", "IMGEDGE_CONNECTION_TABLE_FD", 0,
    "set by `imgedge serve` on each proxy worker: the table of open connections per worker that they take "
    "turns at new connections by (0: none)",
    low=0,
)  # fmt: skip
WORKER_INDEX = s.integer(
    "common", "IMGEDGE_WORKER_INDEX", 0,
    "set by `imgedge serve` on each proxy worker: its slot in IMGEDGE_CONNECTION_TABLE_FD",
    low=0, high=255,
)  # fmt: skip
KEYS = s.items(
    "common", "IMGEDGE_KEYS", (), "URL signing keys, comma-separated; the first signs, every one verifies",
    shown_default="generated once in `data/secrets/signing.key`",
)  # fmt: skip
ADMIN_TOKEN = s.secret(
    "common",
    "IMGEDGE_ADMIN_TOKEN",
    "bearer token for `/admin/…` and the moderation API",
    generated_as="admin.token",
)
ORIGIN_TOKEN = s.secret(
    "common", "IMGEDGE_ORIGIN_TOKEN", "credential the proxy shows the generator for originals not yet public",
    generated_as="origin.token",
)  # fmt: skip
MAX_SRC_PIXELS = s.integer(
    "common", "IMGEDGE_MAX_SRC_PIXELS", 50_000_000, "largest original, in pixels (413 beyond)", low=1
)
ACCESS_LOG = s.text(
    "common", "IMGEDGE_ACCESS_LOG", "misses", "which requests get an access-log line",
    choices=("all", "misses", "off"),
)  # fmt: skip
S3_ENDPOINT_URL = s.text(
    "common", "IMGEDGE_S3_ENDPOINT_URL", "",
    "S3-compatible endpoint (MinIO, R2, Ceph, rclone) for s3:// stores and sources; unset means AWS. "
    "Credentials and region come from the standard `AWS_*` variables",
    kind="url",
)  # fmt: skip
STORE_URL = s.text(
    "common", "IMGEDGE_STORE_URL", "",
    "where originals live: `file:///DIR` or `s3://BUCKET/PREFIX` (an S3-compatible bucket; see "
    "`IMGEDGE_S3_ENDPOINT_URL`)",
    kind="url", shown_default="`file://` data/originals",
)  # fmt: skip
DATABASE_URL = s.text(
    "common", "IMGEDGE_DATABASE_URL", "",
    "assets, jobs, upload grants and API keys: `sqlite:///FILE` or `postgresql://USER:PASSWORD@HOST/DB`",
    kind="url", shown_default="`sqlite://` data/imgedge.sqlite3",
)  # fmt: skip

# Limits of docs/security.md that both services enforce where the bytes are buffered (imgedge/web/).
MAX_HEADER_BYTES = s.size(
    "common", "IMGEDGE_MAX_HEADER_BYTES", 16 << 10, "request line + headers, at most (431 beyond)"
)
HEADER_TIMEOUT = s.seconds(
    "common", "IMGEDGE_HEADER_TIMEOUT", 10.0, "a request's headers must arrive within this (408, closed)",
    low=0.1,
)  # fmt: skip
BODY_TIMEOUT = s.seconds(
    "common", "IMGEDGE_BODY_TIMEOUT", 30.0, "longest wait for the next piece of a request body (408)", low=0.1
)
TRUSTED_PROXIES = s.items(
    "common", "IMGEDGE_TRUSTED_PROXIES", (),
    "addresses or networks (CIDR) whose `X-Forwarded-For` / `Forwarded` name the client; nobody else's are "
    "believed (rate limits, quotas, logs)",
    shown_default="(none)",
)  # fmt: skip
CORS_ORIGINS = s.items(
    "common", "IMGEDGE_CORS_ORIGINS", (),
    "other origins (`https://app.example`) whose pages may send state-changing requests; others get 403",
    shown_default="(none)",
)  # fmt: skip
METRICS_TOKEN = s.secret(
    "common", "IMGEDGE_METRICS_TOKEN", "bearer token for `/metrics` from clients off loopback (else 403)"
)
