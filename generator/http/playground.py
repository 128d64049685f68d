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


def routes(base_url: str) -> list[BaseRoute]:
    """`base_url`: where the page finds the proxy; empty for root-relative URLs."""
    index = render_index((PLAYGROUND_DIR / "index.html").read_text(encoding="utf-8"), base_url)

    async def page(_: Request) -> Response:
        return HTMLResponse(index, headers={"Cache-Control": "no-cache"})

    return [
        Route("/", page, methods=["GET", "HEAD"]),
        Mount("/playground", StaticFiles(directory=PLAYGROUND_DIR), name="playground"),
    ]
