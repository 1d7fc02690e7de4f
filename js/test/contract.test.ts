// Cross-language contract test: Python's real snapshots, messages, field lists and defaults vs protocol.ts.
// tests/ write them to a JSON file named by DZW_CONTRACT_JSON; skipped when that is unset. By hand, from js/:
//   DZW_CONTRACT_JSON=/path/to/contract.json npx vitest run test/contract.test.ts
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CONTRACT_FIELDS,
  type ContractShape,
  checkChecks,
  checkReplay,
  checkServerMessage,
  checkSnapshot,
  DEFAULT_DIRECTION,
  DIRECTIONS,
  type FieldList,
  HISTORY_POINTS,
  SNAPSHOT_VERSION,
} from "../src/protocol";

interface ContractFile {
  snapshots: Record<string, unknown>;
  serverMessages: unknown[];
  fields: Record<string, FieldList>;
  defaults: { direction: unknown; directions: unknown; snapshotVersion: unknown; historyPoints: unknown };
  /** Real replay trait values (GraphWidget.replay after a backward), by name. */
  replays?: Record<string, unknown>;
  /** Real checks trait values (GraphWidget.checks after gradient checks), by name. */
  checks?: Record<string, unknown>;
}

const path = process.env.DZW_CONTRACT_JSON;
const contract: ContractFile | null = path ? JSON.parse(readFileSync(path, "utf8")) : null;

const sorted = (items: readonly string[]) => [...items].sort();
const missingFrom = (items: readonly string[], other: readonly string[]) =>
  items.filter((item) => !other.includes(item));

describe.skipIf(!contract)(`the Python side's contract (${path})`, () => {
  const file = contract as ContractFile;

  it("has snapshots and server messages to check", () => {
    expect(Object.keys(file.snapshots ?? {}).length).toBeGreaterThan(0);
    expect(file.serverMessages?.length ?? 0).toBeGreaterThan(0);
  });

  it.each(Object.entries(file?.snapshots ?? {}))("snapshot %s passes checkSnapshot", (_name, snapshot) => {
    const problems = checkSnapshot(snapshot);
    expect(problems, `\n${problems.join("\n")}\n`).toEqual([]);
  });

  const replays = Object.entries(file?.replays ?? {});
  it.skipIf(replays.length === 0).each(replays)("replay %s passes checkReplay", (_name, replay) => {
    const problems = checkReplay(replay);
    expect(problems, `\n${problems.join("\n")}\n`).toEqual([]);
  });

  const checks = Object.entries(file?.checks ?? {});
  it.skipIf(checks.length === 0).each(checks)("checks %s pass checkChecks", (_name, value) => {
    const problems = checkChecks(value);
    expect(problems, `\n${problems.join("\n")}\n`).toEqual([]);
  });

  it.each((file?.serverMessages ?? []).map((message) => [JSON.stringify(message), message]))(
    "server message %s is a valid ServerMessage",
    (_text, message) => {
      const problems = checkServerMessage(message);
      expect(problems, `\n${problems.join("\n")}\n`).toEqual([]);
    },
  );

  it("names the same shapes as CONTRACT_FIELDS", () => {
    const python = Object.keys(file.fields ?? {});
    const typescript = Object.keys(CONTRACT_FIELDS);
    const onlyInPython = missingFrom(python, typescript);
    const onlyInTypeScript = missingFrom(typescript, python);
    const message = `shapes only in Python ${JSON.stringify(onlyInPython)}, only in TypeScript ${JSON.stringify(onlyInTypeScript)}`;
    expect({ onlyInPython, onlyInTypeScript }, message).toEqual({ onlyInPython: [], onlyInTypeScript: [] });
  });

  const shapes = Object.keys(CONTRACT_FIELDS) as ContractShape[];
  it.each(shapes)("%s has the same required and optional fields on both sides", (shape) => {
    const ours: FieldList = CONTRACT_FIELDS[shape];
    const theirs = file.fields?.[shape];
    expect(theirs, `the Python side lists no fields for ${shape}`).toBeDefined();
    for (const list of ["required", "optional"] as const) {
      const python = theirs[list] ?? [];
      const typescript = ours[list];
      const onlyInPython = missingFrom(python, typescript);
      const onlyInTypeScript = missingFrom(typescript, python);
      const message = `${shape}.${list}: only in Python ${JSON.stringify(onlyInPython)}, only in TypeScript ${JSON.stringify(onlyInTypeScript)}`;
      expect({ onlyInPython, onlyInTypeScript }, message).toEqual({ onlyInPython: [], onlyInTypeScript: [] });
      expect(sorted(python), `${shape}.${list}`).toEqual(sorted(typescript));
    }
  });

  it("shares the defaults", () => {
    expect(file.defaults.direction).toBe(DEFAULT_DIRECTION);
    expect(sorted(file.defaults.directions as string[])).toEqual(sorted(DIRECTIONS));
    expect(file.defaults.snapshotVersion).toBe(SNAPSHOT_VERSION);
    expect(file.defaults.historyPoints).toBe(HISTORY_POINTS);
  });
});
