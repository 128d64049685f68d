from __future__ import annotations

import uuid

import pytest

from tests.engines.s3 import S3Server


@pytest.fixture
def s3_bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket on the session's S3 server, with this process's environment pointing at it."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    bucket = f"b{uuid.uuid4().hex[:12]}"
    s3_server.make_bucket(bucket)
    return bucket
