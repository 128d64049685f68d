"""Every check a request passes before the proxy does work for it, each a small function of its own.

Order on the transform path: signature, expiry, output limits, allowed sources (before any lookup or
fetch), then moderation (once the cached or fetched original says its state); a transform's estimated cost
before it runs (`cost`), its deadline while it runs (imgedge.proxy.pipeline.deadline). Requests that passed
are memoised (`verified`). Every limit and its setting: docs/security.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imgedge.proxy.dialects.base import ParsedRequest
from imgedge.proxy.security.admin import require_admin_token
from imgedge.proxy.security.expiry import check_expiry
from imgedge.proxy.security.limits import check_output_limits
from imgedge.proxy.security.moderation import check_moderation
from imgedge.proxy.security.signatures import VERIFIERS, Keyring, verify_credential
from imgedge.proxy.security.sources import check_source, check_sources
from imgedge.proxy.sources.allowlist import AllowedPrefix
from imgedge.url.spec import TransformSpec

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    keys: Keyring
    allow_unsigned: bool
    max_width: int
    max_height: int
    remote_sources: tuple[AllowedPrefix, ...] = ()
    max_result_pixels: int | None = None

    @classmethod
    def from_config(cls, config: ProxyConfig) -> SecurityPolicy:
        return cls(
            Keyring.from_config(config), config.allow_unsigned, config.max_width, config.max_height,
            config.remote_sources, config.max_result_pixels,
        )  # fmt: skip

    def check_request(self, parsed: ParsedRequest) -> None:
        verify_credential(parsed.credential, self.keys, allow_unsigned=self.allow_unsigned)
        check_expiry(parsed.spec.expires, time.time())
        check_output_limits(
            parsed.spec, max_width=self.max_width, max_height=self.max_height,
            max_pixels=self.max_result_pixels,
        )  # fmt: skip
        check_sources(parsed, self.remote_sources)

    def check_resolved(self, spec: TransformSpec) -> None:
        """Sizes that client hints gave are held to the same limits as sizes in the URL."""
        check_output_limits(
            spec, max_width=self.max_width, max_height=self.max_height, max_pixels=self.max_result_pixels
        )

    def check_fresh(self, parsed: ParsedRequest) -> None:
        """What can change for a request already verified: the clock."""
        check_expiry(parsed.spec.expires, time.time())


__all__ = [
    "VERIFIERS", "Keyring", "SecurityPolicy", "check_expiry", "check_moderation", "check_output_limits",
    "check_source", "require_admin_token", "verify_credential",
]  # fmt: skip
