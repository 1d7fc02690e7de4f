"""The live graph widget: ``show(y)`` draws everything upstream of ``y`` and keeps it current.

Works without the ``%%autodiff`` magic (VS Code, Colab and marimo have no use for it).
The widget stays live in two ways:

* our engine calls every ``watch_grads`` listener after any grad change; the
  module listens while at least one widget is open, and each widget refreshes
  at most every ``_LIVE_MIN_INTERVAL`` seconds (more rarely when a refresh is
  costly), so a training loop of 1,000 ``backward()`` calls sends a handful of
  updates, not 1,000;
* after every IPython cell each open widget refreshes anyway, which flushes
  what the throttle held back and covers a learner's own classes, which send
  no notifications.

A refresh re-reads values only: the structure is fixed when traced, so node
ids and positions do not move. ipywidgets keeps every widget in a global
registry until it is closed; ``close()`` frees the widget (and the graph it
holds), and the last close stops the listening.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import anywidget
import traitlets
from IPython import get_ipython

from dezero_widget import core
from dezero_widget.trace import Graph, cleargrad_all, is_variable, trace
from dezero_widget.utils import get_dot_graph

__all__ = ["GraphWidget", "show"]

logger = logging.getLogger("dezero_widget")

_BUNDLE = Path(__file__).parent / "static" / "widget.js"

# Live refresh throttle: at least this many seconds apart, and a refresh may
# take at most this share of the time (so big graphs refresh more rarely).
_LIVE_MIN_INTERVAL = 0.1
_LIVE_MAX_SHARE = 0.05

# Message type -> the fields it may carry besides "type" (js/src/protocol.ts, ClientMessage).
_CLIENT_MESSAGE_FIELDS: dict[str, frozenset[str]] = {
    "hello": frozenset(),
    "reset": frozenset(),
    "backward": frozenset({"output"}),
}


def _front_end_bundle() -> Path:
    """The built front end; a source checkout has it only after the JS build."""
    if not _BUNDLE.is_file():
        raise FileNotFoundError(
            f"The widget's front-end bundle {_BUNDLE} is missing. Build it with "
            "`pip install -e .` from the project root (needs node and npm), "
            "or `npm install && npm run build` in js/."
        )
    return _BUNDLE


# --------------------------------------------------------------------------
# Live widgets: one engine listener and one IPython hook serve them all
# --------------------------------------------------------------------------

# Weak, so the hooks never keep a widget alive on their own.
_live_widgets: weakref.WeakSet[GraphWidget] = weakref.WeakSet()
_hooked_shell: Any = None


def _refresh_quietly(widgets: Iterable[GraphWidget], only_if_due: bool = False) -> None:
    """Refresh from a hook: an error must not surface in the learner's backward() or cell.
    With no widget left (one dropped without close()), the hooks go away."""
    widgets = list(widgets)
    if not widgets:
        _sync_hooks()
    for widget in widgets:
        try:
            if only_if_due:
                widget._refresh_if_due()
            else:
                widget.refresh()
        except Exception:
            logger.warning("Could not refresh a graph widget", exc_info=True)


def _on_engine_grads_changed() -> None:
    _refresh_quietly(_live_widgets, only_if_due=True)


def _refresh_after_cell(result: Any = None) -> None:
    """IPython's post_run_cell hook."""
    _refresh_quietly(_live_widgets)


def _sync_hooks() -> None:
    """Listen to the engine and to IPython exactly while some widget is live."""
    global _hooked_shell
    if _live_widgets:
        core.watch_grads(_on_engine_grads_changed)
        if _hooked_shell is None:
            shell = get_ipython()
            if shell is not None:
                shell.events.register("post_run_cell", _refresh_after_cell)
                _hooked_shell = shell
        return
    core.unwatch_grads(_on_engine_grads_changed)
    if _hooked_shell is not None:
        with contextlib.suppress(ValueError):
            _hooked_shell.events.unregister("post_run_cell", _refresh_after_cell)
        _hooked_shell = None


@contextlib.contextmanager
def _grad_change_batch(widget: GraphWidget) -> Iterator[None]:
    """Mute the engine listener while a control changes many grads (cleargrad notifies
    once per variable), then refresh every live widget once: no cell runs after a
    button press, so nothing else would show the change in other widgets of the same variables."""
    core.unwatch_grads(_on_engine_grads_changed)
    try:
        yield
    finally:
        _sync_hooks()
        _refresh_quietly({widget, *_live_widgets})


# --------------------------------------------------------------------------
# The widget
# --------------------------------------------------------------------------


class GraphWidget(anywidget.AnyWidget):
    """A live view of a traced graph (see the module docstring for how it stays current).

    Call ``close()`` when done: ipywidgets holds every widget, and so the
    widget's whole graph, until it is closed.
    """

    # The bundle's text, not its Path: for a Path, anywidget connects every instance
    # to a class-wide file-change signal through a closure, so no widget could ever be freed.
    _esm = _front_end_bundle().read_text(encoding="utf-8")

    snapshot = traitlets.Dict().tag(sync=True)
    direction = traitlets.Enum(("LR", "TB"), default_value="LR").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)

    def __init__(self, graph: Graph, direction: str = "LR", **kwargs: Any) -> None:
        self.graph = graph
        started = time.perf_counter()
        snapshot = graph.snapshot()
        super().__init__(snapshot=snapshot, direction=direction, **kwargs)
        self._note_refresh(started)
        self.on_msg(self._on_front_end_message)
        _live_widgets.add(self)
        _sync_hooks()

    # -- refreshing -------------------------------------------------------
    def refresh(self) -> None:
        """Re-read every value of the graph; the front end gets an update only if one changed."""
        started = time.perf_counter()
        snapshot = self.graph.snapshot()
        if snapshot != self.snapshot:
            self.snapshot = snapshot
        self._note_refresh(started)

    def _note_refresh(self, started: float) -> None:
        self._refreshed_at = time.perf_counter()
        self._refresh_cost = self._refreshed_at - started

    def _refresh_if_due(self) -> None:
        """The engine changed some grad: refresh now unless the last refresh was too recent
        (the post-cell refresh then shows the final values)."""
        interval = max(_LIVE_MIN_INTERVAL, self._refresh_cost / _LIVE_MAX_SHARE)
        if time.perf_counter() - self._refreshed_at >= interval:
            self.refresh()

    # -- controls -----------------------------------------------------------
    def reset(self) -> int:
        """cleargrad() on every variable of the graph (intermediates and outputs too).

        Returns how many variables were cleared; the status line says it too.
        """
        with _grad_change_batch(self):
            cleared = cleargrad_all(self.graph)
        self.status = f"Cleared the grads of {cleared} variable{'' if cleared == 1 else 's'}."
        return cleared

    def run_backward(self, output_id: str | None = None) -> None:
        """backward() from one output of the graph (the first one by default).

        Our engine's variables keep intermediate grads (``retain_grad=True``) so
        they show; a learner's own class gets a plain ``backward()``. A failing
        backward is reported on the status line and logged, never raised.
        """
        outputs = {self.graph.id_of(root): root for root in self.graph.roots}
        if output_id is None:
            output_id = self.graph.output_ids[0]
        if output_id not in outputs:
            raise ValueError(f"{output_id!r} is not an output of this graph; its outputs are {list(outputs)}")
        output = outputs[output_id]
        try:
            with _grad_change_batch(self):
                if isinstance(output, core.Variable):
                    output.backward(retain_grad=True)
                else:
                    output.backward()
        except Exception as error:
            self._report_failure("backward()", error)
            return
        label = self._label_of(output_id)
        self.status = f"Ran backward() from {label}." if label else "Ran backward()."

    def _label_of(self, node_id: str) -> str:
        """The name the drawing shows for a node ("" when it shows shape and dtype instead)."""
        return next((n.get("label", "") for n in self.snapshot["nodes"] if n["id"] == node_id), "")

    def to_dot(self, verbose: bool = True) -> str:
        """DOT text of the graph: ``utils.get_dot_graph`` of its output (or outputs)."""
        roots = self.graph.roots
        return get_dot_graph(roots[0] if len(roots) == 1 else roots, verbose)

    def close(self) -> None:
        """Stop updating and free the widget (ipywidgets holds it until closed)."""
        _live_widgets.discard(self)
        _sync_hooks()
        super().close()
        # DOMWidget's Layout is a widget of its own, held by the registry until closed too.
        self.layout.close()

    # -- front-end messages --------------------------------------------------
    def _report_failure(self, action: str, error: Exception) -> None:
        self.status = f"{action} failed: {type(error).__name__}: {error}"
        logger.warning("%s from the graph widget failed", action, exc_info=error)

    def _on_front_end_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Validate and act on a ClientMessage; anything else is logged and ignored."""
        kind = content.get("type") if isinstance(content, Mapping) else None
        allowed = _CLIENT_MESSAGE_FIELDS.get(kind) if isinstance(kind, str) else None
        if allowed is None or not set(content) - {"type"} <= allowed:
            logger.warning("Ignoring an unknown or malformed widget message: %.200r", content)
            return
        if kind == "hello":
            self.send({"type": "welcome"})
        elif kind == "reset":
            try:
                self.reset()
            except Exception as error:
                self._report_failure("Reset", error)
        else:
            output = content.get("output")
            if output is not None and (not isinstance(output, str) or output not in self.graph.output_ids):
                logger.warning("Ignoring backward for an unknown output: %.200r", output)
                return
            self.run_backward(output)


# Names IPython itself binds in the user namespace: _, __, ___, _5, _i, _ii, _i5, _ih, _oh, _dh.
_IPYTHON_NAME = re.compile(r"_{1,3}|_i{1,3}|_i?\d+|_[iod]h")


def user_variables(shell: Any) -> dict[str, Any]:
    """The variables in an IPython shell's namespace, under the names the user chose
    (IPython's own names such as ``_`` and ``_i3`` left out): node labels."""
    hidden = set(shell.user_ns_hidden)
    return {
        name: value
        for name, value in list(shell.user_ns.items())
        if name not in hidden and not _IPYTHON_NAME.fullmatch(name) and is_variable(value)
    }


def show(
    *variables: Any,
    names: Mapping[str, Any] | None = None,
    max_nodes: int | None = 5000,
    direction: str = "LR",
    include_grad_graph: bool = False,
) -> GraphWidget:
    """A live widget of everything upstream of ``variables``.

    ``names`` (e.g. ``globals()``) labels variables that have no ``name`` with the
    names they are bound to; in IPython it defaults to the notebook's namespace.
    The other options are those of ``trace.trace``.
    """
    if not variables:
        raise TypeError("show() needs at least one variable")
    if names is None and get_ipython() is not None:
        names = user_variables(get_ipython())
    graph = trace(*variables, names=names, max_nodes=max_nodes, include_grad_graph=include_grad_graph)
    return GraphWidget(graph, direction=direction)
