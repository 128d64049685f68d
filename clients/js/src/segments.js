// Transform options given as an object ({ width: 400, fit: "cover", focus: [0.3, 0.4] }) → the option
// segments a URL would spell. Browser-safe: no signing here.
import { OPTION_NAMES } from "./grammar.js";

function text(name, value) {
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`imgedge: ${name} must be a finite number`);
    return String(value);
  }
  if (typeof value === "string") return value;
  throw new TypeError(`imgedge: ${name} must be a number, a string, a boolean or a list of them`);
}

/**
 * `{ width: 400, ar: "16:9", crop: [0, 0, 800, 600] }` → `["width:400", "ar:16:9", "crop:0:0:800:600"]`.
 * Keys are the option names of the URL grammar, long or short; `undefined` and `null` values are skipped.
 */
export function segmentsOf(options) {
  const segments = [];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || value === null) continue;
    if (!Object.hasOwn(OPTION_NAMES, name.toLowerCase())) throw new TypeError(`imgedge: unknown option ${name}`);
    const args = Array.isArray(value) ? value.map((item) => text(name, item)).join(":") : text(name, value);
    segments.push(`${name}:${args}`);
  }
  return segments;
}
