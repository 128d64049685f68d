"""/openapi.json describes exactly the routes the app has, is valid OpenAPI 3.1, and what the API really
answers matches it: each status is documented and each JSON body validates against its schema."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import httpx
import jsonschema
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from imgedge.generator.config import GeneratorConfig
from tests.conftest import photo
from tests.generator.conftest import Served, submit

IGNORED_METHODS = {"HEAD"}  # Starlette answers HEAD wherever GET is served


def app_operations(served: Served) -> set[tuple[str, str]]:
    found = set()
    for route in served.app.routes:
        if isinstance(route, Route):
            found |= {(route.path, m.lower()) for m in (route.methods or ()) if m not in IGNORED_METHODS}
        elif isinstance(route, Mount):
            found.add((route.path + "/{path}", "get"))
    return found


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item}


class Checker:
    def __init__(self, client: httpx.Client, document: dict[str, Any]) -> None:
        self.document = document
        self.client = client
        self.checked: set[tuple[str, str, str]] = set()

    def call(self, template: str, method: str, path: str | None = None, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path or template, **kwargs)
        responses = self.document["paths"][template][method.lower()]["responses"]
        status = str(response.status_code)
        assert status in responses, f"{method} {template} answered {status}, not documented: {response.text}"
        content = responses[status].get("content", {})
        if "application/json" in content:
            schema = {**content["application/json"]["schema"], "components": self.document["components"]}
            jsonschema.validate(response.json(), schema, cls=jsonschema.Draft202012Validator)
        elif content:
            assert any(response.headers["content-type"].startswith(t.rstrip("*")) for t in content)
        self.checked.add((template, method.lower(), status))
        return response


def test_every_route_is_documented_and_nothing_else(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    document = httpx.get(served.url + "/openapi.json").json()
    validate(document)
    assert app_operations(served) == documented_operations(document)
    for path in document["paths"]:
        assert re.fullmatch(r"/[a-z0-9/{}_.-]*", path), path


def test_answers_match_the_description(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config)
    with served.client() as client:
        check = Checker(client, client.get("/openapi.json").json())
        exercise(check, served)
    assert {(t, m) for t, m, _ in check.checked} == documented_operations(check.document)


def exercise(check: Checker, served: Served) -> None:
    job_id = submit(served, prompt="described")["job_id"]
    asset_id = served.wait_job(job_id)["asset_id"]
    check.call("/v1/images", "POST", json={"prompt": "x", "width": 64, "height": 64, "steps": 1})
    check.call("/v1/images", "POST", json={"prompt": ""})
    check.call("/v1/images", "POST", content=b"{", headers={"content-type": "application/json"})
    check.call("/v1/images", "GET", params={"limit": 3})
    check.call("/v1/images", "GET", params={"limit": 0})
    check.call("/v1/jobs/{job_id}", "GET", f"/v1/jobs/{job_id}")
    check.call("/v1/jobs/{job_id}", "GET", "/v1/jobs/nope")
    check.call("/v1/images/{asset_id}", "GET", f"/v1/images/{asset_id}")
    check.call("/v1/images/{asset_id}", "GET", "/v1/images/" + "0" * 32)
    grant = check.call("/v1/uploads", "POST", json={}).json()
    photo_png = photo("coffee", 64).write_to_buffer(".png")
    check.call("/v1/uploads/{token}", "PUT", grant["upload_url"], content=photo_png)
    check.call("/v1/uploads/{token}", "PUT", grant["upload_url"], content=photo_png)  # used: 409
    check.call("/v1/admin/pending", "GET")
    admin = {"Authorization": "Bearer admin-token"}
    check.call("/v1/admin/pending", "GET", headers=admin)
    check.call(
        "/v1/admin/assets/{asset_id}/approve", "POST", f"/v1/admin/assets/{asset_id}/approve", headers=admin
    )
    check.call(
        "/v1/admin/assets/{asset_id}/reject",
        "POST",
        "/v1/admin/assets/" + "0" * 32 + "/reject",
        headers=admin,
    )
    check.call("/originals/{asset_id}", "GET", f"/originals/{asset_id}")
    check.call(
        "/originals/{asset_id}", "GET", f"/originals/{asset_id}", headers={"If-None-Match": f'"{asset_id}"'}
    )
    check.call("/originals/{asset_id}", "GET", "/originals/" + "0" * 32)
    for path in ("/healthz", "/readyz", "/metrics", "/", "/openapi.json"):
        check.call(path, "GET")
    check.call("/playground/{path}", "GET", "/playground/playground.js")
    check.call("/playground/{path}", "GET", "/playground/missing.js")


def test_the_request_schema_states_this_services_bounds(serve: Any, config: GeneratorConfig) -> None:
    served = serve(replace(config, max_side=256, max_steps=8))
    document = httpx.get(served.url + "/openapi.json").json()
    properties = document["components"]["schemas"]["GenerationRequest"]["properties"]
    assert properties["width"]["maximum"] == properties["height"]["maximum"] == 256
    assert properties["steps"]["maximum"] == 8
