// Unit tests of layoutRunner.ts: the worker and its in-page fallbacks.
import { afterEach, describe, expect, it, vi } from "vitest";
import { indexGraph, layoutInput } from "../src/graph";
import { LayoutRunner } from "../src/layoutRunner";
import { seedSnapshot } from "./fixtures";

const input = () => layoutInput(indexGraph(seedSnapshot()), "LR");

afterEach(() => vi.unstubAllGlobals());

describe("LayoutRunner", () => {
  it("lays out in the page when no worker code was bundled (unit tests)", async () => {
    const runner = new LayoutRunner(undefined);
    expect(runner.usesWorker).toBe(false);
    const result = await runner.run(input());
    expect(result.x.length).toBe(5);
    expect(result.edgePaths.length).toBe(1);
  });

  it("falls back when the Worker constructor throws", async () => {
    vi.stubGlobal(
      "Worker",
      class {
        constructor() {
          throw new Error("blocked by CSP");
        }
      },
    );
    const runner = new LayoutRunner("self.onmessage = () => {}");
    expect(runner.usesWorker).toBe(false);
    expect((await runner.run(input())).engine).toBe("dagre");
  });

  it("finishes queued layouts in the page when the worker fails later", async () => {
    const workers: Array<{ onerror: (() => void) | null; posted: unknown[] }> = [];
    vi.stubGlobal(
      "Worker",
      class {
        onerror: (() => void) | null = null;
        onmessage: unknown = null;
        posted: unknown[] = [];
        constructor() {
          workers.push(this);
        }
        postMessage(message: unknown) {
          this.posted.push(message);
        }
        terminate() {}
      },
    );
    const runner = new LayoutRunner("self.onmessage = () => {}");
    expect(runner.usesWorker).toBe(true);
    const pending = runner.run(input());
    expect(workers[0].posted).toHaveLength(1);
    workers[0].onerror!();
    expect(runner.usesWorker).toBe(false);
    expect((await pending).x.length).toBe(5);
  });
});
