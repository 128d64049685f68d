"""S3-compatible object storage, for every part that reads or writes objects: the generator's originals
store and the proxy's S3 sources.

boto3 is the client (the maintained AWS SDK: request signing, retries, every S3-compatible service). It
reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION from the environment itself;
IMGEDGE_S3_ENDPOINT_URL points it at MinIO, R2, Ceph or rclone instead of AWS. Its calls block: callers run
them in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from imgedge import common_settings as C
from imgedge.env import ConfigError


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """`s3://BUCKET` or `s3://BUCKET/PREFIX`."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ConfigError(f"expected s3://BUCKET/PREFIX, got {url!r}")
        prefix = parts.path.strip("/")
        return cls(parts.netloc, f"{prefix}/" if prefix else "")

    def key(self, name: str) -> str:
        return self.prefix + name

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def s3_client(*, connect_timeout_s: float = 5.0, read_timeout_s: float = 30.0, attempts: int = 3) -> Any:
    """A boto3 S3 client with bounded time per call; IMGEDGE_S3_ENDPOINT_URL selects a non-AWS service."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        retries={"max_attempts": attempts, "mode": "standard"},
        # Path-style addressing works with every S3-compatible server, virtual hosts only with some.
        s3={"addressing_style": "path"},
    )
    endpoint = C.S3_ENDPOINT_URL.read() or None
    # A session of its own: boto3's default session keeps the first credentials it resolved for the life of
    # the process, so a client made after the environment changed would still sign with the old ones.
    return boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)
