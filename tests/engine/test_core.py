"""The engine's core: the seed's accumulation rules, backward order and modes, config, errors."""

import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import dezero_widget as dezero
from dezero_widget import core
from dezero_widget.core import (
    Config,
    Function,
    Parameter,
    Variable,
    add,
    as_array,
    as_variable,
    mul,
    no_grad,
    unwatch_grads,
    using_config,
    watch_grads,
    watching,
)
from dezero_widget.core import (
    test_mode as in_test_mode,
)


def scalar(v):
    return float(v.data) if isinstance(v, Variable) else float(v)


class Square(Function):
    """A custom function written the DeZero way: no backward_data, Variable-level backward."""

    def forward(self, x):
        return x**2

    def backward(self, gy):
        (x,) = self.inputs
        return 2 * x * gy


class Split(Function):
    """Two outputs: (x, 3x). A dropped output's gradient arrives as None."""

    def forward(self, x):
        return x.copy(), 3 * x

    def backward(self, gy0, gy1):
        return 3 * gy1 if gy0 is None else gy0 + 3 * gy1


# -- the seed (step 14) ------------------------------------------------------


def test_seed_variable_used_three_times_gets_three():
    x = Variable(np.array(3.0))
    y = add(add(x, x), x)
    y.backward()
    assert scalar(x.grad) == 3.0


def test_seed_reuse_without_cleargrad_accumulates():
    x = Variable(np.array(3.0))
    y = add(x, x)
    y.backward()
    assert scalar(x.grad) == 2.0
    y = add(add(x, x), x)
    y.backward()
    assert scalar(x.grad) == 5.0


def test_seed_cleargrad_resets():
    x = Variable(np.array(3.0))
    y = add(x, x)
    y.backward()
    x.cleargrad()
    assert x.grad is None
    y = add(add(x, x), x)
    y.backward()
    assert scalar(x.grad) == 3.0


def test_backward_again_accumulates_once_more():
    x = Variable(np.array(3.0))
    y = add(add(x, x), x)
    y.backward()
    y.backward()
    assert scalar(x.grad) == 6.0


def test_backward_again_with_retained_grads_is_still_exact():
    # DeZero propagates through .grad itself, so this gives x.grad = 8 there.
    x = Variable(np.array(3.0))
    t = add(x, x)
    y = add(t, x)
    y.backward(retain_grad=True)
    y.backward(retain_grad=True)
    assert scalar(x.grad) == 6.0
    assert scalar(t.grad) == 2.0
    assert scalar(y.grad) == 1.0


def test_accumulation_never_writes_into_a_shared_array():
    x0 = Variable(np.array([1.0, 2.0]))
    x1 = Variable(np.array([3.0, 4.0]))
    y = x0 + x1  # Add hands the same gradient to both inputs
    y.backward()
    shared_before = x1.grad.data.copy()
    z = x0 * 2.0
    z.backward()
    np.testing.assert_array_equal(x0.grad.data, [3.0, 3.0])
    np.testing.assert_array_equal(x1.grad.data, shared_before)


# -- graph shapes --------------------------------------------------------------


def test_diamond_graph_visits_each_function_once():
    calls = []

    class Counted(Square):
        def backward(self, gy):
            calls.append(self)
            return super().backward(gy)

    x = Variable(np.array(2.0))
    a = Counted()(x)  # 4
    y = add(Counted()(a), Counted()(a))  # 2 * x**4
    y.backward()
    assert scalar(y) == 32.0
    assert scalar(x.grad) == 64.0  # d(2x^4) = 8x^3
    assert len(calls) == 3


def test_generations_order_a_long_side_branch():
    x = Variable(np.array(1.5))
    long = x
    for _ in range(5):
        long = long * 1.0
    y = long * x  # x**2 through a long and a short path
    y.backward()
    assert scalar(x.grad) == pytest.approx(3.0)


def test_backward_on_a_leaf_seeds_ones():
    x = Variable(np.ones((2, 3)))
    x.backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


def test_root_grad_freed_unless_retained_and_intermediates_too():
    x = Variable(np.array(2.0))
    t = x * x
    y = t * 3.0
    y.backward()
    assert y.grad is None and t.grad is None
    assert scalar(x.grad) == 12.0
    x.cleargrad()
    y.backward(retain_grad=True)
    assert scalar(y.grad) == 1.0 and scalar(t.grad) == 3.0 and scalar(x.grad) == 12.0


def test_retain_grad_default_follows_config():
    x = Variable(np.array(2.0))
    t = x * x
    y = t + 1.0
    with using_config("retain_grad", True):
        y.backward()
    assert scalar(t.grad) == 1.0


def test_hundred_thousand_step_chain_at_default_recursion_limit():
    limit = sys.getrecursionlimit()
    x = Variable(np.array(1.0))
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert scalar(y) == 100_001.0
    assert scalar(x.grad) == 1.0
    y.unchain_backward()  # frees the chain without deep recursion in the test's teardown


def test_wide_fan_in_is_exact():
    x = Variable(np.array(0.3))
    total = Variable(np.array(0.0))
    for k in range(1, 501):
        total = total + x * float(k)
    total.backward()
    assert scalar(x.grad) == pytest.approx(500 * 501 / 2)


def test_graph_freed_by_reference_counting_alone():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = Variable(np.array(1.0))
        y = Square()(Square()(x))
        f = weakref.ref(y.creator)
        inner = weakref.ref(y.creator.inputs[0])
        del y
        assert f() is None and inner() is None
    finally:
        if was_enabled:
            gc.enable()


def test_outputs_are_held_weakly_and_unused_outputs_count_as_zero():
    x = Variable(np.array(2.0))
    a, b = Split()(x)
    assert isinstance(a.creator.outputs[0], weakref.ref)
    b.backward()  # only the second output is used
    assert scalar(x.grad) == 3.0
    x.cleargrad()
    a, b = Split()(x)
    del a  # a dropped output
    b.backward()
    assert scalar(x.grad) == 3.0


def test_unchain_and_unchain_backward():
    x = Variable(np.array(2.0))
    t = x * x
    y = t * 3.0
    y.unchain_backward()
    assert t.creator is None and y.creator is not None
    y.backward()
    assert scalar(t.grad) == 3.0 and x.grad is None
    y.unchain()
    assert y.creator is None


# -- modes ----------------------------------------------------------------------


def test_no_grad_records_nothing_and_restores_after_errors():
    x = Variable(np.array(2.0))
    with no_grad():
        y = x * x
    assert y.creator is None
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert Config.enable_backprop is True
    assert (x * x).creator is not None


def test_test_mode_and_config_view():
    assert Config.train is True
    with in_test_mode():
        assert Config.train is False
    assert Config.train is True
    with pytest.raises(AttributeError, match="unknown config 'trian'"), using_config("trian", False):
        pass


def test_config_is_per_thread():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(Config.enable_backprop))
        thread.start()
        thread.join()
    assert seen == [True]


def test_create_graph_newton_converges_to_one():
    # f(x) = x^4 - 2x^2 has minima at +-1; Newton's method with the exact second derivative.
    x = Variable(np.array(2.0))
    for _ in range(10):
        y = x**4 - 2 * x**2
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        gx2 = x.grad
        x.data = x.data - gx.data / gx2.data
    assert scalar(x) == pytest.approx(1.0, abs=1e-10)


def test_second_order_of_a_custom_function():
    x = Variable(np.array(3.0))
    y = Square()(Square()(x))  # x^4
    y.backward(create_graph=True)
    assert scalar(x.grad) == 108.0  # 4x^3
    gx = x.grad
    x.cleargrad()
    gx.backward()
    assert scalar(x.grad) == 108.0  # 12x^2


# -- operators and broadcasting --------------------------------------------------


@pytest.mark.parametrize(
    "expr, value, grad",
    [
        (lambda x: x + 2.0, 5.0, 1.0),
        (lambda x: 2.0 + x, 5.0, 1.0),
        (lambda x: x - 2.0, 1.0, 1.0),
        (lambda x: 2.0 - x, -1.0, -1.0),
        (lambda x: x * 2, 6.0, 2.0),
        (lambda x: 2 * x, 6.0, 2.0),
        (lambda x: x / 2.0, 1.5, 0.5),
        (lambda x: 6.0 / x, 2.0, -6.0 / 9.0),
        (lambda x: -x, -3.0, -1.0),
        (lambda x: x**3, 27.0, 27.0),
        (lambda x: np.array(2.0) * x, 6.0, 2.0),
        (lambda x: x * np.array(2.0), 6.0, 2.0),
        (lambda x: np.array(1.0) - x, -2.0, -1.0),
    ],
)
def test_operators_with_numbers_and_arrays_on_either_side(expr, value, grad):
    x = Variable(np.array(3.0))
    y = expr(x)
    assert isinstance(y, Variable)
    y.backward()
    assert scalar(y) == pytest.approx(value)
    assert scalar(x.grad) == pytest.approx(grad)


def test_broadcasting_sums_grads_back_to_each_shape():
    rng = np.random.default_rng(0)
    a = Variable(rng.normal(size=(2, 3)))
    b = Variable(rng.normal(size=(3,)))
    c = Variable(rng.normal(size=(2, 1)))
    y = (a * b + c) / (b + 5.0) - c
    y.backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (3,) and c.grad.shape == (2, 1)
    np.testing.assert_allclose(a.grad.data, np.broadcast_to(b.data / (b.data + 5.0), (2, 3)))
    np.testing.assert_allclose(c.grad.data, (1.0 / (b.data + 5.0)).sum() - 3.0 + np.zeros((2, 1)))
    db = (a.data * 5.0 - c.data) / (b.data + 5.0) ** 2
    np.testing.assert_allclose(b.grad.data, db.sum(axis=0))


def test_matmul_operator_and_methods():
    rng = np.random.default_rng(1)
    a = Variable(rng.normal(size=(2, 3)))
    w = rng.normal(size=(3, 4))
    y = a @ w
    np.testing.assert_allclose(y.data, a.data @ w)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.data, np.ones((2, 4)) @ w.T)
    assert a.T.shape == (3, 2)
    assert a.reshape(3, 2).shape == (3, 2) and a.reshape((6,)).shape == (6,)
    assert a.transpose(1, 0).shape == (3, 2)
    assert a.dot(w).shape == (2, 4)
    assert scalar(a.max()) == a.data.max() and scalar(a.min()) == a.data.min()
    assert a[1].shape == (3,) and a[:, 1:].shape == (2, 2)


def test_array_like_attributes_and_repr():
    v = Variable(np.arange(6.0).reshape(2, 3), name="v")
    assert (v.shape, v.ndim, v.size, v.dtype, len(v), v.name) == ((2, 3), 2, 6, np.float64, 2, "v")
    assert repr(Variable(np.array(3.0))) == "variable(3.0)"
    assert repr(Variable(None)) == "variable(None)"
    assert repr(Variable(np.array([[1, 2], [3, 4]]))) == "variable([[1 2]\n          [3 4]])"


def test_parameter_as_array_as_variable():
    p = Parameter(np.array(1.0))
    assert isinstance(p, Variable)
    assert isinstance(as_array(1.5), np.ndarray) and as_array(1.5).shape == ()
    arr = np.ones(2)
    assert as_array(arr) is arr
    assert as_variable(p) is p and isinstance(as_variable(arr), Variable)


def test_package_exposes_dezero_names():
    for name in (
        "Variable",
        "Function",
        "Parameter",
        "using_config",
        "no_grad",
        "test_mode",
        "as_array",
        "as_variable",
        "Config",
    ):
        assert hasattr(dezero, name)
    import dezero_widget.functions as F

    assert F.add is add and F.mul is mul


# -- errors ----------------------------------------------------------------------


@pytest.mark.parametrize("bad, type_name", [(1.0, "float"), ([1, 2], "list"), (3, "int")])
def test_variable_rejects_non_arrays_naming_the_type(bad, type_name):
    with pytest.raises(TypeError, match=rf"numpy\.ndarray or None, not {type_name}"):
        Variable(bad)


def test_shape_mismatch_names_the_function_and_both_shapes():
    a = Variable(np.ones((2, 3)))
    b = Variable(np.ones((4,)))
    with pytest.raises(ValueError, match=r"Add: inputs of shapes \(2, 3\) and \(4,\)"):
        a + b
    with pytest.raises(ValueError, match=r"Mul: inputs of shapes \(2, 3\) and \(4,\)"):
        a * b


def test_exponent_must_be_constant():
    x = Variable(np.array(2.0))
    with pytest.raises(TypeError, match="exponent"):
        x ** Variable(np.array(2.0))


def test_backward_on_empty_variable_is_a_clear_error():
    with pytest.raises(ValueError, match="data is None"):
        Variable(None).backward()


# -- hooks used by the widget and the magic -------------------------------------


def test_grad_change_notifications():
    events = []

    def listener():
        events.append(1)

    watch_grads(listener)
    try:
        x = Variable(np.array(2.0))
        y = x * x
        y.backward()
        assert len(events) == 1  # one notification per backward, not one per function
        x.cleargrad()
        assert len(events) == 2
        x.grad = Variable(np.array(1.0))
        assert len(events) == 3
    finally:
        unwatch_grads(listener)
    x.cleargrad()
    assert len(events) == 3


def test_a_grad_listener_may_stop_listening_while_it_is_notified():
    calls = []

    def once():
        calls.append("once")
        unwatch_grads(once)

    def always():
        calls.append("always")

    watch_grads(once)
    watch_grads(always)
    watch_grads(always)  # registering twice keeps one
    try:
        x = Variable(np.array(2.0))
        x.cleargrad()
        x.cleargrad()
    finally:
        unwatch_grads(always)
    assert calls == ["once", "always", "always"]


def test_on_apply_sees_every_recorded_function():
    seen = []
    x = Variable(np.array(2.0))
    with watching(on_apply=lambda f, outputs: seen.append((type(f).__name__, outputs))):
        y = add(x * x, x)
        with no_grad():
            x * x  # not recorded: no graph is built
        y.backward()  # backward's own arithmetic is not part of the user's graph
    assert [name for name, _ in seen] == ["Mul", "Add"]
    assert seen[1][1][0] is y


def test_numbers_and_arrays_passed_to_functions_become_constants_without_grads():
    from dezero_widget.core import Constant, needs_grad

    x = Variable(np.array(3.0))
    y = x * 2.0 + np.array(1.0)
    y.backward()
    assert scalar(x.grad) == 2.0
    mul_node = y.creator.inputs[0].creator
    constant = mul_node.inputs[1]
    assert type(constant) is Constant and scalar(constant) == 2.0
    assert constant.grad is None and not needs_grad(constant) and needs_grad(x)
    # an array the user wrapped themselves is a Variable and gets its gradient
    c = Variable(np.array(2.0))
    (x * c).backward()
    assert scalar(c.grad) == 3.0


def test_custom_backward_runs_without_recording_and_keeps_user_settings():
    seen, roots = [], []
    x = Variable(np.array(2.0))
    outside = core._watchers
    with watching(
        on_apply=lambda f, outputs: seen.append(type(f).__name__),
        on_backward=lambda root, log: roots.append(root),
    ):
        y = Square()(x)
        y.backward()  # Square's Variable-level backward multiplies: not recorded
        z = Square()(y)  # after the block's first backward(): on_apply is no longer called
        z.backward()
        assert core._watchers.on_backward is not None
    assert seen == ["Square"]
    assert roots == [y, z]
    assert scalar(x.grad) == 4.0 + 2 * 4.0 * 2 * 2.0
    assert core._watchers is outside


def test_the_engine_imports_nothing_from_jupyter():
    import subprocess

    code = (
        "import sys, dezero_widget, dezero_widget.functions, dezero_widget.utils, dezero_widget.trace\n"
        "loaded = [m for m in ('IPython', 'ipywidgets', 'anywidget', 'traitlets', 'ipykernel') if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
