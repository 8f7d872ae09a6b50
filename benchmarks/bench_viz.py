"""Picture benchmark: time from an unrolled many-to-one RNN to an SVG string (layout by Graphviz included).

    python benchmarks/bench_viz.py [--quick]

T = 10 and 50 are drawn in full (every step, max_width=None); T = 200 and 1,000 with the default folding
(first and last steps, the rest in one "… k steps …" node, and as many more as a 2,000 px slide needs);
then the gated cells as draw(u) makes them by default (their edges routed around the boxes: most of the
time). Medians over repeats; targets: the RNN at T = 50 coarse ≤ 1 s, nothing > 5 s.
"""

from __future__ import annotations

import argparse
import sys
import time
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


if __name__ == "__main__":
    main()
