"""User uploads: single-use signed upload URLs, and validation that trusts only the bytes themselves."""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request

from imgedge.generator.canonical import Canonical, InvalidImage, canonicalize
from imgedge.generator.errors import ApiError
from imgedge.generator.store import transaction

_SALT = "imgedge-upload-v1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    asset_id TEXT,
    created_at REAL NOT NULL
);
"""

# Only formats whose decoders are meant for untrusted input; SVG, PDF and friends never reach libvips.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
)
_FTYP_BRANDS = {b"avif": "image/avif", b"avis": "image/avif", b"heic": "image/heic", b"heix": "image/heic",
                b"mif1": "image/heif"}  # fmt: skip


def sniff(data: bytes) -> str | None:
    for offset, magic, kind in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(data[8:12])
    return None


def validate_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> Canonical:
    if not data:
        raise ApiError(422, "empty file")
    if len(data) > max_bytes:
        raise ApiError(413, f"file is larger than {max_bytes} bytes")
    kind = sniff(data)
    if kind is None:
        raise ApiError(415, "not a supported image (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF)")
    try:
        return canonicalize(data, max_pixels=max_pixels)
    except InvalidImage as exc:
        if exc.status == 415:
            # The signature said it is an image, so an unreadable header means damage, not a wrong type.
            raise ApiError(422, f"{kind} data is corrupt or truncated") from None
        raise ApiError(exc.status, exc.message) from None


async def read_body(request: Request, limit: int) -> bytes:
    """Reads at most `limit` bytes, refusing early so an oversized upload is never held in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"file is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"file is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class UploadGrant:
    upload_id: str
    temporary: bool


class UploadTokens:
    def __init__(self, secret: str, ttl_s: int, db_path: Path) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt=_SALT) if secret else None
        self.ttl_s = ttl_s
        self.db_path = db_path
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db_path)

    def issue(self, temporary: bool) -> str:
        if self.serializer is None:
            raise ApiError(503, "uploads are disabled: no upload secret configured")
        upload_id = uuid.uuid4().hex
        with self._db() as db:
            db.execute(
                "INSERT INTO uploads (id, state, created_at) VALUES (?, 'issued', ?)",
                (upload_id, time.time()),
            )
        return self.serializer.dumps({"u": upload_id, "t": temporary})

    def claim(self, token: str) -> UploadGrant:
        """Marks the URL as in use, so two PUTs racing on one URL store at most one file."""
        if self.serializer is None:
            raise ApiError(503, "uploads are disabled: no upload secret configured")
        try:
            payload = self.serializer.loads(token, max_age=self.ttl_s)
        except SignatureExpired:
            raise ApiError(410, "upload URL has expired") from None
        except BadSignature:
            raise ApiError(403, "upload URL is not valid") from None
        upload_id = str(payload["u"])
        with self._db() as db:
            cur = db.execute(
                "UPDATE uploads SET state = 'receiving' WHERE id = ? AND state = 'issued'", (upload_id,)
            )
        if cur.rowcount == 0:
            raise ApiError(409, "upload URL has already been used")
        return UploadGrant(upload_id, bool(payload.get("t", False)))

    def release(self, upload_id: str) -> None:
        # A rejected file leaves the URL usable, so the client can retry with a good one while it is valid.
        with self._db() as db:
            db.execute(
                "UPDATE uploads SET state = 'issued' WHERE id = ? AND state = 'receiving'", (upload_id,)
            )

    def complete(self, upload_id: str, asset_id: str) -> None:
        with self._db() as db:
            db.execute("UPDATE uploads SET state = 'done', asset_id = ? WHERE id = ?", (asset_id, upload_id))
