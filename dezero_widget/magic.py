"""The ``%%autodiff`` cell magic and the ``%autodiff`` line magic.

``%load_ext dezero_widget`` registers them and two IPython event hooks; it puts
no name into the user's namespace, so a learner's own ``Variable`` class stays
theirs. ``%unload_ext dezero_widget`` removes the magics and the hooks and
closes the widgets the magics made.

How a cell's graph is found:

* with this package's engine, every function applied while the cell runs is
  recorded (``core.watching(on_apply=...)``), and its outputs are held until
  the graph is traced, so results never bound to a name are shown too;
* with a learner's own classes (anything following the DeZero protocol), from
  the variables the cell bound to names (new names or rebound ones).

A cell runs exactly as a normal cell: in the user's namespace, through
IPython's input transformations, with its last expression displayed. When it
raises, the graph built so far is shown and the exception propagates with a
traceback that starts at the user's code, so "Run All" stops there.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import keyword
from collections.abc import Iterator, Mapping
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from dezero_widget.core import Variable, using_config, watching
from dezero_widget.names import user_names, user_variables
from dezero_widget.protocol import DEFAULT_DIRECTION, DEFAULT_MAX_NODES, DIRECTIONS
from dezero_widget.reader import is_variable, name_of
from dezero_widget.replay import Recording, observing, recorded
from dezero_widget.trace import trace
from dezero_widget.watch import CellWatch
from dezero_widget.widget import GraphWidget

__all__ = ["AutodiffMagics", "load_ipython_extension", "unload_ipython_extension"]

# Cells without an id (plain IPython) are known by their text; this many keep their widgets.
_MAX_TEXT_KEYED_CELLS = 20

# Options that only the cell magic takes, and the line magic's positional argument.
_CELL_ONLY = ("--no-retain-grad",)
_VARIABLES = "VARIABLE [VARIABLE ...]"


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the magic draws: tracing and summarising
    make many short-lived objects, and a full collection they trigger would traverse the
    whole graph the cell built (seconds for a long chain) to free none of them."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _same_objects(shown: tuple[list, Mapping[str, Any]], now: tuple[list, Mapping[str, Any]]) -> bool:
    """The same roots under the same names: the graph drawn is still the one to draw."""
    (shown_roots, shown_names), (roots, names) = shown, now
    return (
        len(shown_roots) == len(roots)
        and all(a is b for a, b in zip(shown_roots, roots))
        and shown_names.keys() == names.keys()
        and all(shown_names[name] is value for name, value in names.items())
    )


class _CellDisplay:
    """The one widget a %%autodiff cell shows: made and displayed for its first step (so a
    training loop's widget moves while the loop runs), then updated in place."""

    def __init__(self, magics: AutodiffMagics, options: Any, key: str) -> None:
        self.magics, self.options, self.key = magics, options, key
        self.widget: GraphWidget | None = None
        self._shown: tuple[list, Mapping[str, Any]] = ([], {})  # the roots and names drawn

    def show(
        self,
        roots: list,
        names: Mapping[str, Any],
        watch: CellWatch,
        recording: Recording | None = None,
        cell_running: bool = False,
    ) -> None:
        """Draw ``roots`` (traced again only when they or the names changed) with the loss
        history, and ``recording`` (a backward() of them) to step through. While the cell
        runs only these calls draw: the engine's grad listener would redraw the step shown
        last without the grads a live update lends it (see CellWatch)."""
        try:
            self._draw(roots, names, watch, recording)
        finally:  # (an interrupted drawing too: the widget must not stay deaf to later cells)
            if self.widget is not None:
                if cell_running:
                    GraphWidget.live.detach(self.widget)
                else:
                    GraphWidget.live.attach(self.widget)

    def _draw(
        self, roots: list, names: Mapping[str, Any], watch: CellWatch, recording: Recording | None
    ) -> None:
        history = watch.history
        if history.values and not history.label:
            root = watch.backward_root
            history.label = name_of(root) or next((n for n, v in names.items() if v is root), "")
        chart = history.as_dict()
        with _collector_paused():
            if self.widget is None:  # all in the widget's opening message
                self.widget = self.magics._display_graph(
                    roots, names, self.options, self.key, history=chart, recording=recording
                )
            else:
                if _same_objects(self._shown, (roots, names)):
                    self.widget.refresh_if_changed()
                else:
                    graph = trace(
                        *roots, names=names, max_nodes=self.options.max_nodes, like=self.widget.graph
                    )
                    self.widget.show_graph(graph)
                with self.widget.hold_sync():  # one message for both
                    self.widget.history = chart
                    if recording is not None:
                        self.widget.show_replay(recording)
            self._shown = (roots, names)

    def show_step(self, watch: CellWatch) -> None:
        """CellWatch's live update: the newest backward()'s graph."""
        self.show([watch.backward_root], user_names(self.magics.shell), watch, cell_running=True)


def _is_async(python: str) -> bool:
    """True for code that compiles only with top-level await allowed."""
    try:
        compile(python, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | ast.PyCF_ONLY_AST)
    except SyntaxError:
        return False
    return True


def _split_last_expression(tree: ast.Module) -> tuple[ast.Module, ast.Interactive | None]:
    """The statements to exec, and the final expression to display (as a cell would)."""
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        return tree, ast.Interactive(body=[last])
    return tree, None


def _without_own_frames(traceback: Any) -> Any:
    """The part of a traceback below this module's frames: the user's code on."""
    entry = traceback
    while entry is not None and entry.tb_frame.f_code.co_filename == __file__:
        entry = entry.tb_next
    return entry if entry is not None else traceback


@magics_class
class AutodiffMagics(Magics):
    """``%%autodiff`` / ``%autodiff``, plus the widgets they made, keyed by cell."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        # Widgets made by each cell; re-running a cell closes its earlier ones. Keys are cell
        # ids where the front end sends them, else the cell's text (an edited cell is then a
        # new key, so those are capped: the oldest text-keyed cell's widgets are closed).
        self._widgets_by_cell: dict[str, list[GraphWidget]] = {}
        self._text_keys: list[str] = []
        self._running_cell: str | None = None
        self._cell_advanced_count = False  # IPython counts a stored cell before running it

    # -- IPython event hooks ---------------------------------------------------
    def remember_cell(self, info: Any) -> None:
        """pre_run_cell: the running cell's id (or text) keys the widgets it makes;
        the widgets of its previous run stop listening now."""
        cell_id = getattr(info, "cell_id", None)
        self._running_cell = cell_id or info.raw_cell
        if not cell_id:
            self._remember_text_key(info.raw_cell)
        self._cell_advanced_count = bool(getattr(info, "store_history", False))
        self._close_widgets_of(self._running_cell)

    def forget_cell(self, result: Any) -> None:
        """post_run_cell."""
        self._running_cell = None
        self._cell_advanced_count = False

    def _remember_text_key(self, text: str) -> None:
        if text in self._text_keys:
            self._text_keys.remove(text)
        self._text_keys.append(text)
        while len(self._text_keys) > _MAX_TEXT_KEYED_CELLS:
            self._close_widgets_of(self._text_keys.pop(0))

    def _close_widgets_of(self, key: str) -> None:
        for widget in self._widgets_by_cell.pop(key, ()):
            widget.close()

    def close_all(self) -> None:
        for widgets in self._widgets_by_cell.values():
            for widget in widgets:
                widget.close()
        self._widgets_by_cell.clear()

    # -- the magic -------------------------------------------------------------
    @magic_arguments()
    @argument(
        "variables",
        nargs="*",
        metavar="VARIABLE",
        help="Line magic only: names of existing variables to show the graph of.",
    )
    @argument(
        "-b",
        "--backward",
        metavar="NAME",
        help="Call NAME.backward() after the cell (or before showing, in the line magic).",
    )
    @argument("-o", "--output", metavar="VAR", help="Also store the widget in the namespace as VAR.")
    @argument(
        "--max-nodes",
        type=int,
        default=DEFAULT_MAX_NODES,
        metavar="N",
        help=f"Show at most N nodes (default {DEFAULT_MAX_NODES}); the rest are counted, not drawn. "
        "Of the functions the cell applies only the newest N keep their graphs alive for the drawing.",
    )
    @argument(
        "--direction",
        choices=DIRECTIONS,
        default=DEFAULT_DIRECTION,
        help=f"Lay the graph out left-to-right (LR) or top-to-bottom (TB); default {DEFAULT_DIRECTION}.",
    )
    @argument(
        "--no-retain-grad",
        action="store_true",
        help="Leave intermediate grads freed, as DeZero's default backward() does. Without this "
        "option the drawn step's variables get the grads retain_grad=True would have kept, "
        "once the cell has run, so every variable shows its grad.",
    )
    @argument("--no-display", action="store_true", help="Do not display the widget (use with -o).")
    @line_cell_magic
    def autodiff(self, line: str, cell: str | None = None) -> None:
        """Run a cell, then show a live graph of every computation it built.

        %%autodiff runs the cell in your namespace exactly as a normal cell,
        then displays one widget with every variable the cell created or used
        and every function it applied, unnamed results included (with
        dezero_widget's engine; with your own DeZero-style classes, what the
        cell bound to names). Labels are the variables' names, else the names
        they are bound to. backward() runs as in a normal cell; once the cell
        has run, the drawn step's intermediate variables get the grads that
        retain_grad=True would have kept (not with --no-retain-grad). Later
        backward() or cleargrad() calls update the widget; re-running the cell
        replaces it.

        %autodiff y z shows the graph behind existing variables.

        With this package's engine, import what you need yourself:
        from dezero_widget import Variable; import dezero_widget.functions as F
        """
        options = self._parse(line)
        if cell is not None and options.variables:
            raise UsageError(
                f"%%autodiff takes no variable names (got {' '.join(options.variables)}); "
                "use -b NAME to call NAME.backward() after the cell"
            )
        key = self._running_cell
        if key is None:  # called outside a cell run (run_cell_magic): key by the text
            key = line if cell is None else cell
            self._close_widgets_of(key)
            self._remember_text_key(key)
        if cell is None:
            self._show_variables(options, key)
        else:
            self._run_and_show(cell, line, options, key)

    def _parse(self, line: str) -> Any:
        try:
            options = parse_argstring(self.autodiff, line)
        except (UsageError, ValueError) as error:
            raise UsageError(f"autodiff: {error} (%%autodiff? lists the options)") from None
        if options.max_nodes < 1:
            raise UsageError(f"--max-nodes must be at least 1, got {options.max_nodes}")
        for flag, name in (("-b", options.backward), ("-o", options.output)):
            if name is not None and (not name.isidentifier() or keyword.iskeyword(name)):
                raise UsageError(f"{flag} needs a Python name, got {name!r}")
        return options

    def _user_variables(self) -> dict[str, Any]:
        return user_variables(self.shell)

    # -- %%autodiff ------------------------------------------------------------
    def _run_and_show(self, cell: str, line: str, options: Any, key: str) -> None:
        try:
            compiled = self._compile(cell, f"%%autodiff {line}".rstrip())
        except SyntaxError:
            if _is_async(self.shell.transform_cell(cell)):  # valid async code: say that instead
                raise UsageError(
                    "%%autodiff does not run async code (top-level await): run the cell without "
                    "%%autodiff, then draw its result with %autodiff NAME"
                ) from None
            self.shell.showsyntaxerror()  # as a normal cell shows it, without our frames
            raise UsageError("%%autodiff did not run the cell: it has a syntax error") from None
        bound_before = self._user_variables()
        display = _CellDisplay(self, options, key)
        watch = CellWatch(
            keep=options.max_nodes, show_step=display.show_step, fill_grads=not options.no_retain_grad
        )
        failure: BaseException | None = None
        # The cell's own configuration changes stay, as in a normal cell (the watchers live
        # apart). Each backward() is written down for as many functions as can be drawn.
        with watching(on_apply=watch.on_apply, on_backward=watch.on_backward, record=options.max_nodes):
            observed = None
            try:
                self._run(compiled)
                if options.backward is not None:
                    observed = self._call_backward(options.backward, options.max_nodes)
            except BaseException as error:  # shown after the graph, then re-raised
                failure = error
        watch.close()

        def rebound() -> list:
            return [v for name, v in self._user_variables().items() if bound_before.get(name) is not v]

        roots = watch.roots(rebound)
        if roots:
            display.show(roots, user_names(self.shell), watch, observed or watch.recording)
        elif failure is None:
            print(
                "%%autodiff: the cell built no graph (it applied no function and bound no "
                "variable to a name); to see existing variables use %autodiff NAME"
            )
        if failure is not None:
            self._raise_as_user_error(failure)

    def _compile(self, source: str, magic_line: str | None = None) -> list:
        """``source`` compiled as IPython compiles a cell (input transformations, AST
        transformers, the last expression displayed), under a name that tracebacks
        show as ``Cell In[n]``. With ``magic_line`` (the ``%%autodiff ...`` line above
        the body), line numbers and traceback context are those of the notebook cell."""
        shell = self.shell
        python = shell.transform_cell(source)
        header = "" if magic_line is None else magic_line + "\n"
        # The prompt number the notebook shows: IPython has already counted a stored cell.
        number = shell.execution_count - 1 if self._cell_advanced_count else shell.execution_count
        filename = shell.compile.cache(header + python, number, raw_code=header + source)
        tree = shell.compile.ast_parse("\n" * header.count("\n") + python, filename=filename)
        body, last = _split_last_expression(shell.transform_ast(tree))
        if last is not None and DisplayHook.semicolon_at_end_of_expression(python):
            body.body.extend(last.body)  # a trailing ';' silences the value, as in a cell
            last = None
        compiled = [shell.compile(body, filename, "exec")]
        if last is not None:
            compiled.append(shell.compile(last, filename, "single"))
        return compiled

    def _run(self, compiled: list) -> None:
        for code in compiled:
            exec(code, self.shell.user_global_ns, self.shell.user_ns)

    def _call_backward(self, name: str, max_nodes: int | None) -> Recording | None:
        """``NAME.backward()``, run as a line of the cell. The engine records its own backward
        (``Watchers.record``, for whoever watches); for a learner's classes, their drawn
        functions are observed, and that recording is returned."""
        target = self.shell.user_ns.get(name)
        if not callable(getattr(target, "backward", None)):
            found = "nothing" if name not in self.shell.user_ns else type(target).__name__
            raise UsageError(f"-b {name}: {name} is {found}, not a variable with backward()")
        code = self._compile(f"{name}.backward()")
        if isinstance(target, Variable) or not is_variable(target):
            self._run(code)
            return None
        graph = trace(target, max_nodes=max_nodes)
        with observing(target, graph) as recording:
            self._run(code)
        return recording

    def _raise_as_user_error(self, error: BaseException) -> None:
        """Re-raise ``error`` so that IPython shows the traceback of the user's code
        only (not this module's frames) and the cell counts as failed."""
        if (
            not isinstance(error, (SyntaxError, UsageError))
            and error.__traceback__ is not None
            and not hasattr(error, "_render_traceback_")
        ):
            user_part = _without_own_frames(error.__traceback__)
            formatted = self.shell.InteractiveTB.structured_traceback(
                type(error), error, user_part, tb_offset=0
            )
            # IPython asks an exception for `_render_traceback_` before formatting its own.
            error._render_traceback_ = lambda: formatted
        raise error

    # -- %autodiff -------------------------------------------------------------
    def _show_variables(self, options: Any, key: str) -> None:
        if not options.variables:
            raise UsageError(
                f"usage: {_USAGE}\n%autodiff needs the names of variables to show, e.g. %autodiff y"
            )
        namespace = self.shell.user_ns
        roots = []
        for name in options.variables:
            value = namespace.get(name)
            if not is_variable(value):
                found = "not defined" if name not in namespace else f"a {type(value).__name__}"
                raise UsageError(f"%autodiff {name}: {name} is {found}, not a variable")
            roots.append(value)
        recordings: list[Recording] = []
        if options.backward is not None:
            with (
                using_config("retain_grad", not options.no_retain_grad),
                recorded(options.max_nodes) as recordings,
            ):
                try:
                    observed = self._call_backward(options.backward, options.max_nodes)
                except BaseException as error:
                    self._raise_as_user_error(error)
            recordings.extend([observed] if observed is not None else [])
        self._display_graph(
            roots, user_names(self.shell), options, key, recording=recordings[-1] if recordings else None
        )

    # -- both ------------------------------------------------------------------
    def _display_graph(
        self, roots: list, names: Mapping[str, Any], options: Any, key: str, **widget_options: Any
    ) -> GraphWidget:
        """A new widget of ``roots``, kept under the cell's ``key`` (a re-run closes it);
        ``widget_options``: GraphWidget's (a recording to replay, the history)."""
        graph = trace(*roots, names=names, max_nodes=options.max_nodes)
        widget = GraphWidget(graph, direction=options.direction, **widget_options)
        self._widgets_by_cell.setdefault(key, []).append(widget)
        if options.output is not None:
            self.shell.user_ns[options.output] = widget
        if graph.truncated:
            shown = len(graph.variables) + len(graph.functions)
            if graph.omitted_exactly:
                counts = f"{shown} of {shown + graph.omitted} nodes; {graph.omitted}"
            else:
                counts = f"{shown} nodes; at least {graph.omitted} more"
            print(f"%%autodiff: showing {counts} left out (raise --max-nodes to see them)")
        if not options.no_display:
            display(widget)
        return widget


def _option_usage(action: Any) -> str:
    flag = action.option_strings[0]
    if action.nargs == 0:
        return f"[{flag}]"
    value = action.metavar or "{" + ",".join(action.choices) + "}"
    return f"[{flag} {value}]"


def _usage_lines(parser: Any) -> str:
    """The cell and line magics' usage, built from the parser's options so help and errors
    never drift from what the parser accepts."""
    options = [action for action in parser._actions if action.option_strings]
    cell = " ".join(_option_usage(a) for a in options)
    line = " ".join(_option_usage(a) for a in options if a.option_strings[0] not in _CELL_ONLY)
    return f"%%autodiff {cell}\n       %autodiff {line} {_VARIABLES}"


_USAGE = _usage_lines(AutodiffMagics.autodiff.parser)
# argparse %-formats its usage, and IPython's help formatter puts one "%" in front.
AutodiffMagics.autodiff.parser.usage = _USAGE[1:].replace("%", "%%")
AutodiffMagics.autodiff.__doc__ = AutodiffMagics.autodiff.parser.format_help()


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext dezero_widget``: register the magics and their event hooks."""
    if isinstance(shell.magics_manager.registry.get(AutodiffMagics.__name__), AutodiffMagics):
        unload_ipython_extension(shell)
    magics = AutodiffMagics(shell)
    shell.register_magics(magics)
    shell.events.register("pre_run_cell", magics.remember_cell)
    shell.events.register("post_run_cell", magics.forget_cell)


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext dezero_widget``: remove the magics and every hook, close the widgets."""
    magics = shell.magics_manager.registry.pop(AutodiffMagics.__name__, None)
    if not isinstance(magics, AutodiffMagics):
        return
    for kind in ("line", "cell"):
        shell.magics_manager.magics[kind].pop("autodiff", None)
    for event, callback in (("pre_run_cell", magics.remember_cell), ("post_run_cell", magics.forget_cell)):
        if callback in shell.events.callbacks[event]:
            shell.events.unregister(event, callback)
    magics.close_all()
