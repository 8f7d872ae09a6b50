"""Steppers: step through pictures inline in Jupyter, on an offline HTML page, or as an animated GIF for slides.

A ``Stepper`` is made from frames, a list of (graphviz.Digraph, caption) pairs such as
``viz.backward_frames(u)`` returns. It runs ``dot`` once per frame and then shows the pictures three ways:

- in a notebook cell it displays itself (``_repr_html_``): buttons, ← → keys, a slider and the caption,
  all inline in the output (SVGs, style, a short script), so no widget server or extension is needed;
- ``.save("bptt.html")`` writes the same stepper as a page that works offline and can be mailed around;
- ``.to_gif("bptt.gif")`` writes one GIF frame per picture, all the same size, for slides.

    >>> import micrornn as mr
    >>> from micrornn import viz
    >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
    >>> s = Stepper(viz.backward_frames(y), "y = a·a, backward")
    >>> len(s), s._repr_html_().count('class="frame"')
    (4, 4)
"""

from __future__ import annotations

import html as _html
import io
import math
import re
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import graphviz

from .. import files
from .dot import DOT_TIMEOUT, FRAME_BUDGET, _dot, _seconds, to_svg
from .text import _printable

__all__ = ["Stepper", "page"]

MAX_FPS = 50  # browsers play a GIF frame shorter than 20 ms as 100 ms
MIN_FPS = 100 / 65535  # a GIF frame's duration is a 16-bit count of centiseconds: at most 655.35 s
MAX_LOOP = 65535  # the loop count is 16 bits too
MAX_FRAMES = 200  # more frames than this in one GIF is a slide show nobody steps through
MAX_PIXELS = 40_000_000  # all GIF frames together (held in memory at once, 3 bytes each before quantizing)

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
            budget: float, who: str) -> list[Any]:
    """``run(graph, seconds)`` for each graph: each within ``timeout`` seconds, all within ``budget``."""
    deadline = time.perf_counter() + budget
    out = []
    for i, g in enumerate(graphs):
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError(f"{who}: the time budget of {budget:g} s ran out after {i} of {len(graphs)} frames; "
                               "make fewer frames (max_steps=) or pass a larger budget=")
        try:
            out.append(run(g, min(timeout, left)))
        except TimeoutError:
            if left >= timeout:
                raise  # dot's own timeout: its message says which picture
            raise TimeoutError(f"{who}: the time budget of {budget:g} s ran out in frame {i + 1} of {len(graphs)}; "
                               "make fewer frames (max_steps=) or pass a larger budget=") from None
    return out


class Stepper:
    """Pictures to step through, one caption each; ``dot`` runs once per frame, when the Stepper is made.

    ``frames`` is a list of (graphviz.Digraph, caption) pairs, as ``viz.backward_frames`` returns. Each
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

    def __init__(self, frames: Sequence[tuple[graphviz.Digraph, str]], title: str = "micrornn: step by step", *,
                 timeout: float | None = None, budget: float | None = None) -> None:
        self.timeout = _seconds("timeout", DOT_TIMEOUT if timeout is None else timeout)
        self.budget = _seconds("budget", FRAME_BUDGET if budget is None else budget)
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
        self.svgs: list[str] = _within(self.graphs, lambda g, s: to_svg(g, timeout=s), self.timeout,
                                       self.budget, "Stepper")

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
        from PIL import Image

        path = _file(path, "to_gif", ".gif")
        target = files.writable_file(path, "to_gif")  # before any work: a path that cannot be written fails now
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not MIN_FPS <= fps <= MAX_FPS:
            raise ValueError(f"to_gif: fps must be a number of frames per second from {MIN_FPS:.5f} (a GIF shows "
                             f"a frame at most 655.35 s) to {MAX_FPS}, got {fps!r}")
        if loop is not None and not _count(loop, 0, MAX_LOOP):
            raise ValueError(f"to_gif: loop must be an int ≥ 0 and ≤ {MAX_LOOP} (GIF's 16 bits; 0 = forever) or "
                             f"None (play once), got {loop!r}")
        if not _count(dpi, 24, 300):
            raise ValueError(f"to_gif: dpi must be an int from 24 to 300, got {dpi!r}")
        for name, limit in (("max_frames", max_frames), ("max_pixels", max_pixels)):
            if not _count(limit, 1):
                raise ValueError(f"to_gif: {name} must be an int ≥ 1, got {limit!r}")
        if len(self) > max_frames:
            raise ValueError(f"to_gif: {len(self)} frames are more than max_frames={max_frames}; make fewer frames "
                             "(max_steps=) or pass a larger max_frames=")
        sizes = [svg_size(s) or (0.0, 0.0) for s in self.svgs]  # dot's PNG has the SVG's size at 72 dpi
        pixels = len(self) * math.prod(max(s[k] for s in sizes) * dpi / 72 for k in (0, 1))
        if pixels > max_pixels:
            raise ValueError(f"to_gif: {len(self)} frames of this picture at {dpi} dpi make about {pixels / 1e6:.0f} "
                             f"million pixels, more than max_pixels={max_pixels:,}; lower dpi=, draw fewer steps "
                             "(max_steps=) or pass a larger max_pixels=")
        def png(g: graphviz.Digraph, seconds: float) -> Any:
            g = g.copy()
            g.graph_attr["dpi"] = str(dpi)
            data = _dot(g, "png", seconds, "draw(...).source has the DOT text")
            return Image.open(io.BytesIO(data)).convert("RGBA")

        pictures = _within(self.graphs, png, self.timeout, self.budget, "to_gif")
        # the counter keeps two equal pictures with equal captions two frames (Pillow merges equal frames)
        frames = _canvas(pictures, [f"{i}/{len(self)}  {c}" for i, c in enumerate(self.captions, 1)], dpi)
        palette = _palette(frames)
        nearest = getattr(Image, "Dither", Image).NONE  # no dithering: flat fills stay flat
        gif = [f.quantize(palette=palette, dither=nearest) for f in frames]
        extra = {} if loop is None else {"loop": loop}
        files.atomic_write(target, lambda f: gif[0].save(f, format="GIF", save_all=True, append_images=gif[1:],
                                                         duration=round(1000 / fps), disposal=1, **extra), "to_gif")
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


def _count(x: Any, low: int, high: float = math.inf) -> bool:
    """Whether ``x`` is an int (not a bool) from ``low`` to ``high``."""
    return isinstance(x, int) and not isinstance(x, bool) and low <= x <= high


def _palette(frames: list[Any]) -> Any:
    """One 255-colour palette for all frames, so that colours never flicker: median cut over all of them at
    a quarter of the size."""
    from PIL import Image

    w, h = frames[0].width // 2, frames[0].height // 2
    sample = Image.new("RGB", (w, h * len(frames)), "white")
    for i, f in enumerate(frames):
        sample.paste(f.resize((w, h)), (0, i * h))
    palette = sample.quantize(255)
    # Median cut averages white with the antialiased grey around text, and Pillow maps colours closer than
    # 4 levels to either one: snap near-white entries to white, so the background is white on a slide.
    rgb = palette.getpalette()
    for k in range(0, len(rgb), 3):
        if min(rgb[k:k + 3]) >= 248:
            rgb[k:k + 3] = [255, 255, 255]
    palette.putpalette(rgb)
    return palette


def _canvas(pictures: list[Any], captions: list[str], dpi: int) -> list[Any]:
    """Each picture on one white canvas of the largest size, its caption wrapped in a band below it."""
    from PIL import Image, ImageDraw

    font = _font(round(13 * dpi / 72))
    margin = round(10 * dpi / 72)
    width = max(max(p.width for p in pictures), round(5 * dpi))  # a tiny picture still gets readable lines
    lines = [_wrap(c, font, width - 2 * margin) for c in captions]
    line_height = round(font.size * 1.3) if hasattr(font, "size") else 14
    top = max(p.height for p in pictures) + margin  # the band of the longest caption, the same in every frame
    height = top + line_height * max(len(ls) for ls in lines) + margin
    frames = []
    for picture, text in zip(pictures, lines):
        frame = Image.new("RGB", (width, height), "white")
        frame.paste(picture, (0, 0), picture)  # top left, as the HTML pads; alpha as the mask: white behind
        draw = ImageDraw.Draw(frame)
        for k, line in enumerate(text):
            draw.text((margin, top + k * line_height), line, fill="#222222", font=font)
        frames.append(frame)
    return frames


def _font(size: int) -> Any:
    """DejaVu Sans, which matplotlib ships and which has ∂, Σ and arrows; Pillow's own font otherwise."""
    from PIL import ImageFont

    try:
        import matplotlib

        return ImageFont.truetype(str(Path(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf")), size)
    except (ImportError, OSError):
        return ImageFont.load_default()


def _wrap(text: str, font: Any, width: float) -> list[str]:
    """Greedy word wrap of ``text`` to ``width`` pixels in ``font``."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and font.getlength(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]

