// imgedge answers Next.js's image API, so the default loader only needs to be pointed at it:
// `images.path` is the five-line configuration the README shows. The sizes and qualities stay Next's
// defaults, which imgedge's IMGEDGE_NEXT_IMAGE_SIZES and IMGEDGE_NEXT_IMAGE_QUALITIES mirror.
import { fileURLToPath } from "node:url";

const imgedge = (process.env.NEXT_PUBLIC_IMGEDGE_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");

/** @type {import("next").NextConfig} */
const nextConfig = {
  images: {
    path: `${imgedge}/_next/image`,
  },
  // The client package lives in this repository (clients/js), outside the app's own directory.
  turbopack: { root: fileURLToPath(new URL("../..", import.meta.url)) },
  poweredByHeader: false,
};

export default nextConfig;
