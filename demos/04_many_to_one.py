# %% [markdown]
# # 4. Many-to-one: sequence classification
#
# A sequence $I \in \mathbb{R}^{T \times D_I}$ in, one output $O \in \mathbb{R}^{D_O}$ at the last step, $L = L_T$.
# The weights are shared: unrolled, each step uses its own copy $W^X_t$, and the gradients add up over time:
#
# $$\frac{\delta L}{\delta W^{X}} = \frac{\delta L}{\delta W_{1}^{X}} + \frac{\delta L}{\delta W_{2}^{X}} + \cdots
#   + \frac{\delta L}{\delta W_{T}^{X}}$$
#
# Two tasks of the notes: sentiment, where a "not" one or two words before the adjective flips the label,
# and DNA → blood type, set by a motif at the start.

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/04_many_to_one"))
report = Report("4. Many-to-one: sentiment (negation) and DNA → blood type", OUT)

# %%
import matplotlib.pyplot as plt
import numpy as np

import micrornn as mr
from micrornn import data, optim, unroll, viz
from micrornn.nn import RNN

iters = 100 if QUICK else 150


def train(rnn, xs, ys, iters, lr=0.03):
    opt = optim.Adam(rnn.parameters(), lr=lr)
    for _ in range(iters):
        rnn.zero_grad()
        unroll.many_to_one(rnn, xs, ys).backward()
        opt.step()


def accuracy(rnn, xs, ys) -> float:
    with mr.no_grad():
        return float((unroll.many_to_one(rnn, xs, ys).O[-1].data.argmax(-1) == ys).mean())


# %% [markdown]
# ## Sentiment with negation

# %%
xs, ys, vocab = data.sentiment(200, seed=0)  # xs: (T, batch) word ids
xt, yt, _ = data.sentiment(300, seed=1)
senti = RNN(len(vocab), 16, 2, seed=0, token_ids=True)
train(senti, xs, ys, iters)
acc_s = accuracy(senti, xt, yt)
print(f"sentiment test accuracy {acc_s:.1%}")

# %% [markdown]
# ## DNA → blood type

# %%
dx, dy = data.dna(256, length=12, seed=0)
dxt, dyt = data.dna(256, length=12, seed=1)
dna = RNN(4, 16, 4, seed=0, token_ids=True)
train(dna, dx, dy, iters)
acc_d = accuracy(dna, dxt, dyt)
print(f"DNA blood-type test accuracy {acc_d:.1%}")

# %% [markdown]
# ## One sentence, unrolled: every copy $W^X_t$ with its gradient, and their Σ in the parameter box

# %%
j = next(i for i in range(xs.shape[1]) if vocab.index("not") in xs[:, i])  # a sentence with a "not"
sentence = " ".join(vocab[i] for i in xs[:, j])
one = unroll.many_to_one(senti, xs[:, j], ys[j])
senti.zero_grad()
one.backward()
report.show(viz.draw(one), "sentence.svg", f"“{sentence}” unrolled: every per-step copy and its gradient")

# %% [markdown]
# ## How the contributions $\frac{\delta L}{\delta W^X_t}$ are spread over time

# %%
contrib = [float(np.linalg.norm(g)) for g in one.copy_grads("W_x")]
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.bar(range(1, len(contrib) + 1), contrib, color="#31688e")
ax.set_xticks(range(1, len(contrib) + 1), [vocab[i] for i in xs[:, j]], rotation=20)
ax.set_ylabel("‖∂L/∂W$^X_t$‖")
ax.set_title(f"Per-step contributions to dL/dW^X\n“{sentence}”")
fig.tight_layout()
report.show(fig, "wx_contributions.png", "how much each word's step contributes to dL/dW^X")

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = "each W^X_t holds its step's share; the parameter box shows their sum, Σ_t dL/dW^X_t"
report.numbers = {"sentiment test accuracy": acc_s, "DNA blood-type test accuracy": acc_d,
                  "‖Σ_t dL/dW^X_t − dL/dW^X‖": float(np.abs(sum(one.copy_grads("W_x")) - senti.W_x.grad).max()),
                  "‖dL/dW^X‖": float(np.linalg.norm(sum(one.copy_grads("W_x"))))}
report
