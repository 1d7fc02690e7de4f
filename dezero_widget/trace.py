"""Discover a DeZero computational graph and turn it into JSON-ready snapshots.

This module works on the DeZero *protocol*, not on any particular classes, so
a learner's own step-N ``Variable``/``Function`` from the book is graphed the
same way as this package's engine:

* a variable is any object with ``data``, ``grad`` and ``creator``;
* a function is any object with ``inputs`` and ``outputs`` (outputs may be a
  list of variables or of weak references), or, as in step 7 of the book,
  a single ``input`` and ``output``.

It imports nothing from Jupyter and nothing from the engine: ``widget.py``
and ``magic.py`` build on it, and it is tested on its own.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

__all__ = [
    "Graph",
    "cleargrad_all",
    "is_function",
    "is_variable",
    "summarize",
    "trace",
]

SNAPSHOT_VERSION = 1
GRAD_SUBGRAPH = "grad"

# Array previews: arrays up to this many elements are shown whole, larger ones
# as head...tail; every preview is one line of at most this many characters.
_PREVIEW_WHOLE_UP_TO = 10
_PREVIEW_EDGE_ITEMS = 3
_PREVIEW_PRECISION = 4
_PREVIEW_MAX_CHARS = 120


# --------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------


def _has_attributes(obj: Any, *names: str) -> bool:
    """hasattr for each name, False for classes and for objects whose attribute
    lookup raises something else than AttributeError (a user namespace holds anything)."""
    if isinstance(obj, type):
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


def _as_variable_list(value: Any) -> list:
    """A function's inputs or outputs as a list; a lone variable (or weakref) becomes a list of one."""
    if value is None:
        return []
    if is_variable(value) or isinstance(value, weakref.ReferenceType):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _function_inputs(function: Any) -> list:
    """Inputs in call order; non-variable entries stay in place as None so positions hold."""
    if hasattr(function, "inputs"):
        raw = function.inputs
    else:
        raw = getattr(function, "input", None)
    return [item if is_variable(item) else None for item in _as_variable_list(raw)]


def _function_outputs(function: Any) -> list:
    """Outputs in position order, weak references resolved; dead or foreign entries become None."""
    if hasattr(function, "outputs"):
        raw = function.outputs
    else:
        raw = getattr(function, "output", None)
    outputs = []
    for item in _as_variable_list(raw):
        if isinstance(item, weakref.ReferenceType):
            item = item()
        outputs.append(item if is_variable(item) else None)
    return outputs


def _generation(obj: Any) -> int | None:
    generation = getattr(obj, "generation", None)
    if isinstance(generation, (int, np.integer)) and not isinstance(generation, bool):
        return int(generation)
    return None


def _is_parameter(variable: Any) -> bool:
    return any(cls.__name__ == "Parameter" for cls in type(variable).__mro__)


def _grad_array(grad: Any) -> Any:
    """DeZero from step 33 keeps grads as Variables; earlier steps keep bare arrays."""
    if grad is not None and not isinstance(grad, np.ndarray) and is_variable(grad):
        return grad.data
    return grad


# --------------------------------------------------------------------------
# Stable node ids
# --------------------------------------------------------------------------


class _StrongRef:
    """Stands in for a weakref for objects that refuse weak references.

    Holding such an object for good is the price of never letting its id()
    be recycled into a stale node id; only exotic classes (``__slots__``
    without ``__weakref__``) pay it.
    """

    __slots__ = ("target",)

    def __init__(self, target: Any) -> None:
        self.target = target

    def __call__(self) -> Any:
        return self.target


# id(obj) -> (node id, reference to obj). The weakref callback drops the entry
# when the object dies, so a later object reusing the id() gets a fresh node id.
_node_ids: dict[int, tuple[str, Any]] = {}
_counters = {"v": itertools.count(1), "f": itertools.count(1)}


def _forget(key: int, ref: Any) -> None:
    entry = _node_ids.get(key)
    if entry is not None and entry[1] is ref:
        del _node_ids[key]


def _node_id(obj: Any, prefix: str) -> str:
    """The id of ``obj``, created on first sight and kept for the object's lifetime."""
    key = id(obj)
    entry = _node_ids.get(key)
    if entry is not None and entry[1]() is obj:
        return entry[0]
    node_id = f"{prefix}{next(_counters[prefix])}"
    try:
        ref: Any = weakref.ref(obj, lambda dead, key=key: _forget(key, dead))
    except TypeError:
        ref = _StrongRef(obj)
    _node_ids[key] = (node_id, ref)
    return node_id


# --------------------------------------------------------------------------
# Array summaries
# --------------------------------------------------------------------------

_STATS_KINDS = frozenset("biuf")  # bool, signed and unsigned ints, floats


def _cap(text: str) -> str:
    """One line; past the length bound, keep the head and the tail around an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= _PREVIEW_MAX_CHARS:
        return text
    half = (_PREVIEW_MAX_CHARS - 3) // 2
    head, tail = text[:half], text[-half:]
    # Cut between elements where the text has separators, not inside a number.
    head = head[: head.rfind(", ") + 1] or head
    tail = tail[tail.find(", ") + 2 :] if ", " in tail else tail
    return f"{head} \u2026 {tail}"


def _safe_text(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # user objects in object arrays may have a broken __str__
        return f"<{type(value).__name__}>"


def _float_texts(values: list[float]) -> list[str]:
    """numpy's default style for the elements of one array: positional with at most
    the preview precision and trailing zeros dropped ("1.", "4.5"), or, when the
    magnitudes call for it by numpy's own rule, scientific with equal-length mantissas."""
    magnitudes = [abs(v) for v in values if v != 0 and math.isfinite(v)]
    scientific = bool(magnitudes) and (
        max(magnitudes) >= 1e8 or min(magnitudes) < 1e-4 or max(magnitudes) / min(magnitudes) > 1e3
    )
    if not scientific:
        return [f"{v:.{_PREVIEW_PRECISION}f}".rstrip("0") if math.isfinite(v) else str(v) for v in values]
    parts = [f"{v:.{_PREVIEW_PRECISION}e}".split("e") if math.isfinite(v) else (str(v), None) for v in values]
    mantissas = [m.rstrip("0") if e is not None else m for m, e in parts]
    digits = max(len(m) - m.index(".") - 1 for m, (_, e) in zip(mantissas, parts) if e is not None)
    return [
        f"{m}{'0' * (digits - len(m) + m.index('.') + 1)}e{e}" if e is not None else m
        for m, (_, e) in zip(mantissas, parts)
    ]


_ELLIPSIS = "..."


def _edge_items(array: np.ndarray, summarise: bool) -> list:
    """Nested lists of what numpy prints: when summarising, an axis longer than
    twice the edge count keeps only its head and tail, with an ellipsis between."""
    length = array.shape[0]
    cut = summarise and length > 2 * _PREVIEW_EDGE_ITEMS
    if array.ndim == 1:
        if not cut:
            return array.tolist()
        edge = _PREVIEW_EDGE_ITEMS
        return [*array[:edge].tolist(), _ELLIPSIS, *array[-edge:].tolist()]
    rows: list[int | None] = list(range(length))
    if cut:
        edge = _PREVIEW_EDGE_ITEMS
        rows = [*range(edge), None, *range(length - edge, length)]
    return [_ELLIPSIS if row is None else _edge_items(array[row], summarise) for row in rows]


def _leaves(items: list) -> Iterator[Any]:
    for item in items:
        if isinstance(item, list):
            yield from _leaves(item)
        elif item is not _ELLIPSIS:
            yield item


def _nested_text(items: Any, texts: Iterator[str]) -> str:
    """Brackets from the nesting of ``items``, element texts from ``texts`` in flat order."""
    if isinstance(items, list):
        return "[" + ", ".join(_nested_text(item, texts) for item in items) + "]"
    return _ELLIPSIS if items is _ELLIPSIS else next(texts)


def _numeric_preview(array: np.ndarray) -> str:
    """A real array as numpy would print it with the preview options, on one line.

    np.array2string costs ~30 us per call, which alone would blow the refresh
    budget of a 1,000-node graph of vectors; this costs a few.
    """
    items = _edge_items(array, summarise=array.size > _PREVIEW_WHOLE_UP_TO)
    values = list(_leaves(items))
    texts = _float_texts(values) if array.dtype.kind == "f" else [str(v) for v in values]
    return _nested_text(items, iter(texts))


def _preview(array: np.ndarray) -> str:
    if array.size == 1:
        return _cap(_safe_text(array.flat[0]))
    if array.size > 1 and array.dtype.kind in _STATS_KINDS:
        return _cap(_numeric_preview(array))
    try:
        text = np.array2string(
            array,
            threshold=_PREVIEW_WHOLE_UP_TO,
            edgeitems=_PREVIEW_EDGE_ITEMS,
            precision=_PREVIEW_PRECISION,
            separator=", ",
            max_line_width=10**6,
        )
    except Exception:  # same as above: element reprs come from user code
        return f"<{array.dtype} array>"
    if array.dtype.kind == "c":
        # numpy pads numbers into aligned columns; on one line that is just noise.
        text = " ".join(text.split()).replace("[ ", "[").replace(" ]", "]").replace(" ,", ",")
    return _cap(text)


def _to_array(value: Any) -> np.ndarray:
    """A plain ndarray: subclasses (masked arrays, matrix) print and reduce differently."""
    if type(value) is np.ndarray:
        return value
    try:
        return np.asarray(value)
    except Exception:  # ragged or otherwise unconvertible: summarise it as one object
        holder = np.empty((), dtype=object)
        holder[()] = value
        return holder


_dtype_texts: dict[np.dtype, str] = {}


def _dtype_text(dtype: np.dtype) -> str:
    """str(dtype), cached: it is a measurable share of a refresh of a big scalar graph."""
    text = _dtype_texts.get(dtype)
    if text is None:
        text = _dtype_texts[dtype] = str(dtype)
    return text


def _number(value: Any, kind: str) -> int | float | None:
    """A plain Python number; None where a float would not fit JSON (a mean that
    overflowed, a float128 beyond float64's range)."""
    if kind != "f":
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def _add_stats(summary: dict, array: np.ndarray) -> None:
    """min/max/mean over the finite values, with counts of NaN and +-Inf alongside."""
    kind = array.dtype.kind
    values = array
    if kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            nan = int(np.count_nonzero(np.isnan(array)))
            posinf = int(np.count_nonzero(np.isposinf(array)))
            neginf = int(array.size - nan - posinf - np.count_nonzero(finite))
            for key, count in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
                if count:
                    summary[key] = count
            values = array[finite]
    if values.size == 0:
        summary["min"] = summary["max"] = summary["mean"] = None
        return
    summary["min"] = _number(values.min(), kind)
    summary["max"] = _number(values.max(), kind)
    with np.errstate(over="ignore"):
        summary["mean"] = _number(values.mean(dtype=np.float64), "f")


def summarize(value: Any) -> dict | None:
    """A small JSON-ready description of an array (the ``ArraySummary`` of protocol.ts).

    Never the whole array: shape, dtype, size, a one-line preview and, for
    numeric arrays of more than one element, min/max/mean of the finite
    values plus counts of NaN/+Inf/-Inf when there are any. Size-1 arrays
    give only the exact value as their preview, to keep big scalar graphs small.
    """
    if value is None:
        return None
    array = _to_array(value)
    summary: dict[str, Any] = {
        "shape": list(array.shape),
        "dtype": _dtype_text(array.dtype),
        "size": int(array.size),
        "preview": _preview(array),
    }
    if array.size > 1 and array.dtype.kind in _STATS_KINDS:
        _add_stats(summary, array)
    return summary


# --------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------


def _walk(roots: list, seen: set[int]) -> list[tuple[bool, Any]]:
    """Breadth-first from the roots toward the inputs, each node once.

    Returns ``(is_variable, obj)`` pairs in discovery order, nearest the roots
    first, so truncating the tail drops the nodes on the inputs side. Alive
    outputs of a discovered function are discovered too, even if unused.
    Iterative, so arbitrarily deep graphs work at the default recursion limit.
    """
    order: list[tuple[bool, Any]] = []
    queue: deque[tuple[bool, Any]] = deque()

    def visit(obj: Any, variable: bool) -> None:
        if id(obj) not in seen:
            seen.add(id(obj))
            order.append((variable, obj))
            queue.append((variable, obj))

    for root in roots:
        visit(root, True)
    while queue:
        variable, obj = queue.popleft()
        if variable:
            creator = obj.creator
            if creator is not None and is_function(creator):
                visit(creator, False)
            continue
        for output in _function_outputs(obj):
            if output is not None:
                visit(output, True)
        for input_ in _function_inputs(obj):
            if input_ is not None:
                visit(input_, True)
    return order


def _labels_from_names(names: Mapping[str, Any] | None) -> dict[int, str]:
    """id(variable) -> "a, b" for the variables among the namespace's values."""
    if not names:
        return {}
    bound: dict[int, list[str]] = {}
    for name, value in names.items():
        if is_variable(value):
            bound.setdefault(id(value), []).append(str(name))
    return {key: ", ".join(found) for key, found in bound.items()}


class _VariableEntry:
    """What a snapshot needs of one variable node that does not change on refresh."""

    __slots__ = ("extra", "fallback_label", "node_id", "variable")

    def __init__(self, variable: Any, node_id: str, fallback_label: str, extra: dict) -> None:
        self.variable = variable
        self.node_id = node_id
        self.fallback_label = fallback_label
        self.extra = extra


class Graph:
    """A traced graph: its objects, held strongly, and how to snapshot them.

    The structure is fixed when traced; :meth:`snapshot` re-reads every
    variable's data, grad and name, so calling it again after ``backward()``
    or ``cleargrad()`` is a cheap refresh with the same node ids and edges.
    """

    def __init__(
        self,
        roots: list,
        main: list[tuple[bool, Any]],
        grad_side: list[tuple[bool, Any]],
        names: Mapping[str, Any] | None,
        max_nodes: int | None,
    ) -> None:
        self.roots = roots
        discovered = main + grad_side
        self.variables = [obj for variable, obj in discovered if variable]
        self.functions = [obj for variable, obj in discovered if not variable]
        self._ids = {id(obj): _node_id(obj, "v" if variable else "f") for variable, obj in discovered}
        in_grad_subgraph = {id(obj) for _, obj in grad_side}

        consumed: dict[bool, set[int]] = {False: set(), True: set()}
        for variable, obj in discovered:
            if not variable:
                side = consumed[id(obj) in in_grad_subgraph]
                side.update(id(x) for x in _function_inputs(obj) if x is not None)

        self.output_ids = [self._ids[id(root)] for root in roots if id(root) not in consumed[False]]

        kept = discovered if max_nodes is None else discovered[:max_nodes]
        self.truncated = len(kept) < len(discovered)
        self.omitted = len(discovered) - len(kept)
        kept_ids = {self._ids[id(obj)] for _, obj in kept}
        labels = _labels_from_names(names)

        self._variable_entries: list[_VariableEntry] = []
        self._function_nodes: list[dict] = []
        self._edges: list[tuple[str, str, int]] = []
        for variable, obj in kept:
            node_id = self._ids[id(obj)]
            on_grad_side = id(obj) in in_grad_subgraph
            fields: dict[str, Any]
            if variable:
                fields = {"role": self._role(obj, consumed[on_grad_side])}
                creator_id = self._ids.get(id(obj.creator)) if obj.creator is not None else None
                if creator_id in kept_ids:
                    fields["creator"] = creator_id
            else:
                fields = {"op": type(obj).__name__}
                self._add_edges(obj, node_id, kept_ids)
            generation = _generation(obj)
            if generation is not None:
                fields["generation"] = generation
            if on_grad_side:
                fields["subgraph"] = GRAD_SUBGRAPH
            if variable:
                label = labels.get(id(obj), "")
                self._variable_entries.append(_VariableEntry(obj, node_id, label, fields))
            else:
                self._function_nodes.append({"id": node_id, "kind": "function", **fields})
        self._snapshot_outputs = [i for i in self.output_ids if i in kept_ids]

    @staticmethod
    def _role(variable: Any, consumed: set[int]) -> str:
        if _is_parameter(variable):
            return "param"
        if variable.creator is None:
            return "input"
        if id(variable) not in consumed:
            return "output"
        return "intermediate"

    def _add_edges(self, function: Any, function_id: str, kept_ids: set[str]) -> None:
        for index, input_ in enumerate(_function_inputs(function)):
            source = self._ids.get(id(input_)) if input_ is not None else None
            if source in kept_ids:
                self._edges.append((source, function_id, index))
        for index, output in enumerate(_function_outputs(function)):
            target = self._ids.get(id(output)) if output is not None else None
            if target in kept_ids:
                self._edges.append((function_id, target, index))

    def id_of(self, obj: Any) -> str:
        """The node id of a variable or function of this graph (KeyError if it is not in it)."""
        try:
            return self._ids[id(obj)]
        except KeyError:
            raise KeyError(f"{type(obj).__name__} object is not in this graph") from None

    def contains(self, obj: Any) -> bool:
        # The graph holds its objects strongly, so their id()s cannot be reused meanwhile.
        return id(obj) in self._ids

    def cleargrad_all(self) -> int:
        return cleargrad_all(self)

    def snapshot(self) -> dict:
        """The ``Snapshot`` of protocol.ts, with data and grads read afresh."""
        nodes: list[dict] = []
        for entry in self._variable_entries:
            variable = entry.variable
            data = summarize(variable.data)
            name = getattr(variable, "name", None)
            nodes.append(
                {
                    "id": entry.node_id,
                    "kind": "variable",
                    "label": str(name) if name else entry.fallback_label,
                    "shape": list(data["shape"]) if data is not None else None,
                    "dtype": data["dtype"] if data is not None else None,
                    "data": data,
                    "grad": summarize(_grad_array(variable.grad)),
                    **entry.extra,
                }
            )
        nodes.extend(dict(node) for node in self._function_nodes)
        return {
            "version": SNAPSHOT_VERSION,
            "nodes": nodes,
            "edges": [
                {"source": source, "target": target, "index": index} for source, target, index in self._edges
            ],
            "outputs": list(self._snapshot_outputs),
            "truncated": self.truncated,
            "omitted": self.omitted,
        }


def trace(
    *roots: Any,
    names: Mapping[str, Any] | None = None,
    max_nodes: int | None = 5000,
    include_grad_graph: bool = False,
) -> Graph:
    """Discover the graph that produced ``roots`` and return it as a :class:`Graph`.

    ``names`` is an optional namespace (``{"x": x}``) used to label variables
    that have no ``name`` of their own. ``max_nodes`` bounds the snapshot
    (None for no bound); past it the nodes farthest from the roots are left
    out and the snapshot says how many. With ``include_grad_graph``, grads
    that have a creator (``backward(create_graph=True)``) are traced too and
    their nodes are marked ``subgraph: "grad"``.
    """
    for root in roots:
        if not is_variable(root):
            raise TypeError(
                f"trace() needs variables (objects with data, grad and creator), got {type(root).__name__}"
            )
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1 or None, got {max_nodes}")
    unique_roots = list({id(root): root for root in roots}.values())
    seen: set[int] = set()
    main = _walk(unique_roots, seen)
    grad_side: list[tuple[bool, Any]] = []
    if include_grad_graph:
        grad_roots = []
        for variable, obj in main:
            grad = obj.grad if variable else None
            if is_variable(grad) and grad.creator is not None:
                grad_roots.append(grad)
        grad_side = _walk(grad_roots, seen)
    return Graph(unique_roots, main, grad_side, names, max_nodes)


def cleargrad_all(graph: Graph) -> int:
    """Reset the grad of every variable in the graph; returns how many variables that was.

    Calls each variable's own ``cleargrad()`` (so engines can react to it);
    for learner classes written before ``cleargrad`` existed, sets ``grad = None``.
    """
    for variable in graph.variables:
        cleargrad = getattr(variable, "cleargrad", None)
        if callable(cleargrad):
            cleargrad()
        else:
            variable.grad = None
    return len(graph.variables)
