// Server side of the next/image loader: signs every width Next.js may ask for, once, into the `src` the
// page hands to <Image>. The loader (next-loader.js) then only picks; the key stays on the server.
import { buildPath } from "./build.js";
import { parseOptions } from "./parse.js";
import { segmentsOf } from "./segments.js";
import { NEXT_SIZES } from "./next-sizes.js";

/**
 * `https://img.example.com/{assetId}#o=…&q=…&s=640.SIG,750.SIG,…` for `<Image src={…} loader={imgedgeLoader}>`
 * (or `images.loaderFile`). `options` are any transform options but width, applied to every candidate.
 */
export function nextImageSource(assetId, { key, baseUrl = "", widths = NEXT_SIZES, quality, ...options } = {}) {
  if (!key) throw new TypeError("imgedge: nextImageSource signs on the server and needs the key");
  const segments = segmentsOf(options);
  // The loader knows no presets: refuse them here, where the mistake can be seen, not in the browser.
  parseOptions([...segments, "w:1"], { presets: {} });
  const signatures = [...new Set(widths)]
    .sort((a, b) => a - b)
    .map((width) => `${width}.${buildPath(assetId, { key, extra: segments, width, quality }).split("/")[1]}`);
  const params = new URLSearchParams();
  if (segments.length) params.set("o", segments.join("/"));
  if (quality !== undefined && quality !== null) params.set("q", String(quality));
  params.set("s", signatures.join(","));
  return `${baseUrl}/${assetId}#${params}`;
}
