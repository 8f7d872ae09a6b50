"""Scalar-engine benchmark: a univariate RNN, forward + backward through T steps.

    h_t = f(w h_{t-1} + u x_t + b),   L = Σ_t (h_t − y_t)²

References run in this same process: a hand-derived plain-Python BPTT (the floor for any pure-Python
engine) and micrograd 0.1.0 when installed (it has only relu, so micrornn runs a relu variant against it).
Prints medians and ratios, then the bounds issue [H] set for the engine (met or missed).

    python benchmarks/bench_engine.py [--quick] [--gc-off]

    (no flag)    T = 1,000 and 10,000, tanh and relu
    --quick      T = 1,000 only, fewer repeats
    --gc-off     time with the cyclic garbage collector disabled
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import median_times, table  # noqa: E402

import micrornn as mr  # noqa: E402
from micrornn.graph import topological_order  # noqa: E402

try:
    from micrograd.engine import Value as MGValue
except ImportError:  # optional reference
    MGValue = None

W, U, B = 0.8, 0.5, 0.1


def data(T: int) -> tuple[list[float], list[float]]:
    rng = random.Random(0)
    return [rng.uniform(-1, 1) for _ in range(T)], [rng.uniform(-0.5, 0.5) for _ in range(T)]


# -- the floor: BPTT derived by hand ------------------------------------------------------------------
def hand_bptt(xs: list[float], ys: list[float], relu: bool = False) -> tuple[float, float, float, float]:
    """Forward, then dL/dh_t summed back through time by hand: the least work any engine can do."""
    w, u, b = W, U, B
    hs = [0.0]
    for x in xs:
        z = w * hs[-1] + u * x + b
        hs.append((z if z > 0 else 0.0) if relu else math.tanh(z))
    loss = 0.0
    dw = du = db = 0.0
    dh_next = 0.0  # dL/dh_t arriving from step t+1
    for t in range(len(xs), 0, -1):
        h = hs[t]
        diff = h - ys[t - 1]
        loss += diff * diff
        dh = 2.0 * diff + dh_next
        dz = dh * ((1.0 if h > 0 else 0.0) if relu else 1.0 - h * h)
        dw += dz * hs[t - 1]
        du += dz * xs[t - 1]
        db += dz
        dh_next = dz * w
    return loss, dw, du, db


# -- the same net on a scalar autodiff engine ------------------------------------------------------------
def unrolled_graph(V, xs: list[float], ys: list[float], relu: bool = False):
    """Build the unrolled graph with Value class ``V`` (micrornn's or micrograd's): (loss, w, u, b)."""
    w, u, b = V(W), V(U), V(B)
    h = V(0.0)
    loss = V(0.0)
    for x, y in zip(xs, ys):
        z = w * h + u * x + b
        h = z.relu() if relu else z.tanh()
        loss = loss + (h - y) ** 2
    return loss, w, u, b


def engine_rnn(V, xs: list[float], ys: list[float], relu: bool = False):
    """Build the unrolled graph, then backward."""
    loss, w, u, b = unrolled_graph(V, xs, ys, relu)
    loss.backward()
    return loss, w, u, b


def reference_rnn(xs: list[float], ys: list[float], relu: bool = False):
    """``engine_rnn`` on the reading path (``mr.fast.off()``): the Value engine's sweep walks the graph, then
    checks and resets it in a second pass, where the default ("walk") does both in one."""
    with mr.fast.off():
        return engine_rnn(mr.Value, xs, ys, relu)


def check_agreement(T: int = 200) -> None:
    xs, ys = data(T)
    for relu in (False, True):
        ref = hand_bptt(xs, ys, relu)
        loss, w, u, b = engine_rnn(mr.Value, xs, ys, relu)
        got = (loss.data, w.grad, u.grad, b.grad)
        assert all(math.isclose(a, r, rel_tol=1e-9, abs_tol=1e-12) for a, r in zip(got, ref)), (got, ref)
        if MGValue is not None and relu:
            loss, w, u, b = engine_rnn(MGValue, xs, ys, relu)
            got = (loss.data, w.grad, u.grad, b.grad)
            assert all(math.isclose(a, r, rel_tol=1e-9, abs_tol=1e-12) for a, r in zip(got, ref)), (got, ref)


def micrograd_default_limit_failure() -> str:
    """micrograd's backward recurses once per node: find where the default recursion limit stops it."""
    if MGValue is None:
        return "micrograd not installed"
    for T in (50, 100, 200, 400, 800):
        try:
            engine_rnn(MGValue, *data(T), relu=True)
        except RecursionError:
            return f"micrograd at the default recursion limit ({sys.getrecursionlimit()}) fails at T = {T}"
    return "micrograd ran T = 800 at the default recursion limit"


def bytes_per_node(V, T: int = 2000) -> float:
    """Peak traced memory of building the forward graph, divided by its number of nodes."""
    xs, ys = data(T)
    gc.collect()
    tracemalloc.start()
    loss, *_ = unrolled_graph(V, xs, ys, relu=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if isinstance(loss, mr.Value):
        n = len(topological_order(loss))
    else:  # micrograd: count by walking _prev iteratively
        seen, stack = {loss}, [loss]
        while stack:
            for p in stack.pop()._prev:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        n = len(seen)
    return peak / n


def time_split(T: int = 1000, repeats: int = 15) -> str:
    """Where micrornn's time goes at one T: building the graph, backward, and freeing it (medians)."""
    xs, ys = data(T)
    parts: dict[str, list[float]] = {"forward": [], "backward": [], "free": []}
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        graph = unrolled_graph(mr.Value, xs, ys, relu=True)
        t1 = time.perf_counter()
        graph[0].backward()
        t2 = time.perf_counter()
        del graph
        t3 = time.perf_counter()
        for part, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2)):
            parts[part].append(dt)
    return f"micrornn at T={T:,} (relu), medians: " + ", ".join(
        f"{part} {statistics.median(v) * 1e3:.2f} ms" for part, v in parts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, T = 1,000 only")
    parser.add_argument("--gc-off", action="store_true", help="time with the cyclic garbage collector disabled")
    args = parser.parse_args()
    check_agreement()
    note = micrograd_default_limit_failure()
    sys.setrecursionlimit(1_000_000)  # let micrograd run at all on long sequences
    gc.freeze()  # the interpreter's own objects stay out of the collector's way
    if args.gc_off:
        gc.disable()
    sizes = [1000] if args.quick else [1000, 10_000]
    rows = [["T", "variant", "hand floor (ms)", "micrornn (ms)", "micrograd (ms)", "micrornn/floor",
             "micrograd/micrornn", "reference/fast"]]
    worst_floor, speedup = 0.0, {}
    for T in sizes:
        xs, ys = data(T)
        repeats = 5 if args.quick else (15 if T <= 1000 else 7)
        for relu in (False, True):
            fns = {"floor": lambda: hand_bptt(xs, ys, relu), "ours": lambda: engine_rnn(mr.Value, xs, ys, relu),
                   "reference": lambda: reference_rnn(xs, ys, relu)}
            if MGValue and relu:
                fns["micrograd"] = lambda: engine_rnn(MGValue, xs, ys, relu)
            times = median_times(fns, repeats)  # samples interleaved: the ratios share the machine's load
            floor, ours, mg, ref = times["floor"], times["ours"], times.get("micrograd"), times["reference"]
            worst_floor = max(worst_floor, ours / floor)
            if mg:
                speedup[T] = mg / ours
            rows.append([
                f"{T:,}", "relu" if relu else "tanh", f"{floor * 1e3:.2f}", f"{ours * 1e3:.2f}",
                f"{mg * 1e3:.2f}" if mg else "-", f"{ours / floor:.1f}x", f"{mg / ours:.1f}x" if mg else "-",
                f"{ref / ours:.2f}x",
            ])
    print(f"forward + backward, median wall time, garbage collector {'off' if args.gc_off else 'on'}; "
          "ratios from this run; reference/fast: micrornn with mr.fast.off() (the spine's two-pass sweep) over "
          "the default")
    print(table(rows))
    ours_b = bytes_per_node(mr.Value)
    line = f"peak memory per node (tracemalloc, T=2,000 relu graph): micrornn {ours_b:.0f} B"
    memory = None
    if MGValue is not None:
        mg_b = bytes_per_node(MGValue)
        memory = ours_b / mg_b
        line += f", micrograd {mg_b:.0f} B, ratio {memory:.2f}"
    print(line)
    print(time_split())
    print(note)
    print(bounds(speedup, worst_floor, memory))


def bounds(speedup: dict[int, float], worst_floor: float, memory: float | None) -> str:
    """Issue [H]'s bounds for the Value engine, each with this run's number; a change that breaks one says why."""
    def row(bound: str, value: float | None, ok: Callable[[float], bool], fmt: str) -> str:
        if value is None:
            return f"  {bound}: not measured in this run"
        return f"  {bound}: {value:{fmt}}  {'met' if ok(value) else 'MISSED'}"

    return "\n".join([
        "bounds (issue [H]):",
        row(">= 2.5x micrograd's speed at T = 1,000 (relu)", speedup.get(1000), lambda r: r >= 2.5, ".2f"),
        row(">= 12x micrograd's speed at T = 10,000 (relu)", speedup.get(10_000), lambda r: r >= 12, ".1f"),
        row("<= 30x the hand floor (worst row)", worst_floor, lambda r: r <= 30, ".1f"),
        row("memory per node <= 1/3 of micrograd's", memory, lambda r: r <= 1 / 3, ".2f"),
    ])


if __name__ == "__main__":
    main()
