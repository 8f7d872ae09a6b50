"""Shared helpers for the benchmarks: median timing and a plain-text table."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1, number: int = 1) -> float:
    """Median over ``repeats`` samples of the wall time of one ``fn()`` call, in seconds.

    Each sample runs ``fn`` ``number`` times back to back (as a training loop does) and divides;
    the collector runs between samples, never inside one.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def median_times(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1,
                 number: int = 1, settle: int = 0) -> dict[str, float]:
    """``median_time`` for several functions at once, their samples taken in turn (round-robin).

    On a shared machine the load changes from second to second; interleaving the samples exposes every
    function to the same load, so the ratios between them stay fair when the absolute times do not.
    ``settle`` untimed calls right before each sample give every function its own steady state: without
    them the first call of a sample pays for the caches the previous function left behind, and which
    function that is depends on the order of ``fns`` (2-3% of a 1.7 ms step in bench_charrnn).
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            for _ in range(settle):
                fn()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(ts) for name, ts in times.items()}


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
