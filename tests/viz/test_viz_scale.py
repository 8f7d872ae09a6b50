"""One colour scale across pictures (issue #20, item 2): two nets drawn apart read on one scale."""

import re
import shutil

import numpy as np
import pytest

from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import RNN

pytestmark = [pytest.mark.lesson_pictures, pytest.mark.lesson_vanishing,  # this file's lessons
              pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")]


def linear(w: float, T: int = 50) -> U.Unrolled:
    """h_t = w h_{t-1} + x_t, O = h_T, L = (O − 0)²/1: dL/dH_t = 2 h_T w^(T−t), the notes' w^k chain."""
    rnn = RNN(1, 1, 1, activation="identity", seed=0)
    rnn.W_h.data[...], rnn.W_x.data[...], rnn.b.data[...] = w, 1.0, 0.0
    rnn.W_o.data[...], rnn.b_o.data[...] = 1.0, 0.0
    u = U.many_to_one(rnn, np.full((T, 1), 0.1), np.zeros(1))
    u.backward()
    return u


def fills(picture) -> set[str]:
    """The colour of every box (its first cell), the legend's colour bar left out."""
    return set(re.findall(r'^\s*n\d+ \[label=<<TABLE[^>]*><TR><TD BGCOLOR="(#[0-9a-f]{6})"', picture.source, re.M))


def test_own_scales_make_both_look_alike_and_a_shared_one_tells_them_apart():
    vanishing, exploding = linear(0.9), linear(1.1)
    own = [viz.draw(vanishing), viz.draw(exploding)]
    darkest, brightest = "#440154", "#fde725"
    assert all({darkest, brightest} <= fills(p) for p in own)  # each spans the whole colour bar: they look alike
    shared = viz.scale_of(own[1])  # the exploding net's range: from its H_1 down to its smallest gradient
    on_one = [viz.draw(vanishing, scale=shared), viz.draw(exploding, scale=shared)]
    assert brightest not in fills(on_one[0]), "the vanishing net's gradients stay below the exploding net's"
    assert brightest in fills(on_one[1])
    assert all("log scale, shared" in p.source for p in on_one) and "shared" not in own[0].source
    # a gradient of one magnitude has one colour on both pictures
    one = viz.scale_of(on_one[0]), viz.scale_of(on_one[1])
    assert one[0].colour(1.0) == one[1].colour(1.0) and one[0].range == pytest.approx(shared.range)


def test_a_range_or_an_earlier_scale_is_taken_and_anything_else_refused():
    u = linear(0.9, T=5)
    assert viz.scale_of(viz.draw(u, scale=(1e-3, 10.0))).range == pytest.approx((1e-3, 10.0))
    frames = viz.backward_frames(u, scale=(1e-3, 10.0))
    assert all(viz.scale_of(g).range == pytest.approx((1e-3, 10.0)) for g, _ in frames[1:])
    for bad in [(0, 1), (2.0, 1.0), (1.0,), "wide", (True, 2.0), (1.0, float("inf"))]:
        with pytest.raises(ValueError, match="scale must be None"):
            viz.draw(u, scale=bad)
    with pytest.raises(ValueError, match="drew with its gradients' colours"):
        viz.scale_of(viz.draw(u, heat=False))
    with pytest.raises(ValueError, match="got a str"):
        viz.scale_of("picture.svg")


def test_the_default_picture_is_unchanged_by_the_new_argument():
    u = linear(1.1, T=6)
    assert viz.draw(u).source == viz.draw(u, scale=None).source
