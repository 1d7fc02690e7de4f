// The step bar: ◀, a slider and ▶ over the steps of the recorded backward, and the step position.
// A replay just received shows its end state with no function highlighted ("untouched"); the
// first move starts the replay, and ▶ at the end starts it again from the first step, as a
// player's play button does. ←/→ on the widget move too (not while typing in an input).
import { html } from "./dom";
import { ACTION, ATTR, type GraphNode, type Replay, ROLE } from "./protocol";
import { stepCaption } from "./stepping";

export class StepBar {
  readonly element: HTMLDivElement;
  private readonly back: HTMLButtonElement;
  private readonly forward: HTMLButtonElement;
  private readonly slider: HTMLInputElement;
  private readonly position: HTMLSpanElement;
  private replay: Replay | null = null;
  private byId: ReadonlyMap<string, GraphNode> = new Map();
  private current = 0;
  private moved = false;

  /**
   * `changed` is called after every move; `focusHome` takes the focus when a button that has it is
   * disabled (at either end), so that the arrow keys keep working.
   */
  constructor(
    doc: Document,
    private readonly changed: () => void,
    private readonly focusHome?: HTMLElement,
  ) {
    this.element = html(doc, "div", { class: "dzw-stepbar", [ATTR.role]: ROLE.stepBar });
    this.element.hidden = true;
    const title = "Replay the last backward(), one function at a time (← and → keys too)";
    this.back = html(doc, "button", { type: "button", [ATTR.action]: ACTION.stepBack, title }, "◀");
    this.back.setAttribute("aria-label", "Step back");
    this.forward = html(doc, "button", { type: "button", [ATTR.action]: ACTION.stepForward, title }, "▶");
    this.forward.setAttribute("aria-label", "Step forward");
    this.slider = html(doc, "input", {
      type: "range",
      min: "0",
      max: "0",
      step: "1",
      value: "0",
      [ATTR.role]: ROLE.stepSlider,
      "aria-label": "Backward step",
    });
    this.position = html(doc, "span", { class: "dzw-step", [ATTR.role]: ROLE.step, "aria-live": "polite" });
    const label = html(doc, "span", { class: "dzw-stepbar-title" }, "Backward, step by step:");
    this.element.append(label, this.back, this.slider, this.forward, this.position);
    this.back.addEventListener("click", () => this.go(this.current - 1));
    this.forward.addEventListener("click", () => this.stepForward());
    this.slider.addEventListener("input", () => this.go(Number(this.slider.value)));
  }

  /** The step shown: 0 (before the first function) to n (done). */
  get step(): number {
    return this.current;
  }

  /** Whether the learner has moved since the replay came (else the end state, nothing highlighted). */
  get touched(): boolean {
    return this.moved;
  }

  /** The replay stepped through, or null when the bar is hidden. */
  get shown(): Replay | null {
    return this.replay;
  }

  /** A new replay (shown at its end, untouched), or the same one with new node names. */
  setReplay(replay: Replay, byId: ReadonlyMap<string, GraphNode>): void {
    this.byId = byId;
    const steps = replay.steps.length;
    if (replay !== this.replay) {
      this.replay = steps > 0 ? replay : null;
      this.current = steps;
      this.moved = false;
    }
    this.element.hidden = this.replay === null;
    this.render();
  }

  /** ←/→ on the widget: returns whether the key moved the step (the caller then stops it). */
  handleKey(event: KeyboardEvent): boolean {
    if (!this.replay || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return false;
    const target = event.target as Element | null;
    if (target?.closest?.("input, textarea, select, [contenteditable]")) return false;
    if (event.key === "ArrowLeft") this.go(this.current - 1);
    else if (event.key === "ArrowRight") this.stepForward();
    else return false;
    return true;
  }

  /** The next step; from the end (done), the first one again. */
  private stepForward(): void {
    if (!this.replay) return;
    this.go(this.current >= this.replay.steps.length ? 1 : this.current + 1);
  }

  /** Shows step `step` (clamped to 0..n). */
  go(step: number): void {
    if (!this.replay) return;
    this.current = Math.max(0, Math.min(this.replay.steps.length, Math.round(step)));
    this.moved = true;
    this.render();
    this.changed();
  }

  private render(): void {
    const replay = this.replay;
    const steps = replay?.steps.length ?? 0;
    this.slider.max = String(steps);
    this.slider.value = String(this.current);
    for (const [button, disabled] of [
      [this.back, !replay || this.current <= 0],
      [this.forward, !replay],
    ] as const) {
      const focused = button.ownerDocument.activeElement === button;
      button.disabled = disabled;
      if (disabled && focused) this.focusHome?.focus({ preventScroll: true });
    }
    this.forward.title = this.current >= steps ? "Replay from the first step (→ too)" : "Next step (→ too)";
    this.position.setAttribute(ATTR.step, String(this.current));
    this.position.setAttribute(ATTR.steps, String(steps));
    this.position.textContent = replay ? stepCaption(replay, this.current, this.moved, this.byId) : "";
  }
}
