"""What the engine benchmarks share: one BLAS thread (set before numpy loads: 2-thread BLAS
makes small timings swing 10x on this shared machine), this checkout on sys.path, and the
comparators, PyPI dezero 0.0.13 (required: the [bench] extra) and CPU PyTorch (None when it
is not installed).

Import it before numpy: `from comparators import dezero, torch`.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if not hasattr(np, "int"):
    np.int = int  # PyPI dezero 0.0.13 still reads np.int, removed in numpy 1.24
try:
    import dezero
except ImportError:
    sys.exit("These benchmarks compare with PyPI dezero 0.0.13: .venv/bin/pip install -e '.[bench]'")

try:
    if os.environ.get("BENCH_WITHOUT_TORCH"):  # (instructions.py: torch's threads add noise)
        raise ImportError
    import torch
except ImportError:
    torch = None
else:
    torch.set_num_threads(1)

__all__ = ["dezero", "torch"]
