// anywidget entry point: `render` mounts one GraphView per output area and returns its cleanup.
import { GraphView, type WidgetModel } from "./app";

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
    const view = new GraphView(model, el);
    return () => view.dispose();
  },
};
