# %% [markdown]
# # 7. The problem of BPTT: vanishing and exploding gradients
#
# Going back one step multiplies the gradient by $\frac{\delta H_{t}}{\delta H_{t-1}} = f'(H_t)\,W^H$.
# From step 115 back to step 50:
#
# $$\frac{\delta L}{\delta H_{50}} = \frac{\delta L}{\delta H_{115}} \frac{\delta H_{115}}{\delta H_{114}} \cdots
#   \frac{\delta H_{51}}{\delta H_{50}} = W^{O} f'(H_{115})\, W^{H} f'(H_{114})\, W^{H} \cdots$$
#
# For a univariate net ($W^H$ is one number $w$, $f$ linear) each factor is $w$, so $k$ steps back the
# gradient is $w^k$ times the last one: $w = 1.1$ gives $1.1^{50} \approx 117$, $w = 0.9$ gives
# $0.9^{50} \approx 0.005$. Below, backprop computes these numbers; no formula is used.

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/07_vanishing_exploding"))
report = Report("7. Vanishing and exploding gradients", OUT)

# %%
import numpy as np

import micrornn as mr
from micrornn import data, optim, plots, unroll, viz
from micrornn.nn import RNN


def univariate(w: float, T: int, scalar: bool = False) -> unroll.Unrolled:
    """H_t = w H_{t-1} + X_t (f = identity, one unit), loss at the last step only; backpropagated."""
    rnn = RNN(1, 1, 1, activation="identity", seed=0)
    rnn.W_h.data[...] = w
    rnn.W_x.data[...] = 1.0
    rnn.b.data[...] = 0.0
    rnn.W_o.data[...] = 1.0
    u = unroll.many_to_one(rnn, np.full((T, 1), 0.1), np.zeros(1), scalar=scalar)
    u.backward()
    return u


def back(u: unroll.Unrolled, k: int) -> float:
    """dL/dH_{T-k} / dL/dH_T, both read from the nodes after backprop."""
    return float(unroll.grad_of(u.H[-1 - k]).item() / unroll.grad_of(u.H[-1]).item())


# %% [markdown]
# ## $w = 1.1$ and $w = 0.9$, 50 steps back (and the notes' "65 times")

# %%
numbers = {}
for w in (1.1, 0.9):
    numbers[f"w = {w}: dL/dH_(T-50) / dL/dH_T"] = back(univariate(w, 51), 50)
    numbers[f"w = {w}: 65 steps back"] = back(univariate(w, 66), 65)
for k, v in numbers.items():
    print(f"{k:34} {v:.6g}")

# %% [markdown]
# ## The heat picture, $w = 0.5$: the gradient fades going back
#
# Each $H_{t-1} \to H_t$ edge carries the factor $f' \cdot w$; the colour is $\log_{10}$ of the gradient.

# %%
report.show(viz.draw(univariate(0.5, 8, scalar=True)), "vanishing_heat.svg",
            "w = 0.5: the gradient fades step by step (colour = log10 |grad|)")

# %% [markdown]
# ## $w = 1.5$: the gradient grows going back

# %%
report.show(viz.draw(univariate(1.5, 8, scalar=True)), "exploding_heat.svg", "w = 1.5: the gradient grows going back")

# %% [markdown]
# ## $\|\frac{\delta L}{\delta H_t}\|$ against $t$, 30 steps

# %%
flow = {f"w = {w}": univariate(w, 30) for w in (1.1, 1.0, 0.9)}
report.show(plots.gradient_flow(flow), "gradient_flow.png", "‖dL/dH_t‖ against t for w = 1.1, 1.0, 0.9")

# %% [markdown]
# ## The general case: the largest eigenvalue of $W^H$
#
# Above 1, $\frac{\delta L}{\delta H_{t}}$ is likely to explode going back; below 1, to vanish. An 8×8 $W^H$
# scaled to each spectral radius, 30 steps:

# %%
radii = np.linspace(0.6, 1.4, 9 if QUICK else 17)
report.show(plots.spectral_sweep(radii, T=30), "spectral_sweep.png",
            "gradient 29 steps back against the spectral radius of W^H")

# %% [markdown]
# ## What a vanishing gradient costs: the adding problem
#
# Each sequence holds random numbers and two marks; the target is the sum of the two marked numbers. The
# first mark is early, so the gap to the output grows with $T$. A least-squares fit of the trained net's
# prediction on the two marked numbers tells how much weight it puts on the distant one (1 = all of it).


# %%
def adding(T: int, n: int, iters: int, seed: int = 0) -> tuple[float, float]:
    """Train on the adding problem; return the test MSE and the fitted weight on the first marked number."""
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


for T in (5, 20) if QUICK else (5, 10, 20, 40):
    mse, weight = adding(T, *((128, 120) if QUICK else (256, 200)))
    print(f"adding problem, T = {T:3}: weight on the distant number {weight:.2f}, test MSE {mse:.4f}")
    numbers[f"adding problem T = {T}: weight on the first (distant) number"] = weight
    numbers[f"adding problem T = {T}: test MSE (mean-only 0.167)"] = mse

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = ("each H_{t-1} → H_t edge of the univariate picture carries the factor f'·w; their product over 50 "
               "steps is 1.1^50 ≈ 117.39 or 0.9^50 ≈ 0.00515")
report.numbers = numbers
report
