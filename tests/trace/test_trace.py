"""trace.py on its own: discovery, snapshots, summaries, stable ids and cleargrad_all."""

import base64
import gc
import json
import math
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dezero_widget import Parameter, Variable
from dezero_widget import summary as summary_module
from dezero_widget import trace as trace_module
from dezero_widget.trace import cleargrad_all, is_function, is_variable, summarize, trace
from tests.fixtures import seed
from tests.fixtures.learner_classes import (
    Step7Variable,
    Step14Variable,
    Step14VariableWithCleargrad,
    Step18Parameter,
    Step18Variable,
    Step33Variable,
    step7_exp,
    step7_square,
    step14_add,
    step14_split,
    step18_add,
    step18_mul,
    step18_split,
    step18_square,
)


def nodes_by_id(snapshot):
    return {node["id"]: node for node in snapshot["nodes"]}


def edge_set(snapshot):
    return {(e["source"], e["target"], e["index"]) for e in snapshot["edges"]}


def strict_json(snapshot):
    """The bytes the widget would send; NaN/Inf would make this raise."""
    return json.dumps(snapshot, separators=(",", ":"), allow_nan=False)


def step14_chain(length):
    """x -> Add(x, x) -> Add(., .) -> ... with `length` functions; returns (x, y).

    Not for backward: the seed's backward revisits a creator once per use.
    """
    x = Step14Variable(np.array(0.0))
    y = x
    for _ in range(length):
        y = step14_add(y, y)
    return x, y


# ---------------------------------------------------------------- the seed's graph


@pytest.fixture
def seed_graph():
    """The seed notebook's In[7]: y = add(add(x, x), x); y.backward()."""
    return seed.seed_graph(Step14VariableWithCleargrad, step14_add, named=False)


def test_seed_graph_structure(seed_graph):
    x, y = seed_graph
    inner = y.creator.inputs[0]
    graph = trace(y, names={"x": x, "y": y, "n": 3})
    snap = graph.snapshot()
    ids = {name: graph.id_of(obj) for name, obj in [("x", x), ("y", y), ("t", inner)]}
    outer_f, inner_f = graph.id_of(y.creator), graph.id_of(inner.creator)

    assert snap["version"] == 1
    assert snap["outputs"] == [ids["y"]]
    assert (snap["truncated"], snap["omitted"]) == (False, 0)
    nodes = nodes_by_id(snap)
    assert set(nodes) == {ids["x"], ids["y"], ids["t"], outer_f, inner_f}
    assert nodes[outer_f] == {"id": outer_f, "kind": "function", "op": "Step14Add"}
    assert nodes[ids["y"]] == {
        "id": ids["y"],
        "kind": "variable",
        "label": "y",
        "shape": [],
        "dtype": "float64",
        "data": {"shape": [], "dtype": "float64", "size": 1, "preview": "9.0"},
        "grad": {"shape": [], "dtype": "float64", "size": 1, "preview": "1.0"},
        "role": "output",
        "creator": outer_f,
    }
    assert nodes[ids["t"]]["label"] == ""
    assert nodes[ids["t"]]["role"] == "intermediate"
    assert nodes[ids["t"]]["creator"] == inner_f
    assert nodes[ids["x"]]["role"] == "input"
    assert "creator" not in nodes[ids["x"]]
    assert nodes[ids["x"]]["grad"]["preview"] == "3.0"
    assert all("generation" not in node for node in snap["nodes"])  # the seed has none
    # x feeds the inner Add twice and the outer Add once: one edge per use, in input order.
    assert sorted(snap["edges"], key=lambda e: (e["target"], e["source"], e["index"])) == sorted(
        [
            {"source": ids["x"], "target": inner_f, "index": 0},
            {"source": ids["x"], "target": inner_f, "index": 1},
            {"source": inner_f, "target": ids["t"], "index": 0},
            {"source": ids["t"], "target": outer_f, "index": 0},
            {"source": ids["x"], "target": outer_f, "index": 1},
            {"source": outer_f, "target": ids["y"], "index": 0},
        ],
        key=lambda e: (e["target"], e["source"], e["index"]),
    )
    assert json.loads(strict_json(snap)) == snap


def test_refresh_after_second_backward_changes_only_grads():
    x = Step18Variable(np.array(3.0), name="x")
    y = step18_add(step18_add(x, x), x)
    y.backward()
    graph = trace(y)
    before = graph.snapshot()
    y.backward()  # grads accumulate: x.grad 3 -> 6
    after = graph.snapshot()

    assert after["edges"] == before["edges"]
    assert [n["id"] for n in after["nodes"]] == [n["id"] for n in before["nodes"]]
    assert nodes_by_id(after)[graph.id_of(x)]["grad"]["preview"] == "6.0"
    assert nodes_by_id(before)[graph.id_of(x)]["grad"]["preview"] == "3.0"
    for old, new in zip(before["nodes"], after["nodes"]):
        assert {k: v for k, v in old.items() if k != "grad"} == {k: v for k, v in new.items() if k != "grad"}


def test_cleargrad_all_then_refresh_keeps_ids_and_shows_no_grads(seed_graph):
    x, y = seed_graph
    graph = trace(y)
    ids_before = [n["id"] for n in graph.snapshot()["nodes"]]

    assert graph.cleargrad_all() == 3  # y, the intermediate and x
    assert x.grad is None and y.grad is None and y.creator.inputs[0].grad is None
    snap = graph.snapshot()
    assert [n["id"] for n in snap["nodes"]] == ids_before
    assert all(n["grad"] is None for n in snap["nodes"] if n["kind"] == "variable")
    assert cleargrad_all(graph) == 3  # again: every variable, grad or not

    y.backward()  # after a reset the seed's backward gives 3 again, not 9
    assert nodes_by_id(graph.snapshot())[graph.id_of(x)]["grad"]["preview"] == "3.0"


def test_ids_are_stable_across_traces_and_distinct_between_objects(seed_graph):
    x, y = seed_graph
    first, second = trace(y), trace(x, y)
    assert first.id_of(x) == second.id_of(x)
    assert first.id_of(y.creator) == second.id_of(y.creator)
    all_ids = [first.id_of(obj) for obj in first.variables + first.functions]
    assert len(set(all_ids)) == 5
    assert all(i.startswith("v") for i in map(first.id_of, first.variables))
    assert all(i.startswith("f") for i in map(first.id_of, first.functions))


def test_dead_objects_leave_the_id_registry():
    x, y = step14_chain(3)
    graph = trace(y)
    keys = [id(obj) for obj in graph.variables + graph.functions]
    assert all(key in trace_module._node_ids._entries for key in keys)
    del x, y, graph
    gc.collect()
    assert not any(key in trace_module._node_ids._entries for key in keys)


def test_a_recycled_python_id_does_not_inherit_a_stale_node_id():
    x = Step14Variable(np.array(1.0))
    old_id = trace(x).id_of(x)
    key = id(x)
    entry = trace_module._node_ids._entries[key]
    del x
    gc.collect()
    assert key not in trace_module._node_ids._entries
    # Even if a newcomer got the same id() and the entry had survived, its dead weakref is caught.
    newcomer = Step14Variable(np.array(2.0))
    trace_module._node_ids._entries[id(newcomer)] = entry
    assert trace(newcomer).id_of(newcomer) != old_id


class SlotsVariable:
    """A variable that refuses weak references (``__slots__`` without ``__weakref__``)."""

    __slots__ = ("creator", "data", "grad")

    def __init__(self, data, creator=None):
        self.data, self.grad, self.creator = data, None, creator


class SlotsFunction:
    __slots__ = ("inputs", "outputs")


def test_objects_without_weakref_support_are_traced_with_stable_ids():
    x = SlotsVariable(np.array(2.0))
    f = SlotsFunction()
    y = SlotsVariable(np.array(4.0), creator=f)
    f.inputs, f.outputs = [x], [y]
    first, second = trace(y), trace(y)
    assert first.id_of(x) == second.id_of(x)
    assert first.id_of(f) == second.id_of(f)
    snap = first.snapshot()
    assert edge_set(snap) == {(first.id_of(x), first.id_of(f), 0), (first.id_of(f), first.id_of(y), 0)}
    x.grad = np.array(1.0)
    assert cleargrad_all(first) == 2  # x and y
    assert x.grad is None


# ---------------------------------------------------------------- other learner styles


def test_step7_single_input_output_classes():
    x = Step7Variable(np.array(0.5))
    a = step7_square(x)
    b = step7_exp(a)
    y = step7_square(b)
    y.backward()
    graph = trace(y, names={"x": x, "y": y})
    snap = graph.snapshot()
    nodes = nodes_by_id(snap)

    assert [type(f).__name__ for f in graph.functions] == ["Step7Square", "Step7Exp", "Step7Square"]
    assert graph.variables == [y, b, a, x]
    assert [nodes[graph.id_of(v)]["role"] for v in graph.variables] == [
        "output",
        "intermediate",
        "intermediate",
        "input",
    ]
    expected_grad = 2 * np.exp(0.25) * np.exp(0.25) * 2 * 0.5  # d/dx exp(x^2)^2
    assert float(nodes[graph.id_of(x)]["grad"]["preview"]) == pytest.approx(expected_grad)
    assert len(snap["edges"]) == 6
    assert (graph.id_of(a), graph.id_of(b.creator), 0) in edge_set(snap)


def test_step18_weakref_outputs_generations_and_names():
    x = Step18Variable(np.array(2.0), name="x")
    w = Step18Parameter(np.array(3.0))
    a = step18_square(x)
    y = step18_add(step18_mul(a, w), a)
    y.name = "out"
    y.backward(retain_grad=True)
    graph = trace(y, names={"weight": w, "alias_of_y": y, "a": a})
    nodes = nodes_by_id(graph.snapshot())

    node = {v: nodes[graph.id_of(v)] for v in (x, w, a, y)}
    assert node[x]["label"] == "x" and node[x]["role"] == "input" and node[x]["generation"] == 0
    assert node[w]["label"] == "weight" and node[w]["role"] == "param"
    assert node[a]["label"] == "a" and node[a]["generation"] == 1
    assert node[y]["label"] == "out"  # variable.name wins over the namespace
    assert node[y]["generation"] == 3 and node[y]["role"] == "output"
    assert nodes[graph.id_of(y.creator)] == {
        "id": graph.id_of(y.creator),
        "kind": "function",
        "op": "Step18Add",
        "generation": 2,
    }
    # dy/dx = (w + 1) * 2x = 16, dy/dw = x^2 = 4
    assert node[x]["grad"]["preview"] == "16.0"
    assert node[w]["grad"]["preview"] == "4.0"


def test_step18_intermediate_grads_are_none_without_retain_grad():
    x = Step18Variable(np.array(2.0))
    a = step18_square(x)
    y = step18_square(a)
    y.backward()
    nodes = nodes_by_id(trace(y).snapshot())
    grads = [n["grad"] for n in nodes.values() if n["kind"] == "variable"]
    assert sorted(g["preview"] if g else "None" for g in grads) == ["32.0", "None", "None"]


def test_names_label_a_variable_bound_to_several_names_and_ignore_other_values():
    x = Step14Variable(np.array(1.0))
    y = step14_add(x, x)
    graph = trace(y, names={"x": x, "first": x, "y": y, "array": np.ones(2), "f": y.creator})
    nodes = nodes_by_id(graph.snapshot())
    assert nodes[graph.id_of(x)]["label"] == "x, first"
    assert nodes[graph.id_of(y)]["label"] == "y"


def test_unused_alive_output_appears_and_dead_weakref_output_is_skipped():
    x = Step18Variable(np.array(1.0), name="x")
    kept, unused = step18_split(x)
    z = step18_mul(kept, kept)
    graph = trace(z)
    assert graph.contains(unused)
    nodes = nodes_by_id(graph.snapshot())
    split_id = graph.id_of(kept.creator)
    assert nodes[graph.id_of(unused)]["role"] == "output"
    assert nodes[graph.id_of(unused)]["data"]["preview"] == "3.0"
    assert (split_id, graph.id_of(kept), 0) in edge_set(graph.snapshot())
    assert (split_id, graph.id_of(unused), 1) in edge_set(graph.snapshot())
    assert graph.output_ids == [graph.id_of(z)]

    dead = weakref.ref(unused)
    del unused, graph, nodes
    gc.collect()
    assert dead() is None
    graph = trace(z)
    snap = graph.snapshot()
    assert len(graph.variables) == 3 and len(graph.functions) == 2
    assert [e for e in snap["edges"] if e["source"] == split_id] == [
        {"source": split_id, "target": graph.id_of(kept), "index": 0}
    ]


def test_multi_output_function_with_strong_outputs_list():
    x = Step14VariableWithCleargrad(np.array(1.0))
    a, b = step14_split(x)
    y = step14_add(a, b)
    y.backward()
    graph = trace(y)
    snap = graph.snapshot()
    split = graph.id_of(a.creator)
    assert {(s, t, i) for s, t, i in edge_set(snap) if s == split} == {
        (split, graph.id_of(a), 0),
        (split, graph.id_of(b), 1),
    }
    # 2 + 3 = 5 per run of Split; step 14's backward (no generations yet) runs it once per output.
    assert nodes_by_id(snap)[graph.id_of(x)]["grad"]["preview"] == "10.0"
    assert [nodes_by_id(snap)[graph.id_of(v)]["role"] for v in (a, b)] == ["intermediate"] * 2


def test_step33_grads_are_variables_and_grad_graph_is_marked_on_request():
    x = Step33Variable(np.array(3.0), name="x")
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Step33Variable) and x.grad.creator is not None

    plain = trace(y)
    plain_nodes = nodes_by_id(plain.snapshot())
    assert plain_nodes[plain.id_of(x)]["grad"]["preview"] == "27.0"  # 3x^2
    assert not any("subgraph" in node for node in plain_nodes.values())
    assert not plain.contains(x.grad)

    graph = trace(y, include_grad_graph=True)
    snap = graph.snapshot()
    nodes = nodes_by_id(snap)
    grad_nodes = {i for i, node in nodes.items() if node.get("subgraph") == "grad"}
    main_ids = {plain.id_of(obj) for obj in plain.variables + plain.functions}
    assert main_ids.isdisjoint(grad_nodes)
    assert set(nodes) == main_ids | grad_nodes
    gx = nodes[graph.id_of(x.grad)]
    assert gx["subgraph"] == "grad" and gx["data"]["preview"] == "27.0" and gx["role"] == "output"
    assert nodes[graph.id_of(x.grad.creator)]["subgraph"] == "grad"
    # The grad graph reads x itself: x -> (grad-graph function) edges exist, x stays in the main graph.
    assert any(s == graph.id_of(x) and t in grad_nodes for s, t, _ in edge_set(snap))
    assert "subgraph" not in nodes[graph.id_of(x)]
    assert snap["outputs"] == [graph.id_of(y)]
    strict_json(snap)


# ---------------------------------------------------------------- discovery limits


def test_a_100000_node_chain_is_walked_at_the_default_recursion_limit():
    import sys

    assert sys.getrecursionlimit() <= 1000
    x, y = step14_chain(50_000)
    graph = trace(y, max_nodes=None)
    assert len(graph.variables) == 50_001 and len(graph.functions) == 50_000
    assert graph.variables[0] is y and graph.variables[-1] is x

    bounded = trace(y).snapshot()
    assert bounded["truncated"] is True
    # Counting what was left out stops after 20,000 more nodes: tracing stays O(max_nodes).
    assert bounded["omitted"] == 20_001 and bounded["omittedAtLeast"] is True
    assert len(bounded["nodes"]) == 5000


def test_truncation_drops_the_inputs_side_and_says_so():
    x, y = step14_chain(40)  # 41 variables + 40 functions = 81 nodes
    graph = trace(y, names={"x": x}, max_nodes=21)
    snap = graph.snapshot()
    nodes = nodes_by_id(snap)

    assert (snap["truncated"], snap["omitted"], len(nodes)) == (True, 60, 21)
    assert graph.id_of(y) in nodes and not graph.contains(x)
    assert "omittedAtLeast" not in snap  # 60 is exact: counting on stayed within its bound
    assert snap["outputs"] == [graph.id_of(y)]
    # The 10 functions nearest y and their outputs survive.
    kept = [y]
    while len(kept) < 11:
        kept.append(kept[-1].creator.inputs[0])
    assert {graph.id_of(v) for v in kept[:-1]} | {graph.id_of(v.creator) for v in kept[:-1]} | {
        graph.id_of(kept[-1])
    } == set(nodes)
    for source, target, _ in edge_set(snap):
        assert source in nodes and target in nodes
    for node in nodes.values():
        assert node.get("creator", next(iter(nodes))) in nodes
    assert nodes[graph.id_of(kept[-1])].get("creator") is None  # its creator was cut
    # Reset still reaches the cut-off inputs.
    x.grad = np.array(1.0)
    graph.cleargrad_all()
    assert x.grad is None


def test_trace_rejects_non_variables_and_bad_bounds():
    with pytest.raises(TypeError, match="ndarray"):
        trace(np.ones(3))
    with pytest.raises(ValueError, match="max_nodes"):
        trace(Step14Variable(np.array(1.0)), max_nodes=0)


def test_protocol_checks():
    x, y = step14_chain(1)
    assert is_variable(x) and is_variable(y) and not is_variable(y.creator)
    assert is_function(y.creator) and not is_function(x)
    assert not is_variable(Step14Variable) and not is_variable(np.ones(2)) and not is_variable(None)
    s7 = step7_square(Step7Variable(np.array(1.0)))
    assert is_function(s7.creator)


def test_output_ids_are_the_roots_no_function_consumes():
    x, y = step14_chain(2)
    graph = trace(x, y, y)
    assert graph.roots == [x, y]
    assert graph.output_ids == [graph.id_of(y)]
    assert graph.snapshot()["outputs"] == [graph.id_of(y)]


# ---------------------------------------------------------------- cleargrad_all on every style


class RecordingVariable(Step14VariableWithCleargrad):
    calls = 0

    def cleargrad(self):
        RecordingVariable.calls += 1
        super().cleargrad()


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: step7_square(step7_exp(Step7Variable(np.array(1.0)))), id="step7"),
        pytest.param(lambda: step14_chain(2)[1], id="step14-no-cleargrad"),
        pytest.param(lambda: step14_add(*[Step14VariableWithCleargrad(np.array(1.0))] * 2), id="step14"),
        pytest.param(lambda: step18_square(step18_square(Step18Variable(np.array(2.0)))), id="step18"),
        pytest.param(lambda: (lambda x: x * x * x)(Step33Variable(np.array(2.0))), id="step33"),
    ],
)
def test_cleargrad_all_on_every_style(build):
    y = build()
    if hasattr(y, "generation"):  # steps 18 and 33 drop intermediate grads unless asked
        y.backward(retain_grad=True)
    else:
        y.backward()
    graph = trace(y)
    had_grad = sum(v.grad is not None for v in graph.variables)
    assert had_grad == len(graph.variables)
    assert cleargrad_all(graph) == len(graph.variables)
    assert all(v.grad is None for v in graph.variables)


def test_cleargrad_all_calls_the_variables_own_cleargrad():
    x = RecordingVariable(np.array(1.0))
    y = step14_add(x, x)
    y.backward()
    RecordingVariable.calls = 0
    assert cleargrad_all(trace(y)) == 2
    assert RecordingVariable.calls == 2


# ---------------------------------------------------------------- summaries


@pytest.mark.parametrize(
    "value, preview, dtype",
    [
        (np.array(3.0), "3.0", "float64"),
        (np.array(0.1, dtype=np.float32), "0.1", "float32"),
        (np.array(np.nan), "nan", "float64"),
        (np.array(-np.inf), "-inf", "float64"),
        (np.array(True), "True", "bool"),
        (np.array(7), "7", "int64"),
        (np.array([[2.5]]), "2.5", "float64"),
    ],
)
def test_size_one_arrays_give_only_their_exact_value(value, preview, dtype):
    assert summarize(value) == {"shape": list(value.shape), "dtype": dtype, "size": 1, "preview": preview}


def test_summarize_none_and_python_scalars():
    assert summarize(None) is None
    assert summarize(2.5) == {"shape": [], "dtype": "float64", "size": 1, "preview": "2.5"}


def test_small_vector_is_shown_whole_with_stats():
    assert summarize(np.array([1.0, 2.0, 4.5])) == {
        "shape": [3],
        "dtype": "float64",
        "size": 3,
        "preview": "[1., 2., 4.5]",
        "min": 1.0,
        "max": 4.5,
        "mean": 2.5,
        "norm": pytest.approx(np.sqrt(1 + 4 + 4.5**2)),
        # 1..4.5 over bytes 0..250: 1 -> 0, 2 -> 71, 4.5 -> 250
        "thumbnail": {
            "rows": 1,
            "cols": 3,
            "lo": 1.0,
            "hi": 4.5,
            "cells": base64.b64encode(bytes([0, 71, 250])).decode(),
        },
    }


def test_large_array_summary_is_small_and_exact_where_it_matters():
    big = np.arange(1_000_000, dtype=np.float64).reshape(1000, 1000)
    summary = summarize(big)
    assert summary["shape"] == [1000, 1000] and summary["size"] == 1_000_000
    # Past 131,072 elements the statistics come from an evenly spaced sample, and say so.
    assert summary["sampled"] is True
    assert summary["min"] == 0.0 and summary["max"] == pytest.approx(999999.0, rel=1e-4)
    assert summary["mean"] == pytest.approx(499999.5, rel=1e-4)
    assert summary["norm"] == pytest.approx(np.linalg.norm(big), rel=1e-3)
    assert "..." in summary["preview"] and "\n" not in summary["preview"]
    assert summary["preview"].startswith("[[0.") and summary["preview"].endswith("]]")
    assert len(summary["preview"]) <= summary_module._PREVIEW_MAX_CHARS

    one_variable = trace(Step14Variable(big))
    one_variable.variables[0].grad = np.ones_like(big)
    assert len(strict_json(one_variable.snapshot())) <= 2048


def test_nan_and_inf_are_counted_and_stats_use_the_finite_values():
    summary = summarize(np.array([1.0, np.nan, np.inf, -np.inf, np.inf, 3.0]))
    assert summary["nan"] == 1 and summary["posinf"] == 2 and summary["neginf"] == 1
    assert (summary["min"], summary["max"], summary["mean"]) == (1.0, 3.0, 2.0)
    assert summary["preview"] == "[1., nan, inf, -inf, inf, 3.]"
    strict_json(summary)

    all_nan = summarize(np.full(4, np.nan))
    assert all_nan["nan"] == 4 and all_nan["min"] is None and all_nan["mean"] is None
    assert "posinf" not in all_nan and "neginf" not in all_nan
    strict_json(all_nan)


def test_int_and_bool_arrays_give_plain_python_numbers():
    ints = summarize(np.array([[3, -1], [4, 10]], dtype=np.int32))
    assert ints["preview"] == "[[3, -1], [4, 10]]"
    assert (ints["min"], ints["max"], ints["mean"]) == (-1, 10, 4.0)
    assert type(ints["min"]) is int and type(ints["mean"]) is float
    assert "nan" not in ints

    flags = summarize(np.array([True, False, True, True]))
    assert flags["preview"] == "[True, False, True, True]"
    assert (flags["min"], flags["max"], flags["mean"]) == (0, 1, 0.75)
    assert type(flags["max"]) is int


def test_non_numeric_arrays_summarise_without_crashing():
    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no repr")

        __str__ = __repr__

    cplx = summarize(np.array([1 + 2j, 3j]))
    assert cplx["preview"] == "[1.+2.j, 0.+3.j]" and "min" not in cplx
    words = summarize(np.array(["a", "bc"]))
    assert words == {"shape": [2], "dtype": "<U2", "size": 2, "preview": "['a', 'bc']"}
    objects = summarize(np.array([Unprintable(), Unprintable()], dtype=object))
    assert objects["dtype"] == "object" and objects["size"] == 2 and "min" not in objects
    lone = summarize(np.array(Unprintable(), dtype=object))
    assert lone["preview"] == "<Unprintable>"
    ragged = summarize([[1, 2], [3]])
    assert ragged["dtype"] == "object" and ragged["size"] == 1
    empty = summarize(np.zeros((0, 3)))
    assert empty == {"shape": [0, 3], "dtype": "float64", "size": 0, "preview": "[]"}
    long_text = summarize(np.array(["x" * 1000, "y"]))
    assert len(long_text["preview"]) <= summary_module._PREVIEW_MAX_CHARS
    assert long_text["preview"].endswith("'y']")
    for summary in (cplx, words, objects, lone, ragged, empty, long_text):
        strict_json(summary)


def test_variables_without_data_or_with_non_array_data():
    x = Step14Variable(None)
    y = Step14Variable(2.0)  # a step-1 learner who never wrapped the float
    x_node = nodes_by_id(trace(x).snapshot())[trace(x).id_of(x)]
    assert (x_node["shape"], x_node["dtype"], x_node["data"]) == (None, None, None)
    y_node = trace(y).snapshot()["nodes"][0]
    assert y_node["data"]["preview"] == "2.0" and y_node["shape"] == []


def test_scalar_graph_snapshot_stays_under_300_bytes_per_node():
    x = Step18Variable(np.array(0.5), name="x")
    y = x
    for _ in range(5000):
        y = step18_add(y, x)
    y.backward(retain_grad=True)
    graph = trace(y, max_nodes=None)
    snap = graph.snapshot()
    assert len(snap["nodes"]) == 10_001
    assert all(n["grad"] is not None for n in snap["nodes"] if n["kind"] == "variable")
    assert len(strict_json(snap)) / len(snap["nodes"]) <= 300


# ---------------------------------------------------------------- our engine


def test_engine_seed_graph_accumulation_reset_and_stable_ids():
    x = Variable(np.array(3.0), name="x")
    y = (x + x) + x
    y.backward()
    graph = trace(y, names={"y": y})
    snap = graph.snapshot()
    nodes = nodes_by_id(snap)
    assert [nodes[graph.id_of(f)]["op"] for f in graph.functions] == ["Add", "Add"]
    assert nodes[graph.id_of(x)]["grad"]["preview"] == "3.0"  # x.grad is a Variable
    assert nodes[graph.id_of(y)]["label"] == "y" and nodes[graph.id_of(y)]["generation"] == 2
    assert len(snap["edges"]) == 6

    y.backward()
    again = graph.snapshot()
    assert nodes_by_id(again)[graph.id_of(x)]["grad"]["preview"] == "6.0"
    assert again["edges"] == snap["edges"]
    assert [n["id"] for n in again["nodes"]] == [n["id"] for n in snap["nodes"]]

    assert graph.cleargrad_all() == len(graph.variables)
    assert x.grad is None
    assert all(n["grad"] is None for n in graph.snapshot()["nodes"] if n["kind"] == "variable")


def test_engine_parameter_role_and_grad_graph():
    w = Parameter(np.array([1.0, 2.0]), name="w")
    x = Variable(np.array(3.0), name="x")
    y = x * x * x + w
    y.backward(create_graph=True)
    graph = trace(y, include_grad_graph=True)
    nodes = nodes_by_id(graph.snapshot())
    assert nodes[graph.id_of(w)]["role"] == "param"
    assert nodes[graph.id_of(w)]["grad"]["preview"] == "[1., 1.]"
    # x is broadcast against w's two elements, so its grad is 3x^2 summed twice.
    gx = nodes[graph.id_of(x.grad)]
    assert gx["subgraph"] == "grad" and gx["data"]["preview"] == "54.0"
    assert nodes[graph.id_of(x)]["grad"]["preview"] == "54.0"
    assert "subgraph" not in nodes[graph.id_of(y)]


@pytest.mark.parametrize(
    "array",
    [
        np.array([0.1234567, 2.0, 3.0, 4.0]).reshape(2, 2),
        np.array([1e-5, 1.0, np.nan, -np.inf]),
        np.array([123456.789, 1.0]),
        np.arange(100),
        np.arange(1000.0).reshape(10, 10, 10),
        np.linspace(-1, 1, 50, dtype=np.float32),
        np.zeros(40, dtype=bool),
    ],
    ids=["2x2", "sci-nan-inf", "sci-padded", "ints-cut", "3d-cut", "float32-cut", "bool-cut"],
)
def test_numeric_previews_match_numpy_on_one_line(array):
    """The fast preview path prints what np.array2string does, minus the column padding."""
    text = np.array2string(
        array, threshold=10, edgeitems=3, precision=4, separator=", ", max_line_width=10**6
    )
    one_line = " ".join(text.split()).replace("[ ", "[").replace(" ]", "]").replace(" ,", ",")
    preview = summarize(array)["preview"]
    if len(one_line) <= summary_module._PREVIEW_MAX_CHARS:
        assert preview == one_line
    else:
        head, tail = preview.split(" \u2026 ")
        assert one_line.startswith(head) and one_line.endswith(tail)


def _float_texts_one_by_one(values):
    """The preview's float style written plainly, one value at a time (the reference)."""
    finite = [abs(v) for v in values if v != 0 and math.isfinite(v)]
    if not finite or (max(finite) < 1e8 and min(finite) >= 1e-4 and max(finite) / min(finite) <= 1e3):
        return [f"{v:.4f}".rstrip("0") if math.isfinite(v) else str(v) for v in values]
    parts = [f"{v:.4e}".split("e") if math.isfinite(v) else (str(v), None) for v in values]
    mantissas = [m.rstrip("0") if e is not None else m for m, e in parts]
    digits = max(len(m) - m.index(".") - 1 for m, (_, e) in zip(mantissas, parts) if e is not None)
    return [
        f"{m}{'0' * (digits - len(m) + m.index('.') + 1)}e{e}" if e is not None else m
        for m, (_, e) in zip(mantissas, parts)
    ]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, -0.0, 9.99995, 9.99996, 0.999995, 1.00005, 1e-4, 1e8, 0.125]),
            st.integers(-(10**6), 10**6).map(lambda k: k / 1000),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_float_texts_formatted_together_equal_formatting_one_by_one(values):
    """The preview formats a whole array's floats in one %-format and trims them with str
    methods; every text is what formatting each value on its own gives."""
    assert summary_module._float_texts(values) == _float_texts_one_by_one(values)


def test_a_summary_memo_summarises_each_value_once(monkeypatch):
    calls = []
    monkeypatch.setattr(summary_module, "summarize", lambda value, diverging=False: calls.append(value) or {})
    memo = summary_module.SummaryMemo(diverging=True)
    a, b = np.ones(3), np.zeros(2)
    assert [memo(a), memo(b), memo(a), memo(None)] == [{}, {}, {}, {}]
    assert calls == [a, b, None]


def test_stats_that_overflow_float64_become_null():
    huge = summarize(np.full(3, np.finfo(np.float64).max))
    assert huge["max"] == np.finfo(np.float64).max and huge["mean"] is None
    strict_json(huge)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in the statistics is not the learner's problem
        large = summarize(np.array([1e200, -1e200, 1e200]))
        fits = summarize(np.array([1e140, 2e140]))
    assert (large["mean"], large["norm"]) == (pytest.approx(1e200 / 3), None)
    assert fits["norm"] == pytest.approx(np.sqrt(5) * 1e140)


def test_protocol_checks_survive_hostile_namespace_values():
    class Hostile:
        def __getattr__(self, name):
            raise RuntimeError("lazy module exploded")

    assert not is_variable(Hostile()) and not is_function(Hostile())
    x = Step14Variable(np.array(1.0))
    assert trace(x, names={"x": x, "bad": Hostile()}).snapshot()["nodes"][0]["label"] == "x"
