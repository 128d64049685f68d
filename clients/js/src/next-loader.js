// A next/image loader that builds native imgedge URLs. Browser-safe: it never signs. Use it as
// `images: { loader: "custom", loaderFile: "…/next-loader.js" }` or as <Image loader={imgedgeLoader}>.
//
// - `src` from nextImageSource() (signed on the server for every width Next.js asks for):
//   `/{signature}/w:{width}/…/{assetId}`, the native URL for the requested width.
// - `src` that is just an asset id (`"3f2a…"`, `"/3f2a…"` or `"https://img.example.com/3f2a…"`): the
//   allow-listed unsigned space, imgedge's `/_next/image?url=…&w=…&q=…` (Next's sizes and qualities).
import { parseOptions } from "./parse.js";
import { canonical } from "./spec.js";

const NEXT_IMAGE_PATH = "/_next/image";
const DEFAULT_QUALITY = 75;

function publicBase() {
  try {
    // Next.js inlines NEXT_PUBLIC_* variables into browser bundles at build time.
    return process.env.NEXT_PUBLIC_IMGEDGE_URL || "";
  } catch {
    return "";
  }
}

function splitLocation(location) {
  const slash = location.lastIndexOf("/");
  const absolute = /^https?:\/\//i.test(location);
  const base = absolute ? location.slice(0, slash) : publicBase();
  return { base: base.replace(/\/+$/, ""), assetId: location.slice(slash + 1) };
}

/** The smallest signed width at least as wide as asked for, else the widest: never a smaller image. */
function signedWidth(signatures, width) {
  const widths = [...signatures.keys()].sort((a, b) => a - b);
  return widths.find((w) => w >= width) ?? widths[widths.length - 1];
}

function signedUrl(location, fragment, width) {
  const params = new URLSearchParams(fragment);
  const signatures = new Map(
    (params.get("s") || "").split(",").filter(Boolean).map((pair) => {
      const [w, signature] = pair.split(".");
      return [Number(w), signature];
    }),
  );
  if (!signatures.size) throw new Error(`imgedge: ${location} carries no signatures (use nextImageSource on the server)`);
  const chosen = signedWidth(signatures, width);
  const options = params.get("o");
  const quality = params.get("q");
  const segments = [`w:${chosen}`, ...(options ? options.split("/") : []), ...(quality ? [`q:${quality}`] : [])];
  const { base, assetId } = splitLocation(location);
  return `${base}/${signatures.get(chosen)}/${canonical(parseOptions(segments))}/${assetId}`;
}

export default function imgedgeLoader({ src, width, quality }) {
  const hash = src.indexOf("#");
  if (hash >= 0) return signedUrl(src.slice(0, hash), src.slice(hash + 1), width);
  const { base, assetId } = splitLocation(src);
  const q = quality || DEFAULT_QUALITY;
  return `${base}${NEXT_IMAGE_PATH}?url=${encodeURIComponent(`/${assetId}`)}&w=${width}&q=${q}`;
}

export { imgedgeLoader };
