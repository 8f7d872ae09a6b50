# %% [markdown]
# # 5. Many-to-many: a character model of the Zen of Python
#
# An output and a loss at every step:
#
# $$L = L_1 + L_2 + \cdots + L_T$$
#
# $H_t$ feeds every later step but cannot change $O_{k<t}$, so its gradient collects a share from each
# later loss:
#
# $$\frac{\delta L}{\delta H_t} = \sum_{i \geq t}\frac{\delta L_i}{\delta H_t}$$
#
# We train a min-char-rnn-sized model (Adagrad, clipping), sample before and after, then take one window
# apart: backpropagate each $L_i$ alone and add the pieces up.

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params, progress

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/05_many_to_many"))
report = Report("5. Many-to-many: a character model, and dL/dH_t = Σ_{i≥t} dL_i/dH_t", OUT)

# %%
import matplotlib.pyplot as plt
import numpy as np

import micrornn as mr
from micrornn import data, optim, plots, unroll, viz
from micrornn.nn import RNN

text = data.zen()
vocab = data.CharVocab.of(text)
ids = vocab.encode(text)
T, hidden, iters = 25, (48 if QUICK else 64), (80 if QUICK else 400)
rnn = RNN(len(vocab), hidden, len(vocab), seed=0, token_ids=True)
prime = vocab.encode("Beautiful").tolist()
before = vocab.decode(mr.sample(rnn, prime, 60, temperature=0.7, seed=1))
print(f"{len(vocab)} characters; untrained sample: Beautiful{before!r}")

# %% [markdown]
# ## Training: windows of T = 25 characters, 16 at a time

# %%
opt = optim.Adagrad(rnn.parameters(), lr=0.1)
losses = []
for it in progress(range(iters), "char model"):
    xs, ys = data.char_windows(ids, T, 16, seed=it)
    u = unroll.many_to_many(rnn, xs, ys)
    rnn.zero_grad()
    u.backward()
    optim.clip_grad_norm_(rnn.parameters(), 5.0)
    opt.step()
    losses.append(u.loss.item())
after = vocab.decode(mr.sample(rnn, prime, 60, temperature=0.7, seed=1))
print(f"before: Beautiful{before!r}\nafter:  Beautiful{after!r}")

# %%
report.show(plots.training_curves({"L = Σ_t L_t": losses}, f"Char model, T = {T}"), "loss.png", "training loss")

# %% [markdown]
# ## $\frac{\delta L}{\delta H_t} = \sum_{i \geq t} \frac{\delta L_i}{\delta H_t}$ on one window of 8 characters
#
# `backward()` from one $L_i$ resets the inner gradients of $L_i$'s graph first, so after `u.L[i].backward()`
# each $H_{t \le i}$ holds $\frac{\delta L_i}{\delta H_t}$ alone; the states after $i$ are not in that graph.

# %%
x, y = ids[:8], ids[1:9]
full = unroll.many_to_many(rnn, x, y)
full.backward()
dL_dH = [h.grad.copy() for h in full.H]  # dL/dH_t, L = Σ_i L_i
contrib = np.zeros((len(x), len(x)))  # contrib[i, t] = ‖dL_i/dH_t‖
summed = [np.zeros(hidden) for _ in x]
for i in range(len(x)):
    full.L[i].backward()
    for t in range(i + 1):
        summed[t] += full.H[t].grad
        contrib[i, t] = np.linalg.norm(full.H[t].grad)
err = max(float(np.abs(s - g).max()) for s, g in zip(summed, dL_dH))
print(f"max |Σ_i dL_i/dH_t − dL/dH_t| = {err:.1e}")

# %%
fig, ax = plt.subplots(figsize=(5.2, 4.2))
im = ax.imshow(np.log10(np.where(contrib > 0, contrib, np.nan)), cmap="viridis", origin="lower")
ax.set_xlabel("t (the state H_t)")
ax.set_ylabel("i (the loss L_i)")
ax.set_xticks(range(len(x)), [repr(c)[1:-1] for c in vocab.decode(x)])
ax.set_title("log10 ‖dL_i/dH_t‖ — zero below the diagonal")
fig.colorbar(im, ax=ax)
fig.tight_layout()
report.show(fig, "dL_i_dH_t.png", "‖dL_i/dH_t‖ for every loss i and state t")

# %% [markdown]
# ## Four steps of the trained model, unrolled: a loss $L_t$ at every step

# %%
small = unroll.many_to_many(rnn, ids[:4], ids[1:5])
small.backward()
report.show(viz.draw(small), "many_to_many.svg", "four steps of the char model, unrolled")

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = ("the heat map is zero below the diagonal (L_i reaches back only to t ≤ i); each column adds up "
               "to dL/dH_t")
report.numbers = {"loss at start": losses[0], "loss at end (mean of last 20)": float(np.mean(losses[-20:])),
                  "T·ln V (knowing nothing)": float(T * np.log(len(vocab))), "sample before": repr(before),
                  "sample after": repr(after), "max |Σ_i dL_i/dH_t − dL/dH_t|": err}
report
