"""dezero_widget.functions: values, first and second derivatives, both backward paths, errors."""

import numpy as np
import pytest

import dezero_widget
import dezero_widget.functions as F
from dezero_widget import Function, Variable
from tests.fixtures.gradients import assert_gradients, assert_hessian_vector_product, record_applied_ops

RNG = np.random.default_rng(20240601)


def rand(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


# ---------------------------------------------------------------- first order, every function

LABELS = np.array([2, 0, 3, 3, 1])

FIRST_ORDER_CASES = {
    "sin": (F.sin, [rand(3, 4)]),
    "cos": (F.cos, [rand(3, 4)]),
    "tanh": (F.tanh, [rand(3, 4)]),
    "exp": (F.exp, [rand(3, 4)]),
    "log": (F.log, [rand(3, 4, low=0.5, high=3.0)]),
    "add broadcast": (F.add, [rand(3, 4), rand(4)]),
    "sub broadcast": (F.sub, [rand(3, 1), rand(1, 4)]),
    "mul broadcast": (F.mul, [rand(2, 3, 4), rand(3, 1)]),
    "div broadcast": (F.div, [rand(3, 4), rand(4, low=0.5, high=2.0)]),
    "neg": (F.neg, [rand(3)]),
    "pow": (lambda x: F.pow(x, 3), [rand(3, 4)]),
    "reshape": (lambda x: F.reshape(x, (4, 6)), [rand(2, 3, 4)]),
    "transpose": (F.transpose, [rand(2, 3, 4)]),
    "transpose axes": (lambda x: F.transpose(x, (1, -1, 0)), [rand(2, 3, 4)]),
    "expand_dims": (lambda x: F.expand_dims(x, 1), [rand(3, 4)]),
    "flatten": (F.flatten, [rand(2, 3, 4)]),
    "get_item slice": (lambda x: F.get_item(x, (slice(None), 1)), [rand(3, 4)]),
    "get_item repeated": (lambda x: F.get_item(x, np.array([0, 0, 2, 0])), [rand(3, 4)]),
    "sum all": (F.sum, [rand(3, 4)]),
    "sum axis": (lambda x: F.sum(x, axis=1), [rand(3, 4)]),
    "sum tuple axes": (lambda x: F.sum(x, axis=(0, 2)), [rand(2, 3, 4)]),
    "sum negative keepdims": (lambda x: F.sum(x, axis=(-1, 0), keepdims=True), [rand(2, 3, 4)]),
    "sum_to": (lambda x: F.sum_to(x, (1, 4)), [rand(3, 4)]),
    "broadcast_to": (lambda x: F.broadcast_to(x, (2, 3, 4)), [rand(3, 1)]),
    "mean tuple axes": (lambda x: F.mean(x, axis=(1, 2)), [rand(2, 3, 4)]),
    "average keepdims": (lambda x: F.average(x, axis=0, keepdims=True), [rand(3, 4)]),
    "matmul": (F.matmul, [rand(3, 4), rand(4, 2)]),
    "matmul batched broadcast": (F.matmul, [rand(2, 3, 4), rand(4, 5)]),
    "linear": (F.linear, [rand(5, 3), rand(3, 2), rand(2)]),
    "linear no bias": (F.linear, [rand(5, 3), rand(3, 2)]),
    "linear_simple": (F.linear_simple, [rand(5, 3), rand(3, 2), rand(2)]),
    "sigmoid": (F.sigmoid, [rand(3, 4, low=-5, high=5)]),
    "sigmoid_simple": (F.sigmoid_simple, [rand(3, 4)]),
    "relu": (F.relu, [np.array([[-1.5, -0.2, 0.3], [2.0, -0.7, 0.9]])]),
    "leaky_relu": (lambda x: F.leaky_relu(x, slope=0.1), [np.array([[-1.5, -0.2, 0.3], [2.0, -0.7, 0.9]])]),
    "softmax": (lambda x: F.softmax(x) * np.arange(4.0), [rand(3, 4)]),
    "softmax axis 0": (lambda x: F.softmax(x, axis=0) * np.arange(3.0)[:, None], [rand(3, 4)]),
    "softmax_simple": (lambda x: F.softmax_simple(x) * np.arange(4.0), [rand(3, 4)]),
    "log_softmax": (lambda x: F.log_softmax(x) * np.arange(4.0), [rand(3, 4)]),
    "mean_squared_error": (F.mean_squared_error, [rand(5, 2), rand(5, 2)]),
    "mean_squared_error broadcast": (F.mean_squared_error, [rand(5, 2), rand(2)]),
    "mean_squared_error_simple": (F.mean_squared_error_simple, [rand(5, 2), rand(5, 2)]),
    "softmax_cross_entropy": (lambda x: F.softmax_cross_entropy(x, LABELS), [rand(5, 4)]),
    "softmax_cross_entropy_simple": (lambda x: F.softmax_cross_entropy_simple(x, LABELS), [rand(5, 4)]),
    "sigmoid_cross_entropy": (
        F.sigmoid_cross_entropy,
        [rand(5, 1, low=-4, high=4), RNG.uniform(0, 1, (5, 1))],
    ),
    "binary_cross_entropy": (
        F.binary_cross_entropy,
        [RNG.uniform(0.05, 0.95, (5, 1)), RNG.uniform(0, 1, (5, 1))],
    ),
    "max all": (F.max, [rand(3, 4)]),
    "max axis keepdims": (lambda x: F.max(x, axis=1, keepdims=True), [rand(3, 4)]),
    "min tuple axes": (lambda x: F.min(x, axis=(0, 2)), [rand(2, 3, 4)]),
    "clip": (lambda x: F.clip(x, -0.5, 0.5), [np.array([-1.2, -0.3, 0.1, 0.45, 0.8])]),
    "embed_id": (lambda W: F.embed_id(np.array([[1, 3], [1, 0]]), W), [rand(4, 3)]),
    # batch_norm: the output is weighted, since sum(normalized x) does not depend on x at all
    "batch_norm": (
        lambda x, g, b: F.batch_norm(x, g, b, np.zeros(3), np.ones(3)) * np.arange(15.0).reshape(5, 3),
        [rand(5, 3), rand(3), rand(3)],
    ),
    "batch_norm 4-D": (
        lambda x, g, b: F.batch_norm(x, g, b, np.zeros(2), np.ones(2)) * np.arange(48.0).reshape(2, 2, 3, 4),
        [rand(2, 2, 3, 4), rand(2), rand(2)],
    ),
    "batch_norm test mode": (
        lambda x, g, b: batch_norm_in_test_mode(x, g, b) * np.arange(15.0).reshape(5, 3),
        [rand(5, 3), rand(3), rand(3)],
    ),
}


def batch_norm_in_test_mode(x, gamma, beta):
    with dezero_widget.test_mode():
        return F.batch_norm(x, gamma, beta, np.array([0.5, -1.0, 0.0]), np.array([2.0, 0.5, 1.0]))


@pytest.mark.parametrize("case", sorted(FIRST_ORDER_CASES))
def test_first_order_gradient_matches_numerical_and_both_paths_agree(case):
    fn, arrays = FIRST_ORDER_CASES[case]
    assert_gradients(fn, *arrays)


def test_dropout_gradient_is_its_mask_on_both_paths():
    def fixed_mask_dropout(x):
        np.random.seed(3)
        return F.dropout(x, 0.4) * np.arange(12.0).reshape(3, 4)

    assert_gradients(fixed_mask_dropout, rand(3, 4))


def all_ops():
    """Every Function subclass of the engine (functions.py re-exports core's arithmetic)."""
    return {
        obj
        for obj in vars(F).values()
        if isinstance(obj, type) and issubclass(obj, Function) and obj is not Function
    }


def test_every_op_has_an_array_level_backward():
    assert sorted(op.__name__ for op in all_ops() if op.backward_data is None) == []


def test_every_op_is_run_both_ways_by_the_first_order_cases(monkeypatch):
    """Each op's Variable-level backward and its array-level backward_data run on the same
    inputs and must agree (assert_gradients); an op without a case fails here."""
    applied = record_applied_ops(monkeypatch)
    for fn, arrays in FIRST_ORDER_CASES.values():
        assert_gradients(fn, *arrays)
    test_dropout_gradient_is_its_mask_on_both_paths()
    assert sorted(op.__name__ for op in all_ops() - applied) == []


# ---------------------------------------------------------------- second order

ELEMENTWISE_SECOND_DERIVATIVES = {
    "sin": (F.sin, lambda x: -np.sin(x)),
    "cos": (F.cos, lambda x: -np.cos(x)),
    "tanh": (F.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    "exp": (F.exp, np.exp),
    "log": (F.log, lambda x: -1 / x**2),
    "sigmoid": (F.sigmoid, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s)),
    "pow": (lambda x: F.pow(x, 3), lambda x: 6 * x),
    "mul": (lambda x: F.mul(x, x), lambda x: np.full_like(x, 2.0)),
    "div": (lambda x: F.div(1.0, x), lambda x: 2 / x**3),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE_SECOND_DERIVATIVES))
def test_second_derivative_matches_analytic(name):
    fn, second = ELEMENTWISE_SECOND_DERIVATIVES[name]
    data = rand(5, low=0.5, high=2.0)
    x = Variable(data.copy())
    fn(x).backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward()
    np.testing.assert_allclose(x.grad.data, second(data), rtol=1e-10)


def test_div_second_derivative_in_the_denominator():
    a, b = rand(4, low=0.5, high=2.0), rand(4, low=0.5, high=2.0)
    x0, x1 = Variable(a), Variable(b)
    F.div(x0, x1).backward(create_graph=True)
    g1 = x1.grad
    x0.cleargrad(), x1.cleargrad()
    g1.backward()
    np.testing.assert_allclose(x1.grad.data, 2 * a / b**3)
    np.testing.assert_allclose(x0.grad.data, -1 / b**2)


def test_matmul_second_derivative_matches_analytic():
    # s = sum((x A) * (x A)) has ds/dx = 2 x A A^T, and d/dx sum(ds/dx * V) = 2 V A A^T
    a_matrix, v_matrix = rand(3, 4), rand(2, 3)
    x = Variable(rand(2, 3))
    xa = F.matmul(x, a_matrix)
    F.sum(xa * xa).backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    F.sum(gx * v_matrix).backward()
    np.testing.assert_allclose(x.grad.data, 2 * v_matrix @ a_matrix @ a_matrix.T)


HESSIAN_VECTOR_CASES = {
    "get_item": (lambda x: F.get_item(x, np.array([0, 2, 2])) ** 2, rand(3, 4)),
    "softmax": (lambda x: F.softmax(x) * np.arange(4.0), rand(3, 4)),
    "log_softmax": (lambda x: F.log_softmax(x) ** 2, rand(3, 4)),
    "sum tuple axes": (lambda x: F.sum(x * x, axis=(0, 2)) ** 2, rand(2, 3, 4)),
    "mean": (lambda x: F.mean(F.exp(x), axis=1) ** 2, rand(3, 4)),
    "transpose": (lambda x: F.transpose(x, (2, 0, 1)) ** 3, rand(2, 3, 4)),
    "max": (lambda x: F.max(x * x, axis=0) ** 2, rand(3, 4)),
    "linear": (lambda x: F.linear(x, x.T, np.ones(3)) ** 2, rand(3, 3)),
    "mean_squared_error": (lambda x: F.mean_squared_error(F.sin(x), np.ones(4)), rand(5, 4)),
    "softmax_cross_entropy": (lambda x: F.softmax_cross_entropy(x, LABELS), rand(5, 4)),
    "sigmoid_cross_entropy": (lambda x: F.sigmoid_cross_entropy(x, np.ones((5, 1))), rand(5, 1)),
    "binary_cross_entropy": (
        lambda x: F.binary_cross_entropy(F.sigmoid(x), np.array([[1.0], [0.0], [1.0]])),
        rand(3, 1),
    ),
}


@pytest.mark.parametrize("case", sorted(HESSIAN_VECTOR_CASES))
def test_second_order_hessian_vector_product_matches_numerical(case):
    """d/dx sum(grad f(x) * v) from create_graph=True equals the finite difference of the gradient."""
    fn, data = HESSIAN_VECTOR_CASES[case]
    assert_hessian_vector_product(fn, data, rand(*data.shape))


# ---------------------------------------------------------------- values and semantics


def test_softmax_cross_entropy_value_matches_numpy_formula():
    x = rand(5, 4)
    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(probabilities[np.arange(5), LABELS]))
    assert F.softmax_cross_entropy(Variable(x), LABELS).data == pytest.approx(expected, rel=1e-12)
    assert F.softmax_cross_entropy_simple(x, LABELS).data == pytest.approx(expected, rel=1e-12)


def test_sigmoid_and_binary_cross_entropy_values():
    x, t = np.array([[-1.0], [0.5], [2.0]]), np.array([0, 1, 1])
    p = 1 / (1 + np.exp(-x.ravel()))
    expected = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert F.sigmoid_cross_entropy(x, t).data == pytest.approx(expected, rel=1e-12)
    assert F.binary_cross_entropy(p[:, None], t).data == pytest.approx(expected, rel=1e-12)


def test_sigmoid_cross_entropy_stays_finite_for_large_logits():
    x = Variable(np.array([[-800.0], [800.0]]))
    loss = F.sigmoid_cross_entropy(x, np.array([[1.0], [0.0]]))
    loss.backward()
    assert loss.data == pytest.approx(800.0)
    np.testing.assert_allclose(x.grad.data, [[-0.5], [0.5]])


def test_binary_cross_entropy_of_a_certain_wrong_answer_is_finite():
    p = Variable(np.array([[0.0], [1.0]]))
    loss = F.binary_cross_entropy(p, np.array([[1.0], [0.0]]))
    loss.backward()
    assert np.isfinite(loss.data) and loss.data > 30
    np.testing.assert_array_equal(p.grad.data, [[0.0], [0.0]])  # clipped: no gradient, as in DeZero


def test_mean_squared_error_divides_by_batch_size_like_dezero():
    assert F.mean_squared_error(np.ones((4, 3)), np.zeros((4, 3))).data == pytest.approx(3.0)


def test_mean_and_average_are_the_mean():
    data = rand(2, 3, 4)
    np.testing.assert_allclose(F.mean(data, axis=(0, 2)).data, data.mean(axis=(0, 2)))
    np.testing.assert_allclose(
        F.average(data, axis=[0, 1], keepdims=True).data, data.mean(axis=(0, 1), keepdims=True)
    )
    assert F.mean(data).data == pytest.approx(data.mean())


def test_accuracy_is_a_constant_variable():
    y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    acc = F.accuracy(Variable(y), np.array([1, 0, 0, 1]))
    assert isinstance(acc, Variable) and acc.creator is None
    assert acc.data == pytest.approx(0.5)


def test_dropout_scales_kept_elements_in_training_and_is_identity_in_test_mode():
    x = Variable(np.ones((200, 50)))
    np.random.seed(0)
    y = F.dropout(x, dropout_ratio=0.3)
    np.testing.assert_allclose(np.unique(y.data), [0.0, 1 / 0.7])
    assert np.mean(y.data == 0) == pytest.approx(0.3, abs=0.02)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # gradient of a kept element is the same 1/0.7
    with dezero_widget.test_mode():
        assert F.dropout(x, 0.3) is x


def test_dropout_keeps_float32():
    assert F.dropout(np.ones(10, dtype=np.float32)).dtype == np.float32


def test_max_and_min_send_the_gradient_to_every_tied_position():
    x = Variable(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]))
    F.max(x, axis=1).backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 1], [1, 1, 0]])
    x.cleargrad()
    F.min(x).backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0], [0, 0, 1]])


def test_clip_passes_the_gradient_inside_the_bounds_inclusive():
    x = Variable(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
    y = F.clip(x, -1.0, 1.0)
    y.backward()
    np.testing.assert_array_equal(y.data, [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(x.grad.data, [0, 1, 1, 1, 0])


def test_get_item_accumulates_repeated_indices():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    x[np.array([0, 0, 2])].backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, 1.0])


def test_embed_id_picks_rows_and_takes_ids_as_variable():
    W = Variable(np.arange(12.0).reshape(4, 3))
    ids = np.array([3, 1, 3])
    y = F.embed_id(Variable(ids), W)
    np.testing.assert_array_equal(y.data, W.data[ids])
    y.backward()
    np.testing.assert_array_equal(W.grad.data[:, 0], [0, 1, 0, 2])


def test_linear_without_bias_records_two_inputs():
    y = F.linear(rand(2, 3), rand(3, 4))
    assert len(y.creator.inputs) == 2


def test_variable_methods_route_to_functions():
    data = rand(2, 3, 4)
    x = Variable(data)
    np.testing.assert_allclose(x.sum(axis=(0, 2), keepdims=True).data, data.sum(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(x.reshape(6, 4).data, data.reshape(6, 4))
    np.testing.assert_allclose(x.transpose(2, 0, 1).data, data.transpose(2, 0, 1))
    np.testing.assert_allclose(x.T.data, data.T)
    np.testing.assert_allclose(x.max(axis=1).data, data.max(axis=1))
    np.testing.assert_allclose(x.min().data, data.min())
    np.testing.assert_allclose(x[1, :, 2].data, data[1, :, 2])
    np.testing.assert_allclose((x[0] @ data[1].T).data, data[0] @ data[1].T)


def test_float32_stays_float32():
    x = np.ones((2, 3), dtype=np.float32)
    for y in (F.sigmoid(x), F.softmax(x), F.mean(x), F.log_softmax(x), F.tanh(x), F.relu(x)):
        assert y.dtype == np.float32


def test_log_softmax_and_softmax_do_not_overflow():
    x = np.array([[1000.0, 0.0], [-np.inf, 0.0]])
    np.testing.assert_allclose(F.softmax(x).data, [[1, 0], [0, 1]])
    np.testing.assert_allclose(F.log_softmax(x).data, [[0, -1000], [-np.inf, 0]])


# ---------------------------------------------------------------- errors name the function and both shapes


@pytest.mark.parametrize(
    "call, function_name, shapes",
    [
        (lambda: F.add(np.ones((2, 3)), np.ones(4)), "Add", ["(2, 3)", "(4,)"]),
        (lambda: F.matmul(np.ones((2, 3)), np.ones((4, 5))), "MatMul", ["(2, 3)", "(4, 5)"]),
        (lambda: F.linear(np.ones((2, 3)), np.ones((4, 5))), "Linear", ["(2, 3)", "(4, 5)"]),
        (lambda: F.reshape(np.ones((2, 3)), (4,)), "Reshape", ["(2, 3)", "(4,)"]),
        (lambda: F.broadcast_to(np.ones(3), (2, 4)), "BroadcastTo", ["(3,)", "(2, 4)"]),
        (
            lambda: F.mean_squared_error(np.ones((2, 3)), np.ones((2, 4))),
            "MeanSquaredError",
            ["(2, 3)", "(2, 4)"],
        ),
        (
            lambda: F.softmax_cross_entropy(np.ones((3, 4)), np.zeros(5, dtype=int)),
            "SoftmaxCrossEntropy",
            ["(3, 4)", "(5,)"],
        ),
    ],
)
def test_shape_mismatch_names_function_and_both_shapes(call, function_name, shapes):
    with pytest.raises(ValueError) as error:
        call()
    message = str(error.value)
    assert message.startswith(function_name + ":")
    for shape in shapes:  # numpy spells some shapes without spaces: (2,4)
        assert shape.replace(" ", "") in message.replace(" ", "")


def test_softmax_cross_entropy_rejects_float_labels():
    with pytest.raises(ValueError, match="integers"):
        F.softmax_cross_entropy(np.ones((2, 3)), np.array([0.0, 1.0]))
