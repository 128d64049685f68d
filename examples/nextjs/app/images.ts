// What the page shows comes from imgedge at request time: the generator's list of approved images.
export interface ImageRecord {
  asset_id: string;
  width: number;
  height: number;
  bytes: number;
  /** What imgedge computed for the asset: a tiny blurred image (a data: URL) and its dominant colour. */
  placeholders?: { lqip: string; dominant_color: string } | null;
}

export const ASPECTS = ["1:1", "16:9", "9:16", "4:3"] as const;
export type Aspect = (typeof ASPECTS)[number];

export function ratio(aspect: Aspect): number {
  const [a, b] = aspect.split(":").map(Number);
  return a / b;
}

export async function recentImages(): Promise<ImageRecord[]> {
  const api = process.env.GENERATOR_URL || "http://127.0.0.1:8081";
  const response = await fetch(`${api.replace(/\/+$/, "")}/v1/images?limit=24`, { cache: "no-store" });
  if (!response.ok) throw new Error(`imgedge generator: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { images: ImageRecord[] };
  return body.images;
}

/** The image whose shape is closest to the aspect ratio (each box crops with object-fit: cover). */
export function closest(images: ImageRecord[], aspect: Aspect): ImageRecord {
  const target = Math.log(ratio(aspect));
  const distance = (image: ImageRecord) => Math.abs(Math.log(image.width / image.height) - target);
  return images.reduce((best, image) => (distance(image) < distance(best) ? image : best));
}

/** The proxy's public URL, as next.config.mjs points images.path at it. */
export function proxyUrl(): string {
  return (process.env.NEXT_PUBLIC_IMGEDGE_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
}
