"""Pictures: structure read from the DOT source (not pixels), rendering, guards, the stepper page."""

import re
import shutil
import subprocess

import numpy as np
import pytest
from helpers import plain_layout

import micrornn as mr
from micrornn import plots, viz
from micrornn import unroll as U
from micrornn.cli import main as cli
from micrornn.nn import RNN, Elman
from micrornn.viz import dot as viz_dot

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot is not installed (make test installs it)")


def unrolled(T=5, h0=False, scalar=False, net=None, topology="many_to_one"):
    net = net or RNN(2, 3, 2, seed=0)
    xs = np.random.default_rng(0).normal(size=(T, net.input_size))
    if topology == "many_to_one":
        y = np.full(net.output_size, 0.5)
        u = U.many_to_one(net, xs, y, h0=np.zeros(net.context_size) if h0 else None, scalar=scalar)
    else:
        u = U.many_to_many(net, xs, np.arange(T) % net.output_size, scalar=scalar)
    net.zero_grad()
    u.backward()
    return u


def node_line(source, node):
    return next(line for line in source.splitlines() if line.strip().startswith(f"n{id(node)} [label="))


def text(label):
    """The words of an HTML label: tags dropped, entities read (a non-breaking space is a space)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", label)).replace("\xa0", " ")


@pytest.mark.parametrize("h0", [False, True])
def test_clusters_parameters_and_copy_edges(h0):
    T = 5
    u = unrolled(T, h0=h0)
    src = viz.draw(u).source
    assert len(re.findall(r"subgraph cluster_t\d+", src)) == T + h0  # one per step (and t = 0 for H_0)
    for p in u.rnn.parameters():
        assert src.count(f"n{id(p)} [label=") == 1  # drawn once
    copy_edges = re.findall(rf"\bn{id(u.rnn.W_h)} -> (n\d+)", src)
    assert len(copy_edges) == (T if h0 else T - 1)
    assert sorted(copy_edges) == sorted(f"n{id(c)}" for c in u.copies["W_h"])


def test_sigma_label_equals_parameter_gradient():
    u = unrolled(6, scalar=True, net=RNN(1, 1, 1, seed=3))
    src = viz.draw(u).source
    for name, p in u.rnn.named_parameters():
        leaf = u.leaves[name].item()
        label = node_line(src, leaf)
        value = float(re.search(r"= (-?[\d.e+-]+)", text(label)).group(1))
        assert value == pytest.approx(p.grad.item(), rel=1e-3)
    u = unrolled(4)
    label = node_line(viz.draw(u).source, u.rnn.W_h)
    norm = float(re.search(r"= \|([\d.e+-]+)\|", text(label)).group(1))
    assert norm == pytest.approx(np.linalg.norm(u.rnn.W_h.grad), rel=1e-3)


def test_edge_labels_are_local_derivatives():
    a, b = mr.Value(2.0, label="a"), mr.Value(-3.0, label="b")
    y = (a * b).tanh()
    y.label = "y"
    y.backward()
    src = viz.draw(y, view="ops").source
    prod = y._parents[0]
    assert re.search(rf"n{id(a)} -> op{id(prod)} \[label=-3\]", src)  # ∂(ab)/∂a = b
    assert re.search(rf"n{id(b)} -> op{id(prod)} \[label=2\]", src)
    assert re.search(rf'n{id(prod)} -> op{id(y)} \[label="?{y._local[0]:.4g}"?\]', src)  # 1 − tanh²


@pytest.mark.lesson_vanishing
def test_univariate_coarse_edges_carry_the_chain_factors():
    net = RNN(1, 1, 1, activation="tanh", seed=0)
    net.W_h.data[...] = 1.5
    u = unrolled(4, scalar=True, net=net)
    src = viz.draw(u).source
    for prev, cur in zip(u.H, u.H[1:]):
        factor = 1.5 * (1 - cur.item().data ** 2)  # ∂H_t/∂H_{t-1} = f'(z_t) w
        assert re.search(rf'n{id(prev.item())} -> n{id(cur.item())} \[label="?{factor:.4g}"?\]', src)


def test_long_sequences_fold_into_one_node_and_sigma_counts_every_step():
    u = unrolled(50)
    src = viz.draw(u, max_steps=8, max_width=None).source
    assert len(re.findall(r"subgraph cluster_t\d+", src)) == 8
    assert "… 42 steps …" in src and "t = 5–46" in src
    assert "49 per-step copies" in src  # W^H: the Σ still counts every copy


def test_node_budget_switches_to_coarse_and_says_so():
    u = unrolled(30)
    src = viz.draw(u, view="ops", max_steps=30, node_budget=100).source
    assert "ops view over the 100-node budget: drawn coarse" in src
    assert "collapsed to" in src


def test_copy_net_context_edges_are_dashed():
    u = unrolled(4, net=Elman(2, 3, 2), topology="many_to_many")
    src = viz.draw(u).source
    assert src.count("copy — no gradient") == 3 == len(u.cuts)


def test_bad_arguments():
    with pytest.raises(ValueError, match="view must be one of"):
        viz.draw(mr.Value(1.0), view="fine")
    with pytest.raises(TypeError, match="takes an Unrolled, a Tensor or a Value"):
        viz.draw([1, 2])
    with pytest.raises(ValueError, match="max_steps must be an int ≥ 2"):
        viz.draw(mr.Value(1.0), max_steps=1)


def test_missing_dot_names_the_install_and_keeps_the_source(tmp_path, monkeypatch):
    monkeypatch.setattr(viz_dot.shutil, "which", lambda name: None)
    with pytest.raises(viz.DotNotFound, match="apt-get install graphviz"):
        viz.render(viz.draw(unrolled(3)), tmp_path / "p.svg")
    assert "digraph" in (tmp_path / "p.svg.dot").read_text()


@needs_dot
def test_dot_runs_with_a_timeout():
    with pytest.raises(TimeoutError, match="longer than"):
        viz.to_svg(viz.draw(unrolled(8)), timeout=1e-4)


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_render_files(tmp_path, fmt):
    for view in ("coarse", "ops"):
        out = viz.render(viz.draw(unrolled(4), view=view), tmp_path / f"p_{view}.{fmt}")
        assert out.stat().st_size > 1000
    svg = viz.to_svg(viz.draw(unrolled(4)))
    assert svg.count('class="cluster"') == 4


@needs_dot
def test_backward_frames_and_stepper_page(tmp_path):
    T = 4
    u = unrolled(T)
    frames = viz.backward_frames(u)
    assert len(frames) == T + 2  # forward, one per step from T down to 1, done
    assert "grad ·" in frames[0][0].source and "grad ·" not in frames[-1][0].source
    assert "Σ over 1 of 3 copies" in frames[1][0].source  # W^H at t = 4: one of its copies (t = 2, 3, 4)
    assert "Σ over 2 of 3 copies" in frames[2][0].source
    page = viz.save_stepper(frames, tmp_path / "bptt.html")
    html = page.read_text()
    assert html.count('class="frame"') == T + 2 and "<svg" in html and "http" not in html.split("<svg")[0]


def find_browser():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@needs_dot
@pytest.mark.skipif(find_browser() is None, reason="no Chromium: .ci/run installs Debian's chromium")
def test_stepper_steps_in_a_real_browser(tmp_path):
    page = viz.save_stepper(viz.backward_frames(unrolled(3)), tmp_path / "bptt.html")
    cmd = [find_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom"]
    before = subprocess.run(cmd + [page.as_uri()], capture_output=True, text=True, timeout=60).stdout
    after = subprocess.run(cmd + [page.as_uri() + "#selftest"], capture_output=True, text=True, timeout=60).stdout
    assert 'data-frame="0"' in before
    assert 'data-frame="2"' in after  # one step by the → key, one by the button
    shown = re.findall(r'<div class="frame" data-index="(\d+)"(?! hidden)', after)
    assert shown == ["2"]


def test_plots():
    u = unrolled(10)
    fig = plots.gradient_flow({"tanh": u})
    assert fig.axes[0].get_yscale() == "log"
    radii = [0.9, 1.0, 1.1]
    ratios = plots.sweep_gradients(radii, T=20, hidden=4)
    assert np.allclose(ratios, np.array(radii) ** 19, rtol=1e-9)  # identity f: exactly ρ^(T-1)
    assert plots.spectral_sweep(radii, T=10, hidden=3).axes
    assert plots.training_curves({"loss": [3, 2, 1]}).axes
    with pytest.raises(ValueError):
        plots.training_curves({})


@needs_dot
def test_cli_draw(tmp_path, capsys):
    out = tmp_path / "picture.svg"
    assert cli(["draw", "--topology", "many-to-one", "--steps", "5", "--hidden", "3", "--out", str(out)]) == 0
    assert out.read_text().count('class="cluster"') == 5
    assert "wrote" in capsys.readouterr().out
    assert cli(["draw", "--topology", "one-to-many", "--steps", "3", "--scalar", "--out", str(tmp_path / "s.png")]) == 0
    assert cli(["draw", "--steps", "3", "--out", str(tmp_path / "p.xyz")]) == 2  # dot's error, one line


# -- [E] 12: steppers of long sequences fold like the still pictures, share one layout, have a time budget ----
def test_e12_frames_of_a_long_sequence_fold_like_the_still_picture():
    u = unrolled(50)
    frames = viz.backward_frames(u, max_steps=8, max_width=None)
    assert len(frames) == 1 + 8 + 1 + 1  # forward, the 8 drawn steps, one for the folded block, done
    captions = [c for _, c in frames]
    assert "42 folded steps, t = 46 down to 5" in captions[5]
    assert all(f.source.count("subgraph cluster_t") == 8 for f, _ in frames)
    assert "Σ over 0 of 49 copies" in frames[0][0].source and "Σ over 46 of 49 copies" in frames[5][0].source
    assert "49 per-step copies" in frames[-1][0].source


@needs_dot
def test_e12_thousand_steps_make_frames_and_a_small_stepper(tmp_path):
    import time

    u = unrolled(1000)
    start = time.perf_counter()
    frames = viz.backward_frames(u, max_width=None)
    page = viz.save_stepper(frames, tmp_path / "long.html")
    assert time.perf_counter() - start < 60  # a guard against the old T^2.5 (340 s), not a benchmark
    assert len(frames) == 11
    assert page.stat().st_size < 3_000_000


@needs_dot
@pytest.mark.parametrize("case", ["coarse", "folded", "ops", "values"])
def test_e12_stepper_frames_keep_one_layout(case):
    if case == "values":
        a, b = mr.Value(2.0, label="a"), mr.Value(-3.0, label="b")
        y = (a * b + b ** 2).tanh()
        y.label = "y"
        y.backward()
        frames = viz.backward_frames(y, view="ops")
    else:
        frames = viz.backward_frames(unrolled(30 if case == "folded" else 4), view="ops" if case == "ops" else "coarse")
    layouts = [plain_layout(g) for g, _ in frames]
    assert len(layouts[0]) > 5
    for layout in layouts[1:]:
        assert layout == layouts[0]  # nodes do not move or resize; only colours and numbers change


def test_e12_time_budget(tmp_path):
    u = unrolled(6)
    with pytest.raises(TimeoutError, match="time budget of 1e-09 s ran out"):
        viz.backward_frames(u, budget=1e-9)
    for bad in (0, -1, float("nan"), float("inf"), "10", True):
        with pytest.raises(ValueError, match="budget must be a finite number of seconds > 0"):
            viz.backward_frames(u, budget=bad)
        with pytest.raises(ValueError, match="budget must be"):
            viz.save_stepper(viz.backward_frames(unrolled(2)), tmp_path / "p.html", budget=bad)


@needs_dot
def test_e12_save_stepper_budget(tmp_path):
    frames = viz.backward_frames(unrolled(3))
    with pytest.raises(TimeoutError, match="the time budget of 1e-06 s ran out"):
        viz.save_stepper(frames, tmp_path / "p.html", budget=1e-6)
    assert not (tmp_path / "p.html").exists()


# -- [E] 14: labels are text; every argument is checked at the call ---------------------------------------
@needs_dot
def test_e14_labels_with_control_characters_draw_and_render():
    a = mr.Value(2.0, label="a\nb")
    b = mr.Value(3.0, label="nul\x00here")
    c = mr.Value(1.0, label="tab\tsur\ud800 back\\G")
    y = a * b + c
    y.label = "y\r\n"
    y.backward()
    for view in ("coarse", "ops"):
        g = viz.draw(y, view=view, title="title\x00\n\\N")
        svg = viz.to_svg(g)
        assert "a⏎b" in svg and "nul\\x00here" in svg and "tab sur\\ud800 back\\G" in svg and "y⏎" in svg
        assert "title\\x00⏎\\N" in svg  # a backslash stays a backslash (dot would read \N as the node name)
    frames = viz.backward_frames(y)
    assert any("∂L/∂y⏎" in caption for _, caption in frames)


def test_e14_a_label_that_is_not_a_string_is_named():
    a = mr.Value(2.0, label=5)
    y = a * a
    y.label = "y"
    with pytest.raises(TypeError, match="a leaf has label 5 of type int; a label must be a str or None"):
        viz.draw(y)
    with mr.timestep(3):
        z = mr.Value(1.0) * 2.0
    z.label = b"H_3"
    with pytest.raises(TypeError, match=r"the '\*' node at t = 3 has label b'H_3' of type bytes"):
        viz.backward_frames(z)


@pytest.mark.parametrize("bad", [float("nan"), -1, 0, float("inf"), "5", None, True])
def test_e14_timeout_must_be_a_positive_number_of_seconds(tmp_path, bad):
    g = viz.draw(unrolled(2))
    with pytest.raises(ValueError, match="timeout must be a finite number of seconds > 0"):
        viz.render(g, tmp_path / "p.svg", timeout=bad)
    with pytest.raises(ValueError, match="timeout must be"):
        viz.to_svg(g, timeout=bad)
    with pytest.raises(ValueError, match="timeout must be"):
        viz.save_stepper([(g, "x")], tmp_path / "p.html", timeout=bad)
    assert not list(tmp_path.iterdir())  # nothing written


def test_e14_draw_checks_every_argument(tmp_path):
    v = mr.Value(1.0)
    with pytest.raises(ValueError, match="view must be one of"):
        viz.draw(v, view=["coarse"])
    with pytest.raises(ValueError, match="node_budget must be an int ≥ 1, got 0"):
        viz.draw(v, node_budget=0)
    with pytest.raises(ValueError, match="max_steps must be an int ≥ 2"):
        viz.draw(v, max_steps=2.5)
    with pytest.raises(TypeError, match="grads must be True or False, got 'no'"):
        viz.draw(v, grads="no")
    with pytest.raises(TypeError, match="heat must be True or False"):
        viz.draw(v, heat=None)
    with pytest.raises(TypeError, match="title must be a str or None, got int"):
        viz.draw(v, title=3)
    with pytest.raises(TypeError, match="reveal must be a function"):
        viz.draw(v, reveal=True)
    with pytest.raises(ValueError, match="path must name a file"):
        viz.render(viz.draw(v), "")
    with pytest.raises(ValueError, match="is a folder"):
        viz.render(viz.draw(v), tmp_path)
    with pytest.raises(TypeError, match="list of \\(picture, caption\\) pairs"):
        viz.save_stepper(viz.draw(v), tmp_path / "p.html")


def test_e14_a_timeout_beyond_a_day_is_named_not_an_overflow(tmp_path):
    with pytest.raises(ValueError, match="timeout must be .* at most 86400"):
        viz.render(viz.draw(mr.Value(1.0, label="x")), tmp_path / "r.svg", timeout=1e308)
