"""GraphWidget on the Python side: traitlets after show/refresh/reset/backward, live
updates from the engine and from IPython cells, front-end messages, hook lifecycle."""

import gc
import json
import logging
import time
import weakref

import numpy as np
import pytest
import traitlets

import dezero_widget
from dezero_widget import Variable, core
from dezero_widget import widget as widget_module
from dezero_widget.functions import add, mul
from dezero_widget.trace import Graph
from dezero_widget.utils import get_dot_graph
from dezero_widget.widget import GraphWidget, show
from tests.fixtures.learner_classes import Step14VariableWithCleargrad, step14_add
from tests.fixtures.notebooks import execute_saving_widget_state
from tests.fixtures.seed import SEED_NOTEBOOK, seed_graph
from tests.fixtures.spies import calls_to


@pytest.fixture(autouse=True)
def close_widgets_after_test():
    """Every test starts and ends with no live widget, so hook assertions are exact."""
    yield
    for widget in list(GraphWidget.live.widgets):
        widget.close()


@pytest.fixture
def ipython():
    from IPython.testing.globalipapp import get_ipython

    return get_ipython()


@pytest.fixture
def every_change_refreshes(monkeypatch):
    """No throttle: each engine notification refreshes at once."""
    monkeypatch.setattr(widget_module, "LIVE_MIN_INTERVAL", 0.0)
    monkeypatch.setattr(widget_module, "LIVE_MAX_SHARE", float("inf"))


def grads(widget):
    """label -> grad preview (None when no grad) for the labelled variables on display."""
    return {
        node["label"]: node["grad"] and node["grad"]["preview"]
        for node in widget.snapshot["nodes"]
        if node["kind"] == "variable" and node["label"]
    }


def all_grads(widget):
    return [node["grad"] for node in widget.snapshot["nodes"] if node["kind"] == "variable"]


def count_snapshot_updates(widget):
    updates = []
    widget.observe(lambda change: updates.append(change["new"]), names="snapshot")
    return updates


def send_from_front_end(widget, content):
    """The way a custom message arrives from the comm (ipywidgets' own handler)."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


# ---------------------------------------------------------------- show / traitlets


def test_show_syncs_the_snapshot_direction_and_status():
    _x, y = seed_graph()
    widget = show(y)
    assert isinstance(widget, GraphWidget)
    assert widget.snapshot == widget.graph.snapshot()
    assert grads(widget) == {"x": "3.0", "y": None}
    assert widget.snapshot["outputs"] == [widget.graph.id_of(y)]
    assert [n["op"] for n in widget.snapshot["nodes"] if n["kind"] == "function"] == ["Add", "Add"]
    assert widget.direction == "LR"
    assert widget.status == ""
    state = widget.get_state()
    # Synced traits are what a notebook saves as widget state (shown again with no kernel).
    assert {"snapshot", "direction", "status", "_esm"} <= set(state)
    assert json.loads(json.dumps(state["snapshot"], allow_nan=False)) == widget.snapshot
    assert state["_esm"] == widget_module._BUNDLE.read_text()


def test_a_saved_notebook_holds_the_last_graph(tmp_path):
    """What JupyterLab saves as widget state: the snapshot after the last cell, not the first."""
    notebook = execute_saving_widget_state(SEED_NOTEBOOK, tmp_path / "ipython")
    view = notebook.cells[0].outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]
    saved = notebook.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    model = saved[view["model_id"]]
    assert model["model_module"] == "anywidget"
    snapshot = model["state"]["snapshot"]
    x_node = next(node for node in snapshot["nodes"] if node.get("label") == "x")
    assert x_node["grad"]["preview"] == "6.0"
    assert model["state"]["direction"] == "LR"


def test_show_options_reach_the_trace_and_the_widget():
    _x, y = seed_graph()
    unnamed = Variable(np.array(2.0))
    z = mul(y, unnamed)
    widget = show(z, names={"w": unnamed}, max_nodes=4, direction="TB")
    assert widget.direction == "TB"
    # Nearest the root first: z, Mul, y, w are kept; both Adds, their sum and x are not.
    assert widget.snapshot["truncated"] is True and widget.snapshot["omitted"] == 4
    assert {n["label"] for n in widget.snapshot["nodes"] if n["kind"] == "variable"} == {"", "y", "w"}


def test_direction_accepts_only_lr_and_tb():
    _, y = seed_graph()
    widget = show(y)
    widget.direction = "TB"
    assert widget.direction == "TB"
    with pytest.raises(traitlets.TraitError):
        widget.direction = "RL"


def test_show_needs_a_variable():
    with pytest.raises(TypeError, match="at least one variable"):
        show()
    with pytest.raises(TypeError):
        show(np.array(1.0))


def test_package_level_show_and_graphwidget_are_the_widget_modules():
    _, y = seed_graph()
    assert isinstance(dezero_widget.show(y, direction="TB"), dezero_widget.GraphWidget)
    assert dezero_widget.GraphWidget is GraphWidget


def test_missing_bundle_error_says_how_to_build(monkeypatch, tmp_path):
    monkeypatch.setattr(widget_module, "_BUNDLE", tmp_path / "static" / "widget.js")
    with pytest.raises(FileNotFoundError, match="npm run build"):
        widget_module._front_end_bundle()


# ---------------------------------------------------------------- refresh and live updates


def test_refresh_reads_new_values_and_keeps_ids_and_edges():
    _x, y = seed_graph()
    widget = show(y)
    before = widget.snapshot
    y.backward()
    widget.refresh()
    assert grads(widget)["x"] == "6.0"
    assert [n["id"] for n in widget.snapshot["nodes"]] == [n["id"] for n in before["nodes"]]
    assert widget.snapshot["edges"] == before["edges"]


def test_refresh_without_a_change_sends_nothing():
    _, y = seed_graph()
    widget = show(y)
    updates = count_snapshot_updates(widget)
    widget.refresh()
    widget.refresh()
    assert updates == []


def test_engine_notifications_update_the_widget(every_change_refreshes):
    x, y = seed_graph()
    widget = show(y)
    y.backward()
    assert grads(widget)["x"] == "6.0"
    x.cleargrad()
    assert grads(widget)["x"] is None
    x.grad = Variable(np.array(5.0))
    assert grads(widget)["x"] == "5.0"


def test_a_training_loop_sends_few_updates_and_the_cell_end_shows_the_last(ipython, monkeypatch):
    _x, y = seed_graph()
    widget = show(y)
    updates = count_snapshot_updates(widget)
    monkeypatch.setitem(ipython.user_ns, "y", y)
    started = time.perf_counter()
    ipython.run_cell("for _ in range(1000):\n    y.backward()")
    elapsed = time.perf_counter() - started
    assert grads(widget)["x"] == str(3.0 * 1001)
    # One per throttle interval at most, plus the post-cell refresh.
    assert 1 <= len(updates) <= elapsed / widget_module.LIVE_MIN_INTERVAL + 2
    assert len(updates) < 100


def test_a_learner_class_refreshes_after_each_cell(ipython, monkeypatch):
    x, y = seed_graph(Step14VariableWithCleargrad, step14_add, named=False, backward=False)
    widget = show(y, names={"x": x, "y": y})
    assert grads(widget) == {"x": None, "y": None}
    monkeypatch.setitem(ipython.user_ns, "y", y)
    ipython.run_cell("y.backward()")
    assert grads(widget) == {"x": "3.0", "y": "1.0"}


def test_an_empty_cell_snapshots_no_unchanged_graph(ipython, monkeypatch):
    """After a cell that changed nothing, ten open widgets cost a fingerprint each, no snapshot."""
    widgets = [show(seed_graph()[1]) for _ in range(10)]
    snapshots = calls_to(monkeypatch, Graph, "snapshot")
    ipython.run_cell("pass")
    assert snapshots == []
    # A change a hook cannot see (in place, in a learner's class or by the optimizer) still shows.
    widgets[3].graph.roots[0].data += 1.0
    ipython.run_cell("pass")
    assert len(snapshots) == 1
    (y_node,) = [node for node in widgets[3].snapshot["nodes"] if node.get("label") == "y"]
    assert y_node["data"]["preview"] == "10.0"


def test_hooks_live_exactly_while_a_widget_is_open(ipython):
    def post_run_cell_hooked():
        return GraphWidget.live._after_cell in ipython.events.callbacks["post_run_cell"]

    _, y = seed_graph()
    first, second = show(y), show(y)
    assert core._grad_listeners.count(GraphWidget.live._on_grads_changed) == 1
    assert post_run_cell_hooked()
    first.close()
    assert GraphWidget.live._on_grads_changed in core._grad_listeners
    second.close()
    assert GraphWidget.live._on_grads_changed not in core._grad_listeners
    assert not post_run_cell_hooked()
    # A closed widget no longer follows the engine.
    y.backward()
    assert grads(second)["x"] == "3.0"


def test_close_frees_the_widget_its_layout_and_its_graph():
    _, y = seed_graph()
    widget = show(y)
    refs = [weakref.ref(widget), weakref.ref(widget.layout), weakref.ref(widget.graph)]
    widget.close()
    del widget
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]


# ---------------------------------------------------------------- reset


def test_reset_clears_every_grad_once_and_says_how_many(every_change_refreshes):
    x, y = seed_graph()
    y.backward(retain_grad=True)  # now x, the inner sum and y hold grads
    widget = show(y)
    other = show(y)
    updates = count_snapshot_updates(widget)
    assert widget.reset() == 3
    assert all(grad is None for grad in all_grads(widget))
    assert x.grad is None and y.grad is None
    assert widget.status == "Cleared the grads of 3 variables."
    assert len(updates) == 1  # not one per cleargrad()
    assert all(grad is None for grad in all_grads(other))
    assert GraphWidget.live._on_grads_changed in core._grad_listeners


def test_reset_of_a_learner_class():
    x = Step14VariableWithCleargrad(np.array(3.0))
    y = step14_add(x, x)
    y.backward()
    widget = show(y)
    assert widget.reset() == 2
    assert x.grad is None
    assert widget.status == "Cleared the grads of 2 variables."


# ---------------------------------------------------------------- backward


def test_backward_after_reset_gives_3_then_accumulates_to_6():
    x, y = seed_graph()
    widget = show(y)
    widget.reset()
    widget.run_backward()
    assert grads(widget)["x"] == "3.0"
    # Intermediates keep their grads (retain_grad) so the drawing shows them.
    assert all(grad is not None for grad in all_grads(widget))
    assert widget.status == "Ran backward() from y."
    widget.run_backward()
    assert grads(widget)["x"] == "6.0"
    assert float(x.grad.data) == 6.0


def test_backward_of_one_chosen_output():
    x = Variable(np.array(2.0), name="x")
    a = mul(x, x)
    a.name = "a"
    b = add(x, x)
    b.name = "b"
    widget = show(a, b)
    assert widget.graph.output_ids == [widget.graph.id_of(a), widget.graph.id_of(b)]
    widget.run_backward(widget.graph.id_of(b))
    assert grads(widget)["x"] == "2.0"
    widget.run_backward()  # the first output: d(x*x)/dx = 4
    assert grads(widget)["x"] == "6.0"
    with pytest.raises(ValueError, match="not an output"):
        widget.run_backward("v-nonexistent")


def test_backward_of_a_learner_class():
    x, y = seed_graph(Step14VariableWithCleargrad, step14_add, named=False, backward=False)
    widget = show(y, names={"x": x})
    widget.run_backward()
    assert grads(widget)["x"] == "3.0"


def test_a_failing_backward_goes_to_the_status_line(caplog):
    _x, y = seed_graph()
    widget = show(y)
    y.data = None
    with caplog.at_level(logging.WARNING, logger="dezero_widget"):
        widget.run_backward()
    assert widget.status.startswith("backward() failed: ValueError: cannot call backward()")
    assert "backward() from the graph widget failed" in caplog.text
    assert GraphWidget.live._on_grads_changed in core._grad_listeners


# ---------------------------------------------------------------- DOT


def test_to_dot_is_get_dot_graph():
    _, y = seed_graph()
    assert show(y).to_dot() == get_dot_graph(y)
    assert show(y).to_dot(verbose=False) == get_dot_graph(y, verbose=False)


def test_to_dot_works_on_the_learner_classes_the_widget_draws():
    _, y = seed_graph(Step14VariableWithCleargrad, step14_add, named=False)
    widget = show(y)
    assert widget.to_dot() == get_dot_graph(y)
    assert widget.to_dot().count("fillcolor=lightblue") == 2


def test_to_dot_merges_several_outputs():
    x = Variable(np.array(2.0), name="x")
    a, b = mul(x, x), add(x, x)
    dot = show(a, b).to_dot()
    lines = dot.splitlines()
    assert lines[0] == "digraph g {" and lines[-1] == "}"
    for part in (get_dot_graph(a), get_dot_graph(b)):
        assert set(part.splitlines()) <= set(lines)
    x_node = next(line for line in lines if '"x: () float64"' in line)
    assert lines.count(x_node) == 1


# ---------------------------------------------------------------- front-end messages


def test_hello_gets_a_welcome(monkeypatch):
    _, y = seed_graph()
    widget = show(y)
    sent = []
    monkeypatch.setattr(widget, "send", sent.append)
    send_from_front_end(widget, {"type": "hello"})
    assert sent == [{"type": "welcome"}]


def test_reset_and_backward_messages_drive_the_kernel():
    x, y = seed_graph()
    widget = show(y)
    send_from_front_end(widget, {"type": "reset"})
    assert x.grad is None
    assert grads(widget)["x"] is None
    assert widget.status == "Cleared the grads of 3 variables."
    send_from_front_end(widget, {"type": "backward"})
    assert grads(widget)["x"] == "3.0"
    send_from_front_end(widget, {"type": "backward", "output": widget.graph.id_of(y)})
    assert grads(widget)["x"] == "6.0"


@pytest.mark.parametrize(
    "content",
    [
        None,
        "reset",
        [],
        {},
        {"type": 3},
        {"type": ["reset"]},
        {"type": "nope"},
        {"type": "select"},
        {"type": "reset", "extra": 1},
        {"type": "hello", "output": "v1"},
        {"type": "backward", "output": 5},
        {"type": "backward", "output": None, "x": 1},
    ],
)
def test_malformed_messages_are_logged_and_ignored(content, caplog, monkeypatch):
    x, y = seed_graph()
    widget = show(y)
    sent = []
    monkeypatch.setattr(widget, "send", sent.append)
    before = widget.snapshot
    with caplog.at_level(logging.WARNING, logger="dezero_widget"):
        widget._on_front_end_message(widget, content, [])  # raises nothing
    assert "Ignoring" in caplog.text
    assert float(x.grad.data) == 3.0
    assert widget.snapshot == before and widget.status == "" and sent == []


def test_a_failing_reset_message_is_reported_not_raised(caplog):
    class BrokenCleargrad(Step14VariableWithCleargrad):
        def cleargrad(self):
            raise RuntimeError("no clearing today")

    x = BrokenCleargrad(np.array(1.0))
    y = step14_add(x, x)
    widget = show(y)
    with caplog.at_level(logging.WARNING, logger="dezero_widget"):
        widget._on_front_end_message(widget, {"type": "reset"}, [])
    assert widget.status == "Reset failed: RuntimeError: no clearing today"
    assert "Reset from the graph widget failed" in caplog.text


def test_show_in_ipython_labels_variables_with_their_notebook_names():
    from IPython.testing import globalipapp

    shell = globalipapp.get_ipython()
    x, y = seed_graph(named=False, backward=False)
    shell.user_ns.update(x=x, y=y, _=y, _5=y)  # IPython's own names are not labels
    try:
        widget = show(y)
        try:
            labels = {node["label"] for node in widget.snapshot["nodes"] if node["kind"] == "variable"}
            assert labels == {"x", "y", ""}
        finally:
            widget.close()
    finally:
        for name in ("x", "y", "_", "_5"):
            shell.user_ns.pop(name, None)


# ---------------------------------------------------------------- actions that fail (issue 10)


def test_a_backward_for_a_node_that_is_no_output_says_so_on_the_status_line(caplog):
    _, y = seed_graph()
    widget = show(y)
    before = widget.snapshot
    send_from_front_end(widget, {"type": "backward", "output": "v-nonexistent"})
    assert widget.status == "Backward: 'v-nonexistent' is not an output of this graph."
    assert widget.snapshot == before


class Looped(Step14VariableWithCleargrad):
    """A learner graph where every variable feeds a function: it has no output to start from."""


def test_backward_on_a_graph_without_an_output_explains_itself():
    x = Looped(np.array(1.0))
    y = step14_add(x, x)
    y.creator.inputs = (x, y)  # a cycle through y, as a learner's bug can make
    widget = show(y)
    assert widget.graph.output_ids == []
    widget.run_backward()
    assert widget.status.startswith("This graph has no output to run backward() from")


class ExitingVariable(Step14VariableWithCleargrad):
    def backward(self):
        raise SystemExit(3)


class InterruptedVariable(Step14VariableWithCleargrad):
    def backward(self):
        raise KeyboardInterrupt


def test_sys_exit_or_an_interrupt_in_a_learners_backward_does_not_escape_the_button():
    for variable, status in (
        (ExitingVariable, "backward() failed: SystemExit: 3"),
        (InterruptedVariable, "backward() was interrupted: some grads may have changed, others not."),
    ):
        _, y = seed_graph(variable, step14_add, named=False, backward=False)
        widget = show(y)
        send_from_front_end(widget, {"type": "backward"})  # no exception reaches the kernel
        assert widget.status == status


class StubbornVariable(Step14VariableWithCleargrad):
    def cleargrad(self):
        raise RuntimeError("no")


def test_reset_clears_every_other_variable_when_one_cleargrad_fails():
    a, b = Step14VariableWithCleargrad(np.array(1.0)), StubbornVariable(np.array(2.0))
    c = Step14VariableWithCleargrad(np.array(3.0))
    y = step14_add(step14_add(a, b), c)
    y.backward()
    widget = show(y)
    send_from_front_end(widget, {"type": "reset"})
    assert widget.status == "Reset failed: RuntimeError: no"
    assert a.grad is None and c.grad is None and y.grad is None and b.grad is not None


class HugeError(Step14VariableWithCleargrad):
    def backward(self):
        raise ValueError("x" * 10_000_000)


def test_status_and_labels_are_bounded_and_valid_utf8():
    _, y = seed_graph(HugeError, step14_add, named=False, backward=False)
    widget = show(y, names={"\ud800" + "n" * 10_000_000: y})
    widget.run_backward()
    assert len(widget.status) <= 300 and widget.status.startswith("backward() failed: ValueError: xxx")
    (label,) = [node["label"] for node in widget.snapshot["nodes"] if node["id"] == widget.graph.id_of(y)]
    assert len(label) <= 120 and label.startswith("?nnn")
    json.dumps(widget.snapshot, ensure_ascii=False).encode("utf-8")  # what the comm sends


class UnprintableName:
    def __str__(self):
        raise RuntimeError("no str")

    def __bool__(self):
        raise RuntimeError("no bool")


def test_a_name_that_cannot_be_printed_falls_back_to_the_notebook_name():
    x = Variable(np.array(1.0))
    x.name = UnprintableName()
    y = mul(x, x)
    widget = show(y, names={"x": x})
    (label,) = [node["label"] for node in widget.snapshot["nodes"] if node["id"] == widget.graph.id_of(x)]
    assert label == "x"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (
            {"names": ["x"]},
            TypeError,
            "names must be a mapping of names to values, such as globals(), not list",
        ),
        ({"max_nodes": 1.5}, ValueError, "max_nodes must be a whole number of at least 1, or None; got 1.5"),
        (
            {"max_nodes": "10"},
            ValueError,
            "max_nodes must be a whole number of at least 1, or None; got '10'",
        ),
    ],
)
def test_bad_show_options_are_one_clear_error(options, error, message):
    _, y = seed_graph()
    with pytest.raises(error) as raised:
        show(y, **options)
    assert str(raised.value) == message


def test_model_plot_draws_the_model_in_the_widget(tmp_path, monkeypatch):
    import dezero_widget

    np.random.seed(0)
    model = dezero_widget.models.MLP((4, 1))
    widget = model.plot(np.ones((2, 3)))
    assert isinstance(widget, GraphWidget)
    ops = sorted(node["op"] for node in widget.snapshot["nodes"] if node["kind"] == "function")
    assert ops == ["Linear", "Linear", "Sigmoid"]
    params = [node for node in widget.snapshot["nodes"] if node.get("role") == "param"]
    assert sorted(node["label"] for node in params) == ["W", "W", "b", "b"]
    # With to_file it is DeZero's Graphviz drawing (here: its DOT text, no Graphviz needed).
    assert model.plot(np.ones((2, 3)), to_file=str(tmp_path / "model.dot")) == str(tmp_path / "model.dot")
    assert "Linear" in (tmp_path / "model.dot").read_text()


def test_a_script_that_shows_a_graph_exits_quietly(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(
        "import numpy as np\nfrom dezero_widget import Variable, show\n"
        "x = Variable(np.array(3.0))\ny = x * x\ny.backward()\nw = show(y)\nprint(x.grad)\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "variable(6.0)\n", "")
