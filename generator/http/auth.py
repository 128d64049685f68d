from __future__ import annotations

import hmac

from starlette.requests import Request


def bearer_matches(request: Request, token: str) -> bool:
    # An unset token must never match an empty header.
    if not token:
        return False
    header = request.headers.get("authorization", "")
    scheme, _, supplied = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(supplied.strip().encode(), token.encode())
