"""The proxy's settings: where originals come from, signing, limits, the transform pool, encoders."""

from __future__ import annotations

from imgedge import settings as s
from imgedge.formats import AUTO_ORDER, BY_NAME, FORMATS

SOURCE = s.text(
    "proxy",
    "IMGEDGE_SOURCE",
    "http",
    "where originals come from: `http` (the generator's store) or `filesystem` (`IMGEDGE_SOURCE_DIR`)",
)
ORIGIN_URL = s.text(
    "proxy", "IMGEDGE_ORIGIN_URL", "", "where `http` fetches `/originals/{id}`",
    kind="url", shown_default="http://HOST:GENERATOR_PORT",
)  # fmt: skip
SOURCE_DIR = s.text(
    "proxy", "IMGEDGE_SOURCE_DIR", "", "originals for the `filesystem` source",
    kind="path", shown_default="data/originals",
)  # fmt: skip
ORIGIN_TIMEOUT = s.seconds("proxy", "IMGEDGE_ORIGIN_TIMEOUT", 10.0, "origin timeout (then 504)", low=0.001)
PROMPT_URL_WAIT = s.seconds(
    "proxy", "IMGEDGE_PROMPT_URL_WAIT", 30.0,
    "how long a prompt URL whose image is not made yet waits for its generation (then 503 + Retry-After)",
    low=0.0,
)  # fmt: skip
ORIGIN_RETRIES = s.integer(
    "proxy",
    "IMGEDGE_ORIGIN_RETRIES",
    2,
    "retries of 5xx and refused connections, with jittered backoff",
    low=0,
)
ORIGIN_COOLDOWN = s.seconds(
    "proxy", "IMGEDGE_ORIGIN_COOLDOWN", 10.0, "the circuit breaker fails fast this long after 5 failures"
)
ORIGIN_WAIT = s.seconds(
    "proxy", "IMGEDGE_ORIGIN_WAIT", 10.0,
    "until the origin has answered once (it may still be starting), a miss waits this long for it",
)  # fmt: skip
ALLOW_UNSIGNED = s.flag("proxy", "IMGEDGE_ALLOW_UNSIGNED", False, "accept unsigned `/_/…` URLs")
MAX_SRC_BYTES = s.size("proxy", "IMGEDGE_MAX_SRC_BYTES", 50 << 20, "largest original in bytes (413 beyond)")
MAX_WIDTH = s.integer("proxy", "IMGEDGE_MAX_WIDTH", 8192, "largest output width (400 beyond)", low=1)
MAX_HEIGHT = s.integer("proxy", "IMGEDGE_MAX_HEIGHT", 8192, "largest output height (400 beyond)", low=1)
MAX_DPR = s.number("proxy", "IMGEDGE_MAX_DPR", 4.0, "largest `dpr`", low=1, high=4)
TRANSFORM_THREADS = s.integer(
    "proxy", "IMGEDGE_TRANSFORM_THREADS", 2, "libvips transforms in flight per process",
    low=1, shown_default="number of cores",
)  # fmt: skip
TRANSFORM_LIBVIPS_THREADS = s.integer(
    "proxy", "IMGEDGE_TRANSFORM_LIBVIPS_THREADS", 1,
    "threads libvips may split one transform across (0: libvips' own choice, `VIPS_CONCURRENCY` or one per "
    "core); with 1, transforms run side by side on the pool's threads, which costs less CPU per miss when "
    "every core is busy", low=0, high=64,
)  # fmt: skip
TRANSFORM_QUEUE_SIZE = s.integer(
    "proxy", "IMGEDGE_TRANSFORM_QUEUE_SIZE", 64, "transforms that may wait for a thread (then 503)",
    low=1, aliases=("IMGEDGE_QUEUE_SIZE",),
)  # fmt: skip
TRANSFORM_TIMEOUT = s.seconds(
    "proxy", "IMGEDGE_TRANSFORM_TIMEOUT", 20.0, "a transform's deadline (then 503)", low=0.001
)
TRANSFORM_NICE = s.integer(
    "proxy", "IMGEDGE_TRANSFORM_NICE", 10,
    "how much lower the CPU priority of transform threads is than the event loop's (0-19; Linux nice), so "
    "cache hits are answered first while misses keep the cores busy", low=0, high=19,
)  # fmt: skip
DECODED_SOURCE_MAX_PIXELS = s.integer(
    "proxy", "IMGEDGE_DECODED_SOURCE_MAX_PIXELS", 4_194_304,
    "originals up to this size are cached as raw pixels (0: keep them encoded)", low=0,
)  # fmt: skip
PYRAMID_LEVEL_RATIO = s.number(
    "proxy", "IMGEDGE_PYRAMID_LEVEL_RATIO", 1.0,
    "raw-pixel originals keep power-of-two reductions; a variant is resized from the smallest one at least "
    "this many times its size (0: no reductions)", low=0, high=16,
)  # fmt: skip
POPULAR_VARIANTS = s.integer(
    "proxy", "IMGEDGE_POPULAR_VARIANTS", 512,
    "distinct variants (canonical options + format, no asset) the proxy counts, so that the generator can "
    "warm the most requested ones for each new asset (`GET /admin/popular`); 0: count nothing",
    low=0, high=65536,
)  # fmt: skip
PRESETS = s.text(
    "proxy", "IMGEDGE_PRESETS", "", "named option sets, `name=options;name=options`, e.g. `hero=w:1600/q:70`",
    shown_default="thumb, avatar",
)  # fmt: skip
AUTO_QUALITY_DEFAULT = s.flag(
    "proxy", "IMGEDGE_AUTO_QUALITY_DEFAULT", True,
    "`f:auto` URLs without `q` get `q:auto` (a perceptual target); 0: the format's quality setting",
)  # fmt: skip
AUTO_QUALITY_LEARN = s.flag(
    "proxy", "IMGEDGE_AUTO_QUALITY_LEARN", True,
    "learn each asset's `q:auto` qualities by a background SSIMULACRA2 search (0: always the estimate)",
)  # fmt: skip
CLIENT_HINTS = s.flag(
    "proxy", "IMGEDGE_CLIENT_HINTS", False,
    "honour `Sec-CH-DPR`/`Sec-CH-Width` for `w:auto`/`dpr:auto` and `Save-Data` for `q:auto`; send "
    "`Accept-CH` and vary on them (a CDN in front must vary on them too)",
)  # fmt: skip

REMOTE_SOURCES = s.items(
    "proxy", "IMGEDGE_REMOTE_SOURCES", (),
    "URL prefixes originals may also come from, e.g. `https://images.example.com/,s3://bucket/prefix/`; "
    "any other URL answers 403 before any network traffic",
)  # fmt: skip
REMOTE_ALLOWED_NETWORKS = s.items(
    "proxy", "IMGEDGE_REMOTE_ALLOWED_NETWORKS", (),
    "non-public addresses remote sources may still reach, e.g. `10.0.0.0/8` (loopback, private, link-local, "
    "CGNAT and multicast are refused otherwise)",
)  # fmt: skip
REMOTE_TIMEOUT = s.seconds(
    "proxy", "IMGEDGE_REMOTE_TIMEOUT", 10.0, "a remote or S3 fetch's deadline, redirects included (then 504)",
    low=0.001,
)  # fmt: skip
REMOTE_MAX_REDIRECTS = s.integer(
    "proxy", "IMGEDGE_REMOTE_MAX_REDIRECTS", 3, "redirects a remote fetch follows (each target re-checked)",
    low=0, high=20,
)  # fmt: skip
REMOTE_TTL = s.seconds(
    "proxy", "IMGEDGE_REMOTE_TTL", 3600.0,
    "how long originals and variants of remote sources are used before the origin is asked again "
    "(If-None-Match / If-Modified-Since); also their `Cache-Control: max-age`",
    low=1,
)  # fmt: skip
WATERMARK = s.text(
    "proxy", "IMGEDGE_WATERMARK", "",
    "the mark of a `wm` option without `wmu`: an asset id or an allowed source URL",
)  # fmt: skip
THUMBOR_PREFIX = s.text(
    "proxy", "IMGEDGE_THUMBOR_PREFIX", "/thumbor", "path prefix of thumbor URLs (a client's base URL)"
)
THUMBOR_SECURITY_KEY = s.secret(
    "proxy", "IMGEDGE_THUMBOR_SECURITY_KEY", "thumbor's SECURITY_KEY: signs thumbor URLs (HMAC-SHA1)"
)
IMGPROXY_PREFIX = s.text(
    "proxy", "IMGEDGE_IMGPROXY_PREFIX", "/imgproxy", "path prefix of imgproxy URLs (a client's base URL)"
)
IMGPROXY_KEY = s.items(
    "proxy", "IMGEDGE_IMGPROXY_KEY", (),
    "imgproxy's IMGPROXY_KEY, hex; several, comma-separated, pair with the salts in order for rotation",
)  # fmt: skip
IMGPROXY_SALT = s.items("proxy", "IMGEDGE_IMGPROXY_SALT", (), "imgproxy's IMGPROXY_SALT, hex; one per key")
IMGPROXY_SIGNATURE_SIZE = s.integer(
    "proxy", "IMGEDGE_IMGPROXY_SIGNATURE_SIZE", 32,
    "bytes of the HMAC-SHA256 an imgproxy signature keeps (imgproxy's IMGPROXY_SIGNATURE_SIZE)",
    low=1, high=32,
)  # fmt: skip

# Next.js's image API (proxy/dialects/next_image.py): its defaults are Next.js's, so a site that points
# `images.path` here keeps its configuration. 16 is kept from Next.js 15's imageSizes.
NEXT_IMAGE_PATH = s.text(
    "proxy", "IMGEDGE_NEXT_IMAGE_PATH", "/_next/image",
    "path of Next.js's image API (`?url=…&w=…&q=…`: unsigned, bounded by `IMGEDGE_NEXT_IMAGE_SIZES` and "
    "`IMGEDGE_NEXT_IMAGE_QUALITIES`); `off` disables it",
)  # fmt: skip
NEXT_IMAGE_SIZES = s.items(
    "proxy", "IMGEDGE_NEXT_IMAGE_SIZES",
    ("640", "750", "828", "1080", "1200", "1920", "2048", "3840",
     "16", "32", "48", "64", "96", "128", "256", "384"),
    "the widths Next.js's image API accepts (`images.deviceSizes` and `images.imageSizes`; others get 400)",
)  # fmt: skip
NEXT_IMAGE_QUALITIES = s.items(
    "proxy", "IMGEDGE_NEXT_IMAGE_QUALITIES", ("75",),
    "the qualities Next.js's image API accepts (`images.qualities`; others get 400)",
)  # fmt: skip
NEXT_IMAGE_FORMATS = s.items(
    "proxy", "IMGEDGE_NEXT_IMAGE_FORMATS", (BY_NAME["webp"].media_type,),
    "what Next.js's image API negotiates from Accept (`images.formats`: "
    + ", ".join(f"`{f.media_type}`" for f in AUTO_ORDER) + ")",
)  # fmt: skip
NEXT_IMAGE_CONTENT_DISPOSITION = s.text(
    "proxy", "IMGEDGE_NEXT_IMAGE_CONTENT_DISPOSITION", "attachment",
    "Content-Disposition of Next.js image API answers (`images.contentDispositionType`)",
    choices=("attachment", "inline"),
)  # fmt: skip

# One quality and one effort setting per row of the format table that has them.
QUALITY = {
    f.name: s.integer(
        "proxy",
        f"IMGEDGE_{f.name.upper()}_QUALITY",
        f.default_quality,
        f"{f.name.upper()} quality",
        low=1,
        high=100,
    )
    for f in FORMATS
    if f.quality_option
}
EFFORT = {
    f.name: s.integer(
        "proxy",
        f"IMGEDGE_{f.name.upper()}_{f.effort_setting}",
        f.default_effort,
        f"{f.name.upper()} encoder {f.effort_option} (higher: smaller and slower)",
        low=f.effort_range[0],
        high=f.effort_range[1],
    )
    for f in FORMATS
    if f.effort_option
}

MAX_RESULT_PIXELS = s.integer(
    "proxy", "IMGEDGE_MAX_RESULT_PIXELS", 25_000_000, "largest output, in pixels (400 beyond)", low=1
)
TRANSFORM_MEMORY = s.size(
    "proxy", "IMGEDGE_TRANSFORM_MEMORY", 1 << 30,
    "estimated peak memory of the transforms in flight in one process, at most (larger ones wait)",
)  # fmt: skip
METRICS_ADDRESS = s.text(
    "proxy", "IMGEDGE_METRICS_ADDRESS", "",
    "`host:port` to serve `/metrics` on instead of the proxy's own port", kind="address",
)  # fmt: skip
