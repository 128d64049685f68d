// Argument parsers shared by the option handlers, as imgedge/url/values.py has them.
import { optionError } from "./errors.js";
import { MAX_SOURCE_URL } from "./grammar.js";

const TRUE = new Set(["1", "t", "true", "yes", "y", "on"]);
const FALSE = new Set(["0", "f", "false", "no", "n", "off"]);
const HEX = /^[0-9a-fA-F]+$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
export const ASSET_ID = /^[A-Za-z0-9_-]{1,128}$/;
// Python's str.isprintable: no control, format, surrogate, private-use, unassigned or separator characters
// but the ASCII space.
const PRINTABLE = /^(?:[^\p{C}\p{Z}]| )*$/u;
// ASCII digits only, one spelling (no "+", no exponent, at most 12 digits a side), as imgedge/url/values.py.
const INTEGER = /^-?[0-9]{1,12}$/;
const NUMBER = /^-?(?:[0-9]{1,12}(?:\.[0-9]{0,12})?|\.[0-9]{1,12})$/;

const quote = (raw) => `'${raw}'`;

export function arity(name, args, ...counts) {
  if (!counts.includes(args.length)) {
    throw optionError(name, `expected ${counts.join(" or ")} argument(s), got ${args.length}`);
  }
}

export function integer(name, raw, lo, hi) {
  if (!INTEGER.test(raw)) throw optionError(name, `${quote(raw)} is not an integer`);
  const value = Number.parseInt(raw, 10) + 0; // + 0 turns -0 into 0
  if (!(lo <= value && value <= hi)) throw optionError(name, `${value} is out of range ${lo}..${hi}`);
  return value;
}

export function number(name, raw, lo, hi) {
  if (!NUMBER.test(raw)) throw optionError(name, `${quote(raw)} is not a number`);
  const value = Number(raw);
  if (!Number.isFinite(value) || !(lo <= value && value <= hi)) {
    throw optionError(name, `${raw} is out of range ${lo}..${hi}`);
  }
  return round3(value);
}

/**
 * Python's round(value, 3): the exact binary value rounded to three decimals, ties to even (0.0625 → 0.062).
 * toFixed cannot be used: it breaks exact ties upwards.
 */
export function round3(value) {
  const negative = value < 0;
  // Exact for every double with at most 100 fractional digits, which covers every value that can tie.
  const [whole, fraction] = Math.abs(value).toFixed(100).split(".");
  let kept = BigInt(whole + fraction.slice(0, 3));
  const rest = fraction.slice(3).replace(/0+$/, "");
  if (rest > "5" || (rest === "5" && kept % 2n === 1n)) kept += 1n;
  const digits = kept.toString().padStart(4, "0");
  const result = Number(`${digits.slice(0, -3)}.${digits.slice(-3)}`);
  return negative && result !== 0 ? -result : result;
}

export function boolean(name, raw) {
  const lowered = raw.toLowerCase();
  if (TRUE.has(lowered)) return true;
  if (FALSE.has(lowered)) return false;
  throw optionError(name, `${quote(raw)} is not a boolean (use 1 or 0)`);
}

/** `rrggbb`, `rgb`, `rrggbbaa` or `r:g:b[:a]` (0..255) → lowercase `rrggbb` or `rrggbbaa`. */
export function colour(name, args) {
  let text;
  if (args.length === 3 || args.length === 4) {
    text = args.map((a) => integer(name, a, 0, 255).toString(16).padStart(2, "0")).join("");
  } else if (args.length === 1 && HEX.test(args[0]) && [3, 6, 8].includes(args[0].length)) {
    text = args[0].toLowerCase();
    if (text.length === 3) text = [...text].map((ch) => ch + ch).join("");
  } else {
    throw optionError(name, "expected a hex colour (rrggbb or rrggbbaa) or r:g:b");
  }
  return text.length === 8 && text.endsWith("ff") ? text.slice(0, 6) : text;
}

/** URL-safe base64 (padding optional) of a UTF-8 URL, as imgproxy encodes sources; browser-safe. */
export function base64Url(name, raw) {
  if (!BASE64URL.test(raw) || raw.length > Math.floor((MAX_SOURCE_URL * 4) / 3) + 4) {
    throw optionError(name, "not URL-safe base64");
  }
  const stripped = raw.replace(/=+$/, "");
  let decoded;
  try {
    if (stripped.length % 4 === 1) throw new Error("truncated");
    const binary = atob(stripped.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw optionError(name, "not URL-safe base64 of a UTF-8 URL");
  }
  if (!decoded || !PRINTABLE.test(decoded)) throw optionError(name, "decodes to an empty or unprintable URL");
  return decoded;
}

/** Unpadded base64url of a string's UTF-8 bytes. */
export function encodeBase64Url(text) {
  const binary = Array.from(new TextEncoder().encode(text), (byte) => String.fromCharCode(byte)).join("");
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
