# %% [markdown]
# # 9. BPTT worked by hand, T = 3
#
# A univariate RNN `H_t = tanh(w H_{t-1} + u X_t + b)`, `O_3 = v H_3`, `L = (O_3 − y)²`, with
# every forward and backward number printed in the order it is computed, the hand formula beside
# the engine's value. Then the backward stepper: the same graph, one time step per frame.

# %%
import math
from pathlib import Path

import numpy as np

from micrornn import unroll, viz
from micrornn.nn import RNN
from micrornn.tour import Report, save

w, u, b, v, y = 0.7, 1.2, 0.1, 1.5, 0.5
X = [1.0, -0.5, 0.8]


def main(out_dir: Path, quick: bool = False) -> Report:
    rnn = RNN(1, 1, 1, activation="tanh", seed=0)
    for p, value in ((rnn.W_h, w), (rnn.W_x, u), (rnn.b, b), (rnn.W_o, v), (rnn.b_o, 0.0)):
        p.data[...] = value
    g = unroll.many_to_one(rnn, np.array(X)[:, None], np.array([y]), scalar=True)
    g.backward()
    H = [h.item() for h in g.H]  # Value nodes H_1..H_3

    # — forward, by hand
    rows = []
    h_prev, hs = None, []
    for t, x in enumerate(X, start=1):
        z = u * x + b + (w * h_prev if h_prev is not None else 0.0)
        hs.append(math.tanh(z))
        rows.append((f"H_{t} = tanh({'w H_' + str(t - 1) + ' + ' if t > 1 else ''}u X_{t} + b)", hs[-1],
                     H[t - 1].data))
        h_prev = hs[-1]
    o = v * hs[-1]
    rows.append(("O_3 = v H_3", o, g.O[-1].item().data))
    rows.append(("L = (O_3 − y)²", (o - y) ** 2, g.loss.data))
    # — backward, by hand: each dL/dH_t is the next one times f'(·)·w
    dO = 2 * (o - y)
    dH = [0.0, 0.0, v * dO]
    for t in (2, 1):
        dH[t - 1] = dH[t] * (1 - hs[t] ** 2) * w
    rows.append(("dL/dO_3 = 2(O_3 − y)", dO, g.O[-1].item().grad))
    for t in (3, 2, 1):
        formula = "v · dL/dO_3" if t == 3 else f"dL/dH_{t + 1} · (1 − H_{t + 1}²) · w"
        rows.append((f"dL/dH_{t} = {formula}", dH[t - 1], H[t - 1].grad))
    dz = [dH[t] * (1 - hs[t] ** 2) for t in range(3)]
    dw_steps = [dz[t] * hs[t - 1] for t in (1, 2)]
    rows.append(("dL/dW^H = Σ_t dL/dz_t · H_{t-1}", sum(dw_steps), float(rnn.W_h.grad.item())))
    for t, part in zip((2, 3), dw_steps):
        copy = g.copies["W_h"][t - 2].item()
        rows.append((f"  share of step {t}: dL/dW^H_{t}", part, copy.grad))
    rows.append(("dL/dW^X = Σ_t dL/dz_t · X_t", sum(dz[t] * X[t] for t in range(3)), float(rnn.W_x.grad.item())))
    width = max(len(r[0]) for r in rows)
    print(f"{'quantity':{width}}  {'by hand':>12}  {'engine':>12}")
    for name, hand, engine in rows:
        print(f"{name:{width}}  {hand:12.8f}  {engine:12.8f}")
    worst = max(abs(h - e) for _, h, e in rows)

    pic = save(viz.draw(g), out_dir / "worked_example.svg")
    stepper = viz.save_stepper(viz.backward_frames(g), out_dir / "bptt_stepper.html",
                               title="BPTT, one time step at a time (T = 3)")
    return Report(
        title="9. A worked BPTT example, T = 3",
        look="open the stepper: gradients arrive at t = 3, then 2, then 1; W^H's Σ grows one copy at a time",
        numbers={"max |hand − engine| over all quantities": worst, "dL/dW^H": float(rnn.W_h.grad.item()),
                 "dL/dH_1": H[0].grad},
        figures=[(pic, "the whole worked example, with every number")],
        links=[(stepper, "the backward stepper (← → keys)")],
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/09_bptt_worked_example")).print()
