"""The names a notebook binds to variables (and layers): labels for the widget and the magic."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from dezero_widget.reader import is_layer, is_variable

# Names IPython itself binds in the user namespace: _, __, ___, _5, _i, _ii, _i5, _ih, _oh, _dh.
_IPYTHON_NAME = re.compile(r"_{1,3}|_i{1,3}|_i?\d+|_[iod]h")


def user_names(shell: Any) -> dict[str, Any]:
    """The variables, ndarrays and layers in an IPython shell's namespace, under the names the
    user chose (IPython's own names such as ``_`` and ``_i3`` left out): node labels. An array's
    name labels the variable that holds it (``F.linear(x_data, W)`` wraps ``x_data``); a
    layer's (``model``) labels its box."""
    return {
        name: value
        for name, value in _user_bindings(shell)
        if isinstance(value, np.ndarray) or is_variable(value) or is_layer(value)
    }


def user_variables(shell: Any) -> dict[str, Any]:
    """The variables among ``user_names``."""
    return {name: value for name, value in _user_bindings(shell) if is_variable(value)}


def _user_bindings(shell: Any) -> list[tuple[str, Any]]:
    """The user namespace's names and values, IPython's own names left out."""
    hidden = set(shell.user_ns_hidden)
    return [
        (name, value)
        for name, value in list(shell.user_ns.items())
        if name not in hidden and not _IPYTHON_NAME.fullmatch(name)
    ]
