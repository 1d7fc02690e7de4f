"""Layers: objects that own Parameters (and other layers) and call functions on them.

DeZero's names, constructor arguments, parameter names and initial values: with the same
`np.random.seed`, every layer draws the same random numbers in the same order as PyPI
DeZero 0.0.13, so a model starts from the same weights. Two departures, both deliberate:
`params()` yields parameters in the order they were assigned (DeZero iterates a set, whose
order changes between runs), and `save_weights` replaces the file atomically.
"""

from __future__ import annotations

import os
import tempfile
import weakref

import numpy as np

import dezero_widget.functions as F
from dezero_widget import core
from dezero_widget.core import Parameter
from dezero_widget.functions_conv import conv2d, deconv2d
from dezero_widget.utils import pair

# =============================================================================
# Layer (base class)
# =============================================================================


def _ref(obj):
    """A weak reference when `obj` allows one, else a callable that returns it (ints, lists)."""
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj


def _refs(objects) -> list:
    """`[_ref(obj) for obj in objects]`, without a Python call per object when all allow weak
    references (Variables and arrays do): a layer makes these on every call."""
    try:
        return list(map(weakref.ref, objects))
    except TypeError:
        return [_ref(obj) for obj in objects]


class LayerCall:
    """One call of a layer made while a `core.watching` block is open.

    The functions recorded during the call are tagged with it (``function._layer_call``, see
    ``core.Function.__call__``), so ``trace`` can draw them in a box named after the layer.
    ``parent`` is the call of the layer that called this one (a Model calling its Linear
    layers), ``inputs``/``outputs`` weak references to what the call took and returned (they
    stay outside the box). Outside a watching block no LayerCall is ever made.
    """

    __slots__ = ("inputs", "layer", "outputs", "parent")

    def __init__(self, layer, parent, inputs):
        self.layer = layer
        self.parent = parent
        self.inputs = inputs
        self.outputs = []


def _watched_forward(layer, inputs):
    """``layer.forward(*inputs)`` with its LayerCall the innermost one while it runs: O(1) per call."""
    parent = core._layer_call
    call = LayerCall(layer, parent, _refs(inputs))
    core._layer_call = call
    try:
        outputs = layer.forward(*inputs)
    finally:
        core._layer_call = parent
    call.outputs = _refs(outputs if isinstance(outputs, tuple) else (outputs,))
    return outputs


class Layer:
    """A container of Parameters: any attribute holding a Parameter or a Layer is one of its params."""

    def __init__(self):
        self._params = {}  # attribute name -> None: a set that keeps assignment order

    def __setattr__(self, name, value):
        if isinstance(value, (Parameter, Layer)):
            self._params[name] = None
        elif name in self.__dict__.get("_params", ()):
            del self._params[name]  # replaced by something that is not a parameter any more
        super().__setattr__(name, value)

    def __delattr__(self, name):
        self._params.pop(name, None)
        super().__delattr__(name)

    def __call__(self, *inputs):
        # While an observer (the widget) is watching, the call is recorded; else nothing is done.
        outputs = _watched_forward(self, inputs) if core._watching_blocks else self.forward(*inputs)
        if not isinstance(outputs, tuple):
            outputs = (outputs,)
        # never Parameters or Layers: skip the registry check of __setattr__ (this runs every call)
        object.__setattr__(self, "inputs", _refs(inputs))
        object.__setattr__(self, "outputs", _refs(outputs))
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def params(self):
        """Every Parameter of this layer and of the layers it holds, depth first (an iterator)."""
        # gathered into a list first: nested generators would cost a Python call per parameter
        # and level, and the optimizer and cleargrads ask for the parameters on every step
        params = []
        for name in self._params:
            obj = self.__dict__[name]
            if isinstance(obj, Layer):
                params.extend(obj.params())
            else:
                params.append(obj)
        return iter(params)

    def cleargrads(self):
        for param in self.params():
            param.cleargrad()

    def to_cpu(self):
        """Arrays are always on the CPU here (numpy only): nothing to move."""
        return self

    def to_gpu(self):
        """No GPU support (see `dezero_widget.cuda`): parameters stay numpy arrays."""
        return self

    def _flatten_params(self, params_dict, parent_key=""):
        """`{"l0/W": W, ...}`: each Parameter under the path of attribute names that reaches it."""
        for name in self._params:
            obj = self.__dict__[name]
            key = f"{parent_key}/{name}" if parent_key else name
            if isinstance(obj, Layer):
                obj._flatten_params(params_dict, key)
            else:
                params_dict[key] = obj

    def save_weights(self, path):
        """Write every parameter to an .npz file (keys as in DeZero, e.g. "l0/W").

        Atomic: the arrays go to a temporary file in the same directory, which then
        replaces `path` in one step, so an interrupted save leaves the old file intact.
        As with numpy, ".npz" is appended to a path that lacks it.
        """
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        params_dict = {}
        self._flatten_params(params_dict)
        unset = [key for key, param in params_dict.items() if param.data is None]
        if unset:
            raise ValueError(
                f"cannot save {', '.join(unset)}: not initialized yet (layers create their weights "
                "on the first call; run the model on an input once, then save)"
            )
        arrays = {key: param.data for key, param in params_dict.items()}
        directory = os.path.dirname(os.path.abspath(path))
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez_compressed(file, **arrays)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
            if os.path.exists(temporary):
                os.remove(temporary)
            raise

    def load_weights(self, path):
        """Set every parameter from an .npz file written by `save_weights` (or by DeZero's).

        Parameters not created yet (lazy layers) take the stored array; a parameter that
        exists must have the stored shape. A key missing from the file raises KeyError.
        """
        params_dict = {}
        self._flatten_params(params_dict)
        with np.load(path) as npz:
            missing = [key for key in params_dict if key not in npz.files]
            if missing:
                raise KeyError(f"{os.fspath(path)} has no array for {', '.join(missing)}")
            for key, param in params_dict.items():
                array = npz[key]
                if param.data is not None and param.data.shape != array.shape:
                    raise ValueError(
                        f"{key}: the file holds shape {array.shape}, the model has {param.data.shape}"
                    )
                param.data = array


# =============================================================================
# Linear / Conv2d / Deconv2d
# =============================================================================


def _scaled_normal(shape: tuple, dtype, fan_in: int) -> np.ndarray:
    """DeZero's initial weights: standard normal draws cast to `dtype`, times sqrt(1 / fan_in).

    The scale is a numpy float64 scalar, so numpy's own promotion decides the result's
    dtype, exactly as in DeZero: float32 on numpy 1, float64 on numpy 2 (NEP 50).
    """
    return np.random.randn(*shape).astype(dtype) * np.sqrt(1 / fan_in)


class Linear(Layer):
    """y = x @ W + b. W (in_size, out_size) is created on the first call when in_size is None."""

    def __init__(self, out_size, nobias=False, dtype=np.float32, in_size=None):
        super().__init__()
        self.in_size = in_size
        self.out_size = out_size
        self.dtype = dtype
        self.W = Parameter(None, name="W")
        if in_size is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_size, dtype=dtype), name="b")

    def _init_W(self, xp=np):
        self.W.data = _scaled_normal((self.in_size, self.out_size), self.dtype, self.in_size)

    def forward(self, x):
        if self.W.data is None:
            self.in_size = x.shape[1]
            self._init_W()
        return F.linear(x, self.W, self.b)


class _ConvLayer(Layer):
    """What Conv2d and Deconv2d share: arguments, lazy in_channels, the bias."""

    def __init__(
        self, out_channels, kernel_size, stride=1, pad=0, nobias=False, dtype=np.float32, in_channels=None
    ):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.dtype = dtype
        self.W = Parameter(None, name="W")
        if in_channels is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_channels, dtype=dtype), name="b")

    def _init_W(self, xp=np):
        c, oc = self.in_channels, self.out_channels
        kh, kw = pair(self.kernel_size)
        shape = (oc, c, kh, kw) if isinstance(self, Conv2d) else (c, oc, kh, kw)
        self.W.data = _scaled_normal(shape, self.dtype, c * kh * kw)

    def _lazy_init(self, x):
        if self.W.data is None:
            self.in_channels = x.shape[1]
            self._init_W()


class Conv2d(_ConvLayer):
    """2-D convolution with W (out_channels, in_channels, KH, KW); W is created on the first call
    when in_channels is None."""

    def forward(self, x):
        self._lazy_init(x)
        return conv2d(x, self.W, self.b, self.stride, self.pad)


class Deconv2d(_ConvLayer):
    """Transposed convolution with W (in_channels, out_channels, KH, KW)."""

    def forward(self, x):
        self._lazy_init(x)
        return deconv2d(x, self.W, self.b, self.stride, self.pad)


# =============================================================================
# RNN / LSTM
# =============================================================================


class RNN(Layer):
    """An Elman RNN: h = tanh(x @ Wx + bx + h_prev @ Wh). Call `reset_state()` between sequences."""

    def __init__(self, hidden_size, in_size=None):
        super().__init__()
        self.x2h = Linear(hidden_size, in_size=in_size)
        # DeZero passes in_size here too, and so draws h2h's weights at the same moment (first
        # call when in_size is None); h2h's input is the hidden state, so its in_size is hidden_size.
        self.h2h = Linear(hidden_size, in_size=None if in_size is None else hidden_size, nobias=True)
        self.h = None

    def reset_state(self):
        self.h = None

    def forward(self, x):
        a = self.x2h(x) if self.h is None else self.x2h(x) + self.h2h(self.h)
        h_new = F.tanh(a)
        self.h = h_new
        return h_new


class LSTM(Layer):
    """Long short-term memory: forget, input and output gates and a cell state `c`."""

    def __init__(self, hidden_size, in_size=None):
        super().__init__()
        h, i = hidden_size, in_size
        self.x2f = Linear(h, in_size=i)
        self.x2i = Linear(h, in_size=i)
        self.x2o = Linear(h, in_size=i)
        self.x2u = Linear(h, in_size=i)
        self.h2f = Linear(h, in_size=h, nobias=True)
        self.h2i = Linear(h, in_size=h, nobias=True)
        self.h2o = Linear(h, in_size=h, nobias=True)
        self.h2u = Linear(h, in_size=h, nobias=True)
        self.reset_state()

    def reset_state(self):
        self.h = None
        self.c = None

    def forward(self, x):
        if self.h is None:
            f = F.sigmoid(self.x2f(x))
            i = F.sigmoid(self.x2i(x))
            o = F.sigmoid(self.x2o(x))
            u = F.tanh(self.x2u(x))
        else:
            f = F.sigmoid(self.x2f(x) + self.h2f(self.h))
            i = F.sigmoid(self.x2i(x) + self.h2i(self.h))
            o = F.sigmoid(self.x2o(x) + self.h2o(self.h))
            u = F.tanh(self.x2u(x) + self.h2u(self.h))
        c_new = i * u if self.c is None else f * self.c + i * u
        h_new = o * F.tanh(c_new)
        self.h, self.c = h_new, c_new
        return h_new


# =============================================================================
# EmbedID / BatchNorm
# =============================================================================


class EmbedID(Layer):
    """Row `i` of W (in_size, out_size) for each id `i` in x."""

    def __init__(self, in_size, out_size):
        super().__init__()
        self.W = Parameter(np.random.randn(in_size, out_size), name="W")

    def forward(self, x):
        return F.embed_id(x, self.W)


class BatchNorm(Layer):
    """Batch normalization with learned gamma and beta, and running averages for test mode.

    All four are Parameters (created on the first call, in x's dtype) so that `save_weights`
    stores the running averages too; the averages never get gradients.
    """

    def __init__(self):
        super().__init__()
        self.avg_mean = Parameter(None, name="avg_mean")
        self.avg_var = Parameter(None, name="avg_var")
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")

    def _init_params(self, x):
        d, dtype = x.shape[1], x.dtype
        if self.avg_mean.data is None:
            self.avg_mean.data = np.zeros(d, dtype=dtype)
        if self.avg_var.data is None:
            self.avg_var.data = np.ones(d, dtype=dtype)
        if self.gamma.data is None:
            self.gamma.data = np.ones(d, dtype=dtype)
        if self.beta.data is None:
            self.beta.data = np.zeros(d, dtype=dtype)

    def forward(self, x):
        if self.avg_mean.data is None:
            self._init_params(x)
        return F.batch_norm(x, self.gamma, self.beta, self.avg_mean.data, self.avg_var.data)
