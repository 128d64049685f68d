"""Load from `wrk` with a generated Lua script that walks a list of paths (and Accept headers)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from benchmarks.load_types import LoadResult, LoadSpec

# Each thread walks its own stride of the list, so with `unique` no path is requested twice.
_SCRIPT = """
local counter, threads = 0, {}
function setup(thread)
  thread:set("id", counter)
  thread:set("nthreads", NTHREADS)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  paths, accepts = {}, {}
  for line in io.lines(args[1]) do
    local path, accept = line:match("([^\\t]*)\\t?(.*)")
    table.insert(paths, path)
    table.insert(accepts, accept)
  end
  index = id + 1
  sent, limit = 0, math.floor(tonumber(args[2]) / nthreads)
  unique = args[3] == "1"
  hits, misses, timeline, second, second_hits, second_total = 0, 0, "", 0, 0, 0
  started = os.time()
end
function request()
  if sent >= limit or (unique and index > #paths) then wrk.thread:stop() end
  if index > #paths then index = id + 1 end
  local i = index
  index = index + nthreads
  sent = sent + 1
  local headers = {}
  if accepts[i] ~= "" then headers["Accept"] = accepts[i] end
  return wrk.format("GET", paths[i], headers)
end
RESPONSE
function done(summary, latency, requests)
  local total_hits, total_misses, parts = 0, 0, {}
  for _, thread in ipairs(threads) do
    total_hits = total_hits + (thread:get("hits") or 0)
    total_misses = total_misses + (thread:get("misses") or 0)
    table.insert(parts, (thread:get("timeline") or "") .. string.format("[%d,%d,%d]",
      thread:get("second") or 0, thread:get("second_hits") or 0, thread:get("second_total") or 0))
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,' ..
    '"p50":%f,"p95":%f,"p99":%f,"hits":%d,"misses":%d,"timeline":[%s]}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    total_hits, total_misses, table.concat(parts, ",")))
end
"""

# The count bound lives in request(); this hook is only installed when needed: parsing every
# response's headers costs wrk CPU that the server then lacks. Only scalars and strings cross from the
# threads to done(): copying nested tables through thread:get crashed wrk 4.1.
_RESPONSE = """
function response(status, headers, body)
  local cs = headers["cache-status"] or headers["Cache-Status"] or ""
  local now = os.time() - started
  if now ~= second then
    timeline = timeline .. string.format("[%d,%d,%d],", second, second_hits, second_total)
    second, second_hits, second_total = now, 0, 0
  end
  if cs:find("; hit") then hits = hits + 1; second_hits = second_hits + 1 else misses = misses + 1 end
  second_total = second_total + 1
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def run(spec: LoadSpec, scratch: Path) -> LoadResult:
    scratch.mkdir(parents=True, exist_ok=True)
    threads = max(1, min(2, spec.connections))
    paths_file = scratch / "wrk-paths.txt"
    paths_file.write_text("".join(f"{r.path}\t{r.accept}\n" for r in spec.requests))
    hook = _RESPONSE if spec.track_cache else ""
    script = scratch / "wrk-walk.lua"
    script.write_text(_SCRIPT.replace("NTHREADS", str(threads)).replace("RESPONSE", hook))
    duration = max(1, round(spec.duration_s))
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(spec.connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
    ]
    command += ["-s", str(script), spec.base_url, "--", str(paths_file), str(spec.max_requests)]
    command += ["1" if spec.unique else "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result ({done.returncode}): {done.stderr.strip()[-400:]}")
    data = json.loads(line.removeprefix("WRKJSON "))
    return LoadResult(
        client="wrk",
        requests=data["requests"],
        errors=data["errors"] + data["status_errors"],
        duration_s=data["duration_us"] / 1e6,
        p50_ms=data["p50"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
        hits=data["hits"],
        misses=data["misses"],
        hit_timeline=_merge(data["timeline"]),
    )


def _merge(buckets: list[list[int]]) -> list[tuple[int, int, int]]:
    merged: dict[int, list[int]] = {}
    for second, hits, total in buckets:
        if total:
            pair = merged.setdefault(second, [0, 0])
            pair[0] += hits
            pair[1] += total
    return [(second, pair[0], pair[1]) for second, pair in sorted(merged.items())]
