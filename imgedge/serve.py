"""`imgedge serve`: the generator and the proxy as uvicorn processes, stopped together; `--only` runs one.
The proxy's workers accept on one socket opened here, and this process replaces one that dies (see
`socket_workers`).

Both start at once: the proxy serves cache hits from the first moment, and a miss that arrives while the
generator is still starting waits for it (IMGEDGE_ORIGIN_WAIT) rather than failing. The same holds for a
proxy started with `--only proxy` on a host of its own, where nothing here could order the starts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from imgedge import common_settings as C
from imgedge.secrets import load_or_create, load_signing_keys, shared_backend
from imgedge.socket_workers import SocketWorkers, listen
from imgedge.subcommands import Lazy, require
from imgedge.url.build import build_path
from imgedge.web.uvicorn_args import BALANCED_LOOP, UVICORN_ARGS

if TYPE_CHECKING:
    from imgedge.subcommands import Subparsers

LOG_CONFIG = Path(__file__).resolve().parent / "uvicorn_logging.json"


class Started(Protocol):
    def poll(self) -> int | None: ...  # an exit status once the service stopped


# Each running service: its process (or processes) and the address to reach it at.
Services = dict[str, tuple[Started, str]]


def _wait_healthy(url: str, process: Started, timeout_s: float) -> bool:
    import httpx  # the server extra; imported here so `imgedge --help` works without it

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _uvicorn(factory: str, *listen_on: str) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory, *listen_on, "--no-access-log",
        "--timeout-graceful-shutdown", "10", *UVICORN_ARGS,
        # uvicorn's own lines in imgedge's format: JSON off a terminal, one readable line on one.
        "--log-config", str(LOG_CONFIG),
    ]  # fmt: skip


def _proxy_env(env: dict[str, str], workers: int, metrics_dir: Path) -> dict[str, str]:
    proxy_env = dict(env)
    proxy_env["IMGEDGE_WORKERS"] = str(workers)  # each worker takes its share of the memory budgets
    if workers > 1:
        shutil.rmtree(metrics_dir, ignore_errors=True)  # counters restart with the processes
        metrics_dir.mkdir(parents=True)
        proxy_env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return proxy_env


def _forget_worker(metrics_dir: Path) -> Callable[[int], None]:
    def forget(pid: int) -> None:
        # What prometheus_client's mark_process_dead does: a dead worker's live gauges (its queue depth,
        # its libvips memory) stop counting in the sums; its counters stay, as totals should.
        for path in metrics_dir.glob(f"gauge_live*_{pid}.db"):
            path.unlink(missing_ok=True)

    return forget


def serve_command(args: argparse.Namespace) -> int:
    # A proxy host needs the server extra only; the generator needs torch too.
    require("httpx", "uvicorn", "starlette", "pyvips", *(() if args.only == "proxy" else ("torch",)))
    from imgedge.imaging.requirements import require_libvips  # the server extra, checked just above

    require_libvips()  # here, once, rather than as a traceback from every child process
    host = C.HOST.read()
    port = C.PORT.read()
    generator_port = C.GENERATOR_PORT.read()
    # One proxy process per core by default: measured, one process reaches 40% of a bare Starlette
    # endpoint's cache-hit rate on 2 cores, two reach 63%.
    workers = args.workers or C.WORKERS.read(default=os.cpu_count() or 1)
    data_dir = Path(C.DATA_DIR.read())
    data_dir.mkdir(parents=True, exist_ok=True)
    if shared_backend() is None:
        for name in ("signing.key", "origin.token", "admin.token"):
            load_or_create(data_dir, name)  # once, before several processes race to create them

    env = dict(os.environ)
    env[C.SUPERVISOR_PID.name] = str(os.getpid())  # its services stop when it does (imgedge.supervised)
    # libvips under glibc malloc fragments across many arenas; two keep RSS flat (see the benchmark report).
    env.setdefault("MALLOC_ARENA_MAX", "2")
    # No fixed MALLOC_MMAP_THRESHOLD_: buffers mapped and unmapped on every request were faulted in afresh
    # each time (a miss paid 2.4 ms of 9 at 0.5 MiB, a cold request 6 of 37 at 1 MiB); the proxy hands
    # free heap pages back with malloc_trim every few seconds instead (benchmarks/results/profile.md).
    services: Services = {}
    proxy: SocketWorkers | None = None
    generator: subprocess.Popen[bytes] | None = None
    if args.only in (None, "proxy"):
        try:
            sock = listen(host, port)  # first: a taken port stops here, with nothing started yet
        except OSError as exc:
            print(f"imgedge serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        metrics_dir = data_dir / "run" / "metrics-proxy"
        listen_on = ("--fd", str(sock.fileno()), "--loop", BALANCED_LOOP)
        proxy = SocketWorkers(
            _uvicorn("imgedge.proxy.app:create_app_from_env", *listen_on),
            _proxy_env(env, workers, metrics_dir), sock, workers, on_exit=_forget_worker(metrics_dir),
            timeout_s=C.PROXY_WORKER_TIMEOUT.read(), startup_s=args.startup_timeout,
        )  # fmt: skip
        services["proxy"] = (proxy, f"http://{_browsable(host)}:{port}")
    if args.only in (None, "generator"):
        command = _uvicorn(
            "imgedge.generator.app:create_app_from_env", "--host", host, "--port", str(generator_port)
        )
        generator = subprocess.Popen(command, env=env)
        services["generator"] = (generator, f"http://{_browsable(host)}:{generator_port}")

    def stop(signum: int, _frame: types.FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        if not all(_wait_healthy(f"{url}/healthz", p, args.startup_timeout) for p, url in services.values()):
            print("imgedge serve: a service failed to start; see the log above", file=sys.stderr)
            return 1
        _announce(services, data_dir, sample=not args.no_sample)
        while (generator is None or generator.poll() is None) and (proxy is None or proxy.keep_alive()):
            time.sleep(0.5)
        print("imgedge serve: a service exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        children = [*([generator] if generator else []), *(proxy.processes if proxy else [])]
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if proxy is not None:
            proxy.close()


def _browsable(host: str) -> str:
    # A wildcard listen address is no address to connect to; loopback on this host is.
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _announce(services: Services, data_dir: Path, *, sample: bool) -> None:
    lines = ["imgedge is up"]
    if "generator" in services:
        lines.append(f"  playground: {services['generator'][1]}/")
    if "proxy" in services:
        lines.append(f"  proxy:      {services['proxy'][1]}/")
    print("\n".join(lines), flush=True)
    if sample and len(services) == 2:
        found = _sample_transform(services["generator"][1], services["proxy"][1], data_dir)
        if found:
            print(f"  sample:     {found}", flush=True)


def _sample_transform(generator_url: str, proxy_url: str, data_dir: Path) -> str | None:
    """A transform URL of the newest approved image, generating one on a first run; best effort."""
    import httpx

    try:
        with httpx.Client(base_url=generator_url, timeout=10) as client:
            images = client.get("/v1/images", params={"limit": 1}).json().get("images", [])
            if images:
                asset_id = images[0]["asset_id"]
            else:
                job = client.post(
                    "/v1/images", json={"prompt": "imgedge sample", "seed": 1, "steps": 4}
                ).json()
                deadline = time.monotonic() + 60
                status: dict[str, str] = {}
                while time.monotonic() < deadline:
                    status = client.get(f"/v1/jobs/{job['job_id']}").json()
                    if status.get("status") in ("done", "failed"):
                        break
                    time.sleep(0.3)
                if status.get("status") != "done":
                    return None
                asset_id = status["asset_id"]
    except (httpx.HTTPError, KeyError, ValueError):
        return None
    return proxy_url + build_path(asset_id, key=load_signing_keys(data_dir)[0], width=640)


def register(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="run the generator and the proxy (or one of them, with --only)")
    p.add_argument(
        "--only", choices=["proxy", "generator"], default=None,
        help="run just this service, as each host of a multi-host setup does (default: both)",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=int, default=0,
        help="proxy worker processes (default: IMGEDGE_WORKERS, which defaults to one per core)",
    )  # fmt: skip
    p.add_argument(
        "--startup-timeout", type=float, default=300.0, metavar="SECONDS",
        help="how long each service may take to answer its health check",
    )  # fmt: skip
    p.add_argument("--no-sample", action="store_true", help="do not generate a sample image on a first run")
    p.set_defaults(func=Lazy("imgedge.serve:serve_command", extra="generator"))
