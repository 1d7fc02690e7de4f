"""Backward, step by step: record what a backward() did, replay it in the widget, check a grad.

A ``Recording`` keeps, for one backward() pass, each function it applied in order with the
grads that flowed in and out, and every touched variable's grad from before the pass. It is
written by the engine (``core.watching(record=...)``, list appends only; ``recorded``) or, for a learner's own
classes, by observing their functions' ``backward`` while the widget runs backward
(``observing``: each function instance gets a wrapper for the run and loses it afterwards;
the classes are never touched). ``Recording.replay(graph)`` turns it into
``protocol.Replay``: per step the function and its summarised gys and gxs, per variable its
earlier grad and each term added with the running total — so the front end can show any
step's grads, ``1.0 + 1.0 + 1.0 = 3.0``, and say when a grad was added to an earlier one.

``check_gradient`` compares a grad with central differences of an output, re-running the
graph's functions' ``forward`` on perturbed inputs (learner classes work too).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from dezero_widget import core
from dezero_widget.core import BackwardLog, Constant, Variable
from dezero_widget.protocol import EMPTY_REPLAY, GradCheck, Replay, ReplayStep, VariableReplay
from dezero_widget.reader import creator_of, grad_array, inputs_of, name_of, outputs_of
from dezero_widget.summary import SummaryMemo
from dezero_widget.trace import Graph

__all__ = ["Recording", "check_gradient", "observing", "recorded"]


class Recording(BackwardLog):
    """One backward() pass from ``root`` (see the module docstring), as ``core.BackwardLog``
    writes it down; ``replay()`` is what the widget shows of it."""

    __slots__ = ()

    @classmethod
    def of_log(cls, log: BackwardLog) -> Recording:
        """What the engine wrote down for ``core.watching(record=...)``, every field of it."""
        recording = cls.__new__(cls)
        for field in BackwardLog.__slots__:
            setattr(recording, field, getattr(log, field))
        return recording

    @classmethod
    def of_graph(cls, root: Any, graph: Graph) -> Recording:
        """For a learner's classes (see ``observing``): the earlier grads of every variable of
        ``graph`` are read now."""
        recording = cls(root, grad_array(root.grad))
        recording.before.extend((v, grad_array(v.grad)) for v in graph.variables)
        return recording

    def observed_step(self, function: Any, gys: Any, gxs: tuple) -> None:
        self.steps.append((function, gys, gxs))

    def replay(self, graph: Graph, grad_summaries: SummaryMemo | None = None) -> Replay:
        """``protocol.Replay`` for the drawn part of ``graph`` (steps of undrawn functions are left
        out); none when the recording was cut before a drawn function's step."""
        root_id = graph.node_id(self.root)
        if root_id is None or (self.cut and not self._covers(graph)):
            return EMPTY_REPLAY
        variables: dict[str, VariableReplay] = {}
        totals: dict[str, Any] = {}
        # A gradient is a step's gx, a term and a total: summarised once (and, with
        # ``grad_summaries`` from the snapshot just taken, not again for the snapshot's grads).
        summary = grad_summaries or SummaryMemo(diverging=True)
        before = {id(x): grad_array(grad) for x, grad in self.before}  # (the engine may hold Variables)

        def add_term(x: Any, step: int, source: str, value: Any) -> None:
            node_id = graph.node_id(x)
            if node_id is None:
                return
            value = np.asarray(value)
            entry = variables.get(node_id)
            if entry is None:
                earlier = self.root_before if x is self.root else before.get(id(x))
                entry = variables[node_id] = {"before": summary(earlier), "terms": []}
                totals[node_id] = earlier
            total = value if totals[node_id] is None else totals[node_id] + value
            totals[node_id] = total
            entry["terms"].append(
                {"step": step, "source": source, "value": summary(value), "total": summary(total)}
            )

        if self.root_before is None and self.root.data is not None:
            add_term(self.root, 0, "", self.seed)
        steps: list[ReplayStep] = []
        for function, gys, gxs in self.steps:
            function_id = graph.node_id(function)
            if function_id is None:
                continue
            steps.append(
                {
                    "function": function_id,
                    "gys": [summary(grad_array(gy)) for gy in gys],
                    "gxs": [summary(grad_array(gx)) for gx in gxs],
                }
            )
            for x, gx in zip(inputs_of(function), gxs):
                if gx is not None and x is not None and type(x) is not Constant:
                    add_term(x, len(steps), function_id, grad_array(gx))
        accumulated = [node_id for node_id, entry in variables.items() if entry["before"] is not None]
        return {"output": root_id, "steps": steps, "variables": variables, "accumulated": accumulated}

    def _covers(self, graph: Graph) -> bool:
        """Every drawn function's step was written down (a long chain's first steps are its
        drawn end; a graph whose drawn functions ran late in a long pass is not covered)."""
        recorded = {id(function) for function, _, _ in self.steps}
        return all(id(function) in recorded for function in graph.functions)


@contextlib.contextmanager
def recorded(limit: int | None = None, output: Variable | None = None) -> Iterator[list[Recording]]:
    """Yields a list that gets the recording of every backward() the engine runs in the block
    (only those from ``output``, if given): its first ``limit`` steps (None: all; a graph drawn
    with ``max_nodes`` needs no more)."""
    recordings: list[Recording] = []

    def keep(root: Variable, log: BackwardLog | None) -> None:
        if log is not None and (output is None or root is output):
            recordings.append(Recording.of_log(log))

    with core.watching(record=sys.maxsize if limit is None else limit, on_backward=keep):
        yield recordings


_MISSING = object()


@contextlib.contextmanager
def observing(root: Any, graph: Graph) -> Iterator[Recording]:
    """For a backward() of a learner's classes from ``root`` run in the block: yields the
    Recording that each drawn function's ``backward`` reports to (through a wrapper set on the
    instance; instances without a ``__dict__`` cannot be observed); afterwards every instance
    is as it was."""
    recording = Recording.of_graph(root, graph)
    patched: list[tuple[Any, Any]] = []
    try:
        for function in graph.functions:
            own = vars(function).get("backward", _MISSING) if hasattr(function, "__dict__") else _MISSING
            try:
                function.backward = _observed(function, function.backward, recording)
            except (AttributeError, TypeError):
                continue
            patched.append((function, own))
        yield recording
    finally:
        for function, own in patched:
            if own is _MISSING:
                del function.backward
            else:
                function.backward = own


def _observed(function: Any, backward: Any, recording: Recording) -> Any:
    def observed_backward(*gys: Any) -> Any:
        gxs = backward(*gys)
        recording.observed_step(function, gys, gxs if isinstance(gxs, tuple) else (gxs,))
        return gxs

    return observed_backward


# --------------------------------------------------------------------------
# Gradient check
# --------------------------------------------------------------------------

CHECKED_ELEMENTS = 64  # past this many elements, an evenly spaced sample of them is checked
_STEP = 1e-5  # central differences: h = _STEP * max(1, |x|), in float64
_TOLERANCE = {"float64": (1e-4, 1e-6), "other": (1e-3, 1e-4)}  # (rtol, atol) by the grad's dtype


def check_gradient(variable: Any, output: Any, output_id: str = "") -> GradCheck:
    """``variable``'s grad against the numerical gradient of ``sum(output)`` (what backward()
    from ``output`` computes when it starts from ones), by central differences.

    Every function between them runs ``forward`` again on float64 copies of the data, so
    learner classes work too; their state (attributes, arrays they update in place such as
    running averages) and numpy's random state are restored afterwards. A function whose
    forward draws random numbers (dropout) cannot pass.
    """
    name = name_of(variable) or "this variable"

    def result(ok: bool, message: str, **errors: Any) -> GradCheck:
        fields = {"maxAbs": None, "maxRel": None, "checked": 0, "size": 0, **errors}
        return {"ok": ok, "output": output_id, "message": message, **fields}  # type: ignore[return-value]

    grad = grad_array(variable.grad)
    if grad is None:
        return result(False, f"{name} has no grad yet: run backward() first.")
    data = variable.data
    if not isinstance(data, np.ndarray) or not np.issubdtype(data.dtype, np.floating):
        return result(False, f"{name}'s data is not a floating-point array: there is no gradient to check.")
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != data.shape:
        return result(False, f"{name}'s grad has shape {grad.shape} but its data has shape {data.shape}.")
    functions = _forward_order(output)
    if variable is not output and not any(
        any(x is variable for x in inputs_of(function)) for function in functions
    ):
        return result(False, f"{name} does not feed the output, so its gradient from it is 0 by definition.")

    indexes = _checked_indexes(data.size)
    numeric = np.empty(len(indexes))
    with _state_kept(functions):
        point = data.astype(np.float64).ravel()
        for k, index in enumerate(indexes):
            h = _STEP * max(1.0, abs(point[index]))
            plus, minus = point.copy(), point.copy()
            plus[index] += h
            minus[index] -= h
            numeric[k] = (
                _output_sum(functions, variable, plus.reshape(data.shape), output)
                - _output_sum(functions, variable, minus.reshape(data.shape), output)
            ) / (2 * h)
    analytic = grad.ravel()[indexes]
    difference = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    relative = np.divide(difference, scale, out=np.zeros_like(difference), where=scale > 0)
    rtol, atol = _TOLERANCE["float64" if grad_array(variable.grad).dtype == np.float64 else "other"]
    ok = bool(np.all(difference <= atol + rtol * np.abs(numeric)))
    sampled = "" if len(indexes) == data.size else f" ({len(indexes)} of {data.size} elements)"
    verdict = (
        "matches the numerical gradient" if ok else "differs from the numerical gradient"
    ) + f"{sampled}: largest error {difference.max():.3g} (relative {relative.max():.3g})."
    if not ok:
        verdict += " A wrong backward(), or a grad added up over several backward() calls, gives this."
    return result(
        ok,
        f"{name}.grad {verdict}",
        maxAbs=float(difference.max()),
        maxRel=float(relative.max()),
        checked=len(indexes),
        size=int(data.size),
    )


def _checked_indexes(size: int) -> list[int]:
    if size <= CHECKED_ELEMENTS:
        return list(range(size))
    return sorted({round(k * (size - 1) / (CHECKED_ELEMENTS - 1)) for k in range(CHECKED_ELEMENTS)})


def _forward_order(output: Any) -> list[Any]:
    """The functions upstream of ``output``, each after every function it takes an input from."""
    order: list[Any] = []
    done: set[int] = set()
    start = creator_of(output)
    stack = [(start, False)] if start is not None else []
    while stack:
        function, inputs_done = stack.pop()
        if id(function) in done:
            continue
        if inputs_done:
            done.add(id(function))
            order.append(function)
            continue
        stack.append((function, True))
        for x in inputs_of(function):
            creator = creator_of(x) if x is not None else None
            if creator is not None and id(creator) not in done:
                stack.append((creator, False))
    return order


def _output_sum(functions: list[Any], variable: Any, value: np.ndarray, output: Any) -> float:
    """sum(output) with ``variable`` holding ``value``, everything else in float64."""
    values: dict[int, Any] = {id(variable): value}
    for function in functions:
        xs = [values[id(x)] if id(x) in values else _as_float64(x.data) for x in inputs_of(function)]
        ys = function.forward(*xs)
        for y, y_value in zip(outputs_of(function), ys if isinstance(ys, tuple) else (ys,)):
            if y is not None and y is not variable:
                values[id(y)] = y_value
    return float(np.sum(values.get(id(output), output.data)))


def _as_float64(array: Any) -> Any:
    if isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float64)
    return array


@contextlib.contextmanager
def _state_kept(functions: list[Any]) -> Iterator[None]:
    """Restore the functions' attributes, the arrays among them (in place: a running average
    is shared with its layer) and numpy's random state after re-running ``forward``."""
    random_state = np.random.get_state()
    saved = []
    for function in functions:
        attributes = dict(vars(function)) if hasattr(function, "__dict__") else {}
        arrays = {key: value.copy() for key, value in attributes.items() if isinstance(value, np.ndarray)}
        saved.append((function, attributes, arrays))
    try:
        yield
    finally:
        np.random.set_state(random_state)
        for function, attributes, arrays in saved:
            for key in set(vars(function)) - set(attributes) if attributes else ():
                delattr(function, key)
            for key, value in attributes.items():
                setattr(function, key, value)
            for key, copy in arrays.items():
                attributes[key][...] = copy
