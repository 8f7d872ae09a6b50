"""Pictures as data: a ``Layout`` is drawn by ``dot`` once per structure; every frame is a paint on it.

A layout holds what does not change while a slider moves: the nodes, their boxes and positions, the edges,
the clusters and the folded steps (chosen once, so they stay put). A frame is the rest — each box's fill
colours and the text of its lines — and its SVG is the layout's cached SVG with those patched in; ``dot``
does not run again. The same patches, as data, are what ``explore(...).save`` writes into a lesson page.

    >>> import numpy as np, micrornn as mr
    >>> def linear(w):
    ...     rnn = mr.nn.RNN(1, 1, 1, activation="identity", seed=0); rnn.W_h.data[:] = w
    ...     u = mr.unroll.many_to_one(rnn, np.ones((5, 1)), np.array([1.0])); u.backward(); return u
    >>> layout = Layout(linear(0.9), scale=(1e-3, 1e3), sizes=[linear(1.1)])   # dot runs here, once
    >>> svg = layout.svg(linear(1.1))                        # a new frame: text and colours patched
    >>> svg.startswith("<svg"), layout.dot_runs
    (True, 1)

The patched SVG is the one ``dot`` draws for that frame (``tests/viz/test_viz_paint.py`` compares them
byte for byte), given two rules that both follow. A text alone in a coloured cell is anchored at the
cell's centre (``dot`` centres it by its own estimate of the text's width, which a patch cannot know).
A label line of several runs (Σ_t ∂L/∂W^H_t = 0.42) is a fixed-size table; in a layout it keeps the
widest width it has in any frame the layout was sized for, so nothing in it moves when a number changes.
One thing a patch does not move: with ``scale=None`` each frame has its own colour range, and the legend's
tick numbers keep the positions dot gave the first frame's (a fixed scale, as ``explore`` uses, has none).
A Value graph's ops view prints each edge's local derivative: another value is another structure there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import graphviz

from .dot import DOT_TIMEOUT, to_svg
from .emit import _Canvas, _emit, _fold_label, _legend_label
from .heat import _given_scale
from .labels import _pinned, _tables, _Text, _texts
from .layout import _layout
from .model import NODE_BUDGET, _every, _Frame, _Model, _model
from .nodes import _FOLD, _key
from .picture import MAX_WIDTH, _check_draw_args, _fit
from .source import _source


class LayoutMismatch(ValueError):
    """The graph has another structure than the layout (other nodes, steps, edges): it needs a layout of its own."""


# -- the cached SVG, cut into static text and slots ------------------------------------------------------------
# dot's comments and <title>s name nodes by id() (n1406…): they differ from graph to graph, and a hover shows them
_COMMENT, _TITLE = re.compile(r"<!--.*?-->\n", re.S), re.compile(r"<title>[^<]*</title>\n")
_NODE = re.compile(r'(<g id="[^"]*" class="node">\n)<title>([^<]*)</title>\n(.*?)(</g>)', re.S)
# what a frame repaints in a box: a table cell's background, and each run of text (its colour and its content)
# (a cell's pen is "transparent"; a Graphviz that writes it as "none" is read alike)
_SLOT = re.compile(r'<polygon fill="([^"]*)"(?= stroke="(?:transparent|none)")'
                   r'|<text([^>]*?)(?: fill="([^"]*)")?>([^<]*)</text>')
_START_X = re.compile(r' text-anchor="start" x="[-\d.]+"')
_POINTS = re.compile(r'points="([^"]*)"')

Value = tuple[str | None, str]  # a slot's paint: (fill colour, None: black; text content); a cell: (fill, "")


def _number(x: float) -> str:
    """A coordinate as dot writes it: two decimals at most, no trailing zeros."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


@dataclass
class _Slot:
    """One repaintable piece of the SVG: a cell's fill (``attrs`` None) or a text (its other attributes)."""

    attrs: str | None = None

    def write(self, value: Value) -> str:
        fill, content = value
        if self.attrs is None:
            return f'<polygon fill="{fill}"'
        colour = f' fill="{fill}"' if fill is not None else ""
        return f"<text{self.attrs}{colour}>{content}</text>"


class _Template:
    """``dot``'s SVG of a layout as static strings between slots; ``base`` is the painting dot drew.

    Slots are, in document order, every cell background (a polygon drawn with a transparent pen) and
    ``text`` inside a node's group: the elements a page's script finds with the selector ``SLOTS`` (the
    lesson page's patches)."""

    SLOTS = 'g.node polygon[stroke="transparent"], g.node polygon[stroke="none"], g.node text'

    def __init__(self, svg: str) -> None:
        svg = _COMMENT.sub("", svg[svg.find("<svg"):])  # the XML prolog and DOCTYPE are not valid inside HTML
        self.static: list[str] = []
        self.slots: list[_Slot] = []
        self.base: list[Value] = []
        self.groups: dict[str, range] = {}  # a node's DOT name → its slots
        rest, at = [], 0
        for m in _NODE.finditer(svg):
            rest.append(_TITLE.sub("", svg[at:m.start()]) + m[1])
            start = len(self.slots)
            self._cut(m[3], rest)
            rest.append(m[4])
            self.groups[m[2]] = range(start, len(self.slots))
            at = m.end()
        rest.append(_TITLE.sub("", svg[at:]))
        self.static.append("".join(rest))

    def _cut(self, body: str, rest: list[str]) -> None:
        """Cut one node's group into slots; a text alone in a coloured cell is anchored at the cell's centre."""
        pieces = list(_SLOT.finditer(body))
        at = 0
        for i, m in enumerate(pieces):
            rest.append(body[at:m.start()])
            self.static.append("".join(rest))
            rest.clear()
            if m[1] is not None:
                self.slots.append(_Slot())
                self.base.append((m[1], ""))
            else:
                attrs, cell = m[2], pieces[i - 1] if i else None
                if cell is not None and cell[1] is not None and (i + 1 == len(pieces) or pieces[i + 1][1]):
                    xs = [float(p.split(",")[0]) for p in _POINTS.search(body, cell.start()).group(1).split()]
                    centre = _number((min(xs) + max(xs)) / 2)
                    attrs = _START_X.sub(f' text-anchor="middle" x="{centre}"', attrs, count=1)
                self.slots.append(_Slot(attrs))
                self.base.append((m[3], m[4]))
            at = m.end()
        rest.append(body[at:])

    def svg(self, values: Sequence[Value]) -> str:
        """The SVG with ``values`` in the slots."""
        out = [self.static[0]]
        for slot, value, after in zip(self.slots, values, self.static[1:]):
            out.append(slot.write(value))
            out.append(after)
        return "".join(out)


# -- a label's paint, as dot will draw it ----------------------------------------------------------------------
_TAG = re.compile(r"<(/?)(\w+)([^>]*)>|([^<]+)")
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def _svg_text(run: str) -> str:
    """A run of label text as ``dot`` writes it in SVG: entities read, then &, <, >, quotes and - escaped."""
    text = html.unescape(run)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#39;").replace("-", "&#45;"))


def _label_paint(label: str) -> list[Value]:
    """The slots' values of one box, read from its Graphviz HTML label: each cell's BGCOLOR and each run of
    text with its FONT COLOR (None for black: dot writes no fill then), in the order dot draws them."""
    values: list[Value] = []
    colours: list[str | None] = [None]
    for m in _TAG.finditer(label[1:-1] if label.startswith("<") else label):
        closing, tag, attrs, text = m.groups()
        if text is not None:
            values.append((None if colours[-1] == "black" else colours[-1], _svg_text(text)))
        elif tag == "FONT":
            if closing:
                colours.pop()
            else:
                colours.append(dict(_ATTR.findall(attrs)).get("COLOR", colours[-1]))
        elif tag == "TD" and not closing and (bg := dict(_ATTR.findall(attrs)).get("BGCOLOR")):
            values.append((bg, ""))
    return values


# -- the layout ------------------------------------------------------------------------------------------------
def _signature(m: _Model) -> tuple:
    """What must be equal for a graph to be painted on a layout: the drawn nodes' roles, labels and shapes
    (and ops, in the ops view), the folded steps, and the edges (between positions in the drawn order)."""
    index = {_key(n): i for i, n in enumerate(m.drawn)}

    def end(k: str) -> Any:
        return index.get(k.replace("op", "n", 1), k), k.startswith("op")

    ops = m.view == "ops"  # the coarse view does not draw the op that made a node (tanh or relu: one layout)
    nodes = tuple((m.roles.get(id(n)), ops and n._op, getattr(n.data, "shape", ()), n.label) for n in m.drawn)
    edges = tuple((end(t), end(h), tuple(sorted(a.items()))) for t, h, a in m.edges)
    return m.view, tuple(m.hidden), nodes, edges, tuple(sorted(m.parts.items())), m.c_path


@dataclass
class Paint:
    """One frame on a layout: the value of every slot (see ``_Template``) and the model it came from.
    ``fits``: every label fits its box (else the frame still paints, and ``explore`` lays out anew)."""

    values: list[Value]
    model: _Model
    fits: bool


class Layout:
    """Node positions, boxes, edges, clusters and folded steps of one structure, drawn by ``dot`` once.

    ``Layout(u)`` lays ``u`` out as ``viz.draw(u, ...)`` does (same arguments, same DOT; the folded steps
    are chosen here, once); ``svg(u2)`` paints another graph of the same structure — the same cell, T,
    topology and view: a new w, another activation, a training step — on it without running ``dot``;
    ``paint(u2)`` gives the slots' values only. ``sizes=[u3, …]`` makes every box and line as wide as those
    graphs' numbers need too, and ``room`` adds points to each box for numbers not seen yet. ``splines``
    overrides how the grid's edges are drawn (``"curved"``: 30 ms where routing a gated cell's edges around
    the boxes takes 0.6 s at T = 20). A graph of another structure raises ``LayoutMismatch``.
    """

    def __init__(self, obj: Any, view: str | None = None, max_steps: int = 8, max_width: int | None = MAX_WIDTH,
                 title: str | None = None, scale: Any = None, sizes: Sequence[Any] = (), room: float = 0.0,
                 splines: str | None = None, timeout: float = DOT_TIMEOUT) -> None:
        args = (view, True, max_steps, True, NODE_BUDGET, title, None, max_width)
        _check_draw_args(*args, views=("coarse", "ops"))  # draw's "contributions" bars are not painted
        if isinstance(room, bool) or not isinstance(room, (int, float)) or not 0 <= room <= 200:
            raise ValueError(f"room must be a number of points from 0 to 200, got {room!r}")
        if splines not in (None, "true", "curved", "line"):
            raise ValueError(f"splines must be None (draw's choice), 'true', 'curved' or 'line', got {splines!r}")
        self.title, self.max_width, self.scale, self.splines = title, max_width, _given_scale(scale), splines
        m, _, texts, pos = _fit(obj, args, lambda m: [_Frame(_every, m)], scale=self.scale)
        self.model, self.keys = m, [_key(n) for n in m.drawn]
        self.signature = _signature(m)
        self.sizes: dict[str, _Text] = dict(texts[0])  # each box's size
        self.tables = {k: _tables(t) for k, t in texts[0].items()}  # each label's line tables' widths
        if sizes or room:
            self._grow([self._texts(self._remodel(o)) for o in sizes], room)
            pos, _ = _layout(m, self.sizes)
        self.pos = pos
        self.graph = self._emitted(m, self._fitted(texts[0]), pos)
        self.template = _Template(to_svg(self.graph, timeout))
        self.dot_runs = 1
        self._check(self.paint(obj).values)

    def _remodel(self, obj: Any) -> _Model:
        """``obj`` modelled as this layout's graph was: the same view and folded steps (else LayoutMismatch)."""
        m = _model(obj, _source(obj, None), self.model.view, True, 2, True, NODE_BUDGET, self.title, (), self.scale,
                   fold=self.model.hidden)
        m.caption = self.model.caption  # the caption belongs to the layout: "steps 4–47 folded" holds for all
        if _signature(m) != self.signature:
            raise LayoutMismatch("this graph has another structure than the layout's (other nodes, steps or edges: "
                                 "another cell, T, topology or view); make a Layout of it")
        return m

    def _texts(self, m: _Model) -> dict[str, _Text]:
        """The labels of ``m``'s frame (every gradient shown), keyed by this layout's node names."""
        names = dict(zip((_key(n) for n in m.drawn), self.keys))
        return {names.get(k, k): t for k, t in _texts(m, _Frame(_every, m)).items()}

    def _grow(self, more: list[dict[str, _Text]], room: float) -> None:
        """Each box and line table as large as its largest in ``more`` too; each box ``room`` points wider."""
        for k, size in self.sizes.items():
            self.sizes[k] = _Text([], max([size.width] + [x[k].width for x in more]) + room,
                                  max([size.height] + [x[k].height for x in more]))
            for x in more:
                self.tables[k] = [max(a, b) for a, b in zip(self.tables[k], _tables(x[k]))]
            self.tables[k] = [w + round(room) for w in self.tables[k]]

    def _fitted(self, texts: dict[str, _Text]) -> dict[str, _Text]:
        """``texts`` (keyed by this layout's names) in this layout's boxes, their line tables pinned."""
        return {k: _pinned(t, self.tables[k], self.sizes[k]) for k, t in texts.items()}

    def _fits(self, texts: dict[str, _Text]) -> bool:
        """Does every label fit its box and every line its table?"""
        return all(t.width <= self.sizes[k].width + 0.01 and t.height <= self.sizes[k].height + 0.01
                   and all(a <= b for a, b in zip(_tables(t), self.tables[k])) for k, t in texts.items())

    def paint(self, obj: Any) -> Paint:
        """The slots' values of ``obj`` drawn on this layout (its numbers and colours; no ``dot``)."""
        m = self._remodel(obj)
        texts = self._texts(m)
        labels = self._labels(m, self._fitted(texts))
        values = list(self.template.base)
        for name, slots in self.template.groups.items():
            if name in labels:
                painted = _label_paint(labels[name])
                if len(painted) != len(slots):
                    raise RuntimeError(f"paint: box {name} has {len(painted)} cells and texts, its SVG {len(slots)}")
                values[slots.start:slots.stop] = painted
        return Paint(values, m, self._fits(texts))

    def _labels(self, m: _Model, texts: dict[str, _Text]) -> dict[str, str]:
        """Each repainted box's Graphviz label, keyed by this layout's node names (``texts`` keyed so too)."""
        canvas = _Canvas(m, _Frame(_every, m), {_key(n): texts[k] for k, n in zip(self.keys, m.drawn)}, {},
                         lambda k: True)
        labels = {k: canvas.label(n) for k, n in zip(self.keys, m.drawn)}
        if m.hidden:
            labels[_FOLD] = _fold_label(texts[_FOLD])
        if m.scale:
            labels["legend"] = _legend_label(m)
        return labels

    def svg(self, obj: Any) -> str:
        """``obj`` drawn on this layout as SVG: the cached SVG with its numbers and colours patched in."""
        return self.template.svg(self.paint(obj).values)

    def digraph(self, obj: Any) -> graphviz.Digraph:
        """The DOT picture of ``obj`` on this layout, for ``dot`` to draw afresh (tests compare it with ``svg``)."""
        m = self._remodel(obj)
        names = dict(zip(self.keys, (_key(n) for n in m.drawn)))
        texts = {names.get(k, k): t for k, t in self._fitted(self._texts(m)).items()}
        return self._emitted(m, texts, {names.get(k, k): p for k, p in self.pos.items()})

    def _emitted(self, m: _Model, texts: dict[str, _Text], pos: dict[str, tuple[float, float]]) -> graphviz.Digraph:
        """The DOT picture of one frame, with this layout's choice of edges."""
        g = _emit(m, _Frame(_every, m), texts, pos, self.max_width)
        if self.splines is not None and m.grid:
            g.graph_attr["splines"] = self.splines
        return g

    def _check(self, values: list[Value]) -> None:
        """The painting read from the labels is the one dot drew (else the slots are misread: say so now)."""
        for i, (mine, drawn) in enumerate(zip(values, self.template.base)):
            if mine != drawn:
                raise RuntimeError(f"paint: slot {i} reads {mine!r} from its label but dot drew {drawn!r}: this "
                                   "dot writes SVG differently than micrornn.viz.paint expects")


# -- the steppers' frames: one dot run, the other frames patched -------------------------------------------------
_TABLE_LABEL = re.compile(r"^(\t+)(\S+) \[label=(<<TABLE.*?</TABLE>>)", re.M)  # a box, in a cluster or not


def _skeleton(source: str) -> str:
    """A picture's DOT with its boxes' table labels taken out: what must be equal for a patch to be right."""
    return _TABLE_LABEL.sub(lambda m: f"{m[1]}{m[2]} [label=", source)


def frame_svgs(graphs: Sequence[graphviz.Digraph], render: Callable[[list[graphviz.Digraph]], list[str]]
               ) -> list[str]:
    """The SVG of each frame of a stepper, ``dot`` run (``render``) only where a patch cannot be right.

    The frames of ``backward_frames`` share one layout and differ only in their boxes' labels (the numbers,
    the colours), so frame 0 is drawn and every frame whose DOT is frame 0's but for those labels is a
    patch of it (``_Template``: texts alone in a coloured cell centred, as on a Layout). Any other frame
    (another edge, an invisible node of the forward stepper, another structure) goes to ``render``.

        >>> import numpy as np, micrornn as mr
        >>> u = mr.unroll.many_to_one(mr.nn.RNN(1, 2, 1, seed=0), np.ones((3, 1)), np.array([1.0])); u.backward()
        >>> graphs = [g for g, _ in mr.viz.backward_frames(u)]
        >>> runs = []
        >>> svgs = frame_svgs(graphs, lambda gs: runs.append(len(gs)) or [to_svg(g) for g in gs])
        >>> len(svgs) == len(graphs), runs                 # one dot run for frame 0, the rest patched
        (True, [1])
    """
    first = render([graphs[0]])[0]
    template = _Template(first)
    base = _skeleton(graphs[0].source)
    out: list[str | None] = [template.svg(template.base)]
    for g in graphs[1:]:
        out.append(_patch_frame(template, g) if _skeleton(g.source) == base else None)
    rest = [g for g, svg in zip(graphs, out) if svg is None]
    drawn = iter(render(rest) if rest else [])
    return [svg if svg is not None else next(drawn) for svg in out]


def _patch_frame(template: _Template, graph: graphviz.Digraph) -> str | None:
    """``graph``'s boxes painted into ``template`` (None where a box's cells and texts do not match its slots)."""
    values = list(template.base)
    for _, name, label in _TABLE_LABEL.findall(graph.source):
        slots = template.groups.get(name)
        painted = _label_paint(label)
        if slots is None or len(painted) != len(slots):
            return None
        values[slots.start:slots.stop] = painted
    return template.svg(values)
