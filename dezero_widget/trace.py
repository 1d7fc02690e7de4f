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
    LayerBox,
    Role,
    Snapshot,
    VariableNode,
    bounded_text,
)
from dezero_widget.reader import (
    Reached,
    Walk,
    creator_of,
    generation_of,
    grad_array,
    grad_with_graph,
    is_function,
    is_layer,
    is_parameter,
    is_variable,
    name_of,
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
    When the object dies its entry goes, so a later object reusing its id() gets a fresh id.
    Layers get ids ("l1", ...) the same way, for their boxes."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[str, Any]] = {}  # id(obj) -> (node id, reference to obj)
        self._counters = {kind: itertools.count(1) for kind in ("variable", "function", "layer")}

    def of(self, node: Reached) -> str:
        return self.of_object(node.kind, node.obj)

    def of_object(self, kind: str, obj: Any) -> str:
        key = id(obj)
        entry = self._entries.get(key)
        if entry is not None and entry[1]() is obj:
            return entry[0]
        node_id = f"{kind[0]}{next(self._counters[kind])}"
        try:
            ref: Any = weakref.ref(obj, lambda dead, key=key: self._forget(key, dead))
        except TypeError:
            ref = _StrongRef(obj)
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
    _structure: tuple = field(repr=False)  # what `like` compares: see _structure() and _find_boxes()
    _layers: list[LayerBox] = field(default_factory=list, repr=False)  # layer boxes, outer first
    # Nodes of the graph left out of the drawing. Tracing stops counting them after a bounded
    # number (so it costs O(max_nodes), not O(graph)); then `omitted_exactly` is False and at
    # least `omitted` nodes were left out.
    omitted: int = 0
    omitted_exactly: bool = True
    # How it was traced, for retraced(): labels from the names, the bound, the grad graph.
    _labels: dict[int, str] = field(default_factory=dict, repr=False)
    max_nodes: int | None = DEFAULT_MAX_NODES
    include_grad_graph: bool = False

    def retraced(self, include_grad_graph: bool) -> Graph:
        """The same roots traced again (with the same labels and bound), with or without the
        graph that backward(create_graph=True) built."""
        return _trace(self.roots, self._labels, self.max_nodes, include_grad_graph, like=None)

    @property
    def truncated(self) -> bool:
        return self.omitted > 0

    def id_of(self, obj: Any) -> str:
        """The node id of a variable or function of this graph (KeyError if it is not in it)."""
        try:
            return self._ids[id(obj)]
        except KeyError:
            raise KeyError(f"{type(obj).__name__} object is not in this graph") from None

    def node_id(self, obj: Any) -> str | None:
        """The node id of a variable or function of this graph, None if it is not drawn."""
        return self._ids.get(id(obj))

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
        with_graph = sum(
            1
            for drawn in self._drawn_variables
            if "subgraph" not in drawn.fields and grad_with_graph(drawn.variable) is not None
        )
        return {
            "version": SNAPSHOT_VERSION,
            "nodes": nodes,
            "edges": [dict(edge) for edge in self._edges],  # type: ignore[misc]
            "outputs": list(self._drawn_outputs),
            "truncated": self.truncated,
            "omitted": self.omitted,
            **({} if self.omitted_exactly else {"omittedAtLeast": True}),
            **({"gradsWithGraph": with_graph} if with_graph else {}),
            **(
                {"layers": [{**box, "members": list(box["members"])} for box in self._layers]}
                if self._layers
                else {}
            ),  # type: ignore[typeddict-item]
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
    return _trace(unique_roots, _labels_from_names(names), max_nodes, include_grad_graph, like)


def _trace(
    unique_roots: list[Any],
    labels: dict[int, str],
    max_nodes: int | None,
    include_grad_graph: bool,
    like: Graph | None,
) -> Graph:
    seen: set[int] = set()
    main_walk = walk(unique_roots, seen)
    main = list(itertools.islice(main_walk, max_nodes))
    grad_side: list[Reached] = []
    grad_of: dict[int, Any] = {}  # id(grad variable) -> the variable whose grad it is
    walks = [main_walk]
    if include_grad_graph and (max_nodes is None or len(main) < max_nodes):
        grad_roots = []
        for node in main:
            grad = grad_with_graph(node.obj) if node.kind == "variable" else None
            if grad is not None and id(grad) not in grad_of:
                grad_of[id(grad)] = node.obj
                grad_roots.append(grad)
        walks.append(walk(grad_roots, seen))
        grad_side = list(itertools.islice(walks[-1], None if max_nodes is None else max_nodes - len(main)))
    graph = _assemble(unique_roots, main, grad_side, labels, like, grad_of)
    graph._labels, graph.max_nodes, graph.include_grad_graph = labels, max_nodes, include_grad_graph
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
    grad_of: dict[int, Any],
) -> Graph:
    """The Graph of the reached nodes, all drawn."""
    drawn = main + grad_side
    boxes = _find_boxes(drawn)
    structure = (_structure(drawn), tuple(box.shape() for box in boxes))
    if like is not None and like._structure == structure:
        ids = {id(node.obj): node_id for node, node_id in zip(drawn, like._order)}
        box_ids = [box["id"] for box in like._layers]
    else:
        ids = {id(node.obj): _node_ids.of(node) for node in drawn}
        box_ids = _box_ids(boxes)
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
            if in_grad_graph and id(node.obj) in grad_of:
                fields["gradOf"] = ids[id(grad_of[id(node.obj)])]
            variables.append(_DrawnVariable(node.obj, node_id, _label_from_names(node.obj, labels), fields))
        else:
            functions.append({"id": node_id, "kind": "function", "op": type(node.obj).__name__, **fields})  # type: ignore[typeddict-item]
            edges.extend(_edges_of(node, node_id, ids, drawn_ids))

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
        _layers=_layer_boxes(boxes, box_ids, [ids[id(node.obj)] for node in drawn], labels),
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
            tuple(position.get(id(x), -1) for x in node.inputs),
            tuple(position.get(id(y), -1) for y in node.outputs),
        )
        for node in nodes
    )


def _consumed(nodes: Iterable[Reached]) -> set[int]:
    """ids of the variables that some function among ``nodes`` takes as input."""
    return {id(x) for node in nodes if node.kind == "function" for x in node.inputs if x is not None}


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


def _edges_of(function: Reached, function_id: str, ids: dict[int, str], drawn_ids: set[str]) -> list[Edge]:
    """The drawn edges of one function: its inputs into it, then it into its outputs."""
    edges: list[Edge] = []
    for index, x in enumerate(function.inputs):
        source = ids.get(id(x)) if x is not None else None
        if source in drawn_ids:
            edges.append({"source": source, "target": function_id, "index": index})
    for index, y in enumerate(function.outputs):
        target = ids.get(id(y)) if y is not None else None
        if target in drawn_ids:
            edges.append({"source": function_id, "target": target, "index": index})
    return edges


# --------------------------------------------------------------------------
# Layer boxes
# --------------------------------------------------------------------------
# A layer's call made under core.watching tags the functions it records (``_layer_call``, see
# layers.LayerCall): an object with ``layer``, ``parent`` (the enclosing call or None) and weak
# references to its ``inputs`` and ``outputs``. Read here by duck typing, like the rest of the
# DeZero protocol; graphs without tags (a learner's own classes, code run unwatched) get none.


@dataclass(slots=True)
class _Box:
    """One layer call of a traced graph, as walk positions (ids come after `like` is settled)."""

    call: Any
    parent: int  # index of the enclosing box, -1 for none
    members: list[int]  # walk positions of the nodes directly in it

    def shape(self) -> tuple:
        return type(self.call.layer).__name__, self.parent, tuple(self.members)


def _layer_call_of(function: Any) -> Any:
    call = getattr(function, "_layer_call", None)
    return call if call is not None and hasattr(call, "layer") else None


def _refers_to(refs: Any, obj: Any, data_too: bool = False) -> bool:
    """Whether one of the weak references ``refs`` (a call's inputs or outputs) is ``obj``
    (or, with ``data_too``, the array it holds: a layer given an ndarray, which the engine
    wrapped into a constant variable)."""
    data = getattr(obj, "data", None) if data_too else None
    for ref in refs or ():
        target = ref() if callable(ref) else ref
        if target is obj or (data is not None and target is data):
            return True
    return False


def _owns(layer: Any, variable: Any) -> bool:
    """Whether ``variable`` is one of the layer's own attributes (a parameter it holds)."""
    return any(value is variable for value in getattr(layer, "__dict__", {}).values())


def _find_boxes(drawn: list[Reached]) -> list[_Box]:
    """The layer boxes of the drawn nodes, outer boxes first, each with its direct members:

    * a function goes in the box of the call that applied it;
    * a variable made by a function goes in that function's box, unless the call returned it,
      then in the enclosing box (a layer's output is its caller's, or nobody's);
    * a parameter goes in the innermost box around one of its users whose layer holds it;
    * another leaf (an array a layer wrapped) goes in the innermost box around all its users,
      unless that call (or the enclosing one) took it as an input.

    O(nodes x nesting depth); nothing at all when no drawn function carries a tag.
    """
    boxes: list[_Box] = []
    index_of: dict[int, int] = {}  # id(call) -> box index

    def box_of(call: Any) -> int:
        index = index_of.get(id(call))
        if index is None:
            parent = getattr(call, "parent", None)
            parent_index = box_of(parent) if parent is not None and hasattr(parent, "layer") else -1
            index = index_of[id(call)] = len(boxes)
            boxes.append(_Box(call, parent_index, []))
        return index

    function_boxes: list[tuple[Reached, int]] = []  # (function, its box or -1)
    for position, node in enumerate(drawn):
        if node.kind != "function":
            continue
        call = _layer_call_of(node.obj)
        box = -1 if call is None else box_of(call)
        if box >= 0:
            boxes[box].members.append(position)
        function_boxes.append((node, box))
    if not boxes:  # the common case outside the magic and Model.plot: one getattr a function
        return boxes
    users: dict[int, list[int]] = {}  # id(variable) -> box index (-1: none) of each function using it
    for function, box in function_boxes:
        for x in function.inputs:
            if x is not None:
                users.setdefault(id(x), []).append(box)

    for position, node in enumerate(drawn):
        if node.kind != "variable":
            continue
        variable = node.obj
        creator = creator_of(variable)
        if creator is not None:
            call = _layer_call_of(creator)
            while call is not None and _refers_to(call.outputs, variable):
                call = getattr(call, "parent", None)
            box = -1 if call is None else box_of(call)
        else:
            box = _box_of_leaf(variable, users.get(id(variable), []), boxes)
        if box >= 0:
            boxes[box].members.append(position)
    for box in boxes:
        box.members.sort()
    return boxes


def _box_of_leaf(variable: Any, used_in: list[int], boxes: list[_Box]) -> int:
    if not used_in:
        return -1
    if is_parameter(variable):
        for box in used_in:
            while box >= 0 and not _owns(boxes[box].call.layer, variable):
                box = boxes[box].parent
            if box >= 0:
                return box
        return -1
    if -1 in used_in:  # used outside every box
        return -1
    box = used_in[0]
    for other in used_in[1:]:  # the innermost box around every use
        around = set()
        walker = other
        while walker >= 0:
            around.add(walker)
            walker = boxes[walker].parent
        while box >= 0 and box not in around:
            box = boxes[box].parent
    while box >= 0 and _refers_to(boxes[box].call.inputs, variable, data_too=True):
        box = boxes[box].parent
    return box


def _box_ids(boxes: list[_Box]) -> list[str]:
    """Each box's id: its layer's ("l3", stable while the layer lives), then "l3-2", "l3-3"...
    for more calls of the same layer in the graph."""
    ids: list[str] = []
    calls_of: dict[str, int] = {}
    for box in boxes:
        layer_id = _node_ids.of_object("layer", box.call.layer)
        calls = calls_of[layer_id] = calls_of.get(layer_id, 0) + 1
        ids.append(layer_id if calls == 1 else f"{layer_id}-{calls}")
    return ids


def _layer_boxes(
    boxes: list[_Box], box_ids: list[str], order: list[str], labels: dict[int, str]
) -> list[LayerBox]:
    result: list[LayerBox] = []
    for box, box_id in zip(boxes, box_ids):
        entry: LayerBox = {
            "id": box_id,
            "layer": bounded_text(type(box.call.layer).__name__, MAX_LABEL_CHARS),
            "label": _layer_label(box.call, labels),
            "members": [order[position] for position in box.members],
        }
        if box.parent >= 0:
            entry["parent"] = box_ids[box.parent]
        result.append(entry)
    return result


def _layer_label(call: Any, labels: dict[int, str]) -> str:
    """The layer's attribute name in the layer that called it ("l0", or "layers[0]" for one
    held in a list), else the notebook name bound to it, else its class name."""
    layer = call.layer
    parent = getattr(call, "parent", None)
    if parent is not None:
        attributes = getattr(getattr(parent, "layer", None), "__dict__", {})
        for name, value in attributes.items():
            if value is layer:
                return bounded_text(str(name), MAX_LABEL_CHARS)
        for name, value in attributes.items():
            if isinstance(value, (list, tuple)) and len(value) <= 10_000:
                for k, item in enumerate(value):
                    if item is layer:
                        return bounded_text(f"{name}[{k}]", MAX_LABEL_CHARS)
    return labels.get(id(layer)) or bounded_text(type(layer).__name__, MAX_LABEL_CHARS)


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
        if isinstance(value, np.ndarray) or is_variable(value) or is_layer(value):
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
