"""[L] item 2: ``viz.compare([u1, u2, …])`` draws graphs side by side on one colour scale, and the legend
says the scale is shared."""

import numpy as np
import pytest

import micrornn as mr
from micrornn import viz

pytestmark = [pytest.mark.lesson_pictures, pytest.mark.lesson_vanishing]


def linear(w, T=6):
    net = mr.nn.RNN(1, 1, 1, activation="identity", seed=0)
    net.W_h.data[...] = w
    u = mr.unroll.many_to_one(net, np.ones((T, 1)), np.zeros(1))
    u.backward()
    return u


def test_one_scale_spans_every_picture_and_each_legend_says_shared():
    a, b = linear(0.5), linear(1.5)
    own = [viz.scale_of(viz.draw(u)) for u in (a, b)]
    c = viz.compare([a, b], titles=["w = 0.5", "w = 1.5"])
    assert c.scale.lo == min(s.lo for s in own) and c.scale.hi == max(s.hi for s in own)
    for picture in c.pictures:
        assert viz.scale_of(picture) == c.scale
        assert "log scale, shared" in picture.source
    assert "w = 0.5" in c.pictures[0].source and "w = 1.5" in c.pictures[1].source


def test_a_given_scale_is_used_as_it_is():
    c = viz.compare([linear(0.9), linear(1.1)], scale=(1e-3, 1e3))
    assert [round(v, 9) for v in c.scale.range] == [1e-3, 1e3]


def test_the_page_holds_both_pictures_and_no_network_reference(tmp_path):
    c = viz.compare([linear(0.5), linear(1.5)], titles=["w = 0.5", "w = 1.5"])
    page = c.save(tmp_path / "compare.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "w = 1.5" in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    assert "one colour scale for all" in c._repr_html_()


@pytest.mark.parametrize("args,kw,error,match", [
    ([], {}, ValueError, "non-empty list"),
    ("not a list", {}, ValueError, "non-empty list"),
    ([1.0], {}, TypeError, "takes an Unrolled, a Tensor or a Value, got float"),
    (None, {"titles": ["only one"]}, ValueError, "expected a list of 2 strings"),
    (None, {"titles": "ab"}, ValueError, "expected a list of 2 strings"),
    (None, {"title": "x"}, TypeError, "pass scale= and titles= to compare itself"),
])
def test_bad_input_is_refused_by_name(args, kw, error, match):
    graphs = [linear(0.5), linear(1.5)] if args is None else args
    with pytest.raises(error, match=match):
        viz.compare(graphs, **kw)


def test_too_many_pictures_and_a_bad_path_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at most 6"):
        viz.compare([linear(0.5)] * 7)
    with pytest.raises(ValueError, match="expected a .html file"):
        viz.compare([linear(0.5)]).save(tmp_path / "c.png")


def test_a_graph_without_gradients_is_named():
    net = mr.nn.RNN(1, 1, 1, seed=0)
    fresh = mr.unroll.many_to_one(net, np.ones((3, 1)), np.zeros(1))  # no backward()
    with pytest.raises(ValueError, match="graph 2 has no gradients to colour"):
        viz.compare([linear(0.5), fresh])


def test_the_pictures_fold_alike_whatever_width_their_numbers_print():
    import re

    def drawn(p):
        return len(set(re.findall(r'label="t = (\d+)"', p.source)))

    nets = [linear(w, T=8) for w in (0.5, 0.9, 1.1)]
    for width in (1500, 1800):
        c = viz.compare(nets, max_width=width)
        assert len({drawn(p) for p in c.pictures}) == 1, width
