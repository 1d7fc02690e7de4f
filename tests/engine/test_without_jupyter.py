"""Without the Jupyter extra the engine works, and the widget parts say what to install."""

import subprocess
import sys

import pytest

MISSING = "import sys\nsys.modules['anywidget'] = None  # as if anywidget were not installed\n"
HINT = "pip install 'dezero_widget[widget]'"


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MISSING + code], capture_output=True, text=True, timeout=120)


def test_star_import_and_the_engine_work_without_anywidget():
    result = run(
        "from dezero_widget import *\nimport numpy as np\n"
        "x = Variable(np.array(3.0))\ny = x * x\ny.backward()\nprint(x.grad)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "variable(6.0)\n"


@pytest.mark.parametrize(
    "call",
    [
        "dezero_widget.show(dezero_widget.Variable(np.array(1.0)))",
        "dezero_widget.GraphWidget",
        "dezero_widget.load_ipython_extension(None)",
    ],
)
def test_the_widget_parts_raise_one_import_error_naming_the_extra(call):
    result = run(
        f"import numpy as np\nimport dezero_widget\ntry:\n    {call}\nexcept ImportError as e:\n    print(e)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"{HINT} (anywidget, ipywidgets, IPython)")
    assert "needs anywidget" in result.stdout
