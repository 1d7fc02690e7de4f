"""What %%autodiff costs on top of a plain cell (not a test; run by hand).

Runs the same cell plainly and under ``%%autodiff --no-display`` in one IPython shell,
interleaved, best of N, and prints the ratio. Targets (issue 9): the book's 2-layer MLP
trained for 1,000 iterations <= 1.1x the plain cell; a 300,000-step scalar chain <= 1.2x.

Run: .venv/bin/python benchmarks/bench_magic.py [--quick]
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse
import gc
import statistics
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from IPython.testing.globalipapp import get_ipython

from dezero_widget import summary

SETUP = """
import numpy as np
from dezero_widget import Variable
import dezero_widget.functions as F
"""

# The book's step-43 network: y = sin(2 pi x) + noise, 1 -> 10 -> 1, sigmoid, SGD.
MLP = """
np.random.seed(0)
x = np.random.rand(100, 1)
y = np.sin(2 * np.pi * x) + np.random.rand(100, 1)
W1, b1 = Variable(0.01 * np.random.randn(1, 10)), Variable(np.zeros(10))
W2, b2 = Variable(0.01 * np.random.randn(10, 1)), Variable(np.zeros(1))
for i in range({iterations}):
    y_pred = F.linear(F.sigmoid(F.linear(x, W1, b1)), W2, b2)
    loss = F.mean_squared_error(y, y_pred)
    for p in (W1, b1, W2, b2):
        p.cleargrad()
    loss.backward()
    for p in (W1, b1, W2, b2):
        p.data -= 0.2 * p.grad.data
"""

CHAIN = """
x = Variable(np.array(0.5))
y = x
for _ in range({steps}):
    y = F.sin(y) * 0.9 + y * 0.1
y.backward()
"""


MAGIC_LINE = "%%autodiff --no-display\n"


def clean_up(shell, names_before: set) -> None:
    """Free what the previous run left (the names its cell bound, the magic's widget) and
    collect, outside the timing: else each run pays for freeing the run before it, a different
    amount after a plain run than after a magic one (a 300,000-step graph takes seconds).
    Summaries kept by content are forgotten too: every run of the seeded cell ends with the
    same arrays, which a first run would summarise."""
    for name in set(shell.user_ns) - names_before:
        del shell.user_ns[name]
    shell.magics_manager.registry["AutodiffMagics"].close_all()
    summary._memo.clear()
    gc.collect()


def timed_run(shell, cell: str, magic: bool) -> float:
    names_before = set(shell.user_ns)
    started = time.perf_counter()
    # Both through run_cell, as a notebook runs them: the same IPython overhead either way.
    result = shell.run_cell(MAGIC_LINE + cell if magic else cell, store_history=False)
    result.raise_error()
    elapsed = time.perf_counter() - started
    clean_up(shell, names_before)
    return elapsed


def compare(name: str, run: Callable[[bool], float], repeats: int, target: float) -> None:
    """Times ``run(magic)`` both ways, interleaved, and prints the ratios against ``target``."""
    plain, magic = [], []
    for index in range(repeats):  # interleaved, so drift on a shared machine hits both
        for use_magic in (False, True) if index % 2 == 0 else (True, False):  # either first, by turns
            (magic if use_magic else plain).append(run(use_magic))
    ratio = min(magic) / min(plain)
    # Each magic run over the plain run of the same pair: a slow stretch of a shared machine
    # hits both of a pair, where it can make one best-of-N and not the other.
    paired = statistics.median(m / p for p, m in zip(plain, magic))
    verdict = "met" if ratio <= target else "MISSED"
    print(
        f"{name}: plain {min(plain) * 1e3:.1f} ms, %%autodiff {min(magic) * 1e3:.1f} ms, "
        f"ratio {ratio:.3f} (target <= {target}: {verdict}); median of paired ratios {paired:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke check")
    parser.add_argument("--only", choices=["mlp", "chain"], help="run one workload")
    parser.add_argument(
        "--repeats",
        type=int,
        help="runs of each cell, each way (default 40, the chain 2; given: the chain half)",
    )
    args = parser.parse_args()
    shell = get_ipython()
    shell.run_line_magic("load_ext", "dezero_widget")
    shell.run_cell(SETUP)
    # The MLP cell is short and this machine's neighbours are not: more runs steady its best.
    iterations, steps, repeats, chain_repeats = (100, 10_000, 2, 2) if args.quick else (1000, 300_000, 40, 2)
    if args.repeats:
        repeats, chain_repeats = args.repeats, max(2, args.repeats // 2)
    if args.only in (None, "mlp"):
        cell = textwrap.dedent(MLP.format(iterations=iterations))
        compare(
            f"MLP training, {iterations} iterations",
            lambda magic: timed_run(shell, cell, magic),
            repeats,
            1.1,
        )
    if args.only in (None, "chain"):
        chain = textwrap.dedent(CHAIN.format(steps=steps))
        compare(
            f"scalar chain, {steps:,} steps",
            lambda magic: timed_run(shell, chain, magic),
            chain_repeats,
            1.2,
        )


if __name__ == "__main__":
    main()
