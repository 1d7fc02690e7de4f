// The kernel handshake: say hello, then wait for the welcome that says a kernel is there to answer.
import type { ClientMessage, ServerMessage } from "./protocol";

export interface HandshakeEvents {
  /** No welcome within the timeout: the kernel is gone or busy. */
  silent(): void;
  /** The welcome came (possibly after `silent`). */
  welcome(): void;
}

export class KernelHandshake {
  private welcomed = false;
  private readonly timer: ReturnType<typeof setTimeout>;

  /** The timeout starts now; `start` then says hello, once the view listens for the answer. */
  constructor(
    timeoutMs: number,
    private readonly events: HandshakeEvents,
  ) {
    this.timer = setTimeout(() => {
      if (!this.welcomed) events.silent();
    }, timeoutMs);
  }

  start(send: (message: ClientMessage) => void): void {
    send({ type: "hello" });
  }

  /** Handles a custom message from the kernel. */
  receive(message: ServerMessage): void {
    if (message?.type !== "welcome") return;
    this.welcomed = true;
    clearTimeout(this.timer);
    this.events.welcome();
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
