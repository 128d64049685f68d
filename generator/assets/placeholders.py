"""Placeholders of each asset (ThumbHash, BlurHash, colours, LQIP), computed once and kept in their own table.

The codecs live in imgedge.imaging.placeholders, shared with the proxy's `/info`. Assets stored before this
table existed get theirs on first request.
"""

from __future__ import annotations

from imgedge.generator.storage.database import Database
from imgedge.imaging.placeholders import Placeholders, placeholders_from_bytes

_FIELDS = ("thumbhash", "blurhash", "dominant_color", "average_color", "lqip")


class PlaceholderRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, asset_id: str, width: int, height: int) -> Placeholders | None:
        with self.database.transaction() as db:
            row = db.execute(
                f"SELECT {', '.join(_FIELDS)} FROM asset_placeholders WHERE asset_id = ?", (asset_id,)
            ).fetchone()
        if row is None:
            return None
        thumb, blur, dominant, average, lqip = row
        return Placeholders(thumb, blur, dominant, average, lqip, width=width, height=height)

    def put(self, asset_id: str, found: Placeholders) -> None:
        values = (asset_id, *(getattr(found, name) for name in _FIELDS))
        with self.database.transaction() as db:
            db.execute(
                f"INSERT INTO asset_placeholders (asset_id, {', '.join(_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (asset_id) DO NOTHING",
                values,
            )

    def delete(self, asset_id: str) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM asset_placeholders WHERE asset_id = ?", (asset_id,))


def compute(png: bytes, max_pixels: int) -> Placeholders:
    return placeholders_from_bytes(png, max_pixels=max_pixels)
