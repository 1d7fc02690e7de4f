"""Instruction counts (valgrind's callgrind) of the workloads whose targets are ratios.

Wall-clock times on a shared machine swing by 20% from one run to the next; instruction
counts do not, so they are what to compare before and after a change (the targets themselves
stay wall-clock ratios: bench_training.py, bench_magic.py). Not a test. Needs valgrind.

    python benchmarks/instructions.py spiral   # one spiral training step: ours and the numpy floor
    python benchmarks/instructions.py magic    # bench_magic.py's MLP cell: plain and under %%autodiff

Every figure is the difference of two runs that differ only in how many iterations they do,
so start-up and imports cancel out. PyTorch is not imported (its threads add noise), the cyclic
garbage collector is off (when a full collection falls depends on every object of the process)
and so are the magic's live updates (under valgrind every cell is slow enough to trigger them).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(workload: str, count: int) -> None:
    """The workload itself (in the process valgrind watches)."""
    gc.disable()  # when a full collection falls, and its cost, depend on the whole process's objects
    if workload.startswith("spiral"):
        import bench_training

        import dezero_widget

        problem = bench_training.spiral_problem(epochs=count)
        if workload == "spiral-ours":
            bench_training.mlp_train(dezero_widget, problem)
        else:
            bench_training.mlp_train_numpy(problem)
        return
    import bench_magic
    from IPython.testing.globalipapp import get_ipython

    import dezero_widget.watch

    dezero_widget.watch.LIVE_MIN_INTERVAL = float("inf")
    shell = get_ipython()
    shell.run_line_magic("load_ext", "dezero_widget")
    shell.run_cell(bench_magic.SETUP)

    def run_cell(cell: str, magic: bool) -> None:
        shell.run_cell(bench_magic.MAGIC_LINE + cell if magic else cell, store_history=False).raise_error()

    warm_up = textwrap.dedent(bench_magic.MLP.format(iterations=1))
    run_cell(warm_up, False)  # both ways first, in both workloads: imports and first calls
    run_cell(warm_up, True)
    # Its widget would keep listening to every grad change, and refresh when its clock says so:
    # a count that depends on valgrind's speed.
    shell.magics_manager.registry["AutodiffMagics"].close_all()
    run_cell(textwrap.dedent(bench_magic.MLP.format(iterations=count)), workload == "magic-autodiff")


def _instructions(workload: str, count: int) -> int:
    environment = dict(os.environ, PYTHONHASHSEED="0", BENCH_WITHOUT_TORCH="1")
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__]
        + ["--run", workload, str(count)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


def _per_iteration(workload: str, small: int, large: int, iterations_per_count: int) -> tuple[float, float]:
    """(instructions per iteration, the rest) from runs of `small` and `large` counts."""
    low, high = _instructions(workload, small), _instructions(workload, large)
    per_iteration = (high - low) / ((large - small) * iterations_per_count)
    return per_iteration, low - per_iteration * small * iterations_per_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["spiral", "magic"])
    parser.add_argument("--run", nargs=2, metavar=("WORKLOAD", "COUNT"), help=argparse.SUPPRESS)
    if "--run" in sys.argv:
        _, workload, count = sys.argv[1:4]
        _run(workload, int(count))
        return
    args = parser.parse_args()
    if args.workload == "spiral":  # 10 steps an epoch
        ours, _ = _per_iteration("spiral-ours", 3, 13, 10)
        floor, _ = _per_iteration("spiral-numpy", 3, 13, 10)
        print(f"spiral step: ours {ours:,.0f}, numpy {floor:,.0f} instructions; ratio {ours / floor:.2f}")
    else:
        plain, plain_rest = _per_iteration("magic-plain", 100, 1000, 1)
        magic, magic_rest = _per_iteration("magic-autodiff", 100, 1000, 1)
        once = magic_rest - plain_rest  # what %%autodiff adds per cell (the rest is the same)
        print(
            f"MLP cell: per iteration plain {plain:,.0f}, %%autodiff {magic:,.0f} instructions; "
            f"%%autodiff adds {once / 1e6:.1f} M once per cell; 1,000 iterations: "
            f"%%autodiff adds {(1000 * (magic - plain) + once) / (1000 * plain):.1%} to the loop's count"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
