from __future__ import annotations

from pathlib import Path

import pytest

from imgedge.env import ConfigError
from imgedge.s3 import S3Location, s3_client
from tests.engines.s3 import rclone_s3


def test_locations_parse_bucket_and_prefix() -> None:
    assert S3Location.parse("s3://bucket") == S3Location("bucket", "")
    assert S3Location.parse("s3://bucket/a/b/").key("x.png") == "a/b/x.png"
    for bad in ("http://bucket/x", "s3:///x", "s3://bucket/x?y=1"):
        with pytest.raises(ConfigError):
            S3Location.parse(bad)


def test_client_talks_to_a_real_s3_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with rclone_s3(tmp_path / "s3") as server:
        server.make_bucket("originals")
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        client = s3_client()
        client.put_object(Bucket="originals", Key="p/one", Body=b"bytes")
        assert client.get_object(Bucket="originals", Key="p/one")["Body"].read() == b"bytes"
