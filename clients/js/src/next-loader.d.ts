export interface ImageLoaderProps {
  src: string;
  width: number;
  quality?: number;
}

/** next/image loader: native signed imgedge URLs for sources from nextImageSource, else /_next/image. */
export default function imgedgeLoader(props: ImageLoaderProps): string;
export { imgedgeLoader };
