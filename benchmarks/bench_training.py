"""Training with layers, models and optimizers: ours against hand-written numpy, PyPI DeZero and PyTorch.

Three workloads, each a whole training loop as the book writes it (forward, loss,
cleargrads, backward, optimizer.update):

- spiral: step 48's MLP((10, 3)) on the spiral dataset, batch 30, SGD(lr=1.0); target: ours
  <= 1.3x the same math hand-written in numpy.
- mnist-shaped: MLP((1000, 10)) on random 784-pixel float32 inputs, batch 100, SGD(lr=0.1):
  step 51's sizes, where array work dominates; no target, it shows where the spiral's
  ratio comes from.
- cnn: one small CNN training step (Conv2d(16, 3, pad=1) -> relu -> pooling(2, 2) -> Linear(10),
  batch 32 of 1x28x28 inputs, SGD); target: ours <= 0.8x PyPI DeZero.

Every engine starts from the same weights and batches; before timing, each engine's trained
weights must match ours (np.allclose), so a fast wrong answer cannot pass. Rounds are
interleaved (every engine once, then again) and each engine's best time is kept.

    python benchmarks/bench_training.py            # full sizes, about a minute
    python benchmarks/bench_training.py --quick    # a smoke check

PyTorch is optional (its column says "-" when it is not installed).
"""

from comparators import dezero, torch  # first: pins BLAS to one thread before numpy loads

# isort: split

import argparse
import gc
import importlib.metadata
import math
import os
import platform
import time
from dataclasses import dataclass

import dezero.datasets
import dezero.functions
import dezero.layers
import dezero.models
import dezero.optimizers
import numpy as np

import dezero_widget

ENGINES = ("ours", "dezero", "torch", "numpy")

# --------------------------------------------------------------------------
# MLP training (spiral and MNIST-shaped)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MlpProblem:
    """A classification set and the book's training loop settings."""

    x: np.ndarray
    t: np.ndarray
    hidden: int
    classes: int
    epochs: int
    batch: int
    lr: float
    seed: int = 0

    def batches(self):
        """(epoch, batch indices) in the order the book's loop draws them (one permutation per epoch)."""
        iterations = math.ceil(len(self.x) / self.batch)
        for epoch in range(self.epochs):
            index = np.random.permutation(len(self.x))
            for i in range(iterations):
                yield epoch, i, index[i * self.batch : (i + 1) * self.batch]


def spiral_problem(epochs: int) -> MlpProblem:
    x, t = dezero_widget.datasets.get_spiral(train=True)
    return MlpProblem(x, t, hidden=10, classes=3, epochs=epochs, batch=30, lr=1.0)


def mnist_shaped_problem(epochs: int) -> MlpProblem:
    rng = np.random.default_rng(0)
    x = rng.random((1000, 784), dtype=np.float32)
    return MlpProblem(x, rng.integers(0, 10, 1000), hidden=1000, classes=10, epochs=epochs, batch=100, lr=0.1)


def mlp_train(lib, problem: MlpProblem) -> tuple:
    """The book's loop with `lib` (dezero_widget or dezero); returns the trained weights and the loss sum."""
    np.random.seed(problem.seed)
    model = lib.models.MLP((problem.hidden, problem.classes))
    optimizer = lib.optimizers.SGD(problem.lr).setup(model)
    sum_loss = 0.0
    for _, _, index in problem.batches():
        loss = lib.functions.softmax_cross_entropy(model(problem.x[index]), problem.t[index])
        model.cleargrads()
        loss.backward()
        optimizer.update()
        sum_loss += float(loss.data) * len(index)
    return model.l0.W.data, model.l0.b.data, model.l1.W.data, model.l1.b.data, np.array(sum_loss)


def initial_mlp_weights(problem: MlpProblem) -> list:
    """The weights MLP's lazy Linear layers draw on the first call (after the first permutation)."""
    return [
        np.random.randn(problem.x.shape[1], problem.hidden).astype(np.float32)
        * np.sqrt(1 / problem.x.shape[1]),
        np.zeros(problem.hidden, np.float32),
        np.random.randn(problem.hidden, problem.classes).astype(np.float32) * np.sqrt(1 / problem.hidden),
        np.zeros(problem.classes, np.float32),
    ]


def mlp_train_numpy(problem: MlpProblem) -> tuple:
    """The floor: the same loop by hand, computing only the gradients SGD needs."""
    np.random.seed(problem.seed)
    params = None
    sum_loss = 0.0
    for _, _, index in problem.batches():
        if params is None:
            params = initial_mlp_weights(problem)
        W1, b1, W2, b2 = params
        x, t, n = problem.x[index], problem.t[index], len(index)
        rows = np.arange(n)
        h = np.tanh((x @ W1 + b1) * 0.5) * 0.5 + 0.5
        z = h @ W2 + b2
        m = z.max(axis=1, keepdims=True)
        log_p = z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
        sum_loss += float(-log_p[rows, t].sum() / n) * n
        gz = np.exp(log_p)
        gz[rows, t] -= 1
        gz /= n
        gh = (gz @ W2.T) * h * (1 - h)
        for p, g in ((W1, x.T @ gh), (b1, gh.sum(axis=0)), (W2, h.T @ gz), (b2, gz.sum(axis=0))):
            p -= problem.lr * g
    return (*params, np.array(sum_loss))


def mlp_train_torch(problem: MlpProblem) -> tuple:
    np.random.seed(problem.seed)
    params = None
    sum_loss = 0.0
    for _, _, index in problem.batches():
        if params is None:  # the dtypes ours has: float64 weights (numpy 2 promotion), float32 biases
            params = [torch.tensor(p, requires_grad=True) for p in initial_mlp_weights(problem)]
            W1, b1, W2, b2 = params
        x, t = torch.from_numpy(problem.x[index].astype(np.float64)), torch.from_numpy(problem.t[index])
        loss = torch.nn.functional.cross_entropy(torch.sigmoid(x @ W1 + b1) @ W2 + b2, t)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= problem.lr * p.grad
        sum_loss += float(loss.detach()) * len(index)
    return (*(p.detach().numpy() for p in params), np.array(sum_loss))


# --------------------------------------------------------------------------
# CNN training steps
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CnnProblem:
    x: np.ndarray  # (32, 1, 28, 28) float32
    t: np.ndarray
    steps: int
    lr: float = 0.1
    seed: int = 0


def cnn_problem(steps: int) -> CnnProblem:
    rng = np.random.default_rng(1)
    return CnnProblem(rng.random((32, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 32), steps)


def cnn_model(lib):
    """conv(16, 3x3, pad 1) -> relu -> 2x2 max pooling -> linear(10), in lib's DeZero API."""
    F, L = lib.functions, lib.layers

    class SmallCNN(lib.Model):
        def __init__(self):
            super().__init__()
            self.conv = L.Conv2d(16, kernel_size=3, stride=1, pad=1)
            self.fc = L.Linear(10)

        def forward(self, x):
            h = F.pooling(F.relu(self.conv(x)), 2, 2)
            return self.fc(F.reshape(h, (h.shape[0], -1)))

    return SmallCNN()


def cnn_train(lib, problem: CnnProblem) -> tuple:
    np.random.seed(problem.seed)
    model = cnn_model(lib)
    optimizer = lib.optimizers.SGD(problem.lr).setup(model)
    for _ in range(problem.steps):
        loss = lib.functions.softmax_cross_entropy(model(problem.x), problem.t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
    return model.conv.W.data, model.conv.b.data, model.fc.W.data, model.fc.b.data, loss.data


def cnn_train_torch(problem: CnnProblem) -> tuple:
    np.random.seed(problem.seed)
    model = cnn_model(dezero_widget)
    with dezero_widget.no_grad():
        model(problem.x[:1])  # draws the initial weights exactly as the training runs do
    # torch's conv2d wants one dtype, so its bias is float64 (ours stays float32, as in DeZero)
    params = [
        torch.tensor(p.data.astype(np.float64) if p is model.conv.b else p.data, requires_grad=True)
        for p in (model.conv.W, model.conv.b, model.fc.W, model.fc.b)
    ]
    conv_W, conv_b, fc_W, fc_b = params
    x, t = torch.from_numpy(problem.x.astype(np.float64)), torch.from_numpy(problem.t)
    functional = torch.nn.functional
    for _ in range(problem.steps):
        h = functional.max_pool2d(functional.relu(functional.conv2d(x, conv_W, conv_b, padding=1)), 2, 2)
        loss = functional.cross_entropy(h.reshape(len(h), -1) @ fc_W + fc_b, t)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= problem.lr * p.grad
    return (*(p.detach().numpy() for p in params), loss.detach().numpy())


# --------------------------------------------------------------------------
# Measuring and reporting
# --------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    seconds: dict
    targets: dict  # engine -> the most ours / engine may be


def check_same(name: str, results: dict) -> None:
    """Every engine's trained weights must match ours, or the timing means nothing."""
    reference = results["ours"]
    for engine, result in results.items():
        for i, (mine, theirs) in enumerate(zip(reference, result)):
            tolerance = (
                {"rtol": 1e-4, "atol": 1e-5} if mine.dtype == np.float32 else {"rtol": 1e-6, "atol": 1e-8}
            )
            if not np.allclose(mine, theirs, **tolerance):
                difference = np.max(np.abs(np.asarray(mine, np.float64) - np.asarray(theirs, np.float64)))
                raise AssertionError(
                    f"{name}: {engine} disagrees with ours on result {i} (max |diff| {difference})"
                )


def best_times(name: str, runs: dict, repeats: int) -> dict:
    best, results = {}, {}
    for round_number in range(repeats):
        for engine, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            result = run()
            best[engine] = min(best.get(engine, math.inf), time.perf_counter() - start)
            results.setdefault(engine, result)
        if round_number == 0:
            check_same(name, results)
    return best


def bench_mlp(name: str, problem: MlpProblem, repeats: int, targets: dict) -> Row:
    runs = {
        "ours": lambda: mlp_train(dezero_widget, problem),
        "dezero": lambda: mlp_train(dezero, problem),
        "numpy": lambda: mlp_train_numpy(problem),
    }
    if torch is not None:
        runs["torch"] = lambda: mlp_train_torch(problem)
    return Row(name, best_times(name, runs, repeats), targets)


def bench_cnn(problem: CnnProblem, repeats: int) -> Row:
    runs = {"ours": lambda: cnn_train(dezero_widget, problem), "dezero": lambda: cnn_train(dezero, problem)}
    if torch is not None:
        runs["torch"] = lambda: cnn_train_torch(problem)
    name = f"cnn step, batch 32 x{problem.steps}"
    return Row(name, best_times(name, runs, repeats), {"dezero": 0.8})


def format_ratio(row: Row, engine: str) -> str:
    if engine not in row.seconds:
        return "-"
    ratio = row.seconds["ours"] / row.seconds[engine]
    target = row.targets.get(engine)
    if target is None:
        return f"{ratio:.2f}"
    return f"{ratio:.2f} <={target:g} {'PASS' if ratio <= target else 'MISS'}"


def print_table(rows: list) -> None:
    header = ["workload", *ENGINES, "ours/dezero", "ours/torch", "ours/numpy"]
    lines = [
        [row.name]
        + [f"{row.seconds[e] * 1e3:.1f} ms" if e in row.seconds else "-" for e in ENGINES]
        + [format_ratio(row, e) for e in ("dezero", "torch", "numpy")]
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    for cells in [header, *lines]:
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 rounds: a smoke check")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per workload (default 5, quick 2)")
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    torch_version = torch.__version__ if torch is not None else "not installed"
    print(f"python {platform.python_version()} on {platform.platform()} ({os.cpu_count()} cpus)")
    print(f"numpy {np.__version__}, dezero {importlib.metadata.version('dezero')}, torch {torch_version}")
    print("BLAS threads 1; rounds interleaved, best time kept\n")

    spiral = spiral_problem(epochs=3 if args.quick else 30)
    mnist = mnist_shaped_problem(epochs=1 if args.quick else 2)
    rows = [
        bench_mlp(f"spiral MLP((10, 3)) x{spiral.epochs} epochs", spiral, repeats, {"numpy": 1.3}),
        bench_mlp(f"MLP((1000, 10)) 784-d x{mnist.epochs} epochs", mnist, repeats, {}),
        bench_cnn(cnn_problem(steps=3 if args.quick else 20), repeats),
    ]
    print_table(rows)


if __name__ == "__main__":
    main()
