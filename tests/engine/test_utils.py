"""dezero_widget.utils: numerical gradients, gradient_check, array helpers, DOT export."""

import re
import sys
import textwrap

import numpy as np
import pytest

import dezero_widget.functions as F
from dezero_widget import Variable, core, utils
from tests.fixtures import learner_classes as learner

RNG = np.random.default_rng(7)

VARIABLE_LINE = re.compile(r'^(\d+) \[label="(.*)", color=orange, style=filled\]$')
FUNCTION_LINE = re.compile(r'^(\d+) \[label="(.*)", shape=box, style=filled, fillcolor=lightblue\]$')
EDGE_LINE = re.compile(r"^(\d+) -> (\d+)$")


def parse_dot(text):
    """(variable labels by id, function labels by id, edge list); fails on any other line."""
    lines = text.strip().splitlines()
    assert lines[0] == "digraph g {" and lines[-1] == "}"
    variables, functions, edges = {}, {}, []
    for line in lines[1:-1]:
        if m := VARIABLE_LINE.match(line):
            assert m[1] not in variables, f"variable node {m[1]} written twice"
            variables[m[1]] = m[2]
        elif m := FUNCTION_LINE.match(line):
            assert m[1] not in functions, f"function node {m[1]} written twice"
            functions[m[1]] = m[2]
        elif m := EDGE_LINE.match(line):
            edges.append((m[1], m[2]))
        else:
            raise AssertionError(f"unexpected DOT line: {line!r}")
    return variables, functions, edges


# ---------------------------------------------------------------- numerical_grad / gradient_check


def test_numerical_grad_is_accurate_to_central_difference_error():
    x = RNG.uniform(-2, 2, size=(3, 4))
    grad = utils.numerical_grad(F.sin, x)
    np.testing.assert_allclose(grad, np.cos(x), atol=1e-8)  # error ~ eps^2/6 = 2e-9


def test_numerical_grad_of_a_multi_input_function_sums_the_output():
    x, w = RNG.uniform(size=(2, 3)), RNG.uniform(size=(3, 4))
    grad = utils.numerical_grad(F.matmul, x, w)
    np.testing.assert_allclose(grad, np.ones((2, 4)) @ w.T, atol=1e-8)


def test_numerical_grad_does_not_write_to_its_input():
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    before = x.copy()
    grad = utils.numerical_grad(lambda a: a**2, x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-6)


def test_gradient_check_passes_for_a_correct_gradient_and_leaves_its_input_untouched():
    data = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    x = Variable(data.copy())
    other = Variable(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert utils.gradient_check(lambda a, b: F.tanh(a) * b, x, other)
    assert x.data.dtype == np.float32
    np.testing.assert_array_equal(x.data, data)
    assert x.grad is None and other.grad is None


def test_gradient_check_fails_for_a_wrong_gradient(capsys):
    class WrongSquare(core.Function):
        def forward(self, x):
            return x**2

        def backward(self, gy):
            return gy * self.inputs[0]  # should be 2x

    assert not utils.gradient_check(lambda a: WrongSquare()(a), np.array([1.0, 2.0]))
    assert "gradient_check failed" in capsys.readouterr().out


def test_sum_to_is_the_array_version():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(utils.sum_to(x, (3, 1)), x.sum(axis=(0, 2)).reshape(3, 1))
    np.testing.assert_array_equal(utils.sum_to(x, (1, 4)), x.sum(axis=(0, 1)).reshape(1, 4))


def test_reshape_sum_backward_restores_reduced_axes():
    gy = np.arange(3.0)
    assert utils.reshape_sum_backward(gy, (2, 3, 4), (0, -1), False).shape == (1, 3, 1)
    assert utils.reshape_sum_backward(np.array(1.0), (2, 3), None, False).shape == (1, 1)
    assert utils.reshape_sum_backward(gy.reshape(1, 3), (2, 3), 0, True).shape == (1, 3)


def test_logsumexp_is_stable():
    x = np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]])
    np.testing.assert_allclose(utils.logsumexp(x, axis=1), [[1000 + np.log(2)], [np.log(4)]])


# ---------------------------------------------------------------- get_dot_graph


def test_dot_graph_nodes_labels_and_edges():
    x = Variable(np.ones((2, 3)), name="x")
    w = Variable(np.ones((3,), dtype=np.float32), name="w")
    y = x * w
    y.name = "y"
    variables, functions, edges = parse_dot(utils.get_dot_graph(y))
    assert sorted(variables.values()) == ["w: (3,) float32", "x: (2, 3) float64", "y: (2, 3) float64"]
    assert list(functions.values()) == ["Mul"]
    (mul_id,) = functions
    ids = {label.split(":")[0]: node for node, label in variables.items()}
    assert sorted(edges) == sorted([(ids["x"], mul_id), (ids["w"], mul_id), (mul_id, ids["y"])])
    assert ids["x"] == str(id(x)) and mul_id == str(id(y.creator))


def test_dot_graph_unnamed_and_non_verbose_labels():
    x = Variable(np.array(2.0))
    y = F.exp(x)
    variables, _, _ = parse_dot(utils.get_dot_graph(y))
    assert sorted(variables.values()) == ["() float64", "() float64"]
    variables, _, _ = parse_dot(utils.get_dot_graph(y, verbose=False))
    assert list(variables.values()) == ["", ""]


def test_dot_graph_writes_each_node_once_for_a_diamond_and_a_reused_variable():
    x = Variable(np.array(1.0), name="x")
    a = F.sin(x)
    left, right = F.exp(a), F.cos(a)  # a feeds two functions
    y = left + right + x  # and x is used twice (sin and the last add)
    variables, functions, edges = parse_dot(utils.get_dot_graph(y))
    assert len(variables) == 6  # x, a, left, right, left+right, y
    assert sorted(functions.values()) == ["Add", "Add", "Cos", "Exp", "Sin"]
    assert edges.count((str(id(x)), str(id(a.creator)))) == 1
    assert len(edges) == len(set(edges)) == 12  # 2 per Sin, Exp, Cos; 3 per Add


def test_dot_graph_keeps_both_edges_when_a_function_takes_one_variable_twice():
    x = Variable(np.array(1.0), name="x")
    y = x + x
    variables, functions, edges = parse_dot(utils.get_dot_graph(y))
    assert len(variables) == 2 and len(functions) == 1
    assert edges.count((str(id(x)), str(id(y.creator)))) == 2


def test_dot_graph_escapes_labels_from_user_code():
    x = Variable(np.array(1.0), name='a "quoted" \\ name\nnext line')
    y = F.sin(x)
    text = utils.get_dot_graph(y, verbose=False)
    assert 'label="a \\"quoted\\" \\\\ name\\nnext line"' in text
    variables, _, _ = parse_dot(text)  # every line still parses: nothing leaked out of the quotes
    assert len(variables) == 2


def learner_graph(step):
    """(x, y, variable count, function ops, edge count) of a small graph in the book's step style."""
    if step == 7:
        x = learner.Step7Variable(np.array(0.5))
        return x, learner.step7_exp(learner.step7_square(x)), 3, ["Step7Exp", "Step7Square"], 4
    if step == 14:
        x = learner.Step14Variable(np.array(3.0))
        return x, learner.step14_add(learner.step14_add(x, x), x), 3, ["Step14Add", "Step14Add"], 6
    if step == 18:
        x = learner.Step18Variable(np.array(2.0), name="x")
        a, b = learner.step18_split(x)
        return (
            x,
            learner.step18_add(learner.step18_square(a), b),
            5,
            ["Step18Add", "Step18Split", "Step18Square"],
            8,
        )
    x = learner.Step33Variable(np.array(2.0), name="x")
    return x, x * x + x, 3, ["Step33Add", "Step33Mul"], 6


@pytest.mark.parametrize("step", [7, 14, 18, 33])
def test_dot_graph_of_learner_classes_of_every_step(step):
    """The DOT export reads graphs through the same protocol reader as the widget, so a
    learner's own classes (no name, step 7's single input/output, weakref outputs) export too."""
    x, y, n_variables, ops, n_edges = learner_graph(step)
    variables, functions, edges = parse_dot(utils.get_dot_graph(y))
    assert (len(variables), sorted(functions.values()), len(edges)) == (n_variables, ops, n_edges)
    assert variables[str(id(x))] == ("x: () float64" if step in (18, 33) else "() float64")
    assert {node for edge in edges for node in edge} <= set(variables) | set(functions)


def test_dot_graph_of_a_100000_step_chain_at_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = Variable(np.array(0.5), name="x")
    y = x
    for _ in range(100_000):
        y = F.neg(y)
    text = utils.get_dot_graph(y, verbose=False)
    assert text.count("style=filled, fillcolor=lightblue") == 100_000
    assert text.count("color=orange") == 100_001
    assert text.count(" -> ") == 200_000


# ---------------------------------------------------------------- plot_dot_graph


def test_plot_dot_graph_without_graphviz_raises_a_clear_error_after_writing_the_dot_file(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(utils.shutil, "which", lambda name: None)
    x = Variable(np.array(1.0), name="x")
    y = F.sin(x)
    target = tmp_path / "graph.png"
    with pytest.raises(RuntimeError) as error:
        utils.plot_dot_graph(y, to_file=str(target))
    message = str(error.value)
    assert "Graphviz" in message and "`dot`" in message and "not installed" in message
    assert str(tmp_path / "graph.dot") in message
    assert (tmp_path / "graph.dot").read_text() == utils.get_dot_graph(y)
    assert not target.exists()


def test_plot_dot_graph_to_a_dot_file_only_writes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(utils.shutil, "which", lambda name: pytest.fail("no rendering was asked for"))
    y = F.exp(Variable(np.ones(2), name="x"))
    path = utils.plot_dot_graph(y, verbose=False, to_file=str(tmp_path / "g.dot"))
    assert path == str(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == utils.get_dot_graph(y, verbose=False)


def test_plot_dot_graph_runs_dot_with_the_written_file(tmp_path, monkeypatch):
    """A stand-in `dot` records its arguments and writes the picture, as Graphviz would."""
    fake_dot = tmp_path / "dot"
    fake_dot.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import sys, pathlib
            args = sys.argv[1:]
            pathlib.Path(args[args.index("-o") + 1]).write_bytes(b"PNG:" + pathlib.Path(args[0]).read_bytes())
            pathlib.Path({str(tmp_path / "args.txt")!r}).write_text(" ".join(args))
            """
        )
    )
    fake_dot.chmod(0o755)
    monkeypatch.setattr(utils.shutil, "which", lambda name: str(fake_dot) if name == "dot" else None)
    y = F.exp(Variable(np.ones(2), name="x"))
    utils.plot_dot_graph(y, to_file=str(tmp_path / "out.png"))
    dot_file = tmp_path / "out.dot"
    assert (tmp_path / "args.txt").read_text() == f"{dot_file} -T png -o {tmp_path / 'out.png'}"
    assert (tmp_path / "out.png").read_bytes() == b"PNG:" + dot_file.read_bytes()
