"""Char-RNN benchmark: one many-to-many forward + backward with token-id inputs (min-char-rnn sizes).

    python benchmarks/bench_charrnn.py [--quick] [--memory] [--no-torch]

    (no flag)    simple RNN at hidden 32/100/256 batch 1 and hidden 100 batch 32; LSTM and GRU at hidden 100
                 batch 1 (vocab 65, T = 25 everywhere); about two minutes on an idle 2-core machine
    --quick      hidden 100 batch 1 only (RNN, LSTM, GRU), fewer repeats: well under a minute
    --memory     also the long unroll: hidden 256, batch 1, T = 1,000 and 10,000 — peak memory (RSS high-water
                 of a fresh process per backend) and time against the numpy floor. T = 10,000 runs only when
                 the machine's available memory covers ten times the T = 1,000 peak (8.1 GB RSS before
                 issue [H]'s factored copy gradients, 190 MB after); a few minutes
    --no-torch   leave PyTorch out even when installed

Each configuration runs in a fresh process, all its backends in that one process, on one thread, their
timing samples interleaved: the hand-derived numpy BPTT (the floor, ``floors.py``), micrornn, micrornn
with its per-step copies switched off (benchmark-only, see ``copies_off``), micrornn on its reading path
(``with mr.fast.off():``, every speed trick of ``micrornn.fast`` off), for the simple RNN the same
graph built from the engine's ops by hand (``rnn_by_hand``: what the unroller's record costs), and when
installed PyTorch CPU — explicit unrolled ops under autograd, and ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
Every backend's loss and gradients are checked equal to the floor's (and the floor against finite
differences) before anything is timed. The last lines compare the results with the targets of issues [H] and [G].
micrornn's LSTM/GRU rows appear when ``micrornn.nn`` has ``LSTM``/``GRU``; otherwise a note says why they are missing.
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # single-threaded, before numpy loads
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager, nullcontext  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import median_times, table  # noqa: E402
from floors import FLOORS, finite_difference_check, init_params  # noqa: E402

import micrornn as mr  # noqa: E402
from micrornn import unroll as U  # noqa: E402
from micrornn.graph import topological_order  # noqa: E402

torch = None  # PyTorch, an optional reference: loaded by load_torch() only where a row needs it

VOCAB, T = 65, 25
Step = Callable[[], tuple[float, dict]]


def load_torch() -> bool:
    global torch
    try:
        import torch as _torch
    except ImportError:
        return False
    torch = _torch
    torch.set_num_threads(1)
    return True


# -- micrornn, with and without its per-step copies -----------------------------------------------------------
class CopiesSwitchUnavailable(RuntimeError):
    pass


@contextmanager
def copies_off() -> Iterator[None]:
    """Build graphs whose per-step copies ``W_t`` are the parameter itself (a benchmark-only switch).

    The unroller's backend takes its copy maker (``be.copy``) when it is made, once per unroll; a backend
    whose copy maker returns the leaf gives the same graph minus the copy nodes, and every use then
    accumulates straight into the parameter's ``.grad``. The difference in time is what the copies cost.
    (Not ``mr.fast.off("copies")``: that keeps the copies, as plain nodes — the reading path's.)
    """
    from micrornn.backends import TensorBackend

    original = TensorBackend.__init__
    if not hasattr(TensorBackend(), "copy"):
        raise CopiesSwitchUnavailable("micrornn's TensorBackend has no copy maker (be.copy) to switch off")

    def without_copies(self: TensorBackend) -> None:
        original(self)
        self.copy = lambda leaf, label: leaf

    TensorBackend.__init__ = without_copies
    try:
        yield
    finally:
        TensorBackend.__init__ = original


def micrornn_step(model, xs: np.ndarray, ys: np.ndarray, copies: bool = True,
                  reference: bool = False) -> tuple[float, dict]:
    """One forward + backward; ``reference``: on the reading path, every trick of ``micrornn.fast`` off."""
    model.zero_grad()
    with mr.fast.off() if reference else nullcontext(), nullcontext() if copies else copies_off():
        u = U.many_to_many(model, xs, ys)
        u.backward()
    return u.loss.item(), {n: p.grad for n, p in model.named_parameters()}


def rnn_by_hand(model, xs: np.ndarray, ys: np.ndarray) -> tuple[float, dict]:
    """The simple RNN's unrolled graph built with the engine's ops directly — node for node what
    ``many_to_many`` builds (per-step copies included), without the ``Unrolled`` record (labels,
    roles, per-step parameter views). The difference to the micrornn row is what the record costs."""
    from micrornn import fast
    from micrornn import functional as F

    model.zero_grad()
    W_h, W_x, b, W_o, b_o = model.W_h, model.W_x, model.b, model.W_o, model.b_o
    h, loss = None, None
    for t in range(len(xs)):
        with mr.timestep(t + 1):
            b_t = fast.copy(b, None)
            if h is None:  # step 1 has no context: no W^H term, as in the unroller
                h = (F._embed(fast.copy(W_x, None), xs[t]) + b_t).tanh()
            else:  # W^H C_t + W^X X_t + b as one node, as RNN.step builds it
                h = fast.affine2(fast.copy(W_h, None), h, fast.copy(W_x, None), xs[t], b_t).tanh()
            L_t = F._cross_entropy(F._linear(h, fast.copy(W_o, None), fast.copy(b_o, None)), ys[t])
            loss = L_t if loss is None else loss + L_t
    loss.backward()
    return loss.item(), {n: p.grad for n, p in model.named_parameters()}


def graph_size(model, xs: np.ndarray, ys: np.ndarray, copies: bool) -> int:
    with nullcontext() if copies else copies_off():
        return len(topological_order(U.many_to_many(model, xs, ys).loss))


def micrornn_model(cell: str, hidden: int, params: dict[str, np.ndarray]):
    """The micrornn model holding ``params``, or a note saying why there is none."""
    cls = getattr(mr.nn, cell.upper(), None)
    if cls is None:
        return None, f"micrornn has no nn.{cell.upper()} yet: its rows are skipped"
    sizes = {"input_size": VOCAB, "hidden_size": hidden, "output_size": VOCAB, "seed": 0}
    try:
        try:
            model = cls(**sizes, token_ids=True)  # the inputs are token ids: W^X x_t is a column gather
        except TypeError:  # a micrornn from before token_ids=True read integer inputs as ids by their dtype
            model = cls(**sizes)
        model.load_state_dict(params)
    except (TypeError, ValueError) as e:
        return None, f"micrornn nn.{cell.upper()} does not take the floor's parameters ({e}): rows skipped"
    return model, None


# -- PyTorch: the same ops, unrolled by hand under autograd, and the fused nn modules --------------------------
def torch_unrolled(cell: str, params: dict[str, np.ndarray]) -> Step:
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    cross_entropy = torch.nn.functional.cross_entropy

    def rnn_cell(a, h, c):
        z = a + tp["b"] if h is None else a + tp["b"] + h @ tp["W_h"].T
        return torch.tanh(z), None

    def lstm_cell(a, h, c):
        i, f, g, o = (a + tp["b_x"] + h @ tp["W_h"].T + tp["b_h"]).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def gru_cell(a, h, c):
        ax_r, ax_z, ax_n = (a + tp["b_x"]).chunk(3, dim=-1)
        ah_r, ah_z, ah_n = (h @ tp["W_h"].T + tp["b_h"]).chunk(3, dim=-1)
        r, z = torch.sigmoid(ax_r + ah_r), torch.sigmoid(ax_z + ah_z)
        n = torch.tanh(ax_n + r * ah_n)
        return (1 - z) * n + z * h, None

    step_cell = {"rnn": rnn_cell, "lstm": lstm_cell, "gru": gru_cell}[cell]

    def step(xs: np.ndarray, ys: np.ndarray) -> tuple[float, dict]:
        for p in tp.values():
            p.grad = None
        xs_t, ys_t = torch.as_tensor(xs), torch.as_tensor(ys)
        shape = (*xs.shape[1:], tp["W_h"].shape[1])
        h = None if cell == "rnn" else torch.zeros(shape, dtype=torch.float64)
        c = torch.zeros(shape, dtype=torch.float64) if cell == "lstm" else None
        loss = 0.0
        for t in range(len(xs)):
            h, c = step_cell(tp["W_x"].T[xs_t[t]], h, c)  # W^X x_t for a token id: a row gather
            o = h @ tp["W_o"].T + tp["b_o"]
            loss = loss + cross_entropy(o if o.ndim == 2 else o[None], ys_t[t].reshape(-1))
        loss.backward()
        return loss.item(), {k: p.grad.numpy() for k, p in tp.items()}

    return step


def torch_nn(cell: str, params: dict[str, np.ndarray]) -> Step:
    H = params["W_h"].shape[1]
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](VOCAB, H).double()
    head = torch.nn.Linear(H, VOCAB).double()
    names = {"W_h": module.weight_hh_l0, "W_x": module.weight_ih_l0, "W_o": head.weight, "b_o": head.bias}
    names.update({"b": module.bias_ih_l0} if cell == "rnn" else {"b_x": module.bias_ih_l0, "b_h": module.bias_hh_l0})
    with torch.no_grad():
        for k, p in names.items():
            p.copy_(torch.tensor(params[k]))
        if cell == "rnn":
            module.bias_hh_l0.zero_()  # micrornn's RNN has one bias b
    eye = torch.eye(VOCAB, dtype=torch.float64)

    def step(xs: np.ndarray, ys: np.ndarray) -> tuple[float, dict]:
        module.zero_grad()
        head.zero_grad()
        xs_t = torch.as_tensor(xs)
        x = eye[xs_t] if xs.ndim == 2 else eye[xs_t][:, None]  # one-hot, (T, batch, input) as nn.* want
        out, _ = module(x)
        logits = head(out)
        ys_t = torch.as_tensor(ys).reshape(len(xs), -1)
        loss = sum(torch.nn.functional.cross_entropy(logits[t], ys_t[t]) for t in range(len(xs)))
        loss.backward()
        return loss.item(), {k: p.grad.numpy() for k, p in names.items()}

    return step


# -- one configuration: check, then time ----------------------------------------------------------------------
def check(name: str, got: tuple[float, dict], ref: tuple[float, dict]) -> None:
    (loss, grads), (ref_loss, ref_grads) = got, ref
    if not abs(loss - ref_loss) <= 1e-9 * abs(ref_loss):
        raise AssertionError(f"{name}: loss {loss!r}, the floor's {ref_loss!r}")
    for k, g in ref_grads.items():
        if not np.allclose(grads[k], g, rtol=1e-7, atol=1e-10):
            raise AssertionError(f"{name}: dL/d{k} differs from the floor's (max |Δ| "
                                 f"{np.abs(np.asarray(grads[k]) - g).max():.3g})")


def measure(cell: str, hidden: int, batch: int, repeats: int, use_torch: bool) -> dict:
    """Median seconds per forward+backward for every backend, after checking that they all agree."""
    rng = np.random.default_rng(0)
    params = init_params(cell, VOCAB, hidden, rng)
    xs = rng.integers(0, VOCAB, size=(T,) if batch == 1 else (T, batch))
    ys = rng.integers(0, VOCAB, size=xs.shape)
    floor = FLOORS[cell]
    if cell != "rnn" and batch != 1:
        raise ValueError(f"the {cell} floor is written for batch 1, got batch {batch}")
    finite_difference_check(cell, {k: v.copy() for k, v in params.items()}, xs, ys)
    ref = floor(params, xs, ys)
    backends: dict[str, Step] = {"floor": lambda: floor(params, xs, ys)}
    if use_torch:
        unrolled, fused = torch_unrolled(cell, params), torch_nn(cell, params)
        backends["torch unrolled"] = lambda: unrolled(xs, ys)
        backends["torch nn"] = lambda: fused(xs, ys)
    for name, fn in backends.items():  # every backend must agree with the floor before it is timed
        check(name, fn(), ref)
    notes = []
    model, note = micrornn_model(cell, hidden, params)
    if note:
        notes.append(note)
    else:
        try:
            check("micrornn", micrornn_step(model, xs, ys), ref)
        except Exception as e:
            if cell == "rnn":
                raise
            # a cell that is still being built: say what went wrong and time the others
            notes.append(f"micrornn {cell} row skipped: {type(e).__name__}: {e}")
        else:
            backends["micrornn"] = lambda: micrornn_step(model, xs, ys)
            check("micrornn reference", micrornn_step(model, xs, ys, reference=True), ref)
            backends["reference"] = lambda: micrornn_step(model, xs, ys, reference=True)
            if cell == "rnn":
                check("micrornn, graph by hand", rnn_by_hand(model, xs, ys), ref)
                backends["by hand"] = lambda: rnn_by_hand(model, xs, ys)
            try:
                if not graph_size(model, xs, ys, copies=False) < graph_size(model, xs, ys, copies=True):
                    raise CopiesSwitchUnavailable("switching the copies off left the graph's size unchanged")
                check("micrornn without copies", micrornn_step(model, xs, ys, copies=False), ref)
                backends["no copies"] = lambda: micrornn_step(model, xs, ys, copies=False)
            except (CopiesSwitchUnavailable, AssertionError) as e:
                notes.append(f"{cell}: copies not switched off: {e}")
    # samples of 5 back-to-back steps (the steady state of a training loop, not a cold first call), each
    # after one untimed step of its own (settle): the backends' samples are interleaved so that they share
    # the machine's load, and without it a sample's first step paid for the caches the backend before it
    # left behind — whichever that was (micrornn followed the floor or nn.RNN: +2-5% on the copies cost)
    return {"times": median_times(backends, repeats, warmup=3, number=5, settle=1), "notes": notes}


# -- the long unroll: peak memory (one fresh process per backend), then time (the backends together) -------------
LONG_BACKENDS = ("floor", "micrornn", "no copies")


def _proc_mb(path: str, field: str) -> float:
    """A ``field: N kB`` line of a /proc file in MB (the kernel's kB are 1024 bytes; MB are 10^6 bytes)."""
    with open(path) as f:
        return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024 / 1e6


def long_unroll(steps: int, hidden: int) -> dict[str, Step]:
    """The step function of every backend for the long unroll: hidden ``hidden``, batch 1, token ids."""
    # the unroller refuses graphs estimated above its memory budget (2 GiB by default): this table is
    # there to measure that memory; the parent has checked that the machine has it
    os.environ["MICRORNN_MEMORY_BUDGET"] = "inf"
    rng = np.random.default_rng(0)
    params = init_params("rnn", VOCAB, hidden, rng)
    xs = rng.integers(0, VOCAB, size=steps)
    ys = rng.integers(0, VOCAB, size=steps)
    model, note = micrornn_model("rnn", hidden, params)
    if note:
        raise RuntimeError(note)
    return {"floor": lambda: FLOORS["rnn"](params, xs, ys), "micrornn": lambda: micrornn_step(model, xs, ys),
            "no copies": lambda: micrornn_step(model, xs, ys, copies=False)}


def measure_peak(backend: str, steps: int, hidden: int) -> dict:
    """Peak RSS above the resting process during one forward+backward.

    The kernel's high-water mark (VmHWM) is reset right before the step (``/proc/self/clear_refs``),
    so the peak is this step's alone (nothing ran before it that could leave its memory mapped).
    """
    step = long_unroll(steps, hidden)[backend]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    rest = _proc_mb("/proc/self/status", "VmRSS")
    step()
    return {"peak_mb": _proc_mb("/proc/self/status", "VmHWM") - rest}


def measure_long(backends: list[str], steps: int, hidden: int, repeats: int) -> dict:
    """Median seconds of each backend (samples interleaved), after checking their gradients against the floor's."""
    every = long_unroll(steps, hidden)
    fns, ref = {name: every[name] for name in backends}, every["floor"]()
    for name, fn in fns.items():  # the check is the warm-up
        check(f"T = {steps} {name}", fn(), ref)
    return median_times(fns, repeats, warmup=0)


def _available_mb() -> float:
    return _proc_mb("/proc/meminfo", "MemAvailable")


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_table(hidden: int = 256, lengths: tuple[tuple[int, int], ...] = ((1_000, 5), (10_000, 3))
                 ) -> tuple[str, dict]:
    """The long-unroll table and its results by (T, backend); ``lengths`` are (T, timing repeats), each T
    ten times the one before (the next T's memory is estimated from the last before it runs)."""
    measured = {}
    rows = [["T", "backend", "peak memory (MB)", "median time (s)", "time/floor"]]
    notes, estimate = [], {}
    for steps, repeats in lengths:
        peaks = {}
        for backend in LONG_BACKENDS:
            if backend in estimate and estimate[backend] * 1.25 + 500 > _available_mb():
                notes.append(f"T = {steps:,} {backend} skipped: expected peak ~{estimate[backend]:,.0f} MB, "
                             f"{_available_mb():,.0f} MB available")
                continue
            peaks[backend] = _child("--peak-one", backend, str(steps), str(hidden))["peak_mb"]
            estimate[backend] = 10 * peaks[backend]  # the graph grows linearly in T
        times = _child("--long-one", ",".join(peaks), str(steps), str(hidden), str(repeats))
        for backend, peak in peaks.items():
            ratio = times[backend] / times["floor"]
            measured[steps, backend] = {"peak_mb": peak, "ratio": ratio}
            rows.append([f"{steps:,}", backend, f"{peak:,.1f}", f"{times[backend]:.3f}", f"{ratio:.2f}x"])
    head = (f"many_to_many forward+backward, hidden {hidden}, batch 1, vocab {VOCAB}, token ids, one thread. Peak = "
            "RSS high-water above the resting process (MB = 10^6 bytes), one fresh process per backend; times: "
            "medians, the backends in one process, samples interleaved, gradients checked equal first")
    return "\n".join([head, table(rows), *notes]), measured


# -- the report ----------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="hidden 100 batch 1 only, fewer repeats")
    parser.add_argument("--memory", action="store_true", help="also peak memory and time at T = 1,000 and 10,000")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    parser.add_argument("--one", nargs=4, metavar=("CELL", "HIDDEN", "BATCH", "REPEATS"), help=argparse.SUPPRESS)
    parser.add_argument("--peak-one", nargs=3, metavar=("BACKEND", "T", "HIDDEN"), help=argparse.SUPPRESS)
    parser.add_argument("--long-one", nargs=4, metavar=("BACKENDS", "T", "HIDDEN", "REPEATS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    # child processes of the long unroll: results as JSON on stdout
    if args.peak_one:
        backend, steps, hidden = args.peak_one
        print(json.dumps(measure_peak(backend, int(steps), int(hidden))))
        return
    if args.long_one:
        backends, steps, hidden, repeats = args.long_one
        print(json.dumps(measure_long(backends.split(","), int(steps), int(hidden), int(repeats))))
        return
    use_torch = not args.no_torch and load_torch()
    if args.one:  # a child process: one configuration, results as JSON on stdout
        cell, *sizes = args.one
        print(json.dumps(measure(cell, *map(int, sizes), use_torch)))
        return
    rnn = [("rnn", 100, 1)] if args.quick else [("rnn", 32, 1), ("rnn", 100, 1), ("rnn", 256, 1), ("rnn", 100, 32)]
    configs = [*rnn, ("lstm", 100, 1), ("gru", 100, 1)]
    repeats = 5 if args.quick else 15
    rows = [["cell", "hidden", "batch", "floor (ms)", "micrornn (ms)", "micrornn/floor", "no copies/floor",
             "copies cost", "reference/fast", "by hand/floor", "torch unrolled/floor", "torch nn/floor"]]
    notes, results = [], {}
    for cell, hidden, batch in configs:
        # each configuration in a fresh interpreter: the heap state one leaves behind (glibc's trim and
        # mmap thresholds) would otherwise change the next one's timings by up to 2x
        no_torch = [] if use_torch else ["--no-torch"]
        result = _child("--one", cell, str(hidden), str(batch), str(repeats), *no_torch)
        results[cell, hidden, batch] = times = result["times"]
        notes += result["notes"]
        floor = times["floor"]

        def ratio(name: str, over: float = floor) -> str:
            return f"{times[name] / over:.2f}x" if name in times else "n/a"

        rows.append([cell, str(hidden), str(batch), f"{floor * 1e3:.3f}",
                     f"{times['micrornn'] * 1e3:.3f}" if "micrornn" in times else "n/a",
                     ratio("micrornn"), ratio("no copies"),
                     ratio("micrornn", times["no copies"]) if "no copies" in times else "n/a",
                     ratio("reference", times["micrornn"]) if "micrornn" in times else "n/a",
                     ratio("by hand"), ratio("torch unrolled"), ratio("torch nn")])
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end of the timings (above the "
          "core count the numbers are noisy)")
    print(f"many_to_many forward+backward, vocab {VOCAB}, T = {T}, token ids, one thread; medians, ratios from "
          f"the same process{'' if use_torch else ' (PyTorch not used: pip install torch==2.13.0)'}")
    print("copies cost = micrornn / the same graph with its per-step copies switched off; reference/fast = the "
          "reading path (with mr.fast.off()) over the default fast tricks; by hand = the RNN's "
          "graph built from the engine's ops directly, without the Unrolled record; torch nn = nn.RNN, nn.LSTM or "
          "nn.GRU")
    print(table(rows))
    for note in dict.fromkeys(notes):
        print(f"note: {note}")
    memory = {}
    if args.memory:
        text, memory = memory_table()
        print()
        print(text)
    print()
    print(targets(results, memory))


def targets(results: dict, memory: dict) -> str:
    """The targets of issues [H] and [G], each with this run's number: met, MISSED, or not measured."""
    lines = ["targets (issues [H], [G]; medians of this run):"]

    def add(what: str, value: float | None, bound: float, unit: str = "x") -> None:
        if value is None:
            lines.append(f"  {what} <= {bound:g}{unit}: not measured in this run")
        else:
            lines.append(f"  {what} <= {bound:g}{unit}: {value:,.2f}{unit}  {'met' if value <= bound else 'MISSED'}")

    def ratio(key: tuple, name: str, over: str = "floor") -> float | None:
        times = results.get(key, {})
        return times[name] / times[over] if name in times and over in times else None

    for key in results:
        cell, hidden, batch = key
        name = f"{cell} hidden {hidden} batch {batch}"
        add(f"{name}: copies cost", ratio(key, "micrornn", "no copies"), 1.1)
        add(f"{name}: micrornn/floor", ratio(key, "micrornn"), 1.5 if cell == "rnn" else 2.0)
        # faster than PyTorch: [H] asks it of the RNN at hidden 100 batch 1, [G] of the LSTM's unrolled ops
        if key == ("rnn", 100, 1):
            faster_than = ("torch unrolled", "torch nn")
        else:
            faster_than = () if cell == "rnn" else ("torch unrolled",)
        for torch_row in faster_than:
            add(f"{name}: micrornn/{torch_row}", ratio(key, "micrornn", torch_row), 1.0)
    long = memory.get((10_000, "micrornn"))
    add("T = 10,000 hidden 256: micrornn peak memory", long and long["peak_mb"], 500, " MB")
    add("T = 10,000 hidden 256: micrornn/floor", long and long["ratio"], 2.0)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
