"""Random RNN problems for the property tests: one strategy draws net, topology and data together."""

import subprocess
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from micrornn import unroll as U
from micrornn.nn import RNN
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
