"""Run by test_cost.py in a fresh process: one transform of a 2000x2000 original (4000x4000 and in the
canonical PNG form, without metadata, with a third argument `plain`), its peak RSS growth against the
estimate. Prints JSON."""

from __future__ import annotations

import json
import sys

import pyvips

from imgedge.imaging.encode import EncoderSettings, metadata_options
from imgedge.proxy.pipeline.run import transform
from imgedge.proxy.security.cost import transform_cost
from imgedge.url import ParseSettings, parse_options


def status(key: str) -> int:
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))


def main() -> None:
    options, fmt = sys.argv[1], sys.argv[2]
    plain = sys.argv[3:] == ["plain"]
    side = 4000 if plain else 2000
    pyvips.cache_set_max(0)
    xy = pyvips.Image.xyz(side, side)
    noise = pyvips.Image.gaussnoise(side, side, sigma=30)
    bands = [((xy[0] + xy[1]) % 256 + noise).cast("uchar"), (xy[1] % 256).cast("uchar"), noise.cast("uchar")]
    image = bands[0].bandjoin(bands[1:]).copy(interpretation="srgb")
    metadata = metadata_options("png", "none") if plain else {}
    source = bytes(image.write_to_buffer(".png", compression=1, **metadata))
    spec = parse_options(options.split("/"), ParseSettings())
    estimate = transform_cost(source, spec, fmt, max_src_pixels=10**8, max_result_pixels=10**8)
    base = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS
    transform(source, spec, fmt, max_pixels=10**8, settings=EncoderSettings())
    print(json.dumps({"case": f"{options} {fmt}", "estimate": estimate, "peak": status("VmHWM") - base}))


if __name__ == "__main__":
    main()
