// Build: bundles the widget into ../dezero_widget/static/widget.js, one file.
// The layout worker is bundled first, to a string, and injected as __LAYOUT_WORKER_SOURCE__;
// the widget's module is bundled next, also to a string, and shipped gzipped inside a small
// module that unpacks it in the browser (src/unpack.ts, __PACKED_WIDGET__).

import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

const worker = await esbuild.build({
  entryPoints: [here("./src/layoutWorker.ts")],
  bundle: true,
  format: "iife",
  minify: true,
  write: false,
  target: "es2020",
});

const widget = await esbuild.build({
  entryPoints: [here("./src/widget.ts")],
  bundle: true,
  format: "esm",
  minify: true,
  write: false,
  target: "es2020",
  define: { __LAYOUT_WORKER_SOURCE__: JSON.stringify(worker.outputFiles[0].text) },
});

const packed = gzipSync(widget.outputFiles[0].contents, { level: 9 }).toString("base64");
await esbuild.build({
  entryPoints: [here("./src/unpack.ts")],
  outfile: here("../dezero_widget/static/widget.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022", // (top-level await)
  define: { __PACKED_WIDGET__: JSON.stringify(packed) },
  logLevel: "info",
});
