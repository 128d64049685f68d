"""The admin routes' bearer token, compared in constant time."""

from __future__ import annotations

import hmac

from imgedge.proxy.errors import Forbidden, Unauthorized


def require_admin_token(authorization: str, admin_token: str) -> None:
    if not authorization.startswith("Bearer "):
        raise Unauthorized("admin token required")
    token = authorization.removeprefix("Bearer ").encode()
    if not admin_token or not hmac.compare_digest(token, admin_token.encode()):
        raise Forbidden("invalid admin token")
