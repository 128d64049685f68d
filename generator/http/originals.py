"""GET/HEAD /originals/{asset_id}: what the proxy fetches. The contract (imgedge/origin_protocol.py): strong
ETag, immutable caching for approved assets, `X-Imgedge-Moderation` so the proxy picks its own cache
lifetime, and the provenance label of generated images so the proxy keeps it in every variant."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from imgedge.generator.assets.records import AssetRecord
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.http.auth import bearer_matches
from imgedge.generator.storage.blobs import BlobNotFound
from imgedge.origin_protocol import IMMUTABLE, MODERATION_HEADER, ORIGINALS_PATH, etag_matches, label_headers
from imgedge.provenance import TRAINED_ALGORITHMIC_MEDIA, ProvenanceLabel

_REFUSED_STATUS = {"pending": 403, "rejected": 451}


@dataclass(frozen=True, slots=True)
class LabelPolicy:
    """What the provenance label of a generated original says: where its full record is (this service's
    public `/v1/images/{id}`), and its prompt only when the operator opted in."""

    public_url: str = ""
    with_prompt: bool = False

    @classmethod
    def from_config(cls, config: GeneratorConfig) -> LabelPolicy:
        return cls(config.public_generator_url.rstrip("/"), config.provenance_prompt)

    def label(self, record: AssetRecord) -> ProvenanceLabel | None:
        if record.provenance.origin != "generated":
            return None
        link = (
            f"{self.public_url}/v1/images/{record.id}"
            if self.public_url
            else f"urn:imgedge:asset:{record.id}"
        )
        prompt = (record.provenance.prompt or "") if self.with_prompt else ""
        return ProvenanceLabel.checked(TRAINED_ALGORITHMIC_MEDIA, link, prompt)


def routes(store: AssetStore, proxy_token: str, labels: LabelPolicy | None = None) -> list[Route]:
    labels = labels or LabelPolicy()

    async def original(request: Request) -> Response:
        asset_id: str = request.path_params["asset_id"]
        # Store and database may be services a round trip away: their calls run off the event loop.
        record = await asyncio.to_thread(store.get, asset_id)
        if record is None:
            return PlainTextResponse(
                "asset not found", status_code=404, headers={"Cache-Control": "no-store"}
            )
        moderation_header = {MODERATION_HEADER: record.moderation}
        if record.moderation != "approved" and not bearer_matches(request, proxy_token):
            return PlainTextResponse(
                f"asset is {record.moderation}",
                status_code=_REFUSED_STATUS.get(record.moderation, 403),
                headers={"Cache-Control": "no-store", **moderation_header},
            )
        etag = f'"{record.id}"'
        headers = {
            "ETag": etag,
            "Cache-Control": IMMUTABLE if record.moderation == "approved" else "private, no-store",
            **moderation_header,
            **label_headers(labels.label(record)),
        }
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        try:
            body = await asyncio.to_thread(store.read, asset_id)
        except BlobNotFound:
            # Deleted between the lookup and the read (temporary asset expiring).
            return PlainTextResponse(
                "asset not found", status_code=404, headers={"Cache-Control": "no-store"}
            )
        return Response(body, media_type=record.content_type, headers=headers)

    return [Route(ORIGINALS_PATH, original, methods=["GET", "HEAD"])]
