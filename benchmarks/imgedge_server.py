"""`imgedge serve` as a user runs it, on its own data directory and ports, with an admin client for stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks import processes


def environment(
    data_dir: Path, *, port: int, generator_port: int, workers: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "IMGEDGE_DATA_DIR": str(data_dir),
            "IMGEDGE_HOST": "127.0.0.1",
            "IMGEDGE_PORT": str(port),
            "IMGEDGE_GENERATOR_PORT": str(generator_port),
            "IMGEDGE_WORKERS": str(workers),
        }
    )
    env.update(extra or {})
    return env


@dataclass(slots=True)
class ImgedgeServer:
    process: subprocess.Popen[bytes]
    base_url: str
    generator_url: str
    admin_token: str

    @classmethod
    def start(cls, env: dict[str, str], *, log: Path, timeout_s: float = 300.0) -> ImgedgeServer:
        # The log is appended to: only what this start writes counts (a scratch directory outlives runs).
        offset = log.stat().st_size if log.exists() else 0
        process = processes.start([sys.executable, "-m", "imgedge.cli", "serve"], env=env, log=log)
        deadline = time.monotonic() + timeout_s
        # `imgedge serve` prints "playground:" once both services answer /healthz.
        while "playground:" not in log.read_bytes()[offset:].decode(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                processes.stop(process)
                raise processes.ServiceFailed(f"imgedge serve did not come up; see {log}")
            time.sleep(0.2)
        data_dir = Path(env["IMGEDGE_DATA_DIR"])
        token = (data_dir / "secrets" / "admin.token").read_text().strip()
        return cls(
            process=process,
            base_url=f"http://127.0.0.1:{env['IMGEDGE_PORT']}",
            generator_url=f"http://127.0.0.1:{env['IMGEDGE_GENERATOR_PORT']}",
            admin_token=token,
        )

    def stats_by_process(self, attempts: int = 24) -> list[dict[str, Any]]:
        """/admin/stats answers for one worker; fresh connections reach the others (told apart by pid,
        or failing that by their differing counters)."""
        seen: dict[str, dict[str, Any]] = {}
        for _ in range(attempts):
            response = httpx.get(
                f"{self.base_url}/admin/stats",
                timeout=5.0,
                headers={"Authorization": f"Bearer {self.admin_token}"},
            )
            response.raise_for_status()
            stats = response.json()
            identity = str(stats.get("pid")) if "pid" in stats else json.dumps(stats, sort_keys=True)
            seen[identity] = stats
        return list(seen.values())

    def origin_fetches(self) -> int:
        return sum(int(s.get("origin_fetches") or 0) for s in self.stats_by_process())

    def original(self, asset_id: str) -> bytes:
        response = httpx.get(f"{self.generator_url}/originals/{asset_id}", timeout=30.0)
        response.raise_for_status()
        return response.content

    def stop(self) -> None:
        processes.stop(self.process)
