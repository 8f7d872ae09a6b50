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
# ## The cliff: where clipping comes from (Pascanu, Mikolov & Bengio, 2013)
#
# One unit, no input: $x_t = w\,\sigma(x_{t-1}) + b$ with $x_0 = 0.5$, $T = 50$ and the error
# $E = (\sigma(x_{50}) - 0.7)^2$. For $w = 5$ the map has two stable fixed points; as $b$ rises past
# about $-2.612$ the low one disappears, $x_{50}$ jumps to the high one, and $E$ drops off a wall whose
# gradient is in the hundreds. The paper's Algorithm 1 rescales a gradient whose norm is above a
# threshold, $\hat g \leftarrow \frac{threshold}{\|\hat g\|}\hat g$ — the notes' rule, with no $+10^{-6}$
# (PyTorch's `clip_grad_norm_`, and so micrornn's, divides by $\|g\| + 10^{-6}$). Everything below runs on
# the scalar `Value` engine, one graph per point, with the per-step copies $w_t$, $b_t$ of the notes.

# %%
import micrornn as mr
from micrornn import viz


def cliff(w: float, b: float, T: int = 50) -> tuple[mr.Value, mr.Value, mr.Value]:
    """E of the one-unit net and its two weights (leaves), as a Value graph with per-step copies."""
    W, B = mr.Value(w, label="w"), mr.Value(b, label="b")
    x = mr.Value(0.5, label="x_0")
    for t in range(1, T + 1):
        with mr.timestep(t):
            w_t, b_t = W.identity(), B.identity()
            w_t.label, b_t.label = f"w_{t}", f"b_{t}"
            x = w_t * x.sigmoid() + b_t
            x.label = f"H_{t}"
    E = (x.sigmoid() - 0.7) ** 2
    E.label = "L"
    return E, W, B


def gradient(w: float, b: float) -> tuple[float, np.ndarray]:
    E, W, B = cliff(w, b)
    E.backward()
    return E.data, np.array([W.grad, B.grad])


line = [(round(b, 3), *gradient(5.0, b)) for b in np.linspace(-2.7, -2.6, 11)]
print("along w = 5:    b         E        dE/db")
for b, E, g in line:
    print(f"            {b:7.3f}  {E:.5f}  {g[1]:10.4f}")
near = [(b, *gradient(5.0, b)) for b in np.linspace(-2.6125, -2.6115, 11)]
steepest = max(near, key=lambda row: abs(row[2][1]))
print(f"at the wall (b = {steepest[0]:.4f}): |dE/db| = {abs(steepest[2][1]):.1f}")


# %%
def descend(start: tuple[float, float], lr: float, steps: int, threshold: float | None) -> np.ndarray:
    """Gradient descent on (w, b); Algorithm 1's clipping when a threshold is given."""
    theta, path = np.array(start), [np.array(start)]
    for _ in range(steps):
        _, g = gradient(*theta)
        norm = float(np.sqrt(g @ g))
        if threshold is not None and norm >= threshold:
            g = threshold / norm * g
        theta = theta - lr * g
        path.append(theta)
        if not np.all(np.abs(theta) < 1e3):  # thrown off the map
            break
    return np.array(path)


start, lr = (5.0, float(steepest[0])), 0.1  # on the wall, where the gradient is largest
plain_path = descend(start, lr, 8, threshold=None)
clipped_path = descend(start, lr, 8, threshold=1.0)
jumps = np.linalg.norm(np.diff(plain_path, axis=0), axis=1)
clipped_jumps = np.linalg.norm(np.diff(clipped_path, axis=0), axis=1)
print(f"from the wall (w, b) = (5, {start[1]:.4f}), lr {lr}: the plain step moves {jumps[0]:.3g}, to "
      f"({plain_path[1][0]:.3g}, {plain_path[1][1]:.3g}); the clipped one {clipped_jumps[0]:.3g}")

# %%
ws, bs = np.linspace(4.0, 6.0, 161), np.linspace(-3.0, -2.2, 161)
Wg, Bg = np.meshgrid(ws, bs)
X = np.full_like(Wg, 0.5)
for _ in range(50):  # the same recurrence on the whole grid at once (numpy), for the picture only
    X = Wg / (1 + np.exp(-X)) + Bg
surface = (1 / (1 + np.exp(-X)) - 0.7) ** 2
assert abs(surface[80, 80] - gradient(ws[80], bs[80])[0]) < 1e-12  # the grid and the Value graph agree

fig, ax = plt.subplots(figsize=(6.4, 4.4))
shade = ax.pcolormesh(Wg, Bg, surface, shading="auto", cmap="viridis")
fig.colorbar(shade, ax=ax, label="E")
ax.plot(*clipped_path.T, "o-", color="white", ms=3, zorder=3, label="clipped step (threshold 1)")
# the plain step leaves the map: draw it as an arrow from the wall to the map's edge, in its direction
step = plain_path[1] - plain_path[0]
edge = plain_path[0] + step * min((ws[-1] - start[0]) / step[0] if step[0] > 0 else np.inf,
                                  (bs[-1] - start[1]) / step[1] if step[1] > 0 else np.inf, 1.0)
ax.annotate("", xy=edge, xytext=plain_path[0], arrowprops={"arrowstyle": "->", "color": "red", "lw": 1.5})
ax.plot([], [], "-", color="red", label=f"plain step: to ({plain_path[1][0]:.3g}, {plain_path[1][1]:.3g})")
ax.set_xlabel("w")
ax.set_ylabel("b")
ax.set_title("E = (σ(x₅₀) − 0.7)²: the wall near b ≈ −2.61")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
report.show(fig, "cliff.png", "the error surface of the one-unit net over (w, b), its wall, a plain and a clipped "
            "gradient step")
E10 = cliff(5.0, -2.64, T=10)[0]
E10.backward()
report.show(viz.draw(E10), "cliff_T10.svg", "the one-unit net unrolled over T = 10 on the Value engine, with the "
            "per-step copies w_t, b_t")

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = "without clipping the loss goes to inf/NaN within a few steps; with it the same run converges"
report.numbers = {"no clipping: final loss": plain[-1], "no clipping: steps until NaN/inf": len(plain),
                  "clipped: first loss": clipped[0], "clipped: final loss": clipped[-1],
                  "largest gradient norm seen": max(clipped_norms),
                  "cliff: E at w = 5, b = -2.7": line[0][1], "cliff: E at w = 5, b = -2.6": line[-1][1],
                  "cliff: largest |dE/db| at the wall": abs(steepest[2][1]),
                  "cliff: the plain step's move from the wall": jumps[0],
                  "cliff: the clipped step's move from the wall": clipped_jumps[0]}
report
