"""[G] 4: pictures read the unroller's roles, not label text; a hand-built graph is read from node.t."""

import html
import re
import shutil
import subprocess

import numpy as np
import pytest

import micrornn as mr
from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import GRU, LSTM, RNN, Elman, Jordan

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def words(label):
    """The text of an HTML label as a reader sees it: tags dropped, entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", label))


def label_of(source, node):
    line = next(x for x in source.splitlines() if x.strip().startswith(f"n{id(node)} [label="))
    return words(re.search(r"\[label=<(.*)>", line).group(1))


def positions(graph):
    """key → (x, y) as pinned in the DOT source (the grid of the coarse view)."""
    return {k: (float(x), float(y)) for k, x, y in re.findall(r'\b(n\d+|fold) \[.*?pos="([-\d.]+),([-\d.]+)!"',
                                                                 graph.source)}


def built(cell, topology="many_to_one", T=4, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(T, cell.input_size))
    if topology == "many_to_one":
        u = U.many_to_one(cell, xs, 1)
    else:
        u = U.many_to_many(cell, xs, np.arange(T) % cell.output_size)
    u.backward()
    return u


@pytest.mark.parametrize("cell", [RNN(2, 3, 2, seed=0), LSTM(2, 3, 2, seed=0), GRU(2, 3, 2, seed=0)],
                         ids=["rnn", "lstm", "gru"])
def test_g4_relabelled_nodes_are_drawn_where_their_roles_say(cell):
    u = built(cell)
    before = places(positions(viz.draw(u, max_width=None)))
    for n in mr.graph.topological_order(u.loss):  # labels that lie about what each node is
        if n.label is not None:
            n.label = "H_1"
    after = places(positions(viz.draw(u, max_width=None)))
    assert len(before) > 10 and before == after  # same rows, same order (widths follow the printed text)


def places(pos):
    """key → (row y, rank from the left within that row)."""
    return {k: (y, sorted(x2 for x2, y2 in pos.values() if y2 == y).index(x)) for k, (x, y) in pos.items()}


def test_g4_rows_follow_roles():
    u = built(LSTM(2, 3, 2, seed=0), T=3)
    pos = positions(viz.draw(u, max_width=None))

    def y(node):
        return pos[f"n{id(node)}"][1]

    for t in (2, 3):
        at = u.at(t)
        gates = [g for g, _, _, _ in u.gates if g.t == t]
        copies = [c for cs in u.copies.values() for c in cs if c.t == t and c not in u.copies["W_o"] + u.copies["b_o"]]
        assert y(at["X"]) < min(map(y, copies)) < max(map(y, copies)) < min(map(y, gates))
        assert max(map(y, gates)) < y(at["C"]) < y(at["H"])
    assert len({y(c) for c in u.C}) == 1  # the cell state: one row, one straight line


def test_g4_context_cut_and_weight_copy_are_named_apart():
    u = built(Elman(2, 3, 2), "many_to_many", T=3)
    src = viz.draw(u).source
    t, source, cut = u.cuts[0]
    assert u.role(cut).kind == "cut"
    text = label_of(src, cut)
    assert text.startswith("context")
    assert re.search(rf"copy of\s*H\s*{t - 1}\s*, no gradient", text)
    W_h_copy = u.copies["W_h"][0]
    assert re.fullmatch(r"W\s*H\s*\d+\s*grad.*", label_of(src, W_h_copy)) and "context" not in label_of(src, W_h_copy)
    jordan = built(Jordan(2, 3, 2), "many_to_many", T=3)
    _, _, cut = jordan.cuts[0]
    assert re.search(r"copy of\s*O\s*1\s*, no gradient", label_of(viz.draw(jordan).source, cut))


def test_g4_hand_built_graph_reads_node_t_and_prints_labels_only():
    w = mr.Value(0.9, label="weight that looks like X_1")
    h = mr.Value(0.0)
    copies = []
    for t in (1, 2, 3):
        with mr.timestep(t):
            x = mr.Value(float(t), label=f"in{t}")
            w_t = w.identity()
            w_t.label = "H_9"  # a label is only printed
            copies.append(w_t)
            h = (w_t * h + x).tanh()
            h.label = f"state {t}"
    h.backward()
    g = viz.draw(h, view="coarse", max_width=None)
    src = g.source
    assert len(re.findall(r"subgraph cluster_t\d", src)) == 3
    assert src.count(f"n{id(w)} [label=") == 1  # the parameter drawn once, outside the steps
    assert sorted(re.findall(rf"\bn{id(w)} -> (n\d+)", src)) == sorted(f"n{id(c)}" for c in copies)
    assert "3 per-step copies" in label_of(src, w)
    pos = positions(g)
    assert pos[f"n{id(w)}"][1] < min(pos[f"n{id(c)}"][1] for c in copies)  # the parameter below the steps
    assert pos[f"n{id(copies[0])}"][0] < pos[f"n{id(copies[1])}"][0] < pos[f"n{id(copies[2])}"][0]  # time →


@needs_dot
def test_f4_dot_file_names_its_layout_engine(tmp_path):
    u = built(RNN(2, 3, 2, seed=0))
    out = viz.render(viz.draw(u), tmp_path / "p.svg")
    source = (tmp_path / "p.svg.dot").read_text()
    assert "layout=neato" in source and "// layout engine: neato" in source
    by_dot = subprocess.run(["dot", "-Tsvg", str(tmp_path / "p.svg.dot")], capture_output=True, check=True).stdout
    by_neato = subprocess.run(["neato", "-Tsvg", str(tmp_path / "p.svg.dot")], capture_output=True, check=True).stdout
    assert by_dot == by_neato == out.read_bytes()


def test_g4_a_reverse_context_copies_the_state_of_t_plus_1():
    u = U.many_to_one(LSTM(2, 3, 2, bidirectional=True, truncate=2), np.ones((4, 2)), 1)
    u.backward()
    src = viz.draw(u, max_width=None).source
    for (t, source, cut), (_, direction, name) in zip(u.cuts, u.cut_of):
        text = label_of(src, cut)
        assert u.role(cut).kind == "cut" and text.startswith("context")
        before = t + 1 if direction else t - 1
        assert re.search(rf"copy of\s*{name}\s*{before}\s*(\(rev\))?\s*, no gradient", text), text
        assert source.t == before
