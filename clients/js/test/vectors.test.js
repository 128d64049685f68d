// The shared vectors (generated from the Python reference, imgedge.url) against this client.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  buildPath, buildPromptPath, canonical, generationSegment, parseOptions, sign, srcset, UrlError, verify,
} from "../src/index.js";
import { FIT_ALIASES, FORMAT_SPELLINGS, GRAVITY_ALIASES, OPTION_NAMES, QUALITY_LEVELS } from "../src/grammar.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors.json", import.meta.url), "utf8"));
const settings = { presets: vectors.presets, defaultWatermark: vectors.watermark };

const sorted = (table) => Object.fromEntries(Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1)));

test("the grammar's names and aliases are the Python tables", () => {
  assert.deepEqual(sorted(OPTION_NAMES), vectors.grammar.options);
  assert.deepEqual(sorted(FIT_ALIASES), vectors.grammar.fits);
  assert.deepEqual(sorted(GRAVITY_ALIASES), vectors.grammar.gravities);
  assert.deepEqual(sorted(FORMAT_SPELLINGS), vectors.grammar.formats);
  assert.deepEqual({ ...QUALITY_LEVELS }, vectors.grammar.quality_levels);
});

test("every option vector: same canonical form and signature, or refused for the same option", () => {
  let accepted = 0;
  for (const vector of vectors.options) {
    const label = JSON.stringify(vector.segments) + (vector.suffix ? ` .${vector.suffix}` : "");
    const parse = () => parseOptions(vector.segments, { ...settings, suffixFormat: vector.suffix ?? null });
    if (vector.error !== undefined) {
      assert.throws(parse, (err) => err instanceof UrlError && err.option === vector.option, label);
      continue;
    }
    const spec = parse();
    assert.equal(canonical(spec), vector.canonical, label);
    assert.equal(canonical(spec, { withExpiry: false }), vector.canonical_without_expiry, label);
    assert.equal(sign(vectors.key, vector.canonical, vectors.asset_id), vector.signature, label);
    assert.ok(verify(["other", vectors.key], vector.canonical, vectors.asset_id, vector.signature), label);
    accepted += 1;
  }
  assert.ok(accepted > 300);
});

// Python's keyword names → this client's.
const JS_NAMES = { fmt: "format", expires_in: "expiresIn", base_url: "baseUrl" };
const jsOptions = (options) =>
  Object.fromEntries(Object.entries(options).map(([name, value]) => [JS_NAMES[name] ?? name, value]));

test("buildPath gives the Python builder's paths, signed and unsigned", () => {
  for (const vector of vectors.build) {
    const options = { ...jsOptions(vector.options), ...settings, now: vectors.now };
    const key = vector.signed ? vectors.key : null;
    assert.equal(buildPath(vectors.asset_id, { ...options, key }), vector.path, JSON.stringify(vector));
  }
});

test("srcset gives the Python builder's strings", () => {
  for (const vector of vectors.srcset) {
    const { widths, ...options } = jsOptions(vector.options);
    assert.equal(srcset(vectors.asset_id, widths, { ...options, ...settings, key: vectors.key }), vector.srcset);
  }
});

test("buildPromptPath gives the Python builder's prompt URLs, and refuses what it refuses", () => {
  for (const vector of vectors.prompt) {
    const label = JSON.stringify(vector.generation).slice(0, 120);
    const build = () => buildPromptPath(vector.generation, { key: vectors.key, extra: vector.segments, ...settings });
    if (vector.error !== undefined) {
      assert.throws(build, (err) => err instanceof UrlError && err.message === vector.error, label);
      continue;
    }
    assert.equal(generationSegment(vector.generation), vector.segment, label);
    assert.equal(build(), vector.path, label);
  }
  assert.throws(() => buildPromptPath({ prompt: "x", seed: 1 }, { key: null }), TypeError);
});
