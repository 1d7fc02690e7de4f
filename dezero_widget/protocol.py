"""The Python half of the Python <-> front-end contract; js/src/protocol.ts is the other half.

Declared once here: the snapshot that ``trace.py`` builds, the widget's synced state and
messages (``widget.py``), the snapshot version and every default the layers share. The
contract test (tests/trace/test_contract.py) writes real snapshots and messages to JSON, has
the TypeScript side type-check and validate them, and compares the field sets below with
``CONTRACT_FIELDS`` of protocol.ts both ways, so a field added on one side only fails a test.

Imports nothing from Jupyter or the engine: every layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict

# --------------------------------------------------------------------------
# Shared defaults
# --------------------------------------------------------------------------

SNAPSHOT_VERSION = 1
DEFAULT_MAX_NODES = 5000  # nodes drawn before a graph is cut from its inputs side
DIRECTIONS = ("LR", "TB")
DEFAULT_DIRECTION = "LR"
# Live refresh throttle: at least this many seconds apart, and a refresh may take at
# most this share of the time (so big graphs refresh more rarely).
LIVE_MIN_INTERVAL = 0.1
LIVE_MAX_SHARE = 0.05
HISTORY_POINTS = 200  # the history chart shows at most this many values, evenly spaced
# Texts from user code (names, exception messages) are cut to these lengths.
MAX_LABEL_CHARS = 120
MAX_STATUS_CHARS = 300

Direction = Literal["LR", "TB"]
Role = Literal["input", "param", "intermediate", "output"]
GRAD_SUBGRAPH = "grad"  # marks nodes of the graph that backward(create_graph=True) built

# --------------------------------------------------------------------------
# Snapshot: what trace.Graph.snapshot() returns (TypedDicts are plain dicts at run time)
# --------------------------------------------------------------------------


class _ArraySummaryFields(TypedDict):
    shape: list[int]
    dtype: str
    size: int
    preview: str  # one line: exact for scalars, whole for small arrays, head ... tail past a bound


class Thumbnail(TypedDict):
    """A heatmap of a 1-D or 2-D array: rows x cols evenly spaced elements, one byte each,
    base64 in row-major order. Bytes 0..250 map linearly onto lo..hi (for a gradient lo = -hi,
    so zero is the middle); 251 is NaN, 252 +Inf, 253 -Inf."""

    rows: int
    cols: int
    lo: float
    hi: float
    cells: str


class ArraySummary(_ArraySummaryFields, total=False):
    """A summary of one ndarray, never the whole array. Statistics only for numeric arrays
    of more than one element (of an evenly spaced sample past 131,072 elements: then
    ``sampled`` is true, and the norm is the sample's scaled to the whole); NaN/Inf counts
    only when non-zero; a thumbnail only for 1-D and 2-D numeric arrays."""

    min: float | int | None
    max: float | int | None
    mean: float | None
    norm: float | None  # L2 norm of the finite values
    nan: int
    posinf: int
    neginf: int
    sampled: bool
    thumbnail: Thumbnail


class _VariableNodeFields(TypedDict):
    id: str  # "v<int>", stable for the lifetime of the Python object
    kind: Literal["variable"]
    label: str  # name, else the notebook name(s), else "" (the front end then shows shape and dtype)
    shape: list[int] | None
    dtype: str | None
    data: ArraySummary | None
    grad: ArraySummary | None
    role: Role


class VariableNode(_VariableNodeFields, total=False):
    generation: int
    creator: str  # id of the function node that made it, when that node is drawn
    subgraph: Literal["grad"]
    gradOf: str  # on a node of the grad subgraph: the id of the variable whose grad it is


class _FunctionNodeFields(TypedDict):
    id: str  # "f<int>"
    kind: Literal["function"]
    op: str  # class name, e.g. "Add"


class FunctionNode(_FunctionNodeFields, total=False):
    generation: int
    subgraph: Literal["grad"]


class Edge(TypedDict):
    """variable -> function (an input at position `index`) or function -> variable (an output)."""

    source: str
    target: str
    index: int


class _SnapshotFields(TypedDict):
    version: int
    nodes: list[VariableNode | FunctionNode]
    edges: list[Edge]
    outputs: list[str]  # ids of the drawn roots that no drawn function consumes
    truncated: bool
    omitted: int  # nodes left out when truncated


class _LayerBoxFields(TypedDict):
    id: str  # "l<int>", stable for the lifetime of the layer object ("l<int>-<k>": its k-th call in one graph)
    layer: str  # the layer's class name, e.g. "Linear"
    label: (
        str  # its attribute name in the enclosing layer ("l0"), else its notebook name, else the class name
    )
    members: list[str]  # ids of the nodes directly in the box (a nested box's nodes are in that box)


class LayerBox(_LayerBoxFields, total=False):
    """One call of a layer (layers.Layer): the functions it applied, the variables made inside
    it (not what it returned) and the parameters it owns. Boxes come outer first."""

    parent: str  # id of the enclosing box (the Model's call around a Linear's), when there is one


class Snapshot(_SnapshotFields, total=False):
    # True when tracing stopped counting the nodes left out (it stays O(max_nodes)): then at
    # least `omitted` nodes were left out.
    omittedAtLeast: bool
    # How many drawn variables hold a grad with a creator (backward(create_graph=True) built a
    # graph the grad-graph toggle can show); absent when none does.
    gradsWithGraph: int
    # The calls of layers (a model's Linear layers...) made while the graph was recorded under
    # core.watching (the %%autodiff magic, Model.plot); absent when there were none.
    layers: list[LayerBox]


# --------------------------------------------------------------------------
# Replay: one recorded backward pass, step by step (replay.py)
# --------------------------------------------------------------------------


class ReplayTerm(TypedDict):
    """One gradient added to a variable's grad during the recorded backward."""

    step: int  # 1-based step of the function that sent it; 0 for the root's seed (ones)
    source: str  # that function's node id ("" for the seed)
    value: ArraySummary
    total: ArraySummary  # the variable's grad once this term was added


class ReplayStep(TypedDict):
    """One function applied by backward, in the order the engine applied them."""

    function: str  # node id
    gys: list[ArraySummary | None]  # the grads that flowed in, one per output (edge index)
    gxs: list[ArraySummary | None]  # the grads it sent out, one per input (edge index)


class VariableReplay(TypedDict):
    before: ArraySummary | None  # the grad before this backward (None: there was none)
    terms: list[ReplayTerm]


class Replay(TypedDict):
    """The newest backward recorded for the widget; EMPTY_REPLAY when there is none (or the
    values changed since, by other means)."""

    output: str  # node id of the variable backward ran from ("" when empty)
    steps: list[ReplayStep]
    variables: dict[str, VariableReplay]  # the drawn variables that got a term
    accumulated: list[str]  # ids of variables whose earlier grad the terms were added to


EMPTY_REPLAY: Replay = {"output": "", "steps": [], "variables": {}, "accumulated": []}


class GradCheck(TypedDict):
    """A variable's grad against a numerical gradient of an output (replay.check_gradient)."""

    ok: bool
    maxAbs: float | None  # largest absolute difference (None when nothing was compared)
    maxRel: float | None  # largest relative difference
    checked: int  # elements compared (an evenly spaced sample of big arrays)
    size: int  # elements in the grad
    output: str  # node id of the output differentiated
    message: str  # one line for the learner


class History(TypedDict):
    """The value of a %%autodiff cell's backward() roots (the loss), one per call: at most
    HISTORY_POINTS of them, evenly spaced over the calls and always with the newest."""

    label: str  # what the values are of, e.g. "loss"
    values: list[float | None]  # None where a value was not finite
    steps: list[int]  # the 1-based backward() call each value comes from
    total: int  # backward() calls recorded


class ModelState(TypedDict):
    """The traitlets GraphWidget syncs with the front end."""

    snapshot: Snapshot
    direction: Direction
    status: str  # one short line, e.g. "Cleared the grads of 5 variables."
    history: History  # empty values when there is no history to chart
    replay: Replay  # the newest recorded backward pass, or EMPTY_REPLAY
    checks: dict[str, GradCheck]  # gradient checks by variable node id
    grad_graph: bool  # set by the front end: draw the graph backward(create_graph=True) built


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


class HelloMessage(TypedDict):
    """Front end -> kernel: a view is up; the kernel answers with WelcomeMessage."""

    type: Literal["hello"]


class ResetMessage(TypedDict):
    """Front end -> kernel: the Reset control (cleargrad on every variable)."""

    type: Literal["reset"]


class _BackwardMessageFields(TypedDict):
    type: Literal["backward"]


class BackwardMessage(_BackwardMessageFields, total=False):
    """Front end -> kernel: the Backward control, from `output` (a node id) or the first output."""

    output: str


class _GradCheckMessageFields(TypedDict):
    type: Literal["grad-check"]
    node: str  # the variable whose grad to check


class GradCheckMessage(_GradCheckMessageFields, total=False):
    """Front end -> kernel: check a variable's grad numerically, against `output` (a node id)
    or the recorded backward's output, else the first output."""

    output: str


class WelcomeMessage(TypedDict):
    """Kernel -> front end: the kernel is there, so the controls can be enabled."""

    type: Literal["welcome"]


CLIENT_MESSAGES: dict[str, type] = {
    "hello": HelloMessage,
    "reset": ResetMessage,
    "backward": BackwardMessage,
    "grad-check": GradCheckMessage,
}
ClientMessage = HelloMessage | ResetMessage | BackwardMessage | GradCheckMessage
SERVER_MESSAGES: dict[str, type] = {"welcome": WelcomeMessage}
WELCOME: WelcomeMessage = {"type": "welcome"}


def parse_client_message(content: Any) -> ClientMessage | None:
    """``content`` if it is a well-formed client message (known type, known fields, string
    values), else None: the front end runs in a page the kernel does not trust."""
    if not isinstance(content, Mapping) or not isinstance(content.get("type"), str):
        return None
    shape = CLIENT_MESSAGES.get(content["type"])
    if shape is None or not shape.__required_keys__ <= content.keys() <= _all_keys(shape):
        return None
    if not all(isinstance(value, str) for value in content.values()):
        return None
    return dict(content)  # type: ignore[return-value]


def bounded_text(text: str, limit: int) -> str:
    """``text`` as the front end may show it: at most ``limit`` characters (the middle cut
    out), and valid UTF-8 (a lone surrogate such as '\\ud800' cannot be sent to the page)."""
    if len(text) > limit:
        half = (limit - 1) // 2
        text = f"{text[:half]}\u2026{text[-half:]}"
    return text.encode("utf-8", "replace").decode("utf-8")


def _all_keys(shape: type) -> frozenset[str]:
    return shape.__required_keys__ | shape.__optional_keys__


def contract_fields() -> dict[str, dict[str, list[str]]]:
    """Every shape's required and optional fields, named as in protocol.ts's CONTRACT_FIELDS."""
    shapes: dict[str, type] = {
        "ArraySummary": ArraySummary,
        "Thumbnail": Thumbnail,
        "VariableNode": VariableNode,
        "FunctionNode": FunctionNode,
        "Edge": Edge,
        "LayerBox": LayerBox,
        "Snapshot": Snapshot,
        "ModelState": ModelState,
        "History": History,
        "Replay": Replay,
        "ReplayStep": ReplayStep,
        "ReplayTerm": ReplayTerm,
        "VariableReplay": VariableReplay,
        "GradCheck": GradCheck,
        **{f"ClientMessage.{kind}": shape for kind, shape in CLIENT_MESSAGES.items()},
        **{f"ServerMessage.{kind}": shape for kind, shape in SERVER_MESSAGES.items()},
    }
    return {
        name: {"required": sorted(shape.__required_keys__), "optional": sorted(shape.__optional_keys__)}
        for name, shape in shapes.items()
    }


def contract_defaults() -> dict[str, Any]:
    """The defaults protocol.ts repeats (DEFAULT_DIRECTION, DIRECTIONS, SNAPSHOT_VERSION, HISTORY_POINTS)."""
    return {
        "direction": DEFAULT_DIRECTION,
        "directions": list(DIRECTIONS),
        "snapshotVersion": SNAPSHOT_VERSION,
        "historyPoints": HISTORY_POINTS,
    }
