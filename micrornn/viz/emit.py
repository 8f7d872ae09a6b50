"""Emitting one picture as a graphviz.Digraph: boxes at their positions, clusters per step, edges, legend."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import graphviz

from ..record import Role
from . import explain
from .heat import _NO_GRAD
from .labels import _Text
from .model import _Frame, _Model
from .nodes import _FOLD, _key, _op_key, _Token
from .overlay import legend_row
from .text import _FONT, _escaped, _magnitude

# Routing edges around boxes costs about nodes × edges (measured: 75 boxes × 195 edges 1.9 s, 236 × 727
# over 30 s, even curved); past these products edges are drawn curved, then straight (0.2 s for 236 × 727).
ROUTED, CURVED = 20_000, 60_000


def _emit(m: _Model, frame: _Frame, texts: dict[str, _Text], pos: dict[str, tuple[float, float]],
          max_width: int | None, visible: Callable[[str], bool] | None = None) -> graphviz.Digraph:
    """One picture of the model. Every box gets its label's width (the widest over a stepper's
    frames), so all frames share one layout whatever numbers they show; ``visible(key)`` False draws a
    node as an invisible placeholder (the forward stepper's later steps)."""
    g = _digraph(m, max_width)
    c = _Canvas(m, frame, texts, pos, visible or (lambda k: True))
    _add_clusters(g, c)
    if m.hidden:
        _add_fold(g, c)
    for tail, head, attrs in m.edges:
        ends = (tail.replace("op", "n", 1), head.replace("op", "n", 1))
        if not (c.seen(ends[0]) and c.seen(ends[1])):
            attrs = {**attrs, "style": "invis"}
        g.edge(tail, head, **attrs)
    if m.scale:
        g.node("legend", label=_legend_label(m), shape="plain", **c.place("legend"))
        g._micrornn_scale = m.scale  # for scale_of(picture): the next picture can be drawn on this scale
    if m.caption:
        g.attr(label=_escaped(m.caption))
    return g


def _legend_label(m: _Model) -> str:
    """The legend: the colour bar, the cell state's path, the explaining lines, the contributions' colours."""
    assert m.scale is not None
    return m.scale.legend(m.c_path, explain.lines(m), _overlay_key(m))


def _overlay_key(m: _Model) -> Callable[[int], str] | None:
    """view="contributions": the legend row that names the bars' colours, one per loss step."""
    if m.overlay is None:
        return None
    steps = sorted({t for parts in m.overlay.values() for t, _ in parts})
    return lambda columns: legend_row(steps, columns)


def _digraph(m: _Model, max_width: int | None) -> graphviz.Digraph:
    """An empty picture with the graph, node and edge defaults: pinned by neato on the grid, else dot."""
    engine = "neato" if m.grid else "dot"
    size = {"size": f"{max_width / 96:.2f},1000"} if max_width is not None else {}
    g = graphviz.Digraph("micrornn", engine=engine, comment=(
        f"layout engine: {engine} (also set by the layout attribute, so `dot` or `neato` on this file draw the "
        "same picture)"), graph_attr={
        "layout": engine, "fontname": _FONT, "fontsize": "11", "labelloc": "b", "labeljust": "l",
        "outputorder": "edgesfirst", **size,
        # routed splines avoid the nodes but cost seconds on hundreds of edges: curved ones past a size
        **({"splines": _splines(len(m.drawn), len(m.edges)), "overlap": "true"} if m.grid else
           {"rankdir": _direction(m), "nodesep": "0.2", "ranksep": "0.3"})})
    g.attr("node", fontname=_FONT, fontsize="10", shape="plain")
    g.attr("edge", fontname=_FONT, fontsize="9", color="#555555", arrowsize="0.6")
    return g


def _direction(m: _Model) -> str:
    """dot's rank direction: micrograd's left to right, except for the ops of a gated cell's steps. An LSTM
    step is a dozen ops deep, so three of them left to right were 6,300 px wide (drawn at a scale of 0.3 on a
    slide); top to bottom, one step under the other, they are 1,900 px wide."""
    gated = m.view == "ops" and any(r.kind == "gate" for r in m.roles.values())
    return "TB" if gated else "LR"


@dataclass
class _Canvas:
    """What one picture is painted from: the model, the frame, the labels, the positions, what is visible."""

    m: _Model
    frame: _Frame
    texts: dict[str, _Text]
    pos: dict[str, tuple[float, float]]
    seen: Callable[[str], bool]

    def place(self, k: str) -> dict[str, str]:
        """A box's pinned position (on the grid) and, while it is not visible yet, its invisibility."""
        attrs = {"pos": f"{self.pos[k][0]:.3f},{self.pos[k][1]:.3f}!"} if k in self.pos else {}
        if not self.seen(k):
            attrs["style"] = "invis"
        return attrs

    def label(self, n: Any) -> str:
        """A node's box: its lines on its gradient's colour; a shared parameter bold, a context rounded."""
        k, m = _key(n), self.m
        fill, font = _colours(m, self.frame, n)
        width = round(self.texts[k].width)
        rows = "".join(f'<TR><TD BGCOLOR="{fill}" WIDTH="{width}"><FONT COLOR="{font}">{line}</FONT></TD></TR>'
                       for line in self.texts[k].lines)
        border = "2" if id(n) in m.params else "1"
        style = ' STYLE="ROUNDED"' if m.roles.get(id(n), Role("")).kind == "cut" else ""
        return f'<<TABLE BORDER="{border}"{style} CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">{rows}</TABLE>>'


def _colours(m: _Model, frame: _Frame, n: Any) -> tuple[str, str]:
    """Fill and font colour of a node's box: its gradient on the scale, grey if the loss ignores it."""
    if isinstance(n, _Token):
        return "white", "black"
    if m.scale and frame.has_grad(n):
        gr = frame.grad(n)
        return m.scale.colour(_magnitude(gr)) if gr is not None else ("white", "black")
    if m.grads and not frame.has_grad(n):
        return _NO_GRAD, "#555555"
    return "white", "black"


def _add_clusters(g: graphviz.Digraph, c: _Canvas) -> None:
    """The nodes of each step in a cluster of their own ("t = 3"), then those of no step."""
    m, pos = c.m, c.pos
    clusters: dict[int | None, list[Any]] = defaultdict(list)
    for n in m.drawn:
        clusters[None if id(n) in m.params or n.t is None else n.t].append(n)
    for t in sorted(t for t in clusters if t is not None):
        with g.subgraph(name=f"cluster_t{t}") as sub:
            part = f"{m.parts[t]} · " if t in m.parts else ""
            sub.attr(label=f"{part}t = {t}", style="rounded", color="#bbbbbb", fontcolor="#666666", margin="14",
                     labelloc="t")
            for n in clusters[t]:
                _add_node(sub, n, c.label(n), m.view, c.place(_key(n)))
            if f"top{t}" in pos:
                sub.node(f"top{t}", label="", shape="point", style="invis", width="0.01",
                         pos=f"{pos[f'top{t}'][0]:.3f},{pos[f'top{t}'][1]:.3f}!")
    for n in clusters.get(None, []):
        _add_node(g, n, c.label(n), m.view, c.place(_key(n)))


def _add_fold(g: graphviz.Digraph, c: _Canvas) -> None:
    """The "… k steps …" node that stands for the folded steps."""
    text = c.texts[_FOLD]
    attrs = {"shape": "box", "style": "rounded,dashed", "fontsize": "11", **c.place(_FOLD)}
    if c.pos:
        attrs["width"] = f"{text.width / 72:.2f}"
    g.node(_FOLD, label=_fold_label(text), **attrs)


def _fold_label(text: _Text) -> str:
    """The fold node's label: its lines, one row each."""
    rows = "".join(f"<TR><TD>{line}</TD></TR>" for line in text.lines)
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{rows}</TABLE>>'


def _splines(nodes: int, edges: int) -> str:
    """How the grid's edges are drawn: routed around the boxes while that is cheap, else curved, else straight."""
    work = nodes * edges
    return "true" if work <= ROUTED else "curved" if work <= CURVED else "line"


def _add_node(g: graphviz.Digraph, n: Any, label: str, view: str, place: dict[str, str]) -> None:
    """A node's box; in the ops view also the op that made it, as a small circle of its own."""
    g.node(_key(n), label=label, **place)
    if view == "ops" and n._parents:  # the op that made it, as its own small node
        g.node(_op_key(n), label=_escaped(n._op), shape="circle", fontsize="9", width="0.3", margin="0.02",
               **({"style": "invis"} if place.get("style") == "invis" else {}))
        g.edge(_op_key(n), _key(n), **({"style": "invis"} if place.get("style") == "invis" else {}))
