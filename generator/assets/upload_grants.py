"""Single-use signed upload URLs: issued, claimed by the PUT that uses them, completed or released."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from imgedge.generator.assets.creators import CREDIT_UPLOAD
from imgedge.generator.errors import ApiError
from imgedge.generator.storage.database import Database

_SALT = "imgedge-upload-v1"


@dataclass(frozen=True, slots=True)
class UploadGrant:
    upload_id: str
    temporary: bool
    # The file waits for review before the proxy serves it (an anonymous caller, where that is the rule).
    review: bool = False


def _disabled() -> ApiError:
    return ApiError(503, "uploads are disabled: no upload secret configured")


class UploadGrants:
    def __init__(self, secret: str, ttl_s: int, database: Database) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt=_SALT) if secret else None
        self.ttl_s = ttl_s
        self.database = database

    def issue(self, temporary: bool, *, review: bool = False, creator: str | None = None) -> str:
        """`creator`: who asked for the URL, and so made what is stored through it (kept here, not in the
        token, which may be handed to someone else to use)."""
        if self.serializer is None:
            raise _disabled()
        upload_id = uuid.uuid4().hex
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO uploads (id, state, created_at, creator) VALUES (?, 'issued', ?, ?)",
                (upload_id, time.time(), creator),
            )
        return self.serializer.dumps({"u": upload_id, "t": temporary, "r": review})

    def claim(self, token: str) -> UploadGrant:
        """Marks the URL as in use, so two PUTs racing on one URL store at most one file."""
        if self.serializer is None:
            raise _disabled()
        try:
            payload = self.serializer.loads(token, max_age=self.ttl_s)
        except SignatureExpired:
            raise ApiError(410, "upload URL has expired") from None
        except BadSignature:
            raise ApiError(403, "upload URL is not valid") from None
        upload_id = str(payload["u"])
        with self.database.transaction() as db:
            cur = db.execute(
                "UPDATE uploads SET state = 'receiving' WHERE id = ? AND state = 'issued'", (upload_id,)
            )
            claimed = cur.rowcount > 0
        if not claimed:
            raise ApiError(409, "upload URL has already been used")
        return UploadGrant(upload_id, bool(payload.get("t", False)), bool(payload.get("r", False)))

    def release(self, upload_id: str) -> None:
        # A rejected file leaves the URL usable, so the client can retry with a good one while it is valid.
        with self.database.transaction() as db:
            db.execute(
                "UPDATE uploads SET state = 'issued' WHERE id = ? AND state = 'receiving'", (upload_id,)
            )

    def complete(self, upload_id: str, asset_id: str) -> None:
        with self.database.transaction() as db:
            db.execute("UPDATE uploads SET state = 'done', asset_id = ? WHERE id = ?", (asset_id, upload_id))
            db.execute(CREDIT_UPLOAD, (asset_id, upload_id))
