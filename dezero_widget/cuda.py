"""DeZero's `cuda` module, for a numpy-only engine: the book's GPU switches all say "CPU".

`gpu_enable` is False, so the book's `if dezero.cuda.gpu_enable: model.to_gpu()` skips the
GPU; `get_array_module` is always numpy; `as_cupy` raises, naming what is missing.
"""

from __future__ import annotations

import numpy as np

from dezero_widget.core import Variable

gpu_enable = False
cupy = None  # DeZero binds cupy here when it imports; this engine never does


def get_array_module(x):
    """The array module for `x`: always numpy here (DeZero returns cupy for GPU arrays)."""
    return np


def as_numpy(x) -> np.ndarray:
    """`x` (a Variable, an array or a scalar) as a numpy array."""
    if isinstance(x, Variable):
        x = x.data
    return np.asarray(x)


def as_cupy(x):
    raise RuntimeError(
        "dezero_widget runs on numpy only: there is no GPU (CuPy) support. "
        "Leave arrays on the CPU (dezero_widget.cuda.gpu_enable is False)."
    )
