// URL option segments → a frozen spec, as imgedge/url/parse.py has it: a name → handler table, long and
// short names, presets, and the folding of shortcuts (dpr, aspect) into plain fields.
import { UrlError, optionError } from "./errors.js";
import {
  DEFAULT_BACKGROUND, DEFAULT_QUALITY_TARGET, FIT_ALIASES, FORMATS, FORMAT_SPELLINGS, GRAVITY_ALIASES, MAX_DIMENSION,
  OPTION_NAMES, QUALITY_LEVELS, QUALITY_TARGET_RANGE,
} from "./grammar.js";
import { makeSpec } from "./spec.js";
import * as v from "./values.js";

const lookup = (table, key) => (Object.hasOwn(table, key) ? table[key] : undefined);

function focus(name, args) {
  v.arity(name, args, 2);
  return { gravity: "fp", focus: [v.number(name, args[0], 0, 1), v.number(name, args[1], 0, 1)] };
}

function flag(field) {
  return (name, args) => {
    v.arity(name, args, 0, 1);
    return { [field]: args.length ? v.boolean(name, args[0]) : true };
  };
}

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

const HANDLERS = {
  width(name, args) {
    if (args.length && args[0].toLowerCase() === "auto") {
      // `w:auto[:fallback]`: the width from client hints, else the fallback (0: the original's).
      v.arity(name, args, 1, 2);
      const fallback = args.length === 2 ? v.integer(name, args[1], 0, MAX_DIMENSION) : 0;
      return { widthAuto: true, width: fallback };
    }
    v.arity(name, args, 1);
    // widthAuto is named, so an explicit width wins over a preset's w:auto, as explicit options do.
    return { width: v.integer(name, args[0], 0, MAX_DIMENSION), widthAuto: false };
  },
  height(name, args) {
    v.arity(name, args, 1);
    return { height: v.integer(name, args[0], 0, MAX_DIMENSION) };
  },
  fit(name, args) {
    v.arity(name, args, 1);
    const fit = lookup(FIT_ALIASES, args[0].toLowerCase());
    if (fit === undefined) throw optionError(name, `'${args[0]}' is not one of inside, cover, force, pad`);
    return { fit };
  },
  gravity(name, args) {
    if (args.length && args[0].toLowerCase() === "fp") return focus(name, args.slice(1));
    v.arity(name, args, 1);
    const gravity = lookup(GRAVITY_ALIASES, args[0].toLowerCase());
    if (gravity === undefined) {
      throw optionError(name, `'${args[0]}' is not a gravity (ce, no, so, ea, we, noea, …, sm, fp:x:y)`);
    }
    return { gravity, focus: null };
  },
  focus,
  crop(name, args) {
    v.arity(name, args, 4);
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
    if (args.length && args[0].toLowerCase() === "auto") {
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

/** Fold shortcuts into plain fields so equivalent URLs share one canonical form. */
function normalise(fields, maxDpr) {
  const { width: w = 0, height: h = 0, aspect: givenAspect = null, dpr = 1, fit: givenFit = "inside", ...rest } = fields;
  if (dpr > maxDpr) throw optionError("dpr", `${dpr} exceeds the maximum of ${maxDpr}`);
  let aspect = givenAspect;
  const widthAuto = rest.widthAuto ?? false;
  if (aspect !== null && w && h) throw optionError("aspect", "cannot be combined with both width and height");
  if (widthAuto && h) throw optionError("width", "w:auto cannot be combined with a height (use ar)");
  if (widthAuto && rest.dprAuto) {
    throw optionError("dpr", "dpr:auto cannot be combined with w:auto (the width hint counts pixels)");
  }
  let width = round(w * dpr);
  let height = round(h * dpr);
  if (widthAuto) {
    // the ratio is applied to the width the hints give, once the proxy knows it
  } else if (aspect !== null && width) {
    height = Math.max(1, round((width * aspect[1]) / aspect[0]));
    aspect = null;
  } else if (aspect !== null && height) {
    width = Math.max(1, round((height * aspect[0]) / aspect[1]));
    aspect = null;
  }
  // With one side free, every mode keeps the aspect ratio and fits inside.
  const fit = (width && height) || (widthAuto && aspect !== null) ? givenFit : "inside";
  let { gravity = "ce", focus: point = null, background = DEFAULT_BACKGROUND, ...others } = rest;
  if (fit !== "cover" && fit !== "pad" && aspect === null) {
    gravity = "ce"; // gravity only places crops and padding
    point = null;
  }
  return makeSpec({ ...others, width, height, fit, gravity, focus: point, aspect, background });
}

/**
 * Option segments as a URL spells them (`["w:400", "rt:fill"]`) → the frozen spec the proxy would parse.
 * `presets` are the proxy's IMGEDGE_PRESETS; `suffixFormat` is an asset id's extension (`….webp`).
 */
export function parseOptions(segments, { presets = {}, maxDpr = 4, suffixFormat = null } = {}) {
  const [base, explicit] = collect(segments, presets, false);
  const fields = { ...base, ...explicit };
  if (suffixFormat !== null && suffixFormat !== undefined) {
    const format = lookup(FORMAT_SPELLINGS, suffixFormat.toLowerCase());
    if (format === undefined) throw optionError("extension", `'${suffixFormat}' is not a supported output format`);
    if ("format" in explicit && explicit.format !== format) throw optionError("format", "conflicts with the file extension");
    fields.format = format;
  }
  return normalise(fields, maxDpr);
}
