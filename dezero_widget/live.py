"""Live refresh: keeps every open graph widget current while the notebook runs.

One ``LiveRefresh`` owns the two hooks that serve all widgets, installed while at least one
widget is attached and removed with the last one:

* the engine's grad listener (``core.watch_grads``): after any ``backward()``, ``cleargrad()``
  or ``v.grad = ...`` each widget refreshes if it is due (throttled, so a training loop of
  1,000 ``backward()`` calls sends a handful of updates, not 1,000);
* IPython's ``post_run_cell`` event: after every cell each widget whose values changed
  refreshes, which flushes what the throttle held back and covers a learner's own classes
  (they notify nobody); an unchanged graph costs only its fingerprint.

Widgets are held weakly: a widget garbage-collected without ``close()`` detaches itself.
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from IPython import get_ipython

from dezero_widget import core

logger = logging.getLogger("dezero_widget")
_clock = time.perf_counter  # (read at every cleargrad() and backward() while a widget is open)


class Refreshable(Protocol):
    due_at: float  # perf_counter() time from which the widget wants the next throttled refresh

    def refresh(self) -> None: ...

    def refresh_if_changed(self) -> None: ...

    def refresh_if_due(self) -> None: ...


class LiveRefresh:
    """The engine listener and the post-cell hook for a set of widgets (see the module docstring)."""

    def __init__(self) -> None:
        self._widgets: weakref.WeakSet[Refreshable] = weakref.WeakSet()
        self._shell: Any = None  # the IPython shell whose post_run_cell hook is installed
        # No widget is due before this time: a training loop's many notifications cost a clock read.
        self._quiet_until = 0.0

    @property
    def widgets(self) -> list[Refreshable]:
        """The widgets kept current."""
        return list(self._widgets)

    def attach(self, widget: Refreshable) -> None:
        """Keep ``widget`` current from now on; installs the hooks for the first widget."""
        if widget not in self._widgets:
            self._widgets.add(widget)
            weakref.finalize(widget, self._stop_if_idle)
        self._quiet_until = 0.0
        self._start()

    def detach(self, widget: Refreshable) -> None:
        """Stop refreshing ``widget``; removes the hooks with the last widget."""
        self._widgets.discard(widget)
        self._stop_if_idle()

    def stop(self) -> None:
        """Remove both hooks (attached widgets stay attached and stop updating)."""
        core.unwatch_grads(self._on_grads_changed)
        if self._shell is not None:
            with contextlib.suppress(ValueError):
                self._shell.events.unregister("post_run_cell", self._after_cell)
            self._shell = None

    @contextlib.contextmanager
    def batch(self, widget: Refreshable) -> Iterator[None]:
        """Mute the engine listener while a control changes many grads (cleargrad notifies
        once per variable), then refresh ``widget`` and every attached widget once: no cell
        runs after a button press, so nothing else would show the change in other widgets."""
        core.unwatch_grads(self._on_grads_changed)
        try:
            yield
        finally:
            if self._widgets:
                core.watch_grads(self._on_grads_changed)
            _refresh_quietly({widget, *self._widgets})

    def _start(self) -> None:
        core.watch_grads(self._on_grads_changed)
        if self._shell is None:
            shell = get_ipython()
            if shell is not None:
                shell.events.register("post_run_cell", self._after_cell)
                self._shell = shell

    def _stop_if_idle(self) -> None:
        if not self._widgets:
            self.stop()

    def _on_grads_changed(self) -> None:
        if _clock() < self._quiet_until:
            return
        widgets = list(self._widgets)
        _refresh_quietly(widgets, only_if_due=True)
        self._quiet_until = min((widget.due_at for widget in widgets), default=0.0)

    def _after_cell(self, result: Any = None) -> None:
        _refresh_quietly(self._widgets)


def _refresh_quietly(widgets: Iterable[Refreshable], only_if_due: bool = False) -> None:
    """Refresh from a hook (when something changed): an error must not surface in the
    learner's backward() or cell."""
    for widget in list(widgets):
        try:
            if only_if_due:
                widget.refresh_if_due()
            else:
                widget.refresh_if_changed()
        except Exception:
            logger.warning("Could not refresh a graph widget", exc_info=True)
