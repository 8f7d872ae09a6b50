"""The backward stepper's captions say where each step's gradient comes from, read from the recorded
roles (losses, context cuts), never from the cell's class (issue #18, item 3): in the Elman/Jordan copy
nets and with truncated BPTT no gradient flows back through the context copy."""

import numpy as np
import pytest

from micrornn import unroll as U
from micrornn import viz
from micrornn.graph import topological_order
from micrornn.nn import GRU, LSTM, RNN, Elman, Jordan

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures

CELLS = {"RNN": RNN, "Elman": Elman, "Jordan": Jordan, "LSTM": LSTM, "GRU": GRU,
         "RNN truncate=2": lambda *a, **kw: RNN(*a, truncate=2, **kw)}


def unrolled(cell: str, topology: str, T: int, **kw: object) -> U.Unrolled:
    net = CELLS[cell](2, 3, 2, seed=0, **kw)
    xs = np.random.default_rng(1).normal(size=(T, 2))
    u = {"many_to_one": lambda: U.many_to_one(net, xs, 1),
         "many_to_many": lambda: U.many_to_many(net, xs, np.arange(T) % 2),
         "one_to_many": lambda: U.one_to_many(net, xs[0], np.arange(T) % 2)}[topology]()
    u.backward()
    return u


def step_captions(u: U.Unrolled, **kw: object) -> dict[int, str]:
    """t → the caption of the backward frame that reaches step t (the folded steps' frame under key 0)."""
    out = {}
    for _, caption in viz.backward_frames(u, **kw):
        if caption.startswith("Backward reaches t = "):
            out[int(caption.split()[4].rstrip(":"))] = caption
        elif caption.startswith("Backward runs through"):
            out[0] = caption
    return out


SHARE, NO_SHARE = "; the copies at t = 1 now hold their share.", "; the copies at t = 1 get none."
DETACHED = "; step {} starts from a detached copy of {}, which passes no gradient back"
BPTT_ALL = "dL/dH_1 collects the gradient of the losses of step 1 and every later step" + SHARE
BPTT_LAST = "dL/dH_1 collects the gradient of step 3's loss (step 1 has none)" + SHARE
OWN = "dL/dH_1 collects the gradient of step 1's loss only" + DETACHED.format(2, "{}_1") + SHARE
NONE = "no gradient reaches H_1: step 1 has no loss" + DETACHED.format(2, "{}_1") + NO_SHARE
LSTM_ALL = "dL/dH_1 and dL/dC_1 collect the gradient of the losses of step 1 and every later step" + SHARE
TRUNC_TWO = "dL/dH_1 collects the gradient of the losses of steps 1–2" + DETACHED.format(3, "H_2") + SHARE
TRUNC_NONE = "no gradient reaches H_1: no step from 1 to 2 has a loss" + DETACHED.format(3, "H_2") + NO_SHARE
EXPECTED = {  # (cell, topology) → the caption at t = 1 of T = 3, after "Backward reaches t = 1: "
    ("RNN", "many_to_many"): BPTT_ALL, ("RNN", "one_to_many"): BPTT_ALL, ("RNN", "many_to_one"): BPTT_LAST,
    ("GRU", "many_to_many"): BPTT_ALL, ("GRU", "one_to_many"): BPTT_ALL, ("GRU", "many_to_one"): BPTT_LAST,
    ("LSTM", "many_to_many"): LSTM_ALL, ("LSTM", "one_to_many"): LSTM_ALL,
    ("LSTM", "many_to_one"): BPTT_LAST.replace("dL/dH_1 collects", "dL/dH_1 and dL/dC_1 collect"),
    ("Elman", "many_to_many"): OWN.format("H"), ("Elman", "one_to_many"): OWN.format("H"),
    ("Elman", "many_to_one"): NONE.format("H"),
    ("Jordan", "many_to_many"): OWN.format("O"), ("Jordan", "one_to_many"): OWN.format("O"),
    ("Jordan", "many_to_one"): NONE.format("O"),
    ("RNN truncate=2", "many_to_many"): TRUNC_TWO, ("RNN truncate=2", "one_to_many"): TRUNC_TWO,
    ("RNN truncate=2", "many_to_one"): TRUNC_NONE,
}


@pytest.mark.parametrize("cell,topology", sorted(EXPECTED))
def test_the_caption_says_where_the_gradient_of_step_1_comes_from(cell, topology):
    assert step_captions(unrolled(cell, topology, 3))[1] == "Backward reaches t = 1: " + EXPECTED[cell, topology]


def test_truncated_bptt_collects_up_to_the_next_cut():
    captions = step_captions(unrolled("RNN truncate=2", "many_to_many", 5))
    assert "gradient of step 4's loss only; step 5 starts from a detached copy of H_4" in captions[4]
    assert "gradient of the losses of steps 3–4; step 5 starts from a detached copy of H_4" in captions[3]
    assert "gradient of step 2's loss only; step 3 starts from a detached copy of H_2" in captions[2]
    assert "gradient of the losses of steps 1–2; step 3" in captions[1]


def test_an_lstm_copy_cuts_both_states_and_a_bidirectional_net_names_its_reverse_direction():
    lstm = step_captions(unrolled("LSTM", "many_to_one", 5, truncate=2))
    assert lstm[3].startswith("Backward reaches t = 3: no gradient reaches H_3 or C_3: no step from 3 to 4 has a loss; "
                              "step 5 starts from a detached copy of H_4 and C_4")
    gru = step_captions(unrolled("GRU", "many_to_many", 3, bidirectional=True))
    assert ("the reverse direction's dL/dH_2 collects the gradient of the losses of step 2 and every earlier step"
            in gru[2])
    assert "the reverse direction's H_2 gets no gradient" in step_captions(
        unrolled("GRU", "many_to_one", 3, bidirectional=True))[2]


def test_the_folded_steps_frame_says_whether_any_gradient_reaches_them():
    assert "no gradient reaches them, so their copies add nothing" in step_captions(
        unrolled("Elman", "many_to_one", 30))[0]
    assert "their copies add their shares to each Σ" in step_captions(unrolled("Elman", "many_to_many", 30))[0]
    assert "their copies add their shares to each Σ" in step_captions(unrolled("RNN", "many_to_one", 30))[0]


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("topology", ["many_to_one", "many_to_many", "one_to_many"])
def test_a_caption_says_none_exactly_when_the_loss_does_not_reach_the_step(cell, topology):
    """The words against the graph itself: a step's copies "get none" iff the loss depends on none of them."""
    u = unrolled(cell, topology, 6)
    reached = {id(n) for n in topological_order(u.loss)}
    for t, caption in step_captions(u, max_width=None).items():
        copies = [c for cs in u.copies.values() for c in cs if c.t == t]
        assert caption.endswith("get none.") == (not any(id(c) in reached for c in copies)), caption
