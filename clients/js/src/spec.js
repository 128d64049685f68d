// The frozen transform spec and its one canonical string form, as imgedge/url/spec.py has them.
import { DEFAULT_BACKGROUND, DEFAULT_QUALITY_TARGET, QUALITY_LEVELS } from "./grammar.js";

/** Python's fmt_number: at most three decimals, no trailing zeros, never "-0". */
export function fmtNumber(value) {
  const text = value.toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
  return text === "" || text === "-0" ? "0" : text;
}

export const DEFAULT_SPEC = Object.freeze({
  width: 0, height: 0, fit: "inside", gravity: "ce", focus: null, crop: null, aspect: null, enlarge: false,
  rotate: 0, flip: false, flop: false, blur: 0, sharpen: 0, background: DEFAULT_BACKGROUND, quality: 0,
  format: "auto", strip: true, expires: 0, qualityTarget: 0, widthAuto: false, dprAuto: false,
});

const LEVEL_NAMES = Object.fromEntries(Object.entries(QUALITY_LEVELS).map(([name, target]) => [target, name]));

/** `q:auto` for the default target, `q:auto:low` / `q:auto:best` for the other levels, else the number. */
export function qualityTargetText(target) {
  if (target === DEFAULT_QUALITY_TARGET) return "q:auto";
  return `q:auto:${LEVEL_NAMES[target] ?? target}`;
}

export function makeSpec(fields) {
  const spec = { ...DEFAULT_SPEC, ...fields };
  for (const name of ["focus", "crop", "aspect"]) if (spec[name]) Object.freeze(spec[name]);
  return Object.freeze(spec);
}

/** Options in a fixed order, defaults left out: the only input to signatures and cache keys. */
export function canonical(spec, { withExpiry = true } = {}) {
  const parts = [];
  if (spec.crop) parts.push(`c:${spec.crop.join(":")}`);
  if (spec.widthAuto) parts.push(spec.width ? `w:auto:${spec.width}` : "w:auto");
  else if (spec.width) parts.push(`w:${spec.width}`);
  if (spec.height) parts.push(`h:${spec.height}`);
  if (spec.aspect) parts.push(`ar:${spec.aspect[0]}:${spec.aspect[1]}`);
  if (spec.dprAuto) parts.push("dpr:auto");
  if (spec.fit !== "inside") parts.push(`fit:${spec.fit}`);
  if (spec.gravity === "fp" && spec.focus) {
    parts.push(`g:fp:${fmtNumber(spec.focus[0])}:${fmtNumber(spec.focus[1])}`);
  } else if (spec.gravity !== "ce") {
    parts.push(`g:${spec.gravity}`);
  }
  if (spec.enlarge) parts.push("el:1");
  if (spec.rotate) parts.push(`rot:${spec.rotate}`);
  if (spec.flip) parts.push("flip:1");
  if (spec.flop) parts.push("flop:1");
  if (spec.blur) parts.push(`bl:${fmtNumber(spec.blur)}`);
  if (spec.sharpen) parts.push(`sh:${fmtNumber(spec.sharpen)}`);
  if (spec.background !== DEFAULT_BACKGROUND) parts.push(`bg:${spec.background}`);
  if (spec.qualityTarget) parts.push(qualityTargetText(spec.qualityTarget));
  else if (spec.quality) parts.push(`q:${spec.quality}`);
  if (spec.format !== "auto") parts.push(`f:${spec.format}`);
  if (!spec.strip) parts.push("strip:0");
  if (withExpiry && spec.expires) parts.push(`exp:${spec.expires}`);
  return parts.join("/");
}
