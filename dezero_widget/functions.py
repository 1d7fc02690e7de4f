"""Every differentiable function of DeZero's `functions.py`, except convolution and pooling.

Each op is a `Function` subclass plus a lowercase helper, in DeZero's order.
`backward` is written with Variable operations, so `backward(create_graph=True)`
can differentiate it again; `backward_data`, next to it, is the same derivative
on raw arrays, which the engine runs when no graph of the backward pass is
needed. Where one body serves both (a mask times gy), `backward_data = backward`.
Neither may modify an incoming gradient in place: the engine shares gradient
arrays between variables. A test runs every op both ways and compares.

The Variable methods that call these functions (`x.reshape`, `x.T`, `x @ W`,
`x[i]`...) are attached by `setup_variable()` at the end of this module, which
the package's `__init__` calls: core.py never imports this module.
"""

from __future__ import annotations

import numpy as np

from dezero_widget.core import (  # noqa: F401  (re-exported: DeZero keeps them in functions)
    Add,
    BroadcastTo,
    Config,
    Div,
    Function,
    Mul,
    Neg,
    Pow,
    Sub,
    SumTo,
    Variable,
    add,
    as_array,
    as_variable,
    broadcast_to,
    div,
    mul,
    needs_grad,
    neg,
    pow,
    rdiv,
    rsub,
    sub,
    sum_to,
    sum_to_shape,
)

# =============================================================================
# Array helpers (utils.py re-exports the public ones)
# =============================================================================


def _as_axis(axis):
    """numpy takes a tuple of axes but not a list."""
    return tuple(axis) if isinstance(axis, list) else axis


def _kept_shape(x_shape: tuple, axis) -> tuple:
    """The shape a reduction of `x_shape` over `axis` has with keepdims=True."""
    ndim = len(x_shape)
    if axis is None:
        return (1,) * ndim
    axes = {a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else size for i, size in enumerate(x_shape))


def reshape_sum_backward(gy, x_shape: tuple, axis, keepdims: bool):
    """Give the gradient of a sum (array or Variable) back its reduced axes, ready to broadcast."""
    return gy if keepdims else gy.reshape(_kept_shape(x_shape, _as_axis(axis)))


def logsumexp(x: np.ndarray, axis=1) -> np.ndarray:
    """log(sum(exp(x), axis)) with keepdims, without overflow (the row max is factored out)."""
    # (the ufuncs' reduce is what ndarray.max and .sum call, less a Python-level wrapper)
    m = np.maximum.reduce(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # a row of -inf or +inf must not become nan
    return m + np.log(np.add.reduce(np.exp(x - m), axis=axis, keepdims=True))


def _float_dtype(dtype):
    """The dtype that arithmetic with a Python float gives (float32 stays float32, ints become float64)."""
    return np.result_type(dtype, 0.5)


def _swap_last_axes(ndim: int) -> tuple:
    """Axes that transpose the matrices of a (batched) matmul operand."""
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)


# =============================================================================
# Basic functions: sin / cos / tanh / exp / log
# =============================================================================


class Sin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])

    def backward_data(self, gy):
        return gy * np.cos(self.inputs[0].data)


def sin(x):
    return Sin()(x)


class Cos(Function):
    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        return gy * -sin(self.inputs[0])

    def backward_data(self, gy):
        return gy * -np.sin(self.inputs[0].data)


def cos(x):
    return Cos()(x)


class Tanh(Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * (1 - y * y)

    def backward_data(self, gy):
        y = self.outputs[0]().data
        return gy * (1 - y * y)


def tanh(x):
    return Tanh()(x)


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]()

    def backward_data(self, gy):
        return gy * self.outputs[0]().data


def exp(x):
    return Exp()(x)


class Log(Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        return gy / self.inputs[0]

    def backward_data(self, gy):
        return gy / self.inputs[0].data


def log(x):
    return Log()(x)


# =============================================================================
# Tensor operations: reshape / transpose / get_item / expand_dims / flatten
# =============================================================================


class Reshape(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)

    def backward_data(self, gy):
        return gy.reshape(self.inputs[0].shape)


def reshape(x, shape):
    x = as_variable(x)
    return x if x.shape == tuple(shape) else Reshape(shape)(x)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        return np.transpose(x, self.axes)

    def _inverse_axes(self):
        if self.axes is None:
            return None
        return tuple(np.argsort([a % len(self.axes) for a in self.axes]))

    def backward(self, gy):
        return transpose(gy, self._inverse_axes())

    def backward_data(self, gy):
        return np.transpose(gy, self._inverse_axes())


def transpose(x, axes=None):
    return Transpose(axes)(x)


class GetItem(Function):
    def __init__(self, slices):
        self.slices = slices

    def forward(self, x):
        return x[self.slices]

    def backward(self, gy):
        return GetItemGrad(self.slices, self.inputs[0].shape)(gy)

    def backward_data(self, gy):
        return _scatter_add(gy, self.slices, self.inputs[0].shape)


def _scatter_add(gy, slices, shape):
    """Zeros of `shape` with `gy` added at `slices`; repeated indices add up (np.add.at)."""
    gx = np.zeros(shape, dtype=gy.dtype)
    np.add.at(gx, slices, gy)
    return gx


class GetItemGrad(Function):
    """The backward of GetItem as a function of its own, so get_item has second derivatives."""

    def __init__(self, slices, in_shape):
        self.slices = slices
        self.in_shape = in_shape

    def forward(self, gy):
        return _scatter_add(gy, self.slices, self.in_shape)

    def backward(self, ggx):
        return get_item(ggx, self.slices)

    def backward_data(self, ggx):
        return ggx[self.slices]


def _unwrap_index(index):
    """Index arrays may be given as Variables (labels, ids): numpy needs their data."""
    if isinstance(index, Variable):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Variable) else i for i in index)
    return index


def get_item(x, slices):
    return GetItem(_unwrap_index(slices))(x)


def expand_dims(x, axis):
    x = as_variable(x)
    return reshape(x, np.expand_dims(x.data, axis).shape)


def flatten(x):
    """Keep the batch axis, flatten the rest."""
    x = as_variable(x)
    return reshape(x, (x.shape[0], -1))


# =============================================================================
# sum / sum_to / broadcast_to / average / matmul / linear
# =============================================================================


class Sum(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis = _as_axis(axis)
        self.keepdims = keepdims

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x_shape = self.inputs[0].shape
        return broadcast_to(reshape_sum_backward(gy, x_shape, self.axis, self.keepdims), x_shape)

    def backward_data(self, gy):
        x_shape = self.inputs[0].shape
        return np.broadcast_to(reshape_sum_backward(gy, x_shape, self.axis, self.keepdims), x_shape)


def sum(x, axis=None, keepdims=False):
    return Sum(axis, keepdims)(x)


def average(x, axis=None, keepdims=False):
    """The mean over `axis` (an int, a tuple of ints, or None for all)."""
    x = as_variable(x)
    y = sum(x, axis, keepdims)
    return y * np.array(y.data.size / x.data.size, dtype=_float_dtype(y.dtype))


mean = average


class MatMul(Function):
    """x @ W for 2-D (or batched N-D) operands; batch axes broadcast as in numpy."""

    def forward(self, x, W):
        if x.ndim < 2 or W.ndim < 2:
            raise ValueError("matmul needs operands with at least 2 dimensions")
        return x @ W

    def backward(self, gy):
        return _matmul_grads(gy, *self.inputs)

    def backward_data(self, gy):
        return _matmul_grads_data(gy, self.inputs[0], self.inputs[1])


def _matmul_grads(gy, x, W):
    gx = matmul(gy, transpose(W, _swap_last_axes(W.ndim)))
    gW = matmul(transpose(x, _swap_last_axes(x.ndim)), gy)
    return sum_to(gx, x.shape), sum_to(gW, W.shape)


def _matmul_grads_data(gy, x, W):
    """For Variables x and W; a Constant (say the input batch, passed as an array) gets no gradient."""
    gx = sum_to_shape(gy @ W.data.swapaxes(-1, -2), x.data.shape) if needs_grad(x) else None
    gW = sum_to_shape(x.data.swapaxes(-1, -2) @ gy, W.data.shape) if needs_grad(W) else None
    return gx, gW


def matmul(x, W):
    return MatMul()(x, W)


class Linear(Function):
    """x @ W + b in one node (b optional)."""

    def forward(self, x, W, b=None):
        if x.ndim < 2 or W.ndim < 2:
            raise ValueError("linear needs x and W with at least 2 dimensions")
        y = x @ W
        return y if b is None else y + b

    def backward(self, gy):
        gx, gW = _matmul_grads(gy, self.inputs[0], self.inputs[1])
        if len(self.inputs) == 2:
            return gx, gW
        return gx, gW, sum_to(gy, self.inputs[2].shape)

    def backward_data(self, gy):
        inputs = self.inputs
        gx, gW = _matmul_grads_data(gy, inputs[0], inputs[1])
        if len(inputs) == 2:
            return gx, gW
        return gx, gW, sum_to_shape(gy, inputs[2].data.shape)


def linear(x, W, b=None):
    return Linear()(x, W) if b is None else Linear()(x, W, b)


def linear_simple(x, W, b=None):
    """linear() built from matmul and add (two nodes), as the book first writes it."""
    y = matmul(x, W)
    return y if b is None else y + b


# =============================================================================
# Activation functions: sigmoid / relu / softmax / log_softmax / leaky_relu
# =============================================================================


def sigmoid_simple(x):
    """sigmoid() built from exp, add and div, as the book first writes it."""
    return 1 / (1 + exp(-as_variable(x)))


class Sigmoid(Function):
    def forward(self, x):
        return np.tanh(x * 0.5) * 0.5 + 0.5  # equals 1/(1+exp(-x)), without overflow

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * y * (1 - y)

    def backward_data(self, gy):
        y = self.outputs[0]().data
        return gy * y * (1 - y)


def sigmoid(x):
    return Sigmoid()(x)


class ReLU(Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        return gy * (self.inputs[0].data > 0)

    backward_data = backward  # a mask times gy: the same on Variables and arrays


def relu(x):
    return ReLU()(x)


def softmax_simple(x, axis=1):
    """softmax() built from exp, sum and div (no max subtraction: overflows on large x)."""
    y = exp(x)
    return y / sum(y, axis=axis, keepdims=True)


class Softmax(Function):
    def __init__(self, axis=1):
        self.axis = _as_axis(axis)

    def forward(self, x):
        return np.exp(x - logsumexp(x, self.axis))

    def backward(self, gy):
        y = self.outputs[0]()
        gx = y * gy
        return gx - y * sum(gx, self.axis, keepdims=True)

    def backward_data(self, gy):
        y = self.outputs[0]().data
        gx = y * gy
        return gx - y * gx.sum(axis=self.axis, keepdims=True)


def softmax(x, axis=1):
    return Softmax(axis)(x)


class LogSoftmax(Function):
    def __init__(self, axis=1):
        self.axis = _as_axis(axis)

    def forward(self, x):
        return x - logsumexp(x, self.axis)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy - exp(y) * sum(gy, self.axis, keepdims=True)

    def backward_data(self, gy):
        y = self.outputs[0]().data
        return gy - np.exp(y) * gy.sum(axis=self.axis, keepdims=True)


def log_softmax(x, axis=1):
    return LogSoftmax(axis)(x)


class LeakyReLU(Function):
    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope)

    def _slopes(self, gy):
        return np.where(self.inputs[0].data > 0, 1, self.slope).astype(gy.dtype)

    def backward(self, gy):
        return gy * self._slopes(gy)

    backward_data = backward


def leaky_relu(x, slope=0.2):
    return LeakyReLU(slope)(x)


# =============================================================================
# Loss functions (DeZero's: summed over the batch, divided by the batch size)
# =============================================================================


def _batch_size(a) -> int:
    return a.shape[0] if a.ndim else 1


def mean_squared_error_simple(x0, x1):
    """mean_squared_error() built from sub, pow, sum and div."""
    diff = as_variable(x0) - x1
    return sum(diff**2) / _batch_size(diff)


class MeanSquaredError(Function):
    def forward(self, x0, x1):
        diff = x0 - x1
        return (diff * diff).sum() / _batch_size(diff)

    def backward(self, gy):
        x0, x1 = self.inputs
        diff = x0 - x1
        gx = gy * diff * (2.0 / _batch_size(diff))
        return sum_to(gx, x0.shape), sum_to(-gx, x1.shape)

    def backward_data(self, gy):
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        diff = x0 - x1
        gx = gy * diff * (2.0 / _batch_size(diff))
        return sum_to_shape(gx, x0.shape), sum_to_shape(-gx, x1.shape)


def mean_squared_error(x0, x1):
    return MeanSquaredError()(x0, x1)


def _one_hot(t: np.ndarray, num_classes: int, dtype) -> np.ndarray:
    onehot = np.zeros((t.size, num_classes), dtype=dtype)
    onehot[np.arange(t.size), t.ravel()] = 1
    return onehot


def softmax_cross_entropy_simple(x, t):
    """softmax_cross_entropy() built from softmax, clip, log, get_item, sum and div."""
    x, t = as_variable(x), as_variable(t)
    n = x.shape[0]
    log_p = log(clip(softmax(x), 1e-15, 1.0))
    return -sum(log_p[np.arange(n), t.data]) / n


class SoftmaxCrossEntropy(Function):
    """Mean over the batch of -log softmax(x)[t]; t holds one integer class label per row."""

    def forward(self, x, t):
        if x.ndim != 2 or t.size != x.shape[0]:
            raise ValueError("expected x of shape (N, classes) and N integer labels t")
        if t.dtype.kind not in "iu":
            raise ValueError(f"labels t must be integers, not {t.dtype}")
        n = x.shape[0]
        # kept for backward_data: the softmax is exp(log_p), and each row's label is picked again
        self.log_p = log_p = x - logsumexp(x, axis=1)
        self.picked = (np.arange(n), t.ravel())
        return -np.add.reduce(log_p[self.picked], axis=None) / n

    def backward(self, gy):
        x, t = self.inputs
        n, classes = x.shape
        return (softmax(x) - _one_hot(t.data, classes, x.dtype)) * (gy / n), None

    def backward_data(self, gy):
        gx = np.exp(self.log_p)
        gx[self.picked] -= 1
        return gx * (gy / len(gx)), None


def softmax_cross_entropy(x, t):
    return SoftmaxCrossEntropy()(x, t)


def _labels_like(t, x):
    """Labels reshaped to the logits' shape when they differ only by axes of size 1."""
    t = as_variable(t)
    return t if t.ndim == x.ndim else reshape(t, x.shape)


class SigmoidCrossEntropy(Function):
    """Binary cross entropy of sigmoid(x) against targets t, computed from x (no log(0))."""

    def forward(self, x, t):
        # -[t log s(x) + (1-t) log(1-s(x))] = max(x, 0) - x t + log(1 + exp(-|x|))
        loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
        return loss.sum() / _batch_size(x)

    def backward(self, gy):
        x, t = self.inputs
        scale = gy / _batch_size(x)
        return (sigmoid(x) - t) * scale, -x * scale

    def backward_data(self, gy):
        x, t = self.inputs[0].data, self.inputs[1].data
        scale = gy / _batch_size(x)
        sx = np.tanh(x * 0.5) * 0.5 + 0.5
        return (sx - t) * scale, -x * scale


def sigmoid_cross_entropy(x, t):
    x = as_variable(x)
    return SigmoidCrossEntropy()(x, _labels_like(t, x))


class BinaryCrossEntropy(Function):
    """Binary cross entropy of probabilities p against targets t.

    p is clipped to [eps, 1 - eps] (eps of p's dtype) so that log(0) never
    happens; as with DeZero's clip, no gradient flows where p was clipped.
    """

    def forward(self, p, t):
        pc = np.clip(p, *_probability_bounds(p.dtype))
        loss = t * np.log(pc) + (1 - t) * np.log(1 - pc)
        return -loss.sum() / _batch_size(p)

    def backward(self, gy):
        p, t = self.inputs
        pc = clip(p, *_probability_bounds(p.dtype))
        scale = gy / _batch_size(p)
        gp = (pc - t) / (pc * (1 - pc)) * _unclipped(p.data, pc.data) * scale
        return gp, (log(1 - pc) - log(pc)) * scale

    def backward_data(self, gy):
        p, t = self.inputs[0].data, self.inputs[1].data
        pc = np.clip(p, *_probability_bounds(p.dtype))
        scale = gy / _batch_size(p)
        gp = (pc - t) / (pc * (1 - pc)) * _unclipped(p, pc) * scale
        return gp, (np.log(1 - pc) - np.log(pc)) * scale


def _probability_bounds(dtype) -> tuple:
    eps = np.finfo(dtype).eps
    return eps, 1 - eps


def _unclipped(p, clipped):
    """Where clipping left p unchanged: the only places its gradient passes."""
    return p == clipped


def binary_cross_entropy(p, t):
    p = as_variable(p)
    return BinaryCrossEntropy()(p, _labels_like(t, p))


# =============================================================================
# accuracy / dropout
# =============================================================================


def accuracy(y, t):
    """The fraction of rows whose argmax equals the label, as a Variable (not differentiable)."""
    y, t = as_variable(y), as_variable(t)
    predicted = y.data.argmax(axis=1).reshape(t.shape)
    return Variable(as_array((predicted == t.data).mean()))


class Dropout(Function):
    """Zeroes each element with probability `dropout_ratio` and scales the rest by 1/(1-ratio)."""

    def __init__(self, dropout_ratio):
        self.dropout_ratio = dropout_ratio

    def forward(self, x):
        keep = np.random.rand(*x.shape) > self.dropout_ratio
        scale = np.array(1 / (1 - self.dropout_ratio), dtype=_float_dtype(x.dtype))
        self.mask = keep * scale  # kept for backward: the same elements must pass the gradient
        return x * self.mask

    def backward(self, gy):
        return gy * self.mask

    backward_data = backward


def dropout(x, dropout_ratio=0.5):
    """Dropout in training; the identity (no node at all) under `test_mode()`."""
    x = as_variable(x)
    return Dropout(dropout_ratio)(x) if Config.train else x


# =============================================================================
# max / min / clip / embed_id
# =============================================================================


class Max(Function):
    """The gradient goes to every position that holds the maximum (ties all receive it)."""

    def __init__(self, axis=None, keepdims=False):
        self.axis = _as_axis(axis)
        self.keepdims = keepdims

    def forward(self, x):
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def _is_extreme(self):
        x, y = self.inputs[0].data, self.outputs[0]().data
        return x == y.reshape(_kept_shape(x.shape, self.axis))

    def backward(self, gy):
        return reshape(gy, _kept_shape(self.inputs[0].shape, self.axis)) * self._is_extreme()

    def backward_data(self, gy):
        return gy.reshape(_kept_shape(self.inputs[0].shape, self.axis)) * self._is_extreme()


class Min(Max):
    def forward(self, x):
        return x.min(axis=self.axis, keepdims=self.keepdims)


def max(x, axis=None, keepdims=False):
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims=False):
    return Min(axis, keepdims)(x)


class Clip(Function):
    """Gradient passes where x lies within [x_min, x_max] (bounds included)."""

    def __init__(self, x_min, x_max):
        self.x_min = x_min
        self.x_max = x_max

    def forward(self, x):
        return np.clip(x, self.x_min, self.x_max)

    def _inside(self):
        x = self.inputs[0].data
        return (x >= self.x_min) & (x <= self.x_max)

    def backward(self, gy):
        return gy * self._inside()

    backward_data = backward


def clip(x, x_min, x_max):
    return Clip(x_min, x_max)(x)


def embed_id(x, W):
    """Rows of W picked by the integer ids in x: W[x]."""
    return get_item(W, x)


# =============================================================================
# batch_norm
# =============================================================================


def _channels_last(a):
    """(N, C, H, W) as (N*H*W, C): each channel is normalized over the batch and every position."""
    return a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1]) if a.ndim == 4 else a


def _channels_first(a, shape: tuple):
    """The inverse of `_channels_last` for an x of `shape` (arrays and Variables alike)."""
    if len(shape) != 4:
        return a
    n, c, h, w = shape
    return a.reshape(n, h, w, c).transpose(0, 3, 1, 2)


class BatchNorm(Function):
    """gamma * (x - mean) / sqrt(var + eps) + beta per feature (per channel for 4-D x).

    In training, mean and var are the batch's (var biased) and the running averages
    `mean`/`var` given to the helper are updated in place (var scaled by m/(m-1), as
    DeZero does); under `test_mode()` the running averages normalize instead, so the
    output no longer depends on the rest of the batch.
    """

    def __init__(self, mean, var, decay, eps):
        self.avg_mean = mean
        self.avg_var = var
        self.decay = decay
        self.eps = eps

    def forward(self, x, gamma, beta):
        if x.ndim not in (2, 4):
            raise ValueError(f"batch_norm takes x of shape (N, D) or (N, C, H, W), not {x.shape}")
        xs = _channels_last(x)
        self.train = Config.train
        if self.train:
            mean, var = xs.mean(axis=0), xs.var(axis=0)
            inv_std = 1 / np.sqrt(var + self.eps)
            m = xs.size // gamma.size
            adjust = m / (m - 1.0 if m - 1.0 > 1.0 else 1.0)  # unbiased running variance
            self.avg_mean *= self.decay
            self.avg_mean += (1 - self.decay) * mean
            self.avg_var *= self.decay
            self.avg_var += (1 - self.decay) * adjust * var
        else:  # copies: a later training call changes the running averages in place
            mean = self.avg_mean.copy()
            inv_std = 1 / np.sqrt(self.avg_var + self.eps)
        self.mean, self.inv_std = mean, inv_std
        y = gamma * ((xs - mean) * inv_std) + beta
        return _channels_first(y, x.shape)

    def backward(self, gy):
        x, gamma = self.inputs[:2]
        xs, gys = _channels_last(x), _channels_last(gy)
        m = gys.shape[0]
        if self.train:  # mean and var depend on x: build them again as Variables
            xm = xs - sum(xs, axis=0) / m
            inv_std = (sum(xm * xm, axis=0) / m + self.eps) ** -0.5
        else:
            xm, inv_std = xs - self.mean, self.inv_std
        xc = xm * inv_std
        gbeta = sum(gys, axis=0)
        ggamma = sum(xc * gys, axis=0)
        gxs = gys - gbeta / m - xc * ggamma / m if self.train else gys
        return _channels_first(gxs * (gamma * inv_std), x.shape), ggamma, gbeta

    def backward_data(self, gy):
        x, gamma = self.inputs[0].data, self.inputs[1].data
        xs, gys = _channels_last(x), _channels_last(gy)
        m = gys.shape[0]
        xc = (xs - self.mean) * self.inv_std
        gbeta = gys.sum(axis=0)
        ggamma = (xc * gys).sum(axis=0)
        gxs = gys - gbeta / m - xc * ggamma / m if self.train else gys
        return _channels_first(gxs * (gamma * self.inv_std), x.shape), ggamma, gbeta


def batch_norm(x, gamma, beta, mean, var, decay=0.9, eps=2e-5):
    """Batch normalization; `mean` and `var` are the running averages (arrays, updated in training)."""
    return BatchNorm(mean, var, decay, eps)(x, gamma, beta)


batch_nrom = batch_norm  # DeZero's spelling, which its BatchNorm layer calls


# =============================================================================
# Variable methods that call the functions above (core.py cannot import this module)
# =============================================================================


class _VariableMethods:
    """The Variable methods that call functions of this module; `setup_variable` attaches them."""

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return reshape(self, shape)

    def transpose(self, *axes):
        if not axes:
            axes = None
        elif len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return transpose(self, axes)

    @property
    def T(self):
        return transpose(self)

    def sum(self, axis=None, keepdims=False):
        return sum(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return min(self, axis, keepdims)

    def matmul(self, other):
        return matmul(self, other)

    dot = __matmul__ = matmul

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __getitem__(self, slices):
        return get_item(self, slices)


_VARIABLE_METHODS = ("reshape", "transpose", "T", "sum", "max", "min", "matmul", "dot")
_VARIABLE_OPERATORS = ("__matmul__", "__rmatmul__", "__getitem__")


def setup_variable() -> None:
    """Attach to `Variable` the methods and operators that call functions of this module.

    The rule for what lives where: core.py holds `Variable`, `Function`, backward and the
    ops behind the arithmetic operators (+ - * / ** and unary -, with their broadcasting
    pair); every other op lives here, and so do the Variable methods that call one.
    """
    for name in _VARIABLE_METHODS + _VARIABLE_OPERATORS:
        setattr(Variable, name, vars(_VariableMethods)[name])
