# %% [markdown]
# # 1. The engine: one number per node, one local derivative per edge
#
# Every operation records its inputs and the *local derivative* of its output with respect to each
# input, ∂out/∂in. Backpropagation multiplies those factors along every path from the loss back to a
# leaf and adds the paths up — the chain rule, one node at a time. Here we do it by hand and let the
# engine do it, for `L = tanh(w·x + b)²`.

# %%
import math
from pathlib import Path

import micrornn as mr
from micrornn import viz
from micrornn.tour import Report, save


def main(out_dir: Path, quick: bool = False) -> Report:
    # — the forward pass, every intermediate named
    w, x, b = mr.Value(0.8, label="w"), mr.Value(1.5, label="x"), mr.Value(-0.3, label="b")
    z = w * x + b
    z.label = "z"
    h = z.tanh()
    h.label = "h"
    L = h**2
    L.label = "L"
    L.backward()

    # — the same gradients by hand: dL/dh = 2h, dh/dz = 1 − h², dz/dw = x, dz/dx = w, dz/db = 1
    hv = math.tanh(0.8 * 1.5 - 0.3)
    dL_dz = 2 * hv * (1 - hv**2)
    by_hand = {"w": dL_dz * 1.5, "x": dL_dz * 0.8, "b": dL_dz}
    engine = {"w": w.grad, "x": x.grad, "b": b.grad}
    print(f"{'':4}{'by hand':>14}{'engine':>14}")
    for k in by_hand:
        print(f"{k:4}{by_hand[k]:14.10f}{engine[k]:14.10f}")

    # The picture: each box holds label | data | grad; each edge carries ∂out/∂in. Multiply along a
    # path and you get that path's share of the gradient.
    pic = save(viz.draw(L, view="ops"), out_dir / "value_graph.svg")
    return Report(
        title="1. The engine: local derivatives on every edge",
        look="the edge labels are ∂out/∂in; multiplying them from L back to w gives dL/dw = 2h·(1−h²)·x",
        numbers={"dL/dw (engine)": w.grad, "dL/dw (by hand)": by_hand["w"],
                 "max |engine − hand|": max(abs(engine[k] - by_hand[k]) for k in by_hand)},
        figures=[(pic, "L = tanh(w·x + b)²: data, grad and the local derivative on each edge")],
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/01_value_engine")).print()
