"""[F] 3: steppers inline in Jupyter, as an offline page and as a GIF for slides (micrornn/viz/stepper.py)."""

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import micrornn as mr
from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import RNN
from micrornn.stepper import Stepper, svg_size

pytestmark = [pytest.mark.lesson_pictures,  # this file's lessons: pytest -m lesson_pictures
              pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")]
ROOT = Path(__file__).resolve().parents[2]


def value_frames():
    a = mr.Value(2.0, label="a")
    y = a * a
    y.label = "y"
    y.backward()
    return viz.backward_frames(y)  # 4 small frames


def rnn_frames(T=3):
    net = RNN(2, 3, 2, seed=0)
    u = U.many_to_one(net, np.random.default_rng(0).normal(size=(T, 2)), np.full(2, 0.5))
    u.backward()
    return viz.backward_frames(u)


def svgs_of(fragment):
    return re.findall(r"<svg\b.*?</svg>", fragment, flags=re.DOTALL)


# -- the inline fragment ----------------------------------------------------------------------------------------
def test_f3_fragment_has_one_svg_per_frame_the_controls_and_no_outside_resource():
    frames = rnn_frames()
    html = Stepper(frames, "BPTT")._repr_html_()
    assert len(svgs_of(html)) == len(frames) == html.count('class="frame"')
    assert html.count(" hidden>") == len(frames) - 1  # without a script the first frame still shows
    assert 'class="prev"' in html and 'class="next"' in html
    assert f'type="range" min="0" max="{len(frames) - 1}"' in html
    for js in ("'keydown'", "ArrowRight", "ArrowLeft", "'input'", "mouseenter", "mouseleave"):
        assert js in html
    assert "<?xml" not in html and "<!DOCTYPE" not in html  # dot's prolog is not valid inside a page
    assert "<script src" not in html and "<link" not in html  # everything inline: no widget server, no CDN
    for _, caption in frames:
        assert f'<p class="caption">{caption}</p>' in html.replace("&#x27;", "'")


def test_f3_two_steppers_and_two_displays_have_ids_of_their_own():
    a, b = Stepper(value_frames()), Stepper(value_frames())
    html = a._repr_html_() + b._repr_html_() + a._repr_html_()  # the same stepper shown twice is two
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) > 3 * 4 and len(set(ids)) == len(ids)  # dot's node1, edge1 … too, once per page
    roots = re.findall(r'<div class="mrnn-stepper" id="([^"]+)"', html)
    assert len(set(roots)) == 3
    assert [r for r in re.findall(r"getElementById\('([^']+)'\)", html)] == roots  # each script drives its own


def test_f3_every_frame_has_the_same_svg_size():
    html = Stepper(rnn_frames())._repr_html_()
    sizes = {svg_size(s) for s in svgs_of(html)}
    assert len(sizes) == 1  # backward_frames share one layout
    # pictures of different sizes are padded to the largest (the viewBox grows too: nothing is scaled)
    small, big = value_frames()[0], rnn_frames()[0]
    s = Stepper([small, big, small])
    assert svg_size(s.svgs[0]) != svg_size(s.svgs[1])
    padded = svgs_of(s._repr_html_())
    assert {svg_size(x) for x in padded} == {svg_size(s.svgs[1])}
    w, h = svg_size(s.svgs[1])
    assert all(f'viewBox="0.00 0.00 {w:.2f} {h:.2f}"' in x for x in padded)


def find_browser():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def chromium(url, profile, *extra):
    browser = find_browser()
    if browser is None:
        print("skipped: no Chromium (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium: .ci/run installs Debian's chromium")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


# Drives two steppers on one page the way a user would and writes each stepper's frame after every action
# into the title: "first,second first,second …".
_DRIVER = """<textarea>a notebook cell</textarea><script>
const [a, b] = document.querySelectorAll('.mrnn-stepper');
const log = [], state = () => log.push(a.dataset.frame + ',' + b.dataset.frame);
const key = (target, k) => target.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true}));
a.querySelector('.next').click(); a.querySelector('.next').click(); state();  // buttons: only the first
key(document, 'ArrowRight'); state();        // neither focused nor pointed at: no stepper moves
b.focus(); key(b, 'ArrowRight'); state();    // focus: the second moves
b.blur(); b.dispatchEvent(new MouseEvent('mouseenter'));
key(document.querySelector('textarea'), 'ArrowRight'); state();  // typing elsewhere: the key is not taken
key(document, 'End'); state();               // pointer over the second: keys reach it
b.dispatchEvent(new MouseEvent('mouseleave')); key(document, 'Home'); state();  // pointer gone: ignored
const slider = a.querySelector('.slider'); slider.value = 0; slider.dispatchEvent(new Event('input')); state();
document.title = log.join(' ');
</script>"""


def test_f3_two_steppers_on_one_page_in_a_real_browser(tmp_path):
    a, b = Stepper(value_frames()), Stepper(value_frames())
    page = tmp_path / "two.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>-</title></head><body>"
                    f"{a._repr_html_()}{b._repr_html_()}{_DRIVER}</body></html>", encoding="utf-8")
    dom = chromium(page.as_uri(), tmp_path / "profile", "--dump-dom").stdout
    title = re.search(r"<title>(.*?)</title>", dom).group(1)
    assert title == "2,0 2,0 2,1 2,1 2,3 2,3 0,3"
    shown = re.findall(r'<div class="frame" data-index="(\d+)"(?! hidden)', dom)
    assert shown == ["0", "3"]


# How front ends put an HTML output into the page: JupyterLab sets innerHTML on a detached node and replaces each
# script by a fresh one (it runs once the node is attached); the classic Notebook (jQuery) evaluates the scripts
# before the output is in the page; VS Code inserts the output first, then the fresh scripts.
_FRONT_ENDS = """<script>
function fresh(host) {
  for (const s of host.querySelectorAll('script')) {
    const c = document.createElement('script'); c.textContent = s.textContent; s.replaceWith(c);
  }
}
const ways = {
  lab: (host) => { fresh(host); document.body.appendChild(host); },
  classic: (host) => { for (const s of host.querySelectorAll('script')) (0, eval)(s.textContent);
                       document.body.appendChild(host); },
  vscode: (host) => { document.body.appendChild(host); fresh(host); },
};
const outputs = OUTPUTS;
for (const [way, html] of Object.entries(outputs)) {
  const host = document.createElement('div'); host.className = way; host.innerHTML = html; ways[way](host);
}
setTimeout(() => {  // later, a user clicks "next" in each output
  const done = [];
  for (const way of Object.keys(outputs)) {
    const root = document.querySelector('.' + way + ' .mrnn-stepper');
    root.querySelector('.next').click();
    done.push(way + '=' + root.dataset.frame);
  }
  document.title = done.join(' ');
}, 1000);
</script>"""


def test_f3_the_stepper_starts_however_a_front_end_inserts_it(tmp_path):
    import json

    s = Stepper(value_frames())
    outputs = json.dumps({way: s._repr_html_() for way in ("lab", "classic", "vscode")}).replace("</", "<\\/")
    page = tmp_path / "front_ends.html"
    page.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>-</title></head><body>"
                    + _FRONT_ENDS.replace("OUTPUTS", outputs) + "</body></html>", encoding="utf-8")
    dom = chromium(page.as_uri(), tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom").stdout
    assert re.search(r"<title>(.*?)</title>", dom).group(1) == "lab=1 classic=1 vscode=1"


def test_f3_saved_page_looks_right_in_a_real_browser(tmp_path):
    """A screenshot of the saved page: the picture is there (not a blank page) and the stepper is at the top."""
    page = Stepper(rnn_frames(), "BPTT, T = 3").save(tmp_path / "bptt.html")
    shot = tmp_path / "shot.png"
    chromium(page.as_uri(), tmp_path / "profile", f"--screenshot={shot}", "--window-size=1400,900")
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (900, 1400)
    assert (pixels < 128).mean() > 0.005  # text and node outlines drawn: not a blank page


def test_f3_save_writes_the_offline_page_and_save_stepper_still_works(tmp_path):
    frames = value_frames()
    page = Stepper(frames, "y = a·a").save(tmp_path / "new" / "s.html")  # folders are made, as save_stepper does
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<title>y = a·a</title>" in html
    assert len(svgs_of(html)) == len(frames) and 'data-keys="page"' in html
    old = viz.save_stepper(frames, tmp_path / "old.html").read_text(encoding="utf-8")
    assert len(svgs_of(old)) == len(frames) and 'class="mrnn-stepper"' in old


# -- the GIF ----------------------------------------------------------------------------------------------------
def test_f3_gif_has_one_frame_per_picture_one_size_and_loops(tmp_path):
    from PIL import Image

    frames = rnn_frames()
    path = Stepper(frames, "BPTT").to_gif(tmp_path / "bptt.gif", fps=2, dpi=48)
    with Image.open(path) as gif:
        assert gif.n_frames == len(frames) and gif.info["loop"] == 0
        sizes, durations, first = set(), set(), None
        for i in range(gif.n_frames):
            gif.seek(i)
            rgb = gif.convert("RGB")
            sizes.add(rgb.size)
            durations.add(gif.info["duration"])
            first = first or rgb
        assert len(sizes) == 1 and durations == {500}
        last = rgb
    assert first.getpixel((2, 2)) == (255, 255, 255)  # a white background, also after quantizing
    assert first.tobytes() != last.tobytes()
    w, h = sizes.pop()
    band = np.asarray(last.convert("L"))[-h // 8:, : w // 2]
    assert (band < 128).any()  # the caption is drawn under the picture


def test_f3_gif_pads_pictures_to_one_canvas_and_keeps_equal_frames(tmp_path):
    from PIL import Image

    small, big = value_frames()[0], rnn_frames()[0]
    with Image.open(Stepper([small, big, small, small]).to_gif(tmp_path / "mixed.gif", loop=None)) as gif:
        assert gif.n_frames == 4  # the last two are the same picture and caption: the counter keeps both
        assert "loop" not in gif.info  # None: play once
        mixed = gif.size
    alone = [Image.open(Stepper([f]).to_gif(tmp_path / f"{i}.gif")).size for i, f in enumerate((small, big))]
    assert alone[0] != alone[1]  # two sizes of picture ...
    assert mixed[0] >= max(w for w, _ in alone) and mixed[1] >= max(h for _, h in alone)  # ... on one canvas


def test_f3_bad_inputs_are_named(tmp_path):
    frames = value_frames()
    with pytest.raises(ValueError, match="Stepper needs at least one frame"):
        Stepper([])
    with pytest.raises(TypeError, match=r"list of \(picture, caption\) pairs"):
        Stepper(frames[0][0])
    with pytest.raises(TypeError, match=r"list of \(picture, caption\) pairs"):
        Stepper([frames[0][0]])
    with pytest.raises(TypeError, match="title must be a str"):
        Stepper(frames, title=3)
    with pytest.raises(ValueError, match="timeout must be a finite number of seconds > 0"):
        Stepper(frames, timeout=0)
    s = Stepper(frames)
    for bad in (0, -1, float("nan"), float("inf"), 51, "1", True, None):
        with pytest.raises(ValueError, match=r"fps must be a number of frames per second from 0.00153 .* to 50"):
            s.to_gif(tmp_path / "s.gif", fps=bad)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="loop must be an int ≥ 0"):
            s.to_gif(tmp_path / "s.gif", loop=bad)
    with pytest.raises(ValueError, match="dpi must be an int from 24 to 300"):
        s.to_gif(tmp_path / "s.gif", dpi=1000)
    with pytest.raises(ValueError, match="max_pixels must be an int ≥ 1, got 0"):
        s.to_gif(tmp_path / "s.gif", max_pixels=0)
    with pytest.raises(FileNotFoundError, match="to_gif: the folder .*missing does not exist"):
        s.to_gif(tmp_path / "missing" / "s.gif")
    with pytest.raises(ValueError, match="to_gif writes a .gif file; got 's.png'"):
        s.to_gif(tmp_path / "s.png")
    with pytest.raises(ValueError, match="is a folder"):
        s.save(tmp_path)
    with pytest.raises(ValueError, match="to_gif: 4 frames are more than max_frames=3"):
        s.to_gif(tmp_path / "s.gif", max_frames=3)
    with pytest.raises(ValueError, match="more than max_pixels=1,000; lower dpi="):
        s.to_gif(tmp_path / "s.gif", max_pixels=1000)
    assert not list(tmp_path.iterdir())  # nothing written


def test_f3_time_budget_says_how_far_it_got(tmp_path):
    ran_out = r"Stepper: the time budget of 1e-06 s ran out (after 0 of 4 frames|in frame 1 of 4)"
    with pytest.raises(TimeoutError, match=ran_out):
        Stepper(value_frames(), budget=1e-6)
    s = Stepper(value_frames())
    s.budget = 1e-6
    with pytest.raises(TimeoutError, match="to_gif: the time budget"):
        s.to_gif(tmp_path / "s.gif")


# -- in a real notebook ----------------------------------------------------------------------------------------
@pytest.mark.skipif(importlib.util.find_spec("nbclient") is None or importlib.util.find_spec("ipykernel") is None,
                    reason="nbclient and ipykernel are test dependencies (pip install micrornn[test])")
def test_f3_a_notebook_shows_the_stepper_inline(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import micrornn as mr\nfrom micrornn import viz\nfrom micrornn.stepper import Stepper\n"
        "a = mr.Value(2.0, label='a'); y = a * a; y.label = 'y'; y.backward()\n"
        "Stepper(viz.backward_frames(y), 'y = a·a')")])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    (out,) = nb.cells[0].outputs
    html = out["data"]["text/html"]
    assert len(svgs_of(html)) == 4 and "<script>" in html and "text/plain" in out["data"]


def test_l2_a_stepper_of_a_graph_takes_a_scale_and_frames_refuse_one():
    """[L] item 2: scale= on the Stepper too. Given the graph, it draws the backward frames on that scale;
    frames are drawn already, so a scale beside them is refused by name."""
    import micrornn as mr
    from micrornn import viz

    a = mr.Value(2.0, label="a")
    y = a * a
    y.label = "y"
    y.backward()
    s = Stepper(y, "y = a·a", scale=(1e-3, 1e3))
    assert len(s) == len(viz.backward_frames(y)) and "log scale, shared" in s.graphs[0].source
    with pytest.raises(TypeError, match="these frames are drawn already"):
        Stepper(viz.backward_frames(y), scale=(1e-3, 1e3))
    with pytest.raises(TypeError, match="Stepper takes a list of"):
        Stepper(viz.draw(y))
