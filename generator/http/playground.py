"""The playground page at `/`: static files from generator/playground/, and what they must know up front
(the proxy's origin, the pixel size of each aspect ratio) written into index.html once at start-up."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from imgedge.generator.models.request import size_for_aspect

PLAYGROUND_DIR = Path(__file__).resolve().parent.parent / "playground"
ASPECTS = ("1:1", "16:9", "9:16", "4:3")
CONFIG_MARKER = "<!-- imgedge:config -->"


def proxy_origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def render_index(template: str, base_url: str) -> str:
    origin = proxy_origin(base_url)
    config = {
        "proxyOrigin": origin,
        # The generator rounds each ratio to a 64 px grid (16:9 is 704x384), so the page reserves the box
        # at the size it will really get rather than the nominal ratio, and nothing moves when it arrives.
        "aspects": {aspect: size_for_aspect(aspect) for aspect in ASPECTS},
    }
    # "</" would end the script element early if a value ever held it.
    script = json.dumps(config).replace("</", "<\\/")
    head = f'<script type="application/json" id="imgedge-config">{script}</script>'
    if origin:
        # Without `crossorigin`: <img> requests are no-cors, and only a matching preconnect is reused.
        head = f'<link rel="preconnect" href="{origin}">\n    ' + head
    return template.replace(CONFIG_MARKER, head)


def page_headers(base_url: str) -> dict[str, str]:
    """No inline script or style runs (the config block is JSON data, which CSP does not execute), nothing
    frames the page, and no Referer leaves it."""
    images = " ".join(filter(None, ["'self'", proxy_origin(base_url), "blob:", "data:"]))
    policy = (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; connect-src 'self'; "
        "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


def routes(base_url: str) -> list[BaseRoute]:
    """`base_url`: where the page finds the proxy; empty for root-relative URLs."""
    index = render_index((PLAYGROUND_DIR / "index.html").read_text(encoding="utf-8"), base_url)
    headers = page_headers(base_url)

    async def page(_: Request) -> Response:
        return HTMLResponse(index, headers=headers)

    return [
        Route("/", page, methods=["GET", "HEAD"]),
        Mount("/playground", StaticFiles(directory=PLAYGROUND_DIR), name="playground"),
    ]
