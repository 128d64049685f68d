"""What a transform costs: output limits from the header, estimates that are upper bounds of measured peaks,
and a budget handed out first come first served."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import pyvips

from imgedge.imaging.inspect import Header
from imgedge.proxy.pipeline.deadline import Deadline, TransformTimeout
from imgedge.proxy.security.cost import TransformBudget, estimate_bytes, output_box, transform_cost
from imgedge.url import ParseSettings, parse_options
from imgedge.url.errors import OptionError

PROBE = Path(__file__).with_name("cost_probe.py")


def spec(*options: str):  # type: ignore[no-untyped-def]
    return parse_options(list(options), ParseSettings())


@pytest.mark.parametrize(
    ("options", "box"),
    [
        (("w:500",), (500, 250)),
        (("w:500", "h:500", "fit:cover"), (500, 500)),
        (("w:500", "h:500", "fit:pad"), (500, 500)),
        (("rot:90", "w:100"), (100, 200)),
        (("c:0:0:100:100",), (100, 100)),
        ((), (2000, 1000)),
    ],
)
def test_the_output_box_is_known_from_the_header(options: tuple[str, ...], box: tuple[int, int]) -> None:
    out = output_box(Header(2000, 1000, False, 1, "pngload"), spec(*options))
    assert (out.width, out.height) == box


def test_an_output_over_the_pixel_limit_is_refused_before_work() -> None:
    source = bytes(pyvips.Image.black(4000, 4000).write_to_buffer(".png"))
    with pytest.raises(OptionError, match="IMGEDGE_MAX_RESULT_PIXELS"):
        transform_cost(source, spec(), "webp", max_src_pixels=10**8, max_result_pixels=10_000_000)
    assert transform_cost(source, spec("w:100"), "webp", max_src_pixels=10**8, max_result_pixels=10**7) > 0


@pytest.mark.parametrize(
    "case",
    [
        "w:1500/h:1500/fit:force avif",
        "w:1500/h:1500/fit:force webp",
        "w:1024/h:1024/fit:force webp",  # the largest WebP that goes to libwebp directly (webp_direct.py)
        "rot:90/w:800 jpeg",
        "c:0:0:1500:1500 png",
        "w:100 webp plain",  # a canonical PNG is inflated whole before it is shrunk (imaging/plain_png.py)
    ],
)
def test_estimates_are_above_measured_peaks(case: str) -> None:
    """Each case in a fresh process, its peak RSS (VmHWM) against the estimate; benchmarks/results/security.md
    has the heavier cases."""
    done = subprocess.run(
        [sys.executable, str(PROBE), *case.split()], capture_output=True, text=True, timeout=300, check=True
    )
    measured = json.loads(done.stdout)
    assert measured["peak"] < measured["estimate"], measured


def test_the_budget_admits_in_order_and_times_out() -> None:
    budget = TransformBudget(slots=2, max_bytes=100)
    order: list[str] = []
    with budget.reserve(80, Deadline.after(5)):
        waiter = threading.Thread(target=lambda: run(budget, 50, "big", order))
        waiter.start()
        time.sleep(0.1)
        small = threading.Thread(target=lambda: run(budget, 10, "small", order))
        small.start()  # would fit now, but waits behind the big one
        time.sleep(0.1)
        assert order == [] and budget.stats()["waiting"] == 2
    waiter.join(5)
    small.join(5)
    assert order == ["big", "small"]
    with budget.reserve(100, Deadline.after(5)), pytest.raises(TransformTimeout):
        budget._acquire(1, Deadline.after(0.2))
    assert budget.stats() == {"running": 0, "reserved_bytes": 0, "waiting": 0}


def test_one_transform_larger_than_the_budget_runs_alone() -> None:
    budget = TransformBudget(slots=2, max_bytes=100)
    with budget.reserve(10_000, Deadline.after(1)):
        assert budget.stats()["reserved_bytes"] == 100


def run(budget: TransformBudget, size: int, name: str, order: list[str]) -> None:
    with budget.reserve(size, Deadline.after(5)):
        order.append(name)


def test_estimates_grow_with_the_output_and_the_encoder() -> None:
    header = Header(4000, 4000, False, 1, "pngload")
    small = estimate_bytes(header, spec("w:400"), "webp", animated=False)
    big = estimate_bytes(header, spec("w:4000"), "webp", animated=False)
    avif = estimate_bytes(header, spec("w:4000"), "avif", animated=False)
    assert small < big < avif
