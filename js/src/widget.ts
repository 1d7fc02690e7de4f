// anywidget entry point: `render` mounts one GraphView per output area and returns its cleanup.
import type { AnyWidget, RenderProps } from "@anywidget/types";
import { GraphView } from "./app";
import type { ModelState } from "./protocol";

export default {
  render({ model, el }: Pick<RenderProps<ModelState>, "model" | "el">): () => void {
    const view = new GraphView(model, el);
    return () => view.dispose();
  },
} satisfies AnyWidget<ModelState>;
