// The layout worker's entry; build.mjs bundles it to a string that layoutRunner.ts starts from a
// Blob URL, so the widget stays one file.
import type { LayoutInput } from "./layout";
import { layoutAndRoute, type RoutedLayout } from "./edges";

export interface LayoutRequest {
  requestId: number;
  input: LayoutInput;
}

export type LayoutReply =
  | { requestId: number; result: RoutedLayout }
  | { requestId: number; error: string };

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
