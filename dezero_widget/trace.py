"""Trace a DeZero computational graph into a ``Graph`` whose ``snapshot()`` is JSON-ready.

Works on the DeZero *protocol* (``reader.py``), not on any particular classes, so a learner's
own step-N ``Variable``/``Function`` from the book is graphed the same way as this package's
engine. The snapshot's shape is ``protocol.Snapshot``; arrays are summarised by ``summary.py``.

Imports nothing from Jupyter and nothing from the engine: ``widget.py`` and ``magic.py``
build on it, and it is tested on its own.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dezero_widget.protocol import (
    DEFAULT_MAX_NODES,
    GRAD_SUBGRAPH,
    MAX_LABEL_CHARS,
    SNAPSHOT_VERSION,
    Edge,
    FunctionNode,
    Role,
    Snapshot,
    VariableNode,
    bounded_text,
)
from dezero_widget.reader import (
    Reached,
    Walk,
    generation_of,
    grad_array,
    grad_with_graph,
    inputs_of,
    is_function,
    is_parameter,
    is_variable,
    name_of,
    outputs_of,
    walk,
)
from dezero_widget.summary import summarize

__all__ = ["Graph", "cleargrad_all", "is_function", "is_variable", "summarize", "trace"]


# --------------------------------------------------------------------------
# Stable node ids
# --------------------------------------------------------------------------


class _StrongRef:
    """Stands in for a weakref for objects that refuse weak references.

    Holding such an object for good is the price of never letting its id() be recycled
    into a stale node id; only exotic classes (``__slots__`` without ``__weakref__``) pay it.
    """

    __slots__ = ("target",)

    def __init__(self, target: Any) -> None:
        self.target = target

    def __call__(self) -> Any:
        return self.target


class _NodeIds:
    """Node ids ("v1", "f1", ...) that stay the same for an object's whole lifetime, across
    traces, so the front end updates values in place instead of laying the graph out again.
    When the object dies its entry goes, so a later object reusing its id() gets a fresh id."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[str, Any]] = {}  # id(obj) -> (node id, reference to obj)
        self._counters = {"variable": itertools.count(1), "function": itertools.count(1)}

    def of(self, node: Reached) -> str:
        key = id(node.obj)
        entry = self._entries.get(key)
        if entry is not None and entry[1]() is node.obj:
            return entry[0]
        node_id = f"{node.kind[0]}{next(self._counters[node.kind])}"
        try:
            ref: Any = weakref.ref(node.obj, lambda dead, key=key: self._forget(key, dead))
        except TypeError:
            ref = _StrongRef(node.obj)
        self._entries[key] = (node_id, ref)
        return node_id

    def _forget(self, key: int, ref: Any) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry[1] is ref:
            del self._entries[key]


_node_ids = _NodeIds()

# Past max_nodes, tracing counts on for at most this many times max_nodes (and this many)
# nodes to say how many were left out; beyond that it says "at least".
_COUNT_LEFT_OUT_FACTOR = 10
_COUNT_LEFT_OUT_MAX = 20_000


# --------------------------------------------------------------------------
# The traced graph
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _DrawnVariable:
    """What a snapshot needs of one variable node that does not change on refresh."""

    variable: Any
    node_id: str
    fallback_label: str  # the notebook name(s), used while the variable has no name of its own
    fields: dict[str, Any]  # role, generation, creator, subgraph


@dataclass
class Graph:
    """A traced graph: its objects, held strongly, and how to snapshot them.

    The structure is fixed when traced; :meth:`snapshot` re-reads every variable's data,
    grad and name, so calling it again after ``backward()`` or ``cleargrad()`` is a cheap
    refresh with the same node ids and edges.
    """

    roots: list[Any]
    variables: list[Any]  # the variables drawn
    functions: list[Any]
    output_ids: list[str]  # roots that no drawn function consumes
    _ids: dict[int, str] = field(repr=False)
    _drawn_variables: list[_DrawnVariable] = field(repr=False)
    _function_nodes: list[FunctionNode] = field(repr=False)
    _edges: list[Edge] = field(repr=False)
    _drawn_outputs: list[str] = field(repr=False)
    _order: list[str] = field(repr=False)  # node ids in walk order
    _structure: tuple = field(repr=False)  # what `like` compares: see _structure()
    # Nodes of the graph left out of the drawing. Tracing stops counting them after a bounded
    # number (so it costs O(max_nodes), not O(graph)); then `omitted_exactly` is False and at
    # least `omitted` nodes were left out.
    omitted: int = 0
    omitted_exactly: bool = True

    @property
    def truncated(self) -> bool:
        return self.omitted > 0

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

    def fingerprint(self) -> tuple:
        """A cheap stand-in for everything ``snapshot()`` reads: which data and grad objects
        the variables hold, a few of their elements (all of them for small arrays) and their
        names. Costs about a microsecond a variable, so hooks can skip unchanged graphs; an
        in-place edit of a big array that leaves the sampled elements alone goes unseen."""
        return tuple(_stamp(drawn.variable) for drawn in self._drawn_variables)

    def snapshot(self) -> Snapshot:
        """``protocol.Snapshot``, with every data, grad and name read afresh."""
        nodes: list[VariableNode | FunctionNode] = [_variable_node(drawn) for drawn in self._drawn_variables]
        nodes.extend(dict(node) for node in self._function_nodes)  # type: ignore[misc]
        return {
            "version": SNAPSHOT_VERSION,
            "nodes": nodes,
            "edges": [dict(edge) for edge in self._edges],  # type: ignore[misc]
            "outputs": list(self._drawn_outputs),
            "truncated": self.truncated,
            "omitted": self.omitted,
            **({} if self.omitted_exactly else {"omittedAtLeast": True}),
        }


_STAMP_WHOLE_UP_TO = 64  # arrays up to this many elements are compared whole


def _array_stamp(array: Any) -> Any:
    if not isinstance(array, np.ndarray):
        return array
    size = array.size
    if size <= _STAMP_WHOLE_UP_TO:
        return array.tobytes()
    return size, tuple(array.flat[i * (size - 1) // 7] for i in range(8))


def _stamp(variable: Any) -> tuple:
    data, grad = variable.data, variable.grad
    return (
        id(data),
        _array_stamp(data),
        id(grad),
        _array_stamp(grad_array(grad)),
        name_of(variable),
    )


def _variable_node(drawn: _DrawnVariable) -> VariableNode:
    variable = drawn.variable
    data = summarize(variable.data)
    return {  # type: ignore[typeddict-item]
        "id": drawn.node_id,
        "kind": "variable",
        "label": name_of(variable) or drawn.fallback_label,
        "shape": list(data["shape"]) if data is not None else None,
        "dtype": data["dtype"] if data is not None else None,
        "data": data,
        "grad": summarize(grad_array(variable.grad), diverging=True),
        **drawn.fields,
    }


# --------------------------------------------------------------------------
# Tracing
# --------------------------------------------------------------------------


def trace(
    *roots: Any,
    names: Mapping[str, Any] | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    include_grad_graph: bool = False,
    like: Graph | None = None,
) -> Graph:
    """Discover the graph that produced ``roots`` and return it as a :class:`Graph`.

    ``names`` is an optional namespace (``{"x": x}``) used to label variables that have no
    ``name`` of their own. ``max_nodes`` bounds the snapshot (None for no bound); past it the
    nodes farthest from the roots are left out and the snapshot says how many. With
    ``include_grad_graph``, grads that have a creator (``backward(create_graph=True)``) are
    traced too and their nodes are marked ``subgraph: "grad"``. With ``like`` (an earlier
    graph), a graph of the same structure (a training loop's next step) takes its node ids,
    so the front end updates values in place instead of laying the graph out again.
    """
    for root in roots:
        if not is_variable(root):
            raise TypeError(
                f"trace() needs variables (objects with data, grad and creator), got {type(root).__name__}"
            )
    if max_nodes is not None and (type(max_nodes) is not int or max_nodes < 1):
        raise ValueError(f"max_nodes must be a whole number of at least 1, or None; got {max_nodes!r}")
    unique_roots = list({id(root): root for root in roots}.values())
    seen: set[int] = set()
    main_walk = walk(unique_roots, seen)
    main = list(itertools.islice(main_walk, max_nodes))
    grad_side: list[Reached] = []
    walks = [main_walk]
    if include_grad_graph and (max_nodes is None or len(main) < max_nodes):
        grad_roots = [grad_with_graph(node.obj) for node in main if node.kind == "variable"]
        walks.append(walk([grad for grad in grad_roots if grad is not None], seen))
        grad_side = list(itertools.islice(walks[-1], None if max_nodes is None else max_nodes - len(main)))
    graph = _assemble(unique_roots, main, grad_side, _labels_from_names(names), like)
    if max_nodes is not None:
        graph.omitted, graph.omitted_exactly = _count_left_out(walks, max_nodes)
    return graph


def _count_left_out(walks: list[Walk], max_nodes: int) -> tuple[int, bool]:
    """How many nodes the walks did not hand out, counting on for at most a bounded number of
    nodes (so tracing stays O(max_nodes)); the flag says whether that count is exact."""
    budget = min(_COUNT_LEFT_OUT_FACTOR * max_nodes, _COUNT_LEFT_OUT_MAX)
    counted = 0
    for remaining in walks:
        counted += sum(1 for _ in itertools.islice(remaining, budget - counted))
    pending = sum(remaining.pending for remaining in walks)
    return counted + pending, pending == 0


def _assemble(
    roots: list[Any],
    main: list[Reached],
    grad_side: list[Reached],
    labels: dict[int, str],
    like: Graph | None,
) -> Graph:
    """The Graph of the reached nodes, all drawn."""
    drawn = main + grad_side
    structure = _structure(drawn)
    if like is not None and like._structure == structure:
        ids = {id(node.obj): node_id for node, node_id in zip(drawn, like._order)}
    else:
        ids = {id(node.obj): _node_ids.of(node) for node in drawn}
    consumed_main, consumed_grad = _consumed(main), _consumed(grad_side)
    on_grad_side = {id(node.obj) for node in grad_side}
    drawn_ids = set(ids.values())

    variables: list[_DrawnVariable] = []
    functions: list[FunctionNode] = []
    edges: list[Edge] = []
    for node in drawn:
        in_grad_graph = id(node.obj) in on_grad_side
        fields = _shared_fields(node.obj, in_grad_graph)
        node_id = ids[id(node.obj)]
        if node.kind == "variable":
            consumed = consumed_grad if in_grad_graph else consumed_main
            fields["role"] = _role(node.obj, consumed)
            creator_id = ids.get(id(node.obj.creator)) if node.obj.creator is not None else None
            if creator_id in drawn_ids:
                fields["creator"] = creator_id
            variables.append(_DrawnVariable(node.obj, node_id, _label_from_names(node.obj, labels), fields))
        else:
            functions.append({"id": node_id, "kind": "function", "op": type(node.obj).__name__, **fields})  # type: ignore[typeddict-item]
            edges.extend(_edges_of(node.obj, node_id, ids, drawn_ids))

    output_ids = [ids[id(root)] for root in roots if id(root) in ids and id(root) not in consumed_main]
    return Graph(
        roots=roots,
        variables=[node.obj for node in drawn if node.kind == "variable"],
        functions=[node.obj for node in drawn if node.kind == "function"],
        output_ids=output_ids,
        _ids=ids,
        _drawn_variables=variables,
        _function_nodes=functions,
        _edges=edges,
        _drawn_outputs=[node_id for node_id in output_ids if node_id in drawn_ids],
        _order=[ids[id(node.obj)] for node in drawn],
        _structure=structure,
    )


def _structure(nodes: list[Reached]) -> tuple:
    """The graph's shape, without its objects: per node in walk order, "v" for a variable
    or, for a function, its class name and the walk positions of its inputs and outputs."""
    position = {id(node.obj): index for index, node in enumerate(nodes)}
    return tuple(
        "v"
        if node.kind == "variable"
        else (
            type(node.obj).__name__,
            tuple(position.get(id(x), -1) for x in inputs_of(node.obj)),
            tuple(position.get(id(y), -1) for y in outputs_of(node.obj)),
        )
        for node in nodes
    )


def _consumed(nodes: Iterable[Reached]) -> set[int]:
    """ids of the variables that some function among ``nodes`` takes as input."""
    return {id(x) for node in nodes if node.kind == "function" for x in inputs_of(node.obj) if x is not None}


def _shared_fields(obj: Any, in_grad_graph: bool) -> dict[str, Any]:
    """The optional fields variable and function nodes share: generation and subgraph."""
    fields: dict[str, Any] = {}
    generation = generation_of(obj)
    if generation is not None:
        fields["generation"] = generation
    if in_grad_graph:
        fields["subgraph"] = GRAD_SUBGRAPH
    return fields


def _role(variable: Any, consumed: set[int]) -> Role:
    if is_parameter(variable):
        return "param"
    if variable.creator is None:
        return "input"
    return "intermediate" if id(variable) in consumed else "output"


def _edges_of(function: Any, function_id: str, ids: dict[int, str], drawn_ids: set[str]) -> list[Edge]:
    """The drawn edges of one function: its inputs into it, then it into its outputs."""
    edges: list[Edge] = []
    for index, x in enumerate(inputs_of(function)):
        source = ids.get(id(x)) if x is not None else None
        if source in drawn_ids:
            edges.append({"source": source, "target": function_id, "index": index})
    for index, y in enumerate(outputs_of(function)):
        target = ids.get(id(y)) if y is not None else None
        if target in drawn_ids:
            edges.append({"source": function_id, "target": target, "index": index})
    return edges


def _labels_from_names(names: Mapping[str, Any] | None) -> dict[int, str]:
    """id(variable or ndarray) -> "a, b" for the variables and arrays among the namespace's values."""
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise TypeError(
            f"names must be a mapping of names to values, such as globals(), not {type(names).__name__}"
        )
    bound: dict[int, list[str]] = {}
    for name, value in names.items():
        if isinstance(value, np.ndarray) or is_variable(value):
            bound.setdefault(id(value), []).append(str(name))
    return {key: bounded_text(", ".join(found), MAX_LABEL_CHARS) for key, found in bound.items()}


def _label_from_names(variable: Any, labels: dict[int, str]) -> str:
    """The names bound to the variable, else to the array it holds (the engine wraps arrays)."""
    return labels.get(id(variable)) or labels.get(id(variable.data), "")


def cleargrad_all(graph: Graph) -> int:
    """Reset the grad of every variable in the graph; returns how many variables that was.

    Calls each variable's own ``cleargrad()`` (so engines can react to it); for learner
    classes written before ``cleargrad`` existed, sets ``grad = None``. A truncated graph is
    walked whole first (the drawing holds only part of it). One variable that fails does not
    stop the others: the first error is raised once every variable has been tried.
    """
    variables = graph.variables
    if graph.truncated:
        variables = [node.obj for node in walk(graph.roots) if node.kind == "variable"]
    first_error: Exception | None = None
    for variable in variables:
        try:
            cleargrad = getattr(variable, "cleargrad", None)
            if callable(cleargrad):
                cleargrad()
            else:
                variable.grad = None
        except Exception as error:
            first_error = first_error or error
    if first_error is not None:
        raise first_error
    return len(variables)
