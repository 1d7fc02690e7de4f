"""Array summaries for snapshots: shape, dtype, a one-line preview and statistics, never the array.

A preview is what numpy would print with small print options, on one line and bounded in
length; it is produced here rather than by ``np.array2string`` because that costs ~30 us per
call, which alone would blow the refresh budget of a 1,000-node graph of vectors.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Iterator
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


def _cap(text: str) -> str:
    """One line; past the length bound, keep the head and the tail around an ellipsis."""
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


def _float_texts(values: list[float]) -> list[str]:
    """numpy's default style for the elements of one array: positional with at most
    the preview precision and trailing zeros dropped ("1.", "4.5"), or, when the
    magnitudes call for it by numpy's own rule, scientific with equal-length mantissas."""
    magnitudes = [abs(v) for v in values if v != 0 and math.isfinite(v)]
    scientific = bool(magnitudes) and (
        max(magnitudes) >= 1e8 or min(magnitudes) < 1e-4 or max(magnitudes) / min(magnitudes) > 1e3
    )
    if not scientific:
        return [f"{v:.{_PREVIEW_PRECISION}f}".rstrip("0") if math.isfinite(v) else str(v) for v in values]
    parts = [f"{v:.{_PREVIEW_PRECISION}e}".split("e") if math.isfinite(v) else (str(v), None) for v in values]
    mantissas = [m.rstrip("0") if e is not None else m for m, e in parts]
    digits = max(len(m) - m.index(".") - 1 for m, (_, e) in zip(mantissas, parts) if e is not None)
    return [
        f"{m}{'0' * (digits - len(m) + m.index('.') + 1)}e{e}" if e is not None else m
        for m, (_, e) in zip(mantissas, parts)
    ]


_ELLIPSIS = "..."


def _edge_items(array: np.ndarray, summarise: bool) -> list:
    """Nested lists of what numpy prints: when summarising, an axis longer than
    twice the edge count keeps only its head and tail, with an ellipsis between."""
    length = array.shape[0]
    cut = summarise and length > 2 * _PREVIEW_EDGE_ITEMS
    if array.ndim == 1:
        if not cut:
            return array.tolist()
        edge = _PREVIEW_EDGE_ITEMS
        return [*array[:edge].tolist(), _ELLIPSIS, *array[-edge:].tolist()]
    rows: list[int | None] = list(range(length))
    if cut:
        edge = _PREVIEW_EDGE_ITEMS
        rows = [*range(edge), None, *range(length - edge, length)]
    return [_ELLIPSIS if row is None else _edge_items(array[row], summarise) for row in rows]


def _leaves(items: list) -> Iterator[Any]:
    for item in items:
        if isinstance(item, list):
            yield from _leaves(item)
        elif item is not _ELLIPSIS:
            yield item


def _nested_text(items: Any, texts: Iterator[str]) -> str:
    """Brackets from the nesting of ``items``, element texts from ``texts`` in flat order."""
    if isinstance(items, list):
        return "[" + ", ".join(_nested_text(item, texts) for item in items) + "]"
    return _ELLIPSIS if items is _ELLIPSIS else next(texts)


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
    items = _edge_items(array, summarise=array.size > _PREVIEW_WHOLE_UP_TO)
    values = list(_leaves(items))
    texts = _float_texts(values) if array.dtype.kind == "f" else [str(v) for v in values]
    return _nested_text(items, iter(texts))


def _preview(array: np.ndarray) -> str:
    if array.size == 1:
        return _cap(_safe_text(array.flat[0]))
    if array.size > _PREVIEW_WHOLE_UP_TO and _shown_elements(array.shape) > _PREVIEW_MAX_ELEMENTS:
        return _cap(_flat_preview(array, _element_texts(array)))
    if array.size > 1 and array.dtype.kind in _STATS_KINDS:
        return _cap(_numeric_preview(array))
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
    kind = array.dtype.kind
    values = array
    if kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
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
    summary["min"] = _number(values.min(), kind)
    summary["max"] = _number(values.max(), kind)
    with np.errstate(over="ignore"):
        summary["mean"] = _number(values.mean(dtype=np.float64), "f")
        squares = np.square(values, dtype=np.float64).sum()
        summary["norm"] = _number(np.sqrt(squares * (summary["size"] / array.size)), "f")


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
    if max(grid.shape) > _THUMBNAIL_SIDE:
        grid = grid[np.ix_(_grid_indices(grid.shape[0]), _grid_indices(grid.shape[1]))]
    cells = grid.astype(np.float64)  # a copy: scaled in place below
    lo, hi = float(summary["min"]), float(summary["max"])
    if diverging:
        hi = max(abs(lo), abs(hi))
        lo = -hi
    finite = np.isfinite(cells)
    all_finite = finite.all()
    if not all_finite:
        special = cells.copy()
        cells[~finite] = lo
    cells -= lo
    cells *= _THUMBNAIL_LEVELS / (hi - lo) if hi > lo else 0.0
    if hi == lo:
        cells += _THUMBNAIL_LEVELS / 2
    np.maximum(cells, 0, out=cells)
    np.minimum(cells, _THUMBNAIL_LEVELS, out=cells)
    codes = np.rint(cells).astype(np.uint8)
    if not all_finite:
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


def summarize(value: Any, diverging: bool = False) -> ArraySummary | None:
    """A small JSON-ready description of an array (``protocol.ArraySummary``).

    Never the whole array: shape, dtype, size, a one-line preview and, for numeric arrays
    of more than one element, min/max/mean/norm of the finite values plus counts of
    NaN/+Inf/-Inf when there are any, and a heatmap thumbnail for 1-D and 2-D ones
    (``diverging`` for gradients: centred on zero). Size-1 arrays give only the exact value
    as their preview, to keep big scalar graphs small. The cost is bounded whatever the
    array's size or number of dimensions.
    """
    if value is None:
        return None
    array = _to_array(value)
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
