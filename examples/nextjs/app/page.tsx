// Next's default loader: every image is `${images.path}?url=/{asset id}&w=…&q=75`, answered by imgedge.
import Gallery from "./gallery";
import { recentImages } from "./images";

export const dynamic = "force-dynamic";

export default async function Page() {
  return <Gallery loader="default" images={await recentImages()} />;
}
