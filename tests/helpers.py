"""Random RNN problems for the property tests: one strategy draws net, topology and data together."""

import subprocess
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from micrornn import unroll as U
from micrornn.nn import RNN, Cell
from micrornn.testing import problem_data

TOPOLOGIES = ("one_to_one", "many_to_one", "many_to_many", "one_to_many")


@dataclass
class Problem:
    rnn: RNN
    topology: str
    kwargs: dict

    def build(self, scalar=False, **extra):
        return getattr(U, self.topology)(self.rnn, scalar=scalar, **self.kwargs, **extra)

    def __repr__(self):
        shapes = {k: np.shape(v) for k, v in self.kwargs.items()}
        return f"Problem({self.rnn!r}, {self.topology}, {shapes})"


@st.composite
def problems(draw, topologies=TOPOLOGIES, activations=("tanh", "sigmoid", "relu", "identity"),
             truncations=(None, 1, 2, 3), max_T=12, max_batch=3, allow_ids=True):
    topology = draw(st.sampled_from(topologies))
    feedback = draw(st.sampled_from(("hidden", "output")))
    I, H, O = (draw(st.integers(1, 3)) for _ in range(3))
    ids = allow_ids and draw(st.booleans())  # a token net reads ids, any other net float vectors
    rnn = RNN(I, H, O, activation=draw(st.sampled_from(activations)), feedback=feedback,
              truncate=draw(st.sampled_from(truncations)), seed=draw(st.integers(0, 2**16)), token_ids=ids)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    batch = draw(st.sampled_from([None, *range(1, max_batch + 1)]))
    T = 1 if topology == "one_to_one" else draw(st.integers(1, max_T))
    return Problem(rnn, topology, problem_data(draw, rnn, topology, rng, batch, T))


def plain_layout(graph):
    """name → (x, y, width, height) of every node, and the picture's size, from ``dot -Tplain`` run with the
    picture's own layout engine: what the stepper tests compare across frames."""
    out = subprocess.run(["dot", f"-K{graph.engine}", "-Tplain"], input=graph.source.encode(), capture_output=True,
                         timeout=60, check=True).stdout.decode()
    layout = {}
    for line in out.splitlines():
        fields = line.split()
        if fields[0] == "graph":
            layout["graph"] = tuple(fields[1:4])
        elif fields[0] == "node":
            layout[fields[1]] = tuple(fields[2:6])
    return layout


# -- two cells written by a user, shared by the cell and invariant tests --------------------------------------
class PeepholeLSTM(Cell):
    """A user's cell: an LSTM whose gates also read the cell state (Gers & Schmidhuber, 2000)."""

    state_names = ("H", "C")

    def weights(self, I, H):
        return {"W_x": (4 * H, I), "W_h": (4 * H, H), "b": (4 * H,), "w_c": (3 * H,)}

    def step(self, be, p, state, x):
        (h, c), H = state, self.hidden_size
        z = be.affine(p.W_x, x, p.b) + be.affine(p.W_h, h)
        i = be.gate("i", be.sigmoid(z[..., :H] + p.w_c[:H] * c))
        f = be.gate("f", be.sigmoid(z[..., H:2 * H] + p.w_c[H:2 * H] * c))
        c = f * c + i * be.tanh(z[..., 2 * H:3 * H])
        o = be.gate("o", be.sigmoid(z[..., 3 * H:] + p.w_c[2 * H:] * c))
        return o * be.tanh(c), c


class MinimalGRU(Cell):
    """The README's example: the minimal gated unit (Zhou et al., 2016)."""

    def weights(self, I, H):
        return {"W_f": (H, I), "U_f": (H, H), "b_f": (H,), "W_n": (H, I), "U_n": (H, H), "b_n": (H,)}

    def step(self, be, p, h, x):
        f = be.gate("f", be.sigmoid(be.affine(p.W_f, x, p.b_f) + be.affine(p.U_f, h)))
        n = be.tanh(be.affine(p.W_n, x, p.b_n) + be.affine(p.U_n, f * h))
        return (1 - f) * h + f * n


def demo_report(quick_tour, name):
    """One demo's report from the session's quick tour (tests/docs/conftest.py) and its output folder; skipped
    without Graphviz's dot, as the demos draw."""
    import shutil

    import pytest

    if shutil.which("dot") is None:
        pytest.skip("the demo draws with Graphviz's dot")
    _, _, out, reports = quick_tour
    return reports[name], out / name
