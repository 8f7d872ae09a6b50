"""[G] 5: a picture for every cell — rows per step, the cell-state path, stacked and bidirectional rows,
encoder beside decoder — and no two boxes overlap, read from Graphviz's own layout (``-Tplain``)."""

import itertools
import re
import shutil
import subprocess

import numpy as np
import pytest

from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import GRU, LSTM, RNN, Elman, Jordan
from micrornn.viz.heat import _C_PATH

pytestmark = [pytest.mark.lesson_pictures,  # this file's lessons: pytest -m lesson_pictures
              pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")]
CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU, "elman": Elman, "jordan": Jordan}


def boxes(graph):
    """name → (x, y, width, height) in inches of every node Graphviz placed, with the picture's engine."""
    out = subprocess.run(["dot", f"-K{graph.engine}", "-Tplain"], input=graph.source.encode(), capture_output=True,
                         timeout=120, check=True).stdout.decode()
    return {f[1]: tuple(map(float, f[2:6])) for f in (line.split() for line in out.splitlines()) if f[0] == "node"}


def overlaps(graph):
    placed = boxes(graph)
    bad = []
    for (a, (xa, ya, wa, ha)), (b, (xb, yb, wb, hb)) in itertools.combinations(placed.items(), 2):
        if abs(xa - xb) < (wa + wb) / 2 - 0.01 and abs(ya - yb) < (ha + hb) / 2 - 0.01:
            bad.append((a, b))
    return bad, len(placed)


def make(cell, topology, T, h0=False, scalar=False, layers=1, bidirectional=False):
    kw = {} if cell in ("elman", "jordan") else {"num_layers": layers, "bidirectional": bidirectional}
    net = CELLS[cell](2, 3, 2, seed=0, **kw)
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(T, 2))
    start = None
    if h0:
        shape = ((layers * (2 if bidirectional else 1),) if layers > 1 or bidirectional else ()) + (net.context_size,)
        start = (np.zeros(shape), np.zeros(shape)) if cell == "lstm" else np.zeros(shape)
    if topology == "many_to_one":
        u = U.many_to_one(net, xs, 1, h0=start, scalar=scalar)
    elif topology == "many_to_many":
        u = U.many_to_many(net, xs, np.arange(T) % 2, h0=start, scalar=scalar)
    elif topology == "one_to_many":
        u = U.one_to_many(net, xs[0], np.arange(T) % 2, h0=start, scalar=scalar)
    else:
        u = U.seq2seq(net, CELLS[cell](2, 3, 2, seed=1, **kw), xs, rng.normal(size=(max(T - 1, 1), 2)),
                      scalar=scalar)
    u.backward()
    return u


GRID = [(c, t, 3, True) for c in ("rnn", "lstm", "gru") for t in ("many_to_one", "many_to_many", "one_to_many")]
GRID += [(c, "many_to_many", 12, False) for c in ("rnn", "lstm", "gru")]  # folded, to fit a slide
GRID += [("rnn", "many_to_one", 1, False), ("lstm", "one_to_many", 1, False), ("elman", "many_to_many", 3, False),
         ("jordan", "many_to_many", 3, False)]


@pytest.mark.parametrize("cell,topology,T,h0", GRID)
def test_g5_no_two_boxes_overlap(cell, topology, T, h0):
    bad, n = overlaps(viz.draw(make(cell, topology, T, h0)))
    assert n > 5 and not bad


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("case", ["stacked", "bidirectional", "stacked_bidirectional_h0", "seq2seq", "scalar"])
def test_g5_no_overlap_in_compositions(cell, case):
    if case == "seq2seq":
        u = make(cell, "seq2seq", 4)
    elif case == "scalar":
        u = make(cell, "many_to_many", 3, h0=True, scalar=True)
    else:
        u = make(cell, "many_to_one", 5, h0=case.endswith("h0"), layers=1 if case == "bidirectional" else 2,
                 bidirectional="bidirectional" in case)
    bad, n = overlaps(viz.draw(u))
    assert n > 5 and not bad


def key(node):
    return f"n{id(node)}"


def test_g5_lstm_cell_state_is_one_highlighted_line():
    u = make("lstm", "many_to_one", 5, layers=2)
    g = viz.draw(u, max_width=None)
    placed = boxes(g)
    for layer in (0, 1):
        C = u.states[(layer, 0)]["C"]
        assert len({round(placed[key(c)][1], 3) for c in C}) == 1  # one row
        for a, b in zip(C, C[1:]):
            edge = re.search(rf"\b{key(a)} -> {key(b)} \[([^\]]*)\]", g.source)
            assert edge and f'color="{_C_PATH}"' in edge.group(1) and "penwidth=3" in edge.group(1)
    assert "cell state's path" in g.source  # the legend says what the red line is
    H_top, H_low = u.states[(1, 0)]["H"], u.states[(0, 0)]["H"]
    assert all(placed[key(a)][1] > placed[key(b)][1] for a, b in zip(H_top, H_low))  # layers stacked upwards


def test_g5_bidirectional_has_two_h_rows_with_opposite_arrows():
    u = make("gru", "many_to_many", 4, bidirectional=True)
    g = viz.draw(u, max_width=None)
    placed = boxes(g)
    forward, reverse = u.states[(0, 0)]["H"], u.states[(0, 1)]["H"]
    assert len({placed[key(h)][1] for h in forward}) == 1 and len({placed[key(h)][1] for h in reverse}) == 1
    assert placed[key(forward[0])][1] != placed[key(reverse[0])][1]
    for a, b in zip(forward, forward[1:]):  # H_t → H_{t+1}: left to right
        assert re.search(rf"\b{key(a)} -> {key(b)}\b", g.source) and placed[key(a)][0] < placed[key(b)][0]
    for a, b in zip(reverse, reverse[1:]):  # H^rev_{t+1} → H^rev_t: right to left
        assert re.search(rf"\b{key(b)} -> {key(a)}\b", g.source) and placed[key(b)][0] > placed[key(a)][0]


def test_g5_encoder_and_decoder_side_by_side():
    u = make("lstm", "seq2seq", 3)
    g = viz.draw(u, max_width=None)
    placed = boxes(g)
    enc, dec = u.encoder.states[(0, 0)]["H"], u.states[(0, 0)]["H"]
    assert max(placed[key(h)][0] for h in enc) < min(placed[key(h)][0] for h in dec)
    assert "encoder · t = 1" in g.source and "decoder · t = 4" in g.source
    assert "(encoder)" in g.source and "(decoder)" in g.source  # two W^H: each says whose it is


def test_g5_hand_built_h0_does_not_cover_a_parameter():
    """The issue's picture: a hand-built net whose H_0 (a leaf made outside any time step) was drawn in
    the parameters' row, centred like them, on top of one."""
    import micrornn as mr

    w, u, b = mr.Value(0.5, label="W^H"), mr.Value(1.5, label="W^X"), mr.Value(0.1, label="b")
    h = mr.Value(0.0, label="H_0")
    for t in (1, 2, 3):
        with mr.timestep(t):
            x = mr.Value(0.3 * t, label=f"X_{t}")
            w_t, u_t, b_t = w.identity(), u.identity(), b.identity()
            w_t.label, u_t.label, b_t.label = f"W^H_{t}", f"W^X_{t}", f"b_{t}"
            h = (w_t * h + u_t * x + b_t).tanh()
            h.label = f"H_{t}"
    h.backward()
    bad, n = overlaps(viz.draw(h, view="coarse"))
    assert n > 10 and not bad
