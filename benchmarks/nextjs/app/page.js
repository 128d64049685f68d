// Nothing to see: the benchmark only calls the image optimizer at /_next/image.
export default function Page() {
  return <p>imgedge benchmark peer</p>;
}
