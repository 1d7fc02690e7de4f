// The widget's CSS, injected once per document; font sizes and canvas heights come from shared constants.
// Light theme: DeZero's Graphviz palette (orange variables, light-blue functions). Dark theme:
// JupyterLab's own --jp-* variables, which it sets together with body[data-jp-theme-light=false].
import { FAR_CLASS } from "./draw";
import { TEXT } from "./graph";
import { INSET_OFFSET } from "./minimap";
import { ATTR, DETAIL } from "./protocol";

const STYLE_ID = "dezero-widget-style";

/**
 * The drawing area's height: renderer.ts gives it the graph's height at the default view, within
 * these bounds (px); the user can still drag it taller.
 */
export const CANVAS_HEIGHT = { min: 160, max: 520 } as const;

/** Toolbar, status line and inspector text (px); node texts take theirs from TEXT. */
const UI_FONT_SIZE = 12;

export const CSS = `
.dzw-root {
  --dzw-bg: #ffffff;
  --dzw-fg: #1f1f1f;
  --dzw-muted: #5f5f5f;
  --dzw-node-muted: #5c3610;
  --dzw-var-fill: #f0a050;
  --dzw-var-stroke: #b8702a;
  --dzw-fn-fill: #add8e6;
  --dzw-fn-stroke: #5a8fa3;
  --dzw-edge: #555555;
  --dzw-accent: #1976d2;
  --dzw-panel: #f5f5f5;
  --dzw-border: #d0d0d0;
  --dzw-font: var(--jp-ui-font-family, system-ui, sans-serif);
  --dzw-mono: var(--jp-code-font-family, ui-monospace, Menlo, Consolas, monospace);
  position: relative;
  display: flex;
  flex-direction: column;
  border: 1px solid var(--dzw-border);
  border-radius: 4px;
  background: var(--dzw-bg);
  color: var(--dzw-fg);
  font-family: var(--dzw-font);
  font-size: ${UI_FONT_SIZE}px;
}
body[data-jp-theme-light="false"] .dzw-root {
  --dzw-bg: var(--jp-layout-color0, #111111);
  --dzw-fg: var(--jp-ui-font-color0, #ffffff);
  --dzw-muted: var(--jp-ui-font-color2, #9e9e9e);
  --dzw-node-muted: var(--jp-ui-font-color2, #9e9e9e);
  --dzw-var-fill: var(--jp-layout-color2, #424242);
  --dzw-var-stroke: var(--jp-warn-color1, #ff9800);
  --dzw-fn-fill: var(--jp-layout-color1, #212121);
  --dzw-fn-stroke: var(--jp-brand-color2, #64b5f6);
  --dzw-edge: var(--jp-ui-font-color2, #9e9e9e);
  --dzw-accent: var(--jp-brand-color1, #2196f3);
  --dzw-panel: var(--jp-layout-color1, #212121);
  --dzw-border: var(--jp-border-color1, #616161);
}
.dzw-toolbar, .dzw-status {
  display: flex; align-items: center; gap: 6px; padding: 4px 6px; flex-wrap: wrap;
}
.dzw-status { min-height: 18px; padding-top: 0; color: var(--dzw-muted); }
.dzw-status .dzw-truncated { color: var(--jp-warn-color0, #b35c00); }
body[data-jp-theme-light="false"] .dzw-status .dzw-truncated { color: var(--jp-warn-color2, #ffb74d); }
.dzw-status .dzw-error { color: var(--jp-error-color1, #d32f2f); }
body[data-jp-theme-light="false"] .dzw-status .dzw-error { color: var(--jp-error-color2, #e57373); }
.dzw-spacer { flex: 1; }
.dzw-root button, .dzw-root select {
  font: inherit; color: var(--dzw-fg); background: var(--dzw-panel);
  border: 1px solid var(--dzw-border); border-radius: 3px; padding: 2px 8px; cursor: pointer;
}
.dzw-root button:disabled { opacity: 0.45; cursor: not-allowed; }
.dzw-body { position: relative; height: ${CANVAS_HEIGHT.max}px; min-height: 120px; resize: vertical; overflow: hidden;
  border-top: 1px solid var(--dzw-border); }
.dzw-root[${ATTR.wheelZoom}="on"] .dzw-body { box-shadow: inset 0 0 0 2px var(--dzw-accent); }
.dzw-canvas { display: block; width: 100%; height: 100%; cursor: grab; touch-action: pan-y; user-select: none; }
.dzw-canvas.dzw-panning { cursor: grabbing; }
.dzw-node { cursor: pointer; }
.dzw-var .dzw-shape { fill: var(--dzw-var-fill); stroke: var(--dzw-var-stroke); stroke-width: 1.2; }
.dzw-fn .dzw-shape { fill: var(--dzw-fn-fill); stroke: var(--dzw-fn-stroke); stroke-width: 1.2; }
.dzw-sub-grad .dzw-shape { stroke-dasharray: 5 3; stroke-width: 1.6; }
.dzw-selected .dzw-shape { stroke: var(--dzw-accent); stroke-width: 3; }
.dzw-label { font-family: var(--dzw-font); font-size: ${TEXT.labelSize}px; font-weight: 600; fill: var(--dzw-fg);
  text-anchor: middle; dominant-baseline: central; }
.dzw-head { font-family: var(--dzw-font); font-size: ${TEXT.labelSize}px; fill: var(--dzw-fg);
  text-anchor: middle; dominant-baseline: central; white-space: pre; }
.dzw-head .dzw-derived { font-style: italic; font-weight: 500; }
.dzw-detail { font-size: ${TEXT.detailSize}px; fill: var(--dzw-node-muted); }
.dzw-value { font-family: var(--dzw-mono); font-size: ${TEXT.valueSize}px; fill: var(--dzw-fg);
  text-anchor: middle; dominant-baseline: central; white-space: pre; }
.dzw-key { fill: var(--dzw-node-muted); }
.dzw-thumb { image-rendering: pixelated; }
.dzw-tag { font-family: var(--dzw-font); font-size: 10px; font-style: italic; fill: var(--dzw-muted);
  text-anchor: middle; }
.dzw-root[${ATTR.detail}="${DETAIL.shapes}"] .dzw-node text,
.dzw-root[${ATTR.detail}="${DETAIL.shapes}"] .dzw-node image,
.${FAR_CLASS} text, .${FAR_CLASS} image { display: none; }
.dzw-minimap { position: absolute; left: ${INSET_OFFSET}px; bottom: ${INSET_OFFSET}px; line-height: 0; cursor: crosshair; opacity: 0.94;
  background: var(--dzw-bg); border: 1px solid var(--dzw-border); border-radius: 3px; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.2); }
.dzw-minimap[hidden] { display: none; }
.dzw-minimap svg { display: block; touch-action: none; }
.dzw-minimap-var { fill: var(--dzw-var-stroke); }
.dzw-minimap-fn { fill: var(--dzw-fn-stroke); }
.dzw-minimap-view { fill: var(--dzw-accent); fill-opacity: 0.12; stroke: var(--dzw-accent); stroke-width: 1.5; }
.dzw-hint { position: absolute; top: 8px; left: 50%; transform: translateX(-50%); pointer-events: none;
  padding: 4px 10px; border-radius: 4px; background: rgba(0, 0, 0, 0.75); color: #ffffff; }
.dzw-hint[hidden] { display: none; }
.dzw-body { order: 2; }
.dzw-history { order: 1; display: flex; align-items: center; flex-wrap: wrap; gap: 4px 12px; padding: 0 6px 6px; }
.dzw-history[hidden] { display: none; }
.dzw-history-caption { font-weight: 600; font-variant-numeric: tabular-nums; }
.dzw-history-chart { display: block; overflow: visible; }
.dzw-history-axis { fill: none; stroke: var(--dzw-border); stroke-width: 1; }
.dzw-history-line { fill: none; stroke: var(--dzw-accent); stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
.dzw-history-newest { fill: var(--dzw-accent); }
.dzw-history-label { font-family: var(--dzw-font); font-size: 10px; fill: var(--dzw-muted); }
.dzw-edge { fill: none; stroke: var(--dzw-edge); stroke-width: 1.2; }
.dzw-arrow { fill: var(--dzw-edge); stroke: none; }
.dzw-edge-hl { fill: none; stroke: var(--dzw-accent); stroke-width: 2.4; }
.dzw-arrow-hl { fill: var(--dzw-accent); stroke: none; }
.dzw-inspector {
  position: absolute; top: 8px; right: 8px; width: 280px; max-height: calc(100% - 16px); overflow: auto;
  background: var(--dzw-panel); border: 1px solid var(--dzw-border); border-radius: 4px; padding: 6px 8px;
  box-shadow: 0 2px 6px rgba(0, 0, 0, 0.2);
}
.dzw-inspector[hidden] { display: none; }
.dzw-inspector h4 { margin: 0 0 4px; font-size: 13px; display: flex; justify-content: space-between; }
.dzw-inspector h5 { margin: 6px 0 2px; font-size: ${UI_FONT_SIZE}px; }
.dzw-inspector table { border-collapse: collapse; width: 100%; }
.dzw-inspector td { padding: 1px 4px; vertical-align: top; }
.dzw-inspector td:first-child { color: var(--dzw-muted); white-space: nowrap; }
.dzw-inspector td:last-child { font-family: var(--dzw-mono); white-space: pre-wrap; word-break: break-all; }
.dzw-inspector button { padding: 0 6px; }
.dzw-heatmap { margin: 2px 0 4px; }
.dzw-heatmap img { display: block; image-rendering: pixelated; border: 1px solid var(--dzw-border); }
.dzw-heatmap figcaption { margin-top: 2px; color: var(--dzw-muted); white-space: pre-line; }
`;

export function ensureStyles(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.appendChild(style);
}
