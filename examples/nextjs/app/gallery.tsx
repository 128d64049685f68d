// The page both loaders render: a hero image (preloaded, high priority) and one box per aspect ratio,
// each box holding its shape before the image arrives, so nothing shifts. Until an image arrives, its
// box shows imgedge's placeholder: the blurred LQIP over the image's dominant colour.
import Image, { type ImageProps } from "next/image";
import { nextImageSource } from "@imgedge/client";

import NativeImage from "./native-image";
import { ASPECTS, type Aspect, type ImageRecord, closest, proxyUrl, ratio } from "./images";

export type Loader = "default" | "native";

const HERO_SIZES = "100vw";
const BOX_SIZES = "(max-width: 640px) 50vw, 25vw";

function signingKey(): string {
  // Server-side only (never NEXT_PUBLIC_): the first of imgedge's keys signs.
  const key = (process.env.IMGEDGE_KEYS || "").split(",")[0].trim();
  if (!key) throw new Error("set IMGEDGE_KEYS to imgedge's signing key to render native URLs");
  return key;
}

type PictureProps = { via: Loader; image: ImageRecord } & Omit<ImageProps, "src" | "loader">;

function Picture({ via, image, ...props }: PictureProps) {
  const lqip = image.placeholders?.lqip;
  const blur = lqip ? { placeholder: "blur" as const, blurDataURL: lqip } : {};
  if (via === "default") return <Image src={`/${image.asset_id}`} {...blur} {...props} />;
  const src = nextImageSource(image.asset_id, { key: signingKey(), baseUrl: proxyUrl() });
  return <NativeImage src={src} {...blur} {...props} />;
}

function Box({ loader, aspect, image }: { loader: Loader; aspect: Aspect; image: ImageRecord }) {
  return (
    <figure className="box" data-aspect={aspect}>
      <div
        className="frame"
        style={{ aspectRatio: String(ratio(aspect)), backgroundColor: image.placeholders?.dominant_color }}
      >
        <Picture via={loader} image={image} alt={`${aspect} image`} fill sizes={BOX_SIZES} className="cover" />
      </div>
      <figcaption>{aspect}</figcaption>
    </figure>
  );
}

export default function Gallery({ loader, images }: { loader: Loader; images: ImageRecord[] }) {
  if (!images.length) return <p>No images yet: ingest or generate some with imgedge.</p>;
  const hero = closest(images, "16:9");
  return (
    <main>
      <h1>Generated images through imgedge ({loader === "default" ? "/_next/image" : "native URLs"})</h1>
      {/* `preload` is Next 16's name for `priority`: a <link rel=preload> and no lazy loading. */}
      <Picture
        via={loader}
        image={hero}
        alt="hero image"
        width={hero.width}
        height={hero.height}
        sizes={HERO_SIZES}
        preload
        fetchPriority="high"
        className="hero"
        data-hero
      />
      <section className="grid">
        {ASPECTS.map((aspect) => (
          <Box key={aspect} loader={loader} aspect={aspect} image={closest(images, aspect)} />
        ))}
      </section>
    </main>
  );
}
