"""%%autodiff and %autodiff in IPython's InteractiveShell: the seed's cases, a learner's
own classes, unnamed results, every option and error, re-runs, unload."""

import gc
import re
import textwrap
import time
import tracemalloc
import weakref

import numpy as np
import pytest
import traitlets.traitlets
from IPython.core.error import UsageError
from IPython.testing import globalipapp
from IPython.utils.capture import capture_output
from ipywidgets.widgets.widget import _instances as live_ipywidgets

import dezero_widget.functions as F
from dezero_widget import Variable, core, reader
from dezero_widget import magic as magic_module
from dezero_widget import watch as watch_module
from dezero_widget.magic import AutodiffMagics
from dezero_widget.protocol import HISTORY_POINTS
from dezero_widget.watch import LossHistory
from dezero_widget.widget import GraphWidget
from tests.fixtures.learner_classes import Step14Variable, Step14VariableWithCleargrad, step14_add
from tests.fixtures.seed import BACKWARD_AGAIN, CLEARGRAD_CELL, REUSE_CELL, SEED_CELL
from tests.fixtures.spies import calls_to

ENGINE_IMPORTS = (
    "import numpy as np\nfrom dezero_widget import Variable\nfrom dezero_widget.functions import add, mul\n"
)


@pytest.fixture
def ip():
    """The shell with the extension loaded and our engine imported, as the README shows."""
    shell = globalipapp.get_ipython()
    shell.run_line_magic("reset", "-f")
    shell.run_line_magic("load_ext", "dezero_widget")
    shell.run_cell(ENGINE_IMPORTS, store_history=False)
    yield shell
    shell.run_line_magic("unload_ext", "dezero_widget")
    shell.run_line_magic("reset", "-f")
    for widget in list(GraphWidget.live.widgets):
        widget.close()


@pytest.fixture
def every_step_shown(monkeypatch):
    """Live updates at every backward() of a %%autodiff cell, however fast the loop."""
    monkeypatch.setattr(watch_module, "LIVE_MIN_INTERVAL", 0.0)
    monkeypatch.setattr(watch_module, "LIVE_MAX_SHARE", float("inf"))


def cell(text):
    return textwrap.dedent(text).strip("\n") + "\n"


def autodiff(ip, body, line=""):
    """Run a %%autodiff cell; returns (captured output, widgets it displayed)."""
    with capture_output() as captured:
        ip.run_cell_magic("autodiff", line, cell(body))
    return captured, displayed_widgets(captured)


def run_cell(ip, text):
    """Run a whole cell as the notebook does (hooks, error display); returns (result, captured)."""
    with capture_output() as captured:
        result = ip.run_cell(cell(text), store_history=False)
    return result, captured


def displayed_widgets(captured):
    return [
        live_ipywidgets[output.data["application/vnd.jupyter.widget-view+json"]["model_id"]]
        for output in captured.outputs
        if "application/vnd.jupyter.widget-view+json" in output.data
    ]


def variables(widget):
    return [node for node in widget.snapshot["nodes"] if node["kind"] == "variable"]


def functions(widget):
    return [node for node in widget.snapshot["nodes"] if node["kind"] == "function"]


def grad_of(widget, label):
    (node,) = [node for node in variables(widget) if node["label"] == label]
    return node["grad"] and node["grad"]["preview"]


def grad_value(ip, name):
    """A variable's grad as a float, for our engine (a Variable) and a learner's class (an array)."""
    grad = ip.user_ns[name].grad
    return float(grad.data if isinstance(grad, Variable) else grad)


# ------------------------------------------------------------------ the seed's three cases


def test_seed_case_1_reused_variable_gives_3(ip):
    captured, (widget,) = autodiff(ip, f"{SEED_CELL}\nprint(x.grad)")
    assert captured.stdout == "variable(3.0)\n"
    assert grad_value(ip, "x") == 3.0
    assert isinstance(widget, GraphWidget)
    assert sorted(node["label"] for node in variables(widget)) == ["", "x", "y"]
    assert [node["op"] for node in functions(widget)] == ["Add", "Add"]
    assert grad_of(widget, "x") == "3.0"
    # Once the cell has run, the intermediates get the grads retain_grad would have kept.
    assert grad_of(widget, "") == "1.0"
    assert grad_of(widget, "y") == "1.0"


def test_seed_case_2_reusing_x_accumulates_2_then_5(ip):
    captured, (widget,) = autodiff(ip, REUSE_CELL)
    assert captured.stdout == "variable(2.0)\nvariable(5.0)\n"
    assert grad_value(ip, "x") == 5.0
    # Both graphs are shown, the first y's although no name is bound to it any more.
    assert len(functions(widget)) == 3
    assert len(variables(widget)) == 4
    assert grad_of(widget, "x") == "5.0"
    assert len(widget.snapshot["outputs"]) == 2


def test_seed_case_3_cleargrad_gives_2_then_3(ip):
    captured, (widget,) = autodiff(ip, CLEARGRAD_CELL)
    assert captured.stdout == "variable(2.0)\nvariable(3.0)\n"
    assert grad_of(widget, "x") == "3.0"


def test_a_later_backward_updates_the_widget_of_an_earlier_cell(ip):
    _, (widget,) = autodiff(ip, SEED_CELL)
    run_cell(ip, BACKWARD_AGAIN)
    assert grad_of(widget, "x") == "6.0"
    widget.reset()
    assert all(node["grad"] is None for node in variables(widget))


# ------------------------------------------------------------------ what the graph holds


def test_unnamed_results_are_shown(ip):
    _, (widget,) = autodiff(ip, "x = Variable(np.array(3.0))\nadd(x, x).backward()")
    assert [node["op"] for node in functions(widget)] == ["Add"]
    assert sorted(node["label"] for node in variables(widget)) == ["", "x"]
    assert grad_of(widget, "x") == "2.0"
    assert grad_of(widget, "") == "1.0"


def test_variables_from_earlier_cells_are_labelled_by_their_names(ip):
    run_cell(ip, "a = Variable(np.array(2.0))\nb = a")
    _, (widget,) = autodiff(ip, "c = mul(a, Variable(np.array(4.0), name='four'))")
    labels = sorted(node["label"] for node in variables(widget))
    assert labels == ["a, b", "c", "four"]


def test_ipython_output_names_are_not_labels(ip):
    run_cell(ip, "x = Variable(np.array(1.0))")
    ip.user_ns["_"] = ip.user_ns["_5"] = ip.user_ns["x"]  # as Out[5] would bind them
    _, (widget,) = autodiff(ip, "y = add(x, x)")
    assert sorted(node["label"] for node in variables(widget)) == ["x", "y"]


def test_a_lone_variable_the_cell_created_is_a_graph(ip):
    _, (widget,) = autodiff(ip, "x = Variable(np.array([1.0, 2.0]))")
    (node,) = variables(widget)
    assert node["label"] == "x" and node["data"]["preview"] == "[1., 2.]"


def test_a_learners_own_step14_classes(ip):
    ip.user_ns.update(Variable=Step14Variable, add=step14_add)
    _, (widget,) = autodiff(ip, SEED_CELL)
    assert grad_value(ip, "x") == 3.0
    assert sorted(node["label"] for node in variables(widget)) == ["", "x", "y"]
    assert [node["op"] for node in functions(widget)] == ["Step14Add", "Step14Add"]
    assert grad_of(widget, "x") == "3.0"


def test_a_learners_class_with_cleargrad_through_the_magic(ip):
    ip.user_ns.update(Variable=Step14VariableWithCleargrad, add=step14_add)
    captured, (widget,) = autodiff(ip, CLEARGRAD_CELL)
    assert captured.stdout == "2.0\n3.0\n"
    # A learner's class sends no notice of what it applies: the graph comes from the
    # names the cell bound, so the first y (rebound) is not in it.
    assert len(functions(widget)) == 2
    assert grad_of(widget, "x") == "3.0"


def test_the_cell_runs_as_a_normal_cell(ip):
    captured, _ = autodiff(ip, "x = Variable(np.array(3.0))\nx.data * 2")
    assert captured.outputs[0].data["text/plain"] == "np.float64(6.0)"
    assert "x" in ip.user_ns
    captured, shown = autodiff(ip, "x = Variable(np.array(3.0))\nx.data * 2;")
    assert len(captured.outputs) == len(shown) == 1  # only the widget: ';' silences the value


def test_a_value_the_cell_deletes_or_rebinds_is_freed_as_in_a_normal_cell(ip):
    """The magic holds no reference to what the namespace held before the cell (a dataset
    rebound in a re-run cell must not stay in memory twice)."""

    class Dataset:
        pass

    ip.user_ns.update(Dataset=Dataset, data=Dataset())
    autodiff(
        ip,
        """
        import gc, weakref
        old = weakref.ref(data)
        data = Dataset()
        gc.collect()
        freed = old() is None
        x = Variable(np.array(1.0))
        """,
    )
    assert ip.user_ns["freed"] is True


def test_load_ext_injects_no_names():
    shell = globalipapp.get_ipython()
    shell.run_line_magic("reset", "-f")
    before = set(shell.user_ns)
    shell.run_line_magic("load_ext", "dezero_widget")
    try:
        assert set(shell.user_ns) == before
    finally:
        shell.run_line_magic("unload_ext", "dezero_widget")


# ------------------------------------------------------------------ options


def test_backward_option_calls_backward_after_the_cell(ip):
    _, (widget,) = autodiff(ip, "x = Variable(np.array(3.0))\ny = add(add(x, x), x)", line="-b y")
    assert grad_value(ip, "x") == 3.0
    assert grad_of(widget, "") == "1.0"


def test_output_option_stores_the_displayed_widget(ip):
    _, (widget,) = autodiff(ip, "x = Variable(np.array(3.0))\ny = add(x, x)", line="-o w")
    assert ip.user_ns["w"] is widget


def test_max_nodes_truncates_and_says_how_much_was_left_out(ip):
    captured, (widget,) = autodiff(
        ip,
        """
        x = Variable(np.array(1.0))
        y = x
        for _ in range(10):
            y = add(y, x)
        """,
        line="--max-nodes 5",
    )
    assert len(widget.snapshot["nodes"]) == 5
    assert widget.snapshot["truncated"] is True
    assert widget.snapshot["omitted"] == 16  # 11 variables + 10 functions - 5
    assert captured.stdout == (
        "%%autodiff: showing 5 of 21 nodes; 16 left out (raise --max-nodes to see them)\n"
    )


def test_direction_option(ip):
    _, (widget,) = autodiff(ip, "x = Variable(np.array(1.0))\ny = add(x, x)", line="--direction TB")
    assert widget.direction == "TB"


def test_the_cell_reads_the_grads_a_plain_cell_reads_and_the_drawing_shows_retained_ones(ip):
    # backward() from an intermediate after the output's: with kept grads its seed would be
    # a's kept grad (8), not 1, and x.grad would read 64 instead of a plain cell's 36.
    body = """
    x = Variable(np.array(2.0), name="x")
    a = x ** 2
    y = a ** 2
    y.backward()
    read = [a.grad, y.grad]
    a.backward()
    read += [a.grad, float(x.grad.data)]
    print(read)
    """
    _, plain = run_cell(ip, body)
    captured, (widget,) = autodiff(ip, body)
    assert captured.stdout == plain.stdout == "[None, None, None, 36.0]\n"
    # Afterwards: y kept its seed, a the grad y's pass gave it (2a = 8, where a's own pass, a
    # root, only seeded it), x its sum as a leaf.
    assert grad_value(ip, "a") == 8.0 and grad_value(ip, "y") == 1.0 and grad_value(ip, "x") == 36.0
    assert grad_of(widget, "a") == "8.0" and grad_of(widget, "x") == "36.0"


def test_backward_twice_in_one_cell_adds_the_intermediate_grads_up(ip):
    captured, (widget,) = autodiff(
        ip,
        """
        x = Variable(np.array(3.0))
        inner = add(x, x)
        y = add(inner, x)
        y.backward()
        y.backward()
        print(inner.grad, y.grad)
        """,
    )
    assert captured.stdout == "None None\n"  # as in a plain cell
    assert grad_value(ip, "x") == 6.0 and grad_value(ip, "inner") == 2.0 and grad_value(ip, "y") == 1.0
    assert grad_of(widget, "inner") == "2.0"


def test_a_replay_adds_up_to_the_grads_shown_when_a_later_backward_keeps_its_grads(ip):
    _, (widget,) = autodiff(
        ip,
        "x = Variable(np.array(3.0))\ni = add(x, x)\ny = add(i, x)\ny.backward()\ny.backward(retain_grad=True)",
    )
    assert grad_of(widget, "i") == "2.0" and grad_of(widget, "x") == "6.0"
    labels = {node["id"]: node["label"] for node in variables(widget)}
    totals = {
        labels[key]: entry["terms"][-1]["total"]["preview"]
        for key, entry in widget.replay["variables"].items()
    }
    befores = {
        labels[key]: entry["before"] and entry["before"]["preview"]
        for key, entry in widget.replay["variables"].items()
    }
    # The second pass starts from what the first left (i: 1.0, as retain_grad would have kept it).
    assert befores["i"] == "1.0" and totals["i"] == "2.0"
    assert befores["x"] == "3.0" and totals["x"] == "6.0"


def test_only_the_drawn_step_of_a_loop_gets_intermediate_grads(ip):
    _, (widget,) = autodiff(
        ip,
        """
        import dezero_widget.functions as F
        w = Variable(np.array([1.0, 2.0]), name="w")
        steps = []
        for step in range(3):
            h = w * (step + 1.0)
            loss = F.sum(h * h)
            steps.append(h)
            w.cleargrad()
            loss.backward()
        """,
    )
    steps = ip.user_ns["steps"]
    assert steps[0].grad is None and steps[1].grad is None  # earlier steps: as in a plain cell
    assert steps[2].grad.data.tolist() == [6.0, 12.0]  # d(sum h^2)/dh = 2h, h = 3w
    assert grad_value(ip, "loss") == 1.0
    assert grad_of(widget, "h") == "[6., 12.]"


def test_a_live_update_lends_the_grads_it_draws_and_takes_them_back(ip, every_step_shown):
    autodiff(
        ip,
        """
        W = Variable(np.array(3.0), name="W")
        seen = []
        for step in range(5):
            h = W * 2.0
            loss = h * h
            W.cleargrad()
            loss.backward()
            drawn = {node["label"]: node["grad"] for node in w.snapshot["nodes"] if node["kind"] == "variable"}
            seen.append((h.grad, drawn["h"]["preview"]))
            W.data = W.data - 0.01 * W.grad.data
        """,
        line="-o w",
    )
    seen = ip.user_ns["seen"]
    # Each step was drawn with h's grad (2h), and the loop read None, as in a plain cell.
    assert all(read is None for read, _ in seen)
    assert seen[0][1] == "12.0"
    assert len({shown for _, shown in seen}) == 5  # each step's own grad


def test_lent_grads_are_taken_back_when_a_live_update_fails(every_step_shown):
    seen = []

    def failing_show(watch):
        seen.append(float(hidden.grad.data))  # lent while it draws
        raise RuntimeError("the drawing failed")

    watch = watch_module.CellWatch(keep=100, show_step=failing_show)
    x = Variable(np.array(2.0))
    with core.watching(on_backward=watch.on_backward, record=100):
        hidden = F.exp(x)
        (hidden * 3.0).backward()  # the learner's backward() does not fail with the drawing
    assert seen == [3.0] and hidden.grad is None and float(x.grad.data) == pytest.approx(3 * np.exp(2.0))
    watch.close()
    assert float(hidden.grad.data) == 3.0


def test_only_live_updates_draw_while_the_cell_runs_and_later_cells_update_the_widget(ip, every_step_shown):
    _, (widget,) = autodiff(
        ip,
        """
        from dezero_widget import GraphWidget
        W = Variable(np.array(3.0), name="W")
        listened = []
        for step in range(3):
            loss = W * W
            W.cleargrad()
            loss.backward()
            listened.append(w in GraphWidget.live.widgets)
        """,
        line="-o w",
    )
    assert ip.user_ns["listened"] == [False, False, False]  # the grad listener would redraw it
    assert widget in GraphWidget.live.widgets
    run_cell(ip, "W.cleargrad()")
    assert grad_of(widget, "W") is None


def test_no_retain_grad_frees_intermediate_grads_as_dezero_does(ip):
    _, (widget,) = autodiff(ip, SEED_CELL, line="--no-retain-grad")
    assert grad_of(widget, "x") == "3.0"
    assert grad_of(widget, "") is None
    assert grad_of(widget, "y") is None


def test_no_display_with_output_stores_without_displaying(ip):
    captured, shown = autodiff(ip, "x = Variable(np.array(1.0))\ny = add(x, x)", line="--no-display -o w")
    assert shown == [] and captured.outputs == []
    assert isinstance(ip.user_ns["w"], GraphWidget)
    assert len(functions(ip.user_ns["w"])) == 1


def test_line_magic_shows_existing_variables(ip):
    run_cell(ip, "x = Variable(np.array(3.0))\ny = add(x, x)\nz = mul(x, x)")
    with capture_output() as captured:
        ip.run_line_magic("autodiff", "y z")
    (widget,) = displayed_widgets(captured)
    assert sorted(node["label"] for node in variables(widget)) == ["x", "y", "z"]
    assert sorted(node["op"] for node in functions(widget)) == ["Add", "Mul"]


def test_line_magic_with_backward(ip):
    run_cell(ip, "x = Variable(np.array(3.0))\ny = mul(x, x)")
    with capture_output() as captured:
        ip.run_line_magic("autodiff", "-b y y")
    (widget,) = displayed_widgets(captured)
    assert grad_of(widget, "x") == "6.0"


def test_help_lists_every_option(ip):
    help_text = AutodiffMagics.autodiff.__doc__
    assert "%%autodiff [-b NAME]" in help_text
    for option in (
        "--backward",
        "--output",
        "--max-nodes",
        "--direction",
        "--no-retain-grad",
        "--no-display",
    ):
        assert option in help_text


# ------------------------------------------------------------------ errors


def test_unknown_option_is_a_one_line_usage_error(ip):
    with pytest.raises(UsageError) as raised:
        autodiff(ip, "x = Variable(np.array(1.0))", line="--frobnicate")
    assert (
        str(raised.value) == "autodiff: unrecognized arguments: --frobnicate (%%autodiff? lists the options)"
    )
    assert "x" not in ip.user_ns  # the cell did not run
    result, captured = run_cell(ip, "%%autodiff --frobnicate\nx = 1")
    assert isinstance(result.error_in_exec, UsageError)
    assert "Traceback" not in captured.stdout + captured.stderr
    assert captured.stderr.strip().count("\n") == 0  # one line, as the README says
    assert "UsageError: autodiff: unrecognized arguments: --frobnicate" in captured.stderr


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("--direction XY", "invalid choice: 'XY'"),
        ("--max-nodes many", "invalid int value: 'many'"),
        ("--max-nodes 0", "--max-nodes must be at least 1, got 0"),
        ("-o 2w", "-o needs a Python name, got '2w'"),
        ("-b class", "-b needs a Python name, got 'class'"),
        ("y", "%%autodiff takes no variable names (got y)"),
    ],
)
def test_bad_arguments_are_usage_errors(ip, line, expected):
    with pytest.raises(UsageError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        autodiff(ip, "x = Variable(np.array(1.0))", line=line)


def test_exception_in_the_cell_shows_the_partial_graph_then_a_user_traceback(ip):
    result, captured = run_cell(
        ip,
        """
        %%autodiff
        x = Variable(np.array(3.0))
        y = add(x, x)
        z = 1 / 0
        after = 1
        """,
    )
    assert isinstance(result.error_in_exec, ZeroDivisionError)  # so "Run All" stops
    (widget,) = displayed_widgets(captured)
    assert sorted(node["label"] for node in variables(widget)) == ["x", "y"]
    assert "x" in ip.user_ns and "y" in ip.user_ns and "after" not in ip.user_ns
    traceback = captured.stdout
    # Line numbers are those of the notebook cell, the %%autodiff line included.
    assert "Cell In[" in traceback
    assert "----> 4 z = 1 / 0" in traceback
    assert "ZeroDivisionError: division by zero" in traceback
    assert "magic.py" not in traceback and "run_cell_magic" not in traceback


def test_exception_in_a_function_the_cell_defined_shows_both_user_frames(ip):
    result, captured = run_cell(
        ip,
        """
        %%autodiff
        def f(v):
            return v.missing
        x = Variable(np.array(3.0))
        f(add(x, x))
        """,
    )
    assert isinstance(result.error_in_exec, AttributeError)
    assert "----> 5 f(add(x, x))" in captured.stdout
    assert "----> 3     return v.missing" in captured.stdout
    assert "magic.py" not in captured.stdout
    assert len(displayed_widgets(captured)) == 1


def test_exception_propagates_from_run_cell_magic(ip):
    with pytest.raises(ZeroDivisionError):
        autodiff(ip, "x = Variable(np.array(3.0))\n1 / 0")
    assert "x" in ip.user_ns


def test_syntax_error_runs_nothing_and_shows_the_users_line(ip):
    result, captured = run_cell(ip, "%%autodiff\nx = Variable(np.array(3.0))\ny = add(x,")
    assert isinstance(result.error_in_exec, UsageError)
    assert "x" not in ip.user_ns
    assert "SyntaxError" in captured.stdout and "y = add(x," in captured.stdout
    assert "magic.py" not in captured.stdout + captured.stderr
    assert "%%autodiff did not run the cell: it has a syntax error" in captured.stderr


def test_backward_of_a_missing_name_still_shows_the_graph(ip):
    result, captured = run_cell(ip, "%%autodiff -b nope\nx = Variable(np.array(3.0))\ny = add(x, x)")
    assert isinstance(result.error_in_exec, UsageError)
    assert "-b nope: nope is nothing, not a variable with backward()" in captured.stderr
    assert len(displayed_widgets(captured)) == 1


def test_a_cell_that_builds_no_graph_says_so_in_one_line(ip):
    captured, shown = autodiff(ip, "n = 1 + 2\nprint(n)")
    assert shown == [] and len(captured.outputs) == 0
    assert captured.stdout.splitlines() == [
        "3",
        "%%autodiff: the cell built no graph (it applied no function and bound no variable "
        "to a name); to see existing variables use %autodiff NAME",
    ]


def test_line_magic_errors(ip):
    ip.user_ns["n"] = 3
    with pytest.raises(UsageError, match="needs the names of variables"):
        ip.run_line_magic("autodiff", "")
    with pytest.raises(UsageError, match="%autodiff q: q is not defined, not a variable"):
        ip.run_line_magic("autodiff", "q")
    with pytest.raises(UsageError, match="%autodiff n: n is a int, not a variable"):
        ip.run_line_magic("autodiff", "n")


# ------------------------------------------------------------------ re-runs and memory


def live_graph_widgets():
    gc.collect()
    return [obj for obj in gc.get_objects() if isinstance(obj, GraphWidget)]


def test_rerunning_a_cell_closes_its_earlier_widget_but_not_other_cells(ip):
    first_cell = "%%autodiff\nx = Variable(np.array(1.0))\ny = add(x, x)"
    (first,) = displayed_widgets(run_cell(ip, first_cell)[1])
    (other,) = displayed_widgets(run_cell(ip, "%%autodiff\na = Variable(np.array(1.0))\nb = add(a, a)")[1])
    (again,) = displayed_widgets(run_cell(ip, first_cell)[1])
    assert first.comm is None and first not in GraphWidget.live.widgets
    assert other.comm is not None and again.comm is not None
    first = weakref.ref(first)
    gc.collect()
    assert first() is None  # nothing of the magic's keeps a closed widget (and its graph)


def test_two_line_magics_in_one_cell_both_stay(ip):
    run_cell(ip, "x = Variable(np.array(1.0))\ny = add(x, x)\nz = mul(x, x)")
    for _ in range(2):
        result, captured = run_cell(ip, "%autodiff y\n%autodiff z")
        assert result.success
    assert len(displayed_widgets(captured)) == 2
    assert len(GraphWidget.live.widgets) == 2


def test_100_reruns_of_a_cell_do_not_grow_memory(ip):
    text = """
        %%autodiff
        x = Variable(np.ones(1000))
        y = add(add(x, x), x)
        y.backward()
        """
    # IPython 9 keeps every displayed output (a widget's mimebundle too) in its
    # output history; that is IPython's memory, not the widgets', so clear it.
    outputs_history = getattr(ip.history_manager, "outputs", {})
    tracemalloc.start()
    try:
        for _ in range(5):  # warm caches (linecache, compiled code), and one widget made while traced
            run_cell(ip, text)
        outputs_history.clear()
        gc.collect()
        before = tracemalloc.take_snapshot()  # (each snapshot holds one live widget)
        for _ in range(100):
            result, _ = run_cell(ip, text)
            assert result.success
        outputs_history.clear()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # traitlets builds a fresh "_<trait>_metadata" string for every lookup and
    # CPython's type attribute cache (4,096 entries) keeps those names until
    # their slots are reused: bounded, and not ours, so it is left out.
    traitlets_names = tracemalloc.Filter(False, traitlets.traitlets.__file__)
    growth = sum(
        stat.size_diff
        for stat in after.filter_traces([traitlets_names]).compare_to(
            before.filter_traces([traitlets_names]), "filename"
        )
    )
    # One leaked run holds 6 arrays of 8 kB (100 runs: > 4.8 MB); even a leaked
    # ipywidgets Layout per widget (1.5 kB) would exceed this bound.
    assert growth < 100_000, growth
    assert len(GraphWidget.live.widgets) == 1
    assert len([widget for widget in live_graph_widgets() if widget.comm is not None]) == 1


# ------------------------------------------------------------------ unload


def test_unload_removes_the_magics_and_every_hook():
    shell = globalipapp.get_ipython()
    callbacks_before = {event: list(found) for event, found in shell.events.callbacks.items()}
    shell.run_line_magic("load_ext", "dezero_widget")
    shell.run_cell(ENGINE_IMPORTS, store_history=False)
    with capture_output():
        shell.run_cell("%%autodiff -o w\nx = Variable(np.array(1.0))\ny = add(x, x)")
    widget = shell.user_ns["w"]
    assert shell.find_cell_magic("autodiff") is not None
    shell.run_line_magic("unload_ext", "dezero_widget")

    assert shell.find_cell_magic("autodiff") is None
    assert shell.find_line_magic("autodiff") is None
    assert AutodiffMagics.__name__ not in shell.magics_manager.registry
    assert widget.comm is None  # its widgets stop listening
    for event, found in shell.events.callbacks.items():
        assert found == callbacks_before[event], event
    with capture_output() as captured:
        result = shell.run_cell("%%autodiff\nz = 1", store_history=False)
    assert isinstance(result.error_in_exec, UsageError)
    assert "Cell magic `%%autodiff` not found" in captured.stderr
    shell.run_line_magic("reset", "-f")


def test_reload_ext_keeps_one_set_of_hooks():
    shell = globalipapp.get_ipython()
    shell.run_line_magic("load_ext", "dezero_widget")
    try:
        shell.run_line_magic("reload_ext", "dezero_widget")
        ours = [
            callback
            for callback in shell.events.callbacks["pre_run_cell"]
            if isinstance(getattr(callback, "__self__", None), AutodiffMagics)
        ]
        assert len(ours) == 1
    finally:
        shell.run_line_magic("unload_ext", "dezero_widget")


def test_a_training_loop_shows_one_step_and_the_history_of_its_loss(ip):
    captured, (widget,) = autodiff(
        ip,
        """
        import weakref
        import dezero_widget.functions as F
        W = Variable(np.ones((50, 50)), name="W")
        first_steps = []
        for step in range(200):
            loss = F.sum(F.matmul(Variable(np.ones((4, 50))), W)) / (step + 1)
            if step < 3:
                first_steps.append(weakref.ref(loss))
            W.cleargrad()
            loss.backward()
        """,
    )
    # The first steps' graphs were let go while the cell ran (nothing else holds them) ...
    assert all(ref() is None for ref in ip.user_ns["first_steps"])
    # ... and the drawing is the last step alone: W once, one MatMul, not a pile of 200.
    assert sorted(node["op"] for node in functions(widget)) == ["Div", "MatMul", "Sum"]
    assert [node["label"] for node in variables(widget)].count("W") == 1
    assert widget.snapshot["truncated"] is False and captured.stdout == ""
    (w_node,) = [node for node in variables(widget) if node["label"] == "W"]
    assert w_node["grad"]["max"] == pytest.approx(4.0 / 200)  # the last step's gradient: 4 rows / 200
    # The loss of every step, downsampled to at most HISTORY_POINTS, the newest last.
    history = widget.history
    assert (history["label"], history["total"]) == ("loss", 200)
    assert len(history["values"]) == len(history["steps"]) == min(200, HISTORY_POINTS)
    assert history["steps"][0] == 1 and history["steps"][-1] == 200
    assert history["values"][0] == 200.0 * 50 and history["values"][-1] == pytest.approx(200.0 * 50 / 200)


def test_a_loss_history_keeps_every_value_and_charts_an_even_sample_with_gaps_for_non_finite():
    history = LossHistory()
    for step in range(1000):
        history.add(Variable(np.array(np.nan if step == 999 else 1000.0 - step)))
    chart = history.as_dict(points=200)
    assert chart["total"] == 1000 and len(chart["values"]) == len(chart["steps"]) == 200
    assert chart["steps"][:3] == [1, 6, 11] and chart["steps"][-1] == 1000  # the newest always
    assert chart["values"][:2] == [1000.0, 995.0] and chart["values"][-1] is None  # NaN: a gap
    history.add(Variable(np.array(0.5)))  # charting lets the history grow on
    assert history.as_dict(points=2) == {
        "label": "",
        "values": [1000.0, 0.5],
        "steps": [1, 1001],
        "total": 1001,
    }


def test_a_cells_widget_opens_with_its_history_and_replay_in_one_message(ip, monkeypatch):
    sent_after_opening = calls_to(monkeypatch, GraphWidget, "send_state")
    _, (widget,) = autodiff(
        ip,
        """
        x = Variable(np.array(2.0), name="x")
        for step in range(3):
            y = x * x
            x.cleargrad()
            y.backward()
        """,
    )
    assert sent_after_opening == []  # the front end draws the whole widget at once
    assert widget.history["total"] == 3 and widget.history["values"] == [4.0, 4.0, 4.0]
    (step,) = widget.replay["steps"]
    assert step["gxs"][0]["preview"] == step["gxs"][1]["preview"] == "2.0"  # one term per use of x
    assert grad_of(widget, "x") == "4.0"


def test_different_computations_in_one_cell_are_all_shown(ip):
    _, (widget,) = autodiff(
        ip, "x = Variable(np.array(2.0))\na = add(x, x)\na.backward()\nb = add(add(x, x), x)\nb.backward()"
    )
    assert len(functions(widget)) == 3 and len(widget.snapshot["outputs"]) == 2
    assert widget.history["total"] == 1  # b's own history: one value, nothing to chart


def test_the_widget_follows_a_training_loop_while_it_runs(ip, every_step_shown):
    autodiff(
        ip,
        """
        W = Variable(np.array(3.0), name="W")
        seen = []
        for step in range(20):
            loss = W * W
            W.cleargrad()
            loss.backward()
            seen.append((w.history["total"], w.snapshot["nodes"][0]["data"]["preview"]))
            W.data = W.data - 0.1 * W.grad.data
        """,
        line="-o w",
    )
    seen = ip.user_ns["seen"]
    # Shown from the first backward() on, one update per step, each with that step's loss.
    assert [total for total, _ in seen] == list(range(1, 21))
    assert seen[0][1] == "9.0" and seen[1][1] == str(float(np.float64(3.0 - 0.1 * 6.0) ** 2))


def test_the_step_a_live_update_drew_is_refreshed_not_traced_again_after_the_cell(
    ip, monkeypatch, every_step_shown
):
    traced = calls_to(monkeypatch, magic_module, "trace")
    _, (widget,) = autodiff(
        ip,
        """
        W = Variable(np.array(3.0), name="W")
        for step in range(5):
            loss = W * W
            W.cleargrad()
            loss.backward()
            W.data = W.data - 0.1 * W.grad.data
        """,
    )
    assert len(traced) == 5  # one per step's new graph, none for the same step after the cell
    W = next(node for node in widget.snapshot["nodes"] if node.get("label") == "W")
    assert W["data"]["preview"] == str(ip.user_ns["W"].data.item())  # the update after the last step


def test_functions_after_the_first_backward_cost_no_bookkeeping(ip, monkeypatch):
    applied = calls_to(monkeypatch, watch_module.CellWatch, "on_apply")
    autodiff(ip, "W = Variable(np.array(3.0))\nfor step in range(50):\n    (W * W).backward()")
    assert len(applied) == 1  # the first step's Mul; the engine stops reporting after its backward()


def test_live_updates_are_throttled(ip, monkeypatch):
    shown = calls_to(monkeypatch, GraphWidget, "show_graph")
    started = time.perf_counter()
    _, (widget,) = autodiff(
        ip,
        """
        W = Variable(np.array(3.0), name="W")
        for step in range(3000):
            loss = W * W
            loss.backward()
        """,
    )
    elapsed = time.perf_counter() - started
    assert widget.history["total"] == 3000
    assert len(shown) <= elapsed / watch_module.LIVE_MIN_INTERVAL + 2


def test_arrays_named_in_the_notebook_label_the_variables_that_wrap_them(ip):
    _, (widget,) = autodiff(
        ip,
        """
        import dezero_widget.functions as F
        x_data = np.ones((5, 2))
        W = Variable(np.ones((2, 1)), name="W")
        loss = F.sum(F.matmul(x_data, W))
        loss.backward()
        """,
    )
    labels = sorted(node["label"] for node in variables(widget))
    assert labels == ["", "W", "loss", "x_data"]  # the MatMul's unnamed output stays unlabelled


def test_an_interrupted_cell_shows_its_newest_nodes_at_once(ip, monkeypatch):
    """After a KeyboardInterrupt the magic draws what fits its node budget, reading no more of
    the graph than that (counted, not timed), then lets the interrupt through."""
    expanded = calls_to(monkeypatch, reader, "inputs_of")
    with capture_output() as captured, pytest.raises(KeyboardInterrupt):
        ip.run_cell_magic(
            "autodiff",
            "--max-nodes 100",
            "x = Variable(np.array(0.5))\ny = x\nfor _ in range(50_000):\n    y = add(y, x)\nraise KeyboardInterrupt",
        )
    (widget,) = displayed_widgets(captured)
    assert len(widget.snapshot["nodes"]) == 100 and widget.snapshot["omittedAtLeast"] is True
    assert len(expanded) <= 2 * (100 + 1000)


def test_settings_the_cell_changes_stay_changed_as_in_a_normal_cell(ip):
    try:
        autodiff(
            ip,
            "from dezero_widget import Config, no_grad\nConfig.train = False\nleft_open = no_grad()\nleft_open.__enter__()",
        )
        run_cell(ip, "after = (Config.train, Config.enable_backprop)")
        assert ip.user_ns["after"] == (False, False)  # the cell's changes kept
        run_cell(ip, "del left_open")  # the open context closes: its setting goes back ...
        assert core._watchers == core.Watchers()  # ... and no watcher of the magic comes back
    finally:
        run_cell(ip, "Config.train = True\nConfig.enable_backprop = True")


def test_top_level_await_is_refused_in_one_line_that_says_what_to_do(ip):
    result, captured = run_cell(
        ip, "%%autodiff\nimport asyncio\nx = Variable(np.array(1.0))\nawait asyncio.sleep(0)"
    )
    assert isinstance(result.error_in_exec, UsageError)
    assert "%%autodiff does not run async code (top-level await)" in captured.stderr
    assert "%autodiff NAME" in captured.stderr and "syntax error" not in captured.stderr
    assert "x" not in ip.user_ns


def test_a_traceback_names_the_cell_by_its_prompt_number(ip):
    number = ip.execution_count  # the prompt the cell gets
    with capture_output() as captured:
        result = ip.run_cell("%%autodiff\nx = Variable(np.array(1.0))\n1 / 0", store_history=True)
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert result.execution_count == number
    assert f"Cell In[{number}], line 3" in re.sub(r"\x1b\[[0-9;]*m", "", captured.stdout)


def test_a_cell_that_fails_again_and_again_keeps_one_widget(ip):
    for _ in range(20):
        result, _ = run_cell(ip, "%%autodiff\nx = Variable(np.array(3.0))\ny = add(x, x)\n1 / 0")
        assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert len(GraphWidget.live.widgets) == 1
    run_cell(ip, "%unload_ext dezero_widget")
    assert GraphWidget.live.widgets == []  # unloading closed it, and with it the hooks
    assert GraphWidget.live._after_cell not in ip.events.callbacks["post_run_cell"]
    run_cell(ip, "%load_ext dezero_widget")


def test_cells_known_only_by_their_text_keep_a_bounded_number_of_widgets(ip):
    for edit in range(30):  # plain IPython: each edited re-run is a new text
        run_cell(ip, f"%%autodiff\nx = Variable(np.array({edit}.0))\ny = add(x, x)\ny.backward()")
    assert len(GraphWidget.live.widgets) == magic_module._MAX_TEXT_KEYED_CELLS


def test_with_cell_ids_a_fixed_cell_replaces_its_failed_runs(ip):
    with capture_output():
        for text in ("x = Variable(np.array(3.0))\n1 / 0", "x = Variable(np.array(3.0))\nx"):
            ip.run_cell(f"%%autodiff\n{text}", store_history=False, cell_id="cell-7")
    assert len(GraphWidget.live.widgets) == 1
