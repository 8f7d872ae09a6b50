# %% [markdown]
# # 9. BPTT worked by hand, T = 3
#
# A univariate RNN, one number per weight ($W^H = w$, $W^X = u$, $W^O = v$):
#
# $$H_t = \tanh\left(w H_{t-1} + u X_t + b\right), \qquad O_3 = v H_3, \qquad L = (O_3 - y)^2$$
#
# Backward, each step back multiplies by $f'(\cdot)\,w$:
#
# $$\frac{\delta L}{\delta H_{t}} = \frac{\delta L}{\delta H_{t+1}} \left(1 - H_{t+1}^2\right) w, \qquad
#   \frac{\delta L}{\delta W^{H}} = \frac{\delta L}{\delta W_{2}^{H}} + \frac{\delta L}{\delta W_{3}^{H}}$$
#
# Every forward and backward number is printed in the order it is computed, the hand formula beside the
# engine's value. Then the backward stepper: the same graph, one time step per frame.

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/09_bptt_worked_example"))
report = Report("9. A worked BPTT example, T = 3", OUT)

# %% [markdown]
# ## Setting the weights by hand, and the graph built from Values (`scalar=True`)

# %%
import math

import numpy as np

from micrornn import unroll, viz
from micrornn.nn import RNN
from micrornn.stepper import Stepper

w, u, b, v, y = 0.7, 1.2, 0.1, 1.5, 0.5
X = [1.0, -0.5, 0.8]
rnn = RNN(1, 1, 1, activation="tanh", seed=0)
for p, value in ((rnn.W_h, w), (rnn.W_x, u), (rnn.b, b), (rnn.W_o, v), (rnn.b_o, 0.0)):
    p.data[...] = value
g = unroll.many_to_one(rnn, np.array(X)[:, None], np.array([y]), scalar=True)
g.backward()
H = [h.item() for h in g.H]  # the Value nodes H_1, H_2, H_3

# %% [markdown]
# ## Forward, by hand

# %%
rows = []
h_prev, hs = None, []
for t, x in enumerate(X, start=1):
    z = u * x + b + (w * h_prev if h_prev is not None else 0.0)
    hs.append(math.tanh(z))
    rows.append((f"H_{t} = tanh({'w H_' + str(t - 1) + ' + ' if t > 1 else ''}u X_{t} + b)", hs[-1], H[t - 1].data))
    h_prev = hs[-1]
o = v * hs[-1]
rows.append(("O_3 = v H_3", o, g.O[-1].item().data))
rows.append(("L = (O_3 − y)²", (o - y) ** 2, g.loss.data))

# %% [markdown]
# ## Backward, by hand: each $\frac{\delta L}{\delta H_t}$ is the next one times $f'(\cdot)\,w$

# %%
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
    rows.append((f"  share of step {t}: dL/dW^H_{t}", part, g.copies["W_h"][t - 2].item().grad))
rows.append(("dL/dW^X = Σ_t dL/dz_t · X_t", sum(dz[t] * X[t] for t in range(3)), float(rnn.W_x.grad.item())))
width = max(len(r[0]) for r in rows)
print(f"{'quantity':{width}}  {'by hand':>12}  {'engine':>12}")
for name, hand, engine in rows:
    print(f"{name:{width}}  {hand:12.8f}  {engine:12.8f}")
worst = max(abs(h - e) for _, h, e in rows)

# %% [markdown]
# ## The whole worked example, every number on the picture

# %%
report.show(viz.draw(g), "worked_example.svg", "the whole worked example, with every number")

# %% [markdown]
# ## The backward stepper: gradients arrive at t = 3, then 2, then 1

# %%
steps = Stepper(viz.backward_frames(g), title="BPTT, one time step at a time (T = 3)")
stepper = report.link(steps.save(OUT / "bptt_stepper.html"), "the backward stepper (← → keys)")
print(f"open {stepper.resolve()}")
steps  # in Jupyter the stepper itself, inline: buttons, ← → keys and a slider

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = "open the stepper: gradients arrive at t = 3, then 2, then 1; W^H's Σ grows one copy at a time"
report.numbers = {"max |hand − engine| over all quantities": worst, "dL/dW^H": float(rnn.W_h.grad.item()),
                  "dL/dH_1": H[0].grad}
report
