"""dezero_widget.functions_conv: values, first and second derivatives, both backward paths,
and the same numbers as PyTorch and PyPI DeZero where they are installed."""

import numpy as np
import pytest

import dezero_widget
import dezero_widget.functions as F
import dezero_widget.functions_conv as FC
from dezero_widget import Function, Variable
from dezero_widget.utils import gradient_check, pair
from tests.fixtures.gradients import assert_gradients, assert_hessian_vector_product, record_applied_ops

RNG = np.random.default_rng(20240602)


def rand(*shape):
    return RNG.uniform(-1.0, 1.0, size=shape)


def weighted(fn):
    """sum(fn(...) * fixed weights): a scalar whose gradient depends on every output element."""

    def scalar(*inputs):
        y = fn(*inputs)
        return F.sum(y * np.cos(np.arange(y.size)).reshape(y.shape))

    return scalar


def relu_like(*shape):
    """Values with exact ties (zeros), as pooling sees after a ReLU."""
    return np.maximum(rand(*shape), 0.0)


# ---------------------------------------------------------------- first order, every op both ways

_POOL = FC.Pooling(3, 2, 1)  # a pooling that has run, for its gradient functions' cases
_POOL(rand(1, 2, 5, 6))

CASES = {
    "conv2d": (lambda x, W, b: FC.conv2d(x, W, b), [rand(2, 3, 5, 6), rand(4, 3, 3, 3), rand(4)]),
    "conv2d stride pad": (
        lambda x, W, b: FC.conv2d(x, W, b, stride=2, pad=1),
        [rand(2, 3, 7, 6), rand(4, 3, 3, 2), rand(4)],
    ),
    "conv2d no bias, pairs": (
        lambda x, W: FC.conv2d(x, W, stride=(2, 1), pad=(0, 2)),
        [rand(1, 2, 6, 5), rand(3, 2, 2, 3)],
    ),
    "deconv2d": (lambda x, W, b: FC.deconv2d(x, W, b), [rand(2, 3, 4, 5), rand(3, 2, 3, 3), rand(2)]),
    "deconv2d stride pad outsize": (
        lambda x, W: FC.deconv2d(x, W, stride=2, pad=1, outsize=(8, 9)),
        [rand(2, 3, 4, 5), rand(3, 2, 3, 3)],
    ),
    "pooling": (lambda x: FC.pooling(x, 2, 2), [rand(2, 3, 6, 6)]),
    "pooling overlapping pad": (lambda x: FC.pooling(x, 3, 2, 1), [rand(2, 2, 7, 6)]),
    "pooling 1-row windows": (lambda x: FC.pooling(x, (1, 3), (1, 2)), [rand(1, 2, 3, 7)]),
    "average_pooling": (lambda x: FC.average_pooling(x, 2, 2), [rand(2, 3, 6, 6)]),
    "average_pooling overlapping pad": (lambda x: FC.average_pooling(x, 3, 2, 1), [rand(2, 2, 7, 6)]),
    "im2col matrix": (lambda x: FC.im2col(x, 3, 2, 1), [rand(2, 3, 5, 6)]),
    "im2col 6-D": (lambda x: FC.im2col(x, (2, 3), (1, 2), 0, to_matrix=False), [rand(2, 3, 5, 6)]),
    "col2im matrix": (lambda c: FC.col2im(c, (2, 3, 5, 6), 3, 2, 1), [rand(2 * 3 * 3, 3 * 9)]),
    "col2im 6-D": (lambda c: FC.col2im(c, (1, 2, 5, 6), (2, 3), (1, 2), 0, False), [rand(1, 2, 2, 3, 4, 2)]),
    "conv2d_simple": (
        lambda x, W, b: FC.conv2d_simple(x, W, b, stride=2, pad=1),
        [rand(2, 3, 5, 6), rand(4, 3, 3, 3), rand(4)],
    ),
    "pooling_simple": (lambda x: FC.pooling_simple(x, 2, 2), [rand(2, 3, 6, 6)]),
    # the functions that backward passes build, applied directly
    "Conv2DGradW": (lambda x, gy: FC.Conv2DGradW((3, 2), 2, 1)(x, gy), [rand(2, 3, 5, 6), rand(2, 4, 3, 4)]),
    "Pooling2DGrad": (lambda gy: FC.Pooling2DGrad(_POOL)(gy), [rand(1, 2, 3, 3)]),
    "Pooling2DWithIndexes": (lambda x: FC.Pooling2DWithIndexes(_POOL)(x), [rand(1, 2, 5, 6)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_first_order_gradient_matches_numerical_and_both_paths_agree(case):
    fn, arrays = CASES[case]
    assert_gradients(weighted(fn), *arrays)


def test_max_pooling_sends_the_gradient_of_a_tie_to_the_first_maximum():
    x = Variable(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]))
    y = FC.pooling(x, 2, 2)
    y.backward()
    assert y.data.item() == 3.0
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_pooling_gradients_through_relu_ties_on_both_paths():
    assert_gradients(weighted(lambda x: FC.pooling(F.relu(x), 2, 2)), rand(2, 2, 4, 4))


def conv_ops():
    return {
        obj
        for obj in vars(FC).values()
        if isinstance(obj, type) and issubclass(obj, Function) and obj.__module__ == FC.__name__
    }


def test_every_conv_op_has_an_array_level_backward():
    assert sorted(op.__name__ for op in conv_ops() if op.backward_data is None) == []


def test_every_conv_op_is_run_both_ways_by_the_cases(monkeypatch):
    """Each op's `backward` and `backward_data` agree on the same inputs; an op without a case fails."""
    applied = record_applied_ops(monkeypatch)
    for fn, arrays in CASES.values():
        assert_gradients(weighted(fn), *arrays)
    assert sorted(op.__name__ for op in conv_ops() - applied) == []


# ---------------------------------------------------------------- second order

SECOND_ORDER = {
    # conv2d is bilinear, so the squares make its second derivative in x and in W non-zero
    "conv2d in x": (
        lambda x: FC.conv2d(x, np.cos(np.arange(24.0)).reshape(2, 3, 2, 2), stride=2, pad=1) ** 2
    ),
    "conv2d in W": (lambda W: FC.conv2d(np.sin(np.arange(60.0)).reshape(1, 3, 4, 5), W, pad=1) ** 2),
    "conv2d in x and W": (lambda x: FC.conv2d(x, x[:, :, :3, :3], stride=1) ** 2),
    "deconv2d in x": (lambda x: FC.deconv2d(x, np.cos(np.arange(12.0)).reshape(3, 1, 2, 2), stride=2) ** 2),
    "deconv2d in x and W": (lambda x: FC.deconv2d(x, F.reshape(x[0, :, :2, :2], (3, 1, 2, 2))) ** 2),
    "pooling": (lambda x: FC.pooling(x * x, 2, 2) ** 2),
    "pooling overlapping": (lambda x: FC.pooling(x * x, 3, 1, 1) ** 2),
    "average_pooling": (lambda x: FC.average_pooling(x * x, 3, 2, 1) ** 2),
    "im2col": (lambda x: FC.im2col(x * x, 3, 2, 1) ** 2),
}
SECOND_ORDER_SHAPES = {"conv2d in W": (2, 3, 3, 3), "deconv2d in x and W": (1, 3, 3, 4)}


@pytest.mark.parametrize("case", sorted(SECOND_ORDER))
def test_second_order_hessian_vector_product_matches_numerical(case):
    """d/dx sum(grad f(x) * v), from create_graph=True, equals the finite difference of the gradient."""
    fn = weighted(SECOND_ORDER[case])
    data = rand(*SECOND_ORDER_SHAPES.get(case, (1, 3, 4, 5)))
    assert_hessian_vector_product(fn, data, rand(*data.shape))


# ---------------------------------------------------------------- known values


def test_conv2d_of_a_known_image_and_kernel():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[i, j] - x[i+1, j+1]
    y = FC.conv2d(x, W, np.array([0.5]))
    np.testing.assert_array_equal(y.data, np.full((1, 1, 3, 3), -5.0 + 0.5))
    y = FC.conv2d(x, np.ones((1, 1, 3, 3)), stride=2, pad=1)  # 3x3 sums, zero padding
    np.testing.assert_array_equal(y.data[0, 0], [[10.0, 24.0], [51.0, 90.0]])


def test_im2col_lays_windows_out_as_dezero_does():
    x = np.arange(2 * 3 * 3.0).reshape(1, 2, 3, 3)
    col = FC.im2col(x, 2, to_matrix=True).data
    assert col.shape == (4, 8)  # (N*OH*OW, C*KH*KW)
    np.testing.assert_array_equal(col[0], [0, 1, 3, 4, 9, 10, 12, 13])  # channel 0's window, then channel 1's
    np.testing.assert_array_equal(col[3], [4, 5, 7, 8, 13, 14, 16, 17])
    col6 = FC.im2col(x, 2, to_matrix=False).data
    assert col6.shape == (1, 2, 2, 2, 2, 2)  # (N, C, KH, KW, OH, OW)
    np.testing.assert_array_equal(col6[0, 1, 1, 0], [[12, 13], [15, 16]])


def test_col2im_adds_overlapping_windows_back():
    x = np.ones((1, 1, 3, 3))
    counts = FC.col2im(FC.im2col(x, 2), x.shape, 2).data  # how many 2x2 windows cover each pixel
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_pooling_values_and_zero_padding_as_dezero():
    x = -np.arange(16.0).reshape(1, 1, 4, 4) - 1
    np.testing.assert_array_equal(FC.pooling(x, 2, 2).data[0, 0], [[-1, -3], [-9, -11]])
    # DeZero pads with zeros, so a padded window of negative values has maximum 0
    assert FC.pooling(x, 2, 2, pad=1).data[0, 0, 0, 0] == 0.0
    np.testing.assert_array_equal(FC.average_pooling(-x, 2, 2).data[0, 0], [[3.5, 5.5], [11.5, 13.5]])


def test_deconv2d_is_the_adjoint_of_conv2d():
    x, W, g = rand(2, 3, 6, 5), rand(4, 3, 3, 3), rand(2, 4, 3, 3)
    y = FC.conv2d(x, W, stride=2, pad=1).data
    back = FC.deconv2d(g, W, stride=2, pad=1, outsize=(6, 5)).data
    assert np.sum(y * g) == pytest.approx(np.sum(x * back), rel=1e-12)


def test_deconv2d_default_outsize_and_a_wrong_outsize():
    x, W = rand(1, 2, 3, 4), rand(2, 5, 3, 3)
    assert FC.deconv2d(x, W, stride=2, pad=1).shape == (1, 5, 5, 7)  # get_deconv_outsize
    with pytest.raises(ValueError, match="outsize"):
        FC.deconv2d(x, W, stride=2, pad=1, outsize=(9, 9))


def test_conv2d_simple_and_pooling_simple_equal_the_fused_ops():
    x, W, b = rand(2, 3, 7, 6), rand(4, 3, 3, 2), rand(4)
    fused, simple = FC.conv2d(x, W, b, 2, 1), FC.conv2d_simple(x, W, b, 2, 1)
    np.testing.assert_allclose(simple.data, fused.data, rtol=1e-12)
    np.testing.assert_array_equal(FC.pooling_simple(x, 2, 2).data, FC.pooling(x, 2, 2).data)


def test_float32_stays_float32_and_input_arrays_get_no_gradient():
    x = rand(2, 3, 6, 6).astype(np.float32)
    W = Variable(rand(4, 3, 3, 3).astype(np.float32))
    y = FC.pooling(F.relu(FC.conv2d(x, W, np.zeros(4, np.float32), pad=1)), 2, 2)
    assert y.dtype == np.float32
    F.sum(y).backward()
    assert W.grad.dtype == np.float32


def test_dezero_names_are_reexported_by_functions():
    for name in FC.__all__:
        assert getattr(F, name) is getattr(FC, name)


def test_gradient_check_helper_agrees_on_conv2d():
    W = rand(2, 3, 3, 3)
    assert gradient_check(weighted(lambda x: FC.conv2d(x, W, stride=2, pad=1)), rand(1, 3, 5, 5))


def test_pair_and_the_output_sizes():
    assert pair(3) == (3, 3) and pair((2, 1)) == (2, 1)
    with pytest.raises(ValueError):
        pair((1, 2, 3))
    assert dezero_widget.utils.get_conv_outsize(28, 3, 1, 1) == 28
    assert dezero_widget.utils.get_conv_outsize(7, 3, 2, 1) == 4
    assert dezero_widget.utils.get_deconv_outsize(4, 3, 2, 1) == 7


# ---------------------------------------------------------------- batch_norm values


def test_batch_norm_normalizes_and_updates_running_averages_like_dezero():
    x = rand(6, 3) * 4 + 2
    mean, var = np.zeros(3), np.ones(3)
    y = F.batch_norm(x, np.ones(3), np.zeros(3), mean, var, decay=0.9, eps=2e-5)
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.data.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 2e-5), rtol=1e-12)
    np.testing.assert_allclose(mean, 0.1 * x.mean(axis=0), rtol=1e-12)  # updated in place
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)  # unbiased, m/(m-1)
    with dezero_widget.test_mode():
        z = F.batch_norm(x, np.ones(3), np.zeros(3), mean, var)
    np.testing.assert_allclose(z.data, (x - mean) / np.sqrt(var + 2e-5), rtol=1e-12)
    assert F.batch_nrom is F.batch_norm  # DeZero's spelling


# ---------------------------------------------------------------- against PyTorch


def torch_grads(fn, arrays):
    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*tensors)
    weights = torch.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
    (y * weights).sum().backward()
    return [y.detach().numpy()] + [t.grad.numpy() for t in tensors]


def ours_grads(fn, arrays):
    inputs = [Variable(a.copy()) for a in arrays]
    y = fn(*inputs)
    F.sum(y * np.cos(np.arange(y.size)).reshape(y.shape)).backward()
    return [y.data] + [v.grad.data for v in inputs]


TORCH_CASES = {
    "conv2d": (
        lambda x, W, b: FC.conv2d(x, W, b, stride=2, pad=1),
        lambda x, W, b: __import__("torch").nn.functional.conv2d(x, W, b, stride=2, padding=1),
        [rand(2, 3, 7, 6), rand(4, 3, 3, 2), rand(4)],
    ),
    "deconv2d": (
        lambda x, W, b: FC.deconv2d(x, W, b, stride=2, pad=1),
        lambda x, W, b: __import__("torch").nn.functional.conv_transpose2d(x, W, b, stride=2, padding=1),
        [rand(2, 3, 4, 5), rand(3, 2, 3, 3), rand(2)],
    ),
    "pooling": (
        lambda x: FC.pooling(x, 3, 2),
        lambda x: __import__("torch").nn.functional.max_pool2d(x, 3, 2),
        [rand(2, 3, 7, 8)],
    ),
    "average_pooling with padding": (
        lambda x: FC.average_pooling(x, 3, 2, 1),
        lambda x: __import__("torch").nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=True),
        [rand(2, 3, 7, 8)],
    ),
    "batch_norm 4-D": (
        lambda x, g, b: F.batch_norm(x, g, b, np.zeros(3), np.ones(3), eps=2e-5),
        lambda x, g, b: __import__("torch").nn.functional.batch_norm(
            x, None, None, g, b, training=True, eps=2e-5
        ),
        [rand(4, 3, 2, 5), rand(3), rand(3)],
    ),
    "batch_norm 2-D": (
        lambda x, g, b: F.batch_norm(x, g, b, np.zeros(5), np.ones(5), eps=2e-5),
        lambda x, g, b: __import__("torch").nn.functional.batch_norm(
            x, None, None, g, b, training=True, eps=2e-5
        ),
        [rand(8, 5), rand(5), rand(5)],
    ),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_values_and_gradients_match_pytorch(case):
    ours_fn, torch_fn, arrays = TORCH_CASES[case]
    expected = torch_grads(torch_fn, arrays)
    for mine, theirs in zip(ours_grads(ours_fn, arrays), expected):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_batch_norm_running_averages_match_pytorch():
    torch = pytest.importorskip("torch")
    x = rand(4, 3, 2, 5) * 3 + 1
    mean, var = np.zeros(3), np.ones(3)
    F.batch_norm(x, np.ones(3), np.zeros(3), mean, var, decay=0.9)
    running_mean, running_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    torch.nn.functional.batch_norm(torch.tensor(x), running_mean, running_var, training=True, momentum=0.1)
    np.testing.assert_allclose(mean, running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(var, running_var.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- against PyPI DeZero


@pytest.fixture(scope="module")
def dezero():
    if not hasattr(np, "int"):
        np.int = int  # PyPI dezero 0.0.13 reads np.int, removed in numpy 1.24
    return pytest.importorskip("dezero")


DEZERO_CASES = {
    "conv2d": (lambda F_, x, W, b: F_.conv2d(x, W, b, stride=2, pad=1), [(2, 3, 7, 6), (4, 3, 3, 2), (4,)]),
    "deconv2d": (
        lambda F_, x, W, b: F_.deconv2d(x, W, b, stride=2, pad=1),
        [(2, 3, 4, 5), (3, 2, 3, 3), (2,)],
    ),
    "conv2d_simple": (
        lambda F_, x, W, b: F_.conv2d_simple(x, W, b, 1, 1),
        [(2, 3, 5, 6), (4, 3, 3, 3), (4,)],
    ),
    "pooling": (lambda F_, x: F_.pooling(x, 2, 2), [(2, 3, 6, 8)]),
    "pooling pad": (lambda F_, x: F_.pooling(x, 3, 2, 1), [(2, 3, 7, 8)]),
    "pooling_simple": (lambda F_, x: F_.pooling_simple(x, 2, 2), [(2, 3, 6, 8)]),
    "average_pooling": (lambda F_, x: F_.average_pooling(x, 3, 2, 1), [(2, 3, 7, 8)]),
    "im2col": (lambda F_, x: F_.im2col(x, 3, 2, 1), [(2, 3, 5, 6)]),
    "im2col 6-D": (lambda F_, x: F_.im2col(x, 3, 2, 1, to_matrix=False), [(2, 3, 5, 6)]),
    "col2im": (lambda F_, c: F_.col2im(c, (2, 3, 5, 6), 3, 2, 1), [(18, 27)]),
    "batch_norm": (
        lambda F_, x, g, b: F_.batch_nrom(x, g, b, np.zeros(3), np.ones(3)),
        [(4, 3, 2, 2), (3,), (3,)],
    ),
}


@pytest.mark.parametrize("case", sorted(DEZERO_CASES))
def test_values_and_gradients_match_dezero(dezero, case):
    import dezero.functions as DF

    fn, shapes = DEZERO_CASES[case]
    arrays = [rand(*shape) for shape in shapes]

    def run(Var, F_):
        inputs = [Var(a.copy()) for a in arrays]
        y = fn(F_, *inputs)
        F_.sum(y * Var(np.cos(np.arange(y.data.size)).reshape(y.shape))).backward()
        return [y.data] + [v.grad.data for v in inputs]

    for mine, theirs in zip(run(Variable, F), run(dezero.Variable, DF)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
