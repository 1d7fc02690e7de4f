// What the view shows of backward itself (issue 11), composed in one place for app.ts: the step
// bar over the recorded replay, the accumulation note, predict mode, the grad-graph toggle, the
// marks on the drawing (annotate.ts) and the inspector's contributions, before -> after and
// gradient check.
import { Annotations } from "./annotate";
import { html, toggleButton } from "./dom";
import { checkSection } from "./gradCheck";
import { changeSection, contributionsSection } from "./inspectorPanel";
import { PredictMode } from "./predict";
import {
  ACTION,
  ATTR,
  EMPTY_REPLAY,
  EMPTY_SNAPSHOT,
  type GradCheck,
  type GraphNode,
  NODE_KIND,
  type Replay,
  ROLE,
  type Snapshot,
} from "./protocol";
import type { Scene } from "./renderer";
import { StepBar } from "./stepper";
import { accumulatedNote, contributions } from "./stepping";

/** What the part asks of the rest of the view. */
export interface BackwardViewHost {
  /** What is on screen (null before the first drawing). */
  scene(): Scene | null;
  /** Whether the drawing on screen is of the newest snapshot's structure (not being laid out). */
  drawingCurrent(): boolean;
  /** Asks the kernel to check a variable's grad numerically. */
  requestCheck(node: string, output: string | undefined): void;
  /** Sets the grad_graph trait. */
  setGradGraph(on: boolean): void;
  /** The inspector's contents depend on what changed: fill it again. */
  redrawInspector(): void;
}

/** How long the check button says "Checking…" at most (ms). */
const CHECK_WAIT_MS = 4000;
/** The class on the root while predict mode hides the grads (thumbnails of grads hide too). */
const PREDICTING_CLASS = "dzw-predicting";
/** The class on the root while a step before the end is shown (grad thumbnails are of the end). */
const STEPPING_CLASS = "dzw-stepping";

export class BackwardView {
  /** Rows under the toolbar: the step bar and the accumulation note. */
  readonly rows: HTMLElement[];
  /** Toolbar controls: the grad-graph and predict toggles. */
  readonly controls: HTMLElement[];
  readonly annotations: Annotations;
  private readonly stepBar: StepBar;
  private readonly predict: PredictMode;
  private readonly gradGraphButton: HTMLButtonElement;
  private readonly note: HTMLDivElement;
  private snapshot: Snapshot = EMPTY_SNAPSHOT;
  private byId: ReadonlyMap<string, GraphNode> = new Map();
  /** The nodes of the snapshot shown before this one (for before -> after). */
  private previousById: ReadonlyMap<string, GraphNode> = new Map();
  private replay: Replay = EMPTY_REPLAY;
  private checks: Readonly<Record<string, GradCheck>> = {};
  private readonly pending = new Set<string>();
  private gradGraph = false;
  private controlsEnabled = false;
  /** A snapshot's changed values still to highlight (once its drawing is on screen). */
  private flashPending = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: BackwardViewHost,
  ) {
    const doc = root.ownerDocument;
    this.annotations = new Annotations(doc);
    this.stepBar = new StepBar(
      doc,
      () => {
        this.refresh();
        host.redrawInspector();
      },
      root,
    );
    this.predict = new PredictMode(doc, () => {
      this.refresh();
      host.redrawInspector();
    });
    this.gradGraphButton = toggleButton(
      doc,
      ACTION.gradGraph,
      "Show the graph that backward(create_graph=True) built (the grads' own graph)",
      "Grad graph",
    );
    this.gradGraphButton.disabled = true;
    this.gradGraphButton.addEventListener("click", () => host.setGradGraph(!this.gradGraph));
    this.note = html(doc, "div", { class: "dzw-accumulated", [ATTR.role]: ROLE.accumulated, "aria-live": "polite" });
    this.note.hidden = true;
    this.rows = [this.stepBar.element, this.note];
    this.controls = [this.gradGraphButton, this.predict.button];
  }

  /** Puts the marks' layers in the drawing: under the nodes, and above them (edge grads, guesses). */
  attach(viewportGroup: SVGGElement, nodeLayer: SVGGElement): void {
    viewportGroup.insertBefore(this.annotations.under, nodeLayer);
    nodeLayer.after(this.annotations.over, this.predict.layer);
  }

  /** Takes the layer of guess inputs out of the drawing (exports); returns what puts it back. */
  detachInputs(): () => void {
    const layer = this.predict.layer;
    const parent = layer.parentNode;
    const next = layer.nextSibling;
    layer.remove();
    return () => parent?.insertBefore(layer, next);
  }

  setControlsEnabled(enabled: boolean): void {
    this.controlsEnabled = enabled;
    this.showGradGraph();
  }

  /** A new snapshot (before it is drawn): predict mode reveals, the previous values are kept. */
  setSnapshot(snapshot: Snapshot, byId: ReadonlyMap<string, GraphNode>): void {
    if (snapshot === this.snapshot) return;
    this.previousById = this.snapshot === EMPTY_SNAPSHOT ? new Map() : this.byId;
    this.snapshot = snapshot;
    this.byId = byId;
    this.flashPending = true;
    this.predict.snapshotArrived(snapshot);
    this.stepBar.setReplay(this.replay, byId);
    this.showNote();
    this.showGradGraph();
  }

  setReplay(replay: Replay): void {
    this.replay = replay;
    this.stepBar.setReplay(replay, this.byId);
    this.showNote();
    this.refresh();
  }

  setChecks(checks: Readonly<Record<string, GradCheck>>): void {
    for (const id of Object.keys(checks)) {
      if (checks[id] !== this.checks[id]) this.pending.delete(id);
    }
    this.checks = checks;
    this.refresh();
  }

  setGradGraph(on: boolean): void {
    this.gradGraph = on;
    this.showGradGraph();
  }

  /** A status line came: a check asked for has been answered (or refused), whatever the checks say. */
  statusChanged(): void {
    if (this.pending.size === 0) return;
    this.pending.clear();
    this.host.redrawInspector();
  }

  backwardClicked(): void {
    this.predict.backwardClicked();
  }

  resetClicked(): void {
    this.predict.resetClicked();
    this.refresh();
  }

  /** ←/→ on the widget step through the replay; returns whether the key was used. */
  handleKey(event: KeyboardEvent): boolean {
    return this.stepBar.handleKey(event);
  }

  /**
   * Applies the marks to what is on screen; call after every drawing and value update. `drawn`: a
   * drawing of the newest snapshot was just completed (else the host tells whether it is current).
   */
  refresh(drawn = false): void {
    const scene = this.host.scene();
    const replay = this.stepBar.shown;
    const stepping = replay !== null && this.stepBar.touched && this.stepBar.step < replay.steps.length;
    this.root.classList.toggle(PREDICTING_CLASS, this.predict.hidesGrads);
    this.root.classList.toggle(STEPPING_CLASS, stepping && !this.predict.hidesGrads);
    if (!scene?.drawing) return;
    // Changed values are highlighted once, on a drawing of the new snapshot.
    if (this.flashPending && (drawn || this.host.drawingCurrent())) {
      this.flashPending = false;
      this.annotations.flashChanges(scene, this.previousById, this.snapshot);
    }
    this.annotations.apply(scene, {
      snapshot: this.snapshot,
      replay,
      step: this.stepBar.step,
      touched: this.stepBar.touched,
      checks: this.checks,
      hideGrads: this.predict.hidesGrads,
    });
    this.predict.apply(scene.drawing, this.snapshot.nodes);
  }

  /** Adds to the inspector's panel of a variable: before -> after, contributions, gradient check. */
  extendPanel(node: GraphNode, panel: HTMLElement): void {
    if (node.kind !== NODE_KIND.variable) return;
    const doc = panel.ownerDocument;
    // What backward did comes first, right after the node's fields (the summaries are long).
    const added = doc.createDocumentFragment();
    if (this.predict.hidesGrads) {
      const grad = panel.querySelector(`[${ATTR.role}="${ROLE.inspectorGrad}"]`);
      if (grad instanceof HTMLElement) grad.hidden = true;
      added.appendChild(html(doc, "p", { class: "dzw-note" }, "grad hidden: predict mode is on"));
    } else {
      const before = this.previousById.get(node.id);
      const change = before?.kind === NODE_KIND.variable ? changeSection(doc, before, node) : null;
      if (change) added.appendChild(change);
      const sum = contributions(this.replay, node.id, this.byId);
      if (sum) {
        const step = this.stepBar.shown && this.stepBar.touched ? this.stepBar.step : null;
        added.appendChild(contributionsSection(doc, sum, step));
      }
    }
    added.appendChild(
      checkSection(doc, node, {
        check: this.checks[node.id],
        pending: this.pending.has(node.id),
        enabled: this.controlsEnabled,
        byId: this.byId,
        request: (id) => {
          this.pending.add(id);
          // An answer equal to the last one changes no trait: stop waiting after a while anyway.
          setTimeout(() => {
            if (this.pending.delete(id)) this.host.redrawInspector();
          }, CHECK_WAIT_MS);
          this.host.requestCheck(id, this.replay.output || undefined);
          this.host.redrawInspector();
        },
      }),
    );
    const fields = panel.querySelector(":scope > table");
    if (fields) fields.after(added);
    else panel.appendChild(added);
  }

  private showNote(): void {
    const text = accumulatedNote(this.replay, this.byId);
    this.note.textContent = text;
    this.note.hidden = text === "";
  }

  private showGradGraph(): void {
    const available = (this.snapshot.gradsWithGraph ?? 0) > 0;
    this.gradGraphButton.setAttribute("aria-pressed", String(this.gradGraph));
    this.gradGraphButton.disabled = !this.controlsEnabled || !(available || this.gradGraph);
    this.gradGraphButton.title =
      available || this.gradGraph
        ? "Show the graph that backward(create_graph=True) built (the grads' own graph)"
        : "No grad has a graph: run backward(create_graph=True) first";
  }
}
