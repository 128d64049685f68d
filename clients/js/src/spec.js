// The frozen transform spec and its one canonical string form, as imgedge/url/spec.py has them.
import { DEFAULT_BACKGROUND, DEFAULT_QUALITY_TARGET, ORIG, QUALITY_LEVELS } from "./grammar.js";
import { encodeBase64Url } from "./values.js";

/** Python's fmt_number: at most three decimals, no trailing zeros, never "-0". */
export function fmtNumber(value) {
  const text = value.toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
  return text === "" || text === "-0" ? "0" : text;
}

export const DEFAULT_SPEC = Object.freeze({
  width: 0, height: 0, fit: "inside", gravity: "ce", focus: null, crop: null, aspect: null, enlarge: false,
  rotate: 0, flip: false, flop: false, blur: 0, sharpen: 0, background: DEFAULT_BACKGROUND, quality: 0,
  format: "auto", strip: true, expires: 0, trim: null, area: null, region: null, extend: false,
  adaptive: false, brightness: 0, contrast: 0, grayscale: false, roundCorner: null, watermark: null,
  maxBytes: 0, flatten: false, qualityTarget: 0, widthAuto: false, dprAuto: false,
});

function deepFreeze(value) {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

export function makeSpec(fields) {
  return deepFreeze({ ...DEFAULT_SPEC, ...fields });
}

const LEVEL_NAMES = Object.fromEntries(Object.entries(QUALITY_LEVELS).map(([name, target]) => [target, name]));

/** `q:auto` for the default target, `q:auto:low` / `q:auto:best` for the other levels, else the number. */
export function qualityTargetText(target) {
  if (target === DEFAULT_QUALITY_TARGET) return "q:auto";
  return `q:auto:${LEVEL_NAMES[target] ?? target}`;
}

/** Asset ids stand as they are; URLs as `url.` + unpadded base64url (an asset id never has a dot). */
export function encodeMark(mark) {
  return mark.includes("://") ? `url.${encodeBase64Url(mark)}` : mark;
}

const dimension = (value) => (value === ORIG ? "orig" : String(value));

function areaText({ width, height, gravity, focus }) {
  const place = focus ? `fp:${fmtNumber(focus[0])}:${fmtNumber(focus[1])}` : gravity;
  return `c:${fmtNumber(width)}:${fmtNumber(height)}:${place}`;
}

function watermarkText(w) {
  const parts = [fmtNumber(w.opacity), w.position, w.x, w.y, fmtNumber(w.widthRatio), fmtNumber(w.heightRatio)];
  return `wm:${parts.join(":")}:${encodeMark(w.mark)}`;
}

function geometry(spec) {
  const parts = [];
  if (spec.trim) parts.push(["t", fmtNumber(spec.trim[0]), spec.trim[1]].filter(Boolean).join(":"));
  if (spec.crop) parts.push(`c:${spec.crop.join(":")}`);
  else if (spec.area) parts.push(areaText(spec.area));
  if (spec.widthAuto) parts.push(spec.width ? `w:auto:${spec.width}` : "w:auto");
  else if (spec.width) parts.push(`w:${dimension(spec.width)}`);
  if (spec.height) parts.push(`h:${dimension(spec.height)}`);
  if (spec.aspect) parts.push(`ar:${spec.aspect[0]}:${spec.aspect[1]}`);
  if (spec.dprAuto) parts.push("dpr:auto");
  if (spec.fit !== "inside") parts.push(`fit:${spec.fit}`);
  if (spec.extend) parts.push("ex:1");
  if (spec.adaptive) parts.push("ad:1");
  if (spec.gravity === "fp" && spec.focus) {
    parts.push(`g:fp:${fmtNumber(spec.focus[0])}:${fmtNumber(spec.focus[1])}`);
  } else if (spec.gravity === "fr" && spec.region) {
    parts.push(`g:fr:${spec.region.join(":")}`);
  } else if (spec.gravity !== "ce") {
    parts.push(`g:${spec.gravity}`);
  }
  if (spec.enlarge) parts.push("el:1");
  return parts;
}

function filters(spec) {
  const flags = [
    [spec.rotate, `rot:${spec.rotate}`], [spec.flip, "flip:1"], [spec.flop, "flop:1"],
    [spec.blur, `bl:${fmtNumber(spec.blur)}`], [spec.sharpen, `sh:${fmtNumber(spec.sharpen)}`],
    [spec.brightness, `br:${spec.brightness}`], [spec.contrast, `co:${spec.contrast}`],
    [spec.grayscale, "gs:1"],
  ];
  const parts = flags.filter(([on]) => on).map(([, text]) => text);
  if (spec.roundCorner) parts.push(`rc:${spec.roundCorner.join(":")}`);
  if (spec.watermark) parts.push(watermarkText(spec.watermark));
  return parts;
}

/** Options in a fixed order, defaults left out: the only input to signatures and cache keys. */
export function canonical(spec, { withExpiry = true } = {}) {
  const parts = [...geometry(spec), ...filters(spec)];
  if (spec.background !== DEFAULT_BACKGROUND) parts.push(`bg:${spec.background}`);
  if (spec.flatten) parts.push("fl:1");
  if (spec.qualityTarget) parts.push(qualityTargetText(spec.qualityTarget));
  else if (spec.quality) parts.push(`q:${spec.quality}`);
  if (spec.maxBytes) parts.push(`mb:${spec.maxBytes}`);
  if (spec.format !== "auto") parts.push(`f:${spec.format}`);
  if (!spec.strip) parts.push("strip:0");
  if (withExpiry && spec.expires) parts.push(`exp:${spec.expires}`);
  return parts.join("/");
}
