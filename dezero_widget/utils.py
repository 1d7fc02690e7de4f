"""DeZero's utilities: gradient checking, array helpers and DOT export of a graph.

The DOT export walks the graph with the protocol reader (iterative, so a
100,000-step chain needs no raised recursion limit); rendering a picture needs Graphviz's `dot`, which is
optional (`dezero_widget.show(y)` draws the graph in Jupyter without it).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

from dezero_widget.core import Variable
from dezero_widget.core import sum_to_shape as sum_to  # noqa: F401  (DeZero's array-level sum_to)
from dezero_widget.functions import logsumexp, reshape_sum_backward  # noqa: F401  (DeZero keeps them here)
from dezero_widget.reader import inputs_of, name_of, outputs_of, walk

# =============================================================================
# Gradient check
# =============================================================================

NUMERICAL_GRAD_EPS = 1e-4


def numerical_grad(f, x, *args, **kwargs) -> np.ndarray:
    """d(sum of f(x, *args, **kwargs))/dx by central differences, in float64.

    `f` receives a float64 copy of x's data with one element nudged at a time;
    the caller's x is never written to.
    """
    point = np.array(x.data if isinstance(x, Variable) else x, dtype=np.float64)
    grad = np.zeros_like(point)
    flat_point, flat_grad = point.reshape(-1), grad.reshape(-1)  # views: writes reach point / grad
    for i in range(flat_point.size):
        original = flat_point[i]
        flat_point[i] = original + NUMERICAL_GRAD_EPS
        above = _total(f(point, *args, **kwargs))
        flat_point[i] = original - NUMERICAL_GRAD_EPS
        below = _total(f(point, *args, **kwargs))
        flat_point[i] = original
        flat_grad[i] = (above - below) / (2 * NUMERICAL_GRAD_EPS)
    return grad


def _total(y) -> float:
    return float(np.sum(y.data if isinstance(y, Variable) else y, dtype=np.float64))


def gradient_check(f, x, *args, rtol=1e-4, atol=1e-5, **kwargs) -> bool:
    """True when backprop's gradient of f at x matches the numerical one.

    Works on a float64 copy of x, so neither x's data nor its grad changes;
    the grads of Variables among `args` are restored after the check too.
    On a mismatch both gradients are printed, as DeZero does.
    """
    numerical = numerical_grad(f, x, *args, **kwargs)
    point = Variable(np.array(x.data if isinstance(x, Variable) else x, dtype=np.float64))
    others = [(arg, arg.grad) for arg in args if isinstance(arg, Variable)]
    try:
        y = f(point, *args, **kwargs)
        y.backward()
    finally:
        for arg, grad in others:
            arg.grad = grad
    backprop = np.zeros_like(numerical) if point.grad is None else point.grad.data
    if backprop.shape != numerical.shape:
        raise ValueError(
            f"gradient_check: backprop gradient has shape {backprop.shape}, "
            f"numerical gradient has shape {numerical.shape}"
        )
    if np.allclose(numerical, backprop, rtol=rtol, atol=atol):
        return True
    print("gradient_check failed")
    print(f"  numerical: shape {numerical.shape}, first values {numerical.ravel()[:10]}")
    print(f"  backprop:  shape {backprop.shape}, first values {backprop.ravel()[:10]}")
    return False


# =============================================================================
# DOT export
# =============================================================================


def _dot_label(text: str) -> str:
    """Text safe inside a DOT double-quoted string (user names may hold quotes or backslashes)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _variable_node(v, verbose: bool) -> str:
    label = name_of(v) or ""
    if verbose and isinstance(v.data, np.ndarray):
        label += (": " if label else "") + f"{v.data.shape} {v.data.dtype}"
    return f'{id(v)} [label="{_dot_label(label)}", color=orange, style=filled]'


def _function_lines(f) -> list[str]:
    """A function's node and its edges, in the direction data flows."""
    lines = [
        f'{id(f)} [label="{_dot_label(type(f).__name__)}", shape=box, style=filled, fillcolor=lightblue]'
    ]
    lines += [f"{id(f)} -> {id(y)}" for y in outputs_of(f) if y is not None]
    lines += [f"{id(x)} -> {id(f)}" for x in inputs_of(f) if x is not None]
    return lines


def get_dot_graph(output, verbose: bool = True) -> str:
    """DOT text of everything upstream of `output` (a variable, or a list or tuple of
    them for one graph with several outputs): variables as orange ellipses (labelled
    `name: (shape) dtype` when verbose), functions as light-blue boxes, edges in the
    direction data flows. Each node appears once. Reads the graph through the DeZero
    protocol (`reader.py`), so a learner's own step-N classes export too."""
    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    lines = ["digraph g {"]
    for node in walk(outputs):
        if node.kind == "variable":
            lines.append(_variable_node(node.obj, verbose))
        else:
            lines.extend(_function_lines(node.obj))
    lines.append("}")
    return "\n".join(lines) + "\n"


def plot_dot_graph(output, verbose: bool = True, to_file: str = "graph.png"):
    """Write the graph's DOT text next to `to_file` (same name, `.dot`) and render it with Graphviz.

    Returns an `IPython.display.Image` of the picture when IPython is present
    (so a notebook shows it), else the picture's path. Without Graphviz's
    `dot` program it raises RuntimeError naming the .dot file it wrote.
    """
    stem, extension = os.path.splitext(to_file)
    dot_path = stem + ".dot"
    with open(dot_path, "w", encoding="utf-8") as file:
        file.write(get_dot_graph(output, verbose))
    if extension.lower() == ".dot":
        return dot_path
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            f"cannot render {to_file}: Graphviz's `dot` program is not installed "
            f"(install the graphviz system package). The DOT text was written to {dot_path}; "
            "dezero_widget.show(y) draws the graph in Jupyter without Graphviz."
        )
    subprocess.run([dot, dot_path, "-T", extension.lstrip(".") or "png", "-o", to_file], check=True)
    try:
        from IPython.display import Image
    except ImportError:
        return to_file
    return Image(filename=to_file)


# =============================================================================
# Convolution geometry (functions_conv.py and layers.py use these)
# =============================================================================


def pair(x) -> tuple:
    """An int `k` as `(k, k)`; a pair as itself. Kernel sizes, strides and pads take either."""
    if isinstance(x, (int, np.integer)):
        return (int(x), int(x))
    if isinstance(x, (tuple, list)) and len(x) == 2:
        return tuple(x)
    raise ValueError(f"expected an int or a pair of ints, not {x!r}")


def get_conv_outsize(input_size: int, kernel_size: int, stride: int, pad: int) -> int:
    """Output length of a convolution or pooling window sliding along `input_size` elements."""
    return (input_size + pad * 2 - kernel_size) // stride + 1


def get_deconv_outsize(size: int, k: int, s: int, p: int) -> int:
    """Output length of a transposed convolution: the input length that `get_conv_outsize` maps to `size`."""
    return s * (size - 1) + k - 2 * p


def max_backward_shape(x, axis) -> tuple:
    """The shape `max(x, axis)` has with its reduced axes kept (as size 1), ready to broadcast back."""
    shape = x.shape
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def array_equal(a, b) -> bool:
    """np.array_equal that also takes Variables (DeZero's tests use it)."""
    a = a.data if isinstance(a, Variable) else a
    b = b.data if isinstance(b, Variable) else b
    return bool(np.array_equal(a, b))


def array_allclose(a, b, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """np.allclose that also takes Variables, with DeZero's default tolerances."""
    a = a.data if isinstance(a, Variable) else a
    b = b.data if isinstance(b, Variable) else b
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


# =============================================================================
# Local files (the engine never downloads: the book's get_file(url) finds a file the user placed)
# =============================================================================

DATA_DIR_VARIABLE = "DEZERO_WIDGET_DATA"


def data_dir() -> str:
    """Where datasets and other book files are looked for: $DEZERO_WIDGET_DATA, else ~/.dezero
    (PyPI DeZero's download cache, so files it fetched before are found)."""
    return os.environ.get(DATA_DIR_VARIABLE) or os.path.join(os.path.expanduser("~"), ".dezero")


cache_dir = data_dir()  # DeZero's name; read when this module is imported. data_dir() reads it now.


def get_file(url: str, file_name: str | None = None) -> str:
    """The local path of the file `url` names (or `file_name`), in `data_dir()`.

    DeZero downloads it there; this engine never touches the network, so the file
    must already be there (PyPI DeZero's earlier downloads count). When it is
    missing, one FileNotFoundError says which file, where, and where to get it.
    """
    name = file_name or url[url.rfind("/") + 1 :]
    path = os.path.join(data_dir(), name)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{name} not found at {path}. dezero_widget never downloads: fetch {url} yourself "
            f"and save it there (or set {DATA_DIR_VARIABLE} to the directory that holds it)."
        )
    return path
