// imgedge's loader: native signed URLs, signed here on the server for every width Next may ask for.
import Gallery from "../gallery";
import { recentImages } from "../images";

export const dynamic = "force-dynamic";

export default async function Page() {
  return <Gallery loader="native" images={await recentImages()} />;
}
