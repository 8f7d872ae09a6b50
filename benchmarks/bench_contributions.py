"""Contribution-matrix benchmark: ``u.contributions("W_h")`` against one full ``u.backward()``, same graph.

    python benchmarks/bench_contributions.py [--quick]

A many-to-many tanh RNN (input 8, hidden 64, output 8, T = 100, mse at every step): T losses, T − 1 copies
of W^H, so C is 100 × 99 entries of 64 × 64. The contributions are one reverse sweep carrying a stack of
per-loss cotangents (rows only for the losses that reach a node), and keep each W^H entry as its two
factors g xᵀ; the naive alternative, one backward per loss, costs about T/2 full backwards. Then the
same for an LSTM, for many-to-one (one loss row: one sweep), and for ``norms()``, which the heat reads.
Medians of interleaved samples, ratios in-process (fast path on, as a user runs), one BLAS thread as in
bench_charrnn (the stacked sweep's matrix products are gemm where backward's are gemv: on a loaded 2-core
machine a second OpenBLAS thread made a (50, 256) @ (256, 64) product 30× slower). Target: ≤ 3× a backward
for the T = 100, H = 64 RNN.
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # single-threaded, before numpy loads
    os.environ[var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import median_times, table  # noqa: E402

from micrornn import unroll  # noqa: E402
from micrornn.nn import LSTM, RNN  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    T, H = 100, 64
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(T, 8)), rng.normal(size=(T, 8))
    rows = [["net", "topology", "backward (ms)", "contributions (ms)", "ratio", "+ norms() (ms)", "verdict"]]
    headline = None
    for name, cell, topology in [("RNN", RNN(8, H, 8, seed=0), "many_to_many"),
                                 ("LSTM", LSTM(8, H, 8, seed=0), "many_to_many"),
                                 ("RNN", RNN(8, H, 8, seed=0), "many_to_one")]:
        target = ys if topology == "many_to_many" else ys[-1]
        u = getattr(unroll, topology)(cell, xs, target, loss="mse")
        C = u.contributions("W_h")
        times = median_times({"backward": u.backward, "contributions": lambda u=u: u.contributions("W_h"),
                              "norms": C.norms}, repeats)
        ratio = times["contributions"] / times["backward"]
        if headline is None:
            headline = ratio
        verdict = ("ok" if ratio <= 3 else "over 3×") if headline is ratio else ""
        rows.append([name, topology, f"{1e3 * times['backward']:.2f}", f"{1e3 * times['contributions']:.2f}",
                     f"{ratio:.2f}×", f"{1e3 * times['norms']:.2f}", verdict])
    print(f"contributions('W_h') vs one backward, T = {T}, hidden {H} (medians of {repeats})")
    print(table(rows))
    print(f"ratio (RNN, many-to-many, T = {T}, H = {H}): {headline:.2f}× one backward (target ≤ 3×)")


if __name__ == "__main__":
    main()
