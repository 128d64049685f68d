"use client";
// <Image> with imgedge's loader: native signed URLs from sources the server signed (nextImageSource).
// A client component, because a loader is a function and cannot cross from the server.
import Image, { type ImageProps } from "next/image";
import imgedgeLoader from "@imgedge/client/next-loader";

export default function NativeImage(props: Omit<ImageProps, "loader">) {
  return <Image {...props} loader={imgedgeLoader} />;
}
