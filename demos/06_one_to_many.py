# %% [markdown]
# # 6. One-to-many: a melody from one vector
#
# One input — a class vector (which shape: rising, falling, bouncing; which key) — and a note
# out at every step. After step 1 the input is zero, so everything must travel through W^H.

# %%
from pathlib import Path

import numpy as np

import micrornn as mr
from micrornn import data, optim, plots, unroll, viz
from micrornn.nn import RNN
from micrornn.tour import Report, save


def main(out_dir: Path, quick: bool = False) -> Report:
    x, notes, shapes = data.melodies(48, seed=0)
    rnn = RNN(x.shape[1], 24, data.N_NOTES + data.N_KEYS, seed=0)
    opt = optim.Adam(rnn.parameters(), lr=0.03)
    losses = []
    for _ in range(80 if quick else 200):
        rnn.zero_grad()
        u = unroll.one_to_many(rnn, x, notes)
        u.backward()
        opt.step()
        losses.append(u.loss.item())
    with mr.no_grad():
        u = unroll.one_to_many(rnn, x, notes)
    played = np.stack([o.data.argmax(-1) for o in u.O])
    acc = float((played == notes).mean())
    lines = []
    for k, name in enumerate(shapes):
        for key in range(data.N_KEYS):
            vec = np.zeros(x.shape[1])
            vec[k] = vec[len(shapes) + key] = 1.0
            with mr.no_grad():
                out = unroll.one_to_many(rnn, vec, notes[:, 0]).O
            lines.append(f"{name:8} key {key}: {' '.join(str(int(o.data.argmax())) for o in out)}")
    print("\n".join(lines))
    one = unroll.one_to_many(rnn, x[0], notes[:, 0])
    rnn.zero_grad()
    one.backward()
    pic = save(viz.draw(one), out_dir / "one_to_many.svg")
    curve = save(plots.training_curves({"loss": losses}, "One-to-many: melodies"), out_dir / "loss.png")
    return Report(
        title="6. One-to-many: melodies from a class vector",
        look="only step 1 has an input (one W^X copy); W^H carries the melody through the other steps",
        numbers={"notes right": acc, "melodies": " | ".join(lines[::data.N_KEYS])},
        figures=[(pic, "one vector in, six notes out"), (curve, "training loss")],
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/06_one_to_many")).print()
