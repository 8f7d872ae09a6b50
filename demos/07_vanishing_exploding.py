# %% [markdown]
# # 7. The problem of BPTT: vanishing and exploding gradients
#
# Going back one step multiplies the gradient by `∂H_t/∂H_{t-1} = f'(·) W^H`. In the univariate
# linear RNN (f = identity, one hidden unit) that factor is just w, so k steps back the gradient is
# `w^k` times the last one: 1.1^50 ≈ 117.39 explodes, 0.9^50 ≈ 0.00515 vanishes. Here backprop
# computes it — no formula. For a matrix W^H the spectral radius plays the role of |w|.

# %%
from pathlib import Path

import numpy as np

import micrornn as mr
from micrornn import data, optim, plots, unroll, viz
from micrornn.nn import RNN
from micrornn.tour import Report, save


def univariate(w: float, T: int, scalar: bool = False) -> unroll.Unrolled:
    """H_t = w H_{t-1} + X_t (identity f), loss at the last step only."""
    rnn = RNN(1, 1, 1, activation="identity", seed=0)
    rnn.W_h.data[...] = w
    rnn.W_x.data[...] = 1.0
    rnn.b.data[...] = 0.0
    rnn.W_o.data[...] = 1.0
    u = unroll.many_to_one(rnn, np.full((T, 1), 0.1), np.zeros(1), scalar=scalar)
    u.backward()
    return u


def back(u: unroll.Unrolled, k: int) -> float:
    """dL/dH_{T-k} / dL/dH_T, both from backprop."""
    return float(unroll.grad_of(u.H[-1 - k]).item() / unroll.grad_of(u.H[-1]).item())


def adding(T: int, seed: int, n: int, iters: int) -> tuple[float, float]:
    """Train on the adding problem; return the test MSE and the weight the prediction puts on the
    *first* marked number (1 = uses it fully, 0 = ignores it), from a least-squares fit."""
    xs, ys = data.adding_problem(n, T=T, seed=seed)
    xt, yt = data.adding_problem(512, T=T, seed=100 + seed)
    rnn = RNN(2, 16, 1, seed=seed)
    opt = optim.Adam(rnn.parameters(), lr=0.01)
    for _ in range(iters):
        rnn.zero_grad()
        unroll.many_to_one(rnn, xs, ys).backward()
        optim.clip_grad_norm_(rnn.parameters(), 1.0)
        opt.step()
    with mr.no_grad():
        pred = unroll.many_to_one(rnn, xt, yt).O[-1].data[:, 0]
    marks, cols = xt[:, :, 1], np.arange(xt.shape[1])
    first, second = marks.argmax(0), T - 1 - marks[::-1].argmax(0)
    fit = np.stack([xt[first, cols, 0], xt[second, cols, 0], np.ones(len(cols))], axis=1)
    weight_first = np.linalg.lstsq(fit, pred, rcond=None)[0][0]
    return float(((pred - yt[:, 0]) ** 2).mean()), float(weight_first)


def main(out_dir: Path, quick: bool = False) -> Report:
    # — 50 steps back, by backprop
    numbers = {}
    for w in (1.1, 0.9):
        numbers[f"w = {w}: dL/dH_(T-50) / dL/dH_T"] = back(univariate(w, 51), 50)
        numbers[f"w = {w}: 65 steps back"] = back(univariate(w, 66), 65)
    for k, v in numbers.items():
        print(f"{k:34} {v:.6g}")

    # — the heat picture: the colour fades step by step as the gradient vanishes
    vanish = univariate(0.5, 8, scalar=True)
    heat = save(viz.draw(vanish), out_dir / "vanishing_heat.svg")
    explode = univariate(1.5, 8, scalar=True)
    heat2 = save(viz.draw(explode), out_dir / "exploding_heat.svg")
    flow = {f"w = {w}": univariate(w, 30) for w in (1.1, 1.0, 0.9)}
    flow_fig = save(plots.gradient_flow(flow), out_dir / "gradient_flow.png")

    # — the eigenvalue criterion: sweep the spectral radius of an 8×8 W^H
    radii = np.linspace(0.6, 1.4, 9 if quick else 17)
    sweep = save(plots.spectral_sweep(radii, T=30), out_dir / "spectral_sweep.png")

    # — the adding problem: the gap to the first marked number grows with T
    gaps, seeds = ((5, 20), (0,)) if quick else ((5, 10, 20, 40), (0, 1))
    for T in gaps:
        runs = [adding(T, s, 128 if quick else 512, 120 if quick else 300) for s in seeds]
        mse, weight = float(np.mean([r[0] for r in runs])), float(np.mean([r[1] for r in runs]))
        print(f"adding problem, T = {T:3}: weight on the distant number {weight:.2f}, test MSE {mse:.4f}")
        numbers[f"adding problem T = {T}: weight on the first (distant) number"] = weight
        numbers[f"adding problem T = {T}: test MSE (mean-only 0.167)"] = mse
    return Report(
        title="7. Vanishing and exploding gradients",
        look="each H_{t-1} → H_t edge of the univariate picture carries the factor f'·w; their product over 50 "
             "steps is 1.1^50 ≈ 117.39 or 0.9^50 ≈ 0.00515",
        numbers=numbers,
        figures=[(heat, "w = 0.5: the gradient fades step by step (colour = log10 |grad|)"),
                 (heat2, "w = 1.5: the gradient grows going back"),
                 (flow_fig, "‖dL/dH_t‖ against t for w = 1.1, 1.0, 0.9"),
                 (sweep, "gradient 29 steps back against the spectral radius of W^H")],
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/07_vanishing_exploding")).print()
