"""What the engine reports while a ``%%autodiff`` cell runs, kept cheap enough for a training loop.

The engine calls ``on_apply(function, outputs)`` for every function it records and
``on_backward(root, log)`` after every ``backward()``, with what it wrote down of that pass
(``core.watching``). ``CellWatch`` turns
that into what the magic shows:

* until the first ``backward()``, the outputs of the newest calls are held (``Recorder``), so
  results never bound to a name can be drawn; after it the engine stops calling ``on_apply``
  (``core.Watchers``), so a training loop pays no bookkeeping per op and earlier steps are
  freed as it runs;
* the newest ``backward()``'s root is the graph to show: one step of a loop, not a pile.
  Roots made the same way (same creating function, same generation: a loop's steps) replace
  each other; differently made ones (the seed's ``add(x, x)`` then ``add(add(x, x), x)``) are
  all shown, up to ``MAX_GRAPHS``;
* each root's value (the loss) goes to the ``LossHistory`` of its kind of root;
* each backward() is written down step by step by the engine (``Watchers.record``: one append
  per function, for as many functions as can be drawn); the newest log is kept, for the widget
  to replay;
* backward() runs as in a plain cell (intermediate grads freed), and the code reads what it
  would read there. The drawn passes' intermediate grads are collected
  (``core.RetainedGrads``) and given when the cell ends: the newest pass of each kind of root,
  and every earlier pass a later one reached (the seed's repeated ``y.backward()``), so grads
  add up as ``retain_grad=True`` would have added them; a loop's earlier steps, which no later
  pass reaches, are never collected. A live update lends the grads for as long as it draws;
* the magic's ``show_step`` runs once the cell has run ``LIVE_MIN_INTERVAL`` seconds, then at most every
  ``LIVE_MIN_INTERVAL`` seconds (rarer when showing is costly), so the widget moves while the
  loop runs without slowing it by more than ``LIVE_MAX_SHARE``.
"""

from __future__ import annotations

import logging
import math
import time
from array import array
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from dezero_widget.core import BackwardLog, RetainedGrads, restore_grads
from dezero_widget.protocol import HISTORY_POINTS, LIVE_MAX_SHARE, LIVE_MIN_INTERVAL, History
from dezero_widget.reader import grad_array
from dezero_widget.replay import Recording

logger = logging.getLogger("dezero_widget")


class Recorder:
    """Holds the outputs of the newest ``keep`` function calls, so that results never bound to
    a name live until the graph is traced (a step's graph that nothing else holds is freed).
    One deque append per call: the bookkeeping waits until ``sinks()`` is asked."""

    def __init__(self, keep: int) -> None:
        self.held: deque[list] = deque(maxlen=keep)  # outputs per call, oldest first

    def __call__(self, function: Any, outputs: list) -> None:
        self.held.append(outputs)

    def sinks(self) -> list:
        """Held outputs no held call consumed, newest first: tracing from them finds every held
        node, and truncation drops the oldest graphs first."""
        # on_apply hands over this package's own Functions: creators with a tuple of inputs.
        consumed = {
            id(x) for outputs in self.held for y in outputs if y.creator is not None for x in y.creator.inputs
        }
        return [y for outputs in reversed(self.held) for y in reversed(outputs) if id(y) not in consumed]


class LossHistory:
    """The value of every backward() root of one kind that holds one number, 8 bytes a call,
    and the newest such root."""

    def __init__(self) -> None:
        self.values = array("d")
        self.label = ""
        self.newest: Any = None
        self.uncollected: BackwardLog | None = None  # the newest root's pass (see CellWatch)

    def add(self, root: Any) -> None:
        """``root``: a backward() root of this package's engine (its data is an array)."""
        self.newest = root
        data = root.data
        if data.size == 1:
            # (not contextlib.suppress: this runs at every backward(), and entering a context
            # manager costs five times what the append does)
            try:  # noqa: SIM105
                self.values.append(data.item())
            except (TypeError, ValueError):  # complex, object: nothing to chart
                pass

    def as_dict(self, points: int = HISTORY_POINTS) -> History:
        """At most ``points`` values evenly spaced over the calls, the newest always among them."""
        total = len(self.values)
        if total <= points:
            steps = np.arange(total)
        else:  # k (total - 1) / (points - 1), rounded half up, in integers
            span, gaps = total - 1, points - 1
            steps = (2 * span * np.arange(points) + gaps) // (2 * gaps)
        # (np.frombuffer: a view of the array's buffer, which must not outlive this call, or
        # the next append could not grow the array)
        chosen = np.frombuffer(self.values, dtype=np.float64)[steps]
        values = chosen.tolist()
        if not np.isfinite(chosen).all():  # JSON has no NaN or Inf
            values = [value if math.isfinite(value) else None for value in values]
        return {"label": self.label, "values": values, "steps": (steps + 1).tolist(), "total": total}


MAX_GRAPHS = 8  # differently made backward() roots drawn together


class CellWatch:
    """The engine's reports during one cell (see the module docstring)."""

    def __init__(self, keep: int, show_step: Callable[[CellWatch], None], fill_grads: bool = True) -> None:
        """``keep``: the nodes drawn at most, so the function calls whose outputs are held;
        ``fill_grads``: give the drawn passes their intermediate grads (see the module docstring)."""
        self.recorder: Recorder | None = Recorder(keep)
        self._fill_grads = fill_grads
        self._retained = RetainedGrads()  # of the passes a later pass reached
        self.log: BackwardLog | None = None  # the newest backward(), step by step
        # A root's kind: its creator's class and its generation. Roots of a loop's steps share
        # it; a different computation has another. Oldest kind first.
        self._histories: dict[tuple, LossHistory] = {}
        self._history: LossHistory | None = None  # the newest root's kind's
        self._show_step = show_step
        self._closed = False
        # A cell shorter than one interval shows its graph once, at its end.
        self._next_show_at = time.perf_counter() + LIVE_MIN_INTERVAL

    def on_apply(self, function: Any, outputs: list) -> None:
        if self.recorder is not None:
            self.recorder(function, outputs)

    def close(self) -> None:
        """The cell is over: the newest pass of each kind of root gets its intermediate grads,
        and from now on the reports change nothing (should anything still report: a
        `watching` block the cell opened and left open, say)."""
        self.recorder = None
        self._closed = True
        for history in self._histories.values():
            if history.uncollected is not None:
                self._retained.add(history.uncollected)
                history.uncollected = None
        self._retained.give()

    def on_backward(self, root: Any, log: BackwardLog | None) -> None:
        """``Watchers.on_backward``; ``log``, what the engine wrote down of that backward()."""
        if self._closed:
            return
        self.recorder = None  # from now on the newest backward() is the graph shown
        self.log = log
        kind = (root.creator.__class__, root.generation)
        history = self._histories.get(kind)
        if history is None:  # (not setdefault: that would make a LossHistory every call)
            if len(self._histories) == MAX_GRAPHS:
                del self._histories[next(iter(self._histories))]
            history = self._histories[kind] = LossHistory()
        self._history = history
        history.add(root)
        if self._fill_grads and log is not None:
            self._collect_reached_passes(log)
            history.uncollected = log
        now = time.perf_counter()
        if now >= self._next_show_at:
            shown_grads = self._lend_grads(log) if self._fill_grads and log is not None else []
            try:
                self._show_step(self)
            except Exception:  # the learner's backward() must not fail because of the drawing
                logger.warning("Could not show the newest step of a %%autodiff cell", exc_info=True)
            finally:
                restore_grads(shown_grads)
            shown_at = time.perf_counter()
            self._next_show_at = shown_at + max(LIVE_MIN_INTERVAL, (shown_at - now) / LIVE_MAX_SHARE)

    def _collect_reached_passes(self, log: BackwardLog) -> None:
        """Collect each earlier pass whose functions ``log``'s pass reached; for the replay,
        what they collected counts as there before ``log``'s pass, as with retain_grad."""
        functions, reached = log.functions, False
        for history in self._histories.values():
            earlier = history.uncollected
            if earlier is not None and not functions.isdisjoint(earlier.functions):
                self._retained.add(earlier)
                history.uncollected, reached = None, True
        if reached:
            # What each variable held before the pass, as the engine wrote it down (the pass may
            # have kept grads itself, with retain_grad=True): absent, nothing.
            held_before = {id(x): grad for x, grad in log.before}
            for variable, total in self._retained.variables():
                is_root = variable is log.root
                held = grad_array(log.root_before if is_root else held_before.get(id(variable)))
                before = total if held is None else held + total
                if is_root:
                    log.root_before = before
                log.before.append((variable, before))

    def _lend_grads(self, log: BackwardLog) -> list:
        """Give the grads collected so far and ``log``'s for a live update; returns what
        ``restore_grads`` needs to take them back."""
        given = self._retained.give()
        newest = RetainedGrads()
        newest.add(log)
        return given + newest.give()

    @property
    def recording(self) -> Recording | None:
        """The newest backward(), step by step, for the widget to replay (None before any)."""
        return None if self.log is None else Recording.of_log(self.log)

    @property
    def backward_root(self) -> Any:
        """The newest backward()'s root (None before any)."""
        return None if self._history is None else self._history.newest

    @property
    def history(self) -> LossHistory:
        """The history of the newest backward()'s kind of root (empty before any)."""
        return LossHistory() if self._history is None else self._history

    def roots(self, rebound: Callable[[], list]) -> list:
        """What to draw after the cell: the newest root of each kind of backward() root, or
        else every held result and every variable the cell bound to a name (``rebound()``,
        asked only then)."""
        if self._histories:
            return [history.newest for history in self._histories.values()]
        held = self.recorder.sinks() if self.recorder is not None else []
        return list({id(v): v for v in [*held, *rebound()]}.values())
