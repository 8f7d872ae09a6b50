"""[L] 1: pictures as data — a Layout is drawn by dot once; each frame patches the cached SVG (viz/paint.py).

The patch path must give the SVG a fresh ``dot`` run gives for the same frame on the same layout: compared
byte for byte after the one rule both follow (``_Template``: dot's comments and titles dropped, a text alone
in a coloured cell anchored at the cell's centre).
"""

import shutil

import numpy as np
import pytest

import micrornn as mr
from micrornn import viz
from micrornn.viz import paint
from micrornn.viz.paint import Layout, LayoutMismatch, _Template

pytestmark = [pytest.mark.lesson_pictures,
              pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")]

SCALE = (1e-4, 1e4)


def net(w, T=5, activation="identity", cell="rnn"):
    """The univariate linear RNN (W^H = w) or a small LSTM/GRU whose W^H is scaled by w, many-to-one."""
    if cell == "rnn":
        rnn = mr.nn.RNN(1, 1, 1, activation=activation, seed=0)
        rnn.W_h.data[:] = w
    else:
        rnn = {"lstm": mr.nn.LSTM, "gru": mr.nn.GRU}[cell](1, 3, 1, seed=0)
        rnn.W_h.data *= w
    u = mr.unroll.many_to_one(rnn, np.ones((T, 1)), np.array([1.0]))
    u.backward()
    return u


def fresh(layout, u):
    """What dot draws for ``u`` on ``layout``, through the same template rule as the cached SVG."""
    t = _Template(viz.to_svg(layout.digraph(u)))
    return t.svg(t.base)


def test_l1_a_layout_emits_the_dot_source_draw_does():
    for u in (net(0.9), net(0.9, T=30)):
        assert Layout(u).graph.source == viz.draw(u).source


@pytest.mark.parametrize("T, cell, view", [(5, "rnn", "coarse"), (30, "rnn", "coarse"), (6, "lstm", "coarse"),
                                           (3, "rnn", "ops")])
def test_l1_the_patched_svg_is_the_fresh_render(T, cell, view):
    activations = ["tanh", "identity"] if view == "coarse" else ["identity", "identity"]  # ops: the op is drawn
    others = [net(w, T, activation, cell) for w, activation in zip((1.1, 0.5), activations)]
    splines = "curved" if cell == "lstm" else None  # routing an LSTM's edges: 0.6 s a dot run
    layout = Layout(net(0.9, T, cell=cell), view=view, scale=SCALE, sizes=others, title="one layout", splines=splines)
    for u in others:
        patched = layout.svg(u)
        assert patched == fresh(layout, u)
        assert patched != layout.template.svg(layout.template.base)  # the numbers did change


def test_l1_dot_runs_once_per_layout(monkeypatch):
    layout = Layout(net(0.9, T=30), scale=SCALE, room=20)
    calls = []
    monkeypatch.setattr(paint, "to_svg", lambda *a, **k: calls.append(1))
    svgs = {layout.svg(net(w, T=30)) for w in (0.8, 1.0, 1.2)}
    assert not calls and len(svgs) == 3 and layout.dot_runs == 1


def test_l1_the_folded_steps_stay_put_across_frames():
    layout = Layout(net(0.9, T=50), scale=SCALE)
    assert layout.model.hidden  # T = 50 folds
    for w in (0.5, 1.5):
        assert layout.paint(net(w, T=50)).model.hidden == layout.model.hidden


def test_l1_an_own_scale_per_frame_moves_only_the_legend_ticks():
    layout = Layout(net(0.9), sizes=[net(1.5)])  # scale=None: each frame's own range, the legend's ticks change
    a, b = layout.svg(net(1.5)).splitlines(), fresh(layout, net(1.5)).splitlines()
    differ = [(x, y) for x, y in zip(a, b) if x != y]
    assert len(a) == len(b) and differ
    assert all(x.split(">")[1] == y.split(">")[1] and 'font-size="10.00">' in x for x, y in differ)  # same text


def test_l1_another_structure_is_refused_and_wider_numbers_are_reported():
    layout = Layout(net(0.9), scale=SCALE)
    with pytest.raises(LayoutMismatch, match="another structure"):
        layout.paint(net(0.9, T=6))
    assert layout.paint(net(0.9)).fits
    assert not layout.paint(net(1.234567, activation="tanh")).fits  # longer numbers than the layout was sized for


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_l1_a_stepper_runs_dot_once_and_patches_every_frame_it_can(cell, monkeypatch):
    """[L] item 1 for the steppers: backward_frames share one layout and differ only in their boxes' texts
    and colours (their line tables pinned alike), so a Stepper draws frame 0 and patches the rest; each
    patched frame is the SVG dot draws for it (under the layout's rule: a lone text centred in its cell)."""
    from micrornn.nn import LSTM, RNN
    from micrornn.viz import stepper as stepper_module
    from micrornn.viz.paint import _Template

    net = (RNN if cell == "rnn" else LSTM)(2, 3, 2, seed=0)
    rng = np.random.default_rng(0)
    u = mr.unroll.many_to_many(net, rng.normal(size=(4, 2)), rng.normal(size=(4, 2)))
    u.backward()
    frames = viz.backward_frames(u)
    runs = []
    real = stepper_module.to_svg
    monkeypatch.setattr(stepper_module, "to_svg", lambda g, timeout: runs.append(1) or real(g, timeout=timeout))
    s = stepper_module.Stepper(frames)
    assert len(runs) == 1 and len(s.svgs) == len(frames)
    for svg, (g, _) in zip(s.svgs, frames):
        fresh = _Template(real(g))
        assert svg == fresh.svg(fresh.base)


def test_l1_the_forward_stepper_draws_each_frame():
    """Its later steps are invisible boxes: another DOT than frame 0's, so dot draws them (no patch)."""
    from micrornn.viz.stepper import Stepper

    rng = np.random.default_rng(0)
    u = mr.unroll.many_to_many(mr.nn.RNN(2, 3, 2, seed=0), rng.normal(size=(3, 2)), rng.normal(size=(3, 2)))
    u.backward()
    frames = viz.forward_frames(u)
    s = Stepper(frames)
    assert [svg.count('class="node"') for svg in s.svgs] == [viz.to_svg(g).count('class="node"') for g, _ in frames]
