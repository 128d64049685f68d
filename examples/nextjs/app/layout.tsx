import type { ReactNode } from "react";

import { proxyUrl } from "./images";
import "./globals.css";

export const metadata = { title: "imgedge + Next.js" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        {/* Images come from another origin: open the connection while the HTML is still arriving. */}
        <link rel="preconnect" href={proxyUrl()} />
      </head>
      <body>{children}</body>
    </html>
  );
}
