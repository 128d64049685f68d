"""The generator's settings: model, limits, queue, moderation, uploads, webhooks, and its workers."""

from __future__ import annotations

from imgedge import settings as s

MODEL = s.text(
    "generator", "IMGEDGE_MODEL", "", "a diffusers model directory", kind="path",
    shown_default="the tiny built-in model in data/models/tiny",
)  # fmt: skip
DEVICE = s.text(
    "generator", "IMGEDGE_DEVICE", "auto", "where the model runs; auto takes CUDA with fp16 when present",
    choices=("auto", "cpu", "cuda"),
)  # fmt: skip
DEFAULT_STEPS = s.integer(
    "generator", "IMGEDGE_DEFAULT_STEPS", 4, "inference steps when a request names none", low=1
)
MAX_STEPS = s.integer(
    "generator", "IMGEDGE_MAX_STEPS", 50, "most inference steps a request may ask for", low=1
)
MAX_SIDE = s.integer(
    "generator", "IMGEDGE_MAX_SIDE", 1536, "longest side a request may ask for (multiple of 8)"
)
DEFAULT_GUIDANCE = s.number("generator", "IMGEDGE_DEFAULT_GUIDANCE", 2.0, "guidance scale by default", low=0)
JOB_QUEUE_SIZE = s.integer(
    "generator", "IMGEDGE_JOB_QUEUE_SIZE", 16, "generation jobs that may wait (then 429)", low=1
)
RATE_PER_MINUTE = s.number(
    "generator", "IMGEDGE_RATE_PER_MINUTE", 30.0, "requests per client per minute", low=0.001
)
RATE_BURST = s.integer("generator", "IMGEDGE_RATE_BURST", 10, "burst allowance of the rate limit", low=1)
MAX_UPLOAD_BYTES = s.size("generator", "IMGEDGE_MAX_UPLOAD_BYTES", 25 << 20, "largest upload")
UPLOAD_SECRET = s.secret(
    "generator", "IMGEDGE_UPLOAD_SECRET", "signs upload URLs", generated_as="upload.secret"
)
UPLOAD_URL_TTL = s.integer(
    "generator", "IMGEDGE_UPLOAD_URL_TTL", 600, "upload URLs expire after, seconds", low=1
)
MODERATION_BLOCKLIST = s.items(
    "generator", "IMGEDGE_MODERATION_BLOCKLIST", (), "prompts containing one of these are refused"
)
MODERATION_REVIEW_PATTERNS = s.items(
    "generator", "IMGEDGE_MODERATION_REVIEW_PATTERNS", (), "prompts matching one of these are held for review"
)
MODERATION_REVIEW_ALL = s.flag(
    "generator", "IMGEDGE_MODERATION_REVIEW_ALL", False, "hold every new asset for review"
)
TEMPORARY_TTL = s.integer(
    "generator", "IMGEDGE_TEMPORARY_TTL", 3600, "lifetime of temporary assets, seconds", low=1
)
JANITOR_INTERVAL = s.seconds(
    "generator", "IMGEDGE_JANITOR_INTERVAL", 30.0, "how often expiry and owed purges run", low=0.001
)
WEBHOOK_SECRET = s.secret(
    "generator",
    "IMGEDGE_WEBHOOK_SECRET",
    "signs webhook deliveries (Standard Webhooks: `whsec_` and the base64 of 24-64 random bytes)",
    generated_as="webhook.whsec",
)
WEBHOOK_ATTEMPTS = s.integer(
    "generator", "IMGEDGE_WEBHOOK_ATTEMPTS", 5, "delivery attempts per webhook", low=1
)
WEBHOOK_BACKOFF = s.seconds("generator", "IMGEDGE_WEBHOOK_BACKOFF", 1.0, "first retry delay, doubling after")
WEBHOOK_ALLOW_PRIVATE = s.flag(
    "generator",
    "IMGEDGE_WEBHOOK_ALLOW_PRIVATE",
    False,
    "allow loopback / private / link-local webhook targets",
)
PROXY_URL = s.text(
    "generator", "IMGEDGE_PROXY_URL", "", "the proxy, for purge and warm requests",
    kind="url", shown_default="http://HOST:PORT",
)  # fmt: skip
PUBLIC_PROXY_URL = s.text(
    "generator", "IMGEDGE_PUBLIC_PROXY_URL", "", "base of the transform URLs handed out in image metadata",
    kind="url", shown_default="http://HOST:PORT",
)  # fmt: skip
PUBLIC_GENERATOR_URL = s.text(
    "generator", "IMGEDGE_PUBLIC_GENERATOR_URL", "",
    "base of the provenance record links (`/v1/images/{id}`) that served variants of generated images carry",
    kind="url", shown_default="http://HOST:GENERATOR_PORT",
)  # fmt: skip
PROVENANCE_PROMPT = s.flag(
    "generator", "IMGEDGE_PROVENANCE_PROMPT", False,
    "also publish each generated image's prompt in its served variants (IPTC AI Prompt Information)",
)  # fmt: skip
PUBLIC_URL = s.text(
    "generator", "IMGEDGE_PUBLIC_URL", "",
    "base of the absolute URLs the API returns (job status, images, uploads); unset: root-relative paths",
    kind="url",
)  # fmt: skip
MAX_JSON_BYTES = s.size("generator", "IMGEDGE_MAX_JSON_BYTES", 64 << 10, "largest JSON request body (413)")
ANON_MAX_PIXELS = s.integer(
    "generator", "IMGEDGE_ANON_MAX_PIXELS", 1_048_576, "largest image an anonymous client may ask for (403)",
    low=4096,
)  # fmt: skip
ANON_MAX_STEPS = s.integer(
    "generator", "IMGEDGE_ANON_MAX_STEPS", 0, "most inference steps an anonymous client may ask for (403)",
    low=0, shown_default="`IMGEDGE_DEFAULT_STEPS`",
)  # fmt: skip
ANON_MAX_JOBS = s.integer(
    "generator", "IMGEDGE_ANON_MAX_JOBS", 2, "queued + running jobs per anonymous client (429 beyond)", low=1
)
METRICS_ADDRESS = s.text(
    "generator", "IMGEDGE_GENERATOR_METRICS_ADDRESS", "",
    "`host:port` to serve the generator's `/metrics` on instead of its own port", kind="address",
)  # fmt: skip
PLAYGROUND_WIDTHS = s.items(
    "generator", "IMGEDGE_PLAYGROUND_WIDTHS", ("320", "640", "960", "1280"),
    "srcset widths of the transform URLs in image metadata",
)  # fmt: skip
EAGER_VARIANTS = s.flag(
    "generator", "IMGEDGE_EAGER_VARIANTS", True, "render variants of each new asset before its first visitor"
)
WARM_LEARNED = s.flag(
    "generator", "IMGEDGE_WARM_LEARNED", True,
    "warm the variants the proxy has counted most requests for (`GET /admin/popular`) instead of the srcset "
    "widths, which stay the fallback until it has counted enough",
)  # fmt: skip
WARM_BUDGET = s.integer(
    "generator", "IMGEDGE_WARM_BUDGET", 12, "most variants (transforms) warmed per new asset", low=0, high=256
)
WARM_COVERAGE = s.number(
    "generator", "IMGEDGE_WARM_COVERAGE", 0.9,
    "learned warm-up stops once the warmed variants cover this share of the proxy's counted requests",
    low=0, high=1,
)  # fmt: skip
WARM_ON_START = s.flag(
    "generator", "IMGEDGE_WARM_ON_START", True, "run the model once before accepting requests"
)

ALLOW_ANONYMOUS = s.flag(
    "generator", "IMGEDGE_ALLOW_ANONYMOUS", False,
    "serve clients without an API key on a non-loopback address (announced at start-up); on loopback with "
    "no key created, anonymous use is allowed anyway",
)  # fmt: skip
REVIEW_ANONYMOUS_UPLOADS = s.flag(
    "generator", "IMGEDGE_REVIEW_ANONYMOUS_UPLOADS", True,
    "hold uploads from clients without an API key for review (not on loopback with no key created)",
)  # fmt: skip

QUEUE_REDIS_URL = s.text(
    "worker", "IMGEDGE_QUEUE_REDIS_URL", "", "Redis of the job queue; when set, `imgedge worker` runs jobs",
    kind="url",
)  # fmt: skip
WORKER_JOB_TIMEOUT = s.integer(
    "worker", "IMGEDGE_WORKER_JOB_TIMEOUT", 600, "a job's time limit, seconds", low=1
)
WORKER_MAX_TRIES = s.integer(
    "worker", "IMGEDGE_WORKER_MAX_TRIES", 3, "attempts per job (a worker that dies mid-job counts one)", low=1
)
WORKER_METRICS_PORT = s.integer(
    "worker", "IMGEDGE_WORKER_METRICS_PORT", 8082,
    "port of each `imgedge worker`'s Prometheus `/metrics`, on `IMGEDGE_HOST` (0: none); a worker that cannot"
    " bind it logs why and keeps running jobs",
    low=0, high=65535,
)  # fmt: skip
