"""Running Graphviz's ``dot`` with a guard: a timeout, a format check before any file is written, clear errors."""

from __future__ import annotations

import functools
import math
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .. import files

DOT_TIMEOUT = 30.0  # seconds; `dot` never runs longer than this
FRAME_BUDGET = 60.0  # seconds for a whole backward_frames, forward_frames or save_stepper call
INSTALL_DOT = ("Debian/Ubuntu: sudo apt-get install graphviz | macOS: brew install graphviz | "
               "conda: conda install -c conda-forge graphviz")


class DotNotFound(RuntimeError):
    """Graphviz's ``dot`` binary is not installed; the message says how to install it."""


MAX_SECONDS = 86_400.0  # a day: the OS timers under subprocess overflow long before 1e308 s


def _seconds(name: str, x: Any) -> float:
    """A time limit: a number of seconds in (0, a day], else ValueError naming the argument."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not (
            math.isfinite(x) and 0 < x <= MAX_SECONDS):
        raise ValueError(f"{name} must be a finite number of seconds > 0 and at most {MAX_SECONDS:g}, got {x!r}")
    return float(x)


COMMON_FORMATS = ("svg", "png", "pdf", "jpg", "gif", "ps", "eps", "dot")  # what an error suggests


@functools.cache
def dot_formats() -> frozenset[str]:
    """The output formats this ``dot`` can write (``dot -T?`` lists them); the graphviz package's list if
    ``dot`` cannot be asked (its absence is reported when a picture is drawn)."""
    exe = shutil.which("dot")
    try:
        listed = subprocess.run([exe or "dot", "-T?"], capture_output=True, timeout=10).stderr.decode(errors="replace")
    except (OSError, subprocess.SubprocessError):
        listed = ""
    names = listed.partition("Use one of:")[2].split()
    return frozenset(names) - {"gtk", "x11", "xlib"} if names else frozenset(graphviz.FORMATS)


def _format(path: Path) -> str:
    """The picture format ``path``'s suffix asks for (none: SVG), checked before anything is written."""
    fmt = path.suffix.lstrip(".").lower() or "svg"  # picture.SVG is an SVG too (dot knows only "svg")
    if fmt not in dot_formats():
        raise ValueError(f"render: dot cannot write a .{fmt} file ({path.name}); end the name in one of "
                         f".{', .'.join(COMMON_FORMATS)} (viz.dot_formats() lists all {len(dot_formats())})")
    return fmt


def render(graph: graphviz.Digraph, path: str | os.PathLike, timeout: float = DOT_TIMEOUT) -> Path:
    """Write ``graph`` to ``path`` (format from the suffix: .svg .png .pdf …) with ``dot``, never for longer
    than ``timeout`` seconds. The DOT source is always written next to it, as ``path`` + ``.dot``; both
    atomically. A format ``dot`` cannot write, or a path that cannot be written, fails before any file is."""
    timeout = _seconds("timeout", timeout)
    if path == "":
        raise ValueError(f"render: path must name a file such as picture.svg, got {path!r}")
    path = files.as_path(path, "render")
    if path.is_dir():
        raise ValueError(f"render: {path} is a folder; name a file in it, such as {path / 'picture.svg'}")
    fmt = _format(path)
    source = files.as_path(f"{path}.dot", "render (the DOT source beside the picture)")
    target = files.writable_file(path, "render", make_folders=True)
    files.atomic_write(files.writable_file(source, "render"), lambda f: f.write(graph.source.encode("utf-8")),
                       "render")
    picture = _dot(graph, fmt, timeout, f"the DOT source is in {source}")
    files.atomic_write(target, lambda f: f.write(picture), "render")
    return path


def to_svg(graph: graphviz.Digraph, timeout: float = DOT_TIMEOUT) -> str:
    """The picture as an SVG string (``dot`` with a timeout)."""
    return _dot(graph, "svg", _seconds("timeout", timeout), "draw(...).source has the DOT text").decode("utf-8")


def _dot(graph: graphviz.Digraph, fmt: str, timeout: float, where: str) -> bytes:
    """``dot`` run on ``graph``'s source (its engine, format ``fmt``) and stopped after ``timeout`` seconds;
    ``where`` tells an error message where the DOT text is."""
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFound(f"Graphviz's `dot` program is not installed ({where}). Install it: {INSTALL_DOT}")
    if _STOPPED.is_set():
        raise RuntimeError(f"dot was not run: this program is stopping ({where})")
    with subprocess.Popen([exe, f"-K{graph.engine}", f"-T{fmt}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as run:  # leaving the block reaps it
        _RUNNING.add(run)
        try:
            if _STOPPED.is_set():  # stop_running() came as it started
                run.kill()
            out, err = run.communicate(graph.source.encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired:
            run.kill()
            raise TimeoutError(f"dot took longer than {timeout:g} s and was stopped ({where}); draw fewer steps "
                               "(max_steps=) or the coarse view") from None
        except BaseException:  # this thread stopped (Ctrl-C, a tour worker's SIGTERM): dot goes too
            run.kill()
            run.wait()  # reaped here: on a KeyboardInterrupt, leaving the block does not wait
            raise
        finally:
            _RUNNING.discard(run)
    if run.returncode != 0:
        message = " ".join(err.decode(errors="replace").split())  # one line
        raise RuntimeError(f"dot failed ({where}): {message or f'it ended with code {run.returncode}'}")
    return out


# The dot runs of this process, in any thread, so that a stop can end them (the tour's workers do).
_RUNNING: set[subprocess.Popen] = set()
_STOPPED = threading.Event()


def stop_running() -> None:
    """End every ``dot`` this process is running, and refuse new runs: for a process about to exit (a stopped
    tour worker), whose pictures are drawn in a background thread that no exception reaches. Added to the
    set before the flag is read, removed after: a run that starts meanwhile sees the flag or is in the set."""
    _STOPPED.set()
    for run in list(_RUNNING):
        run.kill()
