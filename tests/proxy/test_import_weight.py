"""What a proxy worker imports: HTTP clients only for the features that use them, as every worker holds
what it imports (httpx, httpcore and h11 took 7 of an idle worker's 80 MiB; benchmarks/results/profile.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLIENTS = ("httpx", "httpcore", "h11")

PROBE = f"""
import json, sys
from imgedge.proxy.app import create_app_from_env
app = create_app_from_env()
print(json.dumps([name for name in {CLIENTS!r} if name in sys.modules]))
"""


def _clients_loaded(tmp_path: Path, **env: str) -> list[str]:
    environment = {**os.environ, "IMGEDGE_DATA_DIR": str(tmp_path), **env}
    argv = [sys.executable, "-c", PROBE]
    done = subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=120, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_a_default_proxy_worker_loads_no_http_client(tmp_path: Path) -> None:
    assert _clients_loaded(tmp_path) == []


def test_remote_sources_and_cdn_purges_bring_their_clients(tmp_path: Path) -> None:
    loaded = _clients_loaded(
        tmp_path,
        IMGEDGE_REMOTE_SOURCES="https://images.example.com/",
        IMGEDGE_CDN_PURGE_URLS="http://127.0.0.1:6081/",
    )
    assert set(loaded) == set(CLIENTS)
