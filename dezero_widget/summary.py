"""Array summaries for snapshots: shape, dtype, a one-line preview and statistics, never the array.

A preview is what numpy would print with small print options, on one line and bounded in
length; it is produced here rather than by ``np.array2string`` because that costs ~30 us per
call, which alone would blow the refresh budget of a 1,000-node graph of vectors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from dezero_widget.protocol import ArraySummary

# Array previews: arrays up to this many elements are shown whole, larger ones
# as head...tail; every preview is one line of at most this many characters.
_PREVIEW_WHOLE_UP_TO = 10
_PREVIEW_EDGE_ITEMS = 3
_PREVIEW_PRECISION = 4
_PREVIEW_MAX_CHARS = 120

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


def _add_stats(summary: ArraySummary, array: np.ndarray) -> None:
    """min/max/mean over the finite values, with counts of NaN and +-Inf alongside."""
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


def summarize(value: Any) -> ArraySummary | None:
    """A small JSON-ready description of an array (``protocol.ArraySummary``).

    Never the whole array: shape, dtype, size, a one-line preview and, for
    numeric arrays of more than one element, min/max/mean of the finite
    values plus counts of NaN/+Inf/-Inf when there are any. Size-1 arrays
    give only the exact value as their preview, to keep big scalar graphs small.
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
    return summary
