import assert from "node:assert/strict";
import { test } from "node:test";

import { buildPath, parseOptions, segmentsOf, sign, UrlError, verify } from "../src/index.js";
import { round3 } from "../src/values.js";

const KEY = "a-test-key";

test("options objects take long and short names, pairs as lists or strings, flags as booleans", () => {
  assert.deepEqual(
    segmentsOf({ width: 400, ar: [16, 9], fp: "0.3:0.4", flip: true, strip: false, blur: undefined }),
    ["width:400", "ar:16:9", "fp:0.3:0.4", "flip:1", "strip:0"],
  );
  const a = buildPath("abc", { key: KEY, width: 400, height: 300, fit: "crop" });
  const b = buildPath("abc", { key: KEY, h: 300, w: 400, rt: "fill" });
  assert.equal(a, b);
  assert.match(a, /^\/[A-Za-z0-9_-]{43}\/w:400\/h:300\/fit:cover\/abc$/);
  assert.throws(() => segmentsOf({ colour: "red" }), TypeError);
  assert.throws(() => segmentsOf({ width: Number.NaN }), TypeError);
});

test("a key must be given or explicitly refused; unsigned paths use the _ marker", () => {
  assert.throws(() => buildPath("abc", { width: 1 }), TypeError);
  assert.equal(buildPath("abc", { key: null, width: 10 }), "/_/w:10/abc");
  assert.equal(buildPath("abc", { key: null }), "/_/abc");
});

test("expiresIn counts from now and is signed", () => {
  const path = buildPath("abc", { key: KEY, width: 10, expiresIn: 60, now: 1000.9 });
  assert.ok(path.endsWith("/w:10/exp:1060/abc"));
  assert.ok(verify(KEY, "w:10/exp:1060", "abc", path.split("/")[1]));
});

test("the first key signs and every key verifies; one spelling only", () => {
  const signature = sign(["new", "old"], "w:1", "a");
  assert.equal(signature, sign("new", "w:1", "a"));
  assert.ok(verify(["newer", "new"], "w:1", "a", signature));
  assert.ok(!verify(["other"], "w:1", "a", signature));
  assert.ok(!verify("new", "w:1", "a", `${signature}=`));
  assert.ok(!verify("new", "w:1", "a", signature.replace(/-/g, "+").replace(/_/g, "/") + "x"));
  assert.ok(!verify("new", "w:1", "a", undefined));
  assert.ok(verify(new TextEncoder().encode("new"), "w:1", "a", signature));
});

test("numbers round to three decimals with ties to even, as Python's round does", () => {
  assert.equal(round3(0.0625), 0.062);
  assert.equal(round3(0.1875), 0.188);
  assert.equal(round3(2.0005), 2.001); // 2.0005 is a little above the tie in binary
  assert.equal(round3(1e-7), 0);
  assert.equal(round3(99.9996), 100);
});

test("refusals name the option, as the proxy's 400 does", () => {
  assert.throws(() => parseOptions(["w:abc"]), (e) => e instanceof UrlError && e.option === "w");
  assert.throws(() => parseOptions(["w:1", "", "h:1"]), (e) => e instanceof UrlError && e.option === null);
  assert.throws(() => parseOptions(["pr:x"], { presets: { toString: "w:1" } }), UrlError);
  assert.throws(() => parseOptions(["constructor:1"]), UrlError);
});
