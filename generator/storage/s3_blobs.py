"""Originals in an S3-compatible bucket (AWS, MinIO, R2, Ceph, rclone): `IMGEDGE_STORE_URL=s3://BUCKET/PREFIX`.

One object per asset, `PREFIX/<asset id>.png`. A PUT creates the whole object or nothing, and the server
checks the body against its Content-MD5, so no reader ever sees part of an original. boto3 (imgedge/s3.py)
signs, retries and bounds each call; its calls block, so callers on an event loop run them in a thread.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from imgedge import common_settings as C
from imgedge.env import ConfigError
from imgedge.generator.storage.blob_keys import BlobNotFound, check_key
from imgedge.generator.storage.errors import StoreUnavailable
from imgedge.s3 import S3Location, s3_client

_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
_CREDENTIALS = ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken")


def _code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    def __init__(self, location: S3Location, client: Any, suffix: str = ".png") -> None:
        self.location = location
        self.client = client
        self.suffix = suffix

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        """Checks the bucket at once, so a wrong credential or bucket stops the start, naming the setting."""
        store = cls(S3Location.parse(url), s3_client())
        store.check()
        return store

    def object_key(self, key: str) -> str:
        return self.location.key(check_key(key) + self.suffix)

    def put(self, key: str, data: bytes) -> None:
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self._call(
            "put_object", Key=self.object_key(key), Body=data, ContentMD5=md5, ContentType="image/png",
            CacheControl="public, max-age=31536000, immutable",
        )  # fmt: skip

    def get(self, key: str) -> bytes:
        response = self._call("get_object", Key=self.object_key(key), missing=key)
        body = response["Body"]
        try:
            data: bytes = body.read()
        except Exception as exc:  # a connection dropped mid-body
            raise StoreUnavailable(f"originals store unavailable: {type(exc).__name__}") from None
        finally:
            body.close()
        return data

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", Key=self.object_key(key), missing=key)
        except BlobNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=self.object_key(key))

    def sweep_temporaries(self) -> int:
        return 0  # one PUT per blob: the service stores the whole object or none

    def readiness_problem(self) -> str | None:
        try:
            self.client.head_bucket(Bucket=self.location.bucket)
        except Exception as exc:
            return f"store {self.location.url} unavailable: {_code(exc) or type(exc).__name__}"
        return None

    def check(self) -> None:
        """Raises ConfigError naming the setting to fix: credentials, bucket or endpoint."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = f"bucket {self.location.bucket!r}"
        try:
            self.client.head_bucket(Bucket=self.location.bucket)
        except NoCredentialsError:
            raise ConfigError(
                f"{C.STORE_URL.name}: no S3 credentials for {where}; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY"
            ) from None
        except ClientError as exc:
            code = _code(exc)
            if code in _NOT_FOUND or code == "NoSuchBucket":
                raise ConfigError(f"{C.STORE_URL.name}: {where} does not exist") from None
            if code in _CREDENTIALS:
                raise ConfigError(
                    f"{C.STORE_URL.name}: the S3 service refused the credentials for {where} ({code}); "
                    "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ) from None
            raise ConfigError(f"{C.STORE_URL.name}: {where} is not usable: {code}") from None
        except BotoCoreError as exc:
            endpoint = C.S3_ENDPOINT_URL.read() or "AWS S3"
            raise ConfigError(f"{C.S3_ENDPOINT_URL.name}: cannot reach {endpoint}: {exc}") from None

    def _call(self, operation: str, *, missing: str | None = None, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.location.bucket, **params)
        except ClientError as exc:
            if missing is not None and _code(exc) in _NOT_FOUND:
                raise BlobNotFound(missing) from None
            raise StoreUnavailable(f"originals store unavailable: {_code(exc) or 'error'}") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"originals store unavailable: {type(exc).__name__}") from None
