"""[F] 4: pictures read the same everywhere — tokens as text, 0 apart from "no gradient", slide width,
no glyph that reads as something else."""

import html
import re
import shutil

import numpy as np
import pytest

from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import GRU, LSTM, RNN, Elman
from micrornn.viz.heat import _NO_GRAD, _ZERO_GRAD

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def node(source, n):
    """(words, fill colour) of node ``n`` in the DOT source."""
    line = next(x for x in source.splitlines() if x.strip().startswith(f"n{id(n)} [label="))
    label = re.search(r"\[label=<(.*)>", line).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", label)), re.search(r'BGCOLOR="([^"]+)"', label).group(1)


def test_f4_token_ids_show_the_token():
    rnn = RNN(5, 3, 5, token_ids=True, seed=0)
    u = U.many_to_many(rnn, np.array([1, 2, 3]), np.array([2, 3, 4]))
    u.backward()
    src = viz.draw(u, tokens="_abcd").source
    for t, ch in ((1, "a"), (2, "b"), (3, "c")):
        assert re.search(rf"X\s*{t}\s*‘{ch}’ \({t}\)", html.unescape(re.sub(r"<[^>]+>", " ", src)))
    token = re.findall(r"(n\d+) -> (n\d+) \[color=\"#777777\" style=dashed\]", src)
    H = {f"n{id(h)}" for h in u.H}
    assert len(token) == 3 and {head for _, head in token} == H  # X_t → where W^X's column X_t goes: H_t
    words = viz.draw(u, tokens={1: "the", 2: "cat", 3: "sat"}).source
    assert "‘cat’ (2)" in html.unescape(words)
    assert "id 2" in html.unescape(viz.draw(u).source)  # no vocabulary: the id
    with pytest.raises(TypeError, match="tokens must map token ids to text"):
        viz.draw(u, tokens=5)


def test_f4_a_zero_gradient_is_not_no_gradient():
    rnn = RNN(2, 3, 2, seed=0)
    xs = np.random.default_rng(0).normal(size=(3, 2))
    xs[1] = 0.0  # X_2 = 0: dL/dW^X_2 = dL/dz_2 X_2ᵀ is exactly 0, yet the loss depends on W^X_2
    u = U.many_to_one(rnn, xs, 1)
    u.backward()
    text, fill = node(viz.draw(u).source, u.copies["W_x"][1])
    assert text.endswith("grad |0|") and fill == _ZERO_GRAD  # the norm of a zero array
    copy_net = U.many_to_one(Elman(2, 3, 2), xs, 1)
    copy_net.backward()
    src = viz.draw(copy_net).source
    text, fill = node(src, copy_net.H[0])  # H_1 is only copied into the context: no gradient reaches it
    assert "grad —" in text and fill == _NO_GRAD
    text, fill = node(src, copy_net.H[-1])
    assert fill not in (_NO_GRAD, _ZERO_GRAD)
    assert "— no gradient" in src and ">0</TD>" in src  # the legend tells them apart


@needs_dot
@pytest.mark.parametrize("cell", [RNN, LSTM, GRU])
@pytest.mark.parametrize("T", [9, 50])
def test_f4_long_pictures_fit_a_slide(cell, T):
    net = cell(2, 3, 2, seed=0)
    u = U.many_to_many(net, np.random.default_rng(0).normal(size=(T, 2)), np.arange(T) % 2)
    u.backward()
    g = viz.draw(u)
    svg = viz.to_svg(g)
    width_pt = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert width_pt * 96 / 72 <= 2000
    assert "folded" in g.source  # by folding steps, not by shrinking the text
    assert float(re.search(r'<svg width="([\d.]+)pt"', viz.to_svg(viz.draw(u, max_width=None))).group(1)) > 1500


def test_f4_max_width_is_checked():
    u = U.many_to_one(RNN(2, 3, 2), np.ones((3, 2)), 1)
    for bad in (0, 100, 2.5, "wide", True):
        with pytest.raises(ValueError, match="max_width must be None or an int ≥ 200"):
            viz.draw(u, max_width=bad)


@needs_dot
def test_f4_no_double_bar_glyph():
    """In Arial-like fonts an l is a plain bar, so ‖0.46‖ read "ll0.46ll". Norms are |x|, as in the legend."""
    u = U.many_to_many(LSTM(2, 3, 2, seed=0), np.ones((12, 2)), np.arange(12) % 2)
    u.backward()
    assert "‖" not in viz.to_svg(viz.draw(u))
    frames = viz.backward_frames(u) + viz.forward_frames(u)
    assert not any("‖" in caption or "‖" in g.source for g, caption in frames)
    assert re.search(r"grad \|[\d.e-]+\|", html.unescape(viz.draw(u).source))
