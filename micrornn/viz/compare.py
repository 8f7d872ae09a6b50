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

    def _repr_html_(self) -> str:
        cells = "".join(f'<div style="flex:1;min-width:0"><div style="font:bold 14px sans-serif">'
                        f"{html.escape(title)}</div>{_inline(to_svg(p))}</div>"
                        for p, title in zip(self.pictures, self.titles))
        lo, hi = self.scale.range
        return (f'<div style="display:flex;gap:16px;align-items:flex-start">{cells}</div>'
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
    names = [f"graph {i + 1}" for i in range(len(graphs))] if titles is None else list(titles)
    if len(names) != len(graphs) or not all(isinstance(t, str) for t in names):
        raise ValueError(f"compare(titles): expected {len(graphs)} strings, one per graph, got {titles!r}")
    if "scale" in draw_args or "title" in draw_args:
        raise TypeError("compare(): pass scale= and titles= to compare itself, not as draw arguments")
    shared = _given_scale(scale) if scale is not None else _union([scale_of(draw(g, **draw_args)) for g in graphs])
    pictures = [draw(g, title=t, scale=shared, **draw_args) for g, t in zip(graphs, names)]
    return Comparison(pictures, names, scale_of(pictures[0]))


def _union(scales: list[_Heat]) -> _Heat:
    """The one scale that spans every picture's own."""
    return _Heat(min(s.lo for s in scales), max(s.hi for s in scales), shared=True)


def _inline(svg: str) -> str:
    """An SVG from dot, ready to sit in HTML: no XML prolog or doctype, scaled to its column."""
    start = svg.find("<svg")
    return svg[start:].replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)
