"""imgedge.client (standard library only) against the real generator API."""

from __future__ import annotations

from typing import Any

import pytest

from imgedge.client import ApiError, GeneratorClient
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.keys.repository import ApiKeyRepository
from tests.generator.conftest import database_for


def test_generate_submits_waits_and_fetches_the_metadata(serve: Any, config: GeneratorConfig) -> None:
    client = GeneratorClient(serve(config).url)
    image = client.generate("a quiet harbour", width=64, height=64, steps=2, seed=5)
    assert image["width"] == 64 and image["provenance"]["prompt"] == "a quiet harbour"
    assert image["transforms"]["srcset"]
    assert [found["asset_id"] for found in client.recent(limit=5)] == [image["asset_id"]]

    job = client.submit("the same harbour", width=64, height=64, steps=2, seed=5)
    assert job.status == "queued" and not job.settled
    done = client.wait(job.id, timeout_s=120)
    assert done.status == "done" and done.asset_id is not None


def test_errors_carry_the_status_and_the_message(serve: Any, config: GeneratorConfig) -> None:
    client = GeneratorClient(serve(config, rate_burst=1, rate_per_minute=1).url)
    with pytest.raises(ApiError) as bad:
        client.submit("", width=64, height=64)
    assert bad.value.status == 422 and "prompt" in bad.value.message
    with pytest.raises(ApiError) as missing:
        client.job("nope")
    assert missing.value.status == 404
    with pytest.raises(ApiError) as limited:
        client.submit("over the limit", width=64, height=64)
    assert limited.value.status == 429 and limited.value.retry_after is not None


def test_an_api_key_is_sent_where_keys_are_required(serve: Any, config: GeneratorConfig) -> None:
    _, key = ApiKeyRepository(database_for(config)).create("client", rate_per_minute=None, daily_quota=None)
    url = serve(config, host="0.0.0.0").url
    with pytest.raises(ApiError) as refused:
        GeneratorClient(url).recent(limit=1)
    assert refused.value.status == 401 and "API key is required" in refused.value.message
    assert GeneratorClient(url, api_key=key).recent(limit=1) == []
