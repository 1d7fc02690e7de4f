"""The README's benchmark commands keep working: each benchmark runs at its smallest size and
prints its figures (timings are not judged here: they belong to runs by hand, see
benchmarks/README.md). The engine and training benchmarks check their results against the
other engines and the numpy floors before anything is timed, so a wrong gradient fails here too
(they need PyPI dezero, and are skipped without it)."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from tests.fixtures.paths import REPO_ROOT

NUMBER = r"[\d.,]+"

# (script and arguments, lines its output must have)
SMOKE_RUNS = {
    "engine": (
        ["bench_engine.py", "--quick"],
        [
            rf"chain 10,000 steps: us/op: ours {NUMBER}",
            rf"branches 400: time x per doubling of branches, ours: {NUMBER}",
        ],
    ),
    "training": (["bench_training.py", "--quick"], [rf"spiral MLP\(\(10, 3\)\) x3 epochs +{NUMBER} ms"]),
    "magic": (
        ["bench_magic.py", "--quick"],
        [
            rf"MLP training, 100 iterations: plain {NUMBER} ms, %%autodiff {NUMBER} ms, ratio {NUMBER}",
            rf"scalar chain, 10,000 steps: plain {NUMBER} ms, %%autodiff {NUMBER} ms, ratio {NUMBER}",
        ],
    ),
    "kernel": (
        ["bench_kernel.py", "--repeats", "2"],
        [rf"in a kernel: plain {NUMBER} ms, %%autodiff {NUMBER} ms, ratio {NUMBER}"],
    ),
    "replay": (
        ["bench_replay.py", "--quick"],
        [rf"replay of the MLP step for the front end \(once per display\): {NUMBER} ms"],
    ),
    "trace": (
        ["bench_trace.py"],
        [
            rf"1001 nodes, scalars: trace {NUMBER} ms, snapshot refresh median {NUMBER} ms unchanged, {NUMBER} ms after",
            rf"{NUMBER} bytes/node",
        ],
    ),
}


def run_benchmark(arguments: list[str]) -> str:
    environment = dict(os.environ, BENCH_WITHOUT_TORCH="1")  # (PyTorch is an optional comparator)
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / arguments[0]), *arguments[1:]],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


# Those that compare with PyPI dezero (the [bench] extra, which CI does not install).
AGAINST_DEZERO = {"engine", "training"}


@pytest.mark.parametrize("name", sorted(SMOKE_RUNS))
def test_a_benchmark_runs_and_prints_its_figures(name):
    if name in AGAINST_DEZERO and importlib.util.find_spec("dezero") is None:  # (importing it needs np.int)
        pytest.skip("PyPI dezero 0.0.13 (the [bench] extra) is not installed")
    arguments, expected_lines = SMOKE_RUNS[name]
    output = run_benchmark(arguments)
    for pattern in expected_lines:
        assert re.search(pattern, output), f"{name}: no line like {pattern!r} in:\n{output}"


@pytest.mark.browser
def test_the_layout_benchmark_runs_in_chromium_and_saves_its_screenshots(tmp_path):
    output = run_benchmark(["bench_layout.py", "--repeat", "1", "--screenshots", str(tmp_path)])
    assert re.search(rf"mlp +{NUMBER} +{NUMBER} +layered", output), output
    for theme in ("light", "dark"):
        png = (tmp_path / f"dezero-widget-seed-{theme}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
