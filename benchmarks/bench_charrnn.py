"""Char-RNN benchmark: one many-to-many forward + backward with token-id inputs (min-char-rnn sizes).

References in this same process: a hand-derived numpy BPTT over the same ops (the floor) and, when
installed, PyTorch CPU — explicit unrolled ops under autograd, and ``nn.RNN``. Everything runs on one
thread. Gradients of all backends are checked equal before anything is timed.

    python benchmarks/bench_charrnn.py [--quick]
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # single-threaded, before numpy loads
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import median_time, table  # noqa: E402

from micrornn import unroll as U  # noqa: E402
from micrornn.nn import RNN  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # optional reference
    torch = None

VOCAB, T = 65, 25


# -- the floor: min-char-rnn's BPTT, derived by hand, in numpy ---------------------------------------------
def numpy_bptt(params: dict[str, np.ndarray], xs: np.ndarray, ys: np.ndarray) -> tuple[float, dict]:
    W_h, W_x, b, W_o, b_o = (params[k] for k in ("W_h", "W_x", "b", "W_o", "b_o"))
    batched = xs.ndim == 2
    B = xs.shape[1] if batched else 1
    rows = np.arange(B) if batched else ()
    hs, ps, loss = {}, {}, 0.0
    h = None
    for t in range(len(xs)):
        z = W_x[:, xs[t]].T + b
        if h is not None:
            z += h @ W_h.T
        hs[t] = h = np.tanh(z)
        o = h @ W_o.T + b_o
        e = np.exp(o - o.max(-1, keepdims=True))
        ps[t] = p = e / e.sum(-1, keepdims=True)
        loss -= np.log(p[rows, ys[t]] if batched else p[ys[t]]).mean()
    g = {k: np.zeros_like(v) for k, v in params.items()}
    dh_next = 0.0
    for t in reversed(range(len(xs))):
        do = ps[t].copy()
        if batched:
            do[rows, ys[t]] -= 1.0
            do /= B
        else:
            do[ys[t]] -= 1.0
        h = hs[t]
        g["W_o"] += do.T @ h if batched else np.outer(do, h)
        g["b_o"] += do.sum(0) if batched else do
        dz = (1.0 - h * h) * (do @ W_o + dh_next)
        g["b"] += dz.sum(0) if batched else dz
        if batched:
            np.add.at(g["W_x"].T, xs[t], dz)
        else:
            g["W_x"][:, xs[t]] += dz
        if t > 0:
            g["W_h"] += dz.T @ hs[t - 1] if batched else np.outer(dz, hs[t - 1])
            dh_next = dz @ W_h
    return loss, g


def micrornn_step(rnn: RNN, xs: np.ndarray, ys: np.ndarray) -> tuple[float, dict]:
    rnn.zero_grad()
    u = U.many_to_many(rnn, xs, ys)
    u.backward()
    return u.loss.item(), {n: p.grad for n, p in rnn.named_parameters()}


# -- PyTorch, same ops -----------------------------------------------------------------------------------
def torch_params(params: dict[str, np.ndarray]) -> dict:
    return {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}


def torch_unrolled(tp: dict, xs: np.ndarray, ys: np.ndarray) -> tuple[float, dict]:
    for p in tp.values():
        p.grad = None
    xs_t, ys_t = torch.as_tensor(xs), torch.as_tensor(ys)
    h, loss = None, 0.0
    for t in range(len(xs)):
        z = tp["W_x"].T[xs_t[t]] + tp["b"]
        if h is not None:
            z = z + h @ tp["W_h"].T
        h = torch.tanh(z)
        o = h @ tp["W_o"].T + tp["b_o"]
        loss = loss + torch.nn.functional.cross_entropy(o if o.ndim == 2 else o[None], ys_t[t].reshape(-1))
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in tp.items()}


def torch_nn_rnn(params: dict[str, np.ndarray]):
    H = params["W_h"].shape[0]
    cell = torch.nn.RNN(VOCAB, H, nonlinearity="tanh", bias=True).double()
    head = torch.nn.Linear(H, VOCAB).double()
    with torch.no_grad():
        cell.weight_hh_l0.copy_(torch.tensor(params["W_h"]))
        cell.weight_ih_l0.copy_(torch.tensor(params["W_x"]))
        cell.bias_ih_l0.copy_(torch.tensor(params["b"]))
        cell.bias_hh_l0.zero_()
        head.weight.copy_(torch.tensor(params["W_o"]))
        head.bias.copy_(torch.tensor(params["b_o"]))
    eye = torch.eye(VOCAB, dtype=torch.float64)

    def step(xs: np.ndarray, ys: np.ndarray) -> tuple[float, dict]:
        cell.zero_grad()
        head.zero_grad()
        xs_t = torch.as_tensor(xs)
        x = eye[xs_t] if xs.ndim == 2 else eye[xs_t][:, None]  # nn.RNN wants (T, batch, input)
        out, _ = cell(x, torch.zeros(1, x.shape[1], H, dtype=torch.float64))
        logits = head(out)
        ys_t = torch.as_tensor(ys).reshape(len(xs), -1)
        loss = sum(torch.nn.functional.cross_entropy(logits[t], ys_t[t]) for t in range(len(xs)))
        loss.backward()
        grads = {"W_h": cell.weight_hh_l0.grad, "W_x": cell.weight_ih_l0.grad, "b": cell.bias_ih_l0.grad,
                 "W_o": head.weight.grad, "b_o": head.bias.grad}
        return loss.item(), {k: v.numpy() for k, v in grads.items()}

    return step


def measure(hidden: int, batch: int, repeats: int, use_torch: bool) -> dict[str, float]:
    """Median seconds per forward+backward for every backend, after checking that they all agree."""
    rng = np.random.default_rng(0)
    xs = rng.integers(0, VOCAB, size=(T,) if batch == 1 else (T, batch))
    ys = rng.integers(0, VOCAB, size=xs.shape)
    rnn = RNN(VOCAB, hidden, VOCAB, seed=0, token_ids=True)
    params = rnn.state_dict()
    backends = {"floor": lambda: numpy_bptt(params, xs, ys), "micrornn": lambda: micrornn_step(rnn, xs, ys)}
    if use_torch:
        tp = torch_params(params)
        nn_step = torch_nn_rnn(params)
        backends["torch unrolled"] = lambda: torch_unrolled(tp, xs, ys)
        backends["torch nn.RNN"] = lambda: nn_step(xs, ys)
    ref_loss, ref_grads = numpy_bptt(params, xs, ys)
    times = {}
    for name, fn in backends.items():  # each backend must agree with the floor before it is timed
        loss, grads = fn()
        assert abs(loss - ref_loss) <= 1e-9 * abs(ref_loss), (name, loss, ref_loss)
        for k, g in ref_grads.items():
            assert np.allclose(grads[k], g, rtol=1e-7, atol=1e-10), (name, k)
        # samples of 5 back-to-back steps: the steady state of a training loop, not a cold first call
        times[name] = median_time(fn, repeats, warmup=3, number=5)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, hidden 100 only")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    parser.add_argument("--one", nargs=3, type=int, metavar=("HIDDEN", "BATCH", "REPEATS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    use_torch = torch is not None and not args.no_torch
    if args.one:  # a child process: one configuration, results as JSON on stdout
        print(json.dumps(measure(*args.one, use_torch)))
        return
    configs = [(100, 1)] if args.quick else [(32, 1), (100, 1), (256, 1), (100, 32)]
    repeats = 7 if args.quick else 15
    rows = [["hidden", "batch", "numpy floor (ms)", "micrornn (ms)", "micrornn/floor", "torch unrolled/floor",
             "torch nn.RNN/floor"]]
    for hidden, batch in configs:
        # each configuration in a fresh interpreter: the heap state one leaves behind (glibc's trim and
        # mmap thresholds) would otherwise change the next one's timings by up to 2x
        cmd = [sys.executable, __file__, "--one", str(hidden), str(batch), str(repeats)]
        out = subprocess.run(cmd + (["--no-torch"] if not use_torch else []), capture_output=True, text=True,
                             check=True)
        times = json.loads(out.stdout.strip().splitlines()[-1])
        floor = times["floor"]
        rows.append([
            str(hidden), str(batch), f"{floor * 1e3:.3f}", f"{times['micrornn'] * 1e3:.3f}",
            f"{times['micrornn'] / floor:.2f}x",
            *(f"{times[k] / floor:.2f}x" if k in times else "n/a" for k in ("torch unrolled", "torch nn.RNN")),
        ])
    print(f"many_to_many forward+backward, vocab {VOCAB}, T = {T}, token ids, one thread; medians, ratios from "
          f"the same process{'' if use_torch else ' (PyTorch not used: pip install torch==2.13.0)'}")
    print(table(rows))


if __name__ == "__main__":
    main()
