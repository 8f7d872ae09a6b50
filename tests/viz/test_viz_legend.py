"""[L] item 6, readable by default: one gate order per column (the notes' i, f, g, o, a hole where a step
lacks a gate), and the legend says what |x|, the twin biases and a first step without W^H mean — each
line only where the picture shows it."""

import html
import re

import numpy as np
import pytest

from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import GRU, LSTM, RNN, Elman

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures

NORM = "|x|: the length of a vector or matrix x"
TWINS = "two biases, as PyTorch's bias_ih and bias_hh"
FIRST = "t = 1 has no"


def pinned(g):
    """DOT name → the pinned centre (x, y) of every box."""
    return {m.group(1): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r'^\s*(n\d+) \[.*?pos="([-\d.]+),([-\d.]+)!"', g.source, re.M | re.S)}


def key(node):
    return f"n{id(node)}"


def legend(g):
    line = next(line for line in g.source.splitlines() if line.lstrip().startswith("legend"))
    return html.unescape(line.replace('<BR ALIGN="LEFT"/>', " "))


def lstm(h0=False, T=3):
    net = LSTM(2, 3, 2, seed=0)
    start = (np.zeros(3), np.zeros(3)) if h0 else None
    u = U.many_to_one(net, np.random.default_rng(0).normal(size=(T, 2)), np.array([1.0, 0.0]), h0=start)
    u.backward()
    return u


def near(a, b, tol=0.15):
    """Two places in their columns, relative to H_t: boxes differ a little in width with their numbers."""
    return abs(a[0] - b[0]) < tol and abs(a[1] - b[1]) < 1e-6


def test_every_column_keeps_i_f_g_o_in_one_place_and_t1_leaves_f_empty():
    u = lstm()
    pos = pinned(viz.draw(u, max_width=None))
    by_step: dict[int, dict[str, tuple[float, float]]] = {}
    H = {h.t: pos[key(h)] for h in u.H if key(h) in pos}
    for node, name, _, _ in u.gates:
        if key(node) not in pos:  # f_1: computed, but with no C_0 it feeds nothing, so it is not drawn
            continue
        x, y = pos[key(node)]
        by_step.setdefault(node.t, {})[name] = (x - H[node.t][0], y)  # relative to H_t
    assert set(by_step[2]) == set(by_step[3]) == {"i", "f", "g", "o"}
    assert "f" not in by_step[1]
    for t in (1, 3):
        assert all(near(by_step[t][g], by_step[2][g]) for g in by_step[t]), t
    # the notes' order: i, f on the first line, g, o above them, left to right
    (xi, yi), (xf, yf), (xg, yg), (xo, yo) = (by_step[2][g] for g in "ifgo")
    assert yi == yf < yg == yo and xi < xf and xg < xo
    assert by_step[1]["i"][0] < -0.3  # i_1 keeps the left place: f_1's is left empty, not filled by i_1


def test_the_copies_keep_their_places_too():
    u = lstm()
    pos = pinned(viz.draw(u, max_width=None))
    H = {h.t: pos[key(h)] for h in u.H if key(h) in pos}
    place = {name: {c.t: (pos[key(c)][0] - H[c.t][0], pos[key(c)][1]) for c in copies}
             for name, copies in u.copies.items() if name in ("W_x", "W_h", "b_x", "b_h")}
    assert 1 not in place["W_h"]  # no H_0: no W^H H_0 term at t = 1
    for name, where in place.items():
        assert all(near(p, where[3]) for p in where.values()), (name, where)
    assert place["W_x"][1][0] < -0.3  # W^X_1 stays left, beside W^H_1's empty place


@pytest.mark.parametrize("make,norm,twins,first", [
    (lambda: lstm(), True, True, True),
    (lambda: lstm(h0=True), True, True, False),
    (lambda: U.many_to_many(RNN(2, 3, 2, seed=0), np.ones((3, 2)), np.zeros((3, 2))), True, False, True),
    (lambda: U.many_to_many(Elman(2, 3, 2, seed=0), np.ones((3, 2)), np.zeros((3, 2)), h0=np.zeros(3)),
     True, False, False),
    (lambda: U.many_to_many(RNN(1, 1, 1, seed=0), np.ones((3, 1)), np.zeros((3, 1)), scalar=True),
     False, False, True),
    (lambda: U.many_to_one(GRU(2, 3, 2, seed=0), np.ones((3, 2)), np.zeros(2)), True, True, True),
])
def test_the_legend_explains_what_the_picture_shows_and_nothing_else(make, norm, twins, first):
    u = make()
    u.backward()
    text = legend(viz.draw(u))
    assert (NORM in text) is norm
    assert (TWINS in text) is twins
    assert (FIRST in text) is first


def test_the_first_step_line_names_what_is_missing_and_why():
    text = legend(viz.draw(lstm()))
    assert "t = 1 has no W^H, f: no h0 was given, so there is no H_0 or C_0 for them to act on" in text
    gru = U.many_to_one(GRU(2, 3, 2, seed=0), np.ones((3, 2)), np.zeros(2))
    gru.backward()
    assert "the candidate n gates b^H's part" in legend(viz.draw(gru))  # a GRU's b^H is not only added
    assert not np.allclose(gru.rnn.b_x.grad, gru.rnn.b_h.grad)
    u = lstm()
    assert np.allclose(u.rnn.b_x.grad, u.rnn.b_h.grad)  # an LSTM's are: "their gradients are equal"


def test_a_long_explaining_line_is_wrapped_so_the_colour_bar_keeps_its_width():
    source = next(line for line in viz.draw(lstm()).source.splitlines() if line.lstrip().startswith("legend"))
    assert len(re.findall(r'<TD BGCOLOR="#[0-9a-f]{6}" WIDTH="34">', source)) == 10
    rows = re.findall(r'BALIGN="LEFT">(.*?)</TD>', source)
    assert len(rows) == 3 and any('<BR ALIGN="LEFT"/>' in row for row in rows)
    for row in rows:
        assert all(len(html.unescape(part)) <= 84 for part in row.split('<BR ALIGN="LEFT"/>'))


@pytest.mark.parametrize("cell", [LSTM, GRU])
def test_the_ops_view_of_a_gated_net_reads_at_scale_at_least_0_6_on_a_slide(cell):
    """[L] item 6: an LSTM T = 3 ops picture was 6,300 px wide, drawn at 0.3 of a 2,000 px slide; its steps
    now run top to bottom. The scale is the one dot applies: MAX_WIDTH over the picture's natural width."""
    import shutil
    import subprocess

    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    u = U.many_to_one(cell(2, 3, 2, seed=0), np.random.default_rng(0).normal(size=(3, 2)), np.array([1.0, 0.0]))
    u.backward()
    g = viz.draw(u, view="ops", max_width=None)
    plain = subprocess.run(["dot", "-Tplain"], input=g.source.encode(), capture_output=True, check=True,
                           timeout=120).stdout.decode()
    width_px = float(plain.split()[2]) * 96
    assert min(1.0, viz.MAX_WIDTH / width_px) >= 0.6, width_px
    assert 'rankdir=TB' in g.source
    assert 'rankdir=LR' in viz.draw(U.many_to_one(RNN(2, 3, 2), np.ones((3, 2)), np.zeros(2)), view="ops",
                                     grads=False).source  # the simple RNN keeps micrograd's left to right
