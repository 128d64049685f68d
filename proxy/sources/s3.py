"""Originals from allowed s3:// URLs through boto3 (imgedge.s3: the client the object store uses too).

boto3 blocks, so every call runs in a worker thread; sizes are checked from the object's length before the
body is read, and a stale cached copy is revalidated with IfNoneMatch (a 304 keeps the cached bytes).
"""

from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import anyio

from imgedge.imaging.errors import SourceTooLarge
from imgedge.proxy.errors import BadGateway, Forbidden, NotFound
from imgedge.proxy.metrics import ORIGIN_FETCHES
from imgedge.proxy.sources.base import S3, SourceImage, SourceRef
from imgedge.s3 import s3_client

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig


class S3Source:
    def __init__(self, config: ProxyConfig, client: Any = None) -> None:
        self._max_bytes = config.max_src_bytes
        self._timeout_s = config.remote_timeout_s
        self._client = client
        self.fetches = 0

    @functools.cached_property
    def client(self) -> Any:
        # Made on first use: importing boto3 costs a noticeable part of a second at start-up.
        return self._client or s3_client(connect_timeout_s=self._timeout_s, read_timeout_s=self._timeout_s)

    async def fetch(self, ref: SourceRef, previous: SourceImage | None = None) -> SourceImage:
        if ref.kind != S3:
            raise NotFound(f"this source has no {ref.kind} originals")
        self.fetches += 1
        ORIGIN_FETCHES.inc()
        parts = urlsplit(ref.location)
        bucket, key = parts.netloc, unquote(parts.path.lstrip("/"))
        return await anyio.to_thread.run_sync(self._get, bucket, key, previous)

    def _get(self, bucket: str, key: str, previous: SourceImage | None) -> SourceImage:
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if previous is not None:
            request["IfNoneMatch"] = f'"{previous.etag}"'
        try:
            response = self.client.get_object(**request)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status == 304 and previous is not None:
                return previous
            raise _public_error(status, exc.response.get("Error", {}).get("Code", "")) from None
        except BotoCoreError as exc:
            raise BadGateway(f"S3 source unreachable: {type(exc).__name__}") from None
        body = response["Body"]
        try:
            length = int(response.get("ContentLength", 0))
            if length > self._max_bytes:
                raise SourceTooLarge(f"source is {length} bytes, limit is {self._max_bytes}")
            data: bytes = body.read(self._max_bytes + 1)
        finally:
            body.close()
        if len(data) > self._max_bytes:
            raise SourceTooLarge(f"source exceeds {self._max_bytes} bytes")
        etag = str(response.get("ETag", "")).strip('"') or hashlib.sha256(data).hexdigest()[:32]
        last_modified = response.get("LastModified")
        modified = last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT") if last_modified else ""
        return SourceImage(data=data, etag=etag, moderation="approved", last_modified=modified)

    async def ready(self) -> str | None:
        return None

    async def aclose(self) -> None:
        return None


def _public_error(status: int, code: str) -> Exception:
    if status == 404 or code in ("NoSuchKey", "NoSuchBucket"):
        return NotFound("source not found")
    if status == 403:
        return Forbidden("S3 source refused access")
    return BadGateway(f"S3 source answered {status or code}")
