"""A throwaway PostgreSQL cluster for tests, from Debian's `postgresql` package, on a free port.

The server refuses to run as root, so as root the cluster belongs to the `postgres` user (runuser); its
directory lives under the system temp dir, which that user can reach (pytest's own temp dirs are private).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

USER = "imgedge"
PASSWORD = "imgedge-test-password"


def _bin(name: str) -> str:
    # Debian keeps the server's programs in /usr/lib/postgresql/<major>/bin, off PATH.
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError("PostgreSQL is not installed; `make test` installs Debian's postgresql package")
    return on_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class PostgresServer:
    port: int

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "imgedge") -> str:
        """A new empty database; returns its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_cluster(*, startup_s: int = 60, durable: bool = False) -> Iterator[PostgresServer]:
    """`durable`: fsync and synchronous commits as in production (benchmarks); tests skip them for speed."""
    root = Path(tempfile.mkdtemp(prefix="imgedge-postgres-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    (root / "password").write_text(PASSWORD)
    os.chmod(root / "password", 0o644)
    port = _free_port()
    data = root / "data"

    def run(*command: str) -> None:
        done = subprocess.run([*as_postgres, *command], capture_output=True, text=True, timeout=startup_s)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stderr or done.stdout}")

    run(_bin("initdb"), "-D", str(data), "-U", USER, f"--pwfile={root / 'password'}",
        "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync")  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    try:
        run(_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
            "-t", str(startup_s), "start")  # fmt: skip
        try:
            yield PostgresServer(port)
        finally:
            run(_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
