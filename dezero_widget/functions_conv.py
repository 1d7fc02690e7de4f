"""Convolution, transposed convolution, pooling, im2col and col2im: DeZero's `functions_conv`.

Same names, shapes and values as DeZero (zero padding, pooling windows that count the
padding, the first maximum of a window gets the gradient). Arrays are laid out so that
every product is one batched matmul with no transposing copy: an image becomes columns
of shape (N, C*KH*KW, OH*OW), and (OC, C*KH*KW) @ columns gives the output already in
(N, OC, OH, OW) order.

Each op's `backward` is built from the ops of this module (so `create_graph=True` can
differentiate again: the derivative of a convolution is a transposed convolution and
vice versa) and `backward_data` runs the same three array helpers directly.

The package's `__init__` attaches the public helpers to `dezero_widget.functions`
(DeZero's `F.conv2d`...): this module builds on functions.py, which cannot import it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dezero_widget.core import Function, as_variable, broadcast_to, needs_grad
from dezero_widget.functions import linear
from dezero_widget.functions import sum as _sum
from dezero_widget.utils import get_conv_outsize, get_deconv_outsize, pair

__all__ = [
    "average_pooling",
    "col2im",
    "conv2d",
    "conv2d_simple",
    "deconv2d",
    "im2col",
    "pooling",
    "pooling_simple",
]

# =============================================================================
# Array helpers: im2col / col2im and the three products behind every convolution
# =============================================================================


def _out_hw(shape: tuple, kernel_size, stride, pad) -> tuple:
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel_size), pair(stride), pair(pad)
    return get_conv_outsize(shape[2], kh, sh, ph), get_conv_outsize(shape[3], kw, sw, pw)


def _windows(img: np.ndarray, kernel_size, stride, pad) -> np.ndarray:
    """A read-only view (N, C, OH, OW, KH, KW) of every window of the zero-padded image."""
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel_size), pair(stride), pair(pad)
    if ph or pw:
        img = np.pad(img, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return sliding_window_view(img, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def im2col_array(img: np.ndarray, kernel_size, stride, pad, to_matrix: bool = True) -> np.ndarray:
    """Every window of the image as a column: (N, C, KH, KW, OH, OW), or with `to_matrix`
    one row per output position, (N*OH*OW, C*KH*KW), as DeZero lays them out."""
    windows = _windows(img, kernel_size, stride, pad)
    n, c, oh, ow, kh, kw = windows.shape
    if to_matrix:
        return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    return np.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3))


def col2im_array(col: np.ndarray, img_shape: tuple, kernel_size, stride, pad, to_matrix: bool = True):
    """The adjoint of im2col: each column value is added back to the pixel it was read from."""
    n, c, h, w = img_shape
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel_size), pair(stride), pair(pad)
    oh, ow = _out_hw(img_shape, kernel_size, stride, pad)
    if to_matrix:  # rows (n, oh, ow), columns (c, kh, kw) -> (N, C, KH, KW, OH, OW)
        col = col.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    else:
        col = col.reshape(n, c, kh, kw, oh, ow)
    overlapping = sh < kh or sw < kw
    tiles_exactly = (sh, sw) == (kh, kw) and (oh * kh, ow * kw) == (h + 2 * ph, w + 2 * pw)
    img = (np.empty if tiles_exactly else np.zeros)((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for j in range(kh):
        rows = slice(j, j + sh * (oh - 1) + 1, sh)
        for i in range(kw):
            cols = slice(i, i + sw * (ow - 1) + 1, sw)
            if overlapping:
                img[:, :, rows, cols] += col[:, :, j, i]
            else:  # each pixel is written by at most one window: no need to add
                img[:, :, rows, cols] = col[:, :, j, i]
    return img[:, :, ph : ph + h, pw : pw + w] if ph or pw else img


def _columns(x: np.ndarray, kernel_size, stride, pad) -> np.ndarray:
    """im2col as (N, C*KH*KW, OH*OW): the right operand of a batched matmul."""
    col = im2col_array(x, kernel_size, stride, pad, to_matrix=False)
    n, c, kh, kw, oh, ow = col.shape
    return col.reshape(n, c * kh * kw, oh * ow)


def _conv(x: np.ndarray, W: np.ndarray, stride, pad) -> np.ndarray:
    """y[n, o] = sum over c, kh, kw of W[o, c, kh, kw] * (window of x[n, c])."""
    oc, _, kh, kw = W.shape
    oh, ow = _out_hw(x.shape, (kh, kw), stride, pad)
    y = W.reshape(oc, -1) @ _columns(x, (kh, kw), stride, pad)
    return y.reshape(x.shape[0], oc, oh, ow)


def _deconv(x: np.ndarray, W: np.ndarray, stride, pad, outsize) -> np.ndarray:
    """The transposed convolution: each x[n, c] pixel adds W[c] (a (OC, KH, KW) patch) into the output.

    `outsize` (H, W) of the output; None takes the smallest one, `get_deconv_outsize`.
    """
    c, oc, kh, kw = W.shape
    n, _, h, w = x.shape
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    if outsize is None:
        outsize = (get_deconv_outsize(h, kh, sh, ph), get_deconv_outsize(w, kw, sw, pw))
    out_h, out_w = pair(outsize)
    if _out_hw((n, oc, out_h, out_w), (kh, kw), stride, pad) != (h, w):
        raise ValueError(
            f"deconv2d: outsize {(out_h, out_w)} does not give back a {h}x{w} input "
            f"with kernel {(kh, kw)}, stride {(sh, sw)}, pad {(ph, pw)}"
        )
    col = W.reshape(c, -1).T @ x.reshape(n, c, h * w)  # (N, OC*KH*KW, H*W)
    return col2im_array(col, (n, oc, out_h, out_w), (kh, kw), stride, pad, to_matrix=False)


def _conv_grad_w(x: np.ndarray, gy: np.ndarray, kernel_size, stride, pad) -> np.ndarray:
    """g[o, c, kh, kw] = sum over n and output positions of gy[n, o] * (window of x[n, c])."""
    n, o = gy.shape[:2]
    kh, kw = pair(kernel_size)
    col = _columns(x, (kh, kw), stride, pad)  # (N, C*KH*KW, L)
    g = np.matmul(gy.reshape(n, o, -1), col.transpose(0, 2, 1)).sum(axis=0)
    return g.reshape(o, x.shape[1], kh, kw)


# =============================================================================
# [simple version] conv2d_simple / pooling_simple: the book's first versions, from existing ops
# =============================================================================


def conv2d_simple(x, W, b=None, stride=1, pad=0):
    """conv2d built from im2col, reshape, transpose and linear (several nodes), as the book first writes it."""
    x, W = as_variable(x), as_variable(W)
    n = x.shape[0]
    oc, _, kh, kw = W.shape
    oh, ow = _out_hw(x.shape, (kh, kw), stride, pad)
    col = im2col(x, (kh, kw), stride, pad, to_matrix=True)
    y = linear(col, W.reshape(oc, -1).transpose(), b)
    return y.reshape(n, oh, ow, oc).transpose(0, 3, 1, 2)


def pooling_simple(x, kernel_size, stride=1, pad=0):
    """Max pooling built from im2col, reshape, max and transpose, as the book first writes it."""
    x = as_variable(x)
    n, c = x.shape[:2]
    kh, kw = pair(kernel_size)
    oh, ow = _out_hw(x.shape, kernel_size, stride, pad)
    col = im2col(x, kernel_size, stride, pad, to_matrix=True).reshape(-1, kh * kw)
    return col.max(axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)


# =============================================================================
# conv2d / deconv2d (and the gradient of their weights, a function of its own)
# =============================================================================


class Conv2d(Function):
    """2-D convolution (cross-correlation, as in every framework): x (N, C, H, W), W (OC, C, KH, KW)."""

    def __init__(self, stride=1, pad=0):
        self.stride = pair(stride)
        self.pad = pair(pad)

    def forward(self, x, W, b=None):
        y = _conv(x, W, self.stride, self.pad)
        if b is not None:
            y += b.reshape(-1, 1, 1)  # in place, as DeZero: y keeps its dtype
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        gx = deconv2d(gy, W, stride=self.stride, pad=self.pad, outsize=x.shape[2:])
        gW = Conv2DGradW(W.shape[2:], self.stride, self.pad)(x, gy)
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, _sum(gy, axis=(0, 2, 3)))

    def backward_data(self, gy):
        x, W = self.inputs[:2]
        gx = _deconv(gy, W.data, self.stride, self.pad, x.shape[2:]) if needs_grad(x) else None
        gW = _conv_grad_w(x.data, gy, W.shape[2:], self.stride, self.pad) if needs_grad(W) else None
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, gy.sum(axis=(0, 2, 3)))


def conv2d(x, W, b=None, stride=1, pad=0):
    """Convolve images x (N, C, H, W) with filters W (OC, C, KH, KW), plus a bias b (OC,) if given."""
    return Conv2d(stride, pad)(x, W) if b is None else Conv2d(stride, pad)(x, W, b)


class Deconv2d(Function):
    """Transposed convolution (the gradient of conv2d with respect to its input): W (C, OC, KH, KW)."""

    def __init__(self, stride=1, pad=0, outsize=None):
        self.stride = pair(stride)
        self.pad = pair(pad)
        self.outsize = None if outsize is None else pair(outsize)

    def forward(self, x, W, b=None):
        y = _deconv(x, W, self.stride, self.pad, self.outsize)
        if b is not None:
            y += b.reshape(-1, 1, 1)
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        gx = conv2d(gy, W, stride=self.stride, pad=self.pad)
        gW = Conv2DGradW(W.shape[2:], self.stride, self.pad)(gy, x)
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, _sum(gy, axis=(0, 2, 3)))

    def backward_data(self, gy):
        x, W = self.inputs[:2]
        gx = _conv(gy, W.data, self.stride, self.pad) if needs_grad(x) else None
        gW = _conv_grad_w(gy, x.data, W.shape[2:], self.stride, self.pad) if needs_grad(W) else None
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, gy.sum(axis=(0, 2, 3)))


def deconv2d(x, W, b=None, stride=1, pad=0, outsize=None):
    """Transposed convolution of x (N, C, H, W) with W (C, OC, KH, KW); `outsize` picks (H, W) of the output."""
    f = Deconv2d(stride, pad, outsize)
    return f(x, W) if b is None else f(x, W, b)


class Conv2DGradW(Function):
    """The filter gradient of a convolution, from the image `x` and the output gradient `gy`.

    A function of its own so that conv2d has second derivatives: it is bilinear, and its
    derivatives are a transposed convolution (for x) and a convolution (for gy).
    """

    def __init__(self, kernel_size, stride, pad):
        self.kernel_size = pair(kernel_size)
        self.stride = stride
        self.pad = pad

    def forward(self, x, gy):
        return _conv_grad_w(x, gy, self.kernel_size, self.stride, self.pad)

    def backward(self, ggW):
        x, gy = self.inputs
        gx = deconv2d(gy, ggW, stride=self.stride, pad=self.pad, outsize=x.shape[2:])
        return gx, conv2d(x, ggW, stride=self.stride, pad=self.pad)

    def backward_data(self, ggW):
        x, gy = self.inputs
        gx = _deconv(gy.data, ggW, self.stride, self.pad, x.shape[2:]) if needs_grad(x) else None
        ggy = _conv(x.data, ggW, self.stride, self.pad) if needs_grad(gy) else None
        return gx, ggy


# =============================================================================
# pooling (max) / average_pooling
# =============================================================================


class Pooling(Function):
    """Max over each window; the first maximum of a window (row-major) gets the gradient."""

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        y, self.indexes = _max_and_first_argmax(_pool_columns(x, self.kernel_size, self.stride, self.pad))
        return y

    def backward(self, gy):
        return Pooling2DGrad(self)(gy)

    def backward_data(self, gy):
        return _unpool(gy, self.indexes, self.inputs[0].shape, self.kernel_size, self.stride, self.pad)


def _pool_columns(x, kernel_size, stride, pad):
    """im2col as (N, C, KH*KW, OH, OW): one contiguous plane per position in the window."""
    col = im2col_array(x, kernel_size, stride, pad, to_matrix=False)
    n, c, kh, kw, oh, ow = col.shape
    return col.reshape(n, c, kh * kw, oh, ow)


def _max_and_first_argmax(col):
    """The max over axis 2 and where it first occurs (DeZero's argmax), plane by plane.

    A running maximum: plane k takes over exactly where it beats every earlier plane,
    and k is then the largest index so far, so `max(index, k * beats)` records it.
    """
    kk = col.shape[2]
    y = col[:, :, 0].copy()
    index_type = np.min_scalar_type(kk - 1).type
    indexes = np.zeros(y.shape, dtype=index_type)
    for k in range(1, kk):
        plane = col[:, :, k]
        beats = plane > y
        np.maximum(y, plane, out=y)
        np.maximum(indexes, beats * index_type(k), out=indexes)
    return y, indexes


def _unpool(gy, indexes, x_shape, kernel_size, stride, pad):
    """Each gy value added to the pixel its window's maximum came from (pooling's adjoint)."""
    kk = np.prod(pair(kernel_size))
    picked = indexes[:, :, None] == np.arange(kk, dtype=indexes.dtype).reshape(kk, 1, 1)
    return col2im_array(picked * gy[:, :, None], x_shape, kernel_size, stride, pad, to_matrix=False)


def _gather_pooled(x, indexes, kernel_size, stride, pad):
    """x read at the positions the pooling picked (pooling's derivative applied to x)."""
    col = _pool_columns(x, kernel_size, stride, pad)
    return np.take_along_axis(col, indexes[:, :, None].astype(np.intp), axis=2)[:, :, 0]


class _ByPoolingIndexes:
    """What the functions that reuse the positions a Pooling picked (its derivatives) keep of it."""

    def __init__(self, mpool2d: Pooling):
        self.kernel_size = mpool2d.kernel_size
        self.stride = mpool2d.stride
        self.pad = mpool2d.pad
        self.input_shape = mpool2d.inputs[0].shape
        self.indexes = mpool2d.indexes
        self.mpool2d = mpool2d


class Pooling2DGrad(_ByPoolingIndexes, Function):
    """Pooling's backward as a function of gy (linear: it routes gy through the picked positions)."""

    def forward(self, gy):
        return _unpool(gy, self.indexes, self.input_shape, self.kernel_size, self.stride, self.pad)

    def backward(self, ggx):
        return Pooling2DWithIndexes(self.mpool2d)(ggx)

    def backward_data(self, ggx):
        return _gather_pooled(ggx, self.indexes, self.kernel_size, self.stride, self.pad)


class Pooling2DWithIndexes(_ByPoolingIndexes, Function):
    """An image read at a pooling's picked positions (the transpose of Pooling2DGrad)."""

    def forward(self, x):
        return _gather_pooled(x, self.indexes, self.kernel_size, self.stride, self.pad)

    def backward(self, gy):
        return Pooling2DGrad(self.mpool2d)(gy)

    def backward_data(self, gy):
        return _unpool(gy, self.indexes, self.input_shape, self.kernel_size, self.stride, self.pad)


def pooling(x, kernel_size, stride=1, pad=0):
    """Max pooling of x (N, C, H, W); padding is zeros, as in DeZero."""
    return Pooling(kernel_size, stride, pad)(x)


class AveragePooling(Function):
    """The mean of each window; padded zeros count (the divisor is always KH*KW)."""

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        return _windows(x, self.kernel_size, self.stride, self.pad).mean(axis=(4, 5))

    def backward(self, gy):
        n, c, oh, ow = gy.shape
        kh, kw = pair(self.kernel_size)
        share = broadcast_to((gy / (kh * kw)).reshape(n, c, 1, 1, oh, ow), (n, c, kh, kw, oh, ow))
        return col2im(share, self.inputs[0].shape, self.kernel_size, self.stride, self.pad, to_matrix=False)

    def backward_data(self, gy):
        n, c, oh, ow = gy.shape
        kh, kw = pair(self.kernel_size)
        share = np.broadcast_to((gy / (kh * kw)).reshape(n, c, 1, 1, oh, ow), (n, c, kh, kw, oh, ow))
        return col2im_array(share, self.inputs[0].shape, self.kernel_size, self.stride, self.pad, False)


def average_pooling(x, kernel_size, stride=1, pad=0):
    return AveragePooling(kernel_size, stride, pad)(x)


# =============================================================================
# im2col / col2im as differentiable functions (each is the other's derivative)
# =============================================================================


class Im2col(Function):
    def __init__(self, kernel_size, stride, pad, to_matrix):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.to_matrix = to_matrix

    def forward(self, x):
        self.input_shape = x.shape
        return im2col_array(x, self.kernel_size, self.stride, self.pad, self.to_matrix)

    def backward(self, gy):
        return col2im(gy, self.input_shape, self.kernel_size, self.stride, self.pad, self.to_matrix)

    def backward_data(self, gy):
        return col2im_array(gy, self.input_shape, self.kernel_size, self.stride, self.pad, self.to_matrix)


def im2col(x, kernel_size, stride=1, pad=0, to_matrix=True):
    """Every kernel-sized window of x (N, C, H, W) as a column.

    The output is (N, C, KH, KW, OH, OW), or with `to_matrix` (N*OH*OW, C*KH*KW):
    one row per output position, ready to multiply by the filters as a matrix.
    """
    return Im2col(kernel_size, stride, pad, to_matrix)(x)


class Col2im(Function):
    def __init__(self, input_shape, kernel_size, stride, pad, to_matrix):
        self.input_shape = tuple(input_shape)
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.to_matrix = to_matrix

    def forward(self, x):
        return col2im_array(x, self.input_shape, self.kernel_size, self.stride, self.pad, self.to_matrix)

    def backward(self, gy):
        return im2col(gy, self.kernel_size, self.stride, self.pad, self.to_matrix)

    def backward_data(self, gy):
        return im2col_array(gy, self.kernel_size, self.stride, self.pad, self.to_matrix)


def col2im(x, input_shape, kernel_size, stride=1, pad=0, to_matrix=True):
    """im2col's adjoint: columns summed back into an image of `input_shape` (overlaps add up)."""
    return Col2im(input_shape, kernel_size, stride, pad, to_matrix)(x)
