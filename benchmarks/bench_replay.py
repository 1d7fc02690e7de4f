"""What recording a backward() step by step costs (not a test; run by hand).

Times ``y.backward()`` plainly and recorded as the widget and ``%%autodiff`` record it
(``replay.recorded``: the engine writes a log for ``core.watching(record=...)``), interleaved, best of N, on a
fresh graph each time. Target (issue 11): recorded <= 1.5x plain. Also prints what turning a
recording into the front end's replay costs (done once, when a widget shows it).

Run: .venv/bin/python benchmarks/bench_replay.py [--quick]
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"  # before numpy loads: 2-thread BLAS makes small timings swing

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout

import dezero_widget.functions as F
from dezero_widget import Variable
from dezero_widget.replay import recorded
from dezero_widget.trace import trace


def scalar_chain(steps: int) -> Callable[[], Variable]:
    def build() -> Variable:
        x = Variable(np.array(0.5))
        y = x
        for _ in range(steps):
            y = F.sin(y) * 0.9 + y * x
        return y

    return build


def mlp(batch: int) -> Callable[[], Variable]:
    rng = np.random.default_rng(0)
    x, t = rng.random((batch, 1)), rng.random((batch, 1))
    W1, b1 = Variable(rng.normal(size=(1, 10))), Variable(np.zeros(10))
    W2, b2 = Variable(rng.normal(size=(10, 1))), Variable(np.zeros(1))

    def build() -> Variable:
        for p in (W1, b1, W2, b2):
            p.cleargrad()
        return F.mean_squared_error(F.linear(F.sigmoid(F.linear(x, W1, b1)), W2, b2), t)

    return build


def timed_backward(build: Callable[[], Variable], recording: bool) -> float:
    y = build()
    gc.collect()
    if recording:
        started = time.perf_counter()
        with recorded():
            y.backward(retain_grad=True)
    else:
        started = time.perf_counter()
        y.backward(retain_grad=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeats = 5 if parser.parse_args().quick else 21
    cases = {
        "seed-like scalar chain, 3,000 functions": scalar_chain(1000),
        "2-layer MLP step, batch 100 (book step 43)": mlp(100),
        "2-layer MLP step, batch 1": mlp(1),
    }
    print(f"{'case':46} {'plain':>10} {'recorded':>10} {'ratio':>6}  (target <= 1.5)")
    for name, build in cases.items():
        plain, logged = [], []
        for _ in range(repeats):  # interleaved: drift on a shared machine hits both alike
            plain.append(timed_backward(build, False))
            logged.append(timed_backward(build, True))
        print(
            f"{name:46} {min(plain) * 1e3:8.3f}ms {min(logged) * 1e3:8.3f}ms {min(logged) / min(plain):6.2f}"
        )

    y = mlp(100)()
    with recorded() as recordings:
        y.backward(retain_grad=True)
    (recording,) = recordings
    graph = trace(y)
    started = time.perf_counter()
    recording.replay(graph)
    print(
        f"replay of the MLP step for the front end (once per display): {(time.perf_counter() - started) * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
