"""Repeated prompts: reuse through the generator API, and prompt URLs against asset URLs of the same image.

One `imgedge serve` (tiny model, its own data dir and ports). Measured in one run, side by side:
- `POST /v1/images` repeating a finished request (explicit seed): answered 200 `reused` at once, against
  `GET /v1/jobs/{id}` (a plain read of the same job) — p50/p99 of sequential requests on one connection;
- a prompt URL's first request (generation + transform), and an asset URL's first request of the same
  image at another width (transform only);
- later hits of the prompt URL against hits of the asset URL naming the same variant, interleaved.
Run alone: `python -m benchmarks.prompt_reuse` (merges its section into results/latest.*); `make bench` runs
it too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks import processes, report_markdown
from benchmarks.imgedge_server import ImgedgeServer, environment
from benchmarks.ports import free_port
from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path
from imgedge.url.prompt import Generation, build_prompt_path

REPEATS = 300
BODY = {"prompt": "a lighthouse on a cliff at dawn, benchmark", "seed": 4242, "width": 512, "height": 512}
PROMPT_URL_PROMPT = "a paper boat on a pond, benchmark"


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "n": len(ordered),
    }


def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def _wait_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    while True:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)


def api_reuse(generator_url: str) -> dict[str, Any]:
    with httpx.Client(base_url=generator_url, timeout=300) as client:
        started = time.perf_counter()
        first = client.post("/v1/images", json=BODY).json()
        job = _wait_job(client, first["job_id"])
        generation_ms = (time.perf_counter() - started) * 1000
        reused, reads = [], []
        for _ in range(REPEATS):  # interleaved, so the machine's noise hits both alike
            ms, response = _timed(lambda: client.post("/v1/images", json=BODY))
            assert response.status_code == 200 and response.json()["reused"] is True, response.text
            reused.append(ms)
            ms, response = _timed(lambda: client.get(f"/v1/jobs/{job['id']}"))
            reads.append(ms)
    return {
        "first_generation_ms": round(generation_ms, 1),
        "reused": _percentiles(reused),
        "job_read": _percentiles(reads),
    }


def prompt_urls(proxy_url: str, key: bytes) -> dict[str, Any]:
    generation = Generation.of(PROMPT_URL_PROMPT, 77, 512, 512)
    prompt_path = build_prompt_path(generation, key=key, options=["w:320", "f:webp"])
    with httpx.Client(base_url=proxy_url, timeout=300) as client:
        first_ms, first = _timed(lambda: client.get(prompt_path))
        assert first.status_code == 200, first.text
        asset_id = first.headers["surrogate-key"]
        asset_first_ms, asset_first = _timed(
            lambda: client.get(build_path(asset_id, key=key, width=300, fmt="webp"))
        )
        assert asset_first.status_code == 200 and "miss" in asset_first.headers["cache-status"]
        asset_path = build_path(asset_id, key=key, width=320, fmt="webp")
        prompt_hits, asset_hits = [], []
        for _ in range(REPEATS):
            ms, response = _timed(lambda: client.get(prompt_path))
            assert "hit" in response.headers["cache-status"]
            prompt_hits.append(ms)
            ms, response = _timed(lambda: client.get(asset_path))
            assert "hit" in response.headers["cache-status"]
            asset_hits.append(ms)
    return {
        "prompt_first_ms": round(first_ms, 1),
        "asset_first_ms": round(asset_first_ms, 1),
        "prompt_hits": _percentiles(prompt_hits),
        "asset_hits": _percentiles(asset_hits),
    }


def measure(scratch: Path) -> dict[str, Any]:
    data = scratch / "prompt-reuse"
    shutil.rmtree(data, ignore_errors=True)  # "the first request" must be one: no jobs from an earlier run
    data.mkdir(parents=True)
    env = environment(
        data / "data", port=free_port(), generator_port=free_port(), workers=1,
        extra={"IMGEDGE_RATE_PER_MINUTE": "600000", "IMGEDGE_RATE_BURST": "100000",
               "IMGEDGE_WARM_ON_START": "0", "IMGEDGE_EAGER_VARIANTS": "0"},
    )  # fmt: skip
    server = ImgedgeServer.start(env, log=data / "serve.log")
    try:
        key = load_signing_keys(data / "data")[0]
        return {"api": api_reuse(server.generator_url), "urls": prompt_urls(server.base_url, key)}
    finally:
        processes.stop(server.process)


def replace_section(markdown: str, title: str, section: str) -> str:
    """`markdown` with its `title` section replaced by `section`, or `section` added before the notes."""
    if title in markdown:
        head, rest = markdown.split(title, 1)
        after = rest.find("\n## ")
        return head + section + (rest[after + 1 :] if after >= 0 else "")
    if "\n## Notes\n" in markdown:
        head, notes = markdown.split("\n## Notes\n", 1)
        return head + "\n" + section + "\n## Notes\n" + notes
    return markdown.rstrip("\n") + "\n\n" + section


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.prompt_reuse", description=__doc__)
    here = Path(__file__).resolve().parent
    parser.add_argument("--scratch", type=Path, default=here / "scratch")
    parser.add_argument("--out", type=Path, default=here / "results")
    args = parser.parse_args()
    results_file = args.out / "latest.json"
    results = json.loads(results_file.read_text())
    results["prompt_reuse"] = measure(args.scratch)
    results_file.write_text(json.dumps(results, indent=1, default=str) + "\n")
    # Only this section of latest.md changes: the others may come from runs merged in the same way.
    report = args.out / "latest.md"
    section = "\n".join(report_markdown.prompt_reuse_section(results["prompt_reuse"]))
    report.write_text(replace_section(report.read_text(), report_markdown.PROMPT_REUSE_TITLE, section))
    print(json.dumps(results["prompt_reuse"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
