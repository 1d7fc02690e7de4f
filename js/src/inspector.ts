// The inspector: the selected node, its outline, the highlight of its incident edges, and the panel.

import { html, svg } from "./dom";
import { edgeShape, edgeSlots } from "./edges";
import { neighbourhood } from "./graph";
import { fillPanel } from "./inspectorPanel";
import type { LayoutInput } from "./layout";
import { ATTR, type GraphNode, ROLE } from "./protocol";
import type { Scene } from "./renderer";

const SELECTED_CLASS = "dzw-selected";

export class Inspector {
  readonly panel: HTMLElement;
  private byId = new Map<string, GraphNode>();
  private selectedId: string | null = null;
  /** Edge fan-out slots of the scene's layout input, computed on the first highlight after a layout. */
  private slots: { input: LayoutInput; value: ReturnType<typeof edgeSlots> } | null = null;

  /**
   * `highlightLayer` is the drawing's layer for highlighted edges; `scene` gives what is on screen;
   * `extend` adds to (or hides parts of) the panel once it is filled for a node; `toggled` hears
   * of the panel opened by a click on a node (its id) and of the panel closed (null).
   */
  constructor(
    doc: Document,
    private readonly highlightLayer: SVGGElement,
    private readonly scene: () => Scene | null,
    private readonly extend?: (node: GraphNode, panel: HTMLElement) => void,
    private readonly toggled?: (id: string | null) => void,
  ) {
    this.panel = html(doc, "aside", { class: "dzw-inspector", [ATTR.role]: ROLE.inspector });
    this.panel.hidden = true;
  }

  /** Takes the snapshot's nodes: the selection is shown again with new values, or closed if gone. */
  setNodes(byId: Map<string, GraphNode>): void {
    this.byId = byId;
    if (!this.selectedId) return;
    if (byId.has(this.selectedId)) this.select(this.selectedId);
    else this.close();
  }

  /** Shows the selection again on a new drawing. */
  redraw(): void {
    if (this.selectedId && this.byId.has(this.selectedId)) this.select(this.selectedId);
  }

  /** A click in the node layer selects the node it landed in. */
  onNodeClick(event: Event): void {
    const target = (event.target as Element).closest?.(`[${ATTR.nodeId}]`);
    const id = target?.getAttribute(ATTR.nodeId);
    if (!id || !this.byId.has(id)) return;
    this.select(id);
    this.toggled?.(id);
  }

  select(id: string): void {
    const node = this.byId.get(id);
    if (!node) return;
    const scene = this.scene();
    const drawn = scene?.drawing?.nodes;
    if (this.selectedId && this.selectedId !== id) drawn?.get(this.selectedId)?.group.classList.remove(SELECTED_CLASS);
    this.selectedId = id;
    drawn?.get(id)?.group.classList.add(SELECTED_CLASS);
    const around = scene ? neighbourhood(scene.graph, id) : { inputs: [], outputs: [], edges: [] };
    this.highlight(around.edges);
    fillPanel(this.panel, node, this.byId, around, () => this.close());
    this.extend?.(node, this.panel);
  }

  close(): void {
    if (this.selectedId) this.scene()?.drawing?.nodes.get(this.selectedId)?.group.classList.remove(SELECTED_CLASS);
    this.selectedId = null;
    this.panel.hidden = true;
    this.panel.replaceChildren();
    this.highlight([]);
    this.toggled?.(null);
  }

  /** Redraws the highlight layer: the given edges, as one path of curves and one of arrowheads. */
  private highlight(edges: number[]): void {
    this.highlightLayer.replaceChildren();
    const scene = this.scene();
    if (!scene?.drawing || edges.length === 0) return;
    const { input, layout } = scene;
    if (this.slots?.input !== input) this.slots = { input, value: edgeSlots(input) };
    const slots = this.slots.value;
    const shapes = edges.map((e) => edgeShape(input, layout, e, slots));
    const doc = this.highlightLayer.ownerDocument;
    this.highlightLayer.append(
      svg(doc, "path", { class: "dzw-edge-hl", d: shapes.map((shape) => shape.path).join("") }),
      svg(doc, "path", { class: "dzw-arrow-hl", d: shapes.map((shape) => shape.arrow).join("") }),
    );
  }
}
