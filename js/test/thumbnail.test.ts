// Unit tests of thumbnail.ts: decoding a Thumbnail's cells, their colours, the bitmap and its size.
import { describe, expect, it } from "vitest";
import { THUMBNAIL_CODE, type Thumbnail } from "../src/protocol";
import {
  bitmap,
  cellColour,
  cellValue,
  decodeCells,
  SPECIAL_COLOURS,
  thumbnailSize,
  thumbnailUrl,
} from "../src/thumbnail";
import { arraySummary } from "./fixtures";

const cells = (...codes: number[]) => btoa(String.fromCharCode(...codes));

describe("thumbnail cells", () => {
  it("decodes the base64 bytes in row-major order", () => {
    expect(Array.from(decodeCells(cells(0, 125, 250, 251, 252, 253)))).toEqual([0, 125, 250, 251, 252, 253]);
    const { thumbnail } = arraySummary([2, 2], [1, 2, 3, 4]);
    expect(Array.from(decodeCells(thumbnail!.cells))).toEqual([0, 83, 167, 250]);
  });

  it("maps the scale onto lo..hi and the codes past it onto NaN and the infinities", () => {
    expect(cellValue(0, -2, 2)).toBe(-2);
    expect(cellValue(125, -2, 2)).toBe(0);
    expect(cellValue(250, -2, 2)).toBe(2);
    expect(cellValue(THUMBNAIL_CODE.nan, -2, 2)).toBeNaN();
    expect(cellValue(THUMBNAIL_CODE.posinf, -2, 2)).toBe(Number.POSITIVE_INFINITY);
    expect(cellValue(THUMBNAIL_CODE.neginf, -2, 2)).toBe(Number.NEGATIVE_INFINITY);
  });

  it("colours data on a sequential scale and grads on a diverging one, zero near white", () => {
    expect(cellColour(0, "sequential")).toBe("#440154");
    expect(cellColour(250, "sequential")).toBe("#fde725");
    expect(cellColour(0, "diverging")).toBe("#053061");
    expect(cellColour(125, "diverging")).toBe("#f7f7f7");
    expect(cellColour(250, "diverging")).toBe("#67001f");
    // Sequential: brighter as values grow.
    const luminance = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((k) => Number.parseInt(hex.slice(k, k + 2), 16));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ramp = [0, 50, 100, 150, 200, 250].map((code) => luminance(cellColour(code, "sequential")));
    expect(ramp).toEqual([...ramp].sort((a, b) => a - b));
  });

  it("gives NaN, +Inf and -Inf colours of their own, in both palettes", () => {
    for (const palette of ["sequential", "diverging"] as const) {
      expect(cellColour(THUMBNAIL_CODE.nan, palette)).toBe(SPECIAL_COLOURS.nan);
      expect(cellColour(THUMBNAIL_CODE.posinf, palette)).toBe(SPECIAL_COLOURS.posinf);
      expect(cellColour(THUMBNAIL_CODE.neginf, palette)).toBe(SPECIAL_COLOURS.neginf);
      const scale = new Set(Array.from({ length: 251 }, (_, code) => cellColour(code, palette)));
      for (const special of Object.values(SPECIAL_COLOURS)) expect(scale.has(special)).toBe(false);
    }
  });
});

describe("thumbnail bitmap", () => {
  const grad: Thumbnail = { rows: 2, cols: 3, lo: -1, hi: 1, cells: cells(0, 125, 250, 251, 252, 253) };

  it("is a 24-bit BMP with one pixel per cell, rows padded and stored bottom-up", () => {
    const bytes = bitmap(grad, "diverging");
    const view = new DataView(bytes.buffer);
    expect(String.fromCharCode(bytes[0], bytes[1])).toBe("BM");
    expect(view.getInt32(18, true)).toBe(3); // width = cols
    expect(view.getInt32(22, true)).toBe(2); // height = rows
    expect(view.getUint16(28, true)).toBe(24);
    expect(bytes.length).toBe(54 + 2 * 12); // 3 pixels x 3 bytes, padded to 12
    const pixel = (row: number, col: number) => {
      const at = 54 + (1 - row) * 12 + col * 3;
      const [b, g, r] = bytes.subarray(at, at + 3);
      return `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
    };
    expect(pixel(0, 0)).toBe("#053061");
    expect(pixel(0, 1)).toBe("#f7f7f7");
    expect(pixel(0, 2)).toBe("#67001f");
    expect(pixel(1, 0)).toBe(SPECIAL_COLOURS.nan);
    expect(pixel(1, 1)).toBe(SPECIAL_COLOURS.posinf);
    expect(pixel(1, 2)).toBe(SPECIAL_COLOURS.neginf);
  });

  it("is a data URL, cached per cells and palette", () => {
    const url = thumbnailUrl(grad, "diverging");
    expect(url).toMatch(/^data:image\/bmp;base64,Qk/);
    expect(thumbnailUrl({ ...grad }, "diverging")).toBe(url);
    expect(thumbnailUrl(grad, "sequential")).not.toBe(url);
  });

  it("is drawn 30 px on its long side, keeping a strip at least 8 px thick", () => {
    expect(thumbnailSize({ rows: 16, cols: 16 })).toEqual({ width: 30, height: 30 });
    expect(thumbnailSize({ rows: 5, cols: 4 })).toEqual({ width: 24, height: 30 });
    expect(thumbnailSize({ rows: 1, cols: 10 })).toEqual({ width: 30, height: 8 });
    expect(thumbnailSize({ rows: 16, cols: 1 })).toEqual({ width: 8, height: 30 });
  });
});
