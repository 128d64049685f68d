// imgedge's URL grammar for JavaScript servers: the same canonical form and signature as the Python
// package imgedge.url, checked against the shared vectors file (test/vectors.json).
export { buildPath, srcset, UNSIGNED } from "./build.js";
export { UrlError } from "./errors.js";
export { FITS, FORMATS } from "./grammar.js";
export { nextImageSource } from "./next-source.js";
export { NEXT_DEVICE_SIZES, NEXT_IMAGE_SIZES, NEXT_QUALITIES, NEXT_SIZES } from "./next-sizes.js";
export { parseOptions } from "./parse.js";
export { ASPECT_SIZES, buildPromptPath, canonicalPrompt, generationSegment, promptMessage } from "./prompt.js";
export { segmentsOf } from "./segments.js";
export { sign, signedMessage, verify } from "./signing.js";
export { canonical, fmtNumber } from "./spec.js";
