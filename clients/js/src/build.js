// Signed transform paths and srcset strings (imgedge/url/build.py), for servers: Node's crypto signs.
import { parseOptions } from "./parse.js";
import { segmentsOf } from "./segments.js";
import { canonical } from "./spec.js";
import { sign } from "./signing.js";

export const UNSIGNED = "_";

/**
 * `/{signature}/{canonical options}/{assetId}`. `key` (a key, or a list whose first key signs) comes from
 * IMGEDGE_KEYS on the server; `key: null` gives an unsigned `/_/…` path. `expiresIn` (seconds from `now`,
 * a unix time, default the clock) adds `exp:`; `presets`, `maxDpr` and `defaultWatermark` mirror the proxy's
 * IMGEDGE_PRESETS, IMGEDGE_MAX_DPR and IMGEDGE_WATERMARK.
 */
export function buildPath(
  assetId, { key, expiresIn, now, extra = [], presets, maxDpr, defaultWatermark, ...options } = {},
) {
  if (key === undefined) throw new TypeError("imgedge: pass key (or key: null for an unsigned path)");
  const segments = [...extra, ...segmentsOf(options)];
  if (expiresIn !== undefined && expiresIn !== null) {
    const at = now ?? Date.now() / 1000;
    segments.push(`exp:${Math.trunc(at + expiresIn)}`);
  }
  const options_ = canonical(parseOptions(segments, { presets, maxDpr, defaultWatermark }));
  const signature = key === null ? UNSIGNED : sign(key, options_, assetId);
  return "/" + [signature, options_, assetId].filter(Boolean).join("/");
}

/** `url 320w, url 640w, …`, each candidate signed separately; other options apply to every candidate. */
export function srcset(assetId, widths, { baseUrl = "", ...options } = {}) {
  return [...new Set(widths)]
    .sort((a, b) => a - b)
    .map((width) => `${baseUrl}${buildPath(assetId, { ...options, width })} ${width}w`)
    .join(", ");
}
