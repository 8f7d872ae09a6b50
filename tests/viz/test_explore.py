"""[L] 3, 4: explore — sliders over a net, repainted on a cached layout; its offline lesson page (viz/explore.py)."""

import html
import re
import shutil
import subprocess
import sys

import pytest

import micrornn as mr
from micrornn.viz import explore as E
from micrornn.viz.explore import Explorer
from micrornn.viz.text import _fmt

pytestmark = [pytest.mark.lesson_pictures, pytest.mark.lesson_vanishing,
              pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")]


def ratios(numbers_html):
    """(k, the ratio shown, w^(T−k) shown) for every row of the numbers table."""
    rows = re.findall(r'<tr><td>(\d+)</td><td class="ratio">([^<]*)</td><td>([^<]*)</td></tr>', numbers_html)
    return [(int(k), r, p) for k, r, p in rows]


@pytest.fixture(scope="module")
def linear():
    return Explorer(cell="rnn", T=50, w=(0.8, 1.2, 0.05))


def test_l3_every_number_shown_for_the_linear_net_is_w_to_the_T_minus_k(linear):
    for w in (0.9, 1.0, 1.1, 1.2):
        rows = ratios(linear.frame({"w": w}).numbers)
        assert len(rows) >= 8 and rows[0][0] == 50 and rows[-1][0] == 1
        for k, shown, power in rows:
            assert shown == power == _fmt(w ** (50 - k)), (w, k)  # backprop's ratio = w^(T−k) to 4 digits


def test_l3_the_spectral_radius_criterion_and_one_fixed_scale(linear):
    assert "ρ(W<sup>H</sup>) = 0.9 &lt; 1" in linear.frame({"w": 0.9}).numbers
    assert "ρ(W<sup>H</sup>) = 1.1 &gt; 1" in linear.frame({"w": 1.1}).numbers
    lo, hi = linear.scale.range  # fixed over the sliders' ends, w = 0.8 and w = 1.2: every w lies within
    assert linear.scale.shared
    for w in (0.8, 1.0, 1.2):
        norms = E._norms(linear.net({"w": w}))
        assert lo * (1 - 1e-9) <= min(norms) and max(norms) <= hi * (1 + 1e-9)
    a, b = linear.frame({"w": 0.9}), linear.frame({"w": 1.1})
    assert a.layout is b.layout and a.layout.dot_runs == 1  # one dot run for every w
    legend = a.layout.template.groups["legend"]
    assert a.paint.values[legend.start:legend.stop] == b.paint.values[legend.start:legend.stop]


def test_l3_bad_settings_are_named_at_the_call():
    with pytest.raises(ValueError, match="unknown cell 'lstn'"):
        Explorer(cell="lstn")
    with pytest.raises(ValueError, match="empty range"):
        Explorer(w=(1.5, 0.5, 0.1))
    with pytest.raises(ValueError, match="T must be a whole number of steps from 1 to 1,000"):
        Explorer(T=(1, 5000))
    with pytest.raises(TypeError, match="no setting"):
        Explorer(cell="rnn", lr=0.1)
    with pytest.raises(ValueError, match="at most 201"):
        Explorer(w=(0.0, 100.0, 0.01))
    with pytest.raises(ValueError, match="activation belongs to the simple RNN"):
        Explorer(cell="lstm", activation="relu")


def test_l3_a_build_function_and_another_structure_per_T():
    def build(T, w):
        return E.builtin("rnn", T=T, w=w)

    ex = Explorer(build, T=[4, 6], w=(0.5, 1.5, 0.5))
    four, six = ex.frame({"T": 4, "w": 1.5}), ex.frame({"T": 6, "w": 0.5})
    assert four.layout is not six.layout and [k for k, _, _ in ratios(six.numbers)] == [6, 5, 4, 3, 1]
    with pytest.raises(TypeError, match="must return an Unrolled"):
        Explorer(lambda w: 1.0, w=(0.5, 1.0, 0.5)).frame({})


def test_l4_the_lesson_page_is_one_svg_and_patches_offline_and_small(tmp_path):
    ex = Explorer(cell="rnn", T=50, w=(0.5, 1.5, 0.05), activation=["tanh", "relu", "identity"])
    page = ex.save(tmp_path / "lesson.html")  # 21 × 3 settings
    text = page.read_text(encoding="utf-8")
    assert page.stat().st_size <= 2_000_000
    assert text.count('<div class="pic"') == 1 and text.count("<g id=\"graph0\"") == 1  # one SVG, 63 patches
    # SVG's namespace names are identifiers, not requests; nothing else may point at the network
    bare = re.sub(r'xmlns(:xlink)?="http://www\.w3\.org/[^"]*"', "", text)
    assert "http:" not in bare and "https:" not in bare and "@import" not in bare and "<link" not in bare
    with pytest.raises(ValueError, match="at most 2,000"):
        Explorer(cell="rnn", T=(1, 200), w=(0.5, 1.5, 0.05)).save(tmp_path / "big.html")
    with pytest.raises(ValueError, match="grid names no slider"):
        ex.save(tmp_path / "x.html", grid={"lr": [1]})


def browser():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(browser() is None, reason="needs Chromium (apt-get install chromium)")
def test_l4_moving_the_slider_changes_the_numbers_in_a_browser_with_no_network(tmp_path):
    T = 20
    ex = Explorer(cell="rnn", T=[6, T], w=(0.8, 1.2, 0.1))  # two layouts: T = 6 and T = 20
    page = ex.save(tmp_path / "lesson.html")

    def shown(address):
        # --proxy-server to a closed port: no request can leave the machine, as on a laptop offline
        dom = subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--proxy-server=127.0.0.1:9", f"--user-data-dir={tmp_path / 'profile'}",
                              "--dump-dom", address], capture_output=True, text=True, timeout=120).stdout
        numbers = dom[dom.index('<div class="numbers">'):]
        pics = re.findall(r'<div class="pic"( hidden="")?>(.*?)</div>', dom, flags=re.S)
        (picture,) = [svg for hidden, svg in pics if not hidden]  # one layout is shown
        nodes = "".join(re.findall(r'<g id="node\d+" class="node">(.*?)</g>', picture, flags=re.S))
        return ratios(numbers), [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", nodes)]

    start, start_texts = shown(page.as_uri())  # T = 6, w = 1.0
    moved, moved_texts = shown(page.as_uri() + f"#T={T}&w=1.2")
    assert [k for k, _, _ in start] == [6, 5, 4, 3, 1] and all(p == "1" for _, _, p in start)
    assert moved[0][0] == T and all(r == p == _fmt(1.2 ** (T - k)) for k, r, p in moved)
    frame = ex.frame({"T": T, "w": 1.2})  # on the layout the page holds: the browser shows what Python painted
    slots = frame.layout.template.slots
    assert moved_texts == [html.unescape(v[1]) for v, slot in zip(frame.paint.values, slots) if slot.attrs is not None]
    assert moved_texts != start_texts


def test_l3_import_micrornn_stays_light_and_explore_is_there():
    code = ("import sys, micrornn as mr; "
            "print('graphviz' in sys.modules, 'ipywidgets' in sys.modules, callable(mr.explore))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
    assert out == ["False", "False", "True"]


def test_l3_the_widget_repaints_when_the_slider_moves():
    pytest.importorskip("ipywidgets", reason="the widget needs the extra: pip install 'micrornn[widgets]'")
    box = mr.explore(cell="rnn", T=30, w=(0.8, 1.2, 0.1)).widget()
    (slider,) = box.controls
    before = box.picture.value
    slider.value = 1.1
    assert box.picture.value != before and box.picture.value.startswith("<svg")
    assert all(r == p == _fmt(1.1 ** (30 - k)) for k, r, p in ratios(box.numbers.value))


def test_l3_without_ipywidgets_the_error_names_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'micrornn\[widgets\]'"):
        mr.explore(cell="rnn", T=5)


def test_review_the_scale_spans_every_choice_and_the_page_checks_its_grid_and_suffix(tmp_path):
    """A fresh-eyes review: the scale came from the sliders' ends with a list at its first choice (tanh, where
    w = 1.5 cannot explode); a grid value the slider does not offer, and a .png path, were written as given."""
    from micrornn.viz.explore import Explorer

    ex = Explorer(cell="rnn", T=(5, 20), w=(0.5, 1.5, 0.5), activation=["tanh", "identity"])
    lo, hi = ex.scale.range
    assert hi > 1e3  # identity at w = 1.5, T = 20: 1.5^19 ≈ 2,200
    with pytest.raises(ValueError, match=r"grid\['T'\] has \[100\], which the slider does not offer"):
        ex.save(tmp_path / "g.html", grid={"T": [100]})
    with pytest.raises(ValueError, match="expected a .html file"):
        ex.save(tmp_path / "lesson.png")
    assert "sliders: T (16 values), w (3 values), activation (2 values)" in repr(ex)
