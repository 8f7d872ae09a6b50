# %% [markdown]
# # 4. Many-to-one: sequence classification
#
# A sequence in, one output at the last step. Two tasks: sentiment whose label hinges on a "not"
# one or two words before the adjective, and DNA → blood type, set by a motif at the start.
# The unrolled picture shows every per-step copy `W^X_t` and the Σ they add up to.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import micrornn as mr
from micrornn import data, optim, unroll, viz
from micrornn.nn import RNN
from micrornn.tour import Report, save


def train(rnn, xs, ys, iters, lr=0.03):
    opt = optim.Adam(rnn.parameters(), lr=lr)
    for _ in range(iters):
        rnn.zero_grad()
        unroll.many_to_one(rnn, xs, ys).backward()
        opt.step()


def accuracy(rnn, xs, ys) -> float:
    with mr.no_grad():
        return float((unroll.many_to_one(rnn, xs, ys).O[-1].data.argmax(-1) == ys).mean())


def main(out_dir: Path, quick: bool = False) -> Report:
    iters = 100 if quick else 150
    # — sentiment with negation
    xs, ys, vocab = data.sentiment(200, seed=0)
    xt, yt, _ = data.sentiment(300, seed=1)
    senti = RNN(len(vocab), 16, 2, seed=0, token_ids=True)
    train(senti, xs, ys, iters)
    acc_s = accuracy(senti, xt, yt)
    # — DNA → blood type
    dx, dy = data.dna(256, length=12, seed=0)
    dxt, dyt = data.dna(256, length=12, seed=1)
    dna = RNN(4, 16, 4, seed=0, token_ids=True)
    train(dna, dx, dy, iters)
    acc_d = accuracy(dna, dxt, dyt)
    print(f"sentiment accuracy {acc_s:.1%}, DNA blood type accuracy {acc_d:.1%}")

    # — one sentence, unrolled: per-step copies and their Σ
    j = next(i for i in range(xs.shape[1]) if vocab.index("not") in xs[:, i])  # a sentence with a "not"
    one = unroll.many_to_one(senti, xs[:, j], ys[j])
    senti.zero_grad()
    one.backward()
    sentence = " ".join(vocab[i] for i in xs[:, j])
    pic = save(viz.draw(one), out_dir / "sentence.svg")

    # — how the contributions to dL/dW^X are spread over time
    contrib = [float(np.linalg.norm(g)) for g in one.copy_grads("W_x")]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(range(1, len(contrib) + 1), contrib, color="#31688e")
    ax.set_xticks(range(1, len(contrib) + 1), [vocab[i] for i in xs[:, j]], rotation=20)
    ax.set_ylabel("‖∂L/∂W$^X_t$‖")
    ax.set_title(f"Per-step contributions to dL/dW^X\n“{sentence}”")
    fig.tight_layout()
    bars = save(fig, out_dir / "wx_contributions.png")
    total = float(np.linalg.norm(sum(one.copy_grads("W_x"))))
    return Report(
        title="4. Many-to-one: sentiment (negation) and DNA → blood type",
        look="each W^X_t holds its step's share; the parameter box shows their sum, Σ_t dL/dW^X_t",
        numbers={"sentiment test accuracy": acc_s, "DNA blood-type test accuracy": acc_d,
                 "‖Σ_t dL/dW^X_t − dL/dW^X‖": float(np.abs(sum(one.copy_grads("W_x")) - senti.W_x.grad).max()),
                 "‖dL/dW^X‖": total},
        figures=[(pic, f"“{sentence}” unrolled: every per-step copy and its gradient"),
                 (bars, "how much each word's step contributes to dL/dW^X")],
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/04_many_to_one")).print()
