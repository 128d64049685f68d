"""The shared vectors file is exactly what the Python reference computes today, so clients in other
languages (clients/js) that pass against it agree with the proxy."""

from __future__ import annotations

import json

from imgedge.url import ParseSettings, parse_options
from imgedge.url.signing import verify
from tests.url import vectors


def test_vectors_file_is_current() -> None:
    committed = vectors.VECTORS_FILE.read_text()
    assert committed == vectors.render(), (
        "clients/js/test/vectors.json is stale: regenerate it with `python -m tests.url.vectors`"
    )


def test_vectors_cover_every_option_and_both_outcomes() -> None:
    data = json.loads(vectors.render())
    accepted = [v for v in data["options"] if "canonical" in v]
    refused = [v for v in data["options"] if "error" in v]
    assert len(accepted) > 300 and len(refused) > 50
    used = {segment.partition(":")[0].lower() for v in data["options"] for segment in v["segments"]}
    assert set(data["grammar"]["options"]) <= used, set(data["grammar"]["options"]) - used


def test_every_vector_signature_verifies_and_reparses_to_itself() -> None:
    data = json.loads(vectors.render())
    settings = ParseSettings(presets=data["presets"])
    for vector in data["options"]:
        if "canonical" not in vector:
            continue
        key = data["key"].encode()
        assert verify([key], vector["canonical"], data["asset_id"], vector["signature"])
        canonical = vector["canonical"]
        # The canonical form is a fixed point: parsing it again gives the same string.
        assert parse_options(canonical.split("/") if canonical else [], settings).canonical() == canonical
