// The widget's CSS, injected once per document; font sizes and canvas heights come from shared constants.
// Light theme: DeZero's Graphviz palette (orange variables, light-blue functions). Dark theme:
// JupyterLab's own --jp-* variables, which it sets together with body[data-jp-theme-light=false].
import { FAR_CLASS, NONE_CLASS } from "./draw";
import { TEXT } from "./graph";
import { LAYER_CSS } from "./layers";
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

/** Issue 11: stepping through backward, accumulation, None vs 0, checks, predict mode, grad graph. */
const BACKWARD_CSS = `
.dzw-root {
  --dzw-active: #d81b60;
  --dzw-active-fill: #ffd6e5;
  --dzw-flash: #ffb300;
  --dzw-ok: #2e7d32;
  --dzw-ok-bg: rgba(46, 125, 50, 0.12);
  --dzw-bad: #c62828;
  --dzw-bad-bg: rgba(198, 40, 40, 0.1);
  --dzw-note-bg: rgba(255, 179, 0, 0.16);
  --dzw-grad-var-fill: #f3e5f5;
  --dzw-grad-fn-fill: #e1f5fe;
  --dzw-grad-stroke: #8e24aa;
}
body[data-jp-theme-light="false"] .dzw-root {
  --dzw-active: #f06292;
  --dzw-active-fill: #5c2a3e;
  --dzw-ok: #81c784;
  --dzw-ok-bg: rgba(129, 199, 132, 0.15);
  --dzw-bad: #e57373;
  --dzw-bad-bg: rgba(229, 115, 115, 0.15);
  --dzw-note-bg: rgba(255, 179, 0, 0.18);
  --dzw-grad-var-fill: #3e2a45;
  --dzw-grad-fn-fill: #1f3440;
  --dzw-grad-stroke: #ce93d8;
}
.dzw-root:focus { outline: none; }
.dzw-root:focus-visible { outline: 2px solid var(--dzw-accent); outline-offset: 1px; }
.dzw-root button[aria-pressed="true"] { background: var(--dzw-accent); border-color: var(--dzw-accent); color: #ffffff; }
.dzw-stepbar { display: flex; align-items: center; gap: 6px; padding: 0 6px 4px; flex-wrap: wrap; }
.dzw-stepbar[hidden], .dzw-accumulated[hidden] { display: none; }
.dzw-stepbar-title { color: var(--dzw-muted); }
.dzw-stepbar input[type="range"] { width: 180px; margin: 0; accent-color: var(--dzw-active); }
.dzw-step { font-weight: 600; font-variant-numeric: tabular-nums; }
.dzw-accumulated { margin: 0 6px 6px; padding: 3px 8px; border-left: 3px solid var(--dzw-flash);
  background: var(--dzw-note-bg); border-radius: 2px; }
.dzw-node[${ATTR.nodeState}="active"] > .dzw-shape { stroke: var(--dzw-active); stroke-width: 3.5; }
.dzw-fn[${ATTR.nodeState}="active"] > .dzw-shape { fill: var(--dzw-active-fill); }
.dzw-edge-active { fill: none; stroke: var(--dzw-active); stroke-width: 2.6; }
.dzw-arrow-active { fill: var(--dzw-active); stroke: none; }
.dzw-edge-grad rect { fill: var(--dzw-bg); stroke: var(--dzw-active); stroke-width: 1.2; }
.dzw-edge-grad text { font-family: var(--dzw-mono); font-size: 10px; fill: var(--dzw-fg); text-anchor: middle;
  dominant-baseline: central; white-space: pre; }
.dzw-value .${NONE_CLASS} { fill: var(--dzw-muted); font-style: italic; }
.dzw-none-pill { fill: none; stroke: var(--dzw-node-muted); stroke-width: 1; stroke-dasharray: 3 2; }
.${FAR_CLASS} .dzw-none-pill, .${FAR_CLASS} .dzw-badge,
.dzw-root[${ATTR.detail}="${DETAIL.shapes}"] .dzw-none-pill { display: none; }
.dzw-stepping [${ATTR.of}="grad"] { opacity: 0.25; }
.dzw-predicting [${ATTR.of}="grad"] { visibility: hidden; }
@keyframes dzw-shape-a { 0%, 35% { stroke: var(--dzw-flash); stroke-width: 5; } }
@keyframes dzw-shape-b { 0%, 35% { stroke: var(--dzw-flash); stroke-width: 5; } }
@keyframes dzw-value-a { 0%, 35% { fill: var(--dzw-active); } }
@keyframes dzw-value-b { 0%, 35% { fill: var(--dzw-active); } }
.dzw-flash-a > .dzw-shape { animation: dzw-shape-a 1.8s ease-out; }
.dzw-flash-b > .dzw-shape { animation: dzw-shape-b 1.8s ease-out; }
.dzw-flash-a .dzw-changed { animation: dzw-value-a 1.8s ease-out; }
.dzw-flash-b .dzw-changed { animation: dzw-value-b 1.8s ease-out; }
@media (prefers-reduced-motion: reduce) {
  .dzw-flash-a > .dzw-shape, .dzw-flash-b > .dzw-shape, .dzw-flash-a .dzw-changed, .dzw-flash-b .dzw-changed { animation: none; }
}
.dzw-sub-grad.dzw-var > .dzw-shape { fill: var(--dzw-grad-var-fill); stroke: var(--dzw-grad-stroke); }
.dzw-sub-grad.dzw-fn > .dzw-shape { fill: var(--dzw-grad-fn-fill); stroke: var(--dzw-grad-stroke); }
.dzw-grad-link { fill: none; stroke: var(--dzw-grad-stroke); stroke-width: 1.4; stroke-dasharray: 5 3; }
.dzw-grad-link-label { font-family: var(--dzw-font); font-size: 10px; font-style: italic; fill: var(--dzw-grad-stroke);
  text-anchor: middle; }
.dzw-badge circle { stroke: var(--dzw-bg); stroke-width: 1.5; }
.dzw-badge-pass circle { fill: var(--dzw-ok); }
.dzw-badge-fail circle { fill: var(--dzw-bad); }
.dzw-badge text { font-family: var(--dzw-font); font-size: 11px; font-weight: 700; fill: #ffffff; text-anchor: middle;
  dominant-baseline: central; }
.dzw-guess-box { overflow: visible; }
.dzw-guess-box input { box-sizing: border-box; width: 100%; height: 100%; margin: 0; padding: 0 3px;
  font-family: var(--dzw-mono); font-size: 11px; text-align: center; color: var(--dzw-fg); background: var(--dzw-bg);
  border: 1px solid var(--dzw-accent); border-radius: 3px; }
.dzw-guess-box input.dzw-guess-right { border: 2px solid var(--dzw-ok); background: var(--dzw-ok-bg); }
.dzw-guess-box input.dzw-guess-wrong { border: 2px solid var(--dzw-bad); background: var(--dzw-bad-bg); }
.dzw-node[${ATTR.guess}="right"] > .dzw-shape { stroke: var(--dzw-ok); stroke-width: 3; }
.dzw-node[${ATTR.guess}="wrong"] > .dzw-shape { stroke: var(--dzw-bad); stroke-width: 3; }
.dzw-contrib-line { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 2px 6px; }
.dzw-contrib-line > div { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 2px 6px; }
.dzw-term { display: inline-flex; flex-direction: column; align-items: center; }
.dzw-term-value, .dzw-term-total { font-family: var(--dzw-mono); }
.dzw-term-from { font-size: 10px; color: var(--dzw-muted); white-space: nowrap; }
.dzw-term-later { opacity: 0.4; }
.dzw-check { margin-top: 6px; }
.dzw-inspector .dzw-check button { padding: 1px 8px; }
.dzw-check-result { margin-top: 4px; padding: 3px 6px; border-radius: 3px; }
.dzw-check-verdict { font-weight: 600; }
.dzw-check-pass { background: var(--dzw-ok-bg); }
.dzw-check-pass .dzw-check-verdict { color: var(--dzw-ok); }
.dzw-check-fail .dzw-check-verdict { color: var(--dzw-bad); }
.dzw-check-fail { background: var(--dzw-bad-bg); }
.dzw-note { margin: 4px 0; color: var(--dzw-muted); font-style: italic; }
`;

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
  position: absolute; top: ${INSET_OFFSET}px; right: ${INSET_OFFSET}px; width: 280px;
  max-height: calc(100% - ${2 * INSET_OFFSET}px); overflow: auto;
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
${BACKWARD_CSS}${LAYER_CSS}`;

export function ensureStyles(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.appendChild(style);
}
