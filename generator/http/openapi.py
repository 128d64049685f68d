"""GET /openapi.json: the generator API described by hand (OpenAPI 3.1), next to the routes it describes.

Hand-written rather than generated from docstrings: request bodies, limits and every status a route can
answer are stated once here, and tests/generator/http/test_openapi.py fails when a route is added,
removed or answers with something this document does not describe.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.http.admin import MAX_REASON_CHARS
from imgedge.generator.models.request import MAX_PROMPT_CHARS, MAX_SEED
from imgedge.generator.security.urls import MAX_URL_CHARS
from imgedge.generator.settings import MAX_JSON_BYTES as MAX_JSON_SETTING
from imgedge.generator.settings import MAX_SIDE, MAX_STEPS
from imgedge.generator.version import software_version
from imgedge.url.prompt import ASPECTS

JSON = "application/json"
NULLABLE_STRING = {"type": ["string", "null"]}
# Absolute on IMGEDGE_PUBLIC_URL when it is set, root-relative otherwise (never built from Host).
OUR_URL = {"type": "string", "format": "uri-reference"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> dict[str, Any]:
    return _json(description, _ref("Error"))


def _retry_after(description: str) -> dict[str, Any]:
    return _json(description, _ref("Error"), {"Retry-After": {"schema": {"type": "integer"}}})


ASSET_ID = {"name": "asset_id", "in": "path", "required": True, "schema": {"type": "string"}}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
# Text fields refuse control characters (C0, DEL, C1) other than newline and tab; a prompt needs a letter.
_CONTROL = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"
PROMPT_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"
# An API key, or none where anonymous use is allowed (loopback and no key, or IMGEDGE_ALLOW_ANONYMOUS).
API_KEY: list[dict[str, list[str]]] = [{"apiKey": []}, {}]

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "GenerationRequest": {
        "type": "object",
        "required": ["prompt"],
        "additionalProperties": False,
        # A size is width and height together, or an aspect ratio, never both.
        "dependentRequired": {"width": ["height"], "height": ["width"]},
        "not": {"anyOf": [{"required": ["aspect", "width"]}, {"required": ["aspect", "height"]}]},
        "properties": {
            "prompt": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PROMPT_CHARS,
                "pattern": PROMPT_PATTERN,
            },
            "negative_prompt": {
                "type": ["string", "null"],
                "maxLength": MAX_PROMPT_CHARS,
                "pattern": TEXT_PATTERN,
            },
            "aspect": {"type": "string", "enum": list(ASPECTS), "description": "instead of width and height"},
            "width": {"type": "integer", "minimum": 64, "multipleOf": 8, "description": "with height"},
            "height": {"type": "integer", "minimum": 64, "multipleOf": 8, "description": "with width"},
            "seed": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_SEED,
                "description": "random when absent",
            },
            "steps": {"type": "integer", "minimum": 1},
            "guidance": {"type": "number", "minimum": 0, "maximum": 30},
            "temporary": {"type": "boolean", "default": False},
            "webhook_url": {
                "type": "string",
                "format": "uri",
                "pattern": "^https?://",
                "maxLength": MAX_URL_CHARS,
                "description": "http(s), no user name, password or fragment; public addresses only",
            },
        },
    },
    "JobAccepted": {
        "type": "object",
        "required": ["job_id", "status", "status_url"],
        "properties": {
            "job_id": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["queued", "running"],
                "description": "running: an identical request's job, already under way",
            },
            "status_url": OUR_URL,
            "reused": {"type": "boolean", "enum": [False]},
        },
    },
    "ReusedJob": {
        "allOf": [
            _ref("Job"),
            {
                "type": "object",
                "required": ["reused"],
                "properties": {"reused": {"type": "boolean", "enum": [True]}},
            },
        ],
        "description": "the finished job of an identical earlier request (explicit seed): no new job",
    },
    "Job": {
        "type": "object",
        "required": ["id", "status", "asset_id", "error", "created_at", "updated_at", "request"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
            "asset_id": NULLABLE_STRING,
            "error": NULLABLE_STRING,
            "created_at": {"type": "number"},
            "updated_at": {"type": "number"},
            "request": {"type": "object", "description": "the validated request, without webhook_url"},
            "image_url": {**OUR_URL, "description": "once done"},
        },
    },
    "Image": {
        "type": "object",
        "required": [
            "asset_id",
            "width",
            "height",
            "bytes",
            "content_type",
            "created_at",
            "temporary",
            "moderation",
            "provenance",
            "original_url",
            "transforms",
        ],
        "properties": {
            "asset_id": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "bytes": {"type": "integer"},
            "content_type": {"type": "string"},
            "created_at": {"type": "number"},
            "temporary": {"type": "boolean"},
            "expires_at": {"type": ["number", "null"]},
            "moderation": {
                "type": "object",
                "properties": {
                    "state": {"type": "string", "enum": ["approved", "pending", "rejected"]},
                    "reason": NULLABLE_STRING,
                },
            },
            "provenance": {
                "type": "object",
                "description": "model and weights hash, prompt, seed, steps, guidance, scheduler, software",
                "properties": {
                    "origin": {"type": "string", "enum": ["generated", "upload", "ingest"]},
                    "digital_source_type": NULLABLE_STRING,
                },
            },
            "prompt_url": {
                **NULLABLE_STRING,
                "description": "a signed prompt URL that makes this image again (generated, default steps)",
            },
            "original_url": {"type": "string"},
            "transforms": {
                "type": ["object", "null"],
                "properties": {
                    "widths": {"type": "object", "additionalProperties": {"type": "string"}},
                    "srcset": {"type": "string"},
                },
            },
        },
    },
    "ImageList": {
        "type": "object",
        "required": ["images"],
        "properties": {"images": {"type": "array", "items": _ref("Image")}},
    },
    "PendingList": {
        "type": "object",
        "required": ["assets"],
        "properties": {"assets": {"type": "array", "items": _ref("Image")}},
    },
    "UploadGrant": {
        "type": "object",
        "required": ["upload_url", "method", "expires_in", "max_bytes"],
        "properties": {
            "upload_url": OUR_URL,
            "method": {"type": "string", "enum": ["PUT"]},
            "expires_in": {"type": "integer"},
            "max_bytes": {"type": "integer"},
        },
    },
    "Uploaded": {
        "type": "object",
        "required": ["asset_id", "image_url", "moderation"],
        "properties": {
            "asset_id": {"type": "string"},
            "image_url": OUR_URL,
            "moderation": {"type": "string", "enum": ["approved", "pending", "rejected"]},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "model", "device", "queue_depth"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "loading"]},
            "model": NULLABLE_STRING,
            "device": NULLABLE_STRING,
            "queue_depth": {"type": "integer"},
        },
    },
    "Readiness": {
        "type": "object",
        "required": ["ready", "problems"],
        "properties": {
            "ready": {"type": "boolean"},
            "problems": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": responses, **extra}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


_BODY = {
    "403": _error("sent from another site's page (an Origin not listed in IMGEDGE_CORS_ORIGINS)"),
    "408": _error("the body arrived too slowly (IMGEDGE_BODY_TIMEOUT)"),
}
_BAD_JSON = {
    **_BODY,
    "400": _error("body is not JSON, nested too deeply, or holds a duplicate key or a non-finite number"),
    "413": _error(f"body larger than {MAX_JSON_SETTING.default} bytes (IMGEDGE_MAX_JSON_BYTES)"),
    "415": _error("a body that is not Content-Type: application/json"),
}
_ADMIN = {"401": _error("admin token required")}
_KEYED = {"401": _error("API key missing, not valid, or revoked (WWW-Authenticate: Bearer)")}
_UPLOAD_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"temporary": {"type": "boolean"}},
}
_REASON = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "maxLength": MAX_REASON_CHARS, "pattern": TEXT_PATTERN}},
}


def _review_op(summary: str) -> dict[str, Any]:
    """An administrator's approve or reject: the same body, answers and errors."""
    return _op(
        summary,
        security=BEARER,
        parameters=[ASSET_ID],
        requestBody=_body(_REASON, False),
        responses={
            "200": _json("the asset", _ref("Image")),
            **_ADMIN,
            **_BAD_JSON,
            "404": _error("unknown asset"),
            "422": _error("bad reason"),
        },
    )


PATHS: dict[str, dict[str, Any]] = {
    "/v1/images": {
        "post": _op(
            "Generate an image: queue a job, or reuse what an identical request (same seed) made",
            security=API_KEY,
            requestBody=_body(_ref("GenerationRequest")),
            responses={
                "200": _json("an identical request's image, at once", _ref("ReusedJob")),
                "202": _json(
                    "queued (or joined an identical request's job in flight)",
                    _ref("JobAccepted"),
                    {"Location": {"schema": {"type": "string"}}},
                ),
                **_BAD_JSON,
                "403": _error(
                    "over a cap: an anonymous client's (IMGEDGE_ANON_MAX_PIXELS, IMGEDGE_ANON_MAX_STEPS) or"
                    " the key's (--max-pixels, --max-steps); or sent from another site's page"
                ),
                **_KEYED,
                "422": _error("invalid request, refused prompt, or forbidden webhook_url"),
                "429": _retry_after("rate limited (the key's rate or daily quota), or the queue is full"),
                "503": _retry_after("identical requests contending; retry"),
            },
        ),
        "get": _op(
            "Recent approved images",
            parameters=[
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
            ],
            security=API_KEY,
            responses={"200": _json("newest first", _ref("ImageList")), **_KEYED, "422": _error("bad limit")},
        ),
    },
    "/v1/images/{asset_id}": {
        "get": _op(
            "An image's metadata, provenance, moderation and signed transform URLs (while it is pending or"
            " rejected, only for the administrator and the caller that made it)",
            security=API_KEY,
            parameters=[ASSET_ID],
            responses={
                "200": _json("the image", _ref("Image")),
                **_KEYED,
                "404": _error("unknown asset, or pending or rejected and not this caller's"),
            },
        )
    },
    "/v1/jobs/{job_id}": {
        "get": _op(
            "Where a job stands",
            parameters=[{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            security=API_KEY,
            responses={"200": _json("the job", _ref("Job")), **_KEYED, "404": _error("unknown job")},
        )
    },
    "/v1/uploads": {
        "post": _op(
            "A single-use URL to PUT an image to",
            security=API_KEY,
            requestBody=_body(_UPLOAD_REQUEST, False),
            responses={
                "201": _json("the upload URL", _ref("UploadGrant")),
                **_BAD_JSON,
                **_KEYED,
                "422": _error("invalid request"),
                "429": _retry_after("rate limited (the key's rate or daily quota)"),
                "503": _error("uploads are disabled"),
            },
        )
    },
    "/v1/uploads/{token}": {
        "put": _op(
            "Store an image file (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF)",
            parameters=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
            requestBody={
                "required": True,
                "content": {"application/octet-stream": {"schema": {}}, "image/*": {"schema": {}}},
            },
            responses={
                "201": _json("stored", _ref("Uploaded"), {"Location": {"schema": {"type": "string"}}}),
                **_BODY,
                "403": _error("invalid upload URL, or sent from another site's page"),
                "409": _error("upload URL already used"),
                "410": _error("upload URL expired"),
                "413": _error("file too large"),
                "415": _error("not a supported image"),
                "422": _error("corrupt or empty image"),
                "503": _retry_after("uploads are disabled, or the store is unavailable"),
            },
        )
    },
    "/v1/admin/assets/{asset_id}/approve": {
        "post": _review_op("Approve an asset held for review (purges it from every proxy cache)")
    },
    "/v1/admin/assets/{asset_id}/reject": {
        "post": _review_op("Reject an asset (purges it from every proxy cache)")
    },
    "/v1/admin/pending": {
        "get": _op(
            "Assets waiting for review",
            security=BEARER,
            responses={"200": _json("pending assets", _ref("PendingList")), **_ADMIN},
        )
    },
    "/originals/{asset_id}": {
        "get": _op(
            "The canonical PNG, what the proxy fetches (headers: ETag, X-Imgedge-Moderation, and the"
            " X-Imgedge-Digital-Source-Type / -Provenance label of generated images)",
            parameters=[ASSET_ID, {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
            responses={
                "200": {"description": "the original", "content": {"image/png": {"schema": {}}}},
                "304": {"description": "not modified"},
                "403": {"description": "pending review (only the proxy's credential may read it)"},
                "404": {"description": "unknown asset"},
                "451": {"description": "rejected by moderation"},
                "503": _retry_after("the store or the database is unavailable"),
            },
        )
    },
    "/healthz": {
        "get": _op("Alive, and whether the model is loaded", {"200": _json("status", _ref("Health"))})
    },
    "/readyz": {
        "get": _op(
            "Ready to serve (model loaded, store reachable)",
            {"200": _json("ready", _ref("Readiness")), "503": _json("not ready", _ref("Readiness"))},
        )
    },
    "/metrics": {
        "get": _op(
            "Prometheus metrics",
            {
                "200": {
                    "description": "text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "403": _error("off this machine without IMGEDGE_METRICS_TOKEN"),
            },
            security=[{"metrics": []}, {}],
        )
    },
    "/": {
        "get": _op(
            "The playground page",
            {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
        )
    },
    "/playground/{path}": {
        "get": _op(
            "The playground's static files",
            parameters=[{"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}],
            responses={"200": {"description": "a file"}, "404": {"description": "no such file"}},
        )
    },
    "/openapi.json": {
        "get": _op(
            "This description",
            {"200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {"type": "object"}}}}},
        )
    },
}


def _generation_request(max_side: int, max_steps: int) -> dict[str, Any]:
    """The request schema with this service's own bounds (IMGEDGE_MAX_SIDE, IMGEDGE_MAX_STEPS)."""
    schema: dict[str, Any] = copy.deepcopy(SCHEMAS["GenerationRequest"])
    properties = schema["properties"]
    for side in ("width", "height"):
        properties[side]["maximum"] = max_side
    properties["steps"]["maximum"] = max_steps
    return schema


def document(max_side: int = MAX_SIDE.default, max_steps: int = MAX_STEPS.default) -> dict[str, Any]:
    schemas = {**SCHEMAS, "GenerationRequest": _generation_request(max_side, max_steps)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "imgedge generator API",
            "version": software_version().removeprefix("imgedge "),
            "description": "Generate and upload images; read their metadata, provenance and transform URLs.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": PATHS,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "the admin token"},
                "apiKey": {"type": "http", "scheme": "bearer", "description": "an `imgedge keys create` key"},
                "metrics": {"type": "http", "scheme": "bearer", "description": "IMGEDGE_METRICS_TOKEN"},
            },
        },
    }


def routes(max_side: int, max_steps: int) -> list[Route]:
    body = document(max_side, max_steps)

    async def openapi(_: Request) -> Response:
        return JSONResponse(body, headers={"Cache-Control": "no-cache"})

    return [Route("/openapi.json", openapi, methods=["GET"])]
