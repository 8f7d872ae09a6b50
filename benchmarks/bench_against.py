"""This checkout against an earlier commit: one char-RNN step (forward + backward), in turns.

    python benchmarks/bench_against.py 97ae3ef            # 5 rounds of 200 steps per cell and side
    python benchmarks/bench_against.py HEAD~3 --rounds 9

Two versions of micrornn cannot share one process, so each round runs the commit's copy (a git worktree
in a temporary folder) and this checkout's in fresh processes, one after the other, and the rounds
alternate. Each child times 200 steps with ``time.process_time`` (one BLAS thread) and reports its
fastest and its median; the table gives this/then for the fastest of all rounds and for the median of
the medians. On a shared 2-core machine a few percent is noise: read both columns, and run it twice.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELLS = ("RNN", "LSTM", "GRU")

CHILD = """
import statistics, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import micrornn as mr
from micrornn import unroll as U
for name in sys.argv[2:]:
    model = getattr(mr.nn, name)(65, 100, 65, token_ids=True, seed=0)
    rng = np.random.default_rng(0)
    xs, ys = rng.integers(0, 65, 25), rng.integers(0, 65, 25)
    times = []
    for i in range(205):
        model.zero_grad()
        start = time.process_time()
        U.many_to_many(model, xs, ys).backward()
        if i >= 5:  # five untimed steps first
            times.append(time.process_time() - start)
    print(name, min(times), statistics.median(times))
"""


def run(root: Path) -> dict[str, tuple[float, float]]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(root), *CELLS], capture_output=True, text=True, env=env,
                         check=True).stdout
    return {name: (float(a), float(b)) for name, a, b in re.findall(r"(\w+) (\S+) (\S+)", out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the commit to compare with, e.g. 97ae3ef or HEAD~3")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        then = Path(folder) / "then"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(then), args.commit],
                       check=True)
        try:
            rounds = [(run(then), run(ROOT)) for _ in range(args.rounds)]
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(then)], check=True)
    print(f"this checkout / {args.commit}, char-RNN step (vocab 65, hidden 100, T = 25), {args.rounds} rounds")
    print(f"{'cell':5} {'fastest then':>13} {'fastest now':>12} {'ratio':>6}   {'median then':>12} "
          f"{'median now':>11} {'ratio':>6}")
    for name in CELLS:
        fast_then = min(r[0][name][0] for r in rounds) * 1e3
        fast_now = min(r[1][name][0] for r in rounds) * 1e3
        med_then = statistics.median(r[0][name][1] for r in rounds) * 1e3
        med_now = statistics.median(r[1][name][1] for r in rounds) * 1e3
        print(f"{name:5} {fast_then:10.3f} ms {fast_now:9.3f} ms {fast_now / fast_then:6.3f}   "
              f"{med_then:9.3f} ms {med_now:8.3f} ms {med_now / med_then:6.3f}")


if __name__ == "__main__":
    main()
