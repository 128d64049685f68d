"""The proxy's settings: where originals come from, signing, limits, the transform pool, encoders."""

from __future__ import annotations

from imgedge import settings as s
from imgedge.formats import FORMATS

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
TRANSFORM_QUEUE_SIZE = s.integer(
    "proxy", "IMGEDGE_TRANSFORM_QUEUE_SIZE", 64, "transforms that may wait for a thread (then 503)",
    low=1, aliases=("IMGEDGE_QUEUE_SIZE",),
)  # fmt: skip
TRANSFORM_TIMEOUT = s.seconds(
    "proxy", "IMGEDGE_TRANSFORM_TIMEOUT", 20.0, "a transform's deadline (then 503)", low=0.001
)
DECODED_SOURCE_MAX_PIXELS = s.integer(
    "proxy", "IMGEDGE_DECODED_SOURCE_MAX_PIXELS", 4_194_304,
    "originals up to this size are cached as raw pixels (0: keep them encoded)", low=0,
)  # fmt: skip
PRESETS = s.text(
    "proxy", "IMGEDGE_PRESETS", "", "named option sets, `name=options;name=options`, e.g. `hero=w:1600/q:70`",
    shown_default="thumb, avatar",
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
