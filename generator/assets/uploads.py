"""User uploads: validation that trusts only the bytes themselves, then moderation and the store."""

from __future__ import annotations

from dataclasses import dataclass

from imgedge.generator.assets.canonical import Canonical, InvalidImage, canonicalize
from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.assets.records import AssetRecord, Provenance, expiry
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.errors import ApiError

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


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int


class UploadIntake:
    """upload → canonical original → moderation → store: what happens to the bytes of an accepted PUT."""

    def __init__(
        self, store: AssetStore, policy: ModerationPolicy, limits: UploadLimits, *, temporary_ttl_s: float
    ) -> None:
        self.store = store
        self.policy = policy
        self.limits = limits
        self.temporary_ttl_s = temporary_ttl_s

    def accept(self, data: bytes, temporary: bool, *, review: bool = False) -> AssetRecord:
        """Blocking (decode, re-encode, atomic write, database): run it off the event loop."""
        canonical = validate_upload(data, max_bytes=self.limits.max_bytes, max_pixels=self.limits.max_pixels)
        verdict = self.policy.check_upload(anonymous=review)
        return self.store.put(
            canonical,
            Provenance(origin="upload"),
            moderation=verdict.state,
            moderation_reason=verdict.reason,
            temporary=temporary,
            expires_at=expiry(temporary, self.temporary_ttl_s),
        )
