// Export: the drawing as a standalone SVG or PNG download.
// Styles come from CSS classes (and theme variables), so the export copies each element's computed
// presentation onto it: the file renders standalone.
import { SVG_NS, svg } from "./dom";

const INLINED_PROPERTIES = [
  "fill",
  "stroke",
  "stroke-width",
  "stroke-dasharray",
  "font-family",
  "font-size",
  "font-weight",
  "font-style",
  "text-anchor",
  "dominant-baseline",
  "white-space",
  "image-rendering",
] as const;

/** Largest PNG side and area browsers reliably give a canvas. */
const MAX_CANVAS_SIDE = 16384;
const MAX_CANVAS_AREA = 64e6;
const FILE_NAME = "autodiff-graph";

/** What an export needs: the group holding edges and nodes, the layout's size, the page background. */
export interface ExportSource {
  drawing: SVGGElement;
  width: number;
  height: number;
  background: string;
}

/** Downloads the drawing as a standalone SVG file. */
export function downloadSvg(source: ExportSource): void {
  const text = standaloneSvg(source.drawing, source.width, source.height, source.background);
  const doc = source.drawing.ownerDocument;
  downloadBlob(doc, new Blob([text], { type: "image/svg+xml" }), `${FILE_NAME}.svg`);
}

/** Downloads the drawing as a PNG file (rejects when the browser cannot rasterise it). */
export async function downloadPng(source: ExportSource): Promise<void> {
  const text = standaloneSvg(source.drawing, source.width, source.height, source.background);
  const png = await svgToPng(text, source.width, source.height);
  downloadBlob(source.drawing.ownerDocument, png, `${FILE_NAME}.png`);
}

/**
 * A standalone SVG document of `drawing` (the group holding edges and nodes) at scale 1.
 * Elements with the same tag and class share one computed style lookup.
 */
function standaloneSvg(drawing: SVGGElement, width: number, height: number, background: string): string {
  const doc = drawing.ownerDocument;
  const view = doc.defaultView ?? window;
  const clone = drawing.cloneNode(true) as SVGGElement;
  clone.removeAttribute("transform");
  const styleCache = new Map<string, string>();
  const live = doc.createTreeWalker(drawing, NodeFilter.SHOW_ELEMENT);
  const copy = doc.createTreeWalker(clone, NodeFilter.SHOW_ELEMENT);
  let source: Node | null = live.currentNode;
  let target: Node | null = copy.currentNode;
  while (source && target) {
    const element = source as Element;
    const signature = `${element.tagName}|${element.getAttribute("class") ?? ""}|${element.parentElement?.getAttribute("class") ?? ""}`;
    let style = styleCache.get(signature);
    if (style === undefined) {
      const computed = view.getComputedStyle(element);
      style = INLINED_PROPERTIES.map((name) => `${name}:${computed.getPropertyValue(name)}`).join(";");
      styleCache.set(signature, style);
    }
    (target as Element).setAttribute("style", style);
    (target as Element).removeAttribute("class");
    source = live.nextNode();
    target = copy.nextNode();
  }
  const root = svg(doc, "svg", {
    xmlns: SVG_NS,
    width: String(Math.ceil(width)),
    height: String(Math.ceil(height)),
    viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`,
  });
  root.appendChild(svg(doc, "rect", { width: "100%", height: "100%", fill: background }));
  root.appendChild(clone);
  return new XMLSerializer().serializeToString(root);
}

function downloadBlob(doc: Document, blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = doc.createElement("a");
  anchor.href = url;
  anchor.download = filename;
  anchor.style.display = "none";
  doc.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Rasterises an SVG document at up to 2x, within the canvas limits. */
async function svgToPng(svgText: string, width: number, height: number): Promise<Blob> {
  const scale = Math.min(
    2,
    MAX_CANVAS_SIDE / width,
    MAX_CANVAS_SIDE / height,
    Math.sqrt(MAX_CANVAS_AREA / (width * height)),
  );
  const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.floor(width * scale));
    canvas.height = Math.max(1, Math.floor(height * scale));
    const context = canvas.getContext("2d");
    if (!context) throw new Error("no 2D canvas context");
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("PNG encoding failed"))), "image/png"),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}
