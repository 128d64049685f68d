// The image optimizer on local originals under public/bench (copied there by the benchmark), with the
// widths, qualities and formats the benchmark asks for. Everything else is Next.js' default.
/** @type {import('next').NextConfig} */
const config = {
  images: {
    // Unique variants for the uncached workloads carry a `?v=N` query; no `search` means any query.
    localPatterns: [{ pathname: "/bench/**" }],
    imageSizes: [16, 32, 48, 64, 96, 128, 256, 384, 400],
    qualities: [55, 75, 80],
    formats: ["image/avif", "image/webp"],
  },
};

export default config;
