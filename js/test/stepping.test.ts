// The pure logic of issue 11: grads at a step, the step bar's words, the grads on the active
// function's edges, contributions, the accumulation note, guesses, check texts, and the run-time
// checks of the replay, checks and grad_graph traits.
import { describe, expect, it } from "vitest";
import { checkRows, errorText, verdictText } from "../src/gradCheck";
import { judgeGuess, parseNumbers } from "../src/predict";
import {
  checkChecks,
  checkGradGraph,
  checkReplay,
  EMPTY_REPLAY,
  type GradCheck,
  type GraphNode,
  type Replay,
} from "../src/protocol";
import { accumulatedNote, contributions, contributionsLine, edgeGrads, gradAtStep, stepCaption } from "../src/stepping";
import { arraySummary, scalar, seedReplay, seedSnapshot } from "./fixtures";

const snapshot = seedSnapshot(true);
const byId = new Map<string, GraphNode>(snapshot.nodes.map((node) => [node.id, node]));
const preview = (id: string, step: number, replay: Replay = seedReplay()) => {
  const node = byId.get(id);
  const final = node?.kind === "variable" ? node.grad : null;
  return gradAtStep(replay, id, step, final)?.preview ?? "None";
};

describe("grads as they were after each step", () => {
  it("gives x 1.0 after the outer Add and 3.0 after the inner one", () => {
    expect(preview("v1", 0)).toBe("None");
    expect(preview("v1", 1)).toBe("1.0");
    expect(preview("v1", 2)).toBe("3.0");
  });

  it("shows the root's seed from step 0 and an intermediate only once its creator's user ran", () => {
    expect(preview("v3", 0)).toBe("1.0");
    expect(preview("v2", 0)).toBe("None");
    expect(preview("v2", 1)).toBe("1.0");
  });

  it("starts from the earlier grad after a second backward without reset", () => {
    const replay = seedReplay(3);
    expect(preview("v1", 0, replay)).toBe("3.0");
    expect(preview("v1", 1, replay)).toBe("4.0");
  });

  it("shows the snapshot's own grad at the end, even where the replay's last total differs", () => {
    const cleared = seedSnapshot(true);
    const v2 = cleared.nodes.find((node) => node.id === "v2");
    if (v2?.kind !== "variable") throw new Error("no v2");
    v2.grad = null; // not retained: backward clears an intermediate's grad once used
    expect(gradAtStep(seedReplay(), "v2", 2, v2.grad)).toBeNull();
    expect(gradAtStep(seedReplay(), "v2", 1, v2.grad)?.preview).toBe("1.0");
  });

  it("leaves a variable the replay does not name at its snapshot grad", () => {
    expect(gradAtStep(seedReplay(), "v9", 0, scalar(7))?.preview).toBe("7.0");
  });
});

describe("the step bar's words", () => {
  it("names the function applied, the seed at step 0, and the end state of a fresh replay", () => {
    const replay = seedReplay();
    expect(stepCaption(replay, 1, true, byId)).toBe("Step 1 of 2 · Add.backward");
    expect(stepCaption(replay, 2, true, byId)).toBe("Step 2 of 2 · Add.backward · done: the grads now");
    expect(stepCaption(replay, 0, true, byId)).toBe("Step 0 of 2 · seed: y.grad = 1.0");
    expect(stepCaption(replay, 2, false, byId)).toBe("backward() from y: 2 steps · ◀ to replay them");
  });
});

describe("grads on the active function's edges", () => {
  it("puts gy on the output edge and gx on each input edge, by edge index", () => {
    const replay = seedReplay();
    replay.steps[0].gxs = [scalar(2), scalar(5)];
    const found = edgeGrads(replay, 1, snapshot.edges);
    const described = found.map((item) => [
      snapshot.edges[item.edge].source,
      snapshot.edges[item.edge].target,
      item.kind,
      item.summary?.preview,
    ]);
    expect(described).toEqual([
      ["v2", "f2", "gx", "2.0"],
      ["v1", "f2", "gx", "5.0"],
      ["f2", "v3", "gy", "1.0"],
    ]);
    expect(edgeGrads(replay, 0, snapshot.edges)).toEqual([]);
    expect(edgeGrads(replay, 3, snapshot.edges)).toEqual([]);
  });
});

describe("contributions", () => {
  it("lists each term with the function it came from, and the total", () => {
    const sum = contributions(seedReplay(), "v1", byId);
    expect(sum).not.toBeNull();
    expect(sum?.terms.map((term) => `${term.value} ${term.from}`)).toEqual([
      "1.0 from Add (f2)",
      "1.0 from Add (f1)",
      "1.0 from Add (f1)",
    ]);
    expect(contributionsLine(sum!)).toBe("1.0 + 1.0 + 1.0 = 3.0");
  });

  it("puts the earlier grad first and names the seed", () => {
    expect(contributionsLine(contributions(seedReplay(3), "v1", byId)!)).toBe("3.0 + 1.0 + 1.0 + 1.0 = 6.0");
    expect(contributions(seedReplay(3), "v1", byId)?.terms[0].from).toBe("earlier grad");
    expect(contributions(seedReplay(), "v3", byId)?.terms[0].from).toBe("seed (ones)");
    expect(contributions(seedReplay(), "v9", byId)).toBeNull();
  });
});

describe("the accumulation note", () => {
  it("says what was added to what, by the variable's name", () => {
    expect(accumulatedNote(seedReplay(3), byId)).toBe(
      "x.grad: 3.0 + 3.0 = 6.0 — added to the grad from an earlier backward(); Reset clears it.",
    );
    expect(accumulatedNote(seedReplay(), byId)).toBe("");
  });

  it("shows arrays as before → after and names at most three variables", () => {
    const replay = seedReplay(3);
    replay.variables.v1.before = arraySummary([2], [1, 2], true);
    replay.variables.v1.terms[2].total = arraySummary([2], [2, 4], true);
    replay.accumulated = ["v1", "v2", "v3", "v4", "v5"];
    const note = accumulatedNote(replay, byId);
    expect(note.startsWith("x.grad: [1.0000 2.0000] → [2.0000 4.0000]; y.grad; (out of Add).grad; and 2 more")).toBe(
      true,
    );
    expect(note.endsWith("added to the grads from an earlier backward(); Reset clears it.")).toBe(true);
  });
});

describe("guesses", () => {
  it("takes a scalar within the tolerance and refuses one past it", () => {
    expect(judgeGuess("3", scalar(3))).toBe("right");
    expect(judgeGuess(" 3.002 ", scalar(3))).toBe("right"); // 1e-6 + 1e-3 * 3 = 0.003001
    expect(judgeGuess("3.004", scalar(3))).toBe("wrong");
    expect(judgeGuess("2", scalar(3))).toBe("wrong");
    expect(judgeGuess("abc", scalar(3))).toBe("wrong");
    expect(judgeGuess("", scalar(3))).toBeNull();
  });

  it("takes None for no grad, in any case, and nothing else", () => {
    expect(judgeGuess("none", null)).toBe("right");
    expect(judgeGuess("None", null)).toBe("right");
    expect(judgeGuess("0", null)).toBe("wrong");
    expect(judgeGuess("None", scalar(0))).toBe("wrong");
  });

  it("compares a small array element by element, and never one whose preview is cut", () => {
    const grad = { shape: [3], dtype: "float64", size: 3, preview: "[1., 2.5, -3.]" };
    expect(judgeGuess("1, 2.5, -3", grad)).toBe("right");
    expect(judgeGuess("[1 2.5 -3]", grad)).toBe("right");
    expect(judgeGuess("1, 2.5", grad)).toBe("wrong");
    expect(judgeGuess("1, 2.5, 3", grad)).toBe("wrong");
    const cut = { shape: [20], dtype: "float64", size: 20, preview: "[1., 1., 1., ..., 1., 1., 1.]" };
    expect(judgeGuess(Array(20).fill("1").join(","), cut)).toBe("wrong");
  });

  it("parses the spellings numpy and learners use", () => {
    expect(parseNumbers("[[1., 2.], [3., 4.]]")).toEqual([1, 2, 3, 4]);
    expect(parseNumbers("1e-05, -inf, nan")).toEqual([1e-5, Number.NEGATIVE_INFINITY, Number.NaN]);
    expect(parseNumbers("1..2")).toBeNull();
    expect(parseNumbers("  ")).toBeNull();
  });
});

describe("gradient check texts", () => {
  const check: GradCheck = {
    ok: false,
    maxAbs: 3,
    maxRel: 0.5,
    checked: 1,
    size: 1,
    output: "v3",
    message: "the grad is half the numerical one",
  };
  it("says the verdict, both errors, the elements and the output", () => {
    expect(verdictText(check)).toBe("✗ Gradient check failed");
    expect(verdictText({ ...check, ok: true })).toBe("✓ Gradient check passed");
    expect(checkRows(check, byId)).toEqual([
      ["largest abs. error", "3"],
      ["largest rel. error", "0.5"],
      ["elements checked", "1 of 1"],
      ["output", "y"],
    ]);
    expect(checkRows({ ...check, maxAbs: null, maxRel: null }, byId).slice(0, 2)).toEqual([
      ["largest abs. error", "–"],
      ["largest rel. error", "–"],
    ]);
  });
  it("writes errors in two significant digits", () => {
    expect([errorText(2.0517e-11), errorText(0.000123), errorText(0.5), errorText(0), errorText(null)]).toEqual([
      "2.1e-11",
      "1.2e-4",
      "0.5",
      "0",
      "–",
    ]);
  });
});

describe("run-time checks of the new traits", () => {
  it("accepts the empty replay and a recorded one", () => {
    expect(checkReplay(EMPTY_REPLAY)).toEqual([]);
    expect(checkReplay(seedReplay(3))).toEqual([]);
  });

  it("names what is wrong in a replay", () => {
    const replay = seedReplay() as unknown as Record<string, unknown>;
    expect(checkReplay({ ...replay, extra: 1 })).toEqual(['replay: unknown field "extra"']);
    const badTerm = seedReplay();
    badTerm.variables.v1.terms[2].step = 7;
    expect(checkReplay(badTerm)).toEqual(['replay.variables["v1"].terms[2]: step 7 is past the 2 steps']);
    const unordered = seedReplay();
    unordered.variables.v1.terms[2].step = 1;
    expect(checkReplay(unordered)).toEqual([
      `replay.variables["v1"].terms[2]: step 1 is before the previous term's step 2`,
    ]);
    const badSummary = seedReplay();
    (badSummary.steps[0].gys as unknown[])[0] = { shape: [], dtype: "float64", size: 1 };
    expect(checkReplay(badSummary)).toEqual(['replay.steps[0].gys[0]: missing required field "preview"']);
    const seedWithSource = seedReplay();
    seedWithSource.variables.v3.terms[0].source = "f2";
    expect(checkReplay(seedWithSource)).toEqual([
      'replay.variables["v3"].terms[0]: only the seed (step 0) has no source, got step 0 from "f2"',
    ]);
  });

  it("checks each gradient check and the grad_graph flag", () => {
    const check = { ok: true, maxAbs: 0, maxRel: 0, checked: 1, size: 1, output: "v3", message: "" };
    expect(checkChecks({ v1: check })).toEqual([]);
    expect(checkChecks({ v1: { ...check, ok: "yes" } })).toEqual(['checks["v1"]: "ok" should be a boolean, got "yes"']);
    expect(checkChecks([])).toEqual(["checks: expected an object, got []"]);
    expect(checkGradGraph(true)).toEqual([]);
    expect(checkGradGraph("on")).toEqual(['grad_graph: should be a boolean, got "on"']);
  });
});
