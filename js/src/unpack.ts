// The module anywidget loads: the widget's own module (widget.ts), gzipped and base64-encoded by
// build.mjs. Every widget's opening message carries this text, and a notebook saved with widget
// state keeps it once per widget: packed it is under half the bytes, and the kernel's JSON
// encoder has no quotes or backslashes to escape in it (a quarter of the time).
import type { AnyWidget } from "@anywidget/types";
import type { ModelState } from "./protocol";

declare const __PACKED_WIDGET__: string;

async function unpack(packed: string): Promise<AnyWidget<ModelState>> {
  const bytes = Uint8Array.from(atob(packed), (char) => char.charCodeAt(0));
  const source = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const url = URL.createObjectURL(new Blob([await new Response(source).text()], { type: "text/javascript" }));
  try {
    return (await import(url)).default;
  } finally {
    URL.revokeObjectURL(url);
  }
}

export default await unpack(__PACKED_WIDGET__);
