"""What each speed trick of ``micrornn.fast`` buys: the same forward + backward with that one trick off,
over all of them on, and with every trick off (the reading path), in one process, samples interleaved.

    python benchmarks/bench_tricks.py [--quick] [--long]

    (no flag)    char-RNN sizes (vocab 65, hidden 100, token ids): RNN, LSTM, GRU at T = 25; RNN at T = 1,000
                 (and its build alone); a scalar Elman net (Values) at T = 500
    --quick      fewer repeats
    --long       also the RNN at T = 10,000, and its build alone (about a minute more)

A ratio above 1 is what the trick saves (off takes that many times as long as on); a trick that cannot touch a
workload reads 1.00× give or take the machine's noise (±3-6% with --quick). The "collector" row of the tricks'
table in ``micrornn/fast.py`` quotes this benchmark (its other rows quote ``bench_charrnn.py`` and
``bench_engine.py``, measured on their own workloads). Every variant's loss is checked equal to the default's
first. "on" is every trick on whatever the environment says (``mr.fast.on()``, so MICRORNN_REFERENCE=1 does not
turn the baseline into the reading path).
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # single-threaded, before numpy loads
    os.environ[var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import median_times, table  # noqa: E402

import micrornn as mr  # noqa: E402
from micrornn import unroll as U  # noqa: E402

VOCAB, HIDDEN = 65, 100


def workload(cell: str, T: int, backward: bool = True) -> Callable[[tuple[str, ...] | None], float]:
    """A forward + backward of ``cell`` over T steps (``backward=False``: the build alone); called with the
    tricks to switch off (None: none, (): every one), it returns the loss."""
    rng = np.random.default_rng(0)
    if cell == "Values":  # the scalar engine: one Value per number
        net = mr.nn.Elman(1, 2, 1, seed=0)
        xs, ys = rng.normal(size=(T, 1)), rng.normal(size=(T, 1))
        scalar = True
    else:
        net = getattr(mr.nn, cell)(VOCAB, HIDDEN, VOCAB, token_ids=True, seed=0)
        xs = rng.integers(0, VOCAB, size=T)
        ys = np.roll(xs, -1)
        scalar = False

    def run(off: tuple[str, ...] | None) -> float:
        net.zero_grad()
        with mr.fast.on() if off is None else mr.fast.off(*off):
            u = U.many_to_many(net, xs, ys, scalar=scalar)
            if backward:
                u.backward()
        return float(np.asarray(U.data_of(u.loss), dtype=float).sum())

    return run


def measure(cell: str, T: int, repeats: int, number: int, backward: bool = True) -> dict[str, float]:
    """Median seconds per call: all on, each trick alone off, all off."""
    run = workload(cell, T, backward)
    variants: dict[str, tuple[str, ...] | None] = {"on": None, **{t: (t,) for t in mr.fast.TRICKS}, "all off": ()}
    want = run(None)
    for name, off in variants.items():
        got = run(off)
        if not np.isclose(got, want, rtol=1e-12, atol=0):
            raise SystemExit(f"{cell} T={T}: the loss with {name} off is {got!r}, with every trick on {want!r}")
    return median_times({name: (lambda off=off: run(off)) for name, off in variants.items()},
                        repeats=repeats, number=number, settle=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--long", action="store_true", help="also the RNN at T = 10,000")
    args = parser.parse_args()
    few = args.quick
    configs = [("RNN", 25, 9 if few else 25, 5, True), ("LSTM", 25, 9 if few else 25, 5, True),
               ("GRU", 25, 9 if few else 25, 5, True), ("RNN", 1_000, 5 if few else 11, 1, True),
               ("RNN", 1_000, 5 if few else 11, 1, False), ("Values", 500, 5 if few else 11, 1, True)]
    if args.long:
        configs += [("RNN", 10_000, 3 if few else 5, 1, True), ("RNN", 10_000, 3 if few else 5, 1, False)]
    rows = [["workload", "on (ms)", *(f"{t} off/on" for t in mr.fast.TRICKS), "all off/on"]]
    for cell, T, repeats, number, backward in configs:
        times = measure(cell, T, repeats, number, backward)
        on = times["on"]
        name = f"{cell} T={T:,}" + ("" if backward else ", build only")
        rows.append([name, f"{on * 1e3:.2f}", *(f"{times[t] / on:.2f}x" for t in mr.fast.TRICKS),
                     f"{times['all off'] / on:.2f}x"])
        print(f"  measured {rows[-1][0]}", file=sys.stderr)
    print(table(rows))
    print("medians of interleaved samples in one process, one thread; x/on above 1: what the trick saves. "
          "A trick that does not touch a workload reads ~1.00x (copies and fused: Tensors; walk: Values, "
          "and Tensors with copies off; collector: the build of either, so most in the build-only rows).")


if __name__ == "__main__":
    main()
