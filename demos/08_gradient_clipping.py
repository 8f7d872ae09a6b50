# %% [markdown]
# # 8. Gradient clipping by norm
#
# `if ‖g‖ > μ: g ← μ g / ‖g‖` — the direction stays, the step is bounded. A linear RNN whose W^H has
# spectral radius 1.25 over 30 steps has gradients in the thousands: plain SGD jumps to a loss of
# ~1e212 and then NaN. The same run with `clip_grad_norm_(params, 1.0)` trains.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from micrornn import data, optim, unroll
from micrornn.nn import RNN
from micrornn.tour import Report, save


def run(clip: float | None, iters: int) -> tuple[list[float], list[float]]:
    xs, ys = data.adding_problem(64, T=30, seed=0)
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


def main(out_dir: Path, quick: bool = False) -> Report:
    iters = 60 if quick else 150
    plain, plain_norms = run(None, iters)
    clipped, clipped_norms = run(1.0, iters)
    print(f"no clipping: loss {plain[0]:.4g} → {plain[-1]:.4g} after {len(plain)} steps")
    print(f"clipping μ = 1: loss {clipped[0]:.4g} → {clipped[-1]:.4g}")
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.semilogy(np.minimum(np.nan_to_num(plain, nan=1e30, posinf=1e30), 1e30), "o-", ms=3,
               label="no clipping (inf/NaN drawn at 1e30)")
    a.semilogy(clipped, label="clip_grad_norm_(μ = 1)")
    a.set_title("loss")
    a.set_xlabel("step")
    a.legend()
    b.semilogy(clipped_norms, label="‖g‖ before clipping")
    b.semilogy(np.minimum(clipped_norms, 1.0), label="‖g‖ after clipping")
    b.set_title("gradient norm, clipped run")
    b.set_xlabel("step")
    b.legend()
    fig.tight_layout()
    pic = save(fig, out_dir / "clipping.png")
    return Report(
        title="8. Gradient clipping",
        look="without clipping the loss goes to inf/NaN within a few steps; with it the same run converges",
        numbers={"no clipping: final loss": plain[-1], "no clipping: steps until NaN/inf": len(plain),
                 "clipped: first loss": clipped[0], "clipped: final loss": clipped[-1],
                 "largest gradient norm seen": max(clipped_norms)},
        figures=[(pic, "loss with and without clipping; gradient norms before and after clipping")],
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/08_gradient_clipping")).print()
