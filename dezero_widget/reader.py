"""Reading the DeZero protocol: the one place that knows what a variable and a function look like.

Every walker goes through here (``trace``, ``utils.get_dot_graph``, ``cleargrad_all``, the
magic's discovery), so a learner's own step-N classes from the book work wherever this
package's engine does:

* a variable is any object with ``data``, ``grad`` and ``creator``;
* a function is any object with ``inputs`` and ``outputs`` (outputs may be variables or weak
  references to them), or, as in step 7 of the book, a single ``input`` and ``output``.

Imports nothing from Jupyter and nothing from the engine.
"""

from __future__ import annotations

import itertools
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any, Literal, NamedTuple

import numpy as np

from dezero_widget.protocol import MAX_LABEL_CHARS, bounded_text

NodeKind = Literal["variable", "function"]


class Reached(NamedTuple):
    """A node found by ``walk``: what kind of node it is, and the object itself; for a function
    also its ``inputs_of`` and ``outputs_of`` as the walk read them (callers need not read again)."""

    kind: NodeKind
    obj: Any
    inputs: Sequence[Any] = ()
    outputs: Sequence[Any] = ()


_NEVER_NODES = (type, ModuleType)  # classes and modules have a variable's attributes at most by chance


def _has_attributes(obj: Any, *names: str) -> bool:
    """hasattr for each name, False for classes and modules (a module's failing lookup can
    run Python code: numpy's costs microseconds, and namespaces are scanned around every
    %%autodiff cell) and for objects whose attribute lookup raises something else than
    AttributeError (a user namespace holds anything)."""
    if isinstance(obj, _NEVER_NODES):
        return False
    try:
        return all(hasattr(obj, name) for name in names)
    except Exception:
        return False


def is_variable(obj: Any) -> bool:
    """True for anything shaped like a DeZero variable (``data``, ``grad``, ``creator``)."""
    return _has_attributes(obj, "creator", "grad", "data")


def is_function(obj: Any) -> bool:
    """True for anything shaped like a DeZero function (``inputs``/``outputs``, or step 7's
    single ``input``/``output``)."""
    return _has_attributes(obj, "inputs", "outputs") or _has_attributes(obj, "input", "output")


def is_layer(obj: Any) -> bool:
    """True for anything shaped like a DeZero layer (``forward`` and ``params`` methods, as
    ``layers.Layer`` has): the widget boxes a layer's functions, named after it."""
    if isinstance(obj, _NEVER_NODES):
        return False
    try:
        return callable(getattr(obj, "forward", None)) and callable(getattr(obj, "params", None))
    except Exception:
        return False


# More inputs or outputs than this on one function is taken for an endless iterable.
MAX_ARITY = 10_000


def _as_list(value: Any, function: Any, attribute: str) -> list:
    """A function's inputs or outputs as a list; a lone variable (or weakref) becomes a list of
    one. A one-shot iterator (a generator) or an endless iterable is one clear error: the graph
    is read more than once, and must be finite."""
    if value is None:
        return []
    if is_variable(value) or isinstance(value, weakref.ReferenceType) or not isinstance(value, Iterable):
        return [value]
    where = f"{type(function).__name__}.{attribute}"
    if iter(value) is value:
        raise TypeError(f"{where} is a one-shot iterator ({type(value).__name__}): store a list or tuple")
    items = list(itertools.islice(value, MAX_ARITY + 1))
    if len(items) > MAX_ARITY:
        raise ValueError(f"{where} holds more than {MAX_ARITY:,} items: is it endless?")
    return items


def inputs_of(function: Any) -> list[Any]:
    """Inputs in call order; entries that are not variables stay in place as None so positions hold."""
    attribute = "inputs" if hasattr(function, "inputs") else "input"
    return [
        item if is_variable(item) else None
        for item in _as_list(getattr(function, attribute, None), function, attribute)
    ]


def outputs_of(function: Any) -> list[Any]:
    """Outputs in position order, weak references resolved; dead or foreign entries become None."""
    attribute = "outputs" if hasattr(function, "outputs") else "output"
    outputs = []
    for item in _as_list(getattr(function, attribute, None), function, attribute):
        if isinstance(item, weakref.ReferenceType):
            item = item()
        outputs.append(item if is_variable(item) else None)
    return outputs


def creator_of(variable: Any) -> Any:
    """The function that made ``variable``, or None for a leaf (or a creator of another shape)."""
    creator = variable.creator
    return creator if creator is not None and is_function(creator) else None


def generation_of(obj: Any) -> int | None:
    """The engine's generation number, when the object keeps one (the book from step 16)."""
    generation = getattr(obj, "generation", None)
    if isinstance(generation, (int, np.integer)) and not isinstance(generation, bool):
        return int(generation)
    return None


def is_parameter(variable: Any) -> bool:
    """A ``Parameter`` of this package or of the learner's own code (matched by class name)."""
    return any(cls.__name__ == "Parameter" for cls in type(variable).__mro__)


def name_of(variable: Any) -> str | None:
    """The variable's own ``name`` as a label (bounded, valid UTF-8), or None when it has none
    or one that cannot be read or printed."""
    try:
        name = getattr(variable, "name", None)
        text = None if name is None else str(name)
    except Exception:
        return None
    return bounded_text(text, MAX_LABEL_CHARS) if text else None


def grad_array(grad: Any) -> Any:
    """The gradient as an array: the book keeps grads as Variables from step 33, arrays before."""
    if grad is not None and not isinstance(grad, np.ndarray) and is_variable(grad):
        return grad.data
    return grad


def grad_with_graph(variable: Any) -> Any:
    """The grad of ``variable`` when it is a variable with a creator (``create_graph=True``), else None."""
    grad = variable.grad
    return grad if is_variable(grad) and grad.creator is not None else None


class Walk:
    """Every node upstream of some roots, breadth-first toward the inputs, each once.

    Iterate it: nearest the roots come first, so a caller that stops early (``itertools.islice``)
    keeps the outputs' side and pays only for what it took. The live outputs of a reached
    function are reached too, even if nothing used them. ``seen`` (ids of objects already
    reached) lets a second walk skip the first one's nodes. Iterative, so arbitrarily deep
    graphs work at the default recursion limit.
    """

    def __init__(self, roots: Iterable[Any], seen: set[int] | None = None) -> None:
        self._seen = set() if seen is None else seen
        self._queue: deque[Reached] = deque()
        for root in roots:
            self._push(Reached("variable", root))

    @property
    def pending(self) -> int:
        """Nodes found but not yielded yet: 0 once the walk has yielded the whole graph."""
        return len(self._queue)

    def __iter__(self) -> Iterator[Reached]:
        while self._queue:
            node = self._queue.popleft()
            # Neighbours are queued before the node is handed out, so `pending` is exact
            # about whether anything is left when the caller stops.
            if node.kind == "variable":
                creator = creator_of(node.obj)
                if creator is not None:
                    self._push(Reached("function", creator))
            else:
                node = Reached("function", node.obj, inputs_of(node.obj), outputs_of(node.obj))
                for neighbour in (*node.outputs, *node.inputs):
                    if neighbour is not None:
                        self._push(Reached("variable", neighbour))
            yield node

    def _push(self, node: Reached) -> None:
        if id(node.obj) not in self._seen:
            self._seen.add(id(node.obj))
            self._queue.append(node)


def walk(roots: Iterable[Any], seen: set[int] | None = None) -> Walk:
    """``Walk(roots, seen)``: iterate it for every node upstream of ``roots``."""
    return Walk(roots, seen)
