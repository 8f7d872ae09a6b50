# %% [markdown]
# # 6. One-to-many: a melody from one vector
#
# One input $I \in \mathbb{R}^{D_I}$ — a class vector: which shape (rising, falling, bouncing) and which key —
# and a note out at every step, $O \in \mathbb{R}^{T \times D_O}$. After step 1 the input is zero, so
#
# $$H_1 = f_{act}\left(W^X I + b\right), \qquad H_t = f_{act}\left(W^H H_{t-1} + b\right) \quad (t > 1)$$
#
# and the whole melody has to travel through $W^H$.

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/06_one_to_many"))
report = Report("6. One-to-many: melodies from a class vector", OUT)

# %%
import numpy as np

import micrornn as mr
from micrornn import data, optim, plots, unroll, viz
from micrornn.nn import RNN

x, notes, shapes = data.melodies(48, seed=0)  # x: (batch, classes), notes: (T, batch) note ids
rnn = RNN(x.shape[1], 24, data.N_NOTES + data.N_KEYS, seed=0)
print(f"{x.shape[0]} melodies of {notes.shape[0]} notes; shapes: {', '.join(shapes)}; {data.N_KEYS} keys")

# %% [markdown]
# ## Training (Adam), $L = L_1 + \cdots + L_T$

# %%
opt = optim.Adam(rnn.parameters(), lr=0.03)
losses = []
for _ in range(80 if QUICK else 200):
    rnn.zero_grad()
    u = unroll.one_to_many(rnn, x, notes)
    u.backward()
    opt.step()
    losses.append(u.loss.item())
with mr.no_grad():
    played = np.stack([o.data.argmax(-1) for o in unroll.one_to_many(rnn, x, notes).O])
notes_right = float((played == notes).mean())
print(f"notes right: {notes_right:.1%}")

# %%
report.show(plots.training_curves({"loss": losses}, "One-to-many: melodies"), "loss.png", "training loss")

# %% [markdown]
# ## What the net plays for each class vector

# %%
lines = []
for k, name in enumerate(shapes):
    for key in range(data.N_KEYS):
        vec = np.zeros(x.shape[1])
        vec[k] = vec[len(shapes) + key] = 1.0
        with mr.no_grad():
            out = unroll.one_to_many(rnn, vec, notes[:, 0]).O
        lines.append(f"{name:8} key {key}: {' '.join(str(int(o.data.argmax())) for o in out)}")
print("\n".join(lines))

# %% [markdown]
# ## One melody, unrolled: one copy of $W^X$ (step 1), $W^H$ at every later step

# %%
one = unroll.one_to_many(rnn, x[0], notes[:, 0])
rnn.zero_grad()
one.backward()
report.show(viz.draw(one), "one_to_many.svg", "one vector in, six notes out")

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = "only step 1 has an input (one W^X copy); W^H carries the melody through the other steps"
report.numbers = {"notes right": notes_right, "melodies": " | ".join(lines[::data.N_KEYS])}
report
