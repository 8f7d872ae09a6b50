"""Steppers: step through pictures inline in Jupyter, on an offline HTML page, or as an animated GIF for slides.

A ``Stepper`` is made from frames, a list of (graphviz.Digraph, caption) pairs such as
``viz.backward_frames(u)`` returns. It runs ``dot`` once for frames that share a layout (the backward
stepper's: the others are patches of frame 0's SVG, ``paint.frame_svgs``), once per frame otherwise, and
then shows the pictures three ways:

- in a notebook cell it displays itself (``_repr_html_``): buttons, ← → keys, a slider and the caption,
  all inline in the output (SVGs, style, a short script), so no widget server or extension is needed;
- ``.save("bptt.html")`` writes the same stepper as a page that works offline and can be mailed around;
- ``.to_gif("bptt.gif")`` writes one GIF frame per picture, all the same size, for slides (``viz.gif``).

    >>> import micrornn as mr
    >>> from micrornn import viz
    >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
    >>> s = Stepper(viz.backward_frames(y), "y = a·a, backward")
    >>> len(s), s._repr_html_().count('class="frame"')
    (4, 4)
"""

from __future__ import annotations

import html as _html
import re
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import graphviz

from .. import files
from ..record import Unrolled
from ..tensor import Tensor
from ..value import Value
from .dot import DOT_TIMEOUT, FRAME_BUDGET, _seconds, to_svg
from .frames import backward_frames
from .gif import MAX_FRAMES, MAX_PIXELS, _check_gif_args, _check_gif_size, _png, _write_gif
from .paint import frame_svgs
from .text import _printable

__all__ = ["Stepper", "page"]

# Scoped to .mrnn-stepper so that nothing leaks into the notebook around it; white like the pictures, also in a
# dark theme (dark text on a dark notebook would not read).
_STYLE = """
.mrnn-stepper { font-family: Helvetica, Arial, sans-serif; color: #222; background: #fff; padding: .3em; }
.mrnn-stepper:focus { outline: none; }
.mrnn-stepper:focus-within { box-shadow: 0 0 0 2px #9ecbff; border-radius: 4px; }
.mrnn-stepper .title { font-weight: bold; margin-bottom: .4em; }
.mrnn-stepper .bar { display: flex; gap: .6em; align-items: center; margin-bottom: .5em; }
.mrnn-stepper .bar button { font-size: 1em; padding: .2em .8em; }
.mrnn-stepper .slider { flex: 1; max-width: 30em; }
.mrnn-stepper .hint { color: #888; font-size: .85em; }
.mrnn-stepper .caption { min-height: 2.6em; margin: 0 0 .5em; max-width: 60em; }
.mrnn-stepper .frame svg { max-width: 100%; height: auto; }
.mrnn-stepper [hidden] { display: none !important; }
"""

# One copy per stepper; __ID__ is its root's id. Frames are <div>s toggled by `hidden`, so without a script
# (an untrusted notebook, GitHub's viewer) the first frame still shows.
_SCRIPT = """
(function start(tries) {
  // Look everything up inside this stepper's root: two steppers on one page never control each other.
  const root = document.getElementById('__ID__');
  if (!root) {  // the classic Notebook runs an output's script before it puts the output in the page
    if (tries < 100) setTimeout(() => start(tries + 1), 50);
    return;
  }
  if (root.dataset.ready) return;  // some front ends run an output's scripts twice
  root.dataset.ready = '1';
  const frames = root.querySelectorAll('.frame');
  const slider = root.querySelector('.slider');
  const page = root.dataset.keys === 'page';  // on a page of its own, the keys act anywhere
  let current = 0;
  function show(i) {
    current = Math.max(0, Math.min(frames.length - 1, i));
    frames.forEach((f, k) => { f.hidden = (k !== current); });
    slider.value = current;
    root.querySelector('.count').textContent = (current + 1) + ' / ' + frames.length;
    root.dataset.frame = current;  // tests read it
  }
  root.querySelector('.prev').addEventListener('click', () => show(current - 1));
  root.querySelector('.next').addEventListener('click', () => show(current + 1));
  slider.addEventListener('input', () => show(Number(slider.value)));
  const moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
  function onKey(e) {
    const t = e.target;
    if (t === slider) return;  // a focused slider steps itself and fires 'input'
    if (!root.contains(t) && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.key in moves) show(current + moves[e.key]);
    else if (e.key === 'Home') show(0);
    else if (e.key === 'End') show(frames.length - 1);
    else return;
    e.preventDefault(); e.stopPropagation();  // the notebook must not also act on the key
  }
  // Keys act while the stepper (or a button in it) has focus, or while the pointer is over it, and then
  // never while one types in a cell editor. Capture phase: before the notebook's own shortcuts.
  root.addEventListener('keydown', onKey);
  if (page) window.addEventListener('keydown', onKey, true);
  else {
    root.addEventListener('mouseenter', () => window.addEventListener('keydown', onKey, true));
    root.addEventListener('mouseleave', () => window.removeEventListener('keydown', onKey, true));
  }
  show(0);
  // #selftest (a saved page only): one step by the -> key and one by the button, for a headless browser
  if (page && location.hash === '#selftest') {
    document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}));
    root.querySelector('.next').click();
  }
})(0);
"""

_SIZE = re.compile(r'(<svg\b[^>]*?\bwidth=")([\d.]+)(pt"\s+height=")([\d.]+)(pt")')
_VIEWBOX = re.compile(r'(<svg\b[^>]*?\bviewBox="[-\d.]+ [-\d.]+ )[\d.]+ [\d.]+"')
_ID_REF = re.compile(r'((?<![\w-])id="|url\(#|href="#)')
_TITLE = re.compile(r"<title>[^<]*</title>\n?")


def _strip_prolog(svg: str) -> str:
    """Keep the <svg> element only: dot's XML declaration and DOCTYPE are not valid inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def svg_size(svg: str) -> tuple[float, float] | None:
    """(width, height) in points of a picture ``dot -Tsvg`` wrote, or None if it gives none."""
    m = _SIZE.search(svg)
    return (float(m[2]), float(m[4])) if m else None


def _pad(svgs: list[str]) -> list[str]:
    """Every picture on one canvas, the largest one's: the size and the viewBox grow together (nothing is
    scaled), the extra space goes right and below, and the picture never jumps when a frame is wider."""
    sizes = [svg_size(s) for s in svgs]
    if None in sizes:
        return svgs
    w, h = (f"{max(s[k] for s in sizes):.2f}" for k in (0, 1))  # type: ignore[index]
    return [_VIEWBOX.sub(rf'\g<1>{w} {h}"', _SIZE.sub(rf"\g<1>{w}\g<3>{h}\g<5>", s, count=1), count=1)
            for s in svgs]


def _fragment(svgs: list[str], captions: list[str], title: str, keys: str = "hover") -> str:
    """The stepper as an HTML fragment: style, controls, frames and script, with ids of its own."""
    if not svgs or len(svgs) != len(captions):
        raise ValueError(f"a stepper needs one caption per picture and at least one; got {len(svgs)} pictures "
                         f"and {len(captions)} captions")
    uid = f"mrnn-stepper-{uuid.uuid4().hex[:12]}"  # fresh per display: the same stepper shown twice is two
    frames = []
    for i, (svg, caption) in enumerate(zip(_pad([_strip_prolog(s) for s in svgs]), captions)):
        svg = _ID_REF.sub(lambda m, i=i: f"{m[1]}{uid}-{i}-", svg)  # dot's node1, edge1 … once per page
        svg = _TITLE.sub("", svg)  # dot's <title>s name nodes by id (n1406…): a hover would show them
        frames.append(f'<div class="frame" data-index="{i}"{" hidden" if i else ""}>'
                      f'<p class="caption">{_html.escape(caption)}</p>\n{svg}</div>')
    n, hint = len(svgs), "anywhere" if keys == "page" else "click or point at the stepper"
    return f"""<div class="mrnn-stepper" id="{uid}" tabindex="0" data-keys="{keys}" data-frame="0">
<style>{_STYLE}</style>
<div class="title">{_html.escape(title)}</div>
<div class="bar"><button class="prev" title="previous (←)">◀ prev</button>
<button class="next" title="next (→)">next ▶</button>
<input class="slider" type="range" min="0" max="{n - 1}" value="0" aria-label="frame">
<span class="count">1 / {n}</span><span class="hint">← → keys step ({hint})</span></div>
{chr(10).join(frames)}
</div>
<script>{_SCRIPT.replace("__ID__", uid)}</script>"""


def page(svgs: list[str], captions: list[str], title: str) -> str:
    """A whole HTML page (offline, self-contained) that steps through ``svgs``, one caption each.

    >>> html = page(["<svg></svg>", "<svg></svg>"], ["forward", "backward"], "demo")
    >>> html.count('class="frame"')
    2
    """
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_html.escape(title)}</title>
<style>body {{ margin: 1.5em; }} .mrnn-stepper .title {{ font-size: 1.3em; }}</style></head>
<body>
{_fragment(svgs, captions, title, keys="page")}
</body></html>
"""


def _within(graphs: Sequence[graphviz.Digraph], run: Callable[[graphviz.Digraph, float], Any], timeout: float,
            budget: float, who: str, deadline: float | None = None, done: int = 0, total: int | None = None
            ) -> list[Any]:
    """``run(graph, seconds)`` for each graph: each within ``timeout`` seconds, all within ``budget`` (that
    ends at ``deadline`` when a caller runs its frames in parts: ``done`` of its ``total`` are made)."""
    deadline = time.perf_counter() + budget if deadline is None else deadline
    total = len(graphs) if total is None else total
    out = []
    for i, g in enumerate(graphs):
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError(f"{who}: the time budget of {budget:g} s ran out after {done + i} of {total} frames; "
                               "make fewer frames (max_steps=) or pass a larger budget=")
        try:
            out.append(run(g, min(timeout, left)))
        except TimeoutError:
            if left >= timeout:
                raise  # dot's own timeout: its message says which picture
            raise TimeoutError(f"{who}: the time budget of {budget:g} s ran out in frame {done + i + 1} of {total}; "
                               "make fewer frames (max_steps=) or pass a larger budget=") from None
    return out


class Stepper:
    """Pictures to step through, one caption each; ``dot`` runs when the Stepper is made: once for frames
    that differ only in their boxes' numbers and colours (``backward_frames``), else once per frame.

    ``frames`` is a list of (graphviz.Digraph, caption) pairs, as ``viz.backward_frames`` returns, or a graph
    (an ``Unrolled``, ``Tensor`` or ``Value``): ``Stepper(u, scale=…)`` is ``Stepper(backward_frames(u,
    scale=…))``, so two steppers read on one colour scale. Each
    ``dot`` run stops after ``timeout`` seconds and all of them after ``budget`` (default: viz's
    ``DOT_TIMEOUT`` and ``FRAME_BUDGET``), with a TimeoutError saying how far they got. Frames of
    different sizes are padded to the largest, so the picture never jumps.

        >>> import micrornn as mr
        >>> from micrornn import viz
        >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
        >>> s = Stepper(viz.backward_frames(y), "y = a·a")   # the last line of a cell: shows the stepper
        >>> s.captions[1]
        'Backward step 1: ∂L/∂y = 1'
    """

    def __init__(self, frames: Sequence[tuple[graphviz.Digraph, str]] | Any, title: str = "micrornn: step by step",
                 *, scale: Any = None, timeout: float | None = None, budget: float | None = None) -> None:
        self.timeout = _seconds("timeout", DOT_TIMEOUT if timeout is None else timeout)
        self.budget = _seconds("budget", FRAME_BUDGET if budget is None else budget)
        if isinstance(frames, (Unrolled, Tensor, Value)):  # a graph: its backward stepper, on ``scale``
            frames = backward_frames(frames, scale=scale)
        elif scale is not None:
            raise TypeError("Stepper(frames, scale=…): these frames are drawn already, on their own scale; pass "
                            "scale= to backward_frames/forward_frames, or give Stepper the graph: Stepper(u, scale=…)")
        if isinstance(frames, (graphviz.Digraph, str)) or not isinstance(frames, Sequence) or not all(
                isinstance(f, tuple) and len(f) == 2 and isinstance(f[0], graphviz.Digraph) and isinstance(f[1], str)
                for f in frames):
            raise TypeError("Stepper takes a list of (picture, caption) pairs, as viz.backward_frames returns; "
                            f"got {type(frames).__name__}")
        if not frames:
            raise ValueError("Stepper needs at least one frame, got an empty list")
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        self.graphs = [g for g, _ in frames]
        self.captions = [_printable(c) for _, c in frames]
        self.title = _printable(title)
        # one dot run for the frames that share a layout (backward_frames'), the others' boxes patched in
        deadline = time.perf_counter() + self.budget

        def render(graphs: list[graphviz.Digraph]) -> list[str]:
            done = 0 if graphs[0] is self.graphs[0] else len(self.graphs) - len(graphs)  # frame 0, or the rest
            return _within(graphs, lambda g, s: to_svg(g, timeout=s), self.timeout, self.budget, "Stepper",
                           deadline, done, len(self.graphs))

        self.svgs: list[str] = frame_svgs(self.graphs, render)

    def __len__(self) -> int:
        return len(self.svgs)

    def __repr__(self) -> str:
        return f"Stepper({len(self)} frames, {self.title!r})"

    def _repr_html_(self) -> str:
        """Jupyter (Lab, classic, VS Code) and nbconvert's HTML show this; keys act on hover or focus."""
        return _fragment(self.svgs, self.captions, self.title)

    def save(self, path: str | Path) -> Path:
        """Write the stepper as one offline HTML page (folders are made as needed); the ← → keys act anywhere
        on it."""
        path = _file(path, "save", ".html")
        text = page(self.svgs, self.captions, self.title).encode("utf-8")
        files.atomic_write(files.writable_file(path, "save", make_folders=True), lambda f: f.write(text), "save")
        return path

    def to_gif(self, path: str | Path, fps: float = 1.0, loop: int | None = 0, *, dpi: int = 96,
               max_frames: int = MAX_FRAMES, max_pixels: int = MAX_PIXELS) -> Path:
        """An animated GIF for slides: each picture by ``dot -Tpng`` at ``dpi``, its caption drawn below,
        all frames on one canvas and one colour palette (so nothing jitters or flickers).

        ``fps`` frames per second (at most 50); ``loop=0`` repeats forever, ``loop=k`` k more times and
        ``None`` plays once (Pillow's meaning). More than ``max_frames`` frames, or more than ``max_pixels``
        pixels in all, is a ValueError before any PNG is made. The folder must exist.
        """
        path = _file(path, "to_gif", ".gif")
        target = files.writable_file(path, "to_gif")  # before any work: a path that cannot be written fails now
        _check_gif_args(fps, loop, dpi, max_frames, max_pixels)
        _check_gif_size([svg_size(s) or (0.0, 0.0) for s in self.svgs], dpi, max_frames, max_pixels)
        pictures = _within(self.graphs, lambda g, seconds: _png(g, dpi, seconds), self.timeout, self.budget,
                           "to_gif")
        # the counter keeps two equal pictures with equal captions two frames (Pillow merges equal frames)
        _write_gif(target, pictures, [f"{i}/{len(self)}  {c}" for i, c in enumerate(self.captions, 1)], dpi, fps,
                   loop)
        return path


def _file(path: Any, who: str, suffix: str) -> Path:
    """``path`` as a Path to a file ending in ``suffix``, else a clear error."""
    if path == "":
        raise ValueError(f"{who}: path must name a file such as stepper{suffix}, got {path!r}")
    path = files.as_path(path, who)
    if path.is_dir():
        raise ValueError(f"{who}: {path} is a folder; name a file in it, such as {path / ('stepper' + suffix)}")
    if path.suffix.lower() not in (suffix, ".htm" if suffix == ".html" else suffix):
        raise ValueError(f"{who} writes a {suffix} file; got {path.name!r}")
    return path


def save_stepper(frames: list[tuple[graphviz.Digraph, str]], path: str | Path, title: str = "micrornn: backward, "
                 "step by step", timeout: float = DOT_TIMEOUT, budget: float = FRAME_BUDGET) -> Path:
    """One self-contained HTML page (SVGs inline; buttons, arrow keys, a slider) that works offline.

    Each frame's ``dot`` run stops after ``timeout`` seconds and all of them after ``budget``
    (TimeoutError either way); nothing is written then.
    """
    timeout, budget = _seconds("timeout", timeout), _seconds("budget", budget)
    return Stepper(frames, title, timeout=timeout, budget=budget).save(path)
