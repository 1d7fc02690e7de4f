// A recorded backward pass, read step by step (pure): each variable's grad as it was after step k,
// the grads on the edges of the function applied at step k, the terms a grad is the sum of, and
// the note that a backward added onto grads from an earlier one.
import { boundedText, gradLine, nodeTitle, opText } from "./format";
import {
  type ArraySummary,
  type Edge,
  type GraphNode,
  MAX_LABEL_CHARS,
  NODE_KIND,
  type Replay,
  type ReplayTerm,
} from "./protocol";

/**
 * Variable `id`'s grad after step `step` (0 = before the first function, n = done): at n, the
 * snapshot's real grad (`final`: an intermediate's grad may be cleared once used); else the total
 * of its last term at or before `step`, or its grad before this backward. A variable the replay
 * does not name kept its grad (`final`) throughout.
 */
export function gradAtStep(replay: Replay, id: string, step: number, final: ArraySummary | null): ArraySummary | null {
  if (step >= replay.steps.length) return final;
  const variable = replay.variables[id];
  if (!variable) return final;
  let grad = variable.before;
  for (const term of variable.terms) {
    if (term.step > step) break;
    grad = term.total;
  }
  return grad;
}

/** The op of function node `id`, else its id. */
function opOf(id: string, byId: ReadonlyMap<string, GraphNode>): string {
  const node = byId.get(id);
  return node?.kind === NODE_KIND.function ? opText(node) : boundedText(id, MAX_LABEL_CHARS);
}

/** A variable's name as notes use it: its title ("x", "out of Add"), else its id. */
export function variableName(id: string, byId: ReadonlyMap<string, GraphNode>): string {
  const node = byId.get(id);
  return node ? nodeTitle(node, byId) : boundedText(id, MAX_LABEL_CHARS);
}

/** A variable's grad as notes name it: "x.grad", "(out of Add).grad" for an unnamed one. */
function gradName(id: string, byId: ReadonlyMap<string, GraphNode>): string {
  const node = byId.get(id);
  const name = variableName(id, byId);
  return node?.kind === NODE_KIND.variable && node.label ? `${name}.grad` : `(${name}).grad`;
}

/**
 * The step bar's words. `touched` is false for a replay just received: it shows the end state
 * with no function highlighted.
 */
export function stepCaption(
  replay: Replay,
  step: number,
  touched: boolean,
  byId: ReadonlyMap<string, GraphNode>,
): string {
  const n = replay.steps.length;
  const of = `${n} ${n === 1 ? "step" : "steps"}`;
  if (!touched) return `backward() from ${variableName(replay.output, byId)}: ${of} · ◀ to replay them`;
  if (step <= 0) {
    const seed = replay.variables[replay.output]?.terms.find((term) => term.step === 0);
    const start = seed
      ? `seed: ${variableName(replay.output, byId)}.grad = ${gradLine(seed.total)}`
      : "before the first function";
    return `Step 0 of ${n} · ${start}`;
  }
  const applied = replay.steps[Math.min(step, n) - 1];
  const done = step >= n ? " · done: the grads now" : "";
  return `Step ${Math.min(step, n)} of ${n} · ${opOf(applied.function, byId)}.backward${done}`;
}

/** One grad on an edge of the function applied at a step. */
export interface EdgeGrad {
  /** Position of the edge in `snapshot.edges`. */
  edge: number;
  /** "gy": flowing into the function from its output; "gx": sent to its input. */
  kind: "gy" | "gx";
  /** The output's or input's position (the edge's index). */
  index: number;
  summary: ArraySummary | null;
}

/** The grads on the edges of the function applied at `step` (none at step 0, or past the end). */
export function edgeGrads(replay: Replay, step: number, edges: readonly Edge[]): EdgeGrad[] {
  if (step < 1 || step > replay.steps.length) return [];
  const { function: id, gys, gxs } = replay.steps[step - 1];
  const found: EdgeGrad[] = [];
  edges.forEach((edge, e) => {
    if (edge.source === id && edge.index < gys.length) {
      found.push({ edge: e, kind: "gy", index: edge.index, summary: gys[edge.index] });
    } else if (edge.target === id && edge.index < gxs.length) {
      found.push({ edge: e, kind: "gx", index: edge.index, summary: gxs[edge.index] });
    }
  });
  return found;
}

/** One part of the sum a grad is: the grad from before this backward, the seed, or a function's term. */
export interface Contribution {
  /** The term's value on one line. */
  value: string;
  /** Where it came from: "earlier grad", "seed (ones)", "from Add (f2)". */
  from: string;
  /** A longer explanation, for a tooltip. */
  title: string;
  /** The step that added it (0: the seed); null for the earlier grad. */
  step: number | null;
}

/** The terms variable `id`'s grad is the sum of in `replay` (the earlier grad first), and the total. */
export function contributions(
  replay: Replay,
  id: string,
  byId: ReadonlyMap<string, GraphNode>,
): { terms: Contribution[]; total: string } | null {
  const variable = replay.variables[id];
  if (!variable || variable.terms.length === 0) return null;
  const terms: Contribution[] = [];
  if (variable.before) {
    const value = gradLine(variable.before);
    const title = `${value}: the grad before this backward() (not reset)`;
    terms.push({ value, from: "earlier grad", title, step: null });
  }
  for (const term of variable.terms) terms.push(termContribution(term, byId));
  const last: ReplayTerm = variable.terms[variable.terms.length - 1];
  return { terms, total: gradLine(last.total) };
}

function termContribution(term: ReplayTerm, byId: ReadonlyMap<string, GraphNode>): Contribution {
  const value = gradLine(term.value);
  if (term.step === 0) {
    return { value, from: "seed (ones)", title: `${value}: the seed backward() starts from`, step: 0 };
  }
  const op = opOf(term.source, byId);
  const source = boundedText(term.source, MAX_LABEL_CHARS);
  return {
    value,
    from: `from ${op} (${source})`,
    title: `${value} from ${op}.backward (${source}), step ${term.step}`,
    step: term.step,
  };
}

/** The contributions on one line: "1.0 + 1.0 + 1.0 = 3.0". */
export function contributionsLine(sum: { terms: Contribution[]; total: string }): string {
  return `${sum.terms.map((term) => term.value).join(" + ")} = ${sum.total}`;
}

/** At most this many variables are named in the accumulation note. */
export const ACCUMULATED_NAMED = 3;

/** A number as numpy prints a float scalar: "3.0", "0.25", "1e-05". */
function floatText(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  const rounded = Number(value.toPrecision(12));
  return Number.isInteger(rounded) && Math.abs(rounded) < 1e16 ? rounded.toFixed(1) : String(rounded);
}

/** A scalar summary's value, when its preview is a plain number. */
function scalarValue(summary: ArraySummary): number | null {
  if (summary.size !== 1) return null;
  const value = Number(summary.preview);
  return summary.preview.trim() !== "" && Number.isFinite(value) ? value : null;
}

/**
 * The note that this backward added onto grads an earlier one left: "x.grad: 3.0 + 3.0 = 6.0 — added
 * to the grad from an earlier backward(); Reset clears it." ("" when there is none to tell).
 */
export function accumulatedNote(replay: Replay, byId: ReadonlyMap<string, GraphNode>): string {
  const parts: string[] = [];
  // Variables the learner named come first.
  const named = (id: string) => {
    const node = byId.get(id);
    return node?.kind === NODE_KIND.variable && node.label ? 0 : 1;
  };
  const ids = [...replay.accumulated].sort((a, b) => named(a) - named(b));
  for (const id of ids.slice(0, ACCUMULATED_NAMED)) {
    const variable = replay.variables[id];
    const name = gradName(id, byId);
    const last = variable?.terms[variable.terms.length - 1];
    if (!variable?.before || !last) {
      parts.push(name);
      continue;
    }
    const before = scalarValue(variable.before);
    const after = scalarValue(last.total);
    parts.push(
      before !== null && after !== null
        ? `${name}: ${gradLine(variable.before)} + ${floatText(after - before)} = ${gradLine(last.total)}`
        : `${name}: ${gradLine(variable.before)} → ${gradLine(last.total)}`,
    );
  }
  if (parts.length === 0) return "";
  const more = replay.accumulated.length - ACCUMULATED_NAMED;
  const listed = more > 0 ? `${parts.join("; ")}; and ${more} more` : parts.join("; ");
  const grads = replay.accumulated.length === 1 ? "the grad" : "the grads";
  return `${listed} — added to ${grads} from an earlier backward(); Reset clears it.`;
}
