// The native URL grammar's names, as imgedge/url/parse.py and imgedge/formats.py define them. The shared
// vectors file carries the Python tables too, and the tests check that these equal them.

/** Every option spelling → its long name. */
export const OPTION_NAMES = Object.freeze({
  width: "width", w: "width",
  height: "height", h: "height",
  fit: "fit", rt: "fit", resize: "fit", resizing_type: "fit",
  gravity: "gravity", g: "gravity",
  focus: "focus", fp: "focus",
  crop: "crop", c: "crop",
  aspect: "aspect", ar: "aspect", aspect_ratio: "aspect",
  dpr: "dpr",
  quality: "quality", q: "quality",
  format: "format", f: "format", ext: "format",
  blur: "blur", bl: "blur",
  sharpen: "sharpen", sh: "sharpen",
  rotate: "rotate", rot: "rotate",
  flip: "flip",
  flop: "flop",
  background: "background", bg: "background",
  strip: "strip", sm: "strip", strip_metadata: "strip",
  enlarge: "enlarge", el: "enlarge",
  expires: "expires", exp: "expires",
  preset: "preset", pr: "preset",
  trim: "trim", t: "trim",
  extend: "extend", ex: "extend",
  adaptive: "adaptive", ad: "adaptive",
  brightness: "brightness", br: "brightness",
  contrast: "contrast", co: "contrast",
  grayscale: "grayscale", gs: "grayscale",
  round_corner: "round_corner", rc: "round_corner",
  watermark: "watermark", wm: "watermark",
  watermark_url: "watermark_url", wmu: "watermark_url",
  max_bytes: "max_bytes", mb: "max_bytes",
  flatten: "flatten", fl: "flatten",
});

export const FIT_ALIASES = Object.freeze({
  inside: "inside", fit: "inside", limit: "inside",
  cover: "cover", fill: "cover", crop: "cover",
  force: "force", stretch: "force", scale: "force",
  pad: "pad", contain: "pad",
  clamp: "clamp", outside: "outside", auto: "auto",
});

export const GRAVITY_ALIASES = Object.freeze({
  ce: "ce", c: "ce", center: "ce", centre: "ce",
  no: "no", n: "no", north: "no", top: "no",
  so: "so", s: "so", south: "so", bottom: "so",
  ea: "ea", e: "ea", east: "ea", right: "ea",
  we: "we", w: "we", west: "we", left: "we",
  noea: "noea", ne: "noea", northeast: "noea",
  nowe: "nowe", nw: "nowe", northwest: "nowe",
  soea: "soea", se: "soea", southeast: "soea",
  sowe: "sowe", sw: "sowe", southwest: "sowe",
  sm: "sm", smart: "sm", attention: "sm", auto: "sm",
});

export const FORMAT_SPELLINGS = Object.freeze({
  auto: "auto", avif: "avif", webp: "webp", jpeg: "jpeg", jpg: "jpeg", png: "png", gif: "gif",
});

export const FITS = Object.freeze(["inside", "cover", "force", "pad", "clamp", "outside", "auto"]);
export const COMPASS = Object.freeze(["ce", "no", "so", "ea", "we", "noea", "nowe", "soea", "sowe"]);
export const WATERMARK_POSITIONS = Object.freeze([...COMPASS, "re"]); // re: repeated over the whole image
export const ORIG = -1; // a width or height of "orig": the source's own
export const FORMATS = Object.freeze(["auto", "avif", "webp", "jpeg", "png", "gif"]);
export const DEFAULT_BACKGROUND = "ffffff";
// q:auto's perceptual targets (SSIMULACRA2), as imgedge/url/spec.py names them; `good` is q:auto's own.
export const QUALITY_LEVELS = Object.freeze({ low: 50, good: 70, best: 80 });
export const DEFAULT_QUALITY_TARGET = QUALITY_LEVELS.good;
export const QUALITY_TARGET_RANGE = Object.freeze([10, 99]);
export const MAX_DIMENSION = 100000;
export const MAX_SOURCE_URL = 2048; // bytes of a source URL, as browsers and CDNs bound them
