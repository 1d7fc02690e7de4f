// Edge geometry: path data of every edge and arrowhead, computed in the worker along with the layout.
// Pure, so the main thread only sets a few `d` attributes and recomputes single edges for highlighting.
import { computeLayout, type LayoutInput, type LayoutResult } from "./layout";

const ARROW_LENGTH = 7;
const ARROW_HALF_WIDTH = 3.5;
/** Edges per <path> element: few elements to style, yet no single giant attribute. */
export const EDGES_PER_PATH = 2000;

export interface RoutedLayout extends LayoutResult {
  /** Path data of edges (curves) and of their arrowheads, EDGES_PER_PATH edges per string. */
  edgePaths: string[];
  arrowPaths: string[];
}

export interface EdgeShape {
  path: string;
  arrow: string;
}

const f = (v: number) => v.toFixed(1);

/** Each edge's place among the edges entering its target, so parallel edges fan out. */
export function edgeSlots(input: LayoutInput): { slot: Int32Array; inCount: Int32Array } {
  const count = input.width.length;
  const inCount = new Int32Array(count);
  const slot = new Int32Array(input.edgeTarget.length);
  for (let e = 0; e < input.edgeTarget.length; e++) slot[e] = inCount[input.edgeTarget[e]]++;
  return { slot, inCount };
}

/** Ends on the node outlines: from the source's far side to the target's near side. */
export function edgeShape(
  input: LayoutInput,
  layout: LayoutResult,
  e: number,
  slots: { slot: Int32Array; inCount: Int32Array },
): EdgeShape {
  const s = input.edgeSource[e];
  const t = input.edgeTarget[e];
  const horizontal = input.direction === "LR";
  const side = horizontal ? input.height[t] : input.width[t];
  const spread = Math.min(10, side / (slots.inCount[t] + 1)) * (input.isFunction[t] ? 1 : 0.5);
  const offset = (slots.slot[e] - (slots.inCount[t] - 1) / 2) * spread;
  const sx = horizontal ? layout.x[s] + input.width[s] / 2 : layout.x[s];
  const sy = horizontal ? layout.y[s] : layout.y[s] + input.height[s] / 2;
  const tipX = horizontal ? layout.x[t] - input.width[t] / 2 : layout.x[t] + offset;
  const tipY = horizontal ? layout.y[t] + offset : layout.y[t] - input.height[t] / 2;
  const bends = layout.bends?.[e] ?? null;
  let dirX = horizontal ? 1 : 0;
  let dirY = horizontal ? 0 : 1;
  if (bends && bends.length >= 4) {
    const lastX = bends[bends.length - 2];
    const lastY = bends[bends.length - 1];
    const length = Math.hypot(tipX - lastX, tipY - lastY) || 1;
    dirX = (tipX - lastX) / length;
    dirY = (tipY - lastY) / length;
  }
  const ex = tipX - dirX * ARROW_LENGTH;
  const ey = tipY - dirY * ARROW_LENGTH;
  let path: string;
  if (bends && bends.length >= 4) {
    path = smoothPath([sx, sy, ...bends, ex, ey]);
  } else if (horizontal) {
    const bend = (ex - sx) / 2;
    path = `M${f(sx)},${f(sy)}C${f(sx + bend)},${f(sy)} ${f(ex - bend)},${f(ey)} ${f(ex)},${f(ey)}`;
  } else {
    const bend = (ey - sy) / 2;
    path = `M${f(sx)},${f(sy)}C${f(sx)},${f(sy + bend)} ${f(ex)},${f(ey - bend)} ${f(ex)},${f(ey)}`;
  }
  const arrow =
    `M${f(tipX)},${f(tipY)}L${f(ex - dirY * ARROW_HALF_WIDTH)},${f(ey + dirX * ARROW_HALF_WIDTH)}` +
    `L${f(ex + dirY * ARROW_HALF_WIDTH)},${f(ey - dirX * ARROW_HALF_WIDTH)}Z`;
  return { path, arrow };
}

/** A curve through the midpoints between bend points, touching both ends. */
export function smoothPath(points: number[]): string {
  let d = `M${f(points[0])},${f(points[1])}`;
  const last = points.length / 2 - 1;
  for (let k = 1; k < last; k++) {
    const x = points[2 * k];
    const y = points[2 * k + 1];
    const endX = k === last - 1 ? points[2 * last] : (x + points[2 * k + 2]) / 2;
    const endY = k === last - 1 ? points[2 * last + 1] : (y + points[2 * k + 3]) / 2;
    d += `Q${f(x)},${f(y)} ${f(endX)},${f(endY)}`;
  }
  if (last === 1) d += `L${f(points[2])},${f(points[3])}`;
  return d;
}

/** Positions plus the edges' path data: everything the page needs to draw. */
export function layoutAndRoute(input: LayoutInput): RoutedLayout {
  const layout = computeLayout(input);
  const slots = edgeSlots(input);
  const edgePaths: string[] = [];
  const arrowPaths: string[] = [];
  for (let start = 0; start < input.edgeSource.length; start += EDGES_PER_PATH) {
    const end = Math.min(start + EDGES_PER_PATH, input.edgeSource.length);
    const paths: string[] = [];
    const arrows: string[] = [];
    for (let e = start; e < end; e++) {
      const shape = edgeShape(input, layout, e, slots);
      paths.push(shape.path);
      arrows.push(shape.arrow);
    }
    edgePaths.push(paths.join(""));
    arrowPaths.push(arrows.join(""));
  }
  return { ...layout, edgePaths, arrowPaths };
}
