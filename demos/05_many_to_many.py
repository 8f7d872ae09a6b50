# %% [markdown]
# # 5. Many-to-many: a character model of the Zen of Python
#
# An output and a loss at every step, `L = L_1 + … + L_T`. Because H_t feeds every later step,
# its gradient collects a share from every later loss: `dL/dH_t = Σ_{i≥t} dL_i/dH_t`. We train a
# min-char-rnn-sized model (Adagrad, clipping), sample before and after, and then take one window
# apart: backpropagate each L_i alone and add the pieces up.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

import micrornn as mr
from micrornn import data, optim, plots, unroll, viz
from micrornn.nn import RNN
from micrornn.tour import Report, save


def main(out_dir: Path, quick: bool = False) -> Report:
    text = data.zen()
    vocab = data.CharVocab.of(text)
    ids = vocab.encode(text)
    T, hidden, iters = 25, (48 if quick else 64), (120 if quick else 400)
    rnn = RNN(len(vocab), hidden, len(vocab), seed=0, token_ids=True)
    prime = vocab.encode("Beautiful").tolist()
    before = vocab.decode(mr.sample(rnn, prime, 60, temperature=0.7, seed=1))
    opt = optim.Adagrad(rnn.parameters(), lr=0.1)
    losses = []
    # — training, with a progress bar
    for it in tqdm(range(iters), desc="char model", ncols=70, leave=False):
        xs, ys = data.char_windows(ids, T, 16, seed=it)
        u = unroll.many_to_many(rnn, xs, ys)
        rnn.zero_grad()
        u.backward()
        optim.clip_grad_norm_(rnn.parameters(), 5.0)
        opt.step()
        losses.append(u.loss.item())
    after = vocab.decode(mr.sample(rnn, prime, 60, temperature=0.7, seed=1))
    print(f"before: Beautiful{before!r}\nafter:  Beautiful{after!r}")

    # — dL/dH_t = Σ_{i≥t} dL_i/dH_t, on one short window
    x, y = ids[:8], ids[1:9]
    full = unroll.many_to_many(rnn, x, y)
    full.backward()
    contrib = np.zeros((len(x), len(x)))  # contrib[i, t] = ‖dL_i/dH_t‖
    summed = [np.zeros(hidden) for _ in x]
    for i in range(len(x)):
        alone = unroll.many_to_many(rnn, x, y)
        alone.L[i].backward()
        for t, h in enumerate(alone.H):
            g = unroll.grad_of(h)
            summed[t] += g
            contrib[i, t] = np.linalg.norm(g)
    err = max(float(np.abs(s - h.grad).max()) for s, h in zip(summed, full.H))
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    im = ax.imshow(np.log10(np.where(contrib > 0, contrib, np.nan)), cmap="viridis", origin="lower")
    ax.set_xlabel("t (the state H_t)")
    ax.set_ylabel("i (the loss L_i)")
    ax.set_xticks(range(len(x)), [repr(c)[1:-1] for c in vocab.decode(x)])
    ax.set_title("log10 ‖dL_i/dH_t‖ — zero below the diagonal")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    heat = save(fig, out_dir / "dL_i_dH_t.png")
    curve = save(plots.training_curves({"L = Σ_t L_t": losses}, f"Char model, T = {T}"), out_dir / "loss.png")
    small = unroll.many_to_many(rnn, ids[:4], ids[1:5])
    small.backward()
    pic = save(viz.draw(small), out_dir / "many_to_many.svg")
    uniform = T * np.log(len(vocab))
    return Report(
        title="5. Many-to-many: a character model, and dL/dH_t = Σ_{i≥t} dL_i/dH_t",
        look="the heat map is zero below the diagonal (L_i reaches back only to t ≤ i); each column adds up "
             "to dL/dH_t",
        numbers={"loss at start": losses[0], "loss at end (mean of last 20)": float(np.mean(losses[-20:])),
                 "T·ln V (knowing nothing)": float(uniform), "sample before": repr(before), "sample after": repr(after),
                 "max |Σ_i dL_i/dH_t − dL/dH_t|": err},
        figures=[(curve, "training loss"), (heat, "‖dL_i/dH_t‖ for every loss i and state t"),
                 (pic, "four steps of the char model, unrolled")],
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/05_many_to_many")).print()
