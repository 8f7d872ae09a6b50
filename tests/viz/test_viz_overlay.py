"""[M] item 1, the contributions overlay: ``viz.draw(u, view="contributions")`` is the coarse picture with,
in every weight copy W_k, a bar of what each loss sends there (|C[t, k]|, one colour per loss step)."""

import html
import re

import numpy as np
import pytest

import micrornn as mr
from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import LSTM, RNN
from micrornn.viz.overlay import colour

pytestmark = [pytest.mark.lesson_pictures, pytest.mark.lesson_bptt]


def linear(w, T=5):
    """h_t = w h_{t-1} + x_t, a loss at every step: C[t, k] = ∂L_t/∂w_k decays as w^(t-k)."""
    net = RNN(1, 1, 1, activation="identity", seed=0)
    net.W_h.data[...], net.W_x.data[...], net.b.data[...] = w, 1.0, 0.0
    net.W_o.data[...], net.b_o.data[...] = 1.0, 0.0
    u = U.many_to_many(net, np.ones((T, 1)), np.zeros((T, 1)))
    u.backward()
    return u


def bar_of(g, node):
    """(colour, width) of each segment in the bar of ``node``'s box."""
    line = next(line for line in g.source.splitlines() if line.lstrip().startswith(f"n{id(node)} "))
    return [(c, int(w)) for c, w in re.findall(r'<TD BGCOLOR="(#[0-9a-f]{6})" WIDTH="(\d+)" HEIGHT="7">', line)]


def test_each_copy_shows_the_share_of_every_loss_that_reaches_it():
    u = linear(0.5)
    g = viz.draw(u, view="contributions")
    C = u.contributions("W_h")
    norms = C.norms()
    for j, copy in enumerate(u.copies["W_h"]):
        segments = bar_of(g, copy)
        reaching = [(t, norms[i, j]) for i, t in enumerate(C.loss_steps) if norms[i, j] > 0]
        assert [c for c, _ in segments] == [colour(t) for t, _ in reaching]  # one segment per loss, in order
        total = sum(v for _, v in reaching)
        for (_, width), (_, v) in zip(segments, reaching):
            assert abs(width - 72 * v / total) <= 1  # its length is its share
    first = bar_of(g, u.copies["W_h"][0])  # W^H_2: L_2 sends the most, L_5 the least (0.5^3 of it and less)
    assert first[0][1] > first[-1][1]


def test_an_exploding_net_reverses_the_shares():
    small, large = linear(0.5), linear(1.5)
    low = bar_of(viz.draw(small, view="contributions"), small.copies["W_h"][0])
    high = bar_of(viz.draw(large, view="contributions"), large.copies["W_h"][0])
    assert low[0][1] > low[-1][1] and high[0][1] < high[-1][1]  # w > 1: the far losses dominate


def test_only_copies_have_bars_and_the_legend_names_the_colours():
    u = linear(0.9, T=3)
    g = viz.draw(u, view="contributions")
    legend = html.unescape(next(line for line in g.source.splitlines() if line.lstrip().startswith("legend")))
    assert "the bar in copy W_k: the share of each loss" in legend
    assert all(f"L_{t}" in legend for t in (1, 2, 3))
    for node in [*u.H, *u.O, *u.L]:
        assert bar_of(g, node) == []
    assert "HEIGHT=\"7\"" not in viz.draw(u).source  # the plain coarse view has no bars


def test_gated_cells_and_the_scalar_engine_draw_it_too():
    rng = np.random.default_rng(0)
    u = U.many_to_many(LSTM(2, 3, 2, seed=0), rng.normal(size=(3, 2)), rng.normal(size=(3, 2)))
    u.backward()
    g = viz.draw(u, view="contributions")
    assert len(bar_of(g, u.copies["W_h"][-1])) == 1  # the last copy: only the last loss reaches it
    s = U.many_to_many(RNN(1, 1, 1, seed=0), np.ones((3, 1)), np.zeros((3, 1)), scalar=True)
    s.backward()
    assert bar_of(viz.draw(s, view="contributions"), s.copies["W_h"][0].reshape(-1)[0])


def test_bad_input_is_refused_at_the_call():
    a = mr.Value(2.0)
    with pytest.raises(TypeError, match="draws an Unrolled"):
        viz.draw(a * a, view="contributions")
    u = U.many_to_one(RNN(1, 2, 1, seed=0), np.ones((3, 1)), np.zeros(1))
    u.backward()
    assert bar_of(viz.draw(u, view="contributions"), u.copies["W_h"][0])  # one loss: one segment
    with pytest.raises(ValueError, match="view must be one of"):
        viz.backward_frames(u, view="contributions")
