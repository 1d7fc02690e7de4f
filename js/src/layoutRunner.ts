// Layout runner: runs layouts in a Web Worker, or in the page when no worker can start.
// The worker's code is a string injected at bundle time (build.mjs); it is absent in unit tests.

import { layoutAndRoute, type RoutedLayout } from "./edges";
import type { LayoutInput } from "./layout";
import type { LayoutReply, LayoutRequest } from "./layoutWorker";

declare const __LAYOUT_WORKER_SOURCE__: string | undefined;

interface Pending {
  input: LayoutInput;
  resolve: (result: RoutedLayout) => void;
  reject: (error: Error) => void;
}

export class LayoutRunner {
  private worker: Worker | null = null;
  private workerUrl: string | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    workerSource: string | undefined = typeof __LAYOUT_WORKER_SOURCE__ === "string"
      ? __LAYOUT_WORKER_SOURCE__
      : undefined,
  ) {
    if (!workerSource || typeof Worker === "undefined") return;
    try {
      this.workerUrl = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
      this.worker = new Worker(this.workerUrl);
    } catch {
      this.dropWorker();
      return;
    }
    this.worker.onmessage = (event: MessageEvent<LayoutReply>) => this.settle(event.data);
    // A worker blocked later (e.g. by a Content-Security-Policy) errors asynchronously; finish its
    // queued layouts in the page instead.
    this.worker.onerror = () => {
      this.dropWorker();
      for (const [requestId, job] of this.pending) {
        this.pending.delete(requestId);
        this.runHere(job);
      }
    };
  }

  get usesWorker(): boolean {
    return this.worker !== null;
  }

  run(input: LayoutInput): Promise<RoutedLayout> {
    return new Promise((resolve, reject) => {
      const job = { input, resolve, reject };
      if (!this.worker) {
        queueMicrotask(() => this.runHere(job));
        return;
      }
      const requestId = this.nextId++;
      this.pending.set(requestId, job);
      const message: LayoutRequest = { requestId, input };
      // Copies, not transfers: the fallback path may still need the input if the worker dies.
      this.worker.postMessage(message);
    });
  }

  dispose(): void {
    this.dropWorker();
    for (const job of this.pending.values()) job.reject(new Error("layout cancelled"));
    this.pending.clear();
  }

  private settle(reply: LayoutReply): void {
    const job = this.pending.get(reply.requestId);
    if (!job) return;
    this.pending.delete(reply.requestId);
    if ("error" in reply) job.reject(new Error(reply.error));
    else job.resolve(reply.result);
  }

  private runHere(job: Pending): void {
    try {
      job.resolve(layoutAndRoute(job.input));
    } catch (error) {
      job.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private dropWorker(): void {
    this.worker?.terminate();
    this.worker = null;
    if (this.workerUrl) URL.revokeObjectURL(this.workerUrl);
    this.workerUrl = null;
  }
}
