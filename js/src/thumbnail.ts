// Heatmap thumbnails: a Thumbnail's cells (one byte each, base64) -> colours -> a tiny BMP data URL.
// One <image> per thumbnail, not one <rect> per cell: 2,000 array nodes would otherwise add a million
// elements. Identical thumbnails (a grad of ones, a zero init) share one cached URL.
import { THUMBNAIL_CODE, type Thumbnail } from "./protocol";

/** The colour scale of a thumbnail: sequential for data, diverging (zero in the middle) for grads. */
export type Palette = "sequential" | "diverging";

/** Colours of the cells past the scale, outside both palettes. */
export const SPECIAL_COLOURS = { nan: "#ff00ff", posinf: "#000000", neginf: "#808080" } as const;

/** viridis at 0, 0.1, ..., 1: dark purple (low) to yellow (high), perceptually even. */
const SEQUENTIAL_STOPS = [
  "#440154",
  "#482475",
  "#414487",
  "#355f8d",
  "#2a788e",
  "#21918c",
  "#22a884",
  "#44bf70",
  "#7ad151",
  "#bddf26",
  "#fde725",
];
/** ColorBrewer RdBu reversed at 0, 0.1, ..., 1: blue (negative), near white (zero), red (positive). */
const DIVERGING_STOPS = [
  "#053061",
  "#2166ac",
  "#4393c3",
  "#92c5de",
  "#d1e5f0",
  "#f7f7f7",
  "#fddbc7",
  "#f4a582",
  "#d6604d",
  "#b2182b",
  "#67001f",
];

type Rgb = [number, number, number];

function parseHex(hex: string): Rgb {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** Per byte 0..255, its colour: the scale for 0..levels, the special colours, grey for unused bytes. */
function lookupTable(stops: readonly string[]): Uint8Array {
  const table = new Uint8Array(256 * 3).fill(128);
  const rgb = stops.map(parseHex);
  const segments = rgb.length - 1;
  for (let code = 0; code <= THUMBNAIL_CODE.levels; code++) {
    const position = (code / THUMBNAIL_CODE.levels) * segments;
    const k = Math.min(segments - 1, Math.floor(position));
    const t = position - k;
    for (let c = 0; c < 3; c++) table[code * 3 + c] = Math.round(rgb[k][c] * (1 - t) + rgb[k + 1][c] * t);
  }
  const specials: Array<[number, string]> = [
    [THUMBNAIL_CODE.nan, SPECIAL_COLOURS.nan],
    [THUMBNAIL_CODE.posinf, SPECIAL_COLOURS.posinf],
    [THUMBNAIL_CODE.neginf, SPECIAL_COLOURS.neginf],
  ];
  for (const [code, hex] of specials) table.set(parseHex(hex), code * 3);
  return table;
}

const tables: Partial<Record<Palette, Uint8Array>> = {};
function tableOf(palette: Palette): Uint8Array {
  tables[palette] ??= lookupTable(palette === "diverging" ? DIVERGING_STOPS : SEQUENTIAL_STOPS);
  return tables[palette];
}

/** The cells' bytes, row-major. */
export function decodeCells(cells: string): Uint8Array {
  const text = atob(cells);
  const bytes = new Uint8Array(text.length);
  for (let k = 0; k < text.length; k++) bytes[k] = text.charCodeAt(k);
  return bytes;
}

/** The colour of one cell's byte, as #rrggbb. */
export function cellColour(code: number, palette: Palette): string {
  const table = tableOf(palette);
  const hex = (c: number) => table[code * 3 + c].toString(16).padStart(2, "0");
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}

/** The value a cell's byte stands for: lo..hi for the scale, NaN and the infinities for the codes. */
export function cellValue(code: number, lo: number, hi: number): number {
  if (code === THUMBNAIL_CODE.nan) return Number.NaN;
  if (code === THUMBNAIL_CODE.posinf) return Number.POSITIVE_INFINITY;
  if (code === THUMBNAIL_CODE.neginf) return Number.NEGATIVE_INFINITY;
  return lo + ((hi - lo) * code) / THUMBNAIL_CODE.levels;
}

/**
 * A 24-bit BMP of the cells, one pixel each (rows stored bottom-up, each padded to 4 bytes): the
 * simplest image format every browser decodes, built without a canvas.
 */
export function bitmap(thumbnail: Thumbnail, palette: Palette): Uint8Array {
  const { rows, cols } = thumbnail;
  const cells = decodeCells(thumbnail.cells);
  const table = tableOf(palette);
  const stride = (cols * 3 + 3) & ~3;
  const header = 54;
  const size = header + stride * rows;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes[0] = 0x42; // "BM"
  bytes[1] = 0x4d;
  view.setUint32(2, size, true);
  view.setUint32(10, header, true);
  view.setUint32(14, 40, true); // BITMAPINFOHEADER
  view.setInt32(18, cols, true);
  view.setInt32(22, rows, true);
  view.setUint16(26, 1, true); // planes
  view.setUint16(28, 24, true); // bits per pixel
  view.setUint32(34, stride * rows, true);
  for (let r = 0; r < rows; r++) {
    let at = header + (rows - 1 - r) * stride;
    for (let c = 0; c < cols; c++) {
      const code = cells[r * cols + c] ?? THUMBNAIL_CODE.nan;
      bytes[at++] = table[code * 3 + 2]; // BMP pixels are blue, green, red
      bytes[at++] = table[code * 3 + 1];
      bytes[at++] = table[code * 3];
    }
  }
  return bytes;
}

const URL_CACHE_LIMIT = 4096;
const urlCache = new Map<string, string>();

/** The thumbnail as a data URL for an SVG <image>, cached by its cells and palette. */
export function thumbnailUrl(thumbnail: Thumbnail, palette: Palette): string {
  const key = `${palette}${thumbnail.rows}x${thumbnail.cols}:${thumbnail.cells}`;
  let url = urlCache.get(key);
  if (url === undefined) {
    const bytes = bitmap(thumbnail, palette);
    let text = "";
    for (let k = 0; k < bytes.length; k += 4096) text += String.fromCharCode(...bytes.subarray(k, k + 4096));
    url = `data:image/bmp;base64,${btoa(text)}`;
    if (urlCache.size >= URL_CACHE_LIMIT) urlCache.clear();
    urlCache.set(key, url);
  }
  return url;
}

/** Longest side of a thumbnail in a node (px); the shorter side keeps the grid's proportions. */
export const THUMB_SIDE = 30;
/** Shortest side, so a 1 x n or n x 1 strip stays visible. */
const THUMB_MIN_SIDE = 8;

/** The size a thumbnail is drawn at in a node. */
export function thumbnailSize(thumbnail: Pick<Thumbnail, "rows" | "cols">): { width: number; height: number } {
  const { rows, cols } = thumbnail;
  const long = Math.max(rows, cols, 1);
  return {
    width: Math.max(THUMB_MIN_SIDE, Math.round((THUMB_SIDE * cols) / long)),
    height: Math.max(THUMB_MIN_SIDE, Math.round((THUMB_SIDE * rows) / long)),
  };
}
