// The layout worker's entry point: build.mjs bundles it to a string, layoutRunner.ts starts it from a Blob URL.

import { layoutAndRoute, type RoutedLayout } from "./edges";
import type { LayoutInput } from "./layout";

export interface LayoutRequest {
  requestId: number;
  input: LayoutInput;
}

export type LayoutReply = { requestId: number; result: RoutedLayout } | { requestId: number; error: string };

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: LayoutReply, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { requestId, input } = event.data;
  try {
    const result = layoutAndRoute(input);
    scope.postMessage({ requestId, result }, [result.x.buffer, result.y.buffer]);
  } catch (error) {
    scope.postMessage({ requestId, error: String(error) });
  }
};
