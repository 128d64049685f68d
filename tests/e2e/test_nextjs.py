"""A real Next.js site (examples/nextjs: next build + next start) in front of a real `imgedge serve`, in
Debian's Chromium: both Next's default loader through imgedge's /_next/image and imgedge's own loader."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import free_port, photo
from tests.e2e import nextjs_app
from tests.e2e.serving import imgedge, serve_env, serving

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (make system-deps)", allow_module_level=True)
if (problem := nextjs_app.node_problem()) is not None:
    pytest.skip(problem, allow_module_level=True)

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
KEY = "nextjs-example-signing-key"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
VIEWPORT = {"width": 1000, "height": 700}
WAIT_MS = 60_000
# Originals at the page's four aspect ratios, each at least as wide as the srcset candidate Chromium picks
# in this viewport (the 16:9 one is also the hero), from real photos.
ORIGINALS = {"coffee": (1280, 720), "astronaut": (512, 512), "rocket": (360, 640), "chelsea": (640, 480)}

# Installed before any page script runs, so no layout shift or paint is missed.
OBSERVERS = """
window.__shifts = []; window.__lcp = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    window.__shifts.push({ value: e.value, hadRecentInput: e.hadRecentInput });
  }
}).observe({ type: "layout-shift", buffered: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__lcp.push({
    at: e.startTime, url: e.url, tag: e.element ? e.element.tagName : null,
  });
}).observe({ type: "largest-contentful-paint", buffered: true });
"""

# Every <img> once decoded: its srcset, the candidate Chromium chose, and the pixels that URL really has
# (naturalWidth of a srcset image is density-corrected, so the chosen URL is loaded on its own).
IMAGE_FACTS = """async () => Promise.all([...document.querySelectorAll('img')].map(async (img) => {
  const plain = new Image();
  plain.src = img.currentSrc;
  await plain.decode();
  const timing = performance.getEntriesByName(img.currentSrc)[0];
  return {
    alt: img.alt, currentSrc: img.currentSrc, srcset: img.getAttribute('srcset'),
    sizes: img.getAttribute('sizes'), loading: img.getAttribute('loading'),
    fetchpriority: img.getAttribute('fetchpriority'), pixelWidth: plain.naturalWidth,
    encodedBytes: timing ? timing.encodedBodySize : null,
  };
}))"""


@dataclass(frozen=True)
class Site:
    proxy: str
    next: str
    originals: dict[str, int]  # asset id → bytes of its PNG original


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, model_data_dir: Path, tiny_model: object
) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("nextjs")
    model = model_data_dir / "models" / "tiny"  # the session's tiny model: nothing here generates
    assert model.is_dir()
    env = serve_env(
        tmp / "data", IMGEDGE_KEYS=KEY, IMGEDGE_WARM_ON_START="0", IMGEDGE_EAGER_VARIANTS="0",
        IMGEDGE_MODEL=str(model),
    )  # fmt: skip
    files = []
    for name, (width, height) in ORIGINALS.items():
        file = tmp / f"{name}.png"
        photo(name).thumbnail_image(width, height=height, crop="centre", size="both").write_to_file(str(file))
        files.append(str(file))
    imgedge(env, "ingest", *files)
    proxy = f"http://127.0.0.1:{env['IMGEDGE_PORT']}"
    generator = f"http://127.0.0.1:{env['IMGEDGE_GENERATOR_PORT']}"
    with ThreadPoolExecutor(1) as pool:
        # npm ci and next build run while imgedge starts (it builds its tiny model on a first run).
        built = pool.submit(lambda: (nextjs_app.install(), nextjs_app.build(proxy)))
        with serving(env, "--no-sample"):
            built.result()
            images = httpx.get(f"{generator}/v1/images?limit=24", timeout=30).json()["images"]
            originals = {image["asset_id"]: image["bytes"] for image in images}
            app_env = {"GENERATOR_URL": generator, "IMGEDGE_KEYS": KEY, "NEXT_PUBLIC_IMGEDGE_URL": proxy}
            with nextjs_app.started(free_port(), **app_env) as next_url:
                yield Site(proxy, next_url, originals)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """One fresh browser context's load of a page, with every response and console error it saw."""

    page: Any
    responses: dict[str, dict[str, str]]
    errors: list[str]

    def close(self) -> None:
        self.page.context.close()


def visit(browser: Any, url: str) -> Visit:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.add_init_script(OBSERVERS)
    page = context.new_page()
    seen = Visit(page, {}, [])
    page.on("response", lambda r: seen.responses.__setitem__(r.url, {"status": str(r.status), **r.headers}))
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=WAIT_MS,
    )
    # The heading or a box may be a candidate first; the hero's entry follows its paint, after `complete`.
    page.wait_for_function(
        """() => window.__lcp.some(
            e => e.tag === 'IMG' && e.url === document.querySelector('img[alt="hero image"]').currentSrc)""",
        timeout=WAIT_MS,
    )
    return seen


def check_images(seen: Visit, site: Site, url_shape: re.Pattern[str]) -> list[dict[str, Any]]:
    """Every image came from imgedge as AVIF or WebP, at the width of the candidate Chromium chose."""
    facts: list[dict[str, Any]] = seen.page.evaluate(IMAGE_FACTS)
    assert len(facts) == 5, facts  # the hero and one box per aspect ratio
    for fact in facts:
        candidates = {u: int(w) for u, w in re.findall(r"(\S+) (\d+)w", fact["srcset"])}
        assert fact["currentSrc"] in candidates, fact
        assert fact["pixelWidth"] == candidates[fact["currentSrc"]], fact
        assert fact["currentSrc"].startswith(site.proxy + "/"), fact
        assert url_shape.search(fact["currentSrc"]), fact
        headers = seen.responses[fact["currentSrc"]]
        assert headers["status"] == "200" and headers["content-type"] in ("image/avif", "image/webp"), headers
    images = [u for u, h in seen.responses.items() if h.get("content-type", "").startswith("image/")]
    others = [u for u in images if not u.startswith(site.proxy + "/")]
    assert {urlsplit(u).path for u in others} <= {"/icon.svg"}, others  # the site's own icon only
    assert not [u for u in seen.responses if u.startswith(site.next + "/_next/image")]  # Next's optimizer
    assert seen.errors == []  # no hydration mismatch: the loader gives the server's URLs in the browser
    return facts


def check_page(browser: Any, site: Site, path: str, url_shape: re.Pattern[str]) -> dict[str, Any]:
    """What the issue asks of every page, on a cold imgedge cache and then a warm one; returns figures."""
    html = httpx.get(site.next + path, timeout=60).text
    # imgedge's placeholders (GET /v1/images) in the server's HTML: Next's blur over the dominant colour.
    assert html.count("data:image/svg+xml") == 5 and html.count("background-color:#") == 4, html
    seen = visit(browser, site.next + path)
    facts = check_images(seen, site, url_shape)
    hero = next(f for f in facts if f["alt"] == "hero image")
    assert hero["fetchpriority"] == "high" and hero["loading"] != "lazy"
    preload = seen.page.locator('link[rel="preload"][as="image"]')
    assert preload.count() == 1 and url_shape.search(preload.get_attribute("imagesrcset") or "")
    assert seen.page.locator(f'link[rel="preconnect"][href="{site.proxy}"]').count() == 1
    shifts = seen.page.evaluate("window.__shifts")
    lcp = seen.page.evaluate("window.__lcp.at(-1)")
    assert sum(s["value"] for s in shifts if not s["hadRecentInput"]) == 0, shifts
    assert lcp["tag"] == "IMG" and lcp["url"] == hero["currentSrc"], lcp
    seen.close()

    again = visit(browser, site.next + path)  # a new visitor: the browser's cache is empty, imgedge's is not
    # Chromium may now pick another candidate it holds in memory (the hero's, for the 16:9 box).
    for fact in check_images(again, site, url_shape):
        assert again.responses[fact["currentSrc"]]["cache-status"].startswith("imgedge; hit"), fact
    warm_lcp = again.page.evaluate("window.__lcp.at(-1)")
    again.close()

    delivered = {f["currentSrc"]: f["encodedBytes"] for f in facts}
    assert all(size for size in delivered.values()), delivered  # Timing-Allow-Origin lets the page see them
    return {
        "lcp_ms": round(lcp["at"]),
        "lcp_warm_ms": round(warm_lcp["at"]),
        "images": len(facts),
        "bytes": sum(delivered.values()),
        "png_originals_bytes": sum(site.originals[a] for a in {asset_of(url) for url in delivered}),
        "types": sorted({seen.responses[f["currentSrc"]]["content-type"] for f in facts}),
        "variants": [f"{f['alt']}: {f['pixelWidth']} px" for f in facts],
    }


def asset_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.query:
        return parse_qs(parts.query)["url"][0].lstrip("/")
    return parts.path.rsplit("/", 1)[-1]


def test_default_loader_through_imgedges_next_image_api(
    browser: Any, site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = check_page(browser, site, "/", re.compile(r"/_next/image\?url=%2F[A-Za-z0-9_-]+&w=\d+&q=75"))
    assert figures["types"] == ["image/webp"]  # Next's default formats, mirrored by imgedge
    with capsys.disabled():
        report("default loader (/_next/image)", figures)


def test_custom_loader_with_native_signed_urls(
    browser: Any, site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    native = re.compile(r"/[A-Za-z0-9_-]{43}/w:\d+/[A-Za-z0-9_-]+(\s|$)")
    figures = check_page(browser, site, "/native", native)
    assert figures["types"] == ["image/avif"]  # f:auto for Chromium
    with capsys.disabled():
        report("imgedge loader (native URLs)", figures)


def test_next_image_api_headers_as_next_sends_them(site: Site) -> None:
    asset_id = next(iter(site.originals))
    url = f"{site.proxy}/_next/image?url=%2F{asset_id}&w=640&q=75"
    response = httpx.get(url, headers={"Accept": "image/avif,image/webp,*/*"}, timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["vary"] == "Accept"
    assert response.headers["cache-control"] == "public, max-age=31536000, must-revalidate"
    assert response.headers["content-security-policy"] == "script-src 'none'; frame-src 'none'; sandbox;"
    assert response.headers["content-disposition"] == f'attachment; filename="{asset_id}.webp"'
    assert httpx.get(url.replace("w=640", "w=641"), timeout=60).status_code == 400


def report(label: str, figures: dict[str, Any]) -> None:
    png = figures["png_originals_bytes"]
    figures["ratio_to_png"] = round(figures["bytes"] / png, 4)
    OUTPUT.mkdir(exist_ok=True)
    results = OUTPUT / "nextjs.json"
    everything = json.loads(results.read_text()) if results.exists() else {}
    results.write_text(json.dumps(everything | {label: figures}, indent=2))
    print(
        f"\n{label}: LCP {figures['lcp_ms']} ms (cached in imgedge: {figures['lcp_warm_ms']} ms), "
        f"{figures['images']} images, {figures['bytes']} bytes "
        f"({', '.join(figures['types'])}) against {png} bytes of PNG originals "
        f"({figures['ratio_to_png']:.1%})"
    )
