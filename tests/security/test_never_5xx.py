"""Property-based: whatever URL, signature, JSON body or query parameter arrives, the running services answer
2xx, 3xx or 4xx — never 5xx. Example counts are bounded so the module stays quick; each test reports how many
cases it tried. Sizes stay small (transform cost has its own tests): this is about parsing, not work."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgedge.url import ParseSettings, parse_options
from imgedge.url.errors import UrlError
from imgedge.url.signing import sign
from tests.security.conftest import BLOCKED_WORD, Edge, report

SETTINGS = settings(
    deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
_CLIENTS = itertools.count(1)

NAMES = ["w", "h", "width", "height", "fit", "rt", "g", "c", "ar", "dpr", "q", "f", "bl", "sh", "rot", "flip",
         "flop", "bg", "strip", "el", "exp", "pr", "zoom", ""]  # fmt: skip
ARGS = st.one_of(
    st.integers(-5, 1200).map(str),
    st.sampled_from(
        ["cover", "pad", "force", "inside", "sm", "fp", "webp", "avif", "auto", "1", "0", "ff0000"]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=12),
)
OPTION = st.builds(lambda n, a: ":".join([n, *a]), st.sampled_from(NAMES), st.lists(ARGS, max_size=4))
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
)  # fmt: skip
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["prompt", "negative_prompt", "aspect", "width", "height", "seed", "steps", "guidance", "temporary",
          "webhook_url", "extra"]  # fmt: skip


def ok(response: httpx.Response) -> bool:
    return 200 <= response.status_code < 500


def behind() -> str:
    n = next(_CLIENTS)
    return f"198.18.{n // 250}.{n % 250 + 1}"  # a new client each case: rate limits are not what is tested


def run(name: str, prop: Callable[[], None], counter: list[int]) -> None:
    prop()
    report(f"hypothesis: {name}", cases=counter[0])
    assert counter[0] > 0


def test_the_url_grammar(edge: Edge) -> None:
    tried = [0]

    @settings(SETTINGS, max_examples=300)
    @given(
        options=st.lists(OPTION, max_size=5), signed=st.booleans(), tail=st.sampled_from(["", ".webp", ".x"])
    )
    def prop(options: list[str], signed: bool, tail: str) -> None:
        tried[0] += 1
        signature = "_"
        if signed:
            try:
                spec = parse_options(options, ParseSettings())
                signature = sign([edge.key], spec.canonical(), edge.photo)
            except UrlError:
                signature = "A" * 43
            if spec_too_costly(options):
                return
        path = "/" + "/".join([signature, *options, edge.photo + tail])
        response = proxy.get(quote(path, safe="/:"))
        assert ok(response), (path, response.status_code, response.text)

    with edge.client("proxy") as proxy:
        run("URL grammar", prop, tried)


def spec_too_costly(options: list[str]) -> bool:
    try:
        spec = parse_options(options, ParseSettings())
    except UrlError:
        return False
    return spec.width * max(spec.height, 1) > 1200 * 1200 or spec.blur > 10 or spec.crop is not None


def test_signatures(edge: Edge) -> None:
    tried = [0]
    path = edge.url(edge.photo, width=48)
    good, rest = path[1:].split("/", 1)

    @settings(SETTINGS, max_examples=200)
    @given(
        signature=st.text(min_size=1, max_size=60)
        | st.text("ABCDEFabcdef0123-_=+/", min_size=40, max_size=46)
    )
    def prop(signature: str) -> None:
        tried[0] += 1
        response = proxy.get(f"/{quote(signature, safe='')}/{rest}")
        assert response.status_code == (200 if signature == good else 403) or (
            "/" in signature and ok(response)
        ), (signature, response.status_code)

    with edge.client("proxy") as proxy:
        run("signatures", prop, tried)


def test_json_bodies(edge: Edge) -> None:
    tried = [0]
    admin = {"Authorization": f"Bearer {edge.admin_token}"}

    @settings(SETTINGS, max_examples=150)
    @given(
        generation=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6),
        anything=JSON_VALUES,
        raw=st.binary(max_size=64),
    )
    def prop(generation: dict[str, Any], anything: Any, raw: bytes) -> None:
        tried[0] += 1
        small = {"prompt": "fuzz", "width": 64, "height": 64, "steps": 1, **generation}
        if isinstance(small["prompt"], str):
            # Parsed and checked all the way, then refused by moderation: no job is queued behind the tests.
            small["prompt"] += f" {BLOCKED_WORD}"
        json_type = {"Content-Type": "application/json", "X-Forwarded-For": behind()}
        answers = [
            client.post("/v1/images", json=small, headers={"X-Forwarded-For": behind()}),
            client.post("/v1/uploads", content=json.dumps(anything), headers=json_type),
            client.post("/v1/uploads", content=raw, headers=json_type),
            client.post(f"/v1/admin/assets/{edge.photo}x/reject", json=anything, headers=admin),
        ]
        assert all(ok(r) for r in answers), [(r.request.url.path, r.status_code, r.text) for r in answers]

    with edge.client(behind="198.18.255.1") as client:
        run("JSON bodies", prop, tried)


def test_query_parameters(edge: Edge) -> None:
    tried = [0]

    @settings(SETTINGS, max_examples=150)
    @given(value=st.text(max_size=20), name=st.sampled_from(["limit", "x", ""]))
    def prop(value: str, name: str) -> None:
        tried[0] += 1
        query = f"{quote(name)}={quote(value)}"
        gallery = generator.get(f"/v1/images?{query}")
        variant = proxy.get(f"{path}?{query}")
        assert ok(gallery) and ok(variant), (query, gallery.status_code, variant.status_code)

    path = edge.url(edge.photo, width=48)
    with edge.client("proxy") as proxy, edge.client() as generator:
        run("query parameters", prop, tried)
