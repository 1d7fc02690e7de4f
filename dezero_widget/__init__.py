"""dezero_widget: a DeZero-compatible autodiff engine you can watch in Jupyter.

`import dezero_widget as dezero` runs the book's code; `%load_ext dezero_widget`
adds the `%%autodiff` magic; `dezero_widget.show(y)` draws a live graph.
The engine imports nothing from Jupyter: the widget and the magic load lazily.
"""

from dezero_widget import functions, utils
from dezero_widget.core import (
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    no_grad,
    test_mode,
    using_config,
)

# The one place where core meets functions: Variable's methods that call functions
# (x.reshape, x.T, x.sum, x @ W, x[i], ...) are attached here, as DeZero's setup_variable does.
functions.setup_variable()

__version__ = "0.1.0"

__all__ = [
    "Config",
    "Function",
    "GraphWidget",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "functions",
    "no_grad",
    "show",
    "test_mode",
    "using_config",
    "utils",
]


def show(*variables, names=None, **options):
    """Display-ready live graph of everything upstream of `variables` (see `GraphWidget`)."""
    from dezero_widget.widget import show as _show

    return _show(*variables, names=names, **options)


def __getattr__(name):
    if name == "GraphWidget":
        from dezero_widget.widget import GraphWidget

        return GraphWidget
    raise AttributeError(f"module 'dezero_widget' has no attribute {name!r}")


def load_ipython_extension(ipython):
    from dezero_widget.magic import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):
    from dezero_widget.magic import unload_ipython_extension as _unload

    _unload(ipython)
