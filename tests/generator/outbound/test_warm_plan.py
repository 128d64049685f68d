"""What a new asset is warmed with: the proxy's most requested variants within a budget, else the srcset."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.outbound.proxy_client import ProxyClient, WarmRequest
from imgedge.generator.outbound.transform_urls import TransformUrls
from imgedge.generator.outbound.warm_plan import (
    ACCEPT_FOR,
    LEARNED_RETRY_S,
    MIN_LEARNED_REQUESTS,
    WarmPlanner,
    WarmPolicy,
    parse_popular,
)
from imgedge.url.build import build_path
from tests.generator.conftest import SIGNING_KEY, ServerThread

ASSET = "0" * 32
POPULAR = {
    "variants": [
        {"options": "w:640", "format": "avif", "count": 50, "share": 0.5},
        {"options": "w:640", "format": "webp", "count": 30, "share": 0.3},
        {"options": "w:100/h:100/fit:cover/f:jpeg", "format": "jpeg", "count": 15, "share": 0.15},
        {"options": "w:320", "format": "legacy", "count": 5, "share": 0.05},
    ],
    "requests": 100,
    "processes": 2,
}


class PopularEndpoint:
    def __init__(self) -> None:
        self.body: object = POPULAR
        self.asked: list[str] = []

    def app(self) -> Starlette:
        async def popular(request: Request) -> Response:
            self.asked.append(request.headers.get("authorization", ""))
            return JSONResponse(self.body)

        return Starlette(routes=[Route("/admin/popular", popular)])


@pytest.fixture()
def endpoint() -> Iterator[tuple[PopularEndpoint, str]]:
    served = PopularEndpoint()
    with ServerThread(served.app()) as server:
        yield served, server.url


@contextlib.asynccontextmanager
async def planner(url: str, policy: WarmPolicy, now: list[float]) -> AsyncIterator[WarmPlanner]:
    async with httpx.AsyncClient() as client:
        proxy = ProxyClient(client, url, "admin-token")
        yield WarmPlanner(proxy, TransformUrls(SIGNING_KEY, (64, 128), ""), policy, clock=lambda: now[0])


async def test_learned_variants_are_warmed_until_the_coverage_is_reached(
    endpoint: tuple[PopularEndpoint, str],
) -> None:
    served, url = endpoint
    now = [0.0]
    async with planner(url, WarmPolicy(coverage=0.9), now) as warm:
        plan = await warm.plan(ASSET, 1024)
    assert plan == [
        WarmRequest(build_path(ASSET, key=SIGNING_KEY, width=640), ACCEPT_FOR["avif"]),
        WarmRequest(build_path(ASSET, key=SIGNING_KEY, width=640), ACCEPT_FOR["webp"]),
        WarmRequest(
            build_path(ASSET, key=SIGNING_KEY, width=100, height=100, fit="cover", fmt="jpeg"), "*/*"
        ),
    ]
    assert served.asked == ["Bearer admin-token"]


async def test_the_budget_bounds_the_plan_and_one_answer_serves_a_minute(
    endpoint: tuple[PopularEndpoint, str],
) -> None:
    served, url = endpoint
    now = [0.0]
    async with planner(url, WarmPolicy(budget=2, coverage=1.0), now) as warm:
        assert len(await warm.plan(ASSET, 1024)) == 2
        now[0] = 30.0
        assert len(await warm.plan("1" * 32, 1024)) == 2
        assert len(served.asked) == 1
        now[0] = 61.0
        await warm.plan("2" * 32, 1024)
    assert len(served.asked) == 2


async def test_an_answer_with_nothing_to_learn_is_asked_again_soon_and_a_failure_forgets_nothing(
    endpoint: tuple[PopularEndpoint, str],
) -> None:
    served, url = endpoint
    served.body = {**POPULAR, "requests": MIN_LEARNED_REQUESTS - 1}
    now = [0.0]
    async with planner(url, WarmPolicy(budget=2, coverage=1.0), now) as warm:
        srcset = build_path(ASSET, key=SIGNING_KEY, width=64, fmt="auto")
        assert (await warm.plan(ASSET, 1024))[0].path == srcset
        now[0] = LEARNED_RETRY_S - 1
        await warm.plan(ASSET, 1024)
        assert len(served.asked) == 1
        served.body = POPULAR
        now[0] = LEARNED_RETRY_S + 1
        assert (await warm.plan(ASSET, 1024))[0].path == build_path(ASSET, key=SIGNING_KEY, width=640)
        assert len(served.asked) == 2
        served.body = ["broken"]  # the next ask, a minute on, fails: what was learned still serves
        now[0] = LEARNED_RETRY_S + 62
        assert (await warm.plan(ASSET, 1024))[0].path == build_path(ASSET, key=SIGNING_KEY, width=640)
        assert len(served.asked) == 3
        now[0] += LEARNED_RETRY_S + 1  # and is kept a while rather than asked for on every approval
        await warm.plan(ASSET, 1024)
        assert len(served.asked) == 3


@pytest.mark.parametrize(
    "body",
    [
        {**POPULAR, "requests": MIN_LEARNED_REQUESTS - 1},  # too little traffic to go by
        {"variants": [], "requests": 1000},
        {"variants": "nope", "requests": 1000},
        ["not", "a", "dict"],
    ],
)
async def test_without_learned_variants_the_srcset_widths_are_warmed(
    endpoint: tuple[PopularEndpoint, str], body: object
) -> None:
    served, url = endpoint
    served.body = body
    async with planner(url, WarmPolicy(), [0.0]) as warm:
        plan = await warm.plan(ASSET, 100)
    # Widths past the source collapse into it: 64 and 100, each in both negotiated formats.
    assert [(p.path, p.accept) for p in plan] == [
        (build_path(ASSET, key=SIGNING_KEY, width=w, fmt="auto"), accept)
        for w in (64, 100)
        for accept in (ACCEPT_FOR["avif"], ACCEPT_FOR["webp"])
    ]


async def test_learning_off_or_proxy_down_falls_back_to_the_srcset() -> None:
    async with planner("http://127.0.0.1:9", WarmPolicy(learned=False), [0.0]) as warm:
        off = await warm.plan(ASSET, 1024)
    async with planner("http://127.0.0.1:9", WarmPolicy(), [0.0]) as warm:
        down = await warm.plan(ASSET, 1024)
    assert off == down and len(off) == 4


def test_malformed_rows_are_skipped() -> None:
    body = {
        "requests": 100,
        "variants": [
            {"options": "w:1", "format": "webp", "count": "x"},
            7,
            {"options": "w:2", "format": "avif"},
        ],
    }
    assert parse_popular(body) == []
    assert [item.share for item in parse_popular(POPULAR)] == [0.5, 0.3, 0.15, 0.05]
