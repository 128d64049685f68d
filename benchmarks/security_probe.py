"""The attack pass of docs/security.md, measured: `imgedge serve` from a source tree, attacked from 127.0.0.1
as a client on the internet would, with RSS, times and statuses written to a JSON file.

    python -m benchmarks.security_probe --tree . --label after --out after.json
    python -m benchmarks.security_probe --compare before.json after.json

`--tree` may be any checkout (e.g. an export of main): its code serves, this probe attacks, so one probe
measures before and after side by side. Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyvips

from benchmarks import processes
from benchmarks.ports import free_port
from benchmarks.raw_http import Connection, pipelined, request_bytes
from benchmarks.rss import RssSampler, rss_bytes, tree
from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path

MIB = 1 << 20
FLOOD = 10_000
BIG_HEADER = 15 * 1024  # just under the 16 KiB default limit: the largest request that is still parsed
DEADLINE_S = 3.0


@dataclass
class Results:
    label: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, attack: str, **values: Any) -> None:
        self.rows.setdefault(attack, {}).update(values)
        print(f"  {attack}: {values}", flush=True)


@dataclass
class Target:
    process: subprocess.Popen[bytes]
    port: int
    generator_port: int
    data_dir: Path
    log: Path

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def generator(self) -> str:
        return f"http://127.0.0.1:{self.generator_port}"

    def pid(self, service: str) -> int:
        for pid in tree(self.process.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if f"imgedge.{service}.app".encode() in cmdline:
                return pid
        raise RuntimeError(f"no {service} process")

    def rss(self, service: str) -> int:
        return rss_bytes(self.pid(service))

    @property
    def key(self) -> bytes:
        return load_signing_keys(self.data_dir)[0]

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {(self.data_dir / 'secrets' / 'admin.token').read_text().strip()}"}


def start(tree_dir: Path, work: Path) -> Target:
    data_dir = work / "data"
    port, generator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    env |= {
        "PYTHONPATH": str(tree_dir),
        "IMGEDGE_DATA_DIR": str(data_dir),
        "IMGEDGE_HOST": "127.0.0.1",
        "IMGEDGE_PORT": str(port),
        "IMGEDGE_GENERATOR_PORT": str(generator_port),
        "IMGEDGE_WORKERS": "1",
        "IMGEDGE_TRANSFORM_TIMEOUT": str(DEADLINE_S),
        "IMGEDGE_TRANSFORM_THREADS": "2",
        "IMGEDGE_MODERATION_BLOCKLIST": "forbidden",
        "IMGEDGE_TEMPORARY_TTL": "2",
        "IMGEDGE_JANITOR_INTERVAL": "0.5",
        "IMGEDGE_WARM_ON_START": "0",
        "IMGEDGE_RATE_PER_MINUTE": "600",
        "IMGEDGE_RATE_BURST": "10",
        "IMGEDGE_ACCESS_LOG": "all",
        "IMGEDGE_EAGER_VARIANTS": "0",
    }
    log = work / "serve.log"
    argv = [sys.executable, "-m", "imgedge.cli", "serve", "--no-sample"]
    process = processes.start(argv, env=env, log=log, cwd=tree_dir)
    deadline = time.monotonic() + 300
    while "playground:" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            processes.stop(process)
            raise processes.ServiceFailed(f"imgedge serve did not come up; see {log}")
        time.sleep(0.2)
    return Target(process, port, generator_port, data_dir, log)


def ingest(target: Target, tree_dir: Path, image: pyvips.Image, name: str) -> str:
    path = target.data_dir.parent / f"{name}.png"
    image.write_to_file(str(path), compression=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    env |= {"PYTHONPATH": str(tree_dir), "IMGEDGE_DATA_DIR": str(target.data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "imgedge.cli", "ingest", str(path)],
        env=env, cwd=tree_dir, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    return done.stdout.split()[0]


def smooth(width: int, height: int) -> pyvips.Image:
    """A picture that compresses (so ingesting it is quick) but is not flat (so encoders work)."""
    xy = pyvips.Image.xyz(width, height)
    r = (xy[0] * 255 / width).cast("uchar")
    g = (xy[1] * 255 / height).cast("uchar")
    b = ((xy[0] + xy[1]) % 256).cast("uchar")
    return r.bandjoin([g, b]).copy(interpretation="srgb")


def settle(target: Target, service: str) -> int:
    time.sleep(1.0)
    return target.rss(service)


def growth(target: Target, service: str, attack: Callable[[], Any]) -> tuple[float, Any]:
    before = settle(target, service)
    outcome = attack()
    after = settle(target, service)
    return round((after - before) / MIB, 1), outcome


def counts(statuses: list[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for status in statuses:
        out[str(status)] = out.get(str(status), 0) + 1
    return out


def still_answers(target: Target) -> bool:
    try:
        proxy = httpx.get(f"{target.proxy}/healthz", timeout=10).status_code == 200
        generator = httpx.get(f"{target.generator}/healthz", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False
    return proxy and generator


# --- bounded memory -------------------------------------------------------------------------------------


def bad_signature_flood(target: Target, asset: str, results: Results) -> None:
    def attack() -> dict[str, int]:
        def requests() -> Iterator[bytes]:
            for i in range(FLOOD):
                signature = f"{i:08d}".ljust(BIG_HEADER - 200, "A")
                yield request_bytes("GET", f"/{signature}/w:100/{asset}")

        return counts(pipelined(target.port, requests(), window=32))

    grew, statuses = growth(target, "proxy", attack)
    results.add("flood: 10k distinct bad signatures (15 KiB each)", rss_growth_mib=grew, statuses=statuses)


def accept_flood(target: Target, asset: str, results: Results) -> None:
    path = build_path(asset, key=target.key, width=64, fmt="auto")
    httpx.get(target.proxy + path, timeout=60)

    def attack() -> dict[str, int]:
        def requests() -> Iterator[bytes]:
            for i in range(FLOOD):
                accept = f"image/webp,image/x-{i:08d}-" + "a" * (BIG_HEADER - 300) + ",*/*;q=0.8"
                yield request_bytes("GET", path, [("Accept", accept)])

        return counts(pipelined(target.port, requests(), window=32))

    grew, statuses = growth(target, "proxy", attack)
    results.add("flood: 10k distinct Accept headers (15 KiB each)", rss_growth_mib=grew, statuses=statuses)


def option_flood(target: Target, asset: str, results: Results) -> None:
    signature = "A" * 43  # the right shape, the wrong value

    def attack() -> dict[str, int]:
        def requests() -> Iterator[bytes]:
            for i in range(FLOOD):
                yield request_bytes(
                    "GET", f"/{signature}/w:{i % 8000 + 1}/bg:{i:06x}/q:{i % 100 + 1}/{asset}"
                )

        return counts(pipelined(target.port, requests(), window=64))

    grew, statuses = growth(target, "proxy", attack)
    results.add(
        "flood: 10k distinct options, wrong 43-char signature", rss_growth_mib=grew, statuses=statuses
    )


def header_size(target: Target, results: Results) -> None:
    for size_mib in (1, 8):
        header = "a" * (size_mib * MIB)
        started = time.monotonic()
        with Connection(target.port, timeout_s=60) as conn:
            conn.send(request_bytes("GET", "/healthz", [("X-Big", header)]))
            answer = conn.read_answer()
        results.add(
            f"one {size_mib} MiB header",
            status=answer.status,
            seconds=round(time.monotonic() - started, 3),
        )


def slow_headers(target: Target, results: Results) -> None:
    cap = 25.0
    with Connection(target.port, timeout_s=5) as conn:
        started = time.monotonic()
        conn.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed_after: float | None = None
        while time.monotonic() - started < cap:
            if not conn.send(b"X-Drip: a\r\n"):
                closed_after = time.monotonic() - started
                break
            waited = conn.wait_closed(1.0)
            if waited is not None:
                closed_after = time.monotonic() - started
                break
    results.add(
        "headers trickled one line a second",
        closed_after_s=round(closed_after, 1) if closed_after is not None else f"still open at {cap:.0f}",
    )


def big_body(target: Target, results: Results, *, chunked: bool, path: str = "/v1/images") -> None:
    total = 300 * MIB
    chunk = b"x" * MIB

    def attack() -> dict[str, Any]:
        started = time.monotonic()
        with Connection(target.generator_port, timeout_s=30) as conn:
            framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"{framing}\r\n\r\n"
            )
            conn.send(head.encode())
            sent = 0
            conn.sock.settimeout(0.001)
            while sent < total:
                piece = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
                try:
                    conn.sock.sendall(piece)
                except TimeoutError:
                    break  # the server stopped reading
                except OSError:
                    break
                sent += len(chunk)
                try:
                    if conn.sock.recv(1, socket.MSG_PEEK):
                        break  # it answered
                except (TimeoutError, BlockingIOError):
                    pass
                except OSError:
                    break
            conn.sock.settimeout(60)
            answer = conn.read_answer()
            return {
                "status": answer.status,
                "seconds_to_answer": round(time.monotonic() - started, 2),
                "mib_sent": sent // MIB,
            }

    grew, outcome = growth(target, "generator", attack)
    kind = "chunked" if chunked else "declared"
    results.add(f"300 MiB {kind} POST {path}", rss_growth_mib=grew, **outcome)


# --- bounded time ---------------------------------------------------------------------------------------


def heavy_transform(target: Target, asset: str, results: Results, name: str, **options: Any) -> None:
    path = build_path(asset, key=target.key, **options)
    pid = target.pid("proxy")
    sampler = RssSampler(interval_s=0.1)
    sampler.watch("proxy", pid)
    before = rss_bytes(pid)
    sampler.start()
    started = time.monotonic()
    try:
        response = httpx.get(target.proxy + path, timeout=300)
        status, retry = response.status_code, response.headers.get("retry-after")
    except httpx.HTTPError as exc:
        status, retry = 0, str(exc)
    answered = time.monotonic() - started
    time.sleep(25)  # work a thread may still be finishing after the answer
    sampler.stop()
    results.add(
        name, status=status, retry_after=retry, answered_after_s=round(answered, 2),
        past_deadline_s=round(answered - DEADLINE_S, 2),
        peak_rss_growth_mib=round((sampler.memory["proxy"].peak_total - before) / MIB),
        rss_growth_25s_later_mib=round((rss_bytes(pid) - before) / MIB),
    )  # fmt: skip


# --- strict input ---------------------------------------------------------------------------------------


def malleable_signatures(target: Target, asset: str, results: Results) -> None:
    path = build_path(asset, key=target.key, width=64, fmt="webp")
    signature, rest = path[1:].split("/", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    variants = {signature + "=", signature + "==", signature.replace("-", "+").replace("_", "/") + "="}
    variants |= {signature[:-1] + alphabet[(last & ~3) | low] for low in range(4)} - {signature}
    variants.discard(signature)
    accepted = sum(
        httpx.get(f"{target.proxy}/{variant}/{rest}", timeout=60).status_code == 200 for variant in variants
    )
    results.add("other spellings of a valid signature", tried=len(variants), answered_200=accepted)


def hostile_json(target: Target, results: Results) -> None:
    cases = {
        "webhook_url http://[::1": {"prompt": "x", "webhook_url": "http://[::1"},
        "webhook_url with port 99999": {"prompt": "x", "webhook_url": "http://example.com:99999/"},
        "webhook_url with userinfo": {"prompt": "x", "webhook_url": "https://user:pw@example.com/"},
        "guidance 1e999": '{"prompt": "x", "guidance": 1e999}',
        "guidance NaN": '{"prompt": "x", "guidance": NaN}',
        "JSON nested 30,000 deep": '{"prompt": ' + "[" * 30_000 + "]" * 30_000 + "}",
        "prompt with a control character": {"prompt": "a\x07b", "width": 64, "height": 64, "steps": 1},
    }
    with httpx.Client(base_url=target.generator, timeout=60) as client:
        for name, body in cases.items():
            content = body if isinstance(body, str) else json.dumps(body)
            response = client.post(
                "/v1/images", content=content, headers={"Content-Type": "application/json"}
            )
            results.add(f"POST /v1/images: {name}", status=response.status_code)
            time.sleep(0.2)
        for value in ("²", "١٢"):
            response = client.get(f"/v1/images?limit={value}")
            results.add(f"GET /v1/images?limit={value}", status=response.status_code)
        response = client.post(
            "/v1/images", headers={"Content-Type": "application/json"},
            content=b'{"prompt": "lone \\ud800 surrogate", "width": 64, "height": 64, "steps": 1, "seed": 1}',
        )  # fmt: skip
        job_status = None
        if response.status_code == 202:
            job_path = "/v1/jobs/" + response.json()["job_id"]
            for _ in range(200):
                job_status = client.get(job_path).status_code
                if job_status != 200 or client.get(job_path).json().get("status") in ("done", "failed"):
                    break
                time.sleep(0.1)
            job_status = client.get(job_path).status_code
        results.add("prompt with a lone surrogate", status=response.status_code, job_status_after=job_status)
    with httpx.Client(base_url=target.proxy, timeout=60) as client:
        statuses = [client.get(f"/_/w:{digits}/abc").status_code for digits in ("²00", "١٢٠", "1e3")]
        results.add("proxy: non-ASCII digits in options", statuses=statuses)


# --- abuse ----------------------------------------------------------------------------------------------


def forwarded_for(target: Target, results: Results) -> None:
    statuses = []
    with httpx.Client(base_url=target.generator, timeout=30) as client:
        for i in range(30):
            response = client.post("/v1/uploads", json={}, headers={"X-Forwarded-For": f"198.51.100.{i + 1}"})
            statuses.append(response.status_code)
    results.add("30 uploads from one client, each with a new X-Forwarded-For", statuses=counts(statuses))
    time.sleep(3)  # let the bucket refill for what follows


def cross_site(target: Target, results: Results) -> None:
    with httpx.Client(base_url=target.generator, timeout=30) as client:
        response = client.post(
            "/v1/images",
            content=json.dumps({"prompt": "csrf", "width": 64, "height": 64, "steps": 1}),
            headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
        )
        results.add("cross-site text/plain POST /v1/images", status=response.status_code)
        response = client.post(
            "/v1/images", json={"prompt": "host", "width": 64, "height": 64, "steps": 1},
            headers={"Host": "evil.example"},
        )  # fmt: skip
        reflected = "evil.example" in response.headers.get("location", "") + response.text
        results.add("Host: evil.example", status=response.status_code, host_in_returned_urls=reflected)
        time.sleep(1)


def upload_token_in_logs(target: Target, png: bytes, results: Results) -> str:
    with httpx.Client(base_url=target.generator, timeout=60) as client:
        grant = client.post("/v1/uploads", json={}).json()
        token = grant["upload_url"].rstrip("/").rsplit("/", 1)[-1]
        client.put(grant["upload_url"], content=png, headers={"Content-Type": "image/png"})
    time.sleep(1)
    results.add("upload token in the access log", found=token in target.log.read_text(errors="replace"))
    return token


def metrics_and_headers(target: Target, asset: str, results: Results) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    proxy = httpx.get(f"{target.proxy}/metrics", headers=forwarded, timeout=30).status_code
    generator = httpx.get(f"{target.generator}/metrics", headers=forwarded, timeout=30).status_code
    results.add("/metrics for a client forwarded by a local proxy", proxy=proxy, generator=generator)
    responses = {
        "proxy variant": httpx.get(target.proxy + build_path(asset, key=target.key, width=64), timeout=60),
        "proxy error": httpx.get(f"{target.proxy}/x/y", timeout=30),
        "proxy /healthz": httpx.get(f"{target.proxy}/healthz", timeout=30),
        "generator JSON": httpx.get(f"{target.generator}/v1/images", timeout=30),
        "generator error": httpx.get(f"{target.generator}/v1/jobs/nope", timeout=30),
        "playground page": httpx.get(f"{target.generator}/", timeout=30),
    }
    missing = [name for name, r in responses.items() if r.headers.get("x-content-type-options") != "nosniff"]
    results.add("responses without nosniff", missing=missing or "none")
    page = responses["playground page"].headers
    csp = page.get("content-security-policy", "")
    results.add(
        "playground page headers",
        csp=bool(csp), unsafe_inline="unsafe-inline" in csp,
        frame_ancestors_none="frame-ancestors 'none'" in csp,
        referrer_policy=page.get("referrer-policy", "none"),
    )  # fmt: skip


def blocklist_evasion(target: Target, results: Results) -> None:
    prompts = {
        "plain": "a forbidden thing",
        "zero-width": "a for\u200bbidden thing",
        "fullwidth": "a " + "".join(chr(ord(c) + 0xFEE0) for c in "FORBIDDEN"),
    }
    with httpx.Client(base_url=target.generator, timeout=30) as client:
        for name, prompt in prompts.items():
            response = client.post(
                "/v1/images", json={"prompt": prompt, "width": 64, "height": 64, "steps": 1}
            )
            results.add(f"blocklisted word, {name}", status=response.status_code)
            time.sleep(1)


def rejected_reupload(target: Target, results: Results) -> None:
    picture = smooth(320, 200).gaussblur(2).write_to_buffer(".png")
    with httpx.Client(base_url=target.generator, timeout=60) as client:

        def upload(temporary: bool) -> str:
            grant = client.post("/v1/uploads", json={"temporary": temporary}).json()
            stored = client.put(grant["upload_url"], content=picture, headers={"Content-Type": "image/png"})
            asset_id: str = stored.json()["asset_id"]
            return asset_id

        asset = upload(True)
        client.post(f"/v1/admin/assets/{asset}/reject", json={"reason": "probe"}, headers=target.admin)
        url = target.proxy + build_path(asset, key=target.key, width=100)
        rejected = httpx.get(url, timeout=60).status_code
        time.sleep(5)  # expiry (2 s) + janitor passes
        expired = httpx.get(url, timeout=60).status_code
        again = upload(False)
        time.sleep(1)
        after = httpx.get(target.proxy + build_path(again, key=target.key, width=100), timeout=60)
    results.add(
        "rejected upload expires, same bytes uploaded again",
        rejected=rejected, after_expiry=expired, same_id=again == asset, reuploaded=after.status_code,
        cache_control=after.headers.get("cache-control", ""),
    )  # fmt: skip


def expensive_generation(target: Target, results: Results) -> None:
    with httpx.Client(base_url=target.generator, timeout=30) as client:
        response = client.post(
            "/v1/images", json={"prompt": "big", "width": 1536, "height": 1536, "steps": 50}
        )
        results.add("anonymous 1536x1536, 50 steps", status=response.status_code)
        statuses = []
        for i in range(4):
            r = client.post(
                "/v1/images", json={"prompt": f"job {i}", "width": 512, "height": 512, "steps": 4}
            )
            statuses.append(r.status_code)
        results.add("anonymous: 4 jobs at once from one client", statuses=statuses)


def run(tree_dir: Path, label: str) -> Results:
    results = Results(label)
    with tempfile.TemporaryDirectory(prefix="imgedge-probe-") as tmp:
        target = start(tree_dir, Path(tmp))
        try:
            small = ingest(target, tree_dir, smooth(1024, 1024), "small")
            large = ingest(target, tree_dir, smooth(6000, 6000), "large")
            png = bytes(smooth(300, 200).write_to_buffer(".png"))
            print(f"{label}: serving {tree_dir}", flush=True)
            attacks: list[tuple[str, Callable[[], Any]]] = [
                ("signatures", lambda: bad_signature_flood(target, small, results)),
                ("accept", lambda: accept_flood(target, small, results)),
                ("options", lambda: option_flood(target, small, results)),
                ("header size", lambda: header_size(target, results)),
                ("slow headers", lambda: slow_headers(target, results)),
                ("body", lambda: big_body(target, results, chunked=False)),
                ("chunked body", lambda: big_body(target, results, chunked=True)),
                ("body, no reader", lambda: big_body(target, results, chunked=False, path="/v1/jobs/x")),
                ("malleable", lambda: malleable_signatures(target, small, results)),
                ("forwarded", lambda: forwarded_for(target, results)),
                ("json", lambda: hostile_json(target, results)),
                ("cross-site", lambda: cross_site(target, results)),
                ("token in logs", lambda: upload_token_in_logs(target, png, results)),
                ("metrics, headers", lambda: metrics_and_headers(target, small, results)),
                ("blocklist", lambda: blocklist_evasion(target, results)),
                ("re-upload", lambda: rejected_reupload(target, results)),
                ("blur", lambda: heavy_transform(
                    target, large, results, "heavy blur (interruptible), 3 s deadline",
                    width=5000, height=5000, fit="force", fmt="webp", extra=["bl:60"],
                )),
                ("avif", lambda: heavy_transform(
                    target, large, results, "5000x5000 AVIF (encoder not interruptible), 3 s deadline",
                    width=5000, height=5000, fit="force", fmt="avif",
                )),
                ("avif 8192", lambda: heavy_transform(
                    target, large, results, "8192x8192 AVIF", width=8192, height=8192, fit="force",
                    fmt="avif", extra=["el:1"],
                )),
                ("generation", lambda: expensive_generation(target, results)),
            ]  # fmt: skip
            for name, attack in attacks:
                try:
                    attack()
                except Exception as exc:  # a probe that breaks is itself a finding
                    results.add(f"error in {name}", error=f"{type(exc).__name__}: {exc}"[:200])
            results.add("services still answer", ok=still_answers(target))
        finally:
            processes.stop(target.process)
    return results


def compare(before_path: Path, after_path: Path) -> str:
    before = json.loads(before_path.read_text())
    after = json.loads(after_path.read_text())
    lines = ["| attack | before | after |", "|---|---|---|"]
    for attack in after["rows"]:
        cells = [_cell(before["rows"].get(attack, {})), _cell(after["rows"][attack])]
        lines.append(f"| {attack} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def _cell(values: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in values.items()) or "—"
    return re.sub(r"[|]", "/", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", type=Path, default=Path("."))
    parser.add_argument("--label", default="run")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        print(compare(*args.compare), end="")
        return
    results = run(args.tree.resolve(), args.label)
    if args.out:
        args.out.write_text(json.dumps({"label": results.label, "rows": results.rows}, indent=1))


if __name__ == "__main__":
    main()
