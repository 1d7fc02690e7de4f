"""How fast a snapshot refresh is, and how big a snapshot gets.

Prints the median time of ``graph.snapshot()`` on a 1,000-node graph (the
budget is 20 ms) for scalar and small-vector data, with the values unchanged (small arrays'
summaries are then reused) and after a ``backward()`` (every grad new), and the JSON bytes per node
of a 10,000-node scalar graph (the budget is 300). Uses our engine when it
imports, else the step-18 learner classes from tests/.

    python benchmarks/bench_trace.py
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout, and its tests.fixtures

from dezero_widget.trace import trace

try:
    from dezero_widget import Variable

    ENGINE = "dezero_widget"

    def build(functions, value):
        """A chain of `functions` alternating Add and Mul, each also reading x."""
        x = Variable(value, name="x")
        y = x
        for i in range(functions):
            y = y * x if i % 2 else y + x
        return y

    def as_grad(array):
        return Variable(array)

except ImportError:
    from tests.fixtures.learner_classes import Step18Variable as Variable
    from tests.fixtures.learner_classes import step18_add, step18_mul

    ENGINE = "learner step-18 classes"

    def build(functions, value):
        x = Variable(value, name="x")
        y = x
        for i in range(functions):
            y = step18_mul(y, x) if i % 2 else step18_add(y, x)
        return y

    def as_grad(array):
        return array


def median_refresh_ms(graph, repeats=50, before_each=None):
    """``before_each()``, if given, runs before each timed refresh (outside the timing)."""
    graph.snapshot()  # warm the dtype cache and the allocator
    times = []
    for _ in range(repeats):
        if before_each is not None:
            before_each()
        start = time.perf_counter()
        graph.snapshot()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main():
    print(f"engine: {ENGINE}")
    for label, value in [
        ("scalars", np.array(1.001)),
        # Values near 1, all different: every node's arrays differ (no summary is shared by
        # chance), and 500 products neither overflow nor vanish.
        ("vectors of 8", 1 + 0.001 * np.random.default_rng(0).standard_normal(8)),
        ("vectors of 100", 1 + 0.001 * np.random.default_rng(0).standard_normal(100)),
    ]:
        y = build(500, value)  # 501 variables + 500 functions
        y.backward(retain_grad=True)
        start = time.perf_counter()
        graph = trace(y)
        trace_ms = (time.perf_counter() - start) * 1000
        nodes = len(graph.variables) + len(graph.functions)
        unchanged = median_refresh_ms(graph)
        # Every grad a new array of new values, as a live refresh after a backward() sees them.
        after_backward = median_refresh_ms(
            graph, repeats=20, before_each=lambda y=y: y.backward(retain_grad=True)
        )
        print(
            f"{nodes} nodes, {label}: trace {trace_ms:.1f} ms, snapshot refresh median "
            f"{unchanged:.2f} ms unchanged, {after_backward:.2f} ms after a backward() (budget 20 ms)"
        )

    y = build(5000, np.array(1.0))
    y.backward(retain_grad=True)
    snapshot = trace(y, max_nodes=None).snapshot()
    size = len(json.dumps(snapshot, separators=(",", ":"), allow_nan=False))
    print(
        f"{len(snapshot['nodes'])} scalar nodes: {size} bytes, "
        f"{size / len(snapshot['nodes']):.0f} bytes/node (budget 300)"
    )

    big = Variable(np.random.default_rng(0).standard_normal((1000, 1000)))
    big.grad = as_grad(np.ones((1000, 1000)))
    one = trace(big).snapshot()
    print(
        f"one 1000x1000 variable with grad: "
        f"{len(json.dumps(one, separators=(',', ':'), allow_nan=False))} bytes (budget 2048), "
        f"refresh median {median_refresh_ms(trace(big), repeats=10):.1f} ms"
    )


if __name__ == "__main__":
    main()
