// Predict mode: the grads are hidden, the learner types a guess into each variable, and the next
// snapshot after a Backward click reveals the grads and marks each guess right or wrong.
// The guess inputs are HTML inputs in a foreignObject over each node's grad row, in a layer of
// their own above the nodes: typing or selecting text in them never pans, zooms or steps.
import { html, svg, toggleButton } from "./dom";
import type { Drawing } from "./drawn";
import {
  ACTION,
  type ArraySummary,
  ATTR,
  GRAD_SUBGRAPH,
  type GraphNode,
  GUESS_MARK,
  NODE_KIND,
  ROLE,
  type Snapshot,
} from "./protocol";

/** A guess v for a grad g is right when |g - v| <= abs + rel * |g|, element by element. */
export const GUESS_TOLERANCE = { abs: 1e-6, rel: 1e-3 } as const;
/** Longest guess kept (characters): a guess is a number or a short list of numbers. */
export const GUESS_MAX_CHARS = 200;

export type GuessMark = (typeof GUESS_MARK)[keyof typeof GUESS_MARK];

/** A number as a guess or a preview spells it: "3", "-0.5", "1e-05", "1.", "nan", "inf", "-inf". */
function parseNumber(text: string): number | null {
  const lower = text.toLowerCase();
  if (lower === "nan") return Number.NaN;
  if (/^[+]?inf(inity)?$/.test(lower)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/.test(lower)) return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(lower)) return null;
  return Number(lower);
}

/**
 * The numbers of a guess or of a preview: separated by commas and/or spaces, brackets ignored
 * ("1, 2", "[1. 2.]", "[[1, 2], [3, 4]]"); null when something in it is not a number.
 */
export function parseNumbers(text: string): number[] | null {
  const items = text
    .replace(/[[\]()]/g, " ")
    .split(/[\s,]+/)
    .filter((item) => item !== "");
  if (items.length === 0) return null;
  const numbers: number[] = [];
  for (const item of items) {
    const value = parseNumber(item);
    if (value === null) return null;
    numbers.push(value);
  }
  return numbers;
}

/** Every element of an array, when its preview shows them all (it cuts big arrays to head…tail). */
function exactValues(summary: ArraySummary): number[] | null {
  const preview = summary.preview;
  if (preview.includes("…") || preview.includes("...") || preview.startsWith("flat")) return null;
  const values = parseNumbers(preview);
  return values && values.length === summary.size ? values : null;
}

function close(guess: number, value: number): boolean {
  if (Number.isNaN(value) || Number.isNaN(guess)) return Number.isNaN(value) && Number.isNaN(guess);
  if (!Number.isFinite(value) || !Number.isFinite(guess)) return guess === value;
  return Math.abs(guess - value) <= GUESS_TOLERANCE.abs + GUESS_TOLERANCE.rel * Math.abs(value);
}

/**
 * A guess against the real grad: null when nothing was guessed. A grad of None is guessed by
 * "None" (any case); a number by a number within GUESS_TOLERANCE; a small array by its elements
 * in order (wrong when the preview does not show them all).
 */
export function judgeGuess(guess: string, grad: ArraySummary | null): GuessMark | null {
  const text = guess.trim();
  if (text === "") return null;
  if (grad === null) return text.toLowerCase() === "none" ? GUESS_MARK.right : GUESS_MARK.wrong;
  const guessed = parseNumbers(text);
  const values = exactValues(grad);
  if (!guessed || !values || guessed.length !== values.length) return GUESS_MARK.wrong;
  return guessed.every((value, k) => close(value, values[k])) ? GUESS_MARK.right : GUESS_MARK.wrong;
}

/** Size of a guess input in drawing units (it zooms with the drawing). */
const INPUT = { width: 72, height: 17 } as const;

/** Where predict mode is. */
type Phase = "off" | "guessing" | "waiting" | "revealed";

export class PredictMode {
  /** The toolbar toggle. */
  readonly button: HTMLButtonElement;
  /** The layer of guess inputs, above the nodes. */
  readonly layer: SVGGElement;
  private phase: Phase = "off";
  private readonly guesses = new Map<string, string>();
  private marks = new Map<string, GuessMark>();
  private readonly inputs = new Map<string, { object: SVGForeignObjectElement; input: HTMLInputElement }>();
  /** The node groups marked right or wrong. */
  private marked: Element[] = [];

  /** `changed` is called whenever what the drawing shows changes (grads hidden, marks). */
  constructor(
    private readonly doc: Document,
    private readonly changed: () => void,
  ) {
    this.button = toggleButton(
      doc,
      ACTION.predict,
      "Hide the grads, guess them, then click Backward to check your guesses",
      "Predict",
    );
    this.button.addEventListener("click", () => this.toggle());
    this.layer = svg(doc, "g", { class: "dzw-guesses" });
  }

  get on(): boolean {
    return this.phase !== "off";
  }

  /** Whether the drawing hides the grads now (guessing, or waiting for Backward's result). */
  get hidesGrads(): boolean {
    return this.phase === "guessing" || this.phase === "waiting";
  }

  /** The marks of the revealed guesses, by node id. */
  get revealed(): ReadonlyMap<string, GuessMark> {
    return this.marks;
  }

  toggle(): void {
    this.phase = this.phase === "off" ? "guessing" : "off";
    this.button.setAttribute("aria-pressed", String(this.on));
    this.guesses.clear();
    this.marks = new Map();
    if (!this.on) this.clearInputs();
    this.changed();
  }

  /** Backward was clicked: the next snapshot holds the grads to reveal. */
  backwardClicked(): void {
    if (this.phase === "guessing" || this.phase === "revealed") this.phase = "waiting";
  }

  /** Reset was clicked: guess again. */
  resetClicked(): void {
    if (this.phase === "revealed") this.phase = "guessing";
    this.marks = new Map();
  }

  /** A new snapshot: after a Backward click, the grads are revealed and the guesses marked. */
  snapshotArrived(snapshot: Snapshot): void {
    if (this.phase !== "waiting") return;
    const marks = new Map<string, GuessMark>();
    for (const node of snapshot.nodes) {
      if (node.kind !== NODE_KIND.variable) continue;
      const mark = judgeGuess(this.guesses.get(node.id) ?? "", node.grad);
      if (mark) marks.set(node.id, mark);
    }
    this.marks = marks;
    this.phase = "revealed";
  }

  /** Puts a guess input over each variable's grad row and the marks on the nodes. */
  apply(drawing: Drawing | null, nodes: readonly GraphNode[]): void {
    for (const group of this.marked) group.removeAttribute(ATTR.guess);
    this.marked = [];
    if (!this.on || !drawing) {
      this.clearInputs();
      return;
    }
    const wanted = new Set<string>();
    for (const node of nodes) {
      const drawn = drawing.nodes.get(node.id);
      if (node.kind !== NODE_KIND.variable || node.subgraph === GRAD_SUBGRAPH || !drawn?.variable) continue;
      wanted.add(node.id);
      const mark = this.marks.get(node.id);
      if (mark) {
        drawn.group.setAttribute(ATTR.guess, mark);
        this.marked.push(drawn.group);
      }
      const { object, input } = this.inputFor(node.id);
      const geometry = drawn.variable.geometry;
      // Guessing: over the grad row. Revealed: under the node, so the grad shows (hidden if no guess).
      const revealed = this.phase === "revealed";
      const below = drawn.y + (Number(drawn.shape.getAttribute("ry")) || geometry.height / 2) + 3;
      object.style.display = revealed && !mark ? "none" : "";
      object.setAttribute("x", (drawn.x + (revealed ? 0 : geometry.textX) - INPUT.width / 2).toFixed(1));
      object.setAttribute("y", (revealed ? below : drawn.y + geometry.gradY - INPUT.height / 2).toFixed(1));
      input.className = mark ? `dzw-guess dzw-guess-${mark}` : "dzw-guess";
      input.title =
        mark === GUESS_MARK.right ? "Your guess: right" : mark === GUESS_MARK.wrong ? "Your guess: wrong" : "";
    }
    for (const [id, entry] of this.inputs) {
      if (wanted.has(id)) continue;
      entry.object.remove();
      this.inputs.delete(id);
    }
  }

  private inputFor(id: string): { object: SVGForeignObjectElement; input: HTMLInputElement } {
    let entry = this.inputs.get(id);
    if (entry) return entry;
    const object = svg(this.doc, "foreignObject", {
      width: String(INPUT.width),
      height: String(INPUT.height),
      class: "dzw-guess-box",
    });
    const input = html(this.doc, "input", {
      type: "text",
      [ATTR.role]: ROLE.guess,
      [ATTR.nodeId]: id,
      placeholder: "grad?",
      maxlength: String(GUESS_MAX_CHARS),
      autocomplete: "off",
      spellcheck: "false",
      "aria-label": "Your guess of this variable's grad",
    });
    input.value = this.guesses.get(id) ?? "";
    // Presses and keys in the input are the input's: no pan, zoom, selection or stepping.
    for (const type of ["pointerdown", "mousedown", "click", "dblclick", "wheel", "keydown"]) {
      input.addEventListener(type, (event) => event.stopPropagation());
    }
    input.addEventListener("input", () => {
      this.guesses.set(id, input.value.slice(0, GUESS_MAX_CHARS));
      if (this.phase === "revealed") {
        this.phase = "guessing";
        this.marks = new Map();
        this.changed();
      }
    });
    object.appendChild(input);
    this.layer.appendChild(object);
    entry = { object, input };
    this.inputs.set(id, entry);
    return entry;
  }

  private clearInputs(): void {
    this.layer.replaceChildren();
    this.inputs.clear();
  }
}
