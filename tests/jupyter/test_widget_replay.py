"""The widget's issue-11 traits on the kernel side: the replay after Backward (engine and
learner classes), after a %%autodiff cell and a training loop; when it is dropped; the
gradient-check message; the grad-graph toggle."""

import textwrap

import numpy as np
import pytest
from IPython.testing import globalipapp
from IPython.utils.capture import capture_output
from ipywidgets.widgets.widget import _instances as live_ipywidgets

import dezero_widget.functions as F
from dezero_widget import Variable
from dezero_widget import summary as summary_module
from dezero_widget.protocol import EMPTY_REPLAY
from dezero_widget.replay import recorded
from dezero_widget.widget import GraphWidget, show
from tests.fixtures.learner_classes import Step14VariableWithCleargrad, step14_add, step14_wrong_square
from tests.fixtures.seed import seed_graph
from tests.fixtures.spies import calls_to


@pytest.fixture(autouse=True)
def close_widgets_after_test():
    yield
    for widget in list(GraphWidget.live.widgets):
        widget.close()


def send_from_front_end(widget, content):
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def x_totals(widget, x_id):
    return [term["total"]["preview"] for term in widget.replay["variables"][x_id]["terms"]]


def test_backward_from_the_widget_fills_the_replay_and_reset_empties_it():
    x, y = seed_graph()
    widget = show(y)
    widget.reset()
    assert widget.replay == EMPTY_REPLAY
    send_from_front_end(widget, {"type": "backward"})
    x_id = widget.graph.node_id(x)
    assert len(widget.replay["steps"]) == 2
    assert x_totals(widget, x_id) == ["1.0", "2.0", "3.0"]
    assert widget.replay["accumulated"] == []
    send_from_front_end(widget, {"type": "backward"})  # a second Backward without Reset
    assert x_id in widget.replay["accumulated"]
    assert widget.replay["variables"][x_id]["before"]["preview"] == "3.0"
    assert x_totals(widget, x_id)[-1] == "6.0"
    send_from_front_end(widget, {"type": "reset"})
    assert widget.replay == EMPTY_REPLAY


def test_a_replay_reuses_the_grad_summaries_of_the_snapshot_just_taken(monkeypatch):
    np.random.seed(0)
    W = Variable(np.random.randn(3, 4), name="W")
    loss = F.sum(F.sigmoid(F.matmul(np.random.randn(5, 3), W)))
    with recorded() as recordings:
        loss.backward(retain_grad=True)
    (recording,) = recordings
    widget = show(loss)
    summarised = calls_to(monkeypatch, summary_module, "summarize")
    widget.show_replay(recording)
    reused = len(summarised)
    summarised.clear()
    assert recording.replay(widget.graph) == widget.replay  # the same replay, every array summarised anew
    assert reused < len(summarised) - 3  # the grads W and the intermediates hold were not


def test_backward_of_a_learner_class_is_replayed_and_its_functions_restored():
    x = Step14VariableWithCleargrad(np.array(3.0))
    y = step14_add(step14_add(x, x), x)
    widget = show(y)
    widget.run_backward()
    assert x_totals(widget, widget.graph.node_id(x)) == ["1.0", "2.0", "3.0"]
    assert all("backward" not in vars(f) for f in widget.graph.functions)


def test_a_grad_changed_elsewhere_drops_the_replay_and_the_checks():
    x, y = seed_graph()
    widget = show(y)
    widget.reset()
    widget.run_backward()
    widget.check_gradient(widget.graph.node_id(x))
    assert widget.replay["steps"] and widget.checks
    x.cleargrad()
    widget.refresh_if_changed()
    assert widget.replay == EMPTY_REPLAY and widget.checks == {}


def test_grad_check_message_passes_on_the_engine_and_fails_on_a_wrong_learner_backward():
    x, y = seed_graph()
    widget = show(y)
    widget.reset()
    widget.run_backward()
    x_id = widget.graph.node_id(x)
    send_from_front_end(widget, {"type": "grad-check", "node": x_id})
    assert widget.checks[x_id]["ok"] is True
    assert widget.checks[x_id]["output"] == widget.graph.node_id(y)

    a = Step14VariableWithCleargrad(np.array(3.0))
    b = step14_wrong_square(a)
    wrong = show(b)
    wrong.run_backward()
    a_id = wrong.graph.node_id(a)
    send_from_front_end(wrong, {"type": "grad-check", "node": a_id})
    assert wrong.checks[a_id]["ok"] is False
    assert wrong.checks[a_id]["maxAbs"] == pytest.approx(3.0, abs=1e-6)


def test_a_grad_check_for_an_unknown_node_goes_to_the_status_line():
    _x, y = seed_graph()
    widget = show(y)
    send_from_front_end(widget, {"type": "grad-check", "node": "v999"})
    assert widget.checks == {}
    assert "v999" in widget.status and "Check gradient" in widget.status


def test_the_grad_graph_toggle_traces_the_graph_backward_built():
    x = Variable(np.array(1.0), name="x")
    y = F.tanh(x)
    y.backward(create_graph=True)
    widget = show(y)
    assert widget.snapshot["gradsWithGraph"] == 1
    assert not any(node.get("subgraph") for node in widget.snapshot["nodes"])
    widget.grad_graph = True  # what the front end's toggle sets
    grad_nodes = [node for node in widget.snapshot["nodes"] if node.get("subgraph") == "grad"]
    (x_grad,) = [node for node in grad_nodes if node.get("gradOf") == widget.graph.node_id(x)]
    assert float(x_grad["data"]["preview"]) == pytest.approx(1 - np.tanh(1.0) ** 2)
    widget.grad_graph = False
    assert not any(node.get("subgraph") for node in widget.snapshot["nodes"])


# ------------------------------------------------------------------ %%autodiff


@pytest.fixture
def ip():
    shell = globalipapp.get_ipython()
    shell.run_line_magic("reset", "-f")
    shell.run_line_magic("load_ext", "dezero_widget")
    shell.run_cell(
        "import numpy as np\nfrom dezero_widget import Variable\nimport dezero_widget.functions as F\n"
        "from dezero_widget.functions import add\n",
        store_history=False,
    )
    yield shell
    shell.run_line_magic("unload_ext", "dezero_widget")
    shell.run_line_magic("reset", "-f")


def autodiff(ip, body, line=""):
    with capture_output() as captured:
        ip.run_cell_magic("autodiff", line, textwrap.dedent(body).strip() + "\n")
    (widget,) = [
        live_ipywidgets[output.data["application/vnd.jupyter.widget-view+json"]["model_id"]]
        for output in captured.outputs
        if "application/vnd.jupyter.widget-view+json" in output.data
    ]
    return widget


def test_a_cells_backward_is_replayed(ip):
    widget = autodiff(ip, "x = Variable(np.array(3.0), name='x')\ny = add(add(x, x), x)\ny.backward()")
    x_id = widget.graph.node_id(ip.user_ns["x"])
    assert len(widget.replay["steps"]) == 2
    assert x_totals(widget, x_id) == ["1.0", "2.0", "3.0"]
    seed = widget.replay["variables"][widget.replay["output"]]["terms"]
    assert [(term["step"], term["total"]["preview"]) for term in seed] == [(0, "1.0")]  # y's own 1.0
    assert widget.replay["accumulated"] == []
    ip.run_cell("y.backward()", store_history=False)  # a later cell: the replay is of old values
    assert widget.replay == EMPTY_REPLAY


def test_a_training_loop_replays_its_newest_step(ip):
    widget = autodiff(
        ip,
        """
        np.random.seed(0)
        x = np.random.rand(20, 1)
        t = 2 * x + 1
        W = Variable(np.zeros((1, 1)), name="W")
        b = Variable(np.zeros(1), name="b")
        for i in range(30):
            loss = F.mean_squared_error(F.matmul(x, W) + b, t)
            W.cleargrad()
            b.cleargrad()
            loss.backward()
            W.data -= 0.1 * W.grad.data
            b.data -= 0.1 * b.grad.data
        """,
    )
    steps = widget.replay["steps"]
    drawn_functions = {node["id"] for node in widget.snapshot["nodes"] if node["kind"] == "function"}
    assert len(steps) == len(drawn_functions) == 3  # MatMul, Add, MeanSquaredError
    assert {step["function"] for step in steps} == drawn_functions
    W_id = widget.graph.node_id(ip.user_ns["W"])
    last = widget.replay["variables"][W_id]["terms"][-1]["total"]
    assert last["preview"] == next(n for n in widget.snapshot["nodes"] if n["id"] == W_id)["grad"]["preview"]


def test_a_long_chain_records_as_many_steps_as_can_be_drawn(ip):
    widget = autodiff(
        ip,
        """
        x = Variable(np.array(0.5), name="x")
        y = x
        for _ in range(2000):
            y = F.sin(y) * 0.9 + y * 0.1
        y.backward()
        """,
        "--max-nodes 100",
    )
    assert len(widget._recording.steps) == 100 and widget._recording.cut  # of 8,000 functions
    drawn_functions = {node["id"] for node in widget.snapshot["nodes"] if node["kind"] == "function"}
    assert {step["function"] for step in widget.replay["steps"]} == drawn_functions


def test_minus_b_replays_a_learner_class_in_the_cell_and_the_line_magic(ip):
    ip.push({"Step14VariableWithCleargrad": Step14VariableWithCleargrad, "step14_add": step14_add})
    build = "x = Step14VariableWithCleargrad(np.array(3.0))\ny = step14_add(step14_add(x, x), x)"
    widget = autodiff(ip, build, line="-b y")
    assert x_totals(widget, widget.graph.node_id(ip.user_ns["x"])) == ["1.0", "2.0", "3.0"]
    assert all("backward" not in vars(f) for f in widget.graph.functions)

    ip.run_cell(build, store_history=False)
    with capture_output() as captured:
        ip.run_line_magic("autodiff", "-b y -o shown y")
    assert "application/vnd.jupyter.widget-view+json" in captured.outputs[0].data
    shown = ip.user_ns["shown"]
    assert x_totals(shown, shown.graph.node_id(ip.user_ns["x"])) == ["1.0", "2.0", "3.0"]


def test_the_line_magics_backward_is_replayed_for_the_engine(ip):
    ip.run_cell("x = Variable(np.array(3.0), name='x')\ny = add(add(x, x), x)", store_history=False)
    with capture_output():
        ip.run_line_magic("autodiff", "-b y -o shown y")
    shown = ip.user_ns["shown"]
    assert len(shown.replay["steps"]) == 2
    assert x_totals(shown, shown.graph.node_id(ip.user_ns["x"])) == ["1.0", "2.0", "3.0"]


def test_the_grad_graph_toggle_keeps_the_replay_and_the_checks():
    x = Variable(np.array(1.0), name="x")
    y = F.tanh(x)
    widget = show(y)
    with recorded() as recordings:
        y.backward(create_graph=True)
    (recording,) = recordings
    widget.show_replay(recording)
    x_id = widget.graph.node_id(x)
    widget.check_gradient(x_id)
    steps = widget.replay["steps"]
    assert len(steps) == 1 and widget.checks[x_id]["ok"]
    widget.grad_graph = True
    assert any(node.get("subgraph") == "grad" for node in widget.snapshot["nodes"])
    assert widget.replay["steps"] == steps and widget.replay["output"] == widget.graph.node_id(y)
    assert set(widget.checks) == {widget.graph.node_id(x)}
