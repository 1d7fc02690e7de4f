// The Python <-> front-end contract, declared once: shapes, messages, defaults and DOM hook names.
// Python's half is dezero_widget/protocol.py; test/contract.test.ts checks the two agree (DZW_CONTRACT_JSON).
import type { AnyModel } from "@anywidget/types";

// ---------------------------------------------------------------------------------------------
// Defaults shared with Python
// ---------------------------------------------------------------------------------------------

export const SNAPSHOT_VERSION = 1;
/** The history chart shows at most this many values, evenly spaced over the backward() calls. */
export const HISTORY_POINTS = 200;
export const DIRECTIONS = ["LR", "TB"] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const DEFAULT_DIRECTION: Direction = "LR";
export const ROLES = ["input", "param", "intermediate", "output"] as const;
export type Role = (typeof ROLES)[number];
/** Marks the nodes of the graph that backward(create_graph=True) built. */
export const GRAD_SUBGRAPH = "grad";
/** Texts from user code are cut to these lengths (Python cuts them too; the view never shows more). */
export const MAX_LABEL_CHARS = 120;
export const MAX_STATUS_CHARS = 300;

// ---------------------------------------------------------------------------------------------
// The snapshot (built by dezero_widget/trace.py)
// ---------------------------------------------------------------------------------------------

/**
 * A heatmap of a 1-D or 2-D array: rows x cols evenly spaced elements (at most 16 a side), one byte
 * each, base64 in row-major order. Bytes 0..250 map linearly onto lo..hi (for a grad lo = -hi, so
 * 125 is zero); THUMBNAIL_CODE gives the bytes of NaN and the infinities.
 */
export interface Thumbnail {
  rows: number;
  cols: number;
  lo: number;
  hi: number;
  cells: string;
}

/** The bytes of a Thumbnail past its 0..levels scale. */
export const THUMBNAIL_CODE = { levels: 250, nan: 251, posinf: 252, neginf: 253 } as const;
/** Most cells a thumbnail has on a side. */
export const THUMBNAIL_MAX_SIDE = 16;

/** A summary of one ndarray; never the whole array. */
export interface ArraySummary {
  shape: number[];
  dtype: string;
  size: number;
  /** Short text preview: exact for scalars, whole for small arrays, head…tail past a bound. */
  preview: string;
  /** Only for numeric arrays with more than one element (of a sample past 131,072: see `sampled`). */
  min?: number | null;
  max?: number | null;
  mean?: number | null;
  /** L2 norm of the finite values. */
  norm?: number | null;
  /** Counts, present only when non-zero. */
  nan?: number;
  posinf?: number;
  neginf?: number;
  /** Present (true) when the statistics come from an evenly spaced sample of a huge array. */
  sampled?: boolean;
  /** Only for 1-D and 2-D numeric arrays of two or more elements. */
  thumbnail?: Thumbnail;
}

export interface VariableNode {
  id: string; // "v<int>", stable for the lifetime of the Python object
  kind: "variable";
  label: string; // name, or the notebook name(s), or "" (the front end then shows "out of <op>", or the shape)
  shape: number[] | null;
  dtype: string | null;
  data: ArraySummary | null;
  grad: ArraySummary | null;
  role: Role;
  generation?: number;
  creator?: string; // id of the function node that made it, when that node is in the snapshot
  subgraph?: typeof GRAD_SUBGRAPH; // absent for the main graph
  /** On a node of the grad subgraph that is the grad of a variable: that variable's id. */
  gradOf?: string;
}

export interface FunctionNode {
  id: string; // "f<int>"
  kind: "function";
  op: string; // class name, e.g. "Add"
  generation?: number;
  subgraph?: typeof GRAD_SUBGRAPH;
}

export type GraphNode = VariableNode | FunctionNode;

/** variable -> function (an input, `index` = input position) or function -> variable (an output). */
export interface Edge {
  source: string;
  target: string;
  index: number;
}

export interface Snapshot {
  version: typeof SNAPSHOT_VERSION;
  nodes: GraphNode[];
  edges: Edge[];
  outputs: string[]; // ids of the root variables the graph was traced from
  truncated: boolean;
  omitted: number; // nodes left out when truncated
  /** Tracing stopped counting the nodes left out: at least `omitted` of them. */
  omittedAtLeast?: true;
  /** How many drawn variables hold a grad with a creator (a graph backward(create_graph=True) built). */
  gradsWithGraph?: number;
  /** The calls of layers made while the graph was recorded under core.watching (outer boxes first). */
  layers?: LayerBox[];
}

/**
 * One call of a layer (a model's Linear...): the functions it applied, the variables made inside it
 * (not what it returned) and the parameters it owns. The view draws it as a box, or collapsed.
 */
export interface LayerBox {
  /** "l<int>", stable while the layer lives ("l<int>-<k>": its k-th call in one graph). */
  id: string;
  /** The layer's class name, e.g. "Linear". */
  layer: string;
  /** Its attribute name in the enclosing layer ("l0"), else its notebook name, else its class name. */
  label: string;
  /** Ids of the nodes directly in the box (a nested box's nodes are in that box). */
  members: string[];
  /** The enclosing box, listed before this one. */
  parent?: string;
}

/** What the view shows while the snapshot trait is still Python's default `{}`. */
export const EMPTY_SNAPSHOT: Snapshot = {
  version: SNAPSHOT_VERSION,
  nodes: [],
  edges: [],
  outputs: [],
  truncated: false,
  omitted: 0,
};

// ---------------------------------------------------------------------------------------------
// Synced state and messages (dezero_widget/widget.py)
// ---------------------------------------------------------------------------------------------

/**
 * The value of a %%autodiff cell's backward() roots (the loss), one per call: at most HISTORY_POINTS
 * of them, evenly spaced over the calls, newest last. Empty `values` when there is no history.
 */
export interface History {
  label: string; // what the values are of, e.g. "loss"; "" when unknown
  values: (number | null)[]; // null where a value was not finite
  steps: number[]; // the 1-based backward() call of each value
  total: number; // backward() calls recorded
}

/** The history trait's default in Python: nothing to chart. */
export const EMPTY_HISTORY: History = { label: "", values: [], steps: [], total: 0 };

/** One gradient added to a variable's grad during the recorded backward. */
export interface ReplayTerm {
  /** 1-based step of the function that sent it; 0 for the root's seed (ones). */
  step: number;
  /** That function's node id ("" for the seed). */
  source: string;
  value: ArraySummary;
  /** The variable's grad once this term was added. */
  total: ArraySummary;
}

/** One function applied by backward, in the order the engine applied them. */
export interface ReplayStep {
  /** The function's node id. */
  function: string;
  /** The grads that flowed in, one per output (the edge function -> output with that index). */
  gys: (ArraySummary | null)[];
  /** The grads it sent out, one per input (the edge input -> function with that index). */
  gxs: (ArraySummary | null)[];
}

export interface VariableReplay {
  /** The grad before this backward (null: there was none). */
  before: ArraySummary | null;
  terms: ReplayTerm[];
}

/** The newest backward recorded for the widget (dezero_widget/replay.py); EMPTY_REPLAY when none. */
export interface Replay {
  /** Node id of the variable backward ran from ("" when empty). */
  output: string;
  steps: ReplayStep[];
  /** The drawn variables that got a term, by node id. */
  variables: { [id: string]: VariableReplay };
  /** Ids of the variables whose earlier grad the terms were added to (a second backward()). */
  accumulated: string[];
}

/** The replay trait's default in Python: nothing recorded. */
export const EMPTY_REPLAY: Replay = { output: "", steps: [], variables: {}, accumulated: [] };

/** A variable's grad against a numerical gradient of an output. */
export interface GradCheck {
  ok: boolean;
  /** Largest absolute and relative differences (null when nothing was compared). */
  maxAbs: number | null;
  maxRel: number | null;
  /** Elements compared (an evenly spaced sample of big arrays), of `size`. */
  checked: number;
  size: number;
  /** Node id of the output differentiated. */
  output: string;
  /** One line for the learner. */
  message: string;
}

/** Traitlets synced between GraphWidget and the front end. */
export interface ModelState {
  snapshot: Snapshot;
  direction: Direction;
  status: string; // one short line, e.g. "Cleared 5 gradients."
  history: History;
  /** The newest recorded backward pass, or EMPTY_REPLAY. */
  replay: Replay;
  /** Gradient checks by variable node id. */
  checks: { [id: string]: GradCheck };
  /** Set by the front end: Python then draws the graph backward(create_graph=True) built. */
  grad_graph: boolean;
}

/** anywidget's model of one GraphWidget. */
export type WidgetModel = AnyModel<ModelState>;

/** Messages the front end sends (model.send). Python ignores anything else with a warning. */
export type ClientMessage =
  | { type: "hello" }
  | { type: "reset" }
  | { type: "backward"; output?: string }
  /** Check `node`'s grad numerically, against `output` (else the replay's output, else the first). */
  | { type: "grad-check"; node: string; output?: string };

/** Messages the kernel sends back (custom msg). */
export type ServerMessage = { type: "welcome" };

// ---------------------------------------------------------------------------------------------
// Field lists for the cross-language contract test, tied to the types above by tsc
// ---------------------------------------------------------------------------------------------

type Message<Union, Type> = Extract<Union, { type: Type }>;

/** Each shape of the contract by the name CONTRACT_FIELDS (and Python's contract_fields()) uses. */
interface ContractTypes {
  ArraySummary: ArraySummary;
  Thumbnail: Thumbnail;
  VariableNode: VariableNode;
  FunctionNode: FunctionNode;
  Edge: Edge;
  LayerBox: LayerBox;
  Snapshot: Snapshot;
  ModelState: ModelState;
  History: History;
  Replay: Replay;
  ReplayStep: ReplayStep;
  ReplayTerm: ReplayTerm;
  VariableReplay: VariableReplay;
  GradCheck: GradCheck;
  "ClientMessage.hello": Message<ClientMessage, "hello">;
  "ClientMessage.reset": Message<ClientMessage, "reset">;
  "ClientMessage.backward": Message<ClientMessage, "backward">;
  "ClientMessage.grad-check": Message<ClientMessage, "grad-check">;
  "ServerMessage.welcome": Message<ServerMessage, "welcome">;
}
export type ContractShape = keyof ContractTypes;

export interface FieldList {
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

export const CONTRACT_FIELDS = {
  ArraySummary: {
    required: ["shape", "dtype", "size", "preview"],
    optional: ["min", "max", "mean", "norm", "nan", "posinf", "neginf", "sampled", "thumbnail"],
  },
  Thumbnail: { required: ["rows", "cols", "lo", "hi", "cells"], optional: [] },
  VariableNode: {
    required: ["id", "kind", "label", "shape", "dtype", "data", "grad", "role"],
    optional: ["generation", "creator", "subgraph", "gradOf"],
  },
  FunctionNode: { required: ["id", "kind", "op"], optional: ["generation", "subgraph"] },
  Edge: { required: ["source", "target", "index"], optional: [] },
  LayerBox: { required: ["id", "layer", "label", "members"], optional: ["parent"] },
  Snapshot: {
    required: ["version", "nodes", "edges", "outputs", "truncated", "omitted"],
    optional: ["omittedAtLeast", "gradsWithGraph", "layers"],
  },
  ModelState: {
    required: ["snapshot", "direction", "status", "history", "replay", "checks", "grad_graph"],
    optional: [],
  },
  History: { required: ["label", "values", "steps", "total"], optional: [] },
  Replay: { required: ["output", "steps", "variables", "accumulated"], optional: [] },
  ReplayStep: { required: ["function", "gys", "gxs"], optional: [] },
  ReplayTerm: { required: ["step", "source", "value", "total"], optional: [] },
  VariableReplay: { required: ["before", "terms"], optional: [] },
  GradCheck: { required: ["ok", "maxAbs", "maxRel", "checked", "size", "output", "message"], optional: [] },
  "ClientMessage.hello": { required: ["type"], optional: [] },
  "ClientMessage.reset": { required: ["type"], optional: [] },
  "ClientMessage.backward": { required: ["type"], optional: ["output"] },
  "ClientMessage.grad-check": { required: ["type", "node"], optional: ["output"] },
  "ServerMessage.welcome": { required: ["type"], optional: [] },
} as const satisfies Record<ContractShape, FieldList>;

type RequiredKeys<T> = { [K in keyof T]-?: Pick<T, K> extends Required<Pick<T, K>> ? K : never }[keyof T] & string;
type OptionalKeys<T> = Exclude<keyof T & string, RequiredKeys<T>>;
/** "ok", or the fields a list leaves out or has wrong, by name. */
type Agreement<Listed extends FieldList, T> = [
  | Exclude<RequiredKeys<T>, Listed["required"][number]>
  | Exclude<Listed["required"][number], RequiredKeys<T>>
  | Exclude<OptionalKeys<T>, Listed["optional"][number]>
  | Exclude<Listed["optional"][number], OptionalKeys<T>>,
] extends [never]
  ? "ok"
  : {
      requiredButNotListed: Exclude<RequiredKeys<T>, Listed["required"][number]>;
      listedAsRequiredButNot: Exclude<Listed["required"][number], RequiredKeys<T>>;
      optionalButNotListed: Exclude<OptionalKeys<T>, Listed["optional"][number]>;
      listedAsOptionalButNot: Exclude<Listed["optional"][number], OptionalKeys<T>>;
    };
type AllAgree<T extends Record<ContractShape, "ok">> = T;
type NoneLeftOut<Names extends never> = Names;
/**
 * tsc fails here when a list of CONTRACT_FIELDS and its TypeScript type disagree (a field added to
 * one only, or listed in the wrong list; the error names the shape and the field), or when a message
 * type has no entry in ContractTypes.
 */
export type ContractFieldsAgree = [
  AllAgree<{ [N in ContractShape]: Agreement<(typeof CONTRACT_FIELDS)[N], ContractTypes[N]> }>,
  NoneLeftOut<
    Exclude<`ClientMessage.${ClientMessage["type"]}` | `ServerMessage.${ServerMessage["type"]}`, ContractShape>
  >,
];

// ---------------------------------------------------------------------------------------------
// Run-time checks of the contract: the contract test's validator, and the view's check of every
// snapshot and history it receives (it shows the first problem and ignores the value)
// ---------------------------------------------------------------------------------------------

/** One field's run-time test and the words a problem report uses for it. */
type Check = [test: (value: unknown) => boolean, expected: string];
type Checks<T> = { [K in keyof T]-?: Check };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
const isString = (value: unknown): value is string => typeof value === "string";
const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

/** The value checks of each shape, built on first use. */
function valueChecks(): ReturnType<typeof buildValueChecks> {
  builtChecks ??= buildValueChecks();
  return builtChecks;
}
let builtChecks: ReturnType<typeof buildValueChecks> | undefined;

function buildValueChecks() {
  const nullable = ([test, expected]: Check): Check => [
    (value) => value === null || test(value),
    `${expected} or null`,
  ];
  const oneOf = (...allowed: readonly unknown[]): Check => [
    (value) => allowed.includes(value),
    allowed.map((item) => JSON.stringify(item)).join(" or "),
  ];
  const string: Check = [isString, "a string"];
  const count: Check = [isCount, "a non-negative integer"];
  const nonZeroCount: Check = [(value) => isCount(value) && value > 0, "a positive integer"];
  const integer: Check = [Number.isInteger, "an integer"];
  const statistic = nullable([(value) => typeof value === "number" && Number.isFinite(value), "a finite number"]);
  const shape: Check = [(value) => Array.isArray(value) && value.every(isCount), "a list of non-negative integers"];
  // A summary's own fields are checked as an "ArraySummary" of their own.
  const summary = nullable([isObject, "an array summary"]);
  const subgraph = oneOf(GRAD_SUBGRAPH);
  const finite: Check = [(value) => typeof value === "number" && Number.isFinite(value), "a finite number"];
  const side: Check = [
    (value) => isCount(value) && value > 0 && value <= THUMBNAIL_MAX_SIDE,
    `an integer from 1 to ${THUMBNAIL_MAX_SIDE}`,
  ];
  const arraySummary: Checks<ArraySummary> = {
    shape,
    dtype: string,
    size: count,
    preview: string,
    min: statistic,
    max: statistic,
    mean: statistic,
    norm: statistic,
    nan: nonZeroCount,
    posinf: nonZeroCount,
    neginf: nonZeroCount,
    sampled: oneOf(true),
    // A thumbnail's own fields are checked as a "Thumbnail" of their own.
    thumbnail: [isObject, "a thumbnail"],
  };
  const thumbnail: Checks<Thumbnail> = {
    rows: side,
    cols: side,
    lo: finite,
    hi: finite,
    cells: [(value) => isString(value) && decodeBase64(value) !== null, "a base64 string"],
  };
  const history: Checks<History> = {
    label: string,
    values: [
      (value) => Array.isArray(value) && value.every((item) => item === null || Number.isFinite(item)),
      "a list of finite numbers or nulls",
    ],
    steps: [
      (value) => Array.isArray(value) && value.every((item) => isCount(item) && item > 0),
      "a list of positive integers",
    ],
    total: count,
  };
  const variableNode: Checks<VariableNode> = {
    id: string,
    kind: oneOf(NODE_KIND.variable),
    label: string,
    shape: nullable(shape),
    dtype: nullable(string),
    data: summary,
    grad: summary,
    role: oneOf(...ROLES),
    generation: integer,
    creator: string,
    subgraph,
    gradOf: string,
  };
  const functionNode: Checks<FunctionNode> = {
    id: string,
    kind: oneOf(NODE_KIND.function),
    op: [(value) => isString(value) && value !== "", "a non-empty string"],
    generation: integer,
    subgraph,
  };
  const edge: Checks<Edge> = { source: string, target: string, index: count };
  const strings: Check = [(value) => Array.isArray(value) && value.every(isString), "a list of strings"];
  const layerBox: Checks<LayerBox> = {
    id: [(value) => isString(value) && value !== "", "a non-empty string"],
    layer: string,
    label: string,
    members: strings,
    parent: string,
  };
  const snapshot: Checks<Snapshot> = {
    version: oneOf(SNAPSHOT_VERSION),
    nodes: [Array.isArray, "a list"],
    edges: [Array.isArray, "a list"],
    outputs: [(value) => Array.isArray(value) && value.every(isString), "a list of strings"],
    truncated: [(value) => typeof value === "boolean", "a boolean"],
    omitted: count,
    omittedAtLeast: oneOf(true),
    gradsWithGraph: count,
    // Each box is checked as a "LayerBox" of its own (checkLayers).
    layers: [Array.isArray, "a list"],
  };
  const list: Check = [Array.isArray, "a list"];
  const summaries: Check = [
    (value) => Array.isArray(value) && value.every((item) => item === null || isObject(item)),
    "a list of array summaries or nulls",
  ];
  // Summaries, steps, terms and variables are checked as shapes of their own (checkReplay).
  const replay: Checks<Replay> = {
    output: string,
    steps: list,
    variables: [isObject, "an object of variable replays by node id"],
    accumulated: [(value) => Array.isArray(value) && value.every(isString), "a list of strings"],
  };
  const replayStep: Checks<ReplayStep> = { function: string, gys: summaries, gxs: summaries };
  const replayTerm: Checks<ReplayTerm> = {
    step: count,
    source: string,
    value: [isObject, "an array summary"],
    total: [isObject, "an array summary"],
  };
  const variableReplay: Checks<VariableReplay> = { before: summary, terms: list };
  const difference: Check = [(value) => value === null || typeof value === "number", "a number or null"];
  const gradCheck: Checks<GradCheck> = {
    ok: [(value) => typeof value === "boolean", "a boolean"],
    maxAbs: difference,
    maxRel: difference,
    checked: count,
    size: count,
    output: string,
    message: string,
  };
  const serverMessages: { [T in ServerMessage["type"]]: Checks<Message<ServerMessage, T>> } = {
    welcome: { type: oneOf("welcome") },
  };
  return {
    arraySummary,
    thumbnail,
    history,
    variableNode,
    functionNode,
    edge,
    layerBox,
    snapshot,
    serverMessages,
    replay,
    replayStep,
    replayTerm,
    variableReplay,
    gradCheck,
  };
}

/** Longest quote of a wrong value in a problem report. */
const QUOTE_MAX_CHARS = 80;
/** Items of a list a problem report quotes: a huge list is never stringified whole. */
const QUOTE_MAX_ITEMS = 16;

/** `value` as a problem report quotes it: its JSON (NaN and the infinities by name), cut to QUOTE_MAX_CHARS. */
function quote(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  let sample = value;
  if (typeof value === "string") sample = value.slice(0, QUOTE_MAX_CHARS);
  else if (Array.isArray(value) && value.length > QUOTE_MAX_ITEMS) sample = value.slice(0, QUOTE_MAX_ITEMS);
  let text: string;
  try {
    text = JSON.stringify(sample) ?? String(sample);
  } catch {
    text = `a ${typeof value} that is not JSON`;
  }
  if (sample !== value && Array.isArray(value)) text = `${text.slice(0, -1)},… (${value.length} items)]`;
  return text.length <= QUOTE_MAX_CHARS ? text : `${text.slice(0, QUOTE_MAX_CHARS - 1)}…`;
}

/**
 * The bytes of strict base64 `text` (padded, no whitespace) as a binary string, else null. atob
 * (native in browsers, so cheaper than a regular expression) refuses other characters and takes
 * whitespace, which would give fewer bytes than the length promises.
 */
function decodeBase64(text: string): string | null {
  if (text === lastDecodedText) return lastDecodedBytes; // the "cells" check, then checkThumbnail
  let bytes: string | null = null;
  if (text.length % 4 === 0) {
    try {
      bytes = atob(text);
    } catch {
      bytes = null;
    }
    const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
    if (bytes !== null && bytes.length !== (text.length / 4) * 3 - padding) bytes = null;
  }
  lastDecodedText = text;
  lastDecodedBytes = bytes;
  return bytes;
}
let lastDecodedText = "";
let lastDecodedBytes: string | null = "";

/**
 * Where a problem is, or a function that says it: built only when there is a problem to report.
 * A `suffix` (".grad.thumbnail") names a part of it, so parts need no function of their own.
 */
type Where = string | (() => string);
const said = (where: Where, suffix = "") => `${typeof where === "string" ? where : where()}${suffix}`;

/**
 * Checks `value` against a shape's field list and its value checks; reports to `problems`.
 * Returns the value as a record when it is an object at all, so callers can look further.
 */
function checkShape(
  value: unknown,
  shape: ContractShape,
  checks: Record<string, Check>,
  where: Where,
  problems: string[],
  suffix = "",
): Record<string, unknown> | null {
  if (!isObject(value)) {
    problems.push(`${said(where, suffix)}: expected an object, got ${quote(value)}`);
    return null;
  }
  const fields = fieldsOf(shape, checks);
  const first = problems.length;
  let required = 0;
  for (const key of Object.keys(value)) {
    const field = fields.get(key);
    if (field === undefined) problems.push(`${said(where, suffix)}: unknown field ${quote(key)}`);
    else {
      if (field.required) required++;
      if (!field.test(value[key])) {
        problems.push(`${said(where, suffix)}: "${key}" should be ${field.expected}, got ${quote(value[key])}`);
      }
    }
  }
  const listed = CONTRACT_FIELDS[shape].required;
  if (required < listed.length) {
    const missing = listed.filter((key) => !Object.hasOwn(value, key));
    problems.splice(first, 0, ...missing.map((key) => `${said(where, suffix)}: missing required field "${key}"`));
  }
  return value;
}

/** One field of a shape: its check, and whether the shape requires it. */
interface Field {
  test: Check[0];
  expected: string;
  required: boolean;
}
const fieldMaps = new WeakMap<Record<string, Check>, Map<string, Field>>();

/**
 * A shape's fields by name, made once per `checks` (which has exactly the shape's required and
 * optional fields: Checks<T> and tsc see to it). One map lookup per field keeps checkSnapshot cheap.
 */
function fieldsOf(shape: ContractShape, checks: Record<string, Check>): Map<string, Field> {
  let fields = fieldMaps.get(checks);
  if (!fields) {
    const required: readonly string[] = CONTRACT_FIELDS[shape].required;
    fields = new Map(
      Object.entries(checks).map(([key, [test, expected]]) => [
        key,
        { test, expected, required: required.includes(key) },
      ]),
    );
    fieldMaps.set(checks, fields);
  }
  return fields;
}

/**
 * Problems with a snapshot, in words (empty when it is valid): every node, edge and summary has
 * exactly the contract's fields with values of the right types and enums, ids are unique, and every
 * reference (edge ends, creator, outputs) names a node of the snapshot (trace.py drops references to
 * nodes it left out, even when truncated).
 */
export function checkSnapshot(value: unknown): string[] {
  const checks = valueChecks();
  const problems: string[] = [];
  const snapshot = checkShape(value, "Snapshot", checks.snapshot, "snapshot", problems);
  if (!snapshot) return problems;
  const kinds = new Map<string, GraphNode["kind"]>();
  const creators: Array<[where: Where, id: unknown]> = [];
  // A variable's summaries: the field, and the suffixes naming it and its thumbnail in problems.
  const summaryParts = [
    [ROLE.data, ".data", ".data.thumbnail"],
    [ROLE.grad, ".grad", ".grad.thumbnail"],
  ] as const;
  const nodes: unknown[] = Array.isArray(snapshot.nodes) ? snapshot.nodes : [];
  nodes.forEach((node, i) => {
    const id = isObject(node) && isString(node.id) ? node.id : null;
    const where = () => `nodes[${i}]${id === null ? "" : ` (${id.length <= QUOTE_MAX_CHARS ? id : quote(id)})`}`;
    const kind = isObject(node) ? node.kind : undefined;
    if (kind !== NODE_KIND.variable && kind !== NODE_KIND.function) {
      problems.push(`${where()}: "kind" should be "variable" or "function", got ${quote(kind)}`);
      return;
    }
    const checked =
      kind === NODE_KIND.variable
        ? checkShape(node, "VariableNode", checks.variableNode, where, problems)
        : checkShape(node, "FunctionNode", checks.functionNode, where, problems);
    if (!checked) return;
    if (isString(checked.id)) {
      if (kinds.has(checked.id)) problems.push(`${where()}: duplicate id ${quote(checked.id)}`);
      kinds.set(checked.id, kind);
    }
    for (const [role, at, thumbnailAt] of summaryParts) {
      if (!isObject(checked[role])) continue;
      const summary = checkShape(checked[role], "ArraySummary", checks.arraySummary, where, problems, at);
      if (summary && isObject(summary.thumbnail)) {
        checkThumbnail(summary.thumbnail, checks.thumbnail, where, problems, thumbnailAt);
      }
    }
    if ("creator" in checked) creators.push([where, checked.creator]);
  });

  const edges: unknown[] = Array.isArray(snapshot.edges) ? snapshot.edges : [];
  edges.forEach((edge, e) => {
    const where = () => `edges[${e}]`;
    const checked = checkShape(edge, "Edge", checks.edge, where, problems);
    if (!checked) return;
    const source = kinds.get(checked.source as string);
    const target = kinds.get(checked.target as string);
    if (!source) problems.push(`${where()}: source ${quote(checked.source)} is not a node of the snapshot`);
    if (!target) problems.push(`${where()}: target ${quote(checked.target)} is not a node of the snapshot`);
    if (source && target && source === target) {
      problems.push(`${where()}: joins two ${source} nodes; an edge joins a variable and a function`);
    }
  });
  for (const [where, id] of creators) {
    if (kinds.get(id as string) !== NODE_KIND.function) {
      problems.push(`${said(where)}: creator ${quote(id)} is not a function node of the snapshot`);
    }
  }
  if (Array.isArray(snapshot.layers)) checkLayers(snapshot.layers, kinds, checks.layerBox, problems);
  const outputs: unknown[] = Array.isArray(snapshot.outputs) ? snapshot.outputs : [];
  outputs.forEach((id, k) => {
    if (kinds.get(id as string) !== NODE_KIND.variable) {
      problems.push(`outputs[${k}]: ${quote(id)} is not a variable node of the snapshot`);
    }
  });
  const { truncated, omitted } = snapshot;
  if (typeof truncated === "boolean" && isCount(omitted) && truncated !== omitted > 0) {
    problems.push(`snapshot: "truncated" is ${truncated} but "omitted" is ${omitted}`);
  }
  if (snapshot.omittedAtLeast === true && truncated !== true) {
    problems.push('snapshot: "omittedAtLeast" is set but "truncated" is not true');
  }
  return problems;
}

/**
 * The layer boxes: the contract's fields, ids unique (and no node's), members nodes of the snapshot,
 * each node in one box at most, and a parent listed before its child (so nesting has no cycle).
 */
function checkLayers(
  boxes: unknown[],
  kinds: ReadonlyMap<string, GraphNode["kind"]>,
  checks: Record<string, Check>,
  problems: string[],
): void {
  const seen = new Set<string>();
  const boxed = new Set<string>();
  boxes.forEach((box, b) => {
    const where = () => `layers[${b}]`;
    const before = problems.length;
    const checked = checkShape(box, "LayerBox", checks, where, problems);
    if (!checked || problems.length > before) return;
    const { id, members, parent } = checked as unknown as LayerBox;
    if (seen.has(id) || kinds.has(id)) problems.push(`${where()}: duplicate id ${quote(id)}`);
    if (parent !== undefined && !seen.has(parent)) {
      problems.push(`${where()}: parent ${quote(parent)} is not a box listed before it`);
    }
    seen.add(id);
    for (const member of members) {
      if (!kinds.has(member)) problems.push(`${where()}: member ${quote(member)} is not a node of the snapshot`);
      else if (boxed.has(member)) problems.push(`${where()}: member ${quote(member)} is in another box too`);
      boxed.add(member);
    }
  });
}

/** A thumbnail's fields, then its cells: rows x cols bytes, each on the scale or a special code. */
function checkThumbnail(
  value: unknown,
  checks: Record<string, Check>,
  where: Where,
  problems: string[],
  suffix: string,
): void {
  const before = problems.length;
  const thumbnail = checkShape(value, "Thumbnail", checks, where, problems, suffix);
  if (!thumbnail || problems.length > before) return;
  const { rows, cols, lo, hi, cells } = thumbnail as unknown as Thumbnail;
  if (lo > hi) problems.push(`${said(where, suffix)}: "lo" (${lo}) is above "hi" (${hi})`);
  const bytes = decodeBase64(cells) ?? ""; // valid: the "cells" check passed
  if (bytes.length !== rows * cols) {
    problems.push(`${said(where, suffix)}: "cells" holds ${bytes.length} bytes, expected rows x cols = ${rows * cols}`);
  }
  const past = PAST_LAST_CODE.exec(bytes);
  if (past) {
    const code = bytes.charCodeAt(past.index);
    problems.push(`${said(where, suffix)}: cell ${past.index} is ${code}, past the last code ${THUMBNAIL_CODE.neginf}`);
  }
}

/** A byte past THUMBNAIL_CODE.neginf (253) in a decoded cells string. */
const PAST_LAST_CODE = /[\u00fe\u00ff]/;

/**
 * Problems with a history trait's value, in words (empty when it is valid): the contract's fields,
 * one step per value, steps rising and within `total`, at most HISTORY_POINTS values.
 */
export function checkHistory(value: unknown): string[] {
  const problems: string[] = [];
  const history = checkShape(value, "History", valueChecks().history, "history", problems);
  if (!history || problems.length > 0) return problems;
  const { values, steps, total } = history as unknown as History;
  if (values.length !== steps.length) {
    problems.push(`history: ${values.length} values but ${steps.length} steps`);
  }
  if (values.length > HISTORY_POINTS) {
    problems.push(`history: ${values.length} values, more than HISTORY_POINTS (${HISTORY_POINTS})`);
  }
  if (steps.some((step, k) => k > 0 && step <= steps[k - 1])) problems.push("history: steps do not rise");
  if (steps.length > 0 && steps[steps.length - 1] > total) {
    problems.push(`history: step ${steps[steps.length - 1]} is past "total" (${total})`);
  }
  return problems;
}

/**
 * Problems with a replay trait's value, in words (empty when it is valid): the contract's fields in
 * every step, variable and term, each summary an ArraySummary, terms in step order and each term's
 * step one of the replay's (0 only for the seed, whose source is "").
 */
export function checkReplay(value: unknown): string[] {
  const checks = valueChecks();
  const problems: string[] = [];
  const replay = checkShape(value, "Replay", checks.replay, "replay", problems);
  if (!replay || problems.length > 0) return problems;
  const summaryAt = (item: unknown, where: string) => {
    const summary = checkShape(item, "ArraySummary", checks.arraySummary, where, problems);
    if (summary && isObject(summary.thumbnail)) {
      checkThumbnail(summary.thumbnail, checks.thumbnail, where, problems, ".thumbnail");
    }
  };
  const steps = replay.steps as unknown[];
  steps.forEach((step, k) => {
    const where = `replay.steps[${k}]`;
    const checked = checkShape(step, "ReplayStep", checks.replayStep, where, problems);
    if (!checked) return;
    for (const part of ["gys", "gxs"] as const) {
      const items = checked[part];
      if (!Array.isArray(items)) continue;
      items.forEach((item, i) => {
        if (item !== null) summaryAt(item, `${where}.${part}[${i}]`);
      });
    }
  });
  for (const [id, variable] of Object.entries(replay.variables as Record<string, unknown>)) {
    const where = `replay.variables[${quote(id)}]`;
    const checked = checkShape(variable, "VariableReplay", checks.variableReplay, where, problems);
    if (!checked) continue;
    if (isObject(checked.before)) summaryAt(checked.before, `${where}.before`);
    const terms: unknown[] = Array.isArray(checked.terms) ? checked.terms : [];
    let previous = -1;
    terms.forEach((term, t) => {
      const at = `${where}.terms[${t}]`;
      const before = problems.length;
      const item = checkShape(term, "ReplayTerm", checks.replayTerm, at, problems);
      if (!item || problems.length > before) return;
      summaryAt(item.value, `${at}.value`);
      summaryAt(item.total, `${at}.total`);
      const step = item.step as number;
      if (step > steps.length) problems.push(`${at}: step ${step} is past the ${steps.length} steps`);
      if (step < previous) problems.push(`${at}: step ${step} is before the previous term's step ${previous}`);
      if ((step === 0) !== (item.source === "")) {
        problems.push(`${at}: only the seed (step 0) has no source, got step ${step} from ${quote(item.source)}`);
      }
      previous = step;
    });
  }
  return problems;
}

/** Problems with a checks trait's value, in words (empty when it maps node ids to GradChecks). */
export function checkChecks(value: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(value)) return [`checks: expected an object, got ${quote(value)}`];
  const checks = valueChecks().gradCheck;
  for (const [id, check] of Object.entries(value)) {
    checkShape(check, "GradCheck", checks, `checks[${quote(id)}]`, problems);
  }
  return problems;
}

/** Problems with a grad_graph trait's value, in words (empty when it is a boolean). */
export function checkGradGraph(value: unknown): string[] {
  return typeof value === "boolean" ? [] : [`grad_graph: should be a boolean, got ${quote(value)}`];
}

/** Problems with a direction trait's value, in words (empty when it is one of DIRECTIONS). */
export function checkDirection(value: unknown): string[] {
  if ((DIRECTIONS as readonly unknown[]).includes(value)) return [];
  return [`direction: should be ${DIRECTIONS.map((item) => JSON.stringify(item)).join(" or ")}, got ${quote(value)}`];
}

/** Problems with a status trait's value, in words (empty when it is a string). */
export function checkStatus(value: unknown): string[] {
  return isString(value) ? [] : [`status: should be a string, got ${quote(value)}`];
}

/** Problems with a message from the kernel, in words (empty when it is a valid ServerMessage). */
export function checkServerMessage(value: unknown): string[] {
  const checks = valueChecks().serverMessages;
  const type = isObject(value) ? value.type : undefined;
  if (!isString(type) || !Object.hasOwn(checks, type)) {
    const known = Object.keys(checks).map((name) => JSON.stringify(name));
    return [`message: "type" should be ${known.join(" or ")}, got ${quote(type)}`];
  }
  const kind = type as ServerMessage["type"];
  const problems: string[] = [];
  checkShape(value, `ServerMessage.${kind}`, checks[kind], "message", problems);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// DOM hooks: the attributes and values browser tests, benchmarks and DESIGN.md rely on
// ---------------------------------------------------------------------------------------------

export const ATTR = {
  testId: "data-testid",
  /** On the root: how nodes are drawn ("svg": one element per node). */
  render: "data-render",
  /** On the root: ROOT_STATE. */
  state: "data-state",
  /** On the root: the layout engine that placed the nodes (LAYOUT_ENGINE). */
  engine: "data-engine",
  /** On the root: DETAIL, whether node texts are painted at the current zoom. */
  detail: "data-detail",
  nodeKind: "data-node-kind",
  nodeId: "data-node-id",
  /** On a variable node: the label it shows. */
  nodeName: "data-node-name",
  /** On a function node: its class name. */
  op: "data-op",
  /** On a layer's box: the layer's class name (e.g. "Linear"). */
  layer: "data-layer",
  /** On a layer's box: "true" while it is drawn as one node, "false" while open. */
  collapsed: "data-collapsed",
  role: "data-role",
  action: "data-action",
  /** On the history chart: how many values it shows. */
  count: "data-count",
  /** On a thumbnail: the summary it pictures, "data" or "grad". */
  of: "data-of",
  /** On the root: "on" while a plain wheel zooms (the graph was clicked), else "off". */
  wheelZoom: "data-wheel-zoom",
  /** On the step position: the step shown (0 = before the first function, `data-steps` = done). */
  step: "data-step",
  /** On the step position: how many functions the recorded backward applied. */
  steps: "data-steps",
  /** On a node: NODE_STATE ("active": the function applied at the step shown). */
  nodeState: "data-state",
  /** On a gradient check's result: "true" when it passed, else "false". */
  ok: "data-ok",
  /** On a variable node whose grad was checked: CHECK_MARK. */
  check: "data-check",
  /** On a variable node in predict mode, once revealed: GUESS_MARK. */
  guess: "data-guess",
} as const;

/** Values of ATTR.nodeState on a node. */
export const NODE_STATE = { active: "active" } as const;
/** Values of ATTR.check on a variable node. */
export const CHECK_MARK = { pass: "pass", fail: "fail" } as const;
/** Values of ATTR.guess on a variable node. */
export const GUESS_MARK = { right: "right", wrong: "wrong" } as const;

/** data-testid of the widget's root element. */
export const TEST_ID = "autodiff-graph";

export const RENDER = { svg: "svg" } as const;

export const ROOT_STATE = {
  /** Mounted, nothing drawn yet. */
  empty: "empty",
  /** A layout (and then the drawing) is in progress. */
  layout: "layout",
  /** The last layout failed (the error line says why). */
  error: "error",
  /** Drawn and painted, values up to date. */
  ready: "ready",
} as const;

export const DETAIL = { full: "full", shapes: "shapes" } as const;

export const LAYOUT_ENGINE = { dagre: "dagre", layered: "layered" } as const;
export type LayoutEngine = (typeof LAYOUT_ENGINE)[keyof typeof LAYOUT_ENGINE];

/** data-node-kind of a layer's box (collapsed to one node, or open around its members). */
export const LAYER_KIND = "layer";

export const NODE_KIND = { variable: "variable", function: "function" } as const satisfies {
  [K in GraphNode["kind"]]: K;
};

export const ROLE = {
  /** A variable's data text, inside its node. */
  data: "data",
  /** A variable's grad text, inside its node ("None" when it has no grad). */
  grad: "grad",
  /** A variable's label text, inside its node (the same text as its data-node-name). */
  label: "label",
  /** A heatmap of a variable's data or grad (ATTR.of says which), inside its node. */
  thumbnail: "thumbnail",
  /** The chart of the history trait (the loss over a cell's backward() calls); ATTR.count values. */
  history: "history",
  /** The overview of the whole graph with the viewport's rectangle; a click or drag moves the view. */
  minimap: "minimap",
  /** The short hint a plain wheel over the graph shows (how to zoom). */
  hint: "hint",
  /** The status trait's line. */
  status: "status",
  /** The kernel connection note (empty while the kernel answers). */
  connection: "connection",
  /** The note that a truncated snapshot left nodes out. */
  truncated: "truncated",
  /** The last failure of a layout or an export. */
  error: "error",
  /** The output selector for Backward, shown for several outputs. */
  outputSelect: "output-select",
  inspector: "inspector",
  inspectorData: "inspector-data",
  inspectorGrad: "inspector-grad",
  /** The step position of a replayed backward (ATTR.step of ATTR.steps), with its words. */
  step: "step",
  /** The row of step controls, shown while there is a replay to step through. */
  stepBar: "step-bar",
  /** The slider of the step bar. */
  stepSlider: "step-slider",
  /** A grad on an edge at the step shown: gy into the active function, gx out of it. */
  edgeGrad: "edge-grad",
  /** The terms a variable's grad is the sum of (inspector), one child per term. */
  contributions: "contributions",
  /** The note that a backward added onto grads from an earlier one. */
  accumulated: "accumulated",
  /** A gradient check's result (inspector), ATTR.ok. */
  gradCheck: "grad-check",
  /** The badge of a gradient check on a node. */
  checkBadge: "check-badge",
  /** A variable's guess input in predict mode. */
  guess: "guess",
  /** The inspector's before -> after of a value that changed since the previous snapshot. */
  change: "change",
} as const;

export const ACTION = {
  backward: "backward",
  reset: "reset",
  fit: "fit",
  exportSvg: "export-svg",
  exportPng: "export-png",
  zoomIn: "zoom-in",
  zoomOut: "zoom-out",
  closeInspector: "close-inspector",
  stepBack: "step-back",
  stepForward: "step-forward",
  /** Toggle: show the graph backward(create_graph=True) built (aria-pressed). */
  gradGraph: "grad-graph",
  /** Inspector: check the variable's grad numerically. */
  gradCheck: "grad-check",
  /** Toggle: hide the grads and take guesses (aria-pressed). */
  predict: "predict",
} as const;

/** Dispatched on the root once a render is painted; detail: RenderedDetail. */
export const RENDERED_EVENT = "dzw-rendered";
export interface RenderedDetail {
  /** "layout": a new drawing; "values": texts updated in place. */
  mode: "layout" | "values";
}
