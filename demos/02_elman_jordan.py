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
# ## The report the tour and the tests read

# %%
report.look = (f"the dashed 'copy — no gradient' edges; with the motif {length - 3} steps before the output only "
               "BPTT learns (chance is 25%)")
report.numbers = {f"test accuracy, {k}": v for k, v in accuracy.items()}
report
