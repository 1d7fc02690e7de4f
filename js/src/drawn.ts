// The live elements of a drawing (draw.ts makes them; layers, annotations and predict mode
// reach into them): types only, so that every module that draws can share them.
import type { IndexedGraph, Reservation, VariableGeometry, VariableText } from "./graph";
import type { ROLE, Thumbnail } from "./protocol";

/** Which of a variable's two summaries: its data or its grad. */
export type Of = typeof ROLE.data | typeof ROLE.grad;

/** The live elements of a drawn variable and the room its parts were placed in. */
export interface DrawnVariable {
  head: SVGTextElement;
  /** data-role="label": the label shown, also the group's data-node-name. */
  label: SVGTSpanElement;
  detail: SVGTSpanElement;
  data: SVGTSpanElement;
  grad: SVGTSpanElement;
  /** data-role="thumbnail" images, present while the summary has a thumbnail (and the node is near). */
  images: Record<Of, SVGImageElement | null>;
  /** The thumbnails the images show. */
  imaged: Record<Of, Thumbnail | null>;
  room: Reservation;
  headShown: boolean;
  geometry: VariableGeometry;
  /** What the node shows now. */
  text: VariableText;
}

/** The live elements of one drawn node. */
export interface DrawnNode {
  group: SVGGElement;
  shape: SVGElement;
  /** Centre, where the layout put the node. */
  x: number;
  y: number;
  /** Far from the view: texts hidden, thumbnails left to make. */
  far: boolean;
  /** Present for variables. */
  variable: DrawnVariable | null;
}

export interface Drawing {
  /** The graph drawn: what value refreshes look creators up in. */
  graph: IndexedGraph;
  nodes: Map<string, DrawnNode>;
  /** The same nodes in the graph's order. */
  list: DrawnNode[];
}
