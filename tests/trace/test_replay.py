"""Backward step by step (replay.py): what a recording holds for the engine and for learner
classes, the replay the front end steps through, and the numerical gradient check."""

import numpy as np
import pytest

import dezero_widget.functions as F
from dezero_widget import Parameter, Variable
from dezero_widget.protocol import EMPTY_REPLAY
from dezero_widget.replay import CHECKED_ELEMENTS, check_gradient, observing, recorded
from dezero_widget.summary import summarize
from dezero_widget.trace import trace
from tests.fixtures.learner_classes import (
    Step7Variable,
    Step14VariableWithCleargrad,
    Step18Variable,
    step7_exp,
    step7_square,
    step14_add,
    step14_wrong_square,
    step18_add,
    step18_mul,
)


def recorded_backward(root, **backward_options):
    """root.backward() under the engine's record hook, as the widget runs it."""
    with recorded(output=root) as recordings:
        root.backward(**backward_options)
    (recording,) = recordings
    return recording


def learner_backward(root, graph):
    with observing(root, graph) as recording:
        root.backward()
    return recording


def ops_in_order(replay, graph_snapshot):
    ops = {node["id"]: node for node in graph_snapshot["nodes"]}
    return [
        (ops[step["function"]]["op"], ops[step["function"]].get("generation")) for step in replay["steps"]
    ]


def totals(replay, node_id):
    return [float(term["total"]["preview"]) for term in replay["variables"][node_id]["terms"]]


def test_seed_replay_has_the_outer_add_first_and_x_adding_up_to_three():
    x = Variable(np.array(3.0), name="x")
    inner = F.add(x, x)
    y = F.add(inner, x)
    graph = trace(y)
    replay = recorded_backward(y, retain_grad=True).replay(graph)
    x_id, y_id = graph.node_id(x), graph.node_id(y)
    assert [step["function"] for step in replay["steps"]] == [
        graph.node_id(y.creator),
        graph.node_id(inner.creator),
    ]
    assert replay["output"] == y_id
    # the root's seed is step 0; x gets 1.0 from the outer Add (step 1), then 1.0 + 1.0 from the inner one
    assert [(t["step"], t["source"]) for t in replay["variables"][y_id]["terms"]] == [(0, "")]
    terms = replay["variables"][x_id]["terms"]
    assert [(t["step"], t["source"], t["value"]["preview"]) for t in terms] == [
        (1, graph.node_id(y.creator), "1.0"),
        (2, graph.node_id(inner.creator), "1.0"),
        (2, graph.node_id(inner.creator), "1.0"),
    ]
    assert totals(replay, x_id) == [1.0, 2.0, 3.0]
    assert replay["variables"][x_id]["before"] is None
    assert replay["accumulated"] == []
    # each step's gy in, gxs out: the outer Add gets 1.0 and sends 1.0 to each input
    assert [g["preview"] for g in replay["steps"][0]["gys"]] == ["1.0"]
    assert [g["preview"] for g in replay["steps"][0]["gxs"]] == ["1.0", "1.0"]


def test_a_second_backward_is_recorded_as_added_to_the_earlier_grad():
    x = Variable(np.array(3.0), name="x")
    y = F.add(F.add(x, x), x)
    graph = trace(y)
    y.backward()
    replay = recorded_backward(y).replay(graph)
    x_id = graph.node_id(x)
    assert replay["accumulated"] == [x_id]
    assert replay["variables"][x_id]["before"]["preview"] == "3.0"
    assert totals(replay, x_id) == [4.0, 5.0, 6.0]
    assert float(x.grad.data) == 6.0


def test_the_last_totals_equal_the_real_grads_of_an_mlp_step():
    rng = np.random.default_rng(0)
    x = Variable(rng.normal(size=(8, 3)), name="x")
    W1, b1 = Parameter(rng.normal(size=(3, 5)), name="W1"), Parameter(np.zeros(5), name="b1")
    W2, b2 = Parameter(rng.normal(size=(5, 1)), name="W2"), Parameter(np.zeros(1), name="b2")
    h = F.sigmoid(F.linear(x, W1, b1))
    loss = F.mean_squared_error(F.linear(h, W2, b2) + h @ W2 * 0.5, np.ones((8, 1)))
    graph = trace(loss)
    recording = recorded_backward(loss, retain_grad=True)
    replay = recording.replay(graph)
    assert len(replay["steps"]) == len(graph.functions)
    generations = [
        graph.functions[[graph.node_id(f) for f in graph.functions].index(s["function"])].generation
        for s in replay["steps"]
    ]
    assert generations == sorted(generations, reverse=True)  # the engine's order: latest generation first
    for variable in graph.variables:
        node_id = graph.node_id(variable)
        if variable.grad is None or node_id not in replay["variables"]:
            continue
        last = replay["variables"][node_id]["terms"][-1]["total"]
        assert last == summarize(variable.grad.data, diverging=True)  # summed in the engine's order
    # W2 is used twice: two terms, attributed to two different functions
    assert len({t["source"] for t in replay["variables"][graph.node_id(W2)]["terms"]}) == 2


def test_constants_get_no_terms_and_create_graph_steps_are_recorded_too():
    x = Variable(np.array(2.0), name="x")
    y = x**3 + 1.0
    graph = trace(y)
    replay = recorded_backward(y, create_graph=True).replay(graph)
    assert totals(replay, graph.node_id(x)) == [12.0]
    assert len(replay["variables"]) == 3  # y's seed, x**3 and x: not the constant 1.0


def test_learner_step14_classes_are_observed_and_left_as_they_were():
    x = Step14VariableWithCleargrad(np.array(3.0))
    y = step14_add(step14_add(x, x), x)
    graph = trace(y)
    functions = list(graph.functions)
    class_backwards = {type(f): type(f).__dict__["backward"] for f in functions}
    replay = learner_backward(y, graph).replay(graph)
    assert len(replay["steps"]) == 2
    assert totals(replay, graph.node_id(x)) == [1.0, 2.0, 3.0]
    assert float(x.grad) == 3.0
    for function in functions:
        assert "backward" not in vars(function)
        assert type(function).__dict__["backward"] is class_backwards[type(function)]


def test_learner_step18_and_step7_classes_replay():
    a = Step18Variable(np.array(2.0), name="a")
    b = Step18Variable(np.array(3.0), name="b")
    y = step18_add(step18_mul(a, b), a)
    graph = trace(y)
    replay = learner_backward(y, graph).replay(graph)
    assert totals(replay, graph.node_id(a))[-1] == float(a.grad) == 4.0
    assert totals(replay, graph.node_id(b)) == [2.0]

    x = Step7Variable(np.array(0.5))
    z = step7_square(step7_exp(step7_square(x)))
    graph = trace(z)
    replay = learner_backward(z, graph).replay(graph)
    assert len(replay["steps"]) == 3
    assert totals(replay, graph.node_id(x)) == [pytest.approx(float(x.grad))]


def test_an_instance_that_already_had_its_own_backward_gets_it_back():
    x = Step14VariableWithCleargrad(np.array(1.0))
    y = step14_add(x, x)
    own = y.creator.backward  # a bound method, stored on the instance
    y.creator.backward = own
    graph = trace(y)
    learner_backward(y, graph)
    assert vars(y.creator)["backward"] is own


def test_observing_restores_the_instances_when_backward_fails():
    x = Step14VariableWithCleargrad(np.array(1.0))
    y = step14_add(x, x)
    graph = trace(y)
    with pytest.raises(RuntimeError), observing(y, graph):
        raise RuntimeError("interrupted")
    assert "backward" not in vars(y.creator)


def test_recording_costs_one_step_per_function():
    x = Variable(np.array(0.3))
    y = x
    for _ in range(50):
        y = F.sin(y) * 1.5
    recording = recorded_backward(y, retain_grad=True)
    functions = [function for function, _gys, _gxs in recording.steps]
    assert len(functions) == 100 == len(set(map(id, functions)))  # each function once
    assert recording.before == []  # no variable had a grad before
    again = recorded_backward(y, retain_grad=True)
    assert again.root_before is not None
    assert len(again.before) == 100  # x and the 99 intermediates kept theirs (the constants get none)


def test_a_long_pass_records_only_its_first_steps_and_replays_their_drawn_end():
    x = Variable(np.array(0.3), name="x")
    y = x
    for _ in range(500):
        y = F.sin(y) * 1.5
    with recorded(40) as recordings:
        y.backward(retain_grad=True)
    (recording,) = recordings
    assert len(recording.steps) == 40 and recording.cut  # of 1,000 functions
    assert recording.before == []
    near = trace(y, max_nodes=30)  # the output's end of the chain: all within the first 40 steps
    replay = recording.replay(near)
    assert len(replay["steps"]) == len(near.functions) > 0
    last = near.functions[-1]
    for variable in last.inputs:
        node = near.node_id(variable)
        if node is not None and variable.creator is not None:  # its gradient: one term, the real one
            assert float(replay["variables"][node]["terms"][-1]["total"]["preview"]) == pytest.approx(
                float(variable.grad.data), rel=1e-6
            )
    assert recording.replay(trace(y, max_nodes=200)) == EMPTY_REPLAY  # drawn steps were not recorded
    whole = recorded_backward(y)
    assert len(whole.steps) == 1000 and not whole.cut


# ------------------------------------------------------------------ gradient check


def test_grad_check_passes_on_the_engine_and_names_its_errors():
    rng = np.random.default_rng(1)
    x = Variable(rng.normal(size=(4, 3)), name="x")
    W = Parameter(rng.normal(size=(3, 2)), name="W")
    y = F.sum(F.tanh(x @ W) * F.exp(x[:, :2]))
    y.backward()
    for variable in (x, W):
        result = check_gradient(variable, y, "v1")
        assert result["ok"], result["message"]
        assert result["maxAbs"] < 1e-8 and result["checked"] == result["size"] == variable.data.size
    assert result["output"] == "v1"


def test_grad_check_fails_on_a_learner_class_with_a_wrong_backward():
    x = Step14VariableWithCleargrad(np.array(3.0))
    y = step14_wrong_square(x)
    y.backward()
    result = check_gradient(x, y)
    assert not result["ok"]
    assert result["maxAbs"] == pytest.approx(3.0, abs=1e-6)  # 3.0 computed, 6.0 true
    assert result["maxRel"] == pytest.approx(0.5, abs=1e-6)
    assert "differs" in result["message"]


def test_grad_check_says_why_it_cannot_check():
    x = Variable(np.array(3.0), name="x")
    y = x * 2.0
    assert "no grad yet" in check_gradient(x, y)["message"]
    other = Variable(np.array(1.0), name="other")
    other.grad = Variable(np.array(0.0))
    assert "does not feed" in check_gradient(other, y)["message"]


def test_grad_check_samples_big_arrays():
    x = Variable(np.linspace(-1, 1, 1000), name="x")
    y = F.sum(x**2)
    y.backward()
    result = check_gradient(x, y)
    assert result["ok"] and result["checked"] == CHECKED_ELEMENTS and result["size"] == 1000


def test_grad_check_restores_running_averages_and_the_random_state():
    rng = np.random.default_rng(2)
    mean, var = np.zeros(3), np.ones(3)
    x = Variable(rng.normal(size=(5, 3)), name="x")
    gamma, beta = Parameter(np.ones(3)), Parameter(np.zeros(3))
    y = F.sum(F.batch_norm(x, gamma, beta, mean, var) ** 2)
    y.backward()
    before_mean, before_var = mean.copy(), var.copy()
    np.random.seed(7)
    expected_draw = np.random.rand()
    np.random.seed(7)
    check_gradient(gamma, y)
    assert np.random.rand() == expected_draw
    np.testing.assert_array_equal(mean, before_mean)
    np.testing.assert_array_equal(var, before_var)
