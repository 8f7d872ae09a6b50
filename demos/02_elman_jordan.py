# %% [markdown]
# # 2. Elman and Jordan copy nets against true recurrence
#
# The RNN of the notes:
#
# $$H_t = f_{act}\left(W^H H_{t-1} + W^X X_t + b\right)$$
#
# An **Elman** net feeds a *copy* of $H_{t-1}$ into step $t$ (context units); a **Jordan** net a copy of
# $O_{t-1}$. A copy is a constant to the next step, so no gradient flows through it: no BPTT
# (`truncate=1`, built with `detach()`). Full BPTT keeps the edge. The task needs memory: a DNA string
# whose class (the blood type) is set by a motif at its *start*.

# %% tags=["parameters"]
from pathlib import Path

from micrornn.report import Report, params

# The tour, the tests and `make notebooks` inject their own values for these two.
QUICK, OUT = params(QUICK=False, OUT=Path("out/demo/02_elman_jordan"))
report = Report("2. Elman and Jordan copy nets vs. BPTT", OUT)

# %%
import micrornn as mr
from micrornn import data, optim, plots, unroll, viz
from micrornn.nn import RNN, Elman, Jordan

length, n, iters = 10, (128 if QUICK else 256), (60 if QUICK else 150)
xs, ys = data.dna(n, length=length, seed=0)  # xs: (T, batch) base ids over "ACGT", ys: (batch,) blood type
xt, yt = data.dna(256, length=length, seed=1)
elman = Elman(4, 16, 4, seed=0, token_ids=True)  # xs are token ids: A, C, G, T = 0..3
jordan = Jordan(4, 16, 4, seed=0, token_ids=True)
rnn = RNN(4, 16, 4, seed=0, token_ids=True)


def three_steps(net):
    """The first three steps of one sequence, backpropagated: the picture of the net's wiring."""
    u = unroll.many_to_one(net, xs[:3, :1], ys[:1])
    u.backward()
    net.zero_grad()
    return viz.draw(u)


# %% [markdown]
# ## Elman: context $C_t$ = copy of $H_{t-1}$
#
# The dashed edge is the copy: it carries $H_{t-1}$ forward and no gradient back.

# %%
report.show(three_steps(elman), "elman.svg", "Elman copy net: three steps")

# %% [markdown]
# ## Jordan: context $C_t$ = copy of $O_{t-1}$

# %%
report.show(three_steps(jordan), "jordan.svg", "Jordan copy net: three steps")

# %% [markdown]
# ## True recurrence: $H_{t-1} \to H_t$ through $W^H$, and BPTT
#
# $$\frac{\delta L}{\delta W^{H}} = \frac{\delta L}{\delta W_{1}^{H}} + \cdots + \frac{\delta L}{\delta W_{T-1}^{H}}$$

# %%
report.show(three_steps(rnn), "rnn.svg", "RNN with BPTT: three steps")

# %% [markdown]
# ## Train all three on the long-range task (Adam, the same data and seed)

# %%
nets = {"Elman copy net": elman, "Jordan copy net": jordan, "RNN with BPTT": rnn}
history, accuracy = {}, {}
for name, net in nets.items():
    opt = optim.Adam(net.parameters(), lr=0.03)
    history[name] = []
    for _ in range(iters):
        net.zero_grad()
        u = unroll.many_to_one(net, xs, ys)
        u.backward()
        opt.step()
        history[name].append(u.loss.item())
    with mr.no_grad():
        accuracy[name] = float((unroll.many_to_one(net, xt, yt).O[-1].data.argmax(-1) == yt).mean())
    print(f"{name:16} test accuracy {accuracy[name]:.1%}  (chance 25%)")

# %%
report.show(plots.training_curves(history, "Training loss, DNA → blood type"), "loss.png",
            "training loss of the three nets on the same data")

# %% [markdown]
# ## Where copy nets do learn: XOR in time (Elman, 1990)
#
# Elman's own test of the copy net: a stream of 3,000 bits in triples $(a, b, a \oplus b)$, and at every
# step the net predicts the next bit. Two bits of every three are coin flips; the third is the XOR of the
# two before it, so a net that remembers one step back can predict it. One step is all the context copy
# must carry — no gradient through it is needed — and the squared error, averaged by the position of the
# predicted bit in its triple, should be high at positions 0 and 1 and low at position 2. The same net with
# full BPTT is shown beside it. (The stream is cut into rows of a batch so that one Adam step sees it all.)

# %%
import matplotlib.pyplot as plt
import numpy as np

xor_rows, xor_iters, xor_lr = (600, 150, 0.05) if QUICK else (30, 300, 0.05)
bx, by, position = data.xor_in_time(3000, rows=xor_rows, seed=0)
tx, ty, test_position = data.xor_in_time(3000, rows=30, seed=1)  # a fresh stream to measure on
xor_nets = {"Elman copy net": Elman(1, 8, 1, seed=0), "RNN with BPTT": RNN(1, 8, 1, seed=0)}
by_position, position2_accuracy = {}, {}


def trained_outputs(net, xs, ys, test_xs, test_ys, iters, lr):
    """Train ``net`` with Adam on the stream (xs, ys), many-to-many; its outputs O_t on the fresh stream."""
    opt = optim.Adam(net.parameters(), lr=lr)
    for _ in range(iters):
        net.zero_grad()
        unroll.many_to_many(net, xs, ys).backward()
        opt.step()
    with mr.no_grad():
        return np.stack([o.data for o in unroll.many_to_many(net, test_xs, test_ys).O])


for name, net in xor_nets.items():
    O = trained_outputs(net, bx, by, tx, ty, xor_iters, xor_lr)
    error = (O - ty)[..., 0] ** 2
    by_position[name] = [float(error[test_position == k].mean()) for k in range(3)]
    position2_accuracy[name] = float(((O[..., 0] > 0.5) == (ty[..., 0] > 0.5))[test_position == 2].mean())
    print(f"{name:16} squared error by position {', '.join(f'{e:.3f}' for e in by_position[name])}; "
          f"position 2 predicted right {position2_accuracy[name]:.1%}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.4))
for i, (name, errors) in enumerate(by_position.items()):
    ax.bar(np.arange(3) + 0.38 * (i - 0.5), errors, width=0.38, label=name)
ax.axhline(0.25, color="gray", lw=0.8, ls="--", label="guessing 0.5 (error 0.25)")
ax.set_xticks(range(3), ["0: random", "1: random", "2: XOR of the two before"])
ax.set_xlabel("position of the predicted bit in its triple")
ax.set_ylabel("mean squared error")
ax.set_title("XOR in time (Elman 1990), a fresh stream of 3,000 bits")
ax.legend(fontsize=8)
fig.tight_layout()
report.show(fig, "xor_in_time.png", "squared error by position in the triple: the copy net predicts the XOR bit")

# %% [markdown]
# ## Letters in time: the error is a sawtooth (Elman, 1990)
#
# Elman's second task: the consonants b, d, g in random order, each bringing its vowels (b → ba, d → dii,
# g → guuu), every letter six phonetic features (consonantal, vocalic, interrupted, high, back, voiced),
# and the net predicts the next letter. Which consonant comes is a coin toss, so the error there stays
# high; the vowels after it follow from the consonant and from how many have come, which is what the
# context copy holds. The squared error over the stream rises at every consonant and falls over its
# vowels. Within a consonant's error, the net still knows *that* a consonant comes (its bit "consonantal"
# is predicted) but not *which* ("high" and "back" are not): the paper's Figure 4 and 5.

# %%
letter_rows, letter_iters = (100, 150) if QUICK else (50, 300)
lx, ly, _ = data.letters_in_time(3000, rows=letter_rows, seed=0)
vx, vy, target_letter = data.letters_in_time(3000, rows=30, seed=1)  # a fresh stream to measure on
O = trained_outputs(Elman(6, 20, 6, seed=0), lx, ly, vx, vy, letter_iters, lr=0.05)
per_bit = (O - vy) ** 2  # (T, rows, 6)
consonant = np.isin(target_letter, list("bdg"))
letter_error = {"consonants": float(per_bit.sum(-1)[consonant].mean()),
                "vowels": float(per_bit.sum(-1)[~consonant].mean())}
bit_error = {f: float(per_bit[..., k][consonant].mean()) for k, f in enumerate(data.LETTER_FEATURES)}
print(f"squared error predicting a consonant {letter_error['consonants']:.3f}, a vowel {letter_error['vowels']:.3f}")
print("at the consonants, by feature:", ", ".join(f"{f} {e:.3f}" for f, e in bit_error.items()))

# %%
fig, (ax, bx_) = plt.subplots(1, 2, figsize=(10, 3.2), gridspec_kw={"width_ratios": [2.2, 1]})
stretch = slice(0, 36)
ax.plot(per_bit.sum(-1)[stretch, 0], marker="o", ms=3)
ax.set_xticks(range(36), list(target_letter[stretch, 0]), fontsize=8)
ax.set_xlabel("the letter to predict")
ax.set_ylabel("squared error")
ax.set_title("letters in time (Elman 1990): a sawtooth, high at each consonant")
bx_.bar(range(6), list(bit_error.values()))
bx_.set_xticks(range(6), [f[:5] for f in data.LETTER_FEATURES], fontsize=8, rotation=30)
bx_.set_title("error at the consonants, by feature", fontsize=10)
fig.tight_layout()
report.show(fig, "letters_in_time.png", "the squared error rises at every consonant and falls over its vowels")

# %% [markdown]
# ## The report the tour and the tests read

# %%
report.look = (f"the dashed 'copy — no gradient' edges; with the motif {length - 3} steps before the output only "
               "BPTT learns (chance is 25%)")
report.numbers = {f"test accuracy, {k}": v for k, v in accuracy.items()}
for name in xor_nets:
    report.numbers.update({f"XOR in time, {name}: error at position {k}": e for k, e in enumerate(by_position[name])})
    report.numbers[f"XOR in time, {name}: position 2 accuracy"] = position2_accuracy[name]
report.numbers.update({f"letters in time: error predicting {k}": v for k, v in letter_error.items()})
report.numbers.update({f"letters in time: error on '{f}' at the consonants": e for f, e in bit_error.items()})
report
