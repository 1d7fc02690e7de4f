"""The Python <-> front-end contract, checked from both sides.

Real snapshots (``trace`` on the engine's graphs and on learner classes of the book's steps 7,
14, 18 and 33), real replay and checks traits and the widget's real replies are written to JSON. The TypeScript side then
type-checks them against js/src/protocol.ts (``tsc`` on a generated module that declares them
with ``satisfies``) and validates them at run time (vitest: ``checkSnapshot``), and compares
the field sets of protocol.py with CONTRACT_FIELDS of protocol.ts both ways, so a field added
on one side only fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import anywidget
import numpy as np
import pytest

import dezero_widget.functions as F
from dezero_widget import Parameter, Variable, core
from dezero_widget.models import MLP
from dezero_widget.protocol import ModelState, contract_defaults, contract_fields
from dezero_widget.trace import trace
from dezero_widget.watch import LossHistory
from dezero_widget.widget import GraphWidget
from tests.fixtures import learner_classes as learner
from tests.fixtures.paths import JS
from tests.fixtures.seed import seed_graph


def _engine_snapshots() -> dict:
    x, y = seed_graph()
    arrays = Variable(np.array([[1.0, np.nan], [np.inf, -2.0]]), name="a")
    ints = Variable(np.arange(12).reshape(3, 4))
    flags = Variable(np.array([True, False]))
    W = Parameter(np.ones((2, 2), dtype=np.float32), name="W")
    with np.errstate(invalid="ignore"):  # NaN and Inf on purpose
        loss = (
            F.sum(F.matmul(arrays, W) * 2.0) + F.sum(ints) + F.sum(flags) + F.sum(Variable(np.zeros((0, 3))))
        )
        loss.backward(retain_grad=True)
    t = Variable(np.array(1.0), name="t")
    tanh = F.tanh(t)
    tanh.backward(create_graph=True)
    chain = Variable(np.array(0.5), name="c")
    for _ in range(30):
        chain = F.sin(chain)
    model = MLP((4, 3))
    with core.watching():  # as %%autodiff and Model.plot run code: the layers' calls become boxes
        scores = model(np.linspace(0.0, 1.0, 10).reshape(5, 2))
        cross_entropy = F.softmax_cross_entropy(scores, np.array([0, 1, 2, 1, 0]))
    cross_entropy.backward()
    return {
        "seed": trace(y).snapshot(),
        "seed without grads": trace(F.add(F.add(x, x), x)).snapshot(),
        "arrays, params, NaN and Inf": trace(loss).snapshot(),
        "grad graph": trace(tanh, include_grad_graph=True).snapshot(),
        "truncated": trace(chain, max_nodes=10).snapshot(),
        "two outputs": trace(y, F.exp(x)).snapshot(),
        "layer boxes": trace(cross_entropy, names={"model": model}).snapshot(),
    }


def _learner_snapshots() -> dict:
    x7 = learner.Step7Variable(np.array(0.5))
    y7 = learner.step7_exp(learner.step7_square(x7))
    y7.backward()
    x14 = learner.Step14Variable(np.array(3.0))
    y14 = learner.step14_add(learner.step14_add(x14, x14), x14)
    y14.backward()
    x18 = learner.Parameter(np.array(2.0), name="p")
    a18, b18 = learner.step18_split(x18)
    y18 = learner.step18_add(learner.step18_square(a18), b18)
    y18.backward(retain_grad=True)
    x33 = learner.Step33Variable(np.array(2.0), name="x")
    y33 = x33 * x33 * x33
    y33.backward(create_graph=True)
    return {
        "step 7": trace(y7).snapshot(),
        "step 14": trace(y14).snapshot(),
        "step 18": trace(y18).snapshot(),
        "step 33 grad graph": trace(y33, include_grad_graph=True).snapshot(),
    }


def _histories() -> list:
    """What a training loop's widget carries: short, capped to HISTORY_POINTS, with gaps."""
    short, long = LossHistory(), LossHistory()
    for value in (3.0, float("nan"), 1.5):
        short.add(Variable(np.array(value)))
    for step in range(500):
        long.add(Variable(np.array(1.0 / (step + 1))))
    long.label = "loss"
    return [LossHistory().as_dict(), short.as_dict(), long.as_dict()]


def _replays_and_checks() -> tuple[dict, dict]:
    """Real replay and checks traits: the seed's first and second Backward (engine), a
    learner class's, an MLP's; passing and failing gradient checks."""
    replays: dict = {}
    checks: dict = {}
    x, y = seed_graph()
    seed = GraphWidget(trace(y))
    wrong_x = learner.Step14VariableWithCleargrad(np.array(3.0))
    wrong = GraphWidget(trace(learner.step14_wrong_square(wrong_x)))
    rng = np.random.default_rng(0)
    W = Parameter(rng.normal(size=(3, 2)), name="W")
    mlp = GraphWidget(trace(F.sum(F.tanh(Variable(rng.normal(size=(4, 3))) @ W))))
    try:
        seed.reset()
        seed.run_backward()
        replays["seed, first Backward"] = seed.replay
        seed.run_backward()
        replays["seed, added to an earlier grad"] = seed.replay
        seed.check_gradient(seed.graph.node_id(x))
        checks["seed, after two Backward (fails)"] = seed.checks
        wrong.run_backward()
        replays["learner class"] = wrong.replay
        wrong.check_gradient(wrong.graph.node_id(wrong_x))
        checks["learner class with a wrong backward"] = wrong.checks
        mlp.run_backward()
        replays["arrays"] = mlp.replay
        mlp.check_gradient(mlp.graph.node_id(W))
        checks["arrays (passes)"] = mlp.checks
    finally:
        for widget in (seed, wrong, mlp):
            widget.close()
    assert [check["ok"] for value in checks.values() for check in value.values()] == [False, False, True]
    return replays, checks


def _server_messages() -> list:
    _, y = seed_graph()
    widget = GraphWidget(trace(y))
    sent: list = []
    widget.send = lambda content, buffers=None: sent.append(content)
    try:
        widget._on_front_end_message(widget, {"type": "hello"}, [])
    finally:
        widget.close()
    assert sent, "the widget answered hello with nothing"
    return sent


@pytest.fixture(scope="module")
def contract(tmp_path_factory) -> Path:
    """contract.json and contract.ts (the same data, for tsc) in a temporary folder."""
    folder = tmp_path_factory.mktemp("contract")
    replays, checks = _replays_and_checks()
    data = {
        "snapshots": {**_engine_snapshots(), **_learner_snapshots()},
        "replays": replays,
        "checks": checks,
        "serverMessages": _server_messages(),
        "fields": contract_fields(),
        "defaults": contract_defaults(),
    }
    text = json.dumps(data, allow_nan=False, indent=1)
    (folder / "contract.json").write_text(text)
    protocol = (JS / "src" / "protocol.ts").as_posix()
    (folder / "contract.ts").write_text(
        f'import type {{ GradCheck, History, Replay, ServerMessage, Snapshot }} from "{protocol.removesuffix(".ts")}";\n'
        f"export const snapshots = {json.dumps(data['snapshots'], indent=1)} satisfies Record<string, Snapshot>;\n"
        f"export const serverMessages = {json.dumps(data['serverMessages'])} satisfies ServerMessage[];\n"
        f"export const histories = {json.dumps(_histories(), allow_nan=False)} satisfies History[];\n"
        f"export const replays = {json.dumps(replays)} satisfies Record<string, Replay>;\n"
        f"export const checks = {json.dumps(checks)} satisfies Record<string, Record<string, GradCheck>>;\n"
    )
    (folder / "tsconfig.json").write_text(
        json.dumps({"extends": (JS / "tsconfig.json").as_posix(), "include": [], "files": ["contract.ts"]})
    )
    return folder


def _run(command: list[str], **options) -> subprocess.CompletedProcess:
    if not (JS / "node_modules").is_dir():
        pytest.fail("js/node_modules is missing: `pip install -e .` (or `npm ci` in js/) installs it")
    return subprocess.run(command, cwd=JS, capture_output=True, text=True, timeout=300, **options)


def test_typescript_accepts_every_real_snapshot_and_message(contract):
    result = _run(
        [str(JS / "node_modules" / ".bin" / "tsc"), "--noEmit", "-p", str(contract / "tsconfig.json")]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_front_end_validates_them_and_both_sides_declare_the_same_fields(contract):
    environment = {**os.environ, "DZW_CONTRACT_JSON": str(contract / "contract.json")}
    result = _run(
        [str(JS / "node_modules" / ".bin" / "vitest"), "run", "test/contract.test.ts"], env=environment
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"Tests\s+\d+ passed", re.sub(r"\x1b\[[0-9;]*m", "", output)), output


def test_the_widget_syncs_exactly_the_model_state():
    plain = anywidget.AnyWidget()  # with the traits anywidget gives every instance (_esm, its id)
    try:
        own = set(GraphWidget.class_trait_names(sync=True)) - set(plain.trait_names(sync=True))
    finally:
        plain.close()
    assert own == set(ModelState.__annotations__)


def test_python_field_sets_match_what_trace_produces(contract):
    """Every key trace.py writes is declared, and every required key is written."""
    data = json.loads((contract / "contract.json").read_text())
    fields = data["fields"]
    for name, snapshot in data["snapshots"].items():
        _check_keys(fields["Snapshot"], snapshot, f"{name}: snapshot")
        for edge in snapshot["edges"]:
            _check_keys(fields["Edge"], edge, f"{name}: edge")
        for node in snapshot["nodes"]:
            shape = "VariableNode" if node["kind"] == "variable" else "FunctionNode"
            _check_keys(fields[shape], node, f"{name}: {node['id']}")
            for summary in (node.get("data"), node.get("grad")):
                if summary is not None:
                    _check_keys(fields["ArraySummary"], summary, f"{name}: {node['id']} summary")
        for box in snapshot.get("layers", []):
            _check_keys(fields["LayerBox"], box, f"{name}: {box['id']}")
    assert data["snapshots"]["layer boxes"]["layers"], "the model's snapshot has no layer boxes"


def _check_keys(declared: dict, value: dict, where: str) -> None:
    keys = set(value)
    assert set(declared["required"]) <= keys, f"{where} lacks {set(declared['required']) - keys}"
    assert keys <= set(declared["required"]) | set(declared["optional"]), f"{where} has undeclared keys"
