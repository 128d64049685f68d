"""The playground page in a real browser (Debian's Chromium via Playwright) against a real `imgedge serve`."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from skimage import data as skdata
from skimage.io import imsave

from tests.conftest import free_port

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (make system-deps)", allow_module_level=True)

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
BLOCKED_WORD = "forbiddenword"
ASPECTS = ("1:1", "16:9", "9:16", "4:3")
# Generous: the tiny model shares two cores with Chromium and the proxy. Waits, never timed assertions.
WAIT_MS = 120_000

# Installed before any page script runs, so no layout shift or paint is missed.
OBSERVERS = """
window.__shifts = []; window.__lcp = []; window.__elements = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__shifts.push({
    value: e.value, hadRecentInput: e.hadRecentInput, at: e.startTime,
    sources: e.sources.map((s) => s.node ? (s.node.className || s.node.nodeName) : "?"),
    rects: e.sources.map((s) => [s.previousRect.toJSON(), s.currentRect.toJSON()]),
  });
}).observe({ type: "layout-shift", buffered: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__lcp.push({
    at: e.startTime, url: e.url, size: e.size, tag: e.element ? e.element.tagName : null,
  });
}).observe({ type: "largest-contentful-paint", buffered: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__elements.push({
    id: e.identifier, renderTime: e.renderTime, loadTime: e.loadTime, url: e.url,
  });
}).observe({ type: "element", buffered: true });
"""


@pytest.fixture(scope="module")
def playground_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("playground") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    env |= {
        "IMGEDGE_DATA_DIR": str(data),
        "IMGEDGE_PORT": str(free_port()),
        "IMGEDGE_GENERATOR_PORT": str(free_port()),
        "IMGEDGE_MODERATION_BLOCKLIST": BLOCKED_WORD,
        # One test session makes a dozen requests in a few seconds; the default burst is for strangers.
        "IMGEDGE_RATE_BURST": "100",
    }
    return env


@pytest.fixture(scope="module")
def generator_url(playground_env: dict[str, str]) -> Iterator[str]:
    env = playground_env
    process = subprocess.Popen(
        [sys.executable, "-m", "imgedge.cli", "serve"], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if "playground:" in line:
            break
    assert any("playground:" in line for line in lines), f"serve did not come up: {lines}"
    yield f"http://127.0.0.1:{env['IMGEDGE_GENERATOR_PORT']}/"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    process.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Session:
    """One browser page plus every response it received, keyed by URL."""

    def __init__(self, browser: Any, url: str, *, enforce_csp: bool = False, **context_options: Any) -> None:
        # Playwright's wait_for_function evaluates strings in the page, which the page's CSP forbids (no
        # 'unsafe-eval'): the measuring sessions bypass it; test_the_page_works_under_its_csp does not.
        viewport = {"width": 1280, "height": 900}
        self.context = browser.new_context(viewport=viewport, bypass_csp=not enforce_csp, **context_options)
        self.context.add_init_script(OBSERVERS)
        self.page = self.context.new_page()
        self.responses: dict[str, dict[str, str]] = {}
        self.errors: list[str] = []
        self.page.on("response", lambda r: self.responses.__setitem__(r.url, r.headers))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # The page runs under a CSP without 'unsafe-inline': anything it blocks is reported on the console.
        self.page.on(
            "console", lambda m: self.errors.append(m.text) if "Content Security Policy" in m.text else None
        )
        self.page.goto(url)

    def close(self) -> None:
        self.context.close()

    def shifts_since(self, index: int) -> list[dict[str, Any]]:
        shifts: list[dict[str, Any]] = self.page.evaluate("window.__shifts")
        return shifts[index:]

    def wait_for_new_image(self, previous: str | None) -> str:
        """Waits until the stage shows a decoded image of another asset than `previous`; returns its id."""
        self.page.wait_for_function(
            """(previous) => {
                const frame = document.querySelector('.frame');
                const img = frame && frame.querySelector('img');
                return img && img.complete && frame.dataset.assetId && frame.dataset.assetId !== previous;
            }""",
            arg=previous,
            timeout=WAIT_MS,
        )
        asset_id: str = self.page.eval_on_selector(".frame", "f => f.dataset.assetId")
        return asset_id


def layout_shift_score(shifts: list[dict[str, Any]]) -> float:
    # Cumulative Layout Shift as browsers report it: shifts right after the user's own input do not count.
    return float(sum(s["value"] for s in shifts if not s["hadRecentInput"]))


def check_delivered_image(session: Session) -> dict[str, Any]:
    """What the issue asks of the stage image; returns its facts for the caller's own checks."""
    page = session.page
    img = page.locator(".frame img")
    assert img.is_visible()
    facts: dict[str, Any] = page.evaluate(
        """async () => {
            const img = document.querySelector('.frame img');
            const frame = img.parentElement.getBoundingClientRect();
            // naturalWidth of a srcset image is density-corrected to the slot; loading the chosen URL on its
            // own gives the pixels the proxy really sent.
            const plain = new Image();
            plain.src = img.currentSrc;
            await plain.decode();
            return {
                currentSrc: img.currentSrc, srcset: img.getAttribute('srcset'),
                sizes: img.getAttribute('sizes'),
                width: img.getAttribute('width'), height: img.getAttribute('height'),
                fetchpriority: img.getAttribute('fetchpriority'),
                naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
                pixelWidth: plain.naturalWidth, pixelHeight: plain.naturalHeight,
                frameWidth: frame.width, frameHeight: frame.height,
                format: document.querySelector('[data-field="format"]').textContent,
            };
        }"""
    )
    candidates = {url: int(w) for url, w in re.findall(r"(\S+) (\d+)w", facts["srcset"])}
    assert facts["fetchpriority"] == "high"
    assert facts["currentSrc"] in candidates, facts
    assert facts["pixelWidth"] == candidates[facts["currentSrc"]], facts
    width, height = int(facts["width"]), int(facts["height"])
    assert abs(facts["pixelHeight"] - facts["pixelWidth"] * height / width) <= 1
    # The box the skeleton held is the image's own shape.
    assert facts["frameWidth"] / facts["frameHeight"] == pytest.approx(width / height, rel=0.01)
    headers = session.responses[facts["currentSrc"]]
    assert headers["content-type"] in ("image/avif", "image/webp"), headers
    assert headers.get("vary") == "Accept", "srcset URLs must leave the format to negotiation (f:auto)"
    assert facts["format"] == headers["content-type"].removeprefix("image/").upper()
    return facts


def test_generate_each_aspect_ratio_without_layout_shift(
    browser: Any, generator_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    session = Session(browser, generator_url)
    page = session.page
    report: dict[str, dict[str, Any]] = {}
    asset_id: str | None = None
    config = json.loads(page.locator("#imgedge-config").text_content() or "{}")
    aspects: dict[str, list[int]] = config["aspects"]
    for aspect in ASPECTS:
        page.get_by_label("Prompt").fill(f"a lighthouse on a cliff at dawn, {aspect}")
        page.locator(".aspect", has_text=re.compile(f"^{re.escape(aspect)}$")).click()
        shifts_before = len(session.shifts_since(0))
        clicked_at = page.evaluate("performance.now()")
        page.get_by_role("button", name="Generate").click()
        skeleton = page.locator(".frame .skeleton")
        skeleton.wait_for(state="attached", timeout=WAIT_MS)
        width, height = aspects[aspect]
        frame = page.eval_on_selector(".frame", "f => [f.dataset.width, f.dataset.height]")
        assert frame == [str(width), str(height)]
        asset_id = session.wait_for_new_image(asset_id)
        facts = check_delivered_image(session)
        assert [int(facts["width"]), int(facts["height"])] == [width, height]
        # Element Timing, unlike LCP, keeps reporting after user input: when the new image was first painted.
        shown = page.wait_for_function(
            """([url, after]) => window.__elements.find(
                e => e.id === 'stage-image' && e.url === url && e.renderTime > after)?.renderTime""",
            arg=[facts["currentSrc"], clicked_at],
            timeout=WAIT_MS,
        ).json_value()
        report[aspect] = {
            "asset_id": asset_id,
            "cls": layout_shift_score(session.shifts_since(shifts_before)),
            "image_on_screen_ms": round(shown - clicked_at),
            "variant": facts["currentSrc"].rsplit("/", 2)[-2],
            "type": session.responses[facts["currentSrc"]]["content-type"],
        }
        assert report[aspect]["cls"] == 0, session.shifts_since(shifts_before)
    assert layout_shift_score(session.shifts_since(0)) == 0, session.shifts_since(0)
    assert session.errors == []
    session.close()

    # Largest Contentful Paint stops counting at the first input, so it is measured on a fresh load of each
    # image's own page (`/?asset=…`, where the playground puts the address bar after a result).
    for entry in report.values():
        linked = Session(browser, f"{generator_url}?asset={entry['asset_id']}")
        linked.page.wait_for_function("window.__lcp.some(e => e.tag === 'IMG')", timeout=WAIT_MS)
        check_delivered_image(linked)
        lcp = linked.page.evaluate("window.__lcp.at(-1)")
        assert lcp["tag"] == "IMG" and "/w:" in lcp["url"]
        entry["lcp_ms"] = round(lcp["at"])
        entry["load_cls"] = layout_shift_score(linked.shifts_since(0))
        assert entry["load_cls"] == 0, linked.shifts_since(0)
        linked.close()

    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "playground-timings.json").write_text(json.dumps(report, indent=2))
    with capsys.disabled():
        print("\nplayground, per aspect ratio (CLS; Generate → image on screen; LCP of the image's page):")
        for aspect, entry in report.items():
            print(
                f"  {aspect:>5}: CLS {entry['cls']:.3f} / {entry['load_cls']:.3f}, on screen "
                f"{entry['image_on_screen_ms']} ms, LCP {entry['lcp_ms']} ms, "
                f"{entry['variant']} {entry['type']}"
            )


def test_upload_is_delivered_like_a_generated_image(browser: Any, generator_url: str, tmp_path: Path) -> None:
    photo = tmp_path / "coffee.png"
    imsave(photo, skdata.coffee(), check_contrast=False)  # type: ignore[no-untyped-call]  # real 600x400 photo
    session = Session(browser, generator_url)
    session.page.set_input_files("#upload", str(photo))
    session.wait_for_new_image(None)
    facts = check_delivered_image(session)
    assert (int(facts["width"]), int(facts["height"])) == (600, 400)
    details = session.page.locator("#details")
    assert details.locator('[data-field="model"]').text_content() == "Upload"
    assert details.locator('[data-field="moderation"]').text_content() == "approved"
    assert layout_shift_score(session.shifts_since(0)) == 0, session.shifts_since(0)
    assert session.errors == []
    session.close()


def test_the_page_works_under_its_csp(browser: Any, generator_url: str) -> None:
    """The real policy, enforced: an image is generated and shown without anything the CSP blocks."""
    session = Session(browser, generator_url, enforce_csp=True)
    headers = session.responses[generator_url]
    csp = headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp and "frame-ancestors 'none'" in csp
    assert headers["referrer-policy"] == "no-referrer" and headers["x-content-type-options"] == "nosniff"
    page = session.page
    page.get_by_label("Prompt").fill("a lighthouse under a strict content security policy")
    page.get_by_role("button", name="Generate").click()
    deadline = time.monotonic() + WAIT_MS / 1000
    # Polled from here: page.evaluate is not subject to the page's CSP, wait_for_function's predicate is.
    while not page.evaluate("!!document.querySelector('.frame img')?.complete"):
        assert time.monotonic() < deadline, "no image under the enforced CSP"
        time.sleep(0.2)
    assert session.errors == []
    session.close()


# The empty skeleton's shimmer runs between these two colours (playground.css, .skeleton).
SKELETON_COLOURS = (np.array([0xE6, 0xE9, 0xF1]), np.array([0xF3, 0xF5, 0xFA]))


def _rgb(png: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(png, "")
    image = (image.flatten() if image.hasalpha() else image).extract_band(0, n=3)
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, 3))


def _near_skeleton(pixels: np.ndarray) -> float:
    """The share of pixels within a few levels of the skeleton's gradient (between its two colours)."""
    start, end = SKELETON_COLOURS
    flat = pixels.reshape(-1, 3).astype(float)
    along = np.clip((flat - start) @ (end - start) / float((end - start) @ (end - start)), 0, 1)
    distance = np.linalg.norm(flat - (start + along[:, None] * (end - start)), axis=1)
    return float((distance < 12).mean())


def test_placeholder_fills_the_skeleton_until_the_image_arrives(
    browser: Any, generator_url: str, tmp_path: Path
) -> None:
    """The proxy's image responses are held back, so the frame shows what a slow network would."""
    photo = tmp_path / "chelsea.png"
    imsave(photo, skdata.chelsea(), check_contrast=False)  # type: ignore[no-untyped-call]  # 451x300 photo
    # Reduced motion stops the shimmer, so the screenshot shows the placeholder, not a phase of an animation.
    session = Session(browser, generator_url, reduced_motion="reduce")
    page = session.page
    held: list[Any] = []
    # The srcset candidates (transform URLs) are held until the placeholder has been checked.
    session.context.route(lambda url: "/w:" in url, lambda route: held.append(route))
    page.set_input_files("#upload", str(photo))
    page.wait_for_function(
        "() => { const p = document.querySelector('.frame img.placeholder'); return p && p.complete && "
        "p.naturalWidth > 0 && document.querySelector('.frame .skeleton.over-placeholder'); }",
        timeout=WAIT_MS,
    )
    for _ in range(WAIT_MS // 50):  # the held request reaches Python a moment after the page made it
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the stage image was never requested"
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert page.locator(".frame > img:not(.placeholder)").count() == 0  # the image has not arrived
    frame = page.locator(".frame")
    shot = frame.screenshot()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "playground-placeholder.png"))
    (OUTPUT / "playground-placeholder-frame.png").write_bytes(shot)

    pixels = _rgb(shot)
    upper = pixels[: pixels.shape[0] // 2]  # above the status line at the frame's foot
    assert _near_skeleton(upper) < 0.05, "the frame still shows the empty skeleton"
    lqip = page.eval_on_selector(".frame img.placeholder", "p => p.src")
    tiny = pyvips.Image.new_from_buffer(base64.b64decode(lqip.split(",", 1)[1]), "")
    expected = _rgb(tiny.write_to_buffer(".png")).reshape(-1, 3).mean(axis=0)
    # The LQIP is blurred and scaled, which moves single pixels but hardly the picture's mean colour.
    assert np.linalg.norm(pixels.reshape(-1, 3).mean(axis=0) - expected) < 40, (expected, pixels.mean((0, 1)))

    shifts_before = len(session.shifts_since(0))
    for route in held:
        route.continue_()
    session.context.unroute_all()
    session.wait_for_new_image(None)
    check_delivered_image(session)
    assert page.locator(".frame img.placeholder").count() == 0  # the delivered image replaced it
    assert layout_shift_score(session.shifts_since(shifts_before)) == 0, session.shifts_since(shifts_before)
    assert session.errors == []
    session.close()


def test_refused_prompt_shows_its_message(browser: Any, generator_url: str) -> None:
    session = Session(browser, generator_url)
    session.page.get_by_label("Prompt").fill(f"a {BLOCKED_WORD} picture")
    session.page.get_by_role("button", name="Generate").click()
    alert = session.page.get_by_role("alert")
    alert.wait_for(timeout=WAIT_MS)
    assert "Refused" in (alert.text_content() or "")
    assert "Prompt refused by the moderation policy." in (alert.text_content() or "")
    session.close()


def test_the_prompt_url_of_a_generated_image_is_shown_copied_and_reproduces_it(
    browser: Any, generator_url: str
) -> None:
    session = Session(browser, generator_url, permissions=["clipboard-read", "clipboard-write"])
    page = session.page
    page.get_by_label("Prompt").fill("a paper boat on a pond")
    page.get_by_role("button", name="Generate").click()
    asset_id = session.wait_for_new_image(None)
    shown = page.locator('[data-field="prompt-url"]').text_content() or ""
    assert "/gen/" in shown and asset_id not in shown
    page.get_by_role("button", name="Copy").click()
    page.wait_for_function("document.getElementById('copy-prompt-url').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("http") and copied.endswith(shown.rsplit("/", 1)[1])
    # The copied URL is the same image: resolved by the generator's reuse, no new generation.
    response = page.request.get(copied)
    assert response.status == 200 and response.headers["content-type"].startswith("image/")
    assert response.headers["surrogate-key"] == asset_id
    assert session.errors == []
    session.close()


def test_gallery_and_screenshot(browser: Any, generator_url: str) -> None:
    """Runs after the generation tests: they filled the store, so the gallery has something to show."""
    session = Session(browser, generator_url)
    page = session.page
    page.get_by_label("Prompt").fill("a quiet harbour with sailing boats, golden hour")
    page.locator(".aspect", has_text=re.compile("^16:9$")).click()
    page.get_by_role("button", name="Generate").click()
    session.wait_for_new_image(None)
    on_stage = check_delivered_image(session)["currentSrc"]
    page.get_by_role("button", name=re.compile("^Show 1 new$")).click()
    thumbs = page.locator(".gallery-grid .thumb img")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gallery-grid img')].every(i => i.complete && i.naturalWidth)",
        timeout=WAIT_MS,
    )
    assert thumbs.count() >= 6  # four aspect ratios, the upload and this one
    for src in thumbs.evaluate_all("imgs => imgs.map(i => i.currentSrc)"):
        # Thumbnails are the smallest srcset candidate the proxy offers, negotiated like the stage image;
        # only the image on the stage may reuse the larger variant Chromium already holds in memory.
        assert "/w:320/" in src or src == on_stage
        assert session.responses[src]["content-type"] in ("image/avif", "image/webp")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "playground.png"), full_page=True)
    assert session.errors == []
    session.close()
    assert (OUTPUT / "playground.png").stat().st_size > 10_000


def test_a_key_is_asked_for_once_keys_are_required(
    browser: Any, generator_url: str, playground_env: dict[str, str]
) -> None:
    """Runs last in this module: once a key exists, this loopback server no longer serves anonymous calls."""
    created = subprocess.run(
        [sys.executable, "-m", "imgedge.cli", "keys", "create", "--name", "playground"],
        env=playground_env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    key = created.stdout.strip().splitlines()[-1]
    session = Session(browser, generator_url)
    page = session.page
    sent: list[str | None] = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization")) if "/v1/" in r.url else None)
    alert = page.get_by_role("alert")
    alert.wait_for(timeout=WAIT_MS)  # on load: the gallery's request was refused
    assert "API key needed" in (alert.text_content() or "")
    page.get_by_label("API key").fill("ie_not-a-key")
    page.get_by_role("button", name="Use key").click()
    refused = "() => document.querySelector('[role=alert]')?.textContent.includes('API key not valid')"
    page.wait_for_function(refused, timeout=WAIT_MS)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Use key").click()
    page.get_by_label("Prompt").fill("a lighthouse, with a key")
    page.get_by_role("button", name="Generate").click()
    session.wait_for_new_image(None)
    check_delivered_image(session)
    assert f"Bearer {key}" in sent and "Bearer ie_not-a-key" in sent
    assert page.evaluate("sessionStorage.getItem('imgedge-api-key')") == key
    assert session.errors == []
    session.close()
