import assert from "node:assert/strict";
import { test } from "node:test";

import { NEXT_SIZES, nextImageSource, verify } from "../src/index.js";
import imgedgeLoader from "../src/next-loader.js";

const KEY = "a-test-key";
const BASE = "https://img.example.com";

function verifies(url) {
  const [, signature, ...rest] = new URL(url).pathname.split("/");
  const assetId = rest.pop();
  return verify(KEY, rest.join("/"), assetId, signature);
}

test("signed sources give a verifying native URL for every width Next asks for", () => {
  const src = nextImageSource("abc", { key: KEY, baseUrl: BASE, ar: "16:9", fit: "cover", g: "sm" });
  assert.ok(!src.includes(KEY));
  for (const width of NEXT_SIZES) {
    const url = imgedgeLoader({ src, width, quality: undefined });
    const height = Math.floor((width * 9) / 16 + 0.5);
    assert.equal(url.replace(/\/[^/]{43}\//, "/SIG/"), `${BASE}/SIG/w:${width}/h:${height}/fit:cover/g:sm/abc`);
    assert.ok(verifies(url), url);
  }
});

test("the quality is fixed when the server signs", () => {
  const src = nextImageSource("abc", { key: KEY, baseUrl: BASE, quality: 60, widths: [640, 1080] });
  const url = imgedgeLoader({ src, width: 640, quality: 75 });
  assert.match(url, /\/w:640\/q:60\/abc$/);
  assert.ok(verifies(url));
});

test("a width that was not signed gets the next larger signed one, never a smaller image", () => {
  const src = nextImageSource("abc", { key: KEY, baseUrl: BASE, widths: [640, 1080] });
  assert.match(imgedgeLoader({ src, width: 700 }), /\/w:1080\/abc$/);
  assert.match(imgedgeLoader({ src, width: 4000 }), /\/w:1080\/abc$/);
  assert.match(imgedgeLoader({ src, width: 10 }), /\/w:640\/abc$/);
});

test("presets are refused on the server, where the loader could not expand them", () => {
  assert.throws(() => nextImageSource("abc", { key: KEY, preset: "thumb" }));
  assert.throws(() => nextImageSource("abc", { key: "", baseUrl: BASE }), TypeError);
});

test("plain asset ids use imgedge's /_next/image, the allow-listed unsigned space", () => {
  assert.equal(
    imgedgeLoader({ src: `${BASE}/abc`, width: 640 }),
    `${BASE}/_next/image?url=%2Fabc&w=640&q=75`,
  );
  assert.equal(imgedgeLoader({ src: "/abc", width: 828, quality: 50 }), "/_next/image?url=%2Fabc&w=828&q=50");
  assert.equal(imgedgeLoader({ src: "abc", width: 16 }), "/_next/image?url=%2Fabc&w=16&q=75");
});

test("q:auto levels pass through to native URLs", () => {
  const src = nextImageSource("abc", { key: KEY, baseUrl: BASE, quality: "auto:best", widths: [640] });
  const url = imgedgeLoader({ src, width: 640 });
  assert.match(url, /\/w:640\/q:auto:best\/abc$/);
  assert.ok(verifies(url));
});
