"""Property-based tests of the engine: random graphs of the differentiable functions, with
broadcasting and reuse, against numerical gradients (and PyTorch where it is installed)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dezero_widget.functions as F
from dezero_widget import Variable
from dezero_widget.utils import numerical_grad

# (name, arity, function): smooth on the values drawn below, so central differences are exact enough.
UNARY = [
    ("sin", F.sin),
    ("cos", F.cos),
    ("tanh", F.tanh),
    ("exp", lambda x: F.exp(x * 0.3)),
    ("sigmoid", F.sigmoid),
    ("square", lambda x: x**2),
    ("neg", F.neg),
]
BINARY = [("add", F.add), ("sub", F.sub), ("mul", F.mul), ("div", lambda a, b: a / (b * b + 1.0))]
SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1)]


@st.composite
def programs(draw):
    """A straight-line program over 2 inputs of broadcast-compatible shapes: each step applies
    a unary or binary op to earlier values (so values are reused, as x in x + x + x)."""
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(2)]
    steps = []
    for index in range(draw(st.integers(1, 8))):
        available = 2 + index
        if draw(st.booleans()):
            steps.append(
                ("unary", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, available - 1)), None)
            )
        else:
            steps.append(
                (
                    "binary",
                    draw(st.integers(0, len(BINARY) - 1)),
                    draw(st.integers(0, available - 1)),
                    draw(st.integers(0, available - 1)),
                )
            )
    values = [
        draw(st.lists(st.floats(-1.5, 1.5), min_size=int(np.prod(s)), max_size=int(np.prod(s))))
        for s in shapes
    ]
    return shapes, steps, [np.array(v, dtype=np.float64).reshape(s) for v, s in zip(values, shapes)]


def run(steps, inputs):
    values = list(inputs)
    for kind, op, a, b in steps:
        values.append(UNARY[op][1](values[a]) if kind == "unary" else BINARY[op][1](values[a], values[b]))
    out = values[-1]
    return F.sum(out) if isinstance(out, Variable) else np.sum(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_graphs_match_numerical_gradients_on_both_backward_paths(program):
    _, steps, arrays = program
    for create_graph in (False, True):
        inputs = [Variable(a.copy()) for a in arrays]
        run(steps, inputs).backward(create_graph=create_graph)
        for i, x in enumerate(inputs):
            expected = numerical_grad(
                lambda a, i=i: run(steps, [Variable(b) for b in [*arrays[:i], a, *arrays[i + 1 :]]]),
                arrays[i],
            )
            got = np.zeros_like(arrays[i]) if x.grad is None else x.grad.data
            assert got.shape == arrays[i].shape
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(programs())
def test_random_graphs_match_pytorch(program):
    torch = pytest.importorskip("torch")
    _, steps, arrays = program
    inputs = [Variable(a.copy()) for a in arrays]
    run(steps, inputs).backward()
    torch_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    values = list(torch_inputs)
    torch_unary = {
        "sin": torch.sin,
        "cos": torch.cos,
        "tanh": torch.tanh,
        "exp": lambda x: torch.exp(x * 0.3),
        "sigmoid": torch.sigmoid,
        "square": lambda x: x**2,
        "neg": torch.neg,
    }
    torch_binary = {
        "add": torch.add,
        "sub": torch.sub,
        "mul": torch.mul,
        "div": lambda a, b: a / (b * b + 1.0),
    }
    for kind, op, a, b in steps:
        values.append(
            torch_unary[UNARY[op][0]](values[a])
            if kind == "unary"
            else torch_binary[BINARY[op][0]](values[a], values[b])
        )
    values[-1].sum().backward()
    for ours, theirs in zip(inputs, torch_inputs):
        expected = np.zeros_like(theirs.detach().numpy()) if theirs.grad is None else theirs.grad.numpy()
        got = np.zeros_like(expected) if ours.grad is None else ours.grad.data
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
