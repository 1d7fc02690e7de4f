"""No module of the package imports upward, not even inside a function body.

The order below is the rule of docs/architecture.md, bottom first: a module may import only
modules listed before it. The package's ``__init__`` and ``__main__`` sit on top of everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dezero_widget"
LAYERS = [
    "protocol",  # the Python <-> front-end contract: shapes and shared defaults
    "reader",  # the DeZero protocol: what a variable and a function look like
    "summary",  # array summaries
    "core",  # engine: Variable, Function, config, backward, arithmetic
    "functions",  # engine: every other op, and setup_variable()
    "utils",  # engine: gradient check, DOT export, convolution geometry
    "functions_conv",  # engine: convolution and pooling (attached to functions by __init__)
    "cuda",  # numpy-only stand-in for DeZero's GPU switches
    "layers",  # Layer, Linear, Conv2d, RNN, LSTM, BatchNorm, EmbedID
    "models",  # Model, MLP, Sequential, VGG16, ResNet
    "optimizers",  # SGD ... Adam, gradient hooks
    "transforms",  # per-example transforms of the datasets
    "datasets",  # Spiral, SinCurve, MNIST, CIFAR10 ... (local files only)
    "dataloaders",  # DataLoader, SeqDataLoader
    "trace",  # graph + snapshot
    "replay",  # backward step by step, gradient check
    "names",  # notebook names
    "live",  # live refresh hooks
    "widget",  # GraphWidget, show()
    "watch",  # what a %%autodiff cell's engine reports
    "magic",  # %%autodiff
]
TOP = {"__init__", "__main__"}


def imported_modules(path: Path) -> set[str]:
    """The package's modules that ``path`` imports anywhere: top level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "dezero_widget" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


def test_every_module_has_a_layer():
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    assert modules - TOP == set(LAYERS)


@pytest.mark.parametrize("module", LAYERS)
def test_no_module_imports_upward(module):
    allowed = set(LAYERS[: LAYERS.index(module)])
    upward = imported_modules(PACKAGE / f"{module}.py") - allowed
    assert not upward, f"dezero_widget.{module} imports {sorted(upward)}, which sit above it"


def test_the_engine_knows_nothing_of_the_trace_or_jupyter_layers():
    engine = ("core", "functions")
    for module in engine:
        assert imported_modules(PACKAGE / f"{module}.py") <= set(engine), module
