# %% [markdown]
# # 1. The engine: one number per node, one local derivative per edge
#
# Each operation keeps its inputs and the local derivative $\frac{\delta\,out}{\delta\,in}$ of each edge.
# Backprop multiplies those factors along every path from the loss to a leaf and adds the paths up.
# Our expression: $L = \tanh(w x + b)^2$, so by the chain rule
#
# $$\frac{\delta L}{\delta w} = \frac{\delta L}{\delta h}\,\frac{\delta h}{\delta z}\,\frac{\delta z}{\delta w}
#   = 2h \cdot (1 - h^2) \cdot x, \qquad z = w x + b,\ h = \tanh z$$

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/01_value_engine"))
report = Report("1. The engine: local derivatives on every edge", OUT)

# %% [markdown]
# ## Forward and backward: every intermediate is a labelled node

# %%
import math

import micrornn as mr
from micrornn import viz

w, x, b = mr.Value(0.8, label="w"), mr.Value(1.5, label="x"), mr.Value(-0.3, label="b")
z = w * x + b
z.label = "z"
h = z.tanh()
h.label = "h"
L = h**2
L.label = "L"
L.backward()
print(f"L = {L.data:.6f};  dL/dw = {w.grad:.6f}, dL/dx = {x.grad:.6f}, dL/db = {b.grad:.6f}")

# %% [markdown]
# ## The same gradients by hand
#
# $\frac{\delta L}{\delta h} = 2h$, $\frac{\delta h}{\delta z} = 1 - h^2$,
# $\frac{\delta z}{\delta w} = x$, $\frac{\delta z}{\delta x} = w$, $\frac{\delta z}{\delta b} = 1$

# %%
hv = math.tanh(0.8 * 1.5 - 0.3)
dL_dz = 2 * hv * (1 - hv**2)
by_hand = {"w": dL_dz * 1.5, "x": dL_dz * 0.8, "b": dL_dz}
engine = {"w": w.grad, "x": x.grad, "b": b.grad}
print(f"{'':4}{'by hand':>14}{'engine':>14}")
for k in by_hand:
    print(f"{k:4}{by_hand[k]:14.10f}{engine[k]:14.10f}")

# %% [markdown]
# ## The picture
#
# Each box holds label | data | grad; each edge carries $\frac{\delta\,out}{\delta\,in}$. The product of the
# edge factors from $L$ back to $w$ is $\frac{\delta L}{\delta w}$.

# %%
report.show(viz.draw(L, view="ops"), "value_graph.svg",
            "L = tanh(w·x + b)²: data, grad and the local derivative on each edge")

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = "the edge labels are ∂out/∂in; multiplying them from L back to w gives dL/dw = 2h·(1−h²)·x"
report.numbers = {"dL/dw (engine)": w.grad, "dL/dw (by hand)": by_hand["w"],
                  "max |engine − hand|": max(abs(engine[k] - by_hand[k]) for k in by_hand)}
report
