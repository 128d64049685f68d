"""`GET /info/{signature}/{asset_id}`: an asset's size and placeholders as JSON, signed like a transform.

The signature covers `/info/{asset_id}` (imgedge.url.signing with `info` in place of the options, which no
transform's canonical form can equal); `_` is the unsigned marker where unsigned URLs are allowed.
"""

from __future__ import annotations

import json
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from imgedge.origin_protocol import etag_matches
from imgedge.proxy.dialects.base import Credential
from imgedge.proxy.dialects.native import NATIVE
from imgedge.proxy.http_headers import variant_cache_control
from imgedge.proxy.info import InfoService
from imgedge.proxy.routes import INFO_PREFIX
from imgedge.proxy.security import Keyring, check_moderation, verify_credential
from imgedge.proxy.sources import SourceRef
from imgedge.url.build import INFO_OPTIONS, UNSIGNED
from imgedge.url.path import split_path
from imgedge.url.signing import signed_message
from imgedge.url.spec import TransformSpec

_PUBLIC = TransformSpec()


class InfoRoutes:
    def __init__(self, service: InfoService, keys: tuple[bytes, ...], *, allow_unsigned: bool) -> None:
        self.service = service
        self.keys = keys
        self.allow_unsigned = allow_unsigned

    def routes(self) -> list[Route]:
        return [Route(f"{INFO_PREFIX}{{signature}}/{{asset_id}}", self.info, methods=["GET", "HEAD"])]

    async def info(self, request: Request) -> Response:
        signature, asset_id = request.path_params["signature"], request.path_params["asset_id"]
        split_path(f"/{signature}/{asset_id}")  # the same asset-id rules as transform URLs (400)
        if signature == UNSIGNED:
            credential = Credential.unsigned()
        else:
            credential = Credential(NATIVE, signature, signed_message(INFO_OPTIONS, asset_id))
        verify_credential(credential, Keyring(native=self.keys), allow_unsigned=self.allow_unsigned)
        found = await self.service.info(SourceRef.asset(asset_id))
        check_moderation(found.moderation, _PUBLIC)
        body = json.dumps(found.body, separators=(",", ":")).encode()
        headers = {
            "Cache-Control": variant_cache_control(found.moderation, 0, time.time()),
            "ETag": f'"{asset_id}-info"',
            "Surrogate-Key": asset_id,
            "Cache-Tag": asset_id,
            "Access-Control-Allow-Origin": "*",
        }
        if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        content = b"" if request.method == "HEAD" else body
        headers["Content-Length"] = str(len(body))
        return Response(content, media_type="application/json", headers=headers)
