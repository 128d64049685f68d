// URL option segments → a frozen spec, as imgedge/url/parse.py has it: a name → handler table, long and
// short names, presets, and the folding of shortcuts (dpr, aspect, extend…) into plain fields.
import { UrlError, optionError } from "./errors.js";
import {
  DEFAULT_BACKGROUND, DEFAULT_QUALITY_TARGET, FIT_ALIASES, FITS, FORMATS, FORMAT_SPELLINGS, GRAVITY_ALIASES,
  MAX_DIMENSION, OPTION_NAMES, ORIG, QUALITY_LEVELS, QUALITY_TARGET_RANGE, WATERMARK_POSITIONS,
} from "./grammar.js";
import { makeSpec } from "./spec.js";
import * as v from "./values.js";

const lookup = (table, key) => (Object.hasOwn(table, key) ? table[key] : undefined);

/** Pixels, or `orig` for the source's own size. */
const dimension = (name, raw) => (raw.toLowerCase() === "orig" ? ORIG : v.integer(name, raw, 0, MAX_DIMENSION));

function focus(name, args) {
  v.arity(name, args, 2);
  return { gravity: "fp", focus: [v.number(name, args[0], 0, 1), v.number(name, args[1], 0, 1)] };
}

function region(name, args) {
  v.arity(name, args, 4);
  const [left, top, right, bottom] = args.map((a) => v.integer(name, a, 0, MAX_DIMENSION));
  if (right <= left || bottom <= top) throw optionError(name, "focal region must have right > left and bottom > top");
  return { gravity: "fr", focus: null, region: [left, top, right, bottom] };
}

function gravity(name, args) {
  if (args.length && args[0].toLowerCase() === "fp") return focus(name, args.slice(1));
  if (args.length && args[0].toLowerCase() === "fr") return region(name, args.slice(1));
  v.arity(name, args, 1);
  const found = lookup(GRAVITY_ALIASES, args[0].toLowerCase());
  if (found === undefined) {
    throw optionError(name, `'${args[0]}' is not a gravity (ce, no, so, ea, we, noea, …, sm, fp:x:y)`);
  }
  return { gravity: found, focus: null };
}

function cropArea(name, args) {
  if (![2, 3, 5].includes(args.length)) {
    throw optionError(name, `expected X:Y:W:H or W:H[:gravity], got ${args.length} argument(s)`);
  }
  const [width, height] = args.slice(0, 2).map((a) => v.number(name, a, 0, MAX_DIMENSION));
  if (args.length === 2) return { area: { width, height, gravity: "ce", focus: null } };
  const placed = gravity(name, args.slice(2));
  if (placed.gravity === "sm" || placed.gravity === "fr") {
    throw optionError(name, "a crop area is placed by a compass gravity or fp:X:Y");
  }
  return { area: { width, height, gravity: placed.gravity, focus: placed.focus } };
}

function flag(field) {
  return (name, args) => {
    v.arity(name, args, 0, 1);
    return { [field]: args.length ? v.boolean(name, args[0]) : true };
  };
}

function percent(field) {
  return (name, args) => {
    v.arity(name, args, 1);
    return { [field]: v.integer(name, args[0], -100, 100) };
  };
}

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Watermark offsets: pixels, or `Np` for N percent of the result. */
function offset(name, raw) {
  const percentOf = raw.endsWith("p");
  const value = v.integer(name, percentOf ? raw.slice(0, -1) : raw, -MAX_DIMENSION, MAX_DIMENSION);
  return percentOf ? `${value}p` : String(value);
}

/** A watermark: an asset id, or `url.` + base64url of an image URL. */
function decodeMark(name, raw) {
  if (raw.startsWith("url.")) return v.base64Url(name, raw.slice(4));
  if (!v.ASSET_ID.test(raw)) throw optionError(name, "expected an asset id or url.BASE64URL");
  return raw;
}

function autoQuality(name, args) {
  // `q:auto[:low|good|best|target]`: the encoder quality that meets a perceptual target.
  v.arity(name, args, 1, 2);
  if (args.length === 1) return { qualityTarget: DEFAULT_QUALITY_TARGET, quality: 0 };
  const level = lookup(QUALITY_LEVELS, args[1].toLowerCase());
  if (level !== undefined) return { qualityTarget: level, quality: 0 };
  if (!/^[0-9]+$/.test(args[1])) {
    throw optionError(name, `'${args[1]}' is not one of ${Object.keys(QUALITY_LEVELS).join(", ")} or a number`);
  }
  return { qualityTarget: v.integer(name, args[1], ...QUALITY_TARGET_RANGE), quality: 0 };
}

const HANDLERS = {
  width(name, args) {
    if (args.length && args[0].toLowerCase() === "auto") {
      // `w:auto[:fallback]`: the width from client hints, else the fallback (0: the original's).
      v.arity(name, args, 1, 2);
      return { widthAuto: true, width: args.length === 2 ? v.integer(name, args[1], 0, MAX_DIMENSION) : 0 };
    }
    v.arity(name, args, 1);
    // widthAuto is named, so an explicit width wins over a preset's w:auto, as explicit options do.
    return { width: dimension(name, args[0]), widthAuto: false };
  },
  height(name, args) {
    v.arity(name, args, 1);
    return { height: dimension(name, args[0]) };
  },
  fit(name, args) {
    v.arity(name, args, 1);
    const fit = lookup(FIT_ALIASES, args[0].toLowerCase());
    if (fit === undefined) throw optionError(name, `'${args[0]}' is not one of ${FITS.join(", ")}`);
    return { fit };
  },
  gravity,
  focus,
  crop(name, args) {
    // `X:Y:W:H` (a rectangle) or `W:H[:gravity]` (an area placed by gravity; below 1: a fraction).
    if (args.length !== 4) return cropArea(name, args);
    const [x, y] = args.slice(0, 2).map((a) => v.integer(name, a, 0, MAX_DIMENSION));
    const [w, h] = args.slice(2).map((a) => v.integer(name, a, 1, MAX_DIMENSION));
    return { crop: [x, y, w, h] };
  },
  aspect(name, args) {
    v.arity(name, args, 2);
    const [a, b] = args.map((x) => v.integer(name, x, 1, 10000));
    const g = gcd(a, b);
    return { aspect: [a / g, b / g] };
  },
  dpr(name, args) {
    v.arity(name, args, 1);
    if (args[0].toLowerCase() === "auto") return { dprAuto: true };
    return { dpr: v.number(name, args[0], 1, 4), dprAuto: false };
  },
  quality(name, args) {
    if (args.length && args[0].toLowerCase() === "auto") return autoQuality(name, args);
    v.arity(name, args, 1);
    return { quality: v.integer(name, args[0], 1, 100), qualityTarget: 0 };
  },
  format(name, args) {
    v.arity(name, args, 1);
    const format = lookup(FORMAT_SPELLINGS, args[0].toLowerCase());
    if (format === undefined) throw optionError(name, `'${args[0]}' is not one of ${FORMATS.join(", ")}`);
    return { format };
  },
  blur(name, args) {
    v.arity(name, args, 1);
    return { blur: v.number(name, args[0], 0, 100) };
  },
  sharpen(name, args) {
    v.arity(name, args, 1);
    return { sharpen: v.number(name, args[0], 0, 10) };
  },
  rotate(name, args) {
    v.arity(name, args, 1);
    const angle = v.integer(name, args[0], -360, 360);
    if (angle % 90) throw optionError(name, `${angle} is not a multiple of 90`);
    return { rotate: ((angle % 360) + 360) % 360 };
  },
  flip: flag("flip"),
  flop: flag("flop"),
  background(name, args) {
    return { background: v.colour(name, args) };
  },
  strip: flag("strip"),
  enlarge: flag("enlarge"),
  expires(name, args) {
    v.arity(name, args, 1);
    return { expires: v.integer(name, args[0], 1, 2 ** 40) };
  },
  trim(name, args) {
    // `THRESHOLD[:REFERENCE]`: the reference is the top-left pixel, `br` (bottom-right) or a hex colour.
    v.arity(name, args, 1, 2);
    const threshold = v.number(name, args[0], 0, 442); // 442 is the largest RGB distance
    let reference = args.length === 2 ? args[1].toLowerCase() : "";
    if (reference === "tl" || reference === "top-left") reference = "";
    else if (reference === "br" || reference === "bottom-right") reference = "br";
    else if (reference) reference = v.colour(name, [reference]);
    return { trim: [threshold, reference] };
  },
  extend: flag("extend"),
  adaptive: flag("adaptive"),
  brightness: percent("brightness"),
  contrast: percent("contrast"),
  grayscale: flag("grayscale"),
  round_corner(name, args) {
    // `A[:B[:COLOUR]]`: corner radii in px (B defaults to A), the colour outside them (default white).
    v.arity(name, args, 1, 2, 3);
    const a = v.integer(name, args[0], 1, MAX_DIMENSION);
    const b = args.length > 1 ? v.integer(name, args[1], 1, MAX_DIMENSION) : a;
    return { roundCorner: [a, b, args.length > 2 ? v.colour(name, [args[2]]) : DEFAULT_BACKGROUND] };
  },
  watermark(name, args) {
    // `OPACITY[:POSITION[:X[:Y[:SCALE]]]]`, or the canonical `OPACITY:POSITION:X:Y:WIDTH:HEIGHT:MARK`.
    v.arity(name, args, 1, 2, 3, 4, 5, 7);
    const opacity = v.number(name, args[0], 0, 1);
    const position = args.length > 1 ? args[1].toLowerCase() : "ce";
    if (!WATERMARK_POSITIONS.includes(position)) {
      throw optionError(name, `'${position}' is not one of ${WATERMARK_POSITIONS.join(", ")}`);
    }
    const x = args.length > 2 ? offset(name, args[2]) : "0";
    const y = args.length > 3 ? offset(name, args[3]) : "0";
    const ratios = args.length > 4 ? args.slice(4, 6).map((a) => v.number(name, a, 0, 1)) : [0];
    const mark = args.length === 7 ? decodeMark(name, args[6]) : "";
    return {
      watermark: { mark, opacity, position, x, y, widthRatio: ratios[0], heightRatio: ratios[ratios.length - 1] },
    };
  },
  watermark_url(name, args) {
    v.arity(name, args, 1);
    return { watermarkMark: decodeMark(name, args[0]) };
  },
  max_bytes(name, args) {
    v.arity(name, args, 1);
    return { maxBytes: v.integer(name, args[0], 1, 2 ** 30) };
  },
  flatten: flag("flatten"),
};

function split(segment) {
  if (!segment) throw new UrlError("empty option segment (double slash?)");
  const colon = segment.indexOf(":");
  if (colon < 0) return [segment.toLowerCase(), []];
  return [segment.slice(0, colon).toLowerCase(), segment.slice(colon + 1).split(":")];
}

/** Returns [fields from presets, fields given explicitly]. */
function collect(segments, presets, inPreset) {
  const base = {};
  const explicit = {};
  const seen = new Set();
  for (const segment of segments) {
    const [name, args] = split(segment);
    const option = lookup(OPTION_NAMES, name);
    if (option === undefined) throw optionError(name, "unknown option");
    if (option === "preset") {
      if (inPreset) throw optionError(name, "presets cannot include presets");
      for (const preset of args) {
        const definition = lookup(presets, preset);
        if (definition === undefined) throw optionError(name, `unknown preset '${preset}'`);
        Object.assign(base, collect(definition.replace(/^\/+|\/+$/g, "").split("/"), presets, true)[1]);
      }
      continue;
    }
    const slot = option === "focus" ? "gravity" : option; // fp is a way of giving the gravity
    if (seen.has(slot)) throw optionError(name, "given more than once");
    seen.add(slot);
    Object.assign(explicit, HANDLERS[option](name, args));
  }
  return [base, explicit];
}

const round = (x) => Math.floor(x + 0.5);
const scaled = (value, dpr) => (value === ORIG ? value : round(value * dpr));

function size(fields, maxDpr) {
  const { width: w = 0, height: h = 0, aspect: givenAspect = null, dpr = 1 } = fields;
  if (dpr > maxDpr) throw optionError("dpr", `${dpr} exceeds the maximum of ${maxDpr}`);
  if (givenAspect !== null && w && h) throw optionError("aspect", "cannot be combined with both width and height");
  if (givenAspect !== null && (w === ORIG || h === ORIG)) throw optionError("aspect", "cannot be combined with orig");
  if (fields.widthAuto && h) throw optionError("width", "w:auto cannot be combined with a height (use ar)");
  if (fields.widthAuto && fields.dprAuto) {
    throw optionError("dpr", "dpr:auto cannot be combined with w:auto (the width hint counts pixels)");
  }
  let [width, height, aspect] = [scaled(w, dpr), scaled(h, dpr), givenAspect];
  if (fields.widthAuto) {
    // the ratio is applied to the width the hints give, once the proxy knows it
  } else if (aspect !== null && width) {
    [height, aspect] = [Math.max(1, round((width * aspect[1]) / aspect[0])), null];
  } else if (aspect !== null && height) {
    [width, aspect] = [Math.max(1, round((height * aspect[0]) / aspect[1])), null];
  }
  if (Math.max(width, height) > MAX_DIMENSION) {
    // Folded sizes must parse again from the canonical form, where w and h are bounded.
    throw optionError(dpr !== 1 ? "dpr" : "aspect", `gives a side over ${MAX_DIMENSION} px`);
  }
  return { width, height, aspect };
}

function watermarkOf(fields, settings) {
  const { watermark = null, watermarkMark: mark = "" } = fields;
  if (watermark === null) {
    if (mark) throw optionError("watermark_url", "needs a watermark option (wm) as well");
    return null;
  }
  if (watermark.mark && mark) throw optionError("watermark_url", "conflicts with the mark given in wm");
  if (watermark.mark) return watermark;
  if (!(mark || settings.watermark)) {
    throw optionError("watermark", "no mark: give watermark_url (wmu) or configure a default");
  }
  return { ...watermark, mark: mark || settings.watermark };
}

/** Fold shortcuts into plain fields so equivalent URLs share one canonical form. */
function normalise(fields, settings) {
  const { width, height, aspect } = size(fields, settings.maxDpr);
  const {
    width: _w, height: _h, aspect: _a, dpr: _d, watermark: _wm, watermarkMark: _wmu,
    fit: givenFit = "inside", extend: givenExtend = false, adaptive: givenAdaptive = false,
    gravity: givenGravity = "ce", focus: givenFocus = null, region: givenRegion = null,
    background = DEFAULT_BACKGROUND, ...others
  } = fields;
  let [fit, extend, adaptive] = [givenFit, givenExtend, givenAdaptive];
  if (!(width && height) && !(fields.widthAuto && aspect !== null)) {
    [fit, extend, adaptive] = ["inside", false, false]; // with one side free, every mode fits inside
  }
  if (fit === "clamp" && others.enlarge) fit = "cover"; // the two differ only where cover would upscale
  if (extend && fit === "inside") [fit, extend] = ["pad", false];
  if (["force", "outside", "pad"].includes(fit)) extend = false; // never smaller than the box, or padded
  let [place, point, area] = [givenGravity, givenFocus, givenRegion];
  if (!["cover", "pad", "clamp", "auto"].includes(fit) && aspect === null && !extend) {
    [place, point, area] = ["ce", null, null]; // gravity only places crops and padding
  }
  if (background.length === 8) others.flatten = false; // nothing to lay a transparent colour onto
  const watermark = watermarkOf(fields, settings);
  return makeSpec({
    ...others, width, height, fit, gravity: place, focus: point, aspect, background, extend, adaptive,
    region: area, watermark,
  });
}

/**
 * Option segments as a URL spells them (`["w:400", "rt:fill"]`) → the frozen spec the proxy would parse.
 * `presets`, `maxDpr` and `defaultWatermark` are the proxy's IMGEDGE_PRESETS, IMGEDGE_MAX_DPR and
 * IMGEDGE_WATERMARK; `suffixFormat` is an asset id's extension (`….webp`).
 */
export function parseOptions(
  segments, { presets = {}, maxDpr = 4, defaultWatermark = "", suffixFormat = null } = {},
) {
  const [base, explicit] = collect(segments, presets, false);
  const fields = { ...base, ...explicit };
  if (suffixFormat !== null && suffixFormat !== undefined) {
    const format = lookup(FORMAT_SPELLINGS, suffixFormat.toLowerCase());
    if (format === undefined) throw optionError("extension", `'${suffixFormat}' is not a supported output format`);
    if ("format" in explicit && explicit.format !== format) throw optionError("format", "conflicts with the file extension");
    fields.format = format;
  }
  return normalise(fields, { maxDpr, watermark: defaultWatermark });
}
