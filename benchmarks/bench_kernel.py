"""What %%autodiff costs on top of a plain cell in a real kernel (not a test; run by hand).

bench_magic.py times cells in a shell without a kernel, where the widget's opening message is
built but never sent. Here the same MLP cell runs in an ipykernel started by jupyter_client,
timed from the execute request to its reply, so the kernel pays what it pays in a notebook:
encoding and sending the widget's opening message (the front end and the first snapshot) and
its display. Interleaved, best of N; between runs, outside the timing, the cell's names are
deleted, its widget closed and the garbage collected.

Run: .venv/bin/python benchmarks/bench_kernel.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import textwrap
import time

from bench_magic import MLP, SETUP, compare
from jupyter_client.manager import start_new_kernel

CLEAN_UP = """
for _name in set(globals()) - _names_before:
    del globals()[_name]
get_ipython().magics_manager.registry["AutodiffMagics"].close_all()
__import__("dezero_widget.summary").summary._memo.clear()  # (see bench_magic.clean_up)
__import__("gc").collect()
"""


def timed(client, code: str) -> float:
    started = time.perf_counter()
    reply = client.execute(code, reply=True, timeout=300)
    elapsed = time.perf_counter() - started
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the cell failed: {reply['content'].get('evalue')}")
    client.execute(CLEAN_UP, reply=True, timeout=300)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="runs of the cell, each way")
    args = parser.parse_args()
    environment = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    manager, client = start_new_kernel(env=environment)
    try:
        client.execute(
            "%load_ext dezero_widget\n" + SETUP + "\n_names_before = set(globals()) | {'_names_before'}",
            reply=True,
            timeout=120,
        )
        cell = textwrap.dedent(MLP.format(iterations=1000))
        compare(
            "MLP training, 1000 iterations, in a kernel",
            lambda magic: timed(client, "%%autodiff\n" + cell if magic else cell),
            args.repeats,
            1.1,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
