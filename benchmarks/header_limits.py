"""What the header limits cost on the cache-hit path: the same proxy app under uvicorn's httptools protocol
and under imgedge's (imgedge.web.protocol), loaded alternately with `wrk` over keep-alive connections; and,
with `--micro`, both protocols fed the same browser request in-process (no sockets, a trivial app), which
is precise where a shared machine makes wrk's numbers noisy.

    python -m benchmarks.header_limits [--rounds 3] [--seconds 8] [--micro]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyvips
import uvicorn
from uvicorn.server import ServerState

from benchmarks import processes
from benchmarks.ports import free_port
from imgedge.url.build import build_path

KEY = b"header-limits-benchmark"
ASSET = "benchmarkphoto"
PROTOCOLS = {
    "httptools": "httptools",
    "imgedge": "imgedge.web.protocol:LimitedHttpToolsProtocol",
}


def start(protocol: str, originals: Path, work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    env |= {
        "IMGEDGE_DATA_DIR": str(work / protocol),
        "IMGEDGE_SOURCE": "filesystem",
        "IMGEDGE_SOURCE_DIR": str(originals),
        "IMGEDGE_KEYS": KEY.decode(),
        "IMGEDGE_ACCESS_LOG": "misses",
        "MALLOC_ARENA_MAX": "2",
    }
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", "imgedge.proxy.app:create_app_from_env", "--port",
        str(port), "--no-access-log", "--no-proxy-headers", "--http", PROTOCOLS[protocol],
    ]  # fmt: skip
    log = work / f"{protocol}.log"
    process = processes.start(argv, env=env, log=log)
    processes.wait_http(f"http://127.0.0.1:{port}/healthz", process, timeout_s=60, log=log)
    return process, port


def wrk(url: str, seconds: int) -> tuple[float, float]:
    done = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-H", "Accept: image/avif,image/webp,*/*", url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    )  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", done.stdout)
    assert p99 is not None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rate, float(p99.group(1)) * scale


BROWSER_REQUEST = (
    b"GET /sig/w:400/f:auto/asset HTTP/1.1\r\nHost: img.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux)"
    b"\r\nAccept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
    b"\r\nAccept-Encoding: gzip, br\r\nAccept-Language: en-US,en;q=0.9"
    b"\r\nReferer: https://example.com/page\r\n\r\n"
)


class _Transport(asyncio.Transport):
    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8080)}.get(name, default)

    def is_closing(self) -> bool:
        return False


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _per_request_us(protocol: str, requests: int) -> float:
    config = uvicorn.Config(_answer, http=PROTOCOLS[protocol], proxy_headers=False, log_level="warning")
    config.load()
    handler = config.http_protocol_class(config=config, server_state=ServerState(), app_state={})  # type: ignore[call-arg]
    handler.connection_made(_Transport())
    started = time.perf_counter()
    for _ in range(requests):
        handler.data_received(BROWSER_REQUEST)
        await asyncio.sleep(0)  # the request's ASGI task runs and answers
        await asyncio.sleep(0)
    return (time.perf_counter() - started) / requests * 1e6


def micro(rounds: int) -> None:
    timings: dict[str, list[float]] = {name: [] for name in PROTOCOLS}
    for _ in range(rounds):
        for name in PROTOCOLS:
            timings[name].append(asyncio.run(_per_request_us(name, 10_000)))
    for name, values in timings.items():
        print(f"{name:>9}: min {min(values):6.2f} us, median {statistics.median(values):6.2f} us per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--micro", action="store_true", help="in-process, per request, no sockets")
    args = parser.parse_args()
    if args.micro:
        micro(max(args.rounds, 5))
        return
    path = build_path(ASSET, key=KEY, width=400, fmt="auto")
    with tempfile.TemporaryDirectory(prefix="imgedge-headers-") as tmp:
        work = Path(tmp)
        originals = work / "originals"
        originals.mkdir()
        pyvips.Image.xyz(1024, 1024)[0].cast("uchar").bandjoin([128, 64]).copy(
            interpretation="srgb"
        ).write_to_file(str(originals / f"{ASSET}.png"))
        servers = {name: start(name, originals, work) for name in PROTOCOLS}
        try:
            rates: dict[str, list[float]] = {name: [] for name in PROTOCOLS}
            for _, port in servers.values():
                wrk(f"http://127.0.0.1:{port}{path}", 2)  # warm: the variant is now a memory hit
            for round_ in range(args.rounds):
                for name, (_, port) in servers.items():
                    rate, p99 = wrk(f"http://127.0.0.1:{port}{path}", args.seconds)
                    rates[name].append(rate)
                    print(f"round {round_ + 1} {name:>9}: {rate:8.0f} req/s  p99 {p99:6.2f} ms", flush=True)
            medians = {name: statistics.median(values) for name, values in rates.items()}
            print(f"imgedge / httptools (median req/s): {medians['imgedge'] / medians['httptools']:.3f}")
        finally:
            for process, _ in servers.values():
                processes.stop(process)


if __name__ == "__main__":
    main()
