"""What a demo reports, and the plumbing that lets one demo file be a script, a notebook and a tour section.

A demo's first code cell asks for its parameters; the tour, the tests and ``make notebooks`` inject theirs:

    >>> from pathlib import Path
    >>> params(QUICK=False, OUT=Path("out/demo/01"))
    (False, PosixPath('out/demo/01'))
    >>> with inject(QUICK=True):
    ...     params(QUICK=False, OUT=Path("out/demo/01"))
    (True, PosixPath('out/demo/01'))

``report.show(picture, "name.svg", caption)`` writes the picture once and returns a ``Figure`` that Jupyter
displays inline, so a cell that ends in ``report.show(...)`` shows the picture in a notebook and writes the
file when the demo runs as a script. The ``report`` at the end holds the numbers the tests check.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from . import files

__all__ = ["Report", "Figure", "params", "inject", "progress", "in_notebook", "save", "render_behind",
           "no_progress_bars", "injected_values"]

ENV_PREFIX = "MICRORNN_"  # MICRORNN_QUICK=1 MICRORNN_OUT=… reach a notebook kernel, which is another process
_injected: ContextVar[Mapping[str, Any]] = ContextVar("micrornn_injected", default=MappingProxyType({}))
_dot_thread: ContextVar[ThreadPoolExecutor | None] = ContextVar("micrornn_dot_thread", default=None)
_bars_shown: ContextVar[bool] = ContextVar("micrornn_bars_shown", default=True)
T = TypeVar("T")


# -- parameters ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def inject(**values: Any) -> Iterator[None]:
    """Make ``params`` return these values instead of a demo's defaults (the tour and the tests use it)."""
    token = _injected.set(MappingProxyType({**_injected.get(), **values}))
    try:
        yield
    finally:
        _injected.reset(token)


def injected_values() -> Mapping[str, Any]:
    """What ``inject`` has set in this context (the tour hands it to its worker processes)."""
    return _injected.get()


def params(**defaults: Any) -> Any:
    """The demo's parameters, in the order given: injected value > ``MICRORNN_<NAME>`` variable > default.

    Returns one value for one parameter, else a tuple. An environment value is read as the default's
    type (``1``/``true``/``yes`` for a bool), so ``MICRORNN_QUICK=1 jupyter nbconvert --execute …`` works;
    an empty one counts as unset. A folder (a Path default, ``OUT``) from the environment is checked at
    once: one that cannot be written is an OSError naming the variable (in a script: one line, exit 2).
    """
    if not defaults:
        raise TypeError("params needs at least one NAME=default, e.g. params(QUICK=False)")
    injected = _injected.get()
    values = []
    for name, default in defaults.items():
        if name in injected:
            value = injected[name]
        elif os.environ.get(ENV_PREFIX + name):  # set and not empty: MICRORNN_OUT='' is unset, not "here"
            value = _parse(os.environ[ENV_PREFIX + name], default, ENV_PREFIX + name)
            if isinstance(default, Path):
                _output_folder(Path(value), ENV_PREFIX + name, script=sys._getframe(1).f_globals.get("__name__"))
        else:
            value = default
        values.append(Path(value) if isinstance(default, Path) else value)
    return values[0] if len(values) == 1 else tuple(values)


def _output_folder(folder: Path, where: str, script: str | None) -> None:
    """Check a folder given in the environment before the demo works; in a script (``python demos/NN.py``),
    where the user typed no call to blame, the problem is one line on stderr and exit code 2."""
    try:
        files.writable_folder(folder, f"{where}={str(folder)!r}")
    except OSError as e:
        if script == "__main__" and not in_notebook():
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        raise


def _parse(text: str, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        if text.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if text.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{where}={text!r}: expected a yes/no value (1, true, yes or 0, false, no)")
    if isinstance(default, (int, float)):
        try:
            return type(default)(text)
        except ValueError:
            raise ValueError(f"{where}={text!r}: expected a {type(default).__name__}") from None
    return text


# -- where the code runs -------------------------------------------------------------------------------------
def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a cell's last value is displayed), False in a script."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and getattr(ipython.get_ipython(), "kernel", None) is not None


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None) -> Iterable[T]:
    """A tqdm progress bar that stays one line: in a terminal, and in a notebook (a widget where ipywidgets
    is installed, else text that nbclient's ``coalesce_streams`` folds to its last state)."""
    if in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:  # tqdm.auto would warn "IProgress not found" in a notebook without ipywidgets
        from tqdm.std import tqdm
    notebook = in_notebook()  # there: stdout, since a notebook shows stderr in an error's red box

    class Bar(tqdm):  # without tqdm's monitor thread, which outlives the bar: a process with a thread of its
        monitor_interval = 0  # own cannot safely fork (the tour's workers); this class only, not the user's bars

    return Bar(iterable, desc=desc, total=total, mininterval=0.5, ncols=80, leave=notebook,
               file=sys.stdout if notebook else None, disable=not _bars_shown.get())


@contextlib.contextmanager
def no_progress_bars() -> Iterator[None]:
    """``progress`` shows no bar inside this block: the tour's worker processes use it, since their bars would
    overwrite each other on the one terminal."""
    token = _bars_shown.set(False)
    try:
        yield
    finally:
        _bars_shown.reset(token)


# -- pictures -------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def render_behind() -> Iterator[None]:
    """Inside this block ``Report.show`` hands Graphviz pictures to one background thread: ``dot`` is a
    subprocess, so it draws on the second core while Python computes the next result. The tour uses it
    and calls ``Report.wait()``, which raises any render error, before it reads the files."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dot")
    token = _dot_thread.set(pool)
    try:
        yield
    except BaseException:  # the demo failed or was stopped: the pictures still queued are not drawn
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        _dot_thread.reset(token)
        pool.shutdown(wait=True)


def save(picture: Any, path: str | Path) -> Path:
    """Write a matplotlib figure (closed afterwards, so Jupyter does not draw it twice) or a Graphviz picture
    (``viz.render``: one ``dot`` run, DOT source beside it) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(picture, "savefig"):
        import matplotlib.pyplot as plt

        picture.savefig(path, dpi=110)
        plt.close(picture)
        return path
    if hasattr(picture, "source") and hasattr(picture, "engine"):
        from .viz import render

        return render(picture, path)
    raise TypeError(f"save needs a matplotlib Figure or a graphviz Digraph (from viz.draw), "
                    f"got {type(picture).__name__}")


@dataclass
class Figure:
    """A picture written to ``path``; Jupyter shows the file's image (no second ``dot`` run)."""

    path: Path
    caption: str
    picture: Any = field(repr=False, default=None)  # the Digraph or matplotlib figure it was made from
    pending: Future | None = field(repr=False, default=None)  # the background render, under render_behind()

    def wait(self) -> Path:
        """The file, once written; a failed render raises its error here."""
        if self.pending is not None:
            try:
                self.pending.result()
            except CancelledError:
                raise RuntimeError(f"{self.path} was not drawn: the render_behind() block it was queued in "
                                   "ended by an error (or a stop) before its turn; run the code that shows it "
                                   "again") from None
        return self.path

    def _repr_svg_(self) -> str | None:
        return self.wait().read_text(encoding="utf-8") if self.path.suffix == ".svg" else None

    def _repr_png_(self) -> bytes | None:
        return self.wait().read_bytes() if self.path.suffix == ".png" else None


# -- the report -------------------------------------------------------------------------------------------------
@dataclass
class Report:
    """What a demo shows: a title, what to look at, the numbers that matter, the files it wrote.

        >>> import tempfile
        >>> r = Report("0. A test", out=Path(tempfile.mkdtemp()))
        >>> r.numbers["answer"] = 42
        >>> print(r)
        == 0. A test ==
          answer: 42
    """

    title: str
    out: Path = Path("out")
    look: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    figures: list[tuple[Path, str]] = field(default_factory=list)  # (file, caption)
    links: list[tuple[Path, str]] = field(default_factory=list)  # pages to open (the backward stepper)
    shown: list[Figure] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.out = Path(self.out)

    def show(self, picture: Any, name: str, caption: str) -> Figure:
        """Write ``picture`` to ``out/name``, list it in the gallery, and return it for Jupyter to display."""
        path, pool = self.out / name, _dot_thread.get()
        if pool is not None and not hasattr(picture, "savefig"):  # matplotlib stays on this thread
            path.parent.mkdir(parents=True, exist_ok=True)
            figure = Figure(path, caption, picture, pool.submit(save, picture, path))
        else:
            figure = Figure(save(picture, path), caption, picture)
        self.figures.append((path, caption))
        self.shown.append(figure)
        return figure

    def wait(self) -> Report:
        """Every picture written (see ``render_behind``)."""
        for figure in self.shown:
            figure.wait()
        return self

    def link(self, path: str | Path, caption: str) -> Path:
        """List a page the demo wrote (the backward stepper) in the gallery."""
        self.links.append((Path(path), caption))
        return Path(path)

    def __str__(self) -> str:
        lines = [f"== {self.title} =="]
        if self.look:
            lines.append(f"  look at: {self.look}")
        lines += [f"  {name}: {fmt(value)}" for name, value in self.numbers.items()]
        lines += [f"  wrote {path}  ({caption})" for path, caption in [*self.figures, *self.links]]
        return "\n".join(lines)

    def print(self) -> None:
        print(self)

    def _repr_markdown_(self) -> str:  # the last cell of a demo notebook shows this table
        rows = [f"| {_cell(name)} | {_cell(fmt(value))} |" for name, value in self.numbers.items()]
        files = [f"- `{path}` — {caption}" for path, caption in [*self.figures, *self.links]]
        return "\n".join([f"**{self.title}**", "", f"Look at: {self.look}", "", "| | |", "|---|---|", *rows, "",
                          *files])


def _cell(text: str) -> str:
    """Text for a markdown table cell: a bare ``|`` (as in ``max |engine − hand|``) would end the cell."""
    return text.replace("|", "\\|")


def fmt(value: Any) -> str:
    """Six significant digits for floats, ``str`` for the rest."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)
