"""Array summaries for snapshots: shape, dtype, a one-line preview and statistics, never the array.

A preview is what numpy would print with small print options, on one line and bounded in
length; it is produced here rather than by ``np.array2string`` because that costs ~30 us per
call, which alone would blow the refresh budget of a 1,000-node graph of vectors.
"""

from __future__ import annotations

import base64
import functools
import math
from typing import Any

import numpy as np

from dezero_widget.protocol import ArraySummary, Thumbnail

# Array previews: arrays up to this many elements are shown whole, larger ones
# as head...tail; every preview is one line of at most this many characters.
_PREVIEW_WHOLE_UP_TO = 10
_PREVIEW_EDGE_ITEMS = 3
_PREVIEW_PRECISION = 4
_PREVIEW_MAX_CHARS = 120
# Past this many elements under numpy's summarising rule (a (6,)*8 or (2,)*20 array cuts no
# axis), the preview shows the flat head and tail instead: its cost never depends on the size.
_PREVIEW_MAX_ELEMENTS = 216  # 6 x 6 x 6: a cut 3-D array still prints as numpy does
# Statistics read at most this many elements (evenly spaced); past it the summary says
# "sampled", so a 2e8-element array costs what a 131,072-element one does.
_STATS_MAX_ELEMENTS = 1 << 17
# Heatmap thumbnails of 1-D and 2-D arrays: at most this many cells a side, one byte a cell.
_THUMBNAIL_SIDE = 16
_THUMBNAIL_LEVELS = 250  # 0..250 span lo..hi; the codes above mark non-finite cells
_THUMBNAIL_NAN, _THUMBNAIL_POSINF, _THUMBNAIL_NEGINF = 251, 252, 253

_STATS_KINDS = frozenset("biuf")  # bool, signed and unsigned ints, floats


def _cap(text: str, one_line: bool = False) -> str:
    """One line (``one_line``: it is one already); past the length bound, keep the head and the
    tail around an ellipsis."""
    if not one_line:
        text = " ".join(text.split())
    if len(text) <= _PREVIEW_MAX_CHARS:
        return text
    half = (_PREVIEW_MAX_CHARS - 3) // 2
    head, tail = text[:half], text[-half:]
    # Cut between elements where the text has separators, not inside a number.
    head = head[: head.rfind(", ") + 1] or head
    tail = tail[tail.find(", ") + 2 :] if ", " in tail else tail
    return f"{head} \u2026 {tail}"


def _safe_text(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # user objects in object arrays may have a broken __str__
        return f"<{type(value).__name__}>"


# Floats are %-formatted a whole tuple at a time, one per line, and trimmed with str.replace
# and str.count (a regex costs as much again): a third of the cost of one by one, and a
# preview may show 216 of them.
_POSITIONAL = f"%.{_PREVIEW_PRECISION}f\n"
_SCIENTIFIC = f"%.{_PREVIEW_PRECISION}e\n"


def _float_texts(values: list[float]) -> list[str]:
    """numpy's default style for the elements of one array: positional with at most
    the preview precision and trailing zeros dropped ("1.", "4.5"), or, when the
    magnitudes call for it by numpy's own rule, scientific with equal-length mantissas
    ("1.5e-05", "2.0e+03"). "nan", "inf" and "-inf" are written as str() writes them."""
    isfinite = math.isfinite
    magnitudes = [abs(v) for v in values if v != 0 and isfinite(v)]
    if magnitudes:
        largest, smallest = max(magnitudes), min(magnitudes)
        scientific = largest >= 1e8 or smallest < 1e-4 or largest / smallest > 1e3
    else:
        scientific = False
    if not scientific:
        text = _POSITIONAL * len(values) % tuple(values)
        for _ in range(_PREVIEW_PRECISION):  # each pass drops one trailing zero of every line
            text = text.replace("0\n", "\n")
        return text.split("\n")[:-1]
    # Every mantissa keeps as many decimals as the one that needs most: d decimals are needed
    # unless every mantissa ends with precision - d + 1 zeros (one "e" per finite value).
    text = _SCIENTIFIC * len(values) % tuple(values)
    finite = text.count("e")
    digits = _PREVIEW_PRECISION
    while digits > 0 and text.count("0" * (_PREVIEW_PRECISION - digits + 1) + "e") == finite:
        digits -= 1
    if digits < _PREVIEW_PRECISION:
        text = text.replace("0" * (_PREVIEW_PRECISION - digits) + "e", "e")  # "1.0000e+00": "1.e+00"
    return text.split("\n")[:-1]


_ELLIPSIS = "..."
# The indices of a cut axis that numpy prints: its head and tail (negative: from the end).
_EDGE_INDICES = np.r_[0:_PREVIEW_EDGE_ITEMS, -_PREVIEW_EDGE_ITEMS:0]


def _shown_part(array: np.ndarray) -> tuple[np.ndarray, list[bool]]:
    """The elements numpy's summarising rule prints, as an array (an axis longer than twice the
    edge count keeps its head and tail), and which axes were cut that way."""
    summarise = array.size > _PREVIEW_WHOLE_UP_TO
    cut = [summarise and length > 2 * _PREVIEW_EDGE_ITEMS for length in array.shape]
    for axis, is_cut in enumerate(cut):
        if is_cut:
            array = array.take(_EDGE_INDICES, axis=axis)
    return array, cut


def _nested_text(shape: tuple[int, ...], cut: list[bool], texts: list[str]) -> str:
    """Brackets around ``texts`` (the elements of an array of ``shape``, in flat order), from
    the innermost axis out, with an ellipsis in the middle of each cut axis."""
    parts = texts
    for axis in range(len(shape) - 1, -1, -1):
        length = shape[axis]
        groups = []
        for i in range(math.prod(shape[:axis])):
            row = parts[i * length : (i + 1) * length]
            if cut[axis]:
                row.insert(_PREVIEW_EDGE_ITEMS, _ELLIPSIS)
            groups.append("[" + ", ".join(row) + "]")
        parts = groups
    return parts[0]


def _shown_elements(shape: tuple[int, ...]) -> int:
    """How many elements numpy's summarising rule keeps of an array of ``shape``."""
    return math.prod(min(n, 2 * _PREVIEW_EDGE_ITEMS) for n in shape)


def _flat_preview(array: np.ndarray, texts: Any) -> str:
    """Head and tail of the flattened array, read by flat index (no copy of the array)."""
    edge = _PREVIEW_EDGE_ITEMS
    values = [array.flat[i] for i in (*range(edge), *range(array.size - edge, array.size))]
    shown = texts(values)
    return f"flat [{', '.join(shown[:edge])}, {_ELLIPSIS}, {', '.join(shown[edge:])}]"


def _element_texts(array: np.ndarray) -> Any:
    if array.dtype.kind == "f":
        return lambda values: _float_texts([float(v) for v in values])
    return lambda values: [_safe_text(v) for v in values]


def _numeric_preview(array: np.ndarray) -> str:
    """A real array as numpy would print it with the preview options, on one line.

    Costs a few microseconds, where np.array2string costs ~30 (see the module docstring).
    """
    shown, cut = _shown_part(array)
    values = shown.ravel().tolist()
    texts = _float_texts(values) if array.dtype.kind == "f" else [str(v) for v in values]
    return _nested_text(shown.shape, cut, texts)


def _preview(array: np.ndarray) -> str:
    if array.size == 1:
        return _cap(_safe_text(array.flat[0]))
    if array.size > _PREVIEW_WHOLE_UP_TO and _shown_elements(array.shape) > _PREVIEW_MAX_ELEMENTS:
        return _cap(_flat_preview(array, _element_texts(array)))
    if array.size > 1 and array.dtype.kind in _STATS_KINDS:
        return _cap(_numeric_preview(array), one_line=True)
    try:
        text = np.array2string(
            array,
            threshold=_PREVIEW_WHOLE_UP_TO,
            edgeitems=_PREVIEW_EDGE_ITEMS,
            precision=_PREVIEW_PRECISION,
            separator=", ",
            max_line_width=10**6,
        )
    except Exception:  # same as above: element reprs come from user code
        return f"<{array.dtype} array>"
    if array.dtype.kind == "c":
        # numpy pads numbers into aligned columns; on one line that is just noise.
        text = " ".join(text.split()).replace("[ ", "[").replace(" ]", "]").replace(" ,", ",")
    return _cap(text)


def _to_array(value: Any) -> np.ndarray:
    """A plain ndarray: subclasses (masked arrays, matrix) print and reduce differently."""
    if type(value) is np.ndarray:
        return value
    try:
        return np.asarray(value)
    except Exception:  # ragged or otherwise unconvertible: summarise it as one object
        holder = np.empty((), dtype=object)
        holder[()] = value
        return holder


_dtype_texts: dict[np.dtype, str] = {}


def _dtype_text(dtype: np.dtype) -> str:
    """str(dtype), cached: it is a measurable share of a refresh of a big scalar graph."""
    text = _dtype_texts.get(dtype)
    if text is None:
        text = _dtype_texts[dtype] = str(dtype)
    return text


def _number(value: Any, kind: str) -> int | float | None:
    """A plain Python number; None where a float would not fit JSON (a mean that
    overflowed, a float128 beyond float64's range)."""
    if kind != "f":
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def _sample(array: np.ndarray) -> np.ndarray:
    """The array, or at most _STATS_MAX_ELEMENTS of its elements evenly spaced in flat order."""
    if array.size <= _STATS_MAX_ELEMENTS:
        return array
    flat = np.ravel(array, order="K")  # a view unless the strides forbid it
    if np.may_share_memory(flat, array):
        return np.ascontiguousarray(flat[:: -(-array.size // _STATS_MAX_ELEMENTS)])
    # ravel copied everything (a strided view): step every axis alike instead
    step = math.ceil((array.size / _STATS_MAX_ELEMENTS) ** (1 / array.ndim))
    return np.ascontiguousarray(array[(slice(None, None, step),) * array.ndim])


def _add_stats(summary: ArraySummary, array: np.ndarray) -> None:
    """min/max/mean/norm over the finite values, with counts of NaN and +-Inf alongside
    (of a sample, for huge arrays: then ``sampled`` is set)."""
    sample = _sample(array)
    if sample is not array:
        summary["sampled"] = True
        array = sample
    # (the ufuncs' reduce is what ndarray.all, min, max, sum and mean call, without their
    # Python-level wrappers: a snapshot summarises every drawn array)
    kind = array.dtype.kind
    values = array
    low, high = np.minimum.reduce(array, axis=None), np.maximum.reduce(array, axis=None)
    # A NaN makes min and max NaN, an infinity one of them infinite: only then is there anything
    # to count (finite extremes are the common case, and need no pass over the elements).
    if kind == "f" and not (math.isfinite(low) and math.isfinite(high)):
        finite = np.isfinite(array)
        nan = int(np.count_nonzero(np.isnan(array)))
        posinf = int(np.count_nonzero(np.isposinf(array)))
        neginf = int(array.size - nan - posinf - np.count_nonzero(finite))
        for key, count in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
            if count:
                summary[key] = count
        values = array[finite]
        if values.size == 0:
            summary["min"] = summary["max"] = summary["mean"] = None
            return
        low, high = np.minimum.reduce(values, axis=None), np.maximum.reduce(values, axis=None)
    summary["min"], summary["max"] = _number(low, kind), _number(high, kind)
    if max(-float(low), float(high)) < _NO_OVERFLOW_BELOW:
        _add_moments(summary, values, array.size)
    else:  # a sum of squares may overflow to inf (then the norm says None): not a warning
        with np.errstate(over="ignore"):
            _add_moments(summary, values, array.size)


_FLOAT64 = np.dtype(np.float64)  # (native float64 arrays share this descriptor)
# Keys a summary has when its statistics did not see every element finite.
_UNCHECKED = frozenset(("sampled", "nan", "posinf", "neginf"))
# Elements smaller than this in magnitude cannot overflow a float64 sum of squares of up to
# 2**64 of them; checking costs less than np.errstate (a context variable set and reset).
_NO_OVERFLOW_BELOW = 1e140


def _add_moments(summary: ArraySummary, values: np.ndarray, read: int) -> None:
    """mean and norm (scaled up from the ``read`` elements when they were a sample)."""
    summary["mean"] = _number(np.add.reduce(values, axis=None, dtype=np.float64) / values.size, "f")
    if values.dtype is _FLOAT64:  # one BLAS call (the method: np.dot dispatches first)
        flat = values.reshape(-1)
        squares = float(flat.dot(flat))
    else:
        squares = float(np.add.reduce(np.square(values, dtype=np.float64), axis=None))
    summary["norm"] = _number(math.sqrt(squares * (summary["size"] / read)), "f")


@functools.lru_cache(maxsize=256)
def _grid_indices(length: int) -> np.ndarray:
    """At most _THUMBNAIL_SIDE indices spread evenly over an axis (nearest element, no averaging)."""
    return np.linspace(0, length - 1, min(length, _THUMBNAIL_SIDE)).round().astype(np.intp)


def _thumbnail(array: np.ndarray, summary: ArraySummary, diverging: bool) -> Thumbnail | None:
    """A heatmap of a 1-D or 2-D numeric array: evenly spaced elements, one byte each.

    Cells 0..250 map linearly onto lo..hi: the data's finite range, or, for a gradient
    (``diverging``), -m..m with m its largest magnitude, so zero sits in the middle.
    """
    if array.ndim not in (1, 2) or array.size < 2 or summary.get("min") is None:
        return None
    grid = array.reshape(1, -1) if array.ndim == 1 else array
    for axis, length in enumerate(grid.shape):
        if length > _THUMBNAIL_SIDE:
            grid = grid.take(_grid_indices(length), axis=axis)
    lo, hi = float(summary["min"]), float(summary["max"])
    if diverging:
        hi = max(abs(lo), abs(hi))
        lo = -hi
    # Statistics of every element that found them all finite: the cells lie within lo..hi
    # (a sample's extremes may not bound the grid, nor its counts say every cell is finite).
    checked = summary.keys().isdisjoint(_UNCHECKED)
    cells = np.subtract(grid, lo, dtype=np.float64)  # a new array: scaled in place below
    if not checked:
        special = grid.astype(np.float64)
        finite = np.isfinite(special)
        cells[~finite] = 0.0
    cells *= _THUMBNAIL_LEVELS / (hi - lo) if hi > lo else 0.0
    if hi == lo:
        cells += _THUMBNAIL_LEVELS / 2
    if not checked:
        np.clip(cells, 0, _THUMBNAIL_LEVELS, out=cells)
    codes = np.rint(cells, out=cells).astype(np.uint8)
    if not checked:
        codes[np.isnan(special)] = _THUMBNAIL_NAN
        codes[special == np.inf] = _THUMBNAIL_POSINF
        codes[special == -np.inf] = _THUMBNAIL_NEGINF
    return {
        "rows": grid.shape[0],
        "cols": grid.shape[1],
        "lo": lo,
        "hi": hi,
        "cells": base64.b64encode(codes.tobytes()).decode("ascii"),
    }


# Summaries of small numeric arrays, by content: a refresh reads every drawn array again, and
# most of them have not changed (the data, after a backward(); everything, after a Reset).
# Keyed by all a summary depends on (dtype, shape, bytes, diverging), so a hit is exact; only
# for arrays whose bytes cost far less to copy and compare than the ~15 us of a summary.
_MEMO_UP_TO = 128  # elements
_MEMO_ENTRIES = 4096  # then it starts afresh: at most a few MB
_memo: dict[tuple, ArraySummary] = {}


def summarize(value: Any, diverging: bool = False) -> ArraySummary | None:
    """A small JSON-ready description of an array (``protocol.ArraySummary``).

    Never the whole array: shape, dtype, size, a one-line preview and, for numeric arrays
    of more than one element, min/max/mean/norm of the finite values plus counts of
    NaN/+Inf/-Inf when there are any, and a heatmap thumbnail for 1-D and 2-D ones
    (``diverging`` for gradients: centred on zero). Size-1 arrays give only the exact value
    as their preview, to keep big scalar graphs small. The cost is bounded whatever the
    array's size or number of dimensions. Equal small arrays may get the same summary
    object: treat it as read-only.
    """
    if value is None:
        return None
    array = _to_array(value)
    if array.size > _MEMO_UP_TO or array.dtype.kind not in _STATS_KINDS:
        return _summarize(array, diverging)
    key = (array.dtype, array.shape, array.tobytes(), diverging)
    summary = _memo.get(key)
    if summary is None:
        if len(_memo) >= _MEMO_ENTRIES:
            _memo.clear()
        summary = _memo[key] = _summarize(array, diverging)
    return summary


def _summarize(array: np.ndarray, diverging: bool) -> ArraySummary:
    summary: ArraySummary = {
        "shape": list(array.shape),
        "dtype": _dtype_text(array.dtype),
        "size": int(array.size),
        "preview": _preview(array),
    }
    if array.size > 1 and array.dtype.kind in _STATS_KINDS:
        _add_stats(summary, array)
        thumbnail = _thumbnail(array, summary, diverging)
        if thumbnail is not None:
            summary["thumbnail"] = thumbnail
    return summary


class SummaryMemo:
    """``summarize`` for a batch of values that do not change meanwhile (one replay): a value
    met again gets its first summary back, where a replay would summarise one gradient as a
    step's output, a term and a running total. It holds what it summarised, so that ids stay
    unique while it lives."""

    def __init__(self, diverging: bool = False) -> None:
        self.diverging = diverging
        self._known: dict[int, tuple[Any, ArraySummary | None]] = {}

    def __call__(self, value: Any) -> ArraySummary | None:
        known = self._known.get(id(value))
        if known is None:
            known = self._known[id(value)] = (value, summarize(value, self.diverging))
        return known[1]

    def remember(self, value: Any, summary: ArraySummary | None) -> None:
        """``value``'s summary, made elsewhere (a snapshot of the same values)."""
        self._known[id(value)] = (value, summary)
