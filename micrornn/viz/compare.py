"""``compare``: several graphs side by side on one colour scale, so a vanishing gradient reads dark beside a
healthy one instead of both looking "hot" on scales of their own.

    >>> import numpy as np, micrornn as mr
    >>> def linear(w):
    ...     net = mr.nn.RNN(1, 1, 1, activation="identity", seed=0); net.W_h.data[...] = w
    ...     u = mr.unroll.many_to_one(net, np.ones((6, 1)), np.zeros(1)); u.backward(); return u
    >>> c = compare([linear(0.5), linear(1.5)], titles=["w = 0.5", "w = 1.5"])
    >>> len(c.pictures), c.scale.shared, all(scale_of(p) == c.scale for p in c.pictures)
    (2, True, True)
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import graphviz

from .. import files
from .dot import to_svg
from .heat import _given_scale, _Heat
from .picture import draw, scale_of

__all__ = ["compare", "Comparison"]

MAX_PICTURES = 6  # side by side on one page: more would not fit a screen, and each costs a dot run


class Comparison:
    """The pictures of ``compare``, drawn on one scale: ``.pictures`` (graphviz.Digraph each), ``.scale``;
    shown side by side in Jupyter, ``save("compare.html")`` writes them as one offline page."""

    def __init__(self, pictures: list[graphviz.Digraph], titles: list[str], scale: _Heat) -> None:
        self.pictures, self.titles, self.scale = pictures, titles, scale

    def __repr__(self) -> str:
        lo, hi = self.scale.range
        return f"Comparison({', '.join(self.titles)}; one scale, |∂L/∂·| from {lo:.3g} to {hi:.3g})"

    def _repr_html_(self) -> str:
        # each picture at its own size (numbers stay readable), side by side while they fit, else below
        # each other; a picture wider than the page scrolls inside its panel
        cells = "".join(f'<div style="flex:0 1 auto;max-width:100%;overflow-x:auto">'
                        f'<div style="font:bold 14px sans-serif">{html.escape(title)}</div>{_inline(to_svg(p))}</div>'
                        for p, title in zip(self.pictures, self.titles))
        lo, hi = self.scale.range
        return (f'<div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">{cells}</div>'
                f'<div style="font:12px sans-serif">one colour scale for all: |∂L/∂·| from {lo:.3g} to {hi:.3g}</div>')

    def save(self, path: str | Path) -> Path:
        """One self-contained HTML page (no script, no network) with the pictures side by side."""
        target = Path(path)
        if target.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"Comparison.save(path): expected a .html file, got {str(path)!r}")
        page = (f'<!doctype html><html><head><meta charset="utf-8"><title>micrornn compare</title></head>'
                f"<body>{self._repr_html_()}</body></html>")
        files.atomic_write(target, lambda f: f.write(page.encode("utf-8")), "Comparison.save")
        return target


def compare(graphs: Sequence[Any], titles: Sequence[str] | None = None, scale: Any = None,
            **draw_args: Any) -> Comparison:
    """Draw each of ``graphs`` (Unrolled, Tensor or Value) with ``draw(…, **draw_args)`` on one colour scale:
    ``scale`` if given (a (lo, hi) range, or ``scale_of`` a picture), else the range of all their gradients."""
    graphs = list(graphs) if isinstance(graphs, (list, tuple)) else None
    if not graphs:
        raise ValueError("compare(graphs): expected a non-empty list of graphs (Unrolled, Tensor or Value)")
    if len(graphs) > MAX_PICTURES:
        raise ValueError(f"compare(graphs): {len(graphs)} graphs; at most {MAX_PICTURES} fit side by side")
    names = [f"graph {i + 1}" for i in range(len(graphs))] if titles is None else titles
    if isinstance(names, str) or len(names) != len(graphs) or not all(isinstance(t, str) for t in names):
        raise ValueError(f"compare(titles): expected a list of {len(graphs)} strings, one per graph, got {titles!r}")
    if "scale" in draw_args or "title" in draw_args:
        raise TypeError("compare(): pass scale= and titles= to compare itself, not as draw arguments")
    own = [_own_picture(g, i, draw_args) for i, g in enumerate(graphs)]
    shared = _given_scale(scale) if scale is not None else _union([scale_of(p) for p in own])
    # one layout for all: the steps that fold (to fit max_width) depend on how wide the numbers print, so
    # every picture folds down to as few drawn steps as the narrowest-fitting one needed
    steps = min(_drawn_steps(p) for p in own)
    args = {**draw_args, "max_steps": max(2, steps)} if steps < draw_args.get("max_steps", 8) else draw_args
    pictures = [draw(g, title=t, scale=shared, **args) for g, t in zip(graphs, names)]
    return Comparison(pictures, list(names), scale_of(pictures[0]))


def _own_picture(g: Any, i: int, draw_args: dict[str, Any]) -> graphviz.Digraph:
    """Graph ``i`` drawn on its own, for its scale and its folding; a clear error when it has no gradients."""
    picture = draw(g, **draw_args)
    if getattr(picture, "_micrornn_scale", None) is None:
        raise ValueError(f"compare(graphs): graph {i + 1} has no gradients to colour (call its backward() "
                         "first, and keep heat=True and grads=True)")
    return picture


def _drawn_steps(picture: graphviz.Digraph) -> int:
    """How many time steps a picture draws (its clusters "t = …"), the folded ones not counted."""
    return len(set(re.findall(r'label="(?:encoder · |decoder · )?t = (\d+)"', picture.source))) or 8


def _union(scales: list[_Heat]) -> _Heat:
    """The one scale that spans every picture's own."""
    return _Heat(min(s.lo for s in scales), max(s.hi for s in scales), shared=True)


def _inline(svg: str) -> str:
    """An SVG from dot, ready to sit in HTML: no XML prolog or doctype, scaled to its column."""
    start = svg.find("<svg")
    return svg[start:].replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)
