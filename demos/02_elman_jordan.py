# %% [markdown]
# # 2. Elman and Jordan copy nets against true recurrence
#
# An Elman net *copies* its hidden state into context units for the next step; a Jordan net copies
# its output. The copy is a constant to the next step: no gradient flows back through it, so the
# net is trained as if every step were on its own (`truncate=1`). Full BPTT keeps the edge.
# Task: a DNA string whose class is set by a motif at the *start* — memory far beyond one step.

# %%
from pathlib import Path

import micrornn as mr
from micrornn import data, optim, plots, unroll, viz
from micrornn.nn import RNN, Elman, Jordan
from micrornn.tour import Report, save


def accuracy(net, xs, ys) -> float:
    with mr.no_grad():
        return float((unroll.many_to_one(net, xs, ys).O[-1].data.argmax(-1) == ys).mean())


def main(out_dir: Path, quick: bool = False) -> Report:
    length, n, iters = 10, (128 if quick else 256), (80 if quick else 150)
    xs, ys = data.dna(n, length=length, seed=0)
    xt, yt = data.dna(256, length=length, seed=1)
    nets = {"Elman copy net": Elman(4, 16, 4, seed=0, token_ids=True),
            "Jordan copy net": Jordan(4, 16, 4, seed=0, token_ids=True),
            "RNN with BPTT": RNN(4, 16, 4, seed=0, token_ids=True)}
    figures, acc, history = [], {}, {}
    for name, net in nets.items():
        # — the same three-step graph for each: the copy nets' context edges are dashed
        small = unroll.many_to_one(net, xs[:3, :1], ys[:1])
        small.backward()
        stem = name.split()[0].lower()
        figures.append((save(viz.draw(small), out_dir / f"{stem}.svg"), f"{name}: three steps"))
        net.zero_grad()
        # — train on the long-range task
        opt = optim.Adam(net.parameters(), lr=0.03)
        history[name] = []
        for _ in range(iters):
            net.zero_grad()
            u = unroll.many_to_one(net, xs, ys)
            u.backward()
            opt.step()
            history[name].append(u.loss.item())
        acc[name] = accuracy(net, xt, yt)
        print(f"{name:16} test accuracy {acc[name]:.1%}")
    figures.append((save(plots.training_curves(history, "Training loss, DNA → blood type"), out_dir / "loss.png"),
                    "training loss of the three nets on the same data"))
    return Report(
        title="2. Elman and Jordan copy nets vs. BPTT",
        look=f"the dashed 'copy — no gradient' edges; with the motif {length - 3} steps before the output only "
             "BPTT learns (chance is 25%)",
        numbers={f"test accuracy, {k}": v for k, v in acc.items()},
        figures=figures,
    )


# %% [markdown]
# Run it: the numbers print, the pictures go to `out/`.

# %%
if __name__ == "__main__":
    main(Path("out/02_elman_jordan")).print()
