"""Costs that do not grow with the graph or the arrays, checked by counting work, not by timing."""

import base64

import numpy as np
import pytest

import dezero_widget as dezero
from dezero_widget import reader, summary
from dezero_widget.summary import summarize
from dezero_widget.trace import trace
from tests.fixtures.learner_classes import Step14Variable, step14_add
from tests.fixtures.spies import calls_to


def chain(length):
    x = Step14Variable(np.array(1.0))
    y = x
    for _ in range(length):
        y = step14_add(y, x)
    return x, y


@pytest.fixture
def expanded(monkeypatch):
    """Counts the functions whose inputs the walk reads."""
    return calls_to(monkeypatch, reader, "inputs_of")


def test_tracing_a_bounded_part_of_a_huge_graph_reads_only_that_part(expanded):
    _, y = chain(50_000)  # 100,001 nodes
    graph = trace(y, max_nodes=100)
    snapshot = graph.snapshot()
    assert len(snapshot["nodes"]) == 100 and snapshot["truncated"] is True
    # The drawing's 50 functions, then at most 10 x 100 more nodes counted: never the 50,000.
    assert len(expanded) <= 50 + 1000 + 1
    assert snapshot["omitted"] >= 1000 and snapshot["omittedAtLeast"] is True


def test_a_graph_within_the_bound_is_counted_exactly(expanded):
    _, y = chain(100)  # 201 nodes
    snapshot = trace(y, max_nodes=50).snapshot()
    assert (len(snapshot["nodes"]), snapshot["omitted"]) == (50, 151)
    assert "omittedAtLeast" not in snapshot


def test_tracing_reads_each_function_once(expanded):
    _, y = chain(100)  # 100 functions
    graph = trace(y, max_nodes=None)
    assert len(graph.functions) == 100 and len(graph.snapshot()["edges"]) == 300
    assert sorted(map(id, (call[0] for call in expanded))) == sorted(map(id, graph.functions))


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((6,) * 8),  # no axis longer than 6: numpy's summarising rule would print all 1.7M
        np.zeros((2,) * 20),
        np.ones((1500, 1000)),
        np.ones((3000, 2000))[::2, ::3],  # a strided view: ravel would copy it whole
        np.ones((2000, 1500)).T,
    ],
    ids=["6^8", "2^20", "1500x1000", "strided view", "transposed"],
)
def test_summaries_read_a_bounded_sample(array):
    sample = summary._sample(array)
    assert sample.size <= summary._STATS_MAX_ELEMENTS
    result = summarize(array, diverging=True)
    assert result["sampled"] is True and result["size"] == array.size
    assert result["mean"] == pytest.approx(float(array.mean()))
    assert len(result["preview"]) <= summary._PREVIEW_MAX_CHARS


def test_high_dimensional_previews_show_the_flat_head_and_tail():
    array = (np.arange(2.0**20) % 8).reshape((2,) * 20)
    assert summarize(array)["preview"] == "flat [0., 1., 2., ..., 5., 6., 7.]"


def test_thumbnails_are_small_grids_with_non_finite_codes():
    grad = np.linspace(-1.0, 3.0, 40 * 30).reshape(40, 30)
    grad[0, 0] = np.nan
    grad[-1, -1] = np.inf
    thumbnail = summarize(grad, diverging=True)["thumbnail"]
    assert (thumbnail["rows"], thumbnail["cols"]) == (16, 16)
    largest = np.abs(grad[np.isfinite(grad)]).max()
    assert (thumbnail["lo"], thumbnail["hi"]) == (-largest, largest)  # centred on zero
    cells = np.frombuffer(base64.b64decode(thumbnail["cells"]), dtype=np.uint8).reshape(16, 16)
    assert cells[0, 0] == 251 and cells[-1, -1] == 252  # NaN, +Inf
    assert cells[1:-1, 1:-1].min() >= 0 and cells[1:-1, 1:-1].max() <= 250
    # Diverging: zero maps to the middle byte.
    assert summarize(np.array([-2.0, 0.0, 2.0]), diverging=True)["thumbnail"]["cells"] == "AH36"


def test_a_sampled_arrays_thumbnail_clips_cells_beyond_the_samples_range_and_marks_its_nan():
    array = np.linspace(-1.0, 1.0, 1000 * 1000).reshape(1000, 1000)
    array[0, 999] = 100.0  # flat index 999: in the thumbnail's grid, not in the statistics' sample
    array[999, 67] = np.nan  # the same (the grid's second column is 67)
    result = summarize(array)
    assert result["sampled"] and result["max"] < 100.0 and "nan" not in result
    cells = np.frombuffer(base64.b64decode(result["thumbnail"]["cells"]), dtype=np.uint8).reshape(16, 16)
    assert cells[0, -1] == 250  # the top of the scale, not a byte that wrapped around
    assert cells[-1, 1] == 251  # NaN
    assert cells[0, 0] == 0 and cells[-1, -1] == 250


def test_a_thumbnail_of_finite_values_spans_the_scale_from_min_to_max():
    cells = summarize(np.array([[1.0, 2.0], [3.0, 5.0]]))["thumbnail"]["cells"]
    assert list(base64.b64decode(cells)) == [0, 62, 125, 250]  # (v - 1) * 250 / 4, rounded half to even


def test_refreshing_unchanged_small_arrays_summarises_none_of_them_again(monkeypatch):
    rng = np.random.default_rng(0)
    x = dezero.Variable(1 + 0.01 * rng.standard_normal(8), name="x")
    y = x
    for i in range(100):
        y = y * x if i % 2 else y + x
    y.backward(retain_grad=True)
    graph = trace(y)
    graph.snapshot()
    summarised = calls_to(monkeypatch, summary, "_summarize")
    before = graph.snapshot()
    assert summarised == []  # 101 variables' data and grads: all found by content
    old_grads = {v.grad.data.tobytes() for v in graph.variables}
    y.backward(retain_grad=True)  # grads accumulate into new values; the data stays as it was
    after = graph.snapshot()
    # Each new grad value once (an Add hands its output's grad to its input: equal grads)...
    new_grads = {v.grad.data.tobytes() for v in graph.variables} - old_grads
    assert len(new_grads) > 40 and len(summarised) == len(new_grads)
    assert all(diverging for _, diverging in summarised)  # ... and no data at all
    assert [node.get("data") for node in after["nodes"]] == [node.get("data") for node in before["nodes"]]


def test_a_reused_summary_is_exactly_that_of_the_content():
    a = np.array([1.0, 2.0, np.nan])
    first = summarize(a)
    assert summarize(a.copy()) is first  # equal content: the same summary
    a[0] = -0.0  # an in-place change, however small
    assert summarize(a)["min"] == -0.0 and summarize(a) is not first
    # What a summary depends on besides the bytes tells summaries apart too.
    assert (
        summarize(np.array([1, 2]))["dtype"] == "int64"
        and summarize(np.array([1.0, 2.0]))["dtype"] == "float64"
    )
    assert summarize(np.arange(4.0).reshape(2, 2))["shape"] == [2, 2]
    assert summarize(np.arange(4.0))["shape"] == [4]
    assert summarize(np.array([-1.0, 1.0]), diverging=True)["thumbnail"]["lo"] == -1.0
    assert summarize(np.array([0.5, 1.0]), diverging=True)["thumbnail"]["lo"] == -1.0
    assert summarize(np.array([0.5, 1.0]))["thumbnail"]["lo"] == 0.5


def test_summaries_reused_by_content_stay_bounded_in_number(monkeypatch):
    monkeypatch.setattr(summary, "_MEMO_ENTRIES", 10)
    for i in range(25):
        summarize(np.array([float(i), 0.0]))
    assert len(summary._memo) <= 10
