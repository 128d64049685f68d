"""The web-facing settings both services share, read once into a frozen value and validated at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from imgedge import common_settings as C
from imgedge.web.clients import TrustedProxies
from imgedge.web.origins import AllowedOrigins


@dataclass(frozen=True, slots=True)
class WebLimits:
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    cors_origins: AllowedOrigins = field(default_factory=AllowedOrigins)
    metrics_token: str = ""
    body_timeout_s: float = 30.0

    @classmethod
    def from_env(cls) -> WebLimits:
        return cls(
            trusted_proxies=TrustedProxies.parse(C.TRUSTED_PROXIES.read()),
            cors_origins=AllowedOrigins.parse(C.CORS_ORIGINS.read()),
            metrics_token=C.METRICS_TOKEN.read(),
            body_timeout_s=C.BODY_TIMEOUT.read(),
        )
