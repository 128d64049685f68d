/** A signing key as IMGEDGE_KEYS spells it (its UTF-8 bytes are the HMAC key), or raw bytes. */
export type Key = string | Uint8Array;
/** One key, or several where the first signs and every one verifies. */
export type Keys = Key | readonly Key[];

export type Fit = "inside" | "cover" | "force" | "pad" | "clamp" | "outside" | "auto";
export type Format = "auto" | "avif" | "webp" | "jpeg" | "png" | "gif";
type Arg = number | string;

/**
 * Transform options by their URL names, long or short (`width` or `w`). Values are written as a URL would
 * spell them: numbers, aliases (`fit: "crop"`), `"16:9"` or `[16, 9]` for pairs, booleans for flags.
 */
/** `auto` (the default target), `auto:low`, `auto:good`, `auto:best` or `auto:{10..99}`. */
export type AutoQuality = "auto" | `auto:${string}`;

export interface TransformOptions {
  /** Pixels, or `"auto"` / `"auto:{fallback}"`: the width from client hints where the proxy honours them. */
  width?: number | "orig" | "auto" | `auto:${number}`; w?: number | "orig" | "auto" | `auto:${number}`;
  height?: number | "orig"; h?: number | "orig";
  fit?: Fit | string; rt?: string; resize?: string; resizing_type?: string;
  gravity?: string; g?: string;
  focus?: readonly [number, number] | string; fp?: readonly [number, number] | string;
  /** `[x, y, w, h]` in source px, or `[w, h]` / `[w, h, gravity]` placed by gravity (below 1: a fraction). */
  crop?: readonly Arg[] | string; c?: readonly Arg[] | string;
  aspect?: readonly [number, number] | string; ar?: readonly [number, number] | string; aspect_ratio?: readonly [number, number] | string;
  dpr?: number | "auto";
  quality?: number | AutoQuality; q?: number | AutoQuality;
  format?: Format | string; f?: Format | string; ext?: Format | string;
  blur?: number; bl?: number;
  sharpen?: number; sh?: number;
  rotate?: number; rot?: number;
  flip?: boolean; flop?: boolean;
  background?: string | readonly Arg[]; bg?: string | readonly Arg[];
  strip?: boolean; sm?: boolean; strip_metadata?: boolean;
  enlarge?: boolean; el?: boolean;
  expires?: number; exp?: number;
  preset?: string; pr?: string;
  /** `threshold` or `[threshold, "br" | "tl" | colour]`. */
  trim?: number | readonly Arg[] | string; t?: number | readonly Arg[] | string;
  extend?: boolean; ex?: boolean;
  adaptive?: boolean; ad?: boolean;
  brightness?: number; br?: number;
  contrast?: number; co?: number;
  grayscale?: boolean; gs?: boolean;
  round_corner?: number | readonly Arg[] | string; rc?: number | readonly Arg[] | string;
  /** `opacity`, or `[opacity, position, x, y, scale]` (offsets in px or `"10p"` percent). */
  watermark?: number | readonly Arg[] | string; wm?: number | readonly Arg[] | string;
  /** The mark: an asset id, or `url.` + base64url of an allowed source URL. */
  watermark_url?: string; wmu?: string;
  max_bytes?: number; mb?: number;
  flatten?: boolean; fl?: boolean;
}

export interface ParseSettings {
  /** The proxy's IMGEDGE_PRESETS, name → options (`"w:256/h:256/fit:cover"`). */
  presets?: Readonly<Record<string, string>>;
  /** The proxy's IMGEDGE_MAX_DPR. */
  maxDpr?: number;
  /** The proxy's IMGEDGE_WATERMARK: the mark of a `wm` without `wmu`. */
  defaultWatermark?: string;
}

export interface BuildOptions extends TransformOptions, ParseSettings {
  /** The signing key (server-side only); `null` gives an unsigned `/_/…` path. */
  key: Keys | null;
  /** Seconds until the URL stops working (adds `exp:`). */
  expiresIn?: number;
  /** The clock for `expiresIn`, unix seconds; default now. */
  now?: number;
  /** Option segments as a URL spells them, before the named options. */
  extra?: readonly string[];
}

export interface SrcsetOptions extends Omit<BuildOptions, "width" | "w"> {
  /** Prepended to every path, e.g. `https://img.example.com`. */
  baseUrl?: string;
}

/** The parsed options: what the proxy signs and caches by (through `canonical`). */
export interface TransformSpec {
  readonly width: number;
  readonly height: number;
  readonly fit: Fit;
  readonly gravity: string;
  readonly focus: readonly [number, number] | null;
  readonly crop: readonly [number, number, number, number] | null;
  readonly aspect: readonly [number, number] | null;
  readonly enlarge: boolean;
  readonly rotate: number;
  readonly flip: boolean;
  readonly flop: boolean;
  readonly blur: number;
  readonly sharpen: number;
  readonly background: string;
  readonly quality: number;
  readonly format: Format;
  readonly strip: boolean;
  readonly expires: number;
  readonly trim: readonly [number, string] | null;
  readonly area: { readonly width: number; readonly height: number; readonly gravity: string;
    readonly focus: readonly [number, number] | null } | null;
  readonly region: readonly [number, number, number, number] | null;
  readonly extend: boolean;
  readonly adaptive: boolean;
  readonly brightness: number;
  readonly contrast: number;
  readonly grayscale: boolean;
  readonly roundCorner: readonly [number, number, string] | null;
  readonly watermark: { readonly mark: string; readonly opacity: number; readonly position: string;
    readonly x: string; readonly y: string; readonly widthRatio: number; readonly heightRatio: number } | null;
  readonly maxBytes: number;
  readonly flatten: boolean;
  /** q:auto's perceptual target (SSIMULACRA2), 0 for a fixed quality. */
  readonly qualityTarget: number;
  readonly widthAuto: boolean;
  readonly dprAuto: boolean;
}

export declare const UNSIGNED: "_";
export declare const FITS: readonly Fit[];
export declare const FORMATS: readonly Format[];
export declare const NEXT_DEVICE_SIZES: readonly number[];
export declare const NEXT_IMAGE_SIZES: readonly number[];
export declare const NEXT_SIZES: readonly number[];
export declare const NEXT_QUALITIES: readonly number[];

/** A URL the proxy would refuse with a 400; `option` names the offending option when there is one. */
export declare class UrlError extends Error {
  readonly option: string | null;
}

/** `/{signature}/{canonical options}/{assetId}`. Throws UrlError for options the proxy would refuse. */
export declare function buildPath(assetId: string, options: BuildOptions): string;

/** What a prompt URL asks the generator for: an aspect (default 1:1) or an explicit size. */
export type Generation =
  | { prompt: string; seed: number; aspect?: "1:1" | "16:9" | "9:16" | "4:3" | "3:4" }
  | { prompt: string; seed: number; width: number; height: number };
export declare const ASPECT_SIZES: Readonly<Record<string, readonly [number, number]>>;
/** `/gen/{signature}/{options}/{width}x{height}-{seed}-{prompt}`: always signed; `key: null` is refused. */
export declare function buildPromptPath(generation: Generation, options: Omit<BuildOptions, "expiresIn" | "now">
  & { key: Keys }): string;
export declare function canonicalPrompt(prompt: string): string;
export declare function generationSegment(generation: Generation): string;
export declare function promptMessage(canonicalOptions: string, segment: string): string;
/** `url 320w, url 640w, …` with each candidate signed on its own. */
export declare function srcset(assetId: string, widths: readonly number[], options: SrcsetOptions): string;
/** Option segments (`["w:400", "rt:fill"]`) → the spec the proxy would parse. */
export declare function parseOptions(
  segments: readonly string[],
  settings?: ParseSettings & { suffixFormat?: string | null },
): TransformSpec;
/** Options in a fixed order, defaults left out: what signatures and cache keys are computed from. */
export declare function canonical(spec: TransformSpec, options?: { withExpiry?: boolean }): string;
export declare function fmtNumber(value: number): string;
/** `{ width: 400, ar: "16:9" }` → `["width:400", "ar:16:9"]`. */
export declare function segmentsOf(options: TransformOptions): string[];
export declare function signedMessage(canonicalOptions: string, assetId: string): string;
export declare function sign(keys: Keys, canonicalOptions: string, assetId: string): string;
export declare function verify(keys: Keys, canonicalOptions: string, assetId: string, signature: string): boolean;

export interface NextImageSourceOptions extends Omit<TransformOptions, "width" | "w" | "quality" | "q" | "preset" | "pr"> {
  key: Keys;
  /** The proxy's public URL, e.g. `https://img.example.com`. */
  baseUrl?: string;
  /** The widths to sign: Next.js's deviceSizes and imageSizes (default: Next's). */
  widths?: readonly number[];
  /** A quality for every width (a number or q:auto's); default: the proxy's (q:auto for f:auto). */
  quality?: number | AutoQuality;
}

/** A `src` for next/image with the imgedge loader: every width signed here, on the server. */
export declare function nextImageSource(assetId: string, options: NextImageSourceOptions): string;
