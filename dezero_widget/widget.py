"""The live graph widget: ``show(y)`` draws everything upstream of ``y`` and keeps it current.

Works without the ``%%autodiff`` magic (VS Code, Colab and marimo have no use for it). A
``LiveRefresh`` (live.py) keeps open widgets current after every grad change and every cell.
A refresh re-reads values only: the structure is fixed when traced, so node ids and positions
do not move. ipywidgets keeps every widget in a global registry until it is closed;
``close()`` frees the widget (and the graph it holds), and the last close stops the listening.
The synced state and the messages are declared in protocol.py (and js/src/protocol.ts).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets
from IPython import get_ipython

from dezero_widget import core
from dezero_widget.live import LiveRefresh
from dezero_widget.names import user_names
from dezero_widget.protocol import (
    DEFAULT_DIRECTION,
    DEFAULT_MAX_NODES,
    DIRECTIONS,
    EMPTY_REPLAY,
    LIVE_MAX_SHARE,
    LIVE_MIN_INTERVAL,
    MAX_STATUS_CHARS,
    WELCOME,
    Snapshot,
    bounded_text,
    parse_client_message,
)
from dezero_widget.reader import grad_array
from dezero_widget.replay import Recording, check_gradient, observing, recorded
from dezero_widget.summary import SummaryMemo
from dezero_widget.trace import Graph, cleargrad_all, trace
from dezero_widget.utils import get_dot_graph

__all__ = ["GraphWidget", "show"]

logger = logging.getLogger("dezero_widget")

_BUNDLE = Path(__file__).parent / "static" / "widget.js"


def _front_end_bundle() -> Path:
    """The built front end; a source checkout has it only after the JS build."""
    if not _BUNDLE.is_file():
        raise FileNotFoundError(
            f"The widget's front-end bundle {_BUNDLE} is missing. Build it with "
            "`pip install -e .` from the project root (needs node and npm), "
            "or `npm install && npm run build` in js/."
        )
    return _BUNDLE


class GraphWidget(anywidget.AnyWidget):
    """A live view of a traced graph (see the module docstring for how it stays current).

    Call ``close()`` when done: ipywidgets holds every widget, and so the
    widget's whole graph, until it is closed.
    """

    # The bundle's text, not its Path: for a Path, anywidget connects every instance
    # to a class-wide file-change signal through a closure, so no widget could ever be freed.
    # Declared as traits here, with the id anywidget would give, so that anywidget has none
    # to add to each instance (see add_traits).
    _esm = traitlets.Unicode(_front_end_bundle().read_text(encoding="utf-8")).tag(sync=True)
    _anywidget_id = traitlets.Unicode(f"{__module__}.GraphWidget").tag(sync=True)

    # The traitlets of protocol.ModelState.
    snapshot = traitlets.Dict().tag(sync=True)
    direction = traitlets.Enum(DIRECTIONS, default_value=DEFAULT_DIRECTION).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    history = traitlets.Dict({"label": "", "values": [], "steps": [], "total": 0}).tag(sync=True)
    replay = traitlets.Dict(EMPTY_REPLAY).tag(sync=True)
    checks = traitlets.Dict({}).tag(sync=True)
    grad_graph = traitlets.Bool(False).tag(sync=True)

    # One for all widgets: it installs its hooks with the first attached widget.
    live: ClassVar[LiveRefresh] = LiveRefresh()

    def __init__(
        self,
        graph: Graph,
        direction: str = DEFAULT_DIRECTION,
        recording: Recording | None = None,
        **kwargs: Any,
    ) -> None:
        """``recording``: a backward() of the drawn values to step through (see show_replay);
        ``kwargs``: other traits (``history``)."""
        self.graph = graph
        started = time.perf_counter()
        snapshot = self._read_values()
        # The values the replay and checks were made for, and what the replay was made from.
        self._annotated: tuple | None = None if recording is None else self._fingerprint
        self._recording = recording
        if recording is not None:
            kwargs["replay"] = recording.replay(graph, self._grad_summaries(snapshot))
        # The first snapshot (and replay) go with the widget's opening message, not in more.
        super().__init__(
            direction=direction,
            grad_graph=graph.include_grad_graph,
            snapshot=snapshot,
            **kwargs,
        )
        self._schedule_next_refresh(started)
        self.on_msg(self._on_front_end_message)
        self.live.attach(self)

    def add_traits(self, **traits: Any) -> None:
        """Add only the traits this class does not declare: each call makes the instance a
        class of its own (traitlets), a third of the cost of a new widget."""
        new = {name: trait for name, trait in traits.items() if not self.has_trait(name)}
        if new:
            super().add_traits(**new)

    # -- refreshing -------------------------------------------------------
    def _read_values(self) -> Snapshot:
        self._fingerprint = self.graph.fingerprint()
        return self.graph.snapshot()

    def refresh(self) -> None:
        """Re-read every value of the graph; the front end gets an update only if one changed."""
        started = time.perf_counter()
        snapshot = self._read_values()
        if snapshot != self.snapshot:
            self.snapshot = snapshot
        if self._annotated is not None and self._annotated != self._fingerprint:
            # The values changed by other means: the replay and the checks describe old ones.
            self._annotated, self._recording = None, None
            self.replay, self.checks = EMPTY_REPLAY, {}
        self._schedule_next_refresh(started)

    def _schedule_next_refresh(self, started: float) -> None:
        refreshed_at = time.perf_counter()
        # Throttle for refreshes the engine asks for: at least LIVE_MIN_INTERVAL apart, and a
        # refresh may take at most LIVE_MAX_SHARE of the time (big graphs refresh more rarely).
        self.due_at = refreshed_at + max(LIVE_MIN_INTERVAL, (refreshed_at - started) / LIVE_MAX_SHARE)

    def refresh_if_changed(self) -> None:
        """Refresh unless the graph's fingerprint says no value changed since the last refresh
        (after every cell: an empty cell then costs about a microsecond a variable)."""
        if self.graph.fingerprint() != self._fingerprint:
            self.refresh()
        else:
            self.due_at = time.perf_counter() + LIVE_MIN_INTERVAL

    def refresh_if_due(self) -> None:
        """Some grad changed: refresh now unless the last refresh was too recent (the
        post-cell refresh then shows the final values)."""
        if time.perf_counter() >= self.due_at:
            self.refresh_if_changed()

    def show_graph(self, graph: Graph) -> None:
        """Draw ``graph`` instead (a training loop's newest step); traced ``like`` the current
        graph, its nodes keep their ids and the front end only updates values."""
        if self.grad_graph and not graph.include_grad_graph:
            graph = graph.retraced(include_grad_graph=True)
        self.graph = graph
        self.refresh()

    def show_replay(self, recording: Recording) -> None:
        """Let the front end step through ``recording`` (a backward() of the drawn values)."""
        self.refresh_if_changed()
        self.replay = recording.replay(self.graph, self._grad_summaries(self.snapshot))
        self._annotated, self._recording = self._fingerprint, recording

    def _grad_summaries(self, snapshot: Snapshot) -> SummaryMemo:
        """The grads' summaries of ``snapshot``, just taken (the values are unchanged), for a
        replay to reuse instead of summarising those grads again."""
        summaries = SummaryMemo(diverging=True)
        grads = {node["id"]: node["grad"] for node in snapshot["nodes"] if node["kind"] == "variable"}
        for variable in self.graph.variables:
            node_id = self.graph.node_id(variable)
            if node_id in grads:
                summaries.remember(grad_array(variable.grad), grads[node_id])
        return summaries

    @traitlets.observe("grad_graph")
    def _grad_graph_toggled(self, change: Mapping[str, Any]) -> None:
        """The front end's toggle: trace again with (or without) the grad graph. The replay and
        the checks, if they still describe the values, follow the new graph's node ids."""
        if change["new"] == self.graph.include_grad_graph:
            return
        old, self.graph = self.graph, self.graph.retraced(include_grad_graph=change["new"])
        if self._annotated is not None and self._annotated == old.fingerprint():
            self._annotated = self.graph.fingerprint()
            moved = {old.node_id(v): self.graph.node_id(v) for v in old.variables}
            self.checks = {moved[key]: check for key, check in self.checks.items() if moved.get(key)}
            if self._recording is not None:
                self.replay = self._recording.replay(self.graph)
        self.refresh()

    # -- controls -----------------------------------------------------------
    def reset(self) -> int:
        """cleargrad() on every variable of the graph (intermediates and outputs too).

        Returns how many variables were cleared; the status line says it too.
        """
        with self.live.batch(self):
            cleared = cleargrad_all(self.graph)
        self.status = f"Cleared the grads of {cleared} variable{'' if cleared == 1 else 's'}."
        return cleared

    def run_backward(self, output_id: str | None = None) -> None:
        """backward() from one output of the graph (the first one by default).

        Our engine's variables keep intermediate grads (``retain_grad=True``) so
        they show; a learner's own class gets a plain ``backward()``. A failing
        backward is reported on the status line and logged, never raised.
        """
        outputs = self._outputs()
        if not self.graph.output_ids:
            self.status = (
                "This graph has no output to run backward() from: every variable in it feeds a function."
            )
            return
        if output_id is None:
            output_id = self.graph.output_ids[0]
        if output_id not in outputs:
            raise ValueError(f"{output_id!r} is not an output of this graph; its outputs are {list(outputs)}")
        output = outputs[output_id]
        try:
            with self.live.batch(self):
                recording = self._backward_recorded(output)
        except (Exception, SystemExit) as error:  # sys.exit() in a learner's backward must not end the kernel
            self._report_failure("backward()", error)
            return
        except KeyboardInterrupt:
            self.status = "backward() was interrupted: some grads may have changed, others not."
            return
        self.show_replay(recording)
        label = self._label_of(output_id)
        self.status = f"Ran backward() from {label}." if label else "Ran backward()."

    def _backward_recorded(self, output: Any) -> Recording:
        """``output.backward()``, recorded step by step: through the engine's hook for its own
        variables, by observing each drawn function's backward for a learner's classes."""
        if isinstance(output, core.Variable):
            with recorded(self.graph.max_nodes, output) as recordings:
                output.backward(retain_grad=True)
            return recordings[-1]
        with observing(output, self.graph) as recording:
            output.backward()
        return recording

    def check_gradient(self, node_id: str, output_id: str | None = None) -> None:
        """Compare a variable's grad with a numerical gradient of an output (the recorded
        backward's, else the first) and publish the result in ``checks``."""
        variables = {self.graph.node_id(v): v for v in self.graph.variables}
        if node_id not in variables:
            raise ValueError(f"{node_id!r} is not a variable of this graph")
        outputs = self._outputs()
        output_id = output_id or self.replay.get("output") or next(iter(self.graph.output_ids), None)
        if output_id not in outputs:
            raise ValueError(f"{output_id!r} is not an output of this graph")
        result = check_gradient(variables[node_id], outputs[output_id], output_id)
        self.refresh_if_changed()
        if self._annotated is None:
            self._annotated = self._fingerprint
        self.checks = {**self.checks, node_id: result}

    def _outputs(self) -> dict[str, Any]:
        """The drawn roots of the graph, by node id."""
        return {self.graph.id_of(root): root for root in self.graph.roots if self.graph.contains(root)}

    def _label_of(self, node_id: str) -> str:
        """The name the drawing shows for a node ("" when it shows shape and dtype instead)."""
        return next((n.get("label", "") for n in self.snapshot["nodes"] if n["id"] == node_id), "")

    def to_dot(self, verbose: bool = True) -> str:
        """DOT text of the graph: ``utils.get_dot_graph`` of its output (or outputs)."""
        roots = self.graph.roots
        return get_dot_graph(roots[0] if len(roots) == 1 else roots, verbose)

    def close(self) -> None:
        """Stop updating and free the widget (ipywidgets holds it until closed)."""
        self.live.detach(self)
        super().close()
        # DOMWidget's Layout is a widget of its own, held by the registry until closed too.
        self.layout.close()

    # -- front-end messages --------------------------------------------------
    def _report_failure(self, action: str, error: BaseException) -> None:
        self.status = bounded_text(f"{action} failed: {type(error).__name__}: {error}", MAX_STATUS_CHARS)
        logger.warning("%s from the graph widget failed", action, exc_info=error)

    def _on_front_end_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Validate and act on a protocol client message; anything else is logged and ignored."""
        message = parse_client_message(content)
        if message is None:
            logger.warning("Ignoring an unknown or malformed widget message: %.200r", content)
            return
        kind = message["type"]
        if kind == "hello":
            self.send(WELCOME)
        elif kind == "reset":
            try:
                self.reset()
            except (Exception, SystemExit) as error:  # every other variable was still cleared
                self._report_failure("Reset", error)
            except KeyboardInterrupt:
                self.status = "Reset was interrupted: some grads may still be set."
        elif kind == "grad-check":
            try:
                self.check_gradient(message["node"], message.get("output"))
            except (Exception, SystemExit) as error:  # a learner's forward may fail
                self._report_failure("Check gradient", error)
            except KeyboardInterrupt:
                self.status = "The gradient check was interrupted."
        else:
            output = message.get("output")
            if output is not None and output not in self.graph.output_ids:
                logger.warning("Ignoring backward for an unknown output: %.200r", output)
                self.status = bounded_text(
                    f"Backward: {output!r} is not an output of this graph.", MAX_STATUS_CHARS
                )
                return
            self.run_backward(output)


def _close_all_at_exit() -> None:
    """Close the open widgets while the interpreter still works: left to ipywidgets' __del__
    during shutdown, closing one prints "Exception ignored ... sys.meta_path is None"."""
    for widget in GraphWidget.live.widgets:
        with contextlib.suppress(Exception):
            widget.close()


atexit.register(_close_all_at_exit)


def show(
    *variables: Any,
    names: Mapping[str, Any] | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    direction: str = DEFAULT_DIRECTION,
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
        names = user_names(get_ipython())
    graph = trace(*variables, names=names, max_nodes=max_nodes, include_grad_graph=include_grad_graph)
    return GraphWidget(graph, direction=direction)
