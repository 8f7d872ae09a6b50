"""[F] 3: the forward stepper — the graph growing one step at a time, in the backward stepper's layout."""

import re
import shutil

import numpy as np
import pytest
from helpers import plain_layout

import micrornn as mr
from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import LSTM, RNN

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def hidden(graph):
    """The node names drawn as invisible placeholders."""
    return set(re.findall(r"^\s*(n\d+|fold) \[.*style=invis", graph.source, flags=re.MULTILINE))


def unrolled(cell, T):
    u = U.many_to_one(cell, np.random.default_rng(0).normal(size=(T, cell.input_size)), 1)
    u.backward()
    return u


@needs_dot
@pytest.mark.parametrize("cell,T", [(RNN(2, 3, 2, seed=0), 4), (LSTM(2, 3, 2, seed=0), 3), (RNN(2, 3, 2, seed=0), 30)],
                         ids=["rnn", "lstm", "folded"])
def test_f3_forward_frames_grow_in_one_fixed_layout(cell, T):
    u = unrolled(cell, T)
    frames = viz.forward_frames(u)
    back = viz.backward_frames(u)
    layouts = [plain_layout(g) for g, _ in frames]
    assert len(layouts[0]) > 10
    for layout in layouts[1:]:
        assert layout == layouts[0]  # nothing moves or resizes between frames
    assert layouts[0] == plain_layout(back[0][0])  # … and it is the backward stepper's layout
    drawn_steps = back[0][0].source.count("subgraph cluster_t")
    folded = "fold [" in back[0][0].source
    assert len(frames) == 1 + drawn_steps + folded + 1  # parameters, each step (the folded ones in one), the loss
    sizes = [len(hidden(g)) for g, _ in frames]
    assert sizes[0] > 0 and sizes[-1] == 0 and sizes == sorted(sizes, reverse=True)  # placeholders fill in
    for t, H in zip(u.steps["H"], u.H):
        if f"n{id(H)} [" not in frames[-1][0].source:
            continue  # a folded step: the fold node stands for it
        shown_from = next(i for i, (g, _) in enumerate(frames) if f"n{id(H)}" not in hidden(g))
        assert f"t = {t}:" in frames[shown_from][1]  # H_t appears in the frame of step t
    assert f"n{id(u.rnn.W_h)}" not in hidden(frames[0][0])  # the shared parameters are there from the start
    assert "grad ·" in frames[-1][0].source and all("Forward" in c for _, c in frames)


def test_f3_forward_frames_of_an_expression_go_op_by_op():
    a, b = mr.Value(2.0), mr.Value(-3.0)
    y = a * b + b ** 2
    y.backward()
    frames = viz.forward_frames(y)
    assert [c for _, c in frames][1:4] == ["Forward step 1: * = -6", "Forward step 2: **2 = 9",
                                           "Forward step 3: + = 3"]
    assert len(hidden(frames[0][0])) == 3 and not hidden(frames[-1][0])


def test_f3_backward_frames_keep_their_signature():
    u = unrolled(RNN(2, 3, 2, seed=0), 3)
    frames = viz.backward_frames(u, "coarse", 8, True, True, 400, None, 60.0)
    assert len(frames) == 3 + 2 and all(isinstance(c, str) for _, c in frames)
    with pytest.raises(ValueError, match="budget must be"):
        viz.forward_frames(u, budget=0)
