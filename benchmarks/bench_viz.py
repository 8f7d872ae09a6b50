"""Picture benchmark: time from an unrolled many-to-one RNN to an SVG string (layout by Graphviz included).

    python benchmarks/bench_viz.py [--quick]

T = 10 and 50 are drawn in full (every step, max_width=None); T = 200 and 1,000 with the default folding
(first and last steps, the rest in one "… k steps …" node, and as many more as a 2,000 px slide needs);
then the gated cells as draw(u) makes them by default (their edges routed around the boxes: most of the
time). Medians over repeats; targets: the RNN at T = 50 coarse ≤ 1 s, nothing > 5 s.

Then long many-to-many nets, folded: draw(u) alone (no layout; the picture is the same size for any T)
at T = 1,000, 4,000 and 10,000, with its peak memory (tracemalloc, one more call). The time must grow
as T does. Before the fix (a T² contraction) issue #18 measured 0.58 s, 5.9 s and ≈34 s, with peaks of
28, 356 and 1,962 MB; after it, 0.2 s, 0.7 s and 2.2 s with 8, 33 and 81 MB (--quick, load ~1). Targets:
T = 10,000 ≤ 3 s and ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import median_time, table  # noqa: E402

from micrornn import unroll, viz  # noqa: E402
from micrornn.nn import GRU, LSTM, RNN  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    rows = [["cell", "T", "view", "drawn steps", "nodes", "draw (s)", "to SVG incl. layout (s)", "verdict"]]
    worst = 0.0
    cases = [("RNN", T, view, max_steps, None) for T, view, max_steps in [
        (10, "coarse", 10), (10, "ops", 10), (50, "coarse", 50), (50, "ops", 50)]]
    cases += [("RNN", T, view, 8, viz.MAX_WIDTH) for T, view in [(200, "coarse"), (1000, "coarse"), (1000, "ops")]]
    cases += [(cell, T, "coarse", 8, viz.MAX_WIDTH) for cell in ("LSTM", "GRU bidirectional", "LSTM 2 layers")
              for T in (6, 50)]
    for name, T, view, max_steps, width in cases:
        kind = {"RNN": RNN, "GRU": GRU, "LSTM": LSTM}[name.split()[0]]
        rnn = kind(2, 3, 2, seed=0, bidirectional="bidirectional" in name, num_layers=2 if "layers" in name else 1)
        u = unroll.many_to_one(rnn, np.random.default_rng(0).normal(size=(T, 2)), 1)
        u.backward()

        def picture_of() -> object:
            return viz.draw(u, view=view, max_steps=max_steps, max_width=width)

        start = time.perf_counter()
        picture = picture_of()
        draw_s = time.perf_counter() - start
        total = median_time(lambda: viz.to_svg(picture_of()), repeats)
        worst = max(worst, total)
        drawn = picture.source.count("subgraph cluster_t")
        nodes = sum(1 for line in picture.source.splitlines() if "[label=" in line and "->" not in line)
        target = 1.0 if (name == "RNN" and T == 50 and view == "coarse") else 5.0  # the target is the RNN's
        rows.append([name, f"{T:,}", view, str(drawn), str(nodes), f"{draw_s:.3f}", f"{total:.3f}",
                     f"≤ {target:g} s: {'ok' if total <= target else 'OVER'}"])
    print("many_to_one, hidden 3: median seconds from the graph to an SVG string")
    print(table(rows))
    print(f"slowest picture: {worst:.3f} s")
    print()
    long_many_to_many(repeats)


def long_many_to_many(repeats: int) -> None:
    rows = [["T", "draw (s)", "× the T = 1,000 time", "× the steps", "peak (MB)", "verdict"]]
    first = None
    for T in (1_000, 4_000, 10_000):
        rng = np.random.default_rng(0)
        u = unroll.many_to_many(RNN(2, 3, 2, seed=0), rng.normal(size=(T, 2)), rng.integers(0, 2, size=T))
        u.backward()
        seconds = median_time(lambda: viz.draw(u), repeats)
        tracemalloc.start()
        viz.draw(u)
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        first = first or seconds
        verdict = "" if T < 10_000 else (
            f"≤ 3 s, ≤ 200 MB: {'ok' if seconds <= 3 and peak_mb <= 200 else 'OVER'}")
        rows.append([f"{T:,}", f"{seconds:.3f}", f"{seconds / first:.1f}", f"{T / 1_000:g}", f"{peak_mb:,.1f}",
                     verdict])
    print("many_to_many RNN(2, 3, 2), folded to the default 2,000 px: median seconds of draw(u), peak memory")
    print(table(rows))


if __name__ == "__main__":
    main()
