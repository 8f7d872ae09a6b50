"""The guided tour: run the demos in the order of the notes and write a gallery page.

Each demo in ``demos/NN_name.py`` is a notebook-style script: its parameters cell reads
``QUICK, OUT = params(...)`` and its last cell leaves a ``report`` (``micrornn.report.Report``). The tour
runs each file as a script with its parameters injected, prints what to look at and the numbers that
matter, and writes ``index.html``.
"""

from __future__ import annotations

import concurrent.futures.process as pool_worker
import contextlib
import functools
import gc
import html
import io
import multiprocessing
import os
import runpy
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any

from .flags import flag
from .report import Report, fmt, inject, injected_values, no_progress_bars, render_behind, save

__all__ = ["Report", "save", "find_demos", "run_demo", "run_tour", "write_index", "DEMOS_DIR"]

DEMOS_DIR = Path(os.environ.get("MICRORNN_DEMOS", Path(__file__).resolve().parents[1] / "demos"))


def find_demos() -> list[Path]:
    """Every ``demos/NN_name.py``, in the order of their numbers (however many there are)."""
    if not DEMOS_DIR.is_dir():
        raise RuntimeError(f"the demos folder {DEMOS_DIR} is missing: run from a checkout of micrornn "
                           "(or set MICRORNN_DEMOS to its demos/ folder)")
    return sorted(DEMOS_DIR.glob("[0-9][0-9]_*.py"))


def _resolve(name: str) -> Path:
    demos = find_demos()
    number = name.isdigit() and int(name)  # "7" and "07" both mean demo 07
    matches = [p for p in demos if p.stem == name or p.stem[3:] == name or (number and p.stem[:2] == f"{number:02d}")]
    if len(matches) != 1:
        names = ", ".join(p.stem for p in demos)
        raise ValueError(f"no single demo called {name!r}; the demos are: {names}")
    return matches[0]


def execute(path: Path, out: Path, quick: bool = False) -> Report:
    """Run one demo file top to bottom, as ``python demos/NN_name.py`` would, with ``QUICK`` and ``OUT``
    injected; return the ``report`` it leaves. (A demo written before the notebook style, with
    ``main(out_dir, quick) -> Report``, still runs.)"""
    quick = flag(quick, "quick", "execute")
    with inject(QUICK=quick, OUT=Path(out)), render_behind():
        names = runpy.run_path(str(path), run_name=f"micrornn_demo_{path.stem}")
        main = names.get("main")
        report = main(Path(out), quick=quick) if "report" not in names and callable(main) else names.get("report")
        if not isinstance(report, Report):
            raise RuntimeError(f"{path.name} did not leave a `report` (a micrornn.report.Report) at the end")
        return report.wait()  # its pictures are on disk, or their errors raised here


def run_demo(name: str, out: Path | None = None, quick: bool = False) -> Report:
    """Run one demo by name (``07_vanishing_exploding``, ``07``, ``7`` or ``vanishing_exploding``); its files go to
    ``out`` (default ``out/demo/NN_name``, the folder the demo itself uses when run as a script)."""
    quick = flag(quick, "quick", "run_demo")
    path = _resolve(name)
    report = execute(path, Path("out/demo") / path.stem if out is None else out, quick=quick)
    report.print()
    return report


def run_tour(out: Path, quick: bool = False, step: bool = False, jobs: int | None = None) -> Path:
    """All demos in order; returns the gallery page ``out/index.html``.

    ``jobs`` demos run at once, each in its own worker process (default: one per core, at most 4), and each
    demo's printout appears whole, in the notes' order. With ``step`` the demos run one at a time in this
    process: the gallery is refreshed after each and the tour waits for Enter."""
    quick, step = flag(quick, "quick", "run_tour"), flag(step, "step", "run_tour")
    jobs = _jobs(jobs, step)
    out.mkdir(parents=True, exist_ok=True)
    demos = find_demos()
    jobs = min(jobs, len(demos))
    reports: list[tuple[str, Report]] = []
    start = time.perf_counter()
    runs = _in_workers(demos, out, quick, jobs) if jobs > 1 else _one_by_one(demos, out, quick)
    with contextlib.closing(runs):  # an error here (a broken pipe, Ctrl-C) still ends the workers now
        for i, path in enumerate(demos, start=1):
            print(f"\n== {i}/{len(demos)} {path.stem} ==")  # before the demo runs (one by one) or is awaited
            report, seconds, printed = next(runs)
            print(printed, end="")
            print(f"({seconds:.1f} s)")
            report.print()
            reports.append((path.stem, report))
            if step and i < len(demos):
                index = write_index(out, reports)
                print(f"  pictures so far: open {index.resolve()}#{path.stem}")
                try:
                    input("  — Enter for the next section — ")
                except EOFError:  # no terminal: carry on
                    pass
    index = write_index(out, reports)
    how = f" ({jobs} demos at a time)" if jobs > 1 else ""
    print(f"\nTour done in {time.perf_counter() - start:.1f} s{how}. Open {index.resolve()} to see every picture.")
    return index


Run = tuple[Report, float, str]  # a demo's report, its seconds, what it printed (empty: printed already)


def _one_by_one(demos: list[Path], out: Path, quick: bool) -> Iterator[Run]:
    for path in demos:  # lazily: --step prints and pauses between demos
        t0 = time.perf_counter()
        report = execute(path, out / path.stem, quick=quick)
        yield report, time.perf_counter() - t0, ""


def _in_workers(demos: list[Path], out: Path, quick: bool, jobs: int) -> Iterator[Run]:
    """Run the demos in ``jobs`` worker processes and yield their runs in the notes' order.

    The last two demos start first: later sections train bigger nets (demos 10 and 11 are half of the quick
    tour's CPU), and the others fill the cores as they come free. Where ``fork`` is safe (Linux, and no other
    thread here that might hold a lock, as a Jupyter kernel has) a worker starts as a copy of this process
    with numpy, matplotlib and Graphviz's wrapper already imported; elsewhere it starts afresh and imports them — and
    imports the calling script again, which must then keep its own work under ``if __name__ == "__main__":``.
    Values injected with ``report.inject`` reach the workers either way. On an error, or Ctrl-C, the
    workers are stopped at once rather than left to finish their demos."""
    fork = sys.platform == "linux" and threading.active_count() == 1
    if fork:
        import matplotlib.pyplot  # noqa: F401  (imported once here, shared by every forked worker)

        from . import plots, viz  # noqa: F401
    context = multiprocessing.get_context("fork" if fork else "spawn")  # spawn: not the default on Linux
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_signals)
    injected = dict(injected_values())
    # forked workers then never scan what is imported by now (gen-2 collections: 0.1 s of a tour); a caller's
    # own gc.freeze() is left alone, and so is this process if a fork fails
    freeze = fork and gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    futures = {}  # filled one by one: a Ctrl-C between two submits still stops what was started
    mask = None
    try:
        try:
            # The submits start the workers. Each is born with Ctrl-C held back (a blocked SIGINT is inherited
            # across fork and exec), so one pressed while a worker starts up cannot interrupt it half-made
            # (which printed the interpreter's "Exception ignored" traceback); here it is delivered, not lost,
            # when the block ends.
            mask = _hold_ctrl_c()
            for path in demos[-2:] + demos[:-2]:
                futures[path] = pool.submit(_run_in_worker, path, out / path.stem, quick, injected)
        finally:
            if freeze:
                gc.unfreeze()  # the workers exist (the first submit forks them all); this process is as it was
            _restore_mask(mask)  # last: a Ctrl-C held back is raised right here
        for path in demos:
            try:
                yield futures[path].result()
            except BrokenProcessPool:
                raise RuntimeError(_BROKEN) from None
            except BaseException as e:
                print(getattr(e, "_micrornn_printed", ""), end="")  # what the failing demo printed before it
                raise
    finally:
        if not all(future.done() for future in futures.values()):  # an error, Ctrl-C, or the caller stopped
            _stop(pool)  # reading: no demo is left running
        pool.shutdown(wait=True, cancel_futures=True)


_BROKEN = ("a worker process of the tour ended before its demo did. Where workers start afresh (macOS, Windows, "
           "or a program with threads of its own, such as a Jupyter kernel) each one imports the calling script "
           "again: keep the script's own work under `if __name__ == \"__main__\":`, or pass jobs=1 (--jobs 1)")


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the workers now: SIGTERM, on which a worker unwinds its demo (``dot`` killed) and exits (``_stop_worker``).
    (``terminate_workers`` from Python 3.14; the pool's own process table before.)"""
    if hasattr(pool, "terminate_workers"):
        pool.terminate_workers()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _hold_ctrl_c() -> Any:
    """Block SIGINT in this thread; returns the mask before, for ``_restore_mask``. (POSIX; elsewhere None.)"""
    if hasattr(signal, "pthread_sigmask"):
        return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    return None


def _restore_mask(mask: Any) -> None:
    """Put back the mask ``_hold_ctrl_c`` returned (a caller's own blocked SIGINT stays blocked); a SIGINT
    that came meanwhile is delivered now."""
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _worker_signals() -> None:
    """In each worker: Ctrl-C is the tour's to handle (it stops the workers), and SIGTERM is the tour's stop.
    The worker was started with SIGINT blocked; ignored from here on, it is unblocked again (a pending one is
    dropped), so a ``dot`` the demo runs starts with the usual mask."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    send = getattr(pool_worker, "_sendback_result", None)  # the pool's own (3.8 to 3.14): looked up per result
    if send is not None:
        pool_worker._sendback_result = functools.partial(_send_then_stop, send)


# What a worker process is doing when the tour stops it (each worker has its own copy of these).
_IN_DEMO = False
_SENDING = False
_STOPPING = False
_UNWIND_SECONDS = 5  # a stopped worker is gone by then, whatever it is doing (SIGALRM's default action)


def _stop_worker(signum: int, frame: Any) -> None:
    """SIGTERM in a worker. In a demo: its ``dot`` runs are ended, the demo unwinds, and ``_run_in_worker``
    exits. Handing a result back: ``_send_then_stop`` exits once it is sent (half a message would leave the
    tour's reader waiting for the rest). Idle: exit now.

    A stopped worker never leaves by an exception alone: the pool's loop catches whatever a task raises and
    takes the next task. The pool sends SIGTERM again when it sees a worker gone; that one changes nothing."""
    global _STOPPING
    if _STOPPING:
        return
    _STOPPING = True
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(_UNWIND_SECONDS)
    if _IN_DEMO:
        dots = sys.modules.get(f"{__package__}.viz.dot")  # not imported yet: no picture drawn, no dot running
        if dots is not None:
            dots.stop_running()  # the demo's pictures are drawn in a thread of their own, which SystemExit skips
        raise SystemExit(128 + signum)
    if not _SENDING:
        os._exit(128 + signum)


def _send_then_stop(send: Any, *args: Any, **kwargs: Any) -> None:
    """The pool's ``_sendback_result``, after which a worker stopped meanwhile exits (no next demo)."""
    global _SENDING
    _SENDING = True
    try:
        send(*args, **kwargs)
    finally:
        _SENDING = False
    if _STOPPING:
        os._exit(128 + signal.SIGTERM)


def _run_in_worker(path: Path, out: Path, quick: bool, injected: dict[str, Any]) -> Run:
    """One demo in a worker process; its printout is kept for the tour to print whole, in order (also when
    the demo fails: it travels with the error)."""
    global _IN_DEMO
    printed = io.StringIO()
    t0 = time.perf_counter()
    try:
        _IN_DEMO = True
        with inject(**injected), contextlib.redirect_stdout(printed), no_progress_bars():
            report = execute(path, out, quick=quick)
    except Exception as e:
        e._micrornn_printed = printed.getvalue()  # an exception's attributes are pickled with it
        raise
    finally:
        _IN_DEMO = False
        if _STOPPING:  # stopped by the tour: the demo has unwound (or caught the stop); no further demo here
            os._exit(128 + signal.SIGTERM)
    # The pictures are on disk; the figures made from them stay here (a Future cannot cross processes).
    return replace(report, shown=[]), time.perf_counter() - t0, printed.getvalue()


def _jobs(jobs: int | None, step: bool) -> int:
    """How many demos run at once: ``jobs`` if given (≥ 1), else one per core this process may use, at most 4
    (each worker holds its own copy of numpy and matplotlib, ~150 MB); one with ``step``."""
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be an int ≥ 1 (how many demos run at once), got {jobs!r}")
    if step:
        if jobs not in (None, 1):
            raise ValueError(f"step pauses after each demo, so the demos run one at a time: leave jobs out "
                             f"(or 1), got jobs={jobs}")
        return 1
    if jobs is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        jobs = min(cores, 4)
    return jobs


def write_index(out: Path, reports: list[tuple[str, Report]]) -> Path:
    """A gallery page with the captions, in the notes' order; it links only files that exist."""
    parts = []
    for stem, r in reports:
        items = []
        for path, caption in r.figures:
            rel = Path(os.path.relpath(path, out)).as_posix()
            if Path(path).exists():
                items.append(f'<figure><a href="{html.escape(rel)}"><img src="{html.escape(rel)}" '
                             f'alt="{html.escape(caption)}"></a><figcaption>{html.escape(caption)}</figcaption>'
                             "</figure>")
        links = "".join(
            f'<li><a href="{html.escape(Path(os.path.relpath(p, out)).as_posix())}">{html.escape(c)}</a></li>'
            for p, c in r.links if Path(p).exists())
        numbers = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(fmt(v))}</td></tr>"
                          for k, v in r.numbers.items())
        parts.append(f'<section id="{html.escape(stem)}"><h2>{html.escape(r.title)}</h2>'
                     f"<p>{html.escape(r.look)}</p>"
                     + (f"<table>{numbers}</table>" if numbers else "")
                     + (f"<ul>{links}</ul>" if links else "")
                     + f'<div class="figs">{"".join(items)}</div></section>')
    toc = "".join(f'<li><a href="#{html.escape(s)}">{html.escape(r.title)}</a></li>' for s, r in reports)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>micrornn — the guided tour</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 75em; color: #222; padding: 0 1em; }}
section {{ border-top: 1px solid #ddd; padding-top: 1em; margin-top: 2em; }}
table {{ border-collapse: collapse; margin: .5em 0; }} td {{ border: 1px solid #ddd; padding: .2em .6em; }}
.figs {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; max-width: 100%; }} figure img {{ max-width: 100%; max-height: 30em; border: 1px solid #eee; }}
figcaption {{ font-size: .9em; color: #555; max-width: 40em; }}
</style></head><body>
<h1>micrornn — recurrent networks, unrolled and drawn</h1>
<p>Every number and picture on this page was computed by the engine while the tour ran.
Click a picture to open it at full size.</p>
<ol>{toc}</ol>
{"".join(parts)}
</body></html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
