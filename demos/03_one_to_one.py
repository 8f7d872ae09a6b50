# %% [markdown]
# # 3. One-to-one: an MLP, no W^H
#
# `H_1 = f(W^X X + b)`, `O = W^O H_1 + b^O`, one loss. The notes' formulas
# `dL/dH_1 = (W^O)ᵀ dL/dO` and `dL/dW^O = dL/dO · H_1ᵀ` are checked against backprop.

# %%
from pathlib import Path

import numpy as np

from micrornn import unroll, viz
from micrornn.nn import RNN
from micrornn.tour import Report, save


def main(out_dir: Path, quick: bool = False) -> Report:
    rnn = RNN(input_size=3, hidden_size=4, output_size=2, seed=0)
    x = np.array([0.5, -1.0, 2.0])
    u = unroll.one_to_one(rnn, x, np.array([1.0, 0.0]))  # float target: mean squared error
    u.backward()
    H, O = u.H[0], u.O[0]

    # — the formulas of the notes, against the engine
    dL_dH = rnn.W_o.data.T @ O.grad
    dL_dWo = np.outer(O.grad, H.data)
    err_H = float(np.abs(dL_dH - H.grad).max())
    err_Wo = float(np.abs(dL_dWo - rnn.W_o.grad).max())
    print("dL/dH_1 engine ", np.round(H.grad, 6), "\n        formula", np.round(dL_dH, 6))
    print(f"max error: dL/dH_1 {err_H:.1e}, dL/dW^O {err_Wo:.1e}")

    pic = save(viz.draw(u), out_dir / "one_to_one.svg")
    ops = save(viz.draw(u, view="ops"), out_dir / "one_to_one_ops.svg")
    return Report(
        title="3. One-to-one: the MLP case",
        look="no W^H anywhere; dL/dH_1 = (W^O)ᵀ dL/dO and dL/dW^O = dL/dO H_1ᵀ hold to rounding",
        numbers={"max |dL/dH_1 − (W^O)ᵀ dL/dO|": err_H, "max |dL/dW^O − dL/dO H_1ᵀ|": err_Wo,
                 "copies of W^H": len(u.copies["W_h"])},
        figures=[(pic, "one-to-one, coarse: X → H_1 → O → L"), (ops, "the same graph with every op")],
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/03_one_to_one")).print()
