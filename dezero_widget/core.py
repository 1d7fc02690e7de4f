"""The engine: `Variable`, `Function`, configuration and backward.

DeZero-compatible names and behaviour. Two departures, both for correctness:
configuration lives in a `contextvars.ContextVar` (restored after exceptions,
private to each thread and task), and backward propagates gradients in a local
table, writing only the final sums into `.grad`, so calling `backward()` again
accumulates exactly one more gradient even when intermediate grads were kept.

The arithmetic functions the operators need (and the broadcasting pair they
rely on) live here; every other differentiable function is in `functions.py`.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import gc
import sys
import weakref
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from typing import Any

import numpy as np

# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Settings:
    enable_backprop: bool = True  # record creators so backward() can run
    train: bool = True  # dropout and friends behave as in training
    retain_grad: bool = False  # default of backward(retain_grad=None)


_settings: contextvars.ContextVar[_Settings] = contextvars.ContextVar(
    "dezero_widget_settings",
    default=_Settings(),  # noqa: B039  (frozen: never mutated, only replaced)
)
_SETTING_NAMES = tuple(f.name for f in dataclasses.fields(_Settings))


@contextlib.contextmanager
def using_config(name: str, value: Any) -> Iterator[None]:
    """Set one setting for the duration of a `with` block (restored on errors too)."""
    if name not in _SETTING_NAMES:
        raise AttributeError(f"unknown config {name!r}; expected one of {', '.join(_SETTING_NAMES)}")
    token = _settings.set(dataclasses.replace(_settings.get(), **{name: value}))
    try:
        yield
    finally:
        _settings.reset(token)


@dataclasses.dataclass(frozen=True)
class Watchers:
    """What an observer (the %%autodiff magic) asks of the engine while code runs.

    Kept apart from the learner's configuration: the learner's own changes to `Config` in a
    watched cell stay, as in any cell, and nothing the learner's code does to `Config` (a
    context manager left open, say) can bring an observer's callbacks back later.

    A module global, not a context variable like `Config`: while any context variable is set,
    reading one that is not (numpy reads its error state at every ufunc call) searches the
    context instead of returning at once, which cost a training loop under %%autodiff ~1% of
    its time. So the watchers of a block apply to every thread while it runs (the magic runs
    one cell at a time, and a widget acts between cells).
    """

    # on_apply(function, outputs) for every function recorded in a graph until the block's
    # first backward() (from then on an observer shows the newest backward()'s graph, so a
    # training loop pays nothing per op).
    on_apply: Callable[[Function, list], None] | None = None
    # on_backward(root, log) after every backward() from `root`: `log` is what that backward()
    # wrote down (a BackwardLog) when `record` is set, else None.
    on_backward: Callable[[Variable, BackwardLog | None], None] | None = None
    # Write down the first `record` functions every backward() applies (see BackwardLog): as
    # many as an observer draws. The engine keeps the log itself and hands it to on_backward,
    # so that an observer costs a training loop one call per backward(). An observer that
    # shows intermediate grads gives them afterwards to the passes it draws, from their logs
    # (`RetainedGrads`), instead of making every pass keep them: backward() runs as unwatched.
    record: int | None = None


_watchers = Watchers()  # (see watching)
# How many `watching` blocks are open: while none is, Function.__call__ reads nothing more.
_watching_blocks = 0
# The innermost Layer call running while a `watching` block is open (set by Layer.__call__ in
# layers.py, only then): Function.__call__ tags the functions it records with it, so the widget
# can draw a layer's functions in a box. None otherwise, and nothing reads it outside a block.
_layer_call: Any = None


@contextlib.contextmanager
def watching(**values: Any) -> Iterator[None]:
    """Watch the code run in a `with` block (see `Watchers`); restored on errors too."""
    global _watchers, _watching_blocks
    outer, _watchers = _watchers, Watchers(**values)
    _watching_blocks += 1
    try:
        yield
    finally:
        _watching_blocks -= 1
        _watchers = outer


def no_grad():
    """Run without recording the graph (inference, parameter updates)."""
    return using_config("enable_backprop", False)


def test_mode():
    """Run functions such as dropout in their inference behaviour."""
    return using_config("train", False)


class _ConfigView:
    """DeZero's `Config` class, as a view on the context's settings.

    Reading `Config.train` gives the current value; assigning sets it for the
    current context (DeZero code that flips `Config.enable_backprop` by hand
    keeps working, without a process-wide global).
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name not in _SETTING_NAMES:
            raise AttributeError(f"Config has no setting {name!r}")
        return getattr(_settings.get(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _SETTING_NAMES:
            raise AttributeError(f"Config has no setting {name!r}")
        _settings.set(dataclasses.replace(_settings.get(), **{name: value}))

    def __repr__(self) -> str:
        return f"Config({_settings.get()})"


Config = _ConfigView()

# --------------------------------------------------------------------------
# Change notifications (the live widget listens; nothing is done when nobody does)
# --------------------------------------------------------------------------

# A tuple, replaced when a listener comes or goes: notifying (every cleargrad() while a widget
# is open) iterates it without copying, and a listener may unregister while being called.
_grad_listeners: tuple[Callable[[], None], ...] = ()


def watch_grads(callback: Callable[[], None]) -> None:
    """Call `callback()` after any gradient changes: backward, cleargrad, or `v.grad = ...`."""
    global _grad_listeners
    if callback not in _grad_listeners:
        _grad_listeners = (*_grad_listeners, callback)


def unwatch_grads(callback: Callable[[], None]) -> None:
    """Stop calling `callback`; unknown callbacks are ignored."""
    global _grad_listeners
    _grad_listeners = tuple(listener for listener in _grad_listeners if listener != callback)


def _notify_grads_changed() -> None:
    for callback in _grad_listeners:
        callback()


# --------------------------------------------------------------------------
# Variable
# --------------------------------------------------------------------------


def grad_data(x: Variable) -> np.ndarray | None:
    """x's grad as an array, without wrapping a raw one into a Variable (for observers)."""
    grad = x._grad
    return grad if grad is None or grad.__class__ is np.ndarray else grad.data


class BackwardLog:
    """What one backward() writes down for an observer (see `Watchers.record`): `steps`, each
    function applied, in order, as (function, gys, gxs) — the grads that flowed in, one per
    output, and the tuple its backward returned, one per input (arrays, or Variables with
    create_graph); `before`, (variable, its grad from before this pass) for every variable
    that had one, as the pass first reaches it (absent: it had none), and `root_before`.
    Grads are never changed in place, so the references stay what they were.
    Only the first `limit` steps are written down (None: all of them); `cut` says the pass
    went on past them. `functions`: the ids of every function the pass applied, written down
    or not (two passes that share none touched disjoint graphs); `kept_grads`: the pass kept
    its intermediate grads itself (`retain_grad`)."""

    __slots__ = ("before", "cut", "functions", "kept_grads", "limit", "root", "root_before", "steps")

    def __init__(
        self, root: Any, root_before: Any, limit: int | None = None, kept_grads: bool = False
    ) -> None:
        self.root = root
        self.root_before = root_before
        self.limit = sys.maxsize if limit is None else limit
        self.kept_grads = kept_grads
        self.cut = False
        self.steps: list[tuple[Any, Any, tuple]] = []
        self.before: list[tuple[Any, Any]] = []
        self.functions: set[int] | frozenset[int] = _NO_FUNCTIONS

    @property
    def seed(self) -> Any:
        """The grad the pass started from: the root's own, else ones."""
        return np.ones_like(self.root.data) if self.root_before is None else self.root_before


_NO_FUNCTIONS: frozenset[int] = frozenset()


class RetainedGrads:
    """The intermediate grads that passes freed (DeZero's default) but `retain_grad=True` would
    have kept, collected from their logs without writing any: `add(log)` after a pass,
    `give()` when they should show. So an observer draws a pass's intermediate grads without
    making every pass keep them, and the code it watches sees exactly what it would unwatched.

    Per variable, the grads that flowed into it (it is an output of a written-down function),
    summed over the passes added (zeros for an unused output of a multi-output function); a
    root gets its seed once. Held weakly: a variable freed meanwhile (a loop's earlier step)
    is forgotten with its total.
    """

    def __init__(self) -> None:
        self._totals: dict[int, tuple[weakref.ref, Any]] = {}

    def add(self, log: BackwardLog) -> None:
        if log.kept_grads:  # the pass kept them itself
            return
        root = log.root
        # A root gets its seed if it holds no grad (a leaf root kept its own) and had none added.
        if root._grad is None and root.creator is not None and self.total(root) is None:
            self._add(root, log.seed)
        for function, gys, _ in log.steps:
            for ref, gy in zip(function.outputs, gys):
                y = ref()
                if y is not None and gy is not None and y is not root:
                    self._add(y, gy)

    def total(self, variable: Variable) -> Any:
        """What the passes added so far would have added to `variable`'s grad (None: nothing)."""
        entry = self._totals.get(id(variable))
        return entry[1] if entry is not None and entry[0]() is variable else None

    def _add(self, variable: Variable, grad: Any) -> None:
        key, totals = id(variable), self._totals
        entry = totals.get(key)
        if entry is not None and entry[0]() is variable:
            totals[key] = (entry[0], entry[1] + grad)
            return

        def forget(dead: weakref.ref) -> None:
            if key in totals and totals[key][0] is dead:
                del totals[key]

        totals[key] = (weakref.ref(variable, forget), grad)

    def variables(self) -> list[tuple[Variable, Any]]:
        """(variable, its total) for every variable still alive."""
        return [(v, total) for ref, total in self._totals.values() if (v := ref()) is not None]

    def give(self) -> list[tuple[Variable, Any]]:
        """Add each total to its variable's grad (a copy of its own: no grad aliases another).
        Returns (variable, its grad before) for each, for `restore_grads`."""
        changed = []
        for variable, total in self.variables():
            changed.append((variable, variable._grad))
            if isinstance(total, Variable):  # from a create_graph pass
                _add_grad(variable, total, True, set())
            else:
                _add_grad(variable, np.array(total), False, set())  # (np.array copies)
        return changed


def restore_grads(changed: list[tuple[Variable, Any]]) -> None:
    """Undo `RetainedGrads.give`: each variable gets back the grad it held."""
    for variable, grad in reversed(changed):
        variable._grad = grad


_SCALAR_TYPES = (np.generic, int, float, complex)


def as_array(x: Any) -> np.ndarray:
    """Numpy scalars (what numpy returns for 0-d results) and Python numbers become 0-d arrays."""
    if isinstance(x, _SCALAR_TYPES):
        return np.array(x)
    return x


def as_variable(obj: Any) -> Variable:
    if isinstance(obj, Variable):
        return obj
    return Variable(as_array(obj))


class Variable:
    """A node holding `data` (an ndarray), its gradient and the function that made it."""

    __slots__ = ("__weakref__", "_grad", "creator", "data", "generation", "name")
    __array_priority__ = 200  # numpy defers `array op variable` to our reflected operators

    def __init__(self, data: np.ndarray | None, name: str | None = None) -> None:
        if data is not None and not isinstance(data, np.ndarray):
            raise TypeError(
                f"Variable data must be a numpy.ndarray or None, not {type(data).__name__}"
                " (wrap it with np.array(...))"
            )
        self.data = data
        self.name = name
        self._grad: Variable | None = None
        self.creator: Function | None = None
        self.generation = 0

    # grad is a property so that assigning it notifies the widget; backward writes the slot
    # directly and notifies once at the end. Backward stores plain arrays there, wrapped into a
    # Variable when first read: the intermediate grads a training loop keeps but never reads
    # cost no Variable each.
    @property
    def grad(self) -> Variable | None:
        grad = self._grad
        if grad.__class__ is np.ndarray:
            grad = self._grad = Variable(grad)
        return grad

    @grad.setter
    def grad(self, value: Variable | None) -> None:
        self._grad = value
        if _grad_listeners:
            _notify_grads_changed()

    def set_creator(self, func: Function) -> None:
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self) -> None:
        self._grad = None  # (the setter's work, without a second call: cleargrads runs every step)
        if _grad_listeners:
            _notify_grads_changed()

    def to_cpu(self) -> None:
        """DeZero's device switch: data is always a numpy array here, so nothing moves."""

    def to_gpu(self) -> None:
        """No GPU support (see `dezero_widget.cuda`): data stays a numpy array."""

    def unchain(self) -> None:
        """Cut the link to the creator (the variable becomes a leaf)."""
        self.creator = None

    def unchain_backward(self) -> None:
        """Cut every creator link upstream of this variable (truncated backprop)."""
        stack = [self.creator] if self.creator is not None else []
        while stack:
            f = stack.pop()
            for x in f.inputs:
                if x.creator is not None:
                    stack.append(x.creator)
                    x.unchain()

    # -- array-like attributes ------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        if self.data is None:
            return "variable(None)"
        body = str(self.data).replace("\n", "\n" + " " * len("variable("))
        return f"variable({body})"

    # reshape, transpose, T, sum, max, min, matmul, dot, @ and [] call ops of functions.py:
    # functions.setup_variable() attaches them (the package's __init__ calls it), so that this
    # module never imports functions.py.

    # -- backward -------------------------------------------------------------
    def backward(self, retain_grad: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(v) into `v.grad` for every variable upstream of self.

        Functions run once each, latest generation first (a heap: n log n on
        wide graphs), iteratively (no recursion limit). Gradients flow through a
        local table; only leaves (and, with `retain_grad`, every variable) get
        them added to `.grad`, so a second call adds exactly one more gradient.
        With `create_graph` the backward pass is itself recorded (Variables all
        the way, for higher-order derivatives); without it, functions that
        define `backward_data` run on raw arrays, which is most of the speed.
        """
        if self.data is None:
            raise ValueError("cannot call backward() on a variable whose data is None")
        global _watchers
        watchers = _watchers
        if retain_grad is None:
            retain_grad = _settings.get().retain_grad
        grad = self.grad
        if grad is not None and (not isinstance(grad, Variable) or grad.shape != self.data.shape):
            _raise_wrong_root_grad(self)
        log = None
        if watchers.record is not None:
            log = BackwardLog(self, None if grad is None else grad.data, watchers.record, bool(retain_grad))
        if grad is None:
            ones = np.empty_like(self.data)  # (np.ones_like without its Python-level overhead)
            ones.fill(1)
            self._grad = ones  # wrapped into a Variable if read (see Variable.grad)
        creator = self.creator
        if creator is not None:
            # The graph holds no reference cycles (creators hold their outputs
            # weakly), so a cyclic collection during backward would traverse
            # the whole graph to free nothing; the collector resumes afterwards.
            collecting = gc.isenabled()
            gc.disable()
            try:
                if create_graph:  # record the backward pass, but not into the magic's recording
                    with using_config("enable_backprop", True), watching():
                        _run_backward(self, creator, retain_grad, True, log)
                else:
                    _run_backward(self, creator, retain_grad, False, log)
            finally:
                if collecting:
                    gc.enable()
            if not retain_grad:
                self._grad = None  # as in DeZero, the root's grad is freed unless kept
        if _grad_listeners:
            _notify_grads_changed()
        if watchers.on_apply is not None:  # (see Watchers.on_apply)
            _watchers = dataclasses.replace(watchers, on_apply=None)
        if watchers.on_backward is not None:
            watchers.on_backward(self, log)

    # -- operators (Python numbers and arrays mix in on either side) ----------
    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(self, other)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(self, other)

    def __neg__(self):
        return neg(self)

    def __sub__(self, other):
        return sub(self, other)

    def __rsub__(self, other):
        return rsub(self, other)

    def __truediv__(self, other):
        return div(self, other)

    def __rtruediv__(self, other):
        return rdiv(self, other)

    def __pow__(self, exponent):
        return pow(self, exponent)


def _run_backward(
    root: Variable,
    creator: Function,
    retain_grad: bool,
    create_graph: bool,
    log: BackwardLog | None,
) -> None:
    """The backward loop. `pending` maps id(variable) to the gradient flowing into
    it (Variables when `create_graph`, else raw arrays); leaves get their sums at the end.
    `log` (see `BackwardLog`), when given, is filled as the loop goes: list appends, no calls."""
    log_step = None if log is None else log.steps.append
    log_before = None if log is None else log.before.append
    log_room = 0 if log is None else log.limit  # steps the log may still take
    pending: dict[int, Any] = {id(root): root.grad if create_graph else grad_data(root)}
    leaves: list[Variable] = []
    # ids of the arrays already stored as some variable's grad (the root's own seed among them)
    given: set[int] = set() if create_graph else {id(pending[id(root)])}
    heap = [(-creator.generation, 0, creator)]
    queued = {id(creator)}
    order = 1
    while heap:
        f = heappop(heap)[2]
        refs = f.outputs
        if len(refs) == 1:  # the common case: the output that queued f has its gradient pending
            y = refs[0]()
            gys = (pending.pop(id(y)),)
            if retain_grad and y is not root:
                _add_grad(y, gys[0], create_graph, given)
        else:
            gys = [_output_grad(ref(), pending, root, retain_grad, create_graph, given) for ref in refs]

        if create_graph:
            gxs = f.backward(*gys)
        elif f.backward_data is not None:
            gxs = f.backward_data(*gys)
        else:  # a function with only a Variable-level backward (user-defined ones)
            with no_grad():
                gxs = f.backward(*[None if g is None else Variable(as_array(g)) for g in gys])
            gxs = _gradient_arrays(gxs)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        if log_step is not None:
            if log_room:
                log_step((f, gys, gxs))
                log_room -= 1
            else:
                log.cut = True  # type: ignore[union-attr]
                log_step = log_before = None

        for x, gx in zip(f.inputs, gxs):
            if gx is None or type(x) is Constant:
                continue
            if create_graph:
                gx = as_variable(gx)
                if gx.shape != x.shape:
                    _raise_wrong_grad(f, x, gx.data)
            else:
                try:  # (numpy scalars, which 0-d results are, have a shape too)
                    fits = gx.shape == x.data.shape
                except AttributeError:
                    fits = False
                if not fits:
                    gx = _checked_grad(f, x, gx)
            key = id(x)
            previous = pending.get(key)
            if previous is not None:  # x already had a gradient, so its creator is queued
                pending[key] = previous + gx
                continue
            pending[key] = gx
            if log_before is not None and x._grad is not None:  # (x's grad is still the old one)
                log_before((x, x._grad))
            x_creator = x.creator
            if x_creator is None:
                leaves.append(x)
            elif id(x_creator) not in queued:  # (another output of its creator may have queued it)
                queued.add(id(x_creator))
                heappush(heap, (-x_creator.generation, order, x_creator))
                order += 1
    for leaf in leaves:
        _add_grad(leaf, pending.pop(id(leaf)), create_graph, given)
    if log is not None:
        log.functions = queued


def _output_grad(
    y: Variable | None, pending: dict, root: Variable, retain: bool, create_graph: bool, given: set
):
    """The gradient of one output of a multi-output function (zeros if unused, None if dropped)."""
    if y is None:
        return None
    gy = pending.pop(id(y), None)
    if gy is None:
        gy = np.zeros_like(y.data)
        if create_graph:
            gy = Variable(gy)
    elif retain and y is not root:
        _add_grad(y, gy, create_graph, given)
    return gy


def _add_grad(x: Variable, gx: Any, create_graph: bool, given: set[int]) -> None:
    """x.grad += gx, out of place. Every grad is an array of its own, writable: an optimizer
    that edits one grad in place (DeZero's WeightDecay does) must not change another's, so a
    gradient already given to a variable, or a view (broadcasting makes read-only ones), is copied."""
    if create_graph:
        x._grad = gx if x._grad is None else x.grad + gx
        return
    old = x._grad
    if old is not None:
        gx = (old if old.__class__ is np.ndarray else old.data) + gx
    if type(gx) is not np.ndarray:  # numpy gives 0-d results as scalars
        gx = np.array(gx)
    elif id(gx) in given or gx.base is not None or not gx.flags.writeable:
        gx = gx.copy()
    given.add(id(gx))
    x._grad = gx  # wrapped into a Variable when read (see Variable.grad)


def _raise_wrong_root_grad(root: Variable) -> None:
    name = f" of {root.name}" if root.name else ""
    grad = root._grad
    if not isinstance(grad, Variable):
        raise TypeError(f"the grad{name} is a {type(grad).__name__}; backward() needs a Variable (or None)")
    raise ValueError(f"the grad{name} has shape {grad.shape}, but its data has shape {root.data.shape}")


def _checked_grad(f: Function, x: Variable, gx: Any) -> np.ndarray:
    """A gradient returned by a backward that is not a plain array of its input's shape:
    numpy scalars become 0-d arrays; anything else is one clear error naming the function."""
    if isinstance(gx, np.generic):
        gx = np.asarray(gx)
    if not isinstance(gx, np.ndarray):
        raise TypeError(
            f"{type(f).__name__}.backward returned a {type(gx).__name__} as the gradient of input "
            f"{f.inputs.index(x)}; "
            "expected a numpy.ndarray (or a Variable)"
        )
    if gx.shape != x.data.shape:
        _raise_wrong_grad(f, x, gx)
    return gx


def _raise_wrong_grad(f: Function, x: Variable, gx: Any) -> None:
    index = next(i for i, input_ in enumerate(f.inputs) if input_ is x)
    name = f" ({x.name})" if x.name else ""
    raise ValueError(
        f"{type(f).__name__}.backward returned a gradient of shape {gx.shape} for input {index}{name}, "
        f"whose data has shape {x.data.shape}"
    )


def _gradient_arrays(gxs: Any) -> Any:
    """Unwrap the Variables that a Variable-level backward returned (a tuple or one)."""
    if isinstance(gxs, tuple):
        return tuple(g.data if isinstance(g, Variable) else g for g in gxs)
    return gxs.data if isinstance(gxs, Variable) else gxs


class Parameter(Variable):
    """A Variable that layers and optimizers treat as trainable."""

    __slots__ = ()


class Constant(Variable):
    """A number or array passed straight to a function, wrapped by the engine.

    Nobody holds it but the function, so backward computes no gradient for it
    (as PyTorch does for tensors without requires_grad); functions can skip that
    work with `needs_grad`.
    """

    __slots__ = ()


def _constant(value: Any, operands: tuple) -> Constant:
    """A number or array passed to a function. A Python number takes the dtype of a float
    Variable beside it (float32 * 2.0 stays float32, as numpy 2 and PyTorch do)."""
    if type(value) is np.ndarray:
        return Constant(value)
    if type(value) is not float and type(value) is not int:
        return Constant(as_array(value))
    array = np.array(value)
    for x in operands:
        if isinstance(x, Variable):
            dtype = x.data.dtype if x.data is not None else array.dtype
            if dtype is not array.dtype and dtype.kind == "f" and dtype != array.dtype:
                array = array.astype(dtype)
            break
    return Constant(array)


def needs_grad(x: Variable) -> bool:
    """False for a Constant: its gradient would be computed only to be dropped."""
    return type(x) is not Constant


# --------------------------------------------------------------------------
# Function
# --------------------------------------------------------------------------


class Function:
    """An operation: `forward` on arrays, `backward` on Variables (so it can be differentiated again).

    Outputs are held by weak reference, so a graph is freed by reference
    counting as soon as its last output is dropped. In `backward(*gys)`, an
    output that was never used gets zeros and one the user dropped gets None.
    """

    def __call__(self, *inputs):
        # (plain loops, no comprehensions: this runs for every op, and in Python 3.11 a
        # comprehension is a function call of its own)
        for x in inputs:
            if not isinstance(x, Variable):  # numbers and arrays are wrapped as Constants
                inputs = tuple([x if isinstance(x, Variable) else _constant(x, inputs) for x in inputs])
                break
        xs = []
        generation = 0
        for x in inputs:
            xs.append(x.data)
            if x.generation > generation:
                generation = x.generation
        try:
            ys = self.forward(*xs)
        except ValueError as error:
            shapes = " and ".join(str(getattr(x, "shape", "?")) for x in xs)
            raise ValueError(f"{type(self).__name__}: inputs of shapes {shapes}: {error}") from error
        if type(ys) is np.ndarray:
            outputs = [Variable(ys)]
        elif isinstance(ys, tuple):
            outputs = [Variable(as_array(y)) for y in ys]
        else:  # numpy returns 0-d results as scalars
            outputs = [Variable(as_array(ys))]

        if _settings.get().enable_backprop:
            self.generation = generation
            generation += 1
            refs = []
            for output in outputs:
                output.creator = self
                output.generation = generation
                refs.append(weakref.ref(output))
            self.inputs = inputs
            self.outputs = tuple(refs)
            if _watching_blocks:
                if _layer_call is not None:  # inside a Layer's call (layers.py): box it with it
                    self._layer_call = _layer_call
                on_apply = _watchers.on_apply
                if on_apply is not None:
                    on_apply(self, outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    # Optional: the same derivative on raw arrays (gys are ndarrays, read inputs
    # with `self.inputs[i].data`). Used when no graph of the backward pass is
    # needed; a function without it runs `backward` on Variables instead.
    backward_data: Callable[..., Any] | None = None


# --------------------------------------------------------------------------
# Broadcasting helpers (the arithmetic below sums gradients back to each input's shape)
# --------------------------------------------------------------------------


def sum_to_shape(x: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `x` over the axes that broadcasting added or stretched, giving `shape`."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    lead_axes = tuple(range(lead))
    # (np.add.reduce is what ndarray.sum calls, less a Python-level wrapper)
    if x.shape[lead:] == shape:  # only leading axes were added (a bias's gradient): no reshape
        return np.add.reduce(x, axis=lead_axes)
    stretched = tuple(lead + i for i, size in enumerate(shape) if size == 1 and x.shape[lead + i] != 1)
    y = np.add.reduce(x, axis=lead_axes + stretched, keepdims=True)
    return y.reshape(shape) if lead > 0 else y


class SumTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return sum_to_shape(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)

    def backward_data(self, gy):
        return np.broadcast_to(gy, self.inputs[0].shape)


def sum_to(x, shape):
    """Sum `x` down to `shape` (the inverse of broadcasting); a no-op when it already has it."""
    x = as_variable(x)
    return x if x.shape == tuple(shape) else SumTo(shape)(x)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)

    def backward_data(self, gy):
        return sum_to_shape(gy, self.inputs[0].shape)


def broadcast_to(x, shape):
    x = as_variable(x)
    return x if x.shape == tuple(shape) else BroadcastTo(shape)(x)


# --------------------------------------------------------------------------
# Arithmetic (the functions behind Variable's operators)
# --------------------------------------------------------------------------


class Add(Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy, x0.shape), sum_to(gy, x1.shape)

    def backward_data(self, gy):
        x0, x1 = self.inputs
        return sum_to_shape(gy, x0.data.shape), sum_to_shape(gy, x1.data.shape)


def add(x0, x1):
    return Add()(x0, x1)


class Mul(Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy * x1, x0.shape), sum_to(gy * x0, x1.shape)

    def backward_data(self, gy):
        x0, x1 = self.inputs
        gx0 = sum_to_shape(gy * x1.data, x0.data.shape) if needs_grad(x0) else None
        gx1 = sum_to_shape(gy * x0.data, x1.data.shape) if needs_grad(x1) else None
        return gx0, gx1


def mul(x0, x1):
    return Mul()(x0, x1)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy

    backward_data = backward


def neg(x):
    return Neg()(x)


class Sub(Function):
    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy, x0.shape), sum_to(-gy, x1.shape)

    def backward_data(self, gy):
        x0, x1 = self.inputs
        gx1 = sum_to_shape(-gy, x1.data.shape) if needs_grad(x1) else None
        return sum_to_shape(gy, x0.data.shape), gx1


def sub(x0, x1):
    return Sub()(x0, x1)


def rsub(x0, x1):
    """`x1 - x0`: the reflected `number - variable`."""
    return Sub()(x1, x0)


class Div(Function):
    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy / x1, x0.shape), sum_to(gy * (-x0 / x1**2), x1.shape)

    def backward_data(self, gy):
        x0, x1 = self.inputs
        gx0 = sum_to_shape(gy / x1.data, x0.data.shape) if needs_grad(x0) else None
        gx1 = sum_to_shape(gy * (-x0.data / x1.data**2), x1.data.shape) if needs_grad(x1) else None
        return gx0, gx1


def div(x0, x1):
    return Div()(x0, x1)


def rdiv(x0, x1):
    """`x1 / x0`: the reflected `number / variable`."""
    return Div()(x1, x0)


class Pow(Function):
    """x ** c for a constant exponent c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x**self.c

    def backward(self, gy):
        (x,) = self.inputs
        return gy * (self.c * x ** (self.c - 1))

    def backward_data(self, gy):
        x = self.inputs[0].data
        return gy * (self.c * x ** (self.c - 1))


def pow(x, c):
    if isinstance(c, Variable):
        raise TypeError("the exponent of ** must be a constant (a number or an array), not a Variable")
    return Pow(c)(x)
