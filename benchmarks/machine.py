"""The machine and software versions a result was measured on."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import pyvips


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return 0.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "source checkout" if package == "imgedge" else "?"


def _wrk_version() -> str:
    try:
        done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "absent (httpx client used)"
    words = (done.stdout + done.stderr).split()
    return words[1] if len(words) > 1 else "?"


def describe(thumbor_version: str) -> dict[str, object]:
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count() or 1,
        "cpu": _cpu_model(),
        "ram_gib": _ram_gib(),
        "kernel": platform.release(),
        # Other work on the machine during the run moves every absolute figure (and, less, the ratios).
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "python": platform.python_version(),
        "versions": {
            "imgedge": _version("imgedge"),
            "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
            "pyvips": _version("pyvips"),
            "starlette": _version("starlette"),
            "uvicorn": _version("uvicorn"),
            "thumbor": thumbor_version,
            "wrk": _wrk_version(),
        },
    }
