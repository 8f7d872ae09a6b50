"""Explore benchmark: from a slider event to the new picture, and what a layout costs once.

    python benchmarks/bench_explore.py [--quick]

1. Slider latency: the time from setting the widget's slider (ipywidgets runs the observer in the same
   call: forward, backward, model, paint, the strip and the numbers) to the new SVG in the picture's HTML
   — through the ipywidgets widget when ipywidgets is installed, else through ``Explorer.frame`` (the
   same work). Medians over w values stepped back and forth. Budgets: an LSTM (hidden 3) at T = 20
   ≤ 50 ms, the RNN at T = 50 ≤ 20 ms; the ratio column is the median over the budget.
2. First render: ``mr.explore(...)`` until its first picture (the probes that fix the colour scale, the
   layout's one dot run). Budget: an LSTM at T = 20 ≤ 0.3 s.
3. The linear net at T = 10, 100, 1,000 and 10,000 (draw folds long graphs): ``viz.draw`` alone, the
   first render of a ``Layout`` (draw + dot), and a paint of a new w (0.9 → 0.99) on it (``Layout.svg``: the graph's
   walk, the model and the patch, no dot; the unroll and backward are not in it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import median_time, table  # noqa: E402

from micrornn import viz  # noqa: E402
from micrornn.viz.explore import Explorer, builtin  # noqa: E402

try:
    import ipywidgets  # noqa: F401
    WIDGET = True
except ImportError:
    WIDGET = False


def slider_latency(cell: str, T: int, repeats: int) -> float:
    """Median seconds from a slider move to the new picture."""
    ex = Explorer(cell=cell, T=T, w=(0.8, 1.2, 0.02))
    ws = ex.sliders[0].values
    moves = (ws + ws[::-1]) * max(1, repeats // 10)
    if WIDGET:
        box = ex.widget()
        slider = box.controls[0]

        def move(w: float) -> None:
            slider.value = w  # the observer repaints before this returns
    else:
        def move(w: float) -> None:
            assert ex.frame({"w": w}).svg  # the new picture, as the widget would set it
    for w in ws:  # warm: every layout the moves need exists (a relayout for wider numbers is not a move's cost)
        move(w)
    times = []
    for w in moves:
        start = time.perf_counter()
        move(w)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_render(cell: str, T: int, repeats: int) -> float:
    """Median seconds from a new explorer to its first picture."""
    return median_time(lambda: Explorer(cell=cell, T=T).frame({}).svg, repeats, warmup=1)  # the SVG string


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 20 if args.quick else 60
    print(f"slider → picture ({'through the ipywidgets widget' if WIDGET else 'Explorer.frame (no ipywidgets)'}),"
          " median over moves of w")
    rows = [["cell", "T", "median (ms)", "budget (ms)", "ratio", "verdict"]]
    for cell, T, budget in [("lstm", 20, 50.0), ("rnn", 50, 20.0)]:
        s = slider_latency(cell, T, repeats) * 1000
        rows.append([cell, str(T), f"{s:.1f}", f"{budget:g}", f"{s / budget:.2f}", "ok" if s <= budget else "OVER"])
    print(table(rows))
    print()
    r = 3 if args.quick else 7
    first = first_render("lstm", 20, r)
    print(f"first render, LSTM T = 20: {first:.3f} s (budget 0.3 s, ratio {first / 0.3:.2f}: "
          f"{'ok' if first <= 0.3 else 'OVER'})")
    print()
    rows = [["T (linear net)", "viz.draw (s)", "first render: Layout, dot once (s)", "paint a new w (ms)"]]
    for T in (10, 100, 1_000, 10_000):
        u, u2 = builtin("rnn", T=T, w=0.9), builtin("rnn", T=T, w=0.99)  # 1.1^10,000 would overflow
        u.backward()
        u2.backward()
        reps = 3 if T >= 1_000 or args.quick else 7
        draw = median_time(lambda: viz.draw(u), reps)
        lay = viz.Layout(u, scale=(1e-6, 1e6), sizes=[u2], room=12, splines="curved")
        made = median_time(lambda: viz.Layout(u, scale=(1e-6, 1e6), sizes=[u2], room=12, splines="curved"), reps)
        paint = median_time(lambda: lay.svg(u2), reps) * 1000
        rows.append([f"{T:,}", f"{draw:.3f}", f"{made:.3f}", f"{paint:.1f}"])
    print(table(rows))


if __name__ == "__main__":
    main()
