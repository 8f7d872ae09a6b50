# %% [markdown]
# # 8. Gradient clipping by norm
#
# Rescale the gradient $g = \frac{\delta L}{\delta w}$ so that its norm is at most $\mu$:
#
# $$\|g\| > \mu: \quad g \leftarrow \mu \frac{g}{\|g\|}$$
#
# The direction stays, the step is bounded (the gradient is biased). A linear RNN whose $W^H$ has spectral
# radius 1.25, over 30 steps, has gradients in the thousands: plain SGD overflows. The same run with
# `clip_grad_norm_(params, 1.0)` trains.

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/08_gradient_clipping"))
report = Report("8. Gradient clipping", OUT)

# %%
import matplotlib.pyplot as plt
import numpy as np

from micrornn import data, optim, plots, unroll
from micrornn.nn import RNN

xs, ys = data.adding_problem(64, T=30, seed=0)


def run(clip: float | None, iters: int) -> tuple[list[float], list[float]]:
    """SGD on the adding problem from the same start; returns the losses and the gradient norms."""
    rnn = RNN(2, 16, 1, activation="identity", seed=0)
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(16, 16)))
    rnn.W_h.data[...] = 1.25 * Q  # every eigenvalue has modulus 1.25
    opt = optim.SGD(rnn.parameters(), lr=0.05)
    losses, norms = [], []
    with np.errstate(all="ignore"):  # the unclipped run overflows on purpose
        for _ in range(iters):
            rnn.zero_grad()
            u = unroll.many_to_one(rnn, xs, ys)
            u.backward()
            norm = optim.clip_grad_norm_(rnn.parameters(), clip) if clip else optim.grad_norm(rnn.parameters())
            losses.append(u.loss.item())
            norms.append(norm)
            if not np.isfinite(losses[-1]):
                break
            opt.step()
    return losses, norms


# %% [markdown]
# ## Without clipping

# %%
plain, plain_norms = run(None, 50 if QUICK else 150)
print(f"no clipping: loss {plain[0]:.4g} → {plain[-1]:.4g} after {len(plain)} steps; "
      f"gradient norms {', '.join(f'{g:.3g}' for g in plain_norms)}")

# %% [markdown]
# ## With `clip_grad_norm_`, $\mu = 1$

# %%
clipped, clipped_norms = run(1.0, 50 if QUICK else 150)
print(f"clipping μ = 1: loss {clipped[0]:.4g} → {clipped[-1]:.4g}")

# %%
fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
a.semilogy(np.minimum(np.nan_to_num(plain, nan=1e30, posinf=1e30), 1e30), "o-", ms=3,
           label="no clipping (inf/NaN drawn at 1e30)")
a.semilogy(clipped, label="clip_grad_norm_(μ = 1)")
a.set_title("loss")
a.set_xlabel("step")
a.legend()
b.semilogy(clipped_norms, label="‖g‖ before clipping")
b.semilogy(np.minimum(clipped_norms, 1.0), label="‖g‖ after clipping")
for ax in (a, b):
    plots.powers_of_ten(ax)  # labels 10³ as text, without matplotlib's slower TeX parser
b.set_title("gradient norm, clipped run")
b.set_xlabel("step")
b.legend()
fig.tight_layout()
report.show(fig, "clipping.png", "loss with and without clipping; gradient norms before and after clipping")

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = "without clipping the loss goes to inf/NaN within a few steps; with it the same run converges"
report.numbers = {"no clipping: final loss": plain[-1], "no clipping: steps until NaN/inf": len(plain),
                  "clipped: first loss": clipped[0], "clipped: final loss": clipped[-1],
                  "largest gradient norm seen": max(clipped_norms)}
report
