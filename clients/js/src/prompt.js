// Prompt URLs (imgedge/url/prompt.py): a transform of the image a generation request makes, named by the
// request. `/gen/{signature}/{options…}/{width}x{height}-{seed}-{base64url prompt}`, signed over
// "/gen" + "/" + canonical options + "/" + generation, so only key holders can mint one.
import { createHmac } from "node:crypto";

import { UrlError } from "./errors.js";
import { parseOptions } from "./parse.js";
import { segmentsOf } from "./segments.js";
import { signedMessage } from "./signing.js";
import { canonical } from "./spec.js";

export const PROMPT_PREFIX = "gen";
export const MAX_PROMPT_BYTES = 2000;
export const MAX_SEED = 2 ** 32 - 1;
// The generated original's size for each aspect ratio (the generator's own table).
export const ASPECT_SIZES = Object.freeze({
  "1:1": [512, 512], "16:9": [672, 378], "9:16": [378, 672], "4:3": [576, 432], "3:4": [432, 576],
});
const TRIMMED = /^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g; // ASCII whitespace: trimmed alike in every language
const UNPRINTABLE = /[\p{C}\p{Z}]/u;

/** A prompt's one spelling: Unicode NFC, without surrounding ASCII whitespace. */
export function canonicalPrompt(prompt) {
  return prompt.normalize("NFC").replace(TRIMMED, "");
}

function aspectOf(width, height) {
  return Object.keys(ASPECT_SIZES).find((a) => ASPECT_SIZES[a][0] === width && ASPECT_SIZES[a][1] === height);
}

function checkSize(width, height) {
  if (aspectOf(width, height) !== undefined) return;
  for (const [name, side] of [["width", width], ["height", height]]) {
    if (!Number.isInteger(side) || side % 8 || side < 64 || side > 2048) {
      throw new UrlError(`${name} must be a multiple of 8 between 64 and 2048`);
    }
  }
}

/** `{ prompt, seed, aspect }` or `{ prompt, seed, width, height }` → the generation segment. */
export function generationSegment({ prompt, seed, aspect, width, height }) {
  if (typeof prompt !== "string") throw new UrlError("prompt must be a string");
  const text = canonicalPrompt(prompt);
  if (!text) throw new UrlError("prompt must be non-empty, NFC and without surrounding whitespace");
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length > MAX_PROMPT_BYTES) {
    throw new UrlError(`prompt: at most ${MAX_PROMPT_BYTES} bytes of UTF-8 in a prompt URL`);
  }
  if ([...text].some((ch) => ch !== " " && ch !== "\n" && ch !== "\t" && UNPRINTABLE.test(ch))) {
    throw new UrlError("prompt: control characters are not allowed");
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new UrlError(`seed must be between 0 and ${MAX_SEED}`);
  }
  if (aspect !== undefined && (width !== undefined || height !== undefined)) {
    throw new UrlError("give either aspect or width and height");
  }
  let [w, h] = [width, height];
  if (width === undefined && height === undefined) {
    const size = ASPECT_SIZES[aspect ?? "1:1"];
    if (size === undefined) throw new UrlError(`aspect must be one of ${Object.keys(ASPECT_SIZES).join(", ")}`);
    [w, h] = size;
  }
  checkSize(w, h);
  return `${w}x${h}-${seed}-${bytes.toString("base64url")}`;
}

export function promptMessage(canonicalOptions, segment) {
  return `/${PROMPT_PREFIX}` + signedMessage(canonicalOptions, segment);
}

/**
 * `/gen/{signature}/{canonical options}/{generation}`: always signed (`key`, or a list whose first key
 * signs). Transform options are those of buildPath (`width`, `format`, `extra`, …).
 */
export function buildPromptPath(generation, { key, extra = [], presets, maxDpr, defaultWatermark, ...options } = {}) {
  if (key === undefined || key === null) throw new TypeError("imgedge: prompt URLs are always signed; pass key");
  const segment = generationSegment(generation);
  const options_ = canonical(parseOptions([...extra, ...segmentsOf(options)], { presets, maxDpr, defaultWatermark }));
  const first = Array.isArray(key) ? key[0] : key;
  const signature = createHmac("sha256", typeof first === "string" ? Buffer.from(first, "utf8") : Buffer.from(first))
    .update(promptMessage(options_, segment), "utf8")
    .digest("base64url");
  return "/" + [PROMPT_PREFIX, signature, options_, segment].filter(Boolean).join("/");
}
