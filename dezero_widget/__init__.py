"""dezero_widget: a DeZero-compatible autodiff engine you can watch in Jupyter.

`import dezero_widget as dezero` runs the book's code; `%load_ext dezero_widget`
adds the `%%autodiff` magic; `dezero_widget.show(y)` draws a live graph.
The engine imports nothing from Jupyter: the widget and the magic load lazily.
"""

from dezero_widget import core, functions, utils
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

# DeZero's F.conv2d, F.pooling...: functions_conv builds on functions and utils, so it sits
# above them and cannot be imported by functions.py; its public ops are attached to the
# functions module here instead (the same move as setup_variable, for the same reason).
from dezero_widget import functions_conv  # noqa: E402

for _name in functions_conv.__all__:
    setattr(functions, _name, getattr(functions_conv, _name))
del _name

# The rest of the book (steps 44-60): layers, models, optimizers, datasets, as DeZero exposes them.
from dezero_widget import (  # noqa: E402
    cuda,
    dataloaders,
    datasets,
    layers,
    models,
    optimizers,
    transforms,
)
from dezero_widget.dataloaders import DataLoader, SeqDataLoader  # noqa: E402
from dezero_widget.datasets import Dataset  # noqa: E402
from dezero_widget.functions import setup_variable  # noqa: E402
from dezero_widget.layers import Layer  # noqa: E402
from dezero_widget.models import Model  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Config",
    "DataLoader",
    "Dataset",
    "Function",
    "Layer",
    "Model",
    "Parameter",
    "SeqDataLoader",
    "Variable",
    "as_array",
    "as_variable",
    "cuda",
    "dataloaders",
    "datasets",
    "functions",
    "functions_conv",
    "layers",
    "models",
    "no_grad",
    "optimizers",
    "setup_variable",
    "show",
    "test_mode",
    "transforms",
    "using_config",
    "utils",
]


_JUPYTER_PACKAGES = ("anywidget", "ipywidgets", "IPython", "traitlets", "comm")


def _jupyter_part(module: str):
    """The widget or the magic module, or one ImportError saying what to install: the engine
    works without Jupyter, so those packages are an extra (`dezero_widget[widget]`)."""
    import importlib

    try:
        return importlib.import_module(f"dezero_widget.{module}")
    except ImportError as error:
        if (error.name or "").split(".")[0] not in _JUPYTER_PACKAGES:
            raise
        raise ImportError(
            f"dezero_widget's {module} needs {error.name}, which is not installed: "
            "pip install 'dezero_widget[widget]' (anywidget, ipywidgets, IPython)"
        ) from None


def _plot_model(model, *inputs, to_file=None, **options):
    """Model.plot: the graph of model(*inputs) in the live widget (DeZero draws it with
    Graphviz; with ``to_file`` that still happens)."""
    if to_file is not None:
        return utils.plot_dot_graph(model(*inputs), verbose=True, to_file=to_file)
    if core._watching_blocks:  # already watched (a %%autodiff cell): its watchers stay
        y = model(*inputs)
    else:  # watched, so that the layers' calls are recorded and drawn as boxes
        with core.watching():
            y = model(*inputs)
    return show(y, **options)


models.Model.plot = _plot_model  # the widget layer sits above models, so it is attached here


def show(*variables, names=None, **options):
    """Display-ready live graph of everything upstream of `variables` (see `GraphWidget`)."""
    return _jupyter_part("widget").show(*variables, names=names, **options)


def __getattr__(name):
    if name == "GraphWidget":
        return _jupyter_part("widget").GraphWidget
    raise AttributeError(f"module 'dezero_widget' has no attribute {name!r}")


def load_ipython_extension(ipython):
    _jupyter_part("magic").load_ipython_extension(ipython)


def unload_ipython_extension(ipython):
    _jupyter_part("magic").unload_ipython_extension(ipython)
