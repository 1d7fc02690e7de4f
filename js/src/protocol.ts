// The Python <-> front-end contract, declared once.
// Python side: dezero_widget/trace.py builds `Snapshot`; dezero_widget/widget.py
// owns the traitlets of `ModelState` and validates every `ClientMessage`.

/** A summary of one ndarray; never the whole array. */
export interface ArraySummary {
  shape: number[];
  dtype: string;
  size: number;
  /** Short text preview: exact for scalars, whole for small arrays, head…tail past a bound. */
  preview: string;
  /** Only for numeric arrays with more than one element. */
  min?: number | null;
  max?: number | null;
  mean?: number | null;
  /** Counts, present only when non-zero. */
  nan?: number;
  posinf?: number;
  neginf?: number;
}

export type Role = "input" | "param" | "intermediate" | "output";

export interface VariableNode {
  id: string; // "v<int>", stable for the lifetime of the Python object
  kind: "variable";
  label: string; // name, or the user-namespace name, or "" (front end then shows shape/dtype)
  shape: number[] | null;
  dtype: string | null;
  data: ArraySummary | null;
  grad: ArraySummary | null;
  role: Role;
  generation?: number;
  creator?: string; // id of the function node that made it
  subgraph?: "grad"; // absent for the main graph; "grad" for the create_graph grad-of-grad graph
}

export interface FunctionNode {
  id: string; // "f<int>"
  kind: "function";
  op: string; // class name, e.g. "Add"
  generation?: number;
  subgraph?: "grad";
}

export type GraphNode = VariableNode | FunctionNode;

/** variable -> function (an input, `index` = input position) or function -> variable (an output). */
export interface Edge {
  source: string;
  target: string;
  index: number;
}

export interface Snapshot {
  version: 1;
  nodes: GraphNode[];
  edges: Edge[];
  outputs: string[]; // ids of the root variables the graph was traced from
  truncated: boolean;
  omitted: number; // nodes left out when truncated
}

/** Traitlets synced between GraphWidget and the front end. */
export interface ModelState {
  snapshot: Snapshot;
  direction: "LR" | "TB";
  status: string; // one short line, e.g. "Cleared 5 gradients."
}

/** Messages the front end sends (model.send). Python ignores anything else with a warning. */
export type ClientMessage =
  | { type: "hello" }
  | { type: "reset" }
  | { type: "backward"; output?: string };

/** Messages the kernel sends back (custom msg). */
export type ServerMessage = { type: "welcome" };
