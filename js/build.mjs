// Build: bundles the widget into ../dezero_widget/static/widget.js, one file.
// The layout worker is bundled first, to a string, and injected as __LAYOUT_WORKER_SOURCE__.

import { fileURLToPath } from "node:url";
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

await esbuild.build({
  entryPoints: [here("./src/widget.ts")],
  outfile: here("../dezero_widget/static/widget.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  define: { __LAYOUT_WORKER_SOURCE__: JSON.stringify(worker.outputFiles[0].text) },
  logLevel: "info",
});
