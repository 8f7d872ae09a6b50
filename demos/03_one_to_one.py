# %% [markdown]
# # 3. One-to-one: an MLP, no $W^H$
#
# One input, one hidden state, one output, one loss:
#
# $$H_1 = f_{act}\left(W^X X + b\right), \qquad O = W^O H_1 + b^O$$
#
# $\frac{\delta L}{\delta O}$ comes straight from $L(O, Y)$; backprop then gives the notes' formulas
#
# $$\frac{\delta L}{\delta H_1} = (W^O)^T \frac{\delta L}{\delta O}, \qquad
#   \frac{\delta L}{\delta W^O} = \frac{\delta L}{\delta O} H_1^T$$

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/03_one_to_one"))
report = Report("3. One-to-one: the MLP case", OUT)

# %%
import numpy as np

from micrornn import unroll, viz
from micrornn.nn import RNN

rnn = RNN(input_size=3, hidden_size=4, output_size=2, seed=0)
x = np.array([0.5, -1.0, 2.0])
u = unroll.one_to_one(rnn, x, np.array([1.0, 0.0]))  # a float target: mean squared error
u.backward()
H, O = u.H[0], u.O[0]
print("copies of W^H:", len(u.copies["W_h"]))

# %% [markdown]
# ## The formulas of the notes against the engine

# %%
dL_dH = rnn.W_o.data.T @ O.grad
dL_dWo = np.outer(O.grad, H.data)
err_H = float(np.abs(dL_dH - H.grad).max())
err_Wo = float(np.abs(dL_dWo - rnn.W_o.grad).max())
print("dL/dH_1 engine ", np.round(H.grad, 6), "\n        formula", np.round(dL_dH, 6))
print(f"max error: dL/dH_1 {err_H:.1e}, dL/dW^O {err_Wo:.1e}")

# %% [markdown]
# ## The picture: X → H_1 → O → L, no recurrent edge

# %%
report.show(viz.draw(u), "one_to_one.svg", "one-to-one, coarse: X → H_1 → O → L")

# %% [markdown]
# ## The same graph with every op

# %%
report.show(viz.draw(u, view="ops"), "one_to_one_ops.svg", "the same graph with every op")

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = "no W^H anywhere; dL/dH_1 = (W^O)ᵀ dL/dO and dL/dW^O = dL/dO H_1ᵀ hold to rounding"
report.numbers = {"max |dL/dH_1 − (W^O)ᵀ dL/dO|": err_H, "max |dL/dW^O − dL/dO H_1ᵀ|": err_Wo,
                  "copies of W^H": len(u.copies["W_h"])}
report
