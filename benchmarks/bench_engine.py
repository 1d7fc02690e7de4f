"""Our engine against PyPI DeZero, CPU PyTorch and hand-written numpy, as ratios.

Every workload runs with each engine in the same process, rounds interleaved
(ours, dezero, torch, numpy, then again), and keeps each engine's best time,
so machine noise hits all engines alike. Before timing, every engine's
gradients (or trained weights) are checked against ours with np.allclose: a
fast wrong answer cannot pass. The targets come from issue 2.

    python benchmarks/bench_engine.py            # full sizes, a few minutes
    python benchmarks/bench_engine.py --quick    # small sizes, a smoke check
    python benchmarks/bench_engine.py --only mlp

PyTorch is optional (its columns say "-" when it is not installed).
"""

from comparators import dezero, torch  # first: pins BLAS to one thread before numpy loads

# isort: split

import argparse
import gc
import importlib.metadata
import itertools
import math
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import dezero.functions as DF
import numpy as np

import dezero_widget
import dezero_widget.functions as F

ENGINES = ("ours", "dezero", "torch", "numpy")
SLOW_RUN_SECONDS = 5.0  # a comparator whose single run takes longer is not repeated (ours always is)
LINEAR_DOUBLING_LIMIT = 2.4  # time ratio per doubling of branches that still counts as linear


class Api(NamedTuple):
    """The DeZero-style API both our engine and PyPI dezero offer."""

    Variable: type
    F: Any


OURS = Api(dezero_widget.Variable, F)
DEZERO = Api(dezero.Variable, DF)


def grad_of(variable) -> np.ndarray:
    return variable.grad.data


# --------------------------------------------------------------------------
# Workloads, written once for the DeZero API and once for torch / numpy
# --------------------------------------------------------------------------


def chain(api: Api, steps: int) -> np.ndarray:
    """y = sin(y) * 0.9 + y * 0.1, repeated: 4 functions per step."""
    x = api.Variable(np.array(0.5))
    y = x
    for _ in range(steps):
        y = api.F.sin(y) * 0.9 + y * 0.1
    y.backward()
    return grad_of(x)


def chain_torch(steps: int) -> np.ndarray:
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(steps):
        y = torch.sin(y) * 0.9 + y * 0.1
    y.backward()
    return x.grad.numpy()


def branches(api: Api, count: int) -> np.ndarray:
    """One x feeding `count` branches sin(x * k), summed by repeated add: 3 functions per branch."""
    x = api.Variable(np.array(0.5))
    y = api.F.sin(x * 1)
    for k in range(2, count + 1):
        y = y + api.F.sin(x * k)
    y.backward()
    return grad_of(x)


def branches_torch(count: int) -> np.ndarray:
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = torch.sin(x * 1)
    for k in range(2, count + 1):
        y = y + torch.sin(x * k)
    y.backward()
    return x.grad.numpy()


def seed(api: Api, graphs: int) -> np.ndarray:
    """The learner's notebook at scale: one x reused, cleargrad between small graphs."""
    x = api.Variable(np.array(3.0))
    for _ in range(graphs):
        x.cleargrad()
        y = (x + x) + x
        y.backward()
    return grad_of(x)


def seed_torch(graphs: int) -> np.ndarray:
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    for _ in range(graphs):
        x.grad = None
        y = (x + x) + x
        y.backward()
    return x.grad.numpy()


@dataclass(frozen=True)
class MlpProblem:
    """A 784-100-10 sigmoid MLP on one fixed batch (float32, as the book's MNIST)."""

    x: np.ndarray
    t: np.ndarray
    params: tuple  # W1, b1, W2, b2
    iterations: int
    lr: float = 0.1

    @classmethod
    def make(cls, batch: int, iterations: int) -> "MlpProblem":
        rng = np.random.default_rng(0)
        f32 = np.float32
        params = (
            (rng.standard_normal((784, 100)) / math.sqrt(784)).astype(f32),
            np.zeros(100, f32),
            (rng.standard_normal((100, 10)) / math.sqrt(100)).astype(f32),
            np.zeros(10, f32),
        )
        return cls(rng.random((batch, 784), f32), rng.integers(0, 10, batch), params, iterations)


def mlp(api: Api, problem: MlpProblem) -> tuple:
    """Forward, softmax cross entropy, backward, SGD; returns the trained weights and last loss."""
    params = [api.Variable(p.copy()) for p in problem.params]
    W1, b1, W2, b2 = params
    for _ in range(problem.iterations):
        h = api.F.sigmoid(api.F.linear(problem.x, W1, b1))
        loss = api.F.softmax_cross_entropy(api.F.linear(h, W2, b2), problem.t)
        for p in params:
            p.cleargrad()
        loss.backward()
        for p in params:
            p.data -= problem.lr * p.grad.data
    return tuple(p.data for p in params) + (loss.data,)


def mlp_torch(problem: MlpProblem) -> tuple:
    params = [torch.tensor(p, requires_grad=True) for p in problem.params]
    W1, b1, W2, b2 = params
    x, t = torch.from_numpy(problem.x), torch.from_numpy(problem.t)
    for _ in range(problem.iterations):
        h = torch.sigmoid(x @ W1 + b1)
        loss = torch.nn.functional.cross_entropy(h @ W2 + b2, t)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= problem.lr * p.grad
    return tuple(p.detach().numpy() for p in params) + (loss.detach().numpy(),)


def mlp_numpy(problem: MlpProblem) -> tuple:
    """The floor: the same math by hand, computing only the gradients SGD needs."""
    W1, b1, W2, b2 = (p.copy() for p in problem.params)
    x, t, n = problem.x, problem.t, len(problem.x)
    rows = np.arange(n)
    for _ in range(problem.iterations):
        h = np.tanh((x @ W1 + b1) * 0.5) * 0.5 + 0.5
        z = h @ W2 + b2
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_p[rows, t].sum() / n
        gz = np.exp(log_p)
        gz[rows, t] -= 1
        gz /= n
        gW2, gb2 = h.T @ gz, gz.sum(axis=0)
        gh = (gz @ W2.T) * h * (1 - h)
        gW1, gb1 = x.T @ gh, gh.sum(axis=0)
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            p -= problem.lr * g
    return W1, b1, W2, b2, np.asarray(loss)


def matmul_problem(size: int, layers: int) -> tuple:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((size, size))
    weights = [rng.standard_normal((size, size)) / math.sqrt(size) for _ in range(layers)]
    return x, weights


def matmul_chain(api: Api, x0: np.ndarray, weights: list) -> tuple:
    """x @ W1 @ ... @ Wn, summed; gradients of x and every W."""
    x = api.Variable(x0)
    ws = [api.Variable(w) for w in weights]
    y = x
    for w in ws:
        y = api.F.matmul(y, w)
    api.F.sum(y).backward()
    return (grad_of(x),) + tuple(grad_of(w) for w in ws)


def matmul_chain_torch(x0: np.ndarray, weights: list) -> tuple:
    x = torch.tensor(x0, requires_grad=True)
    ws = [torch.tensor(w, requires_grad=True) for w in weights]
    y = x
    for w in ws:
        y = y @ w
    y.sum().backward()
    return (x.grad.numpy(),) + tuple(w.grad.numpy() for w in ws)


def matmul_chain_numpy(x0: np.ndarray, weights: list) -> tuple:
    """The floor: the same forward and backward matmuls by hand."""
    activations = [x0]
    for w in weights:
        activations.append(activations[-1] @ w)
    g = np.ones_like(activations[-1])
    weight_grads = []
    for w, a in zip(reversed(weights), reversed(activations[:-1])):
        weight_grads.append(a.T @ g)
        g = g @ w.T
    return (g,) + tuple(reversed(weight_grads))


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table: a value per engine, and the ratio targets for ours."""

    name: str
    values: dict  # engine -> seconds (or bytes when unit == "MB")
    targets: dict  # engine -> the most ours/engine may be
    unit: str = "ms"
    notes: list = field(default_factory=list)


def check_same(name: str, results: dict) -> None:
    """Every engine's gradients must match ours, or the timing means nothing."""
    reference = results["ours"]
    reference = reference if isinstance(reference, tuple) else (reference,)
    for engine, result in results.items():
        result = result if isinstance(result, tuple) else (result,)
        assert len(result) == len(reference), f"{name}: {engine} returned {len(result)} arrays"
        for i, (mine, theirs) in enumerate(zip(reference, result)):
            tolerance = {"rtol": 1e-4, "atol": 1e-5} if mine.dtype == np.float32 else {}
            assert np.allclose(mine, theirs, **tolerance), (
                f"{name}: {engine} disagrees with ours on result {i}: "
                f"max |diff| {np.max(np.abs(np.asarray(mine) - np.asarray(theirs)))}"
            )


def best_times(name: str, runs: dict, repeats: int) -> dict:
    """Best-of-`repeats` seconds per engine, rounds interleaved; results checked on round one."""
    best: dict = {}
    results: dict = {}
    for round_number in range(repeats):
        for engine, run in runs.items():
            if round_number and engine != "ours" and best[engine] > SLOW_RUN_SECONDS:
                continue
            gc.collect()
            start = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - start
            results.setdefault(engine, result)
            best[engine] = min(best.get(engine, math.inf), elapsed)
        if round_number == 0:
            check_same(name, results)
    return best


def peak_bytes(run: Callable[[], Any]) -> int:
    """tracemalloc's peak (Python objects and numpy buffers) while `run` builds and backprops."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def with_torch(runs: dict, torch_run: Callable[[], Any]) -> dict:
    if torch is not None:
        runs["torch"] = torch_run
    return runs


def us_per_op(times: dict, ops: int) -> str:
    return "us/op: " + ", ".join(f"{engine} {seconds / ops * 1e6:.2f}" for engine, seconds in times.items())


# --------------------------------------------------------------------------
# The workloads as table rows
# --------------------------------------------------------------------------


def bench_chain(sizes: dict, repeats: int) -> list:
    rows = []
    for steps in sizes["chain"]:
        runs = {"ours": lambda s=steps: chain(OURS, s), "dezero": lambda s=steps: chain(DEZERO, s)}
        times = best_times(f"chain {steps}", with_torch(runs, lambda s=steps: chain_torch(s)), repeats)
        rows.append(
            Row(f"chain {steps:,} steps", times, {"dezero": 0.33}, notes=[us_per_op(times, 4 * steps)])
        )
    return rows


def bench_branches(sizes: dict, repeats: int) -> list:
    rows = []
    for count in sizes["branches"]:
        runs = {"ours": lambda n=count: branches(OURS, n), "dezero": lambda n=count: branches(DEZERO, n)}
        times = best_times(f"branches {count}", with_torch(runs, lambda n=count: branches_torch(n)), repeats)
        rows.append(Row(f"branches {count:,}", times, {"dezero": 0.1}))
    for engine in rows[0].values:
        per_doubling = [
            later.values[engine] / earlier.values[engine] for earlier, later in itertools.pairwise(rows)
        ]
        text = ", ".join(f"{r:.2f}" for r in per_doubling)
        if engine == "ours":
            verdict = "PASS" if max(per_doubling) <= LINEAR_DOUBLING_LIMIT else "MISS"
            text += f" (linear: <={LINEAR_DOUBLING_LIMIT} {verdict})"
        rows[-1].notes.append(f"time x per doubling of branches, {engine}: {text}")
    return rows


def bench_seed(sizes: dict, repeats: int) -> list:
    graphs = sizes["seed"]
    runs = {"ours": lambda: seed(OURS, graphs), "dezero": lambda: seed(DEZERO, graphs)}
    times = best_times("seed", with_torch(runs, lambda: seed_torch(graphs)), repeats)
    return [Row(f"seed x{graphs:,} graphs", times, {"dezero": 0.33})]


def bench_mlp(sizes: dict, repeats: int) -> list:
    problem = MlpProblem.make(batch=100, iterations=sizes["mlp"])
    runs = {
        "ours": lambda: mlp(OURS, problem),
        "dezero": lambda: mlp(DEZERO, problem),
        "numpy": lambda: mlp_numpy(problem),
    }
    times = best_times("mlp", with_torch(runs, lambda: mlp_torch(problem)), repeats)
    return [Row(f"mlp 784-100-10 x{problem.iterations}", times, {"numpy": 1.3})]


def bench_matmul(sizes: dict, repeats: int) -> list:
    size, layers = sizes["matmul"]
    x0, weights = matmul_problem(size, layers)
    runs = {
        "ours": lambda: matmul_chain(OURS, x0, weights),
        "dezero": lambda: matmul_chain(DEZERO, x0, weights),
        "numpy": lambda: matmul_chain_numpy(x0, weights),
    }
    times = best_times("matmul", with_torch(runs, lambda: matmul_chain_torch(x0, weights)), repeats)
    return [Row(f"matmul {layers}x {size}^2", times, {"numpy": 1.05})]


def bench_memory(sizes: dict, repeats: int) -> list:
    steps = sizes["chain"][-1]
    peaks = {
        "ours": peak_bytes(lambda: chain(OURS, steps)),
        "dezero": peak_bytes(lambda: chain(DEZERO, steps)),
    }
    note = "tracemalloc peak; torch allocates outside tracemalloc's view, so it is not compared"
    return [Row(f"peak mem chain {steps:,}", peaks, {"dezero": 0.5}, unit="MB", notes=[note])]


WORKLOADS = {
    "chain": bench_chain,
    "branches": bench_branches,
    "seed": bench_seed,
    "mlp": bench_mlp,
    "matmul": bench_matmul,
    "memory": bench_memory,
}
FULL_SIZES = {
    "chain": (10_000, 100_000),
    "branches": (1000, 2000, 4000),
    "seed": 1000,
    "mlp": 50,
    "matmul": (1000, 10),
}
QUICK_SIZES = {
    "chain": (1000, 10_000),
    "branches": (100, 200, 400),
    "seed": 100,
    "mlp": 5,
    "matmul": (200, 10),
}


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def versions() -> str:
    torch_version = torch.__version__ if torch is not None else "not installed (torch columns skipped)"
    return "\n".join(
        [
            f"python {platform.python_version()} on {platform.platform()} ({platform.machine()}, {os.cpu_count()} cpus)",
            f"numpy {np.__version__}, dezero {importlib.metadata.version('dezero')}, torch {torch_version}",
            f"dezero_widget {dezero_widget.__version__}; recursion limit {sys.getrecursionlimit()} (never raised);"
            f" BLAS threads 1; rounds interleaved, best time kept",
        ]
    )


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value * 1e3:.1f} ms" if unit == "ms" else f"{value / 2**20:.1f} MB"


def format_ratio(row: Row, engine: str) -> str:
    if "ours" not in row.values or engine not in row.values:
        return "-"
    ratio = row.values["ours"] / row.values[engine]
    target = row.targets.get(engine)
    if target is None:
        return f"{ratio:.3f}"
    return f"{ratio:.3f} <={target:g} {'PASS' if ratio <= target else 'MISS'}"


def print_table(rows: list) -> None:
    header = ["workload", *ENGINES, "ours/dezero", "ours/torch", "ours/numpy"]
    lines = [
        [row.name, *(format_value(row.values.get(e), row.unit) for e in ENGINES)]
        + [format_ratio(row, e) for e in ("dezero", "torch", "numpy")]
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    for cells in [header, *lines]:
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip())
    for row in rows:
        for note in row.notes:
            print(f"  {row.name}: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 rounds: a smoke check")
    parser.add_argument("--only", choices=sorted(WORKLOADS), help="run one workload")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per workload (default 5, quick 2)")
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    repeats = args.repeats or (2 if args.quick else 5)

    print(versions())
    print()
    rows = []
    for name, bench in WORKLOADS.items():
        if args.only in (None, name):
            rows.extend(bench(sizes, repeats))
    print_table(rows)


if __name__ == "__main__":
    main()
