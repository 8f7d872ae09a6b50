"""Graphviz pictures of graphs: every time step, every per-step copy, every gradient.

    >>> import micrornn as mr
    >>> a = mr.Value(2.0); b = mr.Value(-3.0)
    >>> y = a * b + b ** 2; y.backward()
    >>> g = draw(y)                        # a graphviz.Digraph: shows inline in Jupyter
    >>> "**" in g.source and "label=-3" in g.source     # the ops, and ∂(ab)/∂a = b on its edge
    True

``draw`` accepts an ``Unrolled`` (from ``micrornn.unroll``), a ``Tensor`` or a ``Value``. What a node
*is* comes from the unroller's record (``u.roles``: input, H, C, gate, output, loss, per-step weight
copy, parameter, context cut), never from its label; a hand-built graph is read from its structure
and ``node.t``, and labels are only printed. Unrolled graphs are drawn on a grid — time left to
right, one cluster per step; rows X, weight copies, gates, C, H per layer and direction, then O, L —
so nothing overlaps at any T. A shared parameter is drawn once, with an edge to each per-step copy:
the copies show their gradients, the parameter their sum. Node colour is log10 of the gradient
magnitude on one scale for the whole picture; a gradient of exactly 0 is white and "0", a node the
loss does not depend on is grey and "—". Labels are typeset without SVG baseline shifts (each
super/subscript is its own small text in a table cell), so SVG in a browser reads as the PNG does.
"""

from __future__ import annotations

import bisect
import functools
import html
import math
import os
import re
import shutil
import subprocess
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .. import files
from ..checks import flag
from ..graph import topological_order
from ..record import Role, Unrolled
from ..tensor import Tensor
from ..value import Value

__all__ = ["draw", "render", "to_svg", "backward_frames", "forward_frames", "save_stepper", "DotNotFound", "VIEWS",
           "MAX_WIDTH", "dot_formats"]

VIEWS = ("coarse", "ops")
NODE_BUDGET = 400  # more nodes than this and a picture switches to coarse + collapsed, and says so
DOT_TIMEOUT = 30.0  # seconds; `dot` never runs longer than this
# Routing edges around boxes costs about nodes × edges (measured: 75 boxes × 195 edges 1.9 s, 236 × 727
# over 30 s, even curved); past these products edges are drawn curved, then straight (0.2 s for 236 × 727).
ROUTED, CURVED = 20_000, 60_000
MAX_WIDTH = 2000  # pixels at 96 dpi: a slide. Wider pictures fold more steps, then scale down
INSTALL_DOT = ("Debian/Ubuntu: sudo apt-get install graphviz | macOS: brew install graphviz | "
               "conda: conda install -c conda-forge graphviz")
# viridis (colour-blind safe, dark → light): low gradients dark, high gradients bright
_VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
            "#fde725"]
_NO_GRAD = "#e8e8e8"  # the loss does not depend on this node: no gradient at all
_ZERO_GRAD = "#ffffff"  # the loss depends on it, and the gradient is exactly 0
_CUT_COLOUR = "#d95f02"
_C_PATH = "#d62728"  # the cell state's path C_{t-1} → C_t: the line that carries the LSTM's gradient
_FONT = "Arial"  # see _REGULAR
_HEAD = ("W_o", "b_o")  # every Cell's output head O_t = W^O H_t + b^O: its copies sit in a row under O_t


class DotNotFound(RuntimeError):
    """Graphviz's ``dot`` binary is not installed; the message says how to install it."""


# -- text ---------------------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.4g}"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


# Shown as their escape: control characters (dot stops with a "syntax error" at a NUL byte), lone surrogates
# (UTF-8 cannot encode them) and invisible format characters — the bidi controls U+202A–U+202E, U+2066–U+2069,
# U+200E/F, U+061C would reverse the text around them in a browser (a label "a\u202eb" could pass for
# another), and zero-width ones hide there. An escape keeps each one visible, so a teacher sees it is there.
_ESCAPED_CATEGORIES = ("Cc", "Cs", "Cf")


def _printable(text: str) -> str:
    r"""``text`` as a picture can show it: a line break → ⏎, a tab → a space, any other control, format
    (bidi, zero-width) or lone surrogate character → its escape, e.g. ``\x00``, ``\u202e``. Every label,
    title, caption and token a picture or stepper page shows passes through here.

    >>> _printable("a\nb\x00"), _printable("a\u202eb")
    ('a⏎b\\x00', 'a\\u202eb')
    """
    if text.isprintable():  # str.isprintable() is False for every character escaped below
        return text
    text = _LINE_BREAK.sub("⏎", text).replace("\t", " ")
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _ESCAPED_CATEGORIES
                   else ch for ch in text)


def _escaped(text: str) -> str:
    r"""``text`` for a Graphviz label, plain or HTML-like: printable, entities escaped, and a backslash
    doubled (dot reads ``\N``, ``\G``, ``\l`` … as escapes, in HTML-like labels too)."""
    return html.escape(_printable(text)).replace("\\", "\\\\")


# Advance widths of Arial (= Helvetica = Liberation Sans: metric-compatible) in 1/1000 em, regular and
# bold. Pictures name Arial, not Helvetica: on Linux, Graphviz (pango) resolved "Helvetica" to DejaVu Sans,
# 10% wider, while Chromium drew Liberation Sans, so text runs placed by Graphviz came apart in the browser.
# "Arial" is Liberation Sans for both there, and Arial itself on macOS and Windows. Characters outside the
# tables (Σ ∂ ∇ …) come from a fallback font.
_REGULAR = dict(zip(" !\"#$%&'()*+,-./0123456789:;<=>?@", [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389,
                                                          584, 278, 333, 278, 278] + [556] * 10 + [278, 278, 584,
                                                          584, 584, 556, 1015]))
_REGULAR.update(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
                                                  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611]))
_REGULAR.update(zip("[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", [278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
                                                              556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
                                                              556, 556, 556, 333, 500, 278, 556, 500, 722, 500,
                                                              500, 500, 334, 260, 334, 584]))
_BOLD = {**_REGULAR, **dict(zip("bdfghijklnopqrtuy", [611, 611, 333, 611, 611, 278, 278, 556, 278, 611, 611, 611,
                                                       611, 389, 333, 611, 556])), "c": 556, "s": 556, "x": 556,
         "z": 500, "m": 889, "v": 556, "w": 778,
         "A": 722, "B": 722, "E": 667, "J": 556, "K": 722, "L": 611, "P": 667, "R": 722, "Y": 667}
_OTHER = 800  # Σ ∂ ∇ … in a fallback font: a generous width, as a box that is too wide only looks roomy


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in points of ``text`` at ``size`` points, from the font metrics above."""
    table = _BOLD if bold else _REGULAR
    return sum(table.get(ch, _OTHER) for ch in text) * size / 1000


@dataclass(frozen=True)
class _Piece:
    """A run of label text as Graphviz HTML, with its width and height in points."""

    html: str
    width: float
    height: float
    table: bool = False  # a small table (super/subscripts): it needs a cell of its own


def _plain(text: str, size: float = 10, bold: bool = False, italic: bool = False) -> _Piece:
    """A run of text. Its leading and trailing spaces are non-breaking: a browser drops them from an SVG
    <text> (Graphviz keeps them), which moved " ∂L/∂" one space left of where Graphviz put it."""
    core = text.strip(" ")
    lead, trail = len(text) - len(text.lstrip(" ")), len(text) - len(text.rstrip(" "))
    body = "&#160;" * lead + _escaped(core) + "&#160;" * trail if core else "&#160;" * len(text)
    if bold:
        body = f"<B>{body}</B>"
    if italic:
        body = f"<I>{body}</I>"
    if size != 10:
        body = f'<FONT POINT-SIZE="{size:g}">{body}</FONT>'
    return _Piece(body, _text_width(text, size, bold), 1.2 * size)


_NOTATION = re.compile(r"([^\^_\[]+)(?:\^([^_\[]+))?(?:_([^\[]+))?(\[.*\])?", flags=re.DOTALL)


def _math(label: str, size: float = 10, bold: bool = False) -> list[_Piece]:
    """'W^H_3[0,1]' typeset: W, then a small H over a small 3 in a two-row table, then [0,1].

    Graphviz writes <SUP>/<SUB> as SVG ``baseline-shift``, which Chromium draws outside the box (W^X
    read "W ^"); stacked cells are plain text at fixed positions, the same in SVG, PNG and PDF.
    """
    m = _NOTATION.fullmatch(label)
    if not m or not (m.group(2) or m.group(3)):
        return [_plain(label, size, bold)]
    name, sup, sub, idx = m.groups()
    small = round(size * 0.7)
    top, bottom = _plain(sup or " ", small, bold), _plain(sub or " ", small, bold)
    stack = (f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR><TD ALIGN="LEFT">{top.html}</TD></TR>'
             f'<TR><TD ALIGN="LEFT">{bottom.html}</TD></TR></TABLE>')
    pieces = [_plain(name, size, bold), _Piece(stack, max(top.width, bottom.width), top.height + bottom.height, True)]
    if idx:
        pieces.append(_plain(idx, size, bold))
    return pieces


def _line(pieces: list[_Piece]) -> _Piece:
    """One line of a label. Several runs go in one row of cells of a fixed-size table: each run is
    positioned by Graphviz, so a browser whose font is a little wider cannot push one run into the next
    (the Σ lines came apart), and the table does not stretch when its box is wider."""
    merged: list[_Piece] = []
    for p in pieces:  # neighbouring plain runs are one run: "∂L/∂" and the W of W^H_t stay one text
        if merged and not p.table and not merged[-1].table:
            q = merged.pop()
            p = _Piece(q.html + p.html, q.width + p.width, max(q.height, p.height))
        merged.append(p)
    pieces = merged
    if len(pieces) == 1 and not pieces[0].table:
        return pieces[0]
    width = 1.05 * sum(p.width for p in pieces) + 2.0 * len(pieces) + 4  # Graphviz rounds each cell up
    height = max(p.height for p in pieces) + 1
    cells = "".join(f"<TD>{p.html}</TD>" for p in pieces)
    return _Piece(f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0" FIXEDSIZE="TRUE" WIDTH="{math.ceil(width)}" '
                  f'HEIGHT="{math.ceil(height)}"><TR>{cells}</TR></TABLE>', math.ceil(width), math.ceil(height), True)


def _magnitude(x: Any) -> float:
    """|x| for a number, the Euclidean norm for an array."""
    if x is None:
        return 0.0
    a = np.asarray(x, dtype=np.float64)
    return float(abs(a)) if a.ndim == 0 else float(np.sqrt(np.sum(a * a)))


def _value(x: Any) -> str:
    """A number as a number; an array as its norm between bars, |0.46|. (Not ‖0.46‖: the glyph is there,
    but in Arial-like fonts, where an l is a plain bar, ‖0.46‖ reads "ll0.46ll".)"""
    a = np.asarray(x, dtype=np.float64)
    return _fmt(float(a.reshape(()))) if a.size == 1 else f"|{_fmt(_magnitude(a))}|"


# -- colour -----------------------------------------------------------------------------------------------
@dataclass
class _Heat:
    """One log10 scale for the whole picture."""

    lo: float
    hi: float

    @classmethod
    def over(cls, magnitudes: Iterable[float]) -> _Heat | None:
        logs = [math.log10(m) for m in magnitudes if m > 0 and math.isfinite(m)]
        if not logs:
            return None
        lo, hi = min(logs), max(logs)
        return cls(lo, hi if hi > lo else lo + 1.0)

    def colour(self, m: float) -> tuple[str, str]:
        """Fill and font colour for a gradient of magnitude m (0: white; inf/nan: the no-gradient grey)."""
        if m == 0:
            return _ZERO_GRAD, "black"
        if not (m > 0 and math.isfinite(m)):
            return _NO_GRAD, "black"
        x = (math.log10(m) - self.lo) / (self.hi - self.lo)
        i = min(len(_VIRIDIS) - 1, max(0, int(round(x * (len(_VIRIDIS) - 1)))))
        return _VIRIDIS[i], ("white" if i < 6 else "black")

    def legend(self, c_path: bool) -> str:
        ticks = np.linspace(self.lo, self.hi, 5)
        cells = "".join(f'<TD BGCOLOR="{self.colour(10**v)[0]}" WIDTH="34"> </TD>' for v in np.linspace(
            self.lo, self.hi, len(_VIRIDIS)))
        labels = "".join(f'<TD COLSPAN="2">{10 ** v:.2g}</TD>' for v in ticks)
        extra = (f'<TR><TD COLSPAN="{len(_VIRIDIS) + 2}" ALIGN="LEFT"><FONT COLOR="{_C_PATH}">━━</FONT> the cell '
                 "state's path: C carries the gradient from step to step</TD></TR>") if c_path else ""
        return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1"><TR><TD COLSPAN="{len(_VIRIDIS)}">'
                f"<B>|∂L/∂·|</B> (log scale)</TD><TD> </TD><TD> </TD></TR><TR>{cells}"
                f'<TD BGCOLOR="{_ZERO_GRAD}" BORDER="1">0</TD><TD BGCOLOR="{_NO_GRAD}">— no gradient</TD></TR>'
                f"<TR>{labels}</TR>{extra}</TABLE>>")


# -- what is drawn: roots, roles, contraction, folding ------------------------------------------------------
def _flat(node: Any) -> list[Any]:
    if isinstance(node, np.ndarray):
        return list(node.reshape(-1)) if node.dtype == object else []
    return [] if isinstance(node, (np.integer, int)) else [node]


class _Token:
    """X_t of a token-id net. The id is no graph node (W^X X_t is column X_t of W^X), so the picture
    adds this one to show which token entered, with an edge to where its column goes."""

    __slots__ = ("t", "label", "text", "data", "grad", "_parents", "_op")

    def __init__(self, t: int, ids: Any, tokens: Any) -> None:
        self.t, self.label, self._parents, self._op = t, f"X_{t}", (), ""
        self.data, self.grad = None, None
        ids = np.asarray(ids).reshape(-1)
        shown = [f"{_token_text(int(i), tokens)}" for i in ids[:4]]
        self.text = ", ".join(shown) + (", …" if len(ids) > 4 else "")


def _token_text(i: int, tokens: Any) -> str:
    if tokens is None:
        return f"id {i}"
    try:
        tok = tokens[i]
    except (KeyError, IndexError):
        return f"id {i}"
    return f"‘{_printable(str(tok))}’ ({i})"


def _tokens_of(u: Unrolled, tokens: Any) -> list[_Token]:
    out = []
    for record in (u.encoder, u) if u.encoder is not None else (u,):
        if record.rnn.token_ids:
            out += [_Token(t, x, tokens) for x, t in zip(record.X, record.steps.get("X", []))]
    return out


def _title(u: Unrolled) -> str:
    def cell(c: Any) -> str:
        name = type(c).__name__
        if name == "RNN" or hasattr(c, "feedback") and hasattr(c, "f"):
            name = {(None, "hidden"): "RNN", (None, "output"): "RNN (Jordan feedback)", (1, "hidden"): "Elman copy net",
                    (1, "output"): "Jordan copy net"}.get((c.truncate, c.feedback), f"RNN, truncate={c.truncate}")
            name += f", f = {c.activation}"
        elif c.truncate:
            name += f", truncate={c.truncate}"
        extra = [f"{c.num_layers} layers"] if c.num_layers > 1 else []
        return name + "".join(f", {e}" for e in extra + (["bidirectional"] if c.bidirectional else []))

    if u.encoder is not None:
        return (f"seq2seq: encoder {cell(u.encoder.rnn)}, T = {u.encoder.T} → decoder {cell(u.rnn)}, "
                f"T = {u.T}")
    return f"{u.topology.replace('_', '-')}, T = {u.T}, {cell(u.rnn)}"


@dataclass
class _Source:
    """What ``draw`` was given, read once: the roots, the loss, the context cuts, the roles, the title, and
    the walks over the whole graph. ``_fit`` models the same graph again with more steps folded; on a
    graph of 10,000 steps the walks cost more than everything else.
    """

    roots: list[Any]
    loss: Any | None
    cuts: list[tuple[int, Any, Any]]
    roles: dict[int, Role] | None  # None: a hand-built graph, read from its structure
    tokens: list[_Token]
    title: str
    head: set[int]  # ids of the output head's copies
    nodes: list[Any] = field(default_factory=list)  # the whole graph, parents first
    reached: set[int] | None = None  # ids of the nodes the loss depends on (None: every node)
    cache: dict[tuple, Any] = field(default_factory=dict)  # see once()

    def once(self, key: tuple, make: Callable[[], Any]) -> Any:
        """``make()`` the first time ``key`` is asked for: what depends on the graph and the view alone,
        not on how many steps are folded (the roles, the kept nodes, the contracted edges, the sums)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


def _source(obj: Any, tokens: Any) -> _Source:
    src = _given(obj, tokens)
    src.nodes = topological_order(*src.roots)
    for n in src.nodes:  # a label is drawn as text: check it here, not deep inside dot
        if n.label is not None and not isinstance(n.label, str):
            raise TypeError(f"draw(): {_describe(n)} has label {n.label!r} of type {type(n.label).__name__}; "
                            "a label must be a str or None")
    if src.roles is not None and src.loss is not None:
        src.reached = {id(n) for n in topological_order(src.loss)}
    return src


def _given(obj: Any, tokens: Any) -> _Source:
    if isinstance(obj, Unrolled):
        roots = []
        for record in (obj.encoder, obj) if obj.encoder is not None else (obj,):
            for group in (record.L, record.O, record.H, [record.loss]):
                for n in group:
                    roots.extend(_flat(n))
            for lists in record.states.values():
                for nodes in lists.values():
                    for n in nodes:
                        roots.extend(_flat(n))
        cuts = [(t, s, c) for record in (obj.encoder, obj) if record is not None
                for t, src, cp in record.cuts for s, c in zip(_flat(src), _flat(cp))]
        roles = obj.roles
        head = {i for i, r in roles.items() if r.kind == "copy" and r.name in _HEAD}
        loss = obj.loss if isinstance(obj.loss, (Value, Tensor)) else None
        return _Source([r for r in roots if r is not None], loss, cuts, roles, _tokens_of(obj, tokens), _title(obj),
                       head)
    if isinstance(obj, (Value, Tensor)):
        return _Source([obj], obj, [], None, [], "", set())
    raise TypeError(f"draw() takes an Unrolled, a Tensor or a Value, got {type(obj).__name__}")


def _structural_roles(nodes: list[Any], roots: list[Any], keep: Callable[[Any], bool]) -> dict[int, Role]:
    """Roles of a hand-built graph, from its structure and ``node.t`` alone: leaves are parameters (no t)
    or inputs, identity nodes of a leaf are per-step copies, a root is the loss, and the rest are stacked
    in rows by their depth within their step (``name`` holds the depth)."""
    root_ids = {id(r) for r in roots}
    depth: dict[int, int] = {}
    roles = {}
    for n in nodes:
        d = max((depth[id(p)] + (1 if keep(p) else 0) for p in n._parents if p.t == n.t), default=0)
        depth[id(n)] = d
        if not n._parents:
            kind = "input" if n.t is not None else "param"
        elif n._op == "copy" and not n._parents[0]._parents:
            kind = "copy"
        elif id(n) in root_ids:
            kind = "loss"
        else:
            kind = "H"
        roles[id(n)] = Role(kind, n.t, 0, 0, str(d))
    return roles


def _local(node: Any, i: int) -> float | None:
    """∂node/∂parent_i when it is a number (a Value keeps it with the edge); None for arrays."""
    return node._local[i] if isinstance(node, Value) else None


def _contract(nodes: list[Any], keep: Callable[[Any], bool],
              extra: dict[int, Any]) -> dict[tuple[int, int], float | None]:
    """Edges between kept nodes through the dropped ones; for Values the derivative along all paths.
    ``extra`` adds a source to a node (a token's X_t to the column lookup that reads it).

    Each kept node backpropagates through the dropped nodes above it and stops at kept ones, its
    frontier: ∂node/∂ancestor summed over those paths is then the gradient the walk leaves on the
    ancestor. Carrying every dropped node's kept ancestors forward instead costs T² time and memory on
    a many-to-many net, whose loss L_1 + … + L_T is a chain of T dropped partial sums (the k-th has k
    kept ancestors). Here a dropped node is walked once per kept node below it: a handful.
    """
    position = {id(n): i for i, n in enumerate(nodes)}

    def sources(n: Any) -> list[tuple[Any, float | None]]:  # (parent, ∂n/∂parent), the token id last
        out = [(p, _local(n, i)) for i, p in enumerate(n._parents)]
        if id(n) in extra:
            out.append((extra[id(n)], None))
        return out

    edges: dict[tuple[int, int], float | None] = {}
    for n in nodes:  # parents before children
        if not keep(n):
            continue
        # the walk up: depth first, left to right, so the kept ancestors come in the order they are met
        region, frontier, seen = [n], [], {id(n)}
        stack = [p for p, _ in reversed(sources(n))]
        while stack:
            p = stack.pop()
            if id(p) in seen:
                continue
            seen.add(id(p))
            if keep(p):
                frontier.append(p)
            else:
                region.append(p)
                stack.extend(q for q, _ in reversed(sources(p)))
        # the walk down: backprop over the region, children before parents (None: an array, no number)
        grad: dict[int, float | None] = {id(n): 1.0}
        for m in sorted(region, key=lambda m: position[id(m)], reverse=True):
            g = grad[id(m)]
            for p, d in sources(m):
                step = None if g is None or d is None else g * d
                if id(p) not in grad:
                    grad[id(p)] = step
                elif step is None or grad[id(p)] is None:
                    grad[id(p)] = None
                else:
                    grad[id(p)] += step
        for a in frontier:
            edges[(id(a), id(n))] = grad[id(a)]
    return edges


def _steps(nodes: Iterable[Any]) -> list[int]:
    return sorted({n.t for n in nodes if n.t is not None})


def _hidden_steps(steps: list[int], max_steps: int) -> list[int]:
    """The middle steps to fold into one "… k steps …" node: the first and last ones stay."""
    body = [t for t in steps if t >= 1]
    if len(body) <= max_steps:
        return []
    head = max(1, (max_steps + 1) // 2)
    tail = max(1, max_steps - head)
    return body[head:len(body) - tail]


@dataclass
class _Model:
    """Everything about a picture that does not depend on which gradients are shown.

    ``draw`` emits it once; the steppers emit it once per frame, so a frame costs the nodes it draws,
    not a walk over the whole graph, and every frame has the same nodes, edges and scale.
    """

    view: str
    grads: bool
    nodes: list[Any]  # the whole graph, parents first
    drawn: list[Any]  # the nodes drawn (the folded steps left out), parents first
    roles: dict[int, Role]
    params: dict[int, list[Any]]  # a shared parameter's id → its per-step copies
    hidden: list[int]  # the folded steps
    fold_states: list[Any]  # the H_t of the folded steps: the fold node reports their gradient norms
    edges: list[tuple[str, str, dict[str, str]]]  # (tail, head, attributes): folded, deduplicated
    scale: _Heat | None
    caption: str
    reached: set[int] | None  # ids of the nodes the loss depends on (None: every node)
    head: set[int]  # the output head's copies
    parts: dict[int, str]  # step → "encoder"/"decoder" in a seq2seq
    c_path: bool  # an LSTM's C_{t-1} → C_t edges are highlighted
    notes: list[str]  # what the caption says beyond the title (switched to coarse, folded …)
    # The coarse view of a graph with time steps is a grid of our own, pinned for neato (dot's cluster
    # ordering follows the parameters' fan-out edges, not time). Otherwise micrograd's left-to-right
    # picture, laid out by dot.
    grid: bool
    sums: dict[int, Any]  # a parameter's Σ over all its T copies, for the frames that show every gradient


def _key(n: Any) -> str:
    return f"n{id(n)}"


def _op_key(n: Any) -> str:
    return f"op{id(n)}"


_FOLD = "fold"


def _describe(n: Any) -> str:
    """A node for an error message: its op and its time step."""
    what = f"the {n._op!r} node" if n._op else "a leaf"
    return what + (f" at t = {n.t}" if n.t is not None else "")


def _check_draw_args(view: Any, grads: Any, max_steps: Any, heat: Any, node_budget: Any, title: Any,
                     tokens: Any, max_width: Any) -> None:
    if view is not None and (not isinstance(view, str) or view not in VIEWS):
        raise ValueError(f"view must be one of {VIEWS} or None (coarse for an Unrolled, ops for an expression), "
                         f"got {view!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 2:
        raise ValueError(f"max_steps must be an int ≥ 2 (first and last steps are always drawn), got {max_steps!r}")
    if isinstance(node_budget, bool) or not isinstance(node_budget, int) or node_budget < 1:
        raise ValueError(f"node_budget must be an int ≥ 1, got {node_budget!r}")
    flag(grads, "grads")
    flag(heat, "heat")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    if tokens is not None and not isinstance(tokens, (Mapping, Sequence)):
        raise TypeError(f"tokens must map token ids to text (a dict, or a list/str indexed by id), got "
                        f"{type(tokens).__name__}")
    if max_width is not None and (isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 200):
        raise ValueError(f"max_width must be None or an int ≥ 200 (pixels at 96 dpi), got {max_width!r}")


def _model(obj: Any, src: _Source, view: str | None = None, grads: bool = True, max_steps: int = 8,
           heat: bool = True, node_budget: int = NODE_BUDGET, title: str | None = None,
           notes: Sequence[str] = ()) -> _Model:
    if view is None:
        view = "coarse" if src.roles is not None else "ops"
    nodes = src.nodes  # parents first
    root_ids = {id(r) for r in src.roots}
    asked = view
    if src.roles is not None:
        roles = src.once(("roles",), lambda: {**src.roles, **{id(tok): Role("input", tok.t) for tok in src.tokens}})

        def keeper(v: str) -> Callable[[Any], bool]:
            return (lambda n: True) if v == "ops" else (lambda n: id(n) in roles)
    else:
        def keeper(v: str) -> Callable[[Any], bool]:
            return (lambda n: True) if v == "ops" else (
                lambda n: n.label is not None or not n._parents or id(n) in root_ids)
        roles = src.once(("roles", view), lambda: _structural_roles(nodes, src.roots, keeper(view)))
    notes = list(notes)
    steps = src.once(("steps",), lambda: _steps(nodes))
    hidden = _hidden_steps(steps, max_steps)

    def size(v: str, hid: list[int]) -> int:
        per_step = src.once(("size", v), lambda: Counter(n.t for n in nodes if keeper(v)(n)))
        hid_set = set(hid)
        n_kept = sum(count for t, count in per_step.items() if t not in hid_set)
        return n_kept * (2 if v == "ops" else 1)  # ops view draws an op node beside each result

    if size(view, hidden) > node_budget:
        if view == "ops":
            view = "coarse"
            notes.append(f"ops view over the {node_budget}-node budget: drawn coarse")
        while size(view, hidden) > node_budget and max_steps > 2:
            max_steps = max(2, max_steps // 2)
            hidden = _hidden_steps(steps, max_steps)
        if hidden:
            notes.append(f"collapsed to {max_steps} drawn steps to stay within {node_budget} nodes")
    if hidden:
        notes.insert(0, f"steps {hidden[0]}–{hidden[-1]} folded into one node")
    keep = keeper(view)
    hidden_set = set(hidden)
    kept, params, contracted = src.once(("kept", asked, view), lambda: _kept(src, view, keep, roles))
    drawn = [n for n in kept if n.t not in hidden_set or id(n) in params]
    top = obj.rnn.num_layers - 1 if isinstance(obj, Unrolled) else 0
    fold_states = [n for n in kept if n.t in hidden_set and (r := roles.get(id(n))) is not None
                   and r.kind == "H" and r.layer == top and r.direction == 0]
    edges = _drawn_edges(contracted, nodes + src.tokens, view, hidden_set, params, src.cuts, roles)
    m = _Model(view, bool(grads), nodes, drawn, roles, params, hidden, fold_states, edges, None, "", src.reached,
               src.head, {}, any(a.get("color") == _C_PATH for _, _, a in edges), notes,
               view == "coarse" and any(n.t is not None for n in drawn), src.once(("sums", asked, view), dict))
    if isinstance(obj, Unrolled) and obj.encoder is not None:
        m.parts = {t: r.part for r in roles.values() if r.t is not None and r.part for t in [r.t]}
    if heat and grads:
        everything = _Frame(_every, m)
        m.scale = _Heat.over(_magnitude(everything.grad(n)) for n in drawn if everything.grad(n) is not None)
    m.caption = " · ".join(dict.fromkeys(x for x in [title if title is not None else src.title, *notes] if x))
    return m


def _kept(src: _Source, view: str, keep: Callable[[Any], bool], roles: dict[int, Role]
          ) -> tuple[list[Any], dict[int, list[Any]], dict[tuple[int, int], float | None]]:
    """The nodes ``view`` keeps (parents first), the shared parameters with their per-step copies, and the
    edges between kept nodes (``_contract``)."""
    nodes = src.nodes
    children: dict[int, list[Any]] = defaultdict(list)
    for n in nodes:
        for p in n._parents:
            children[id(p)].append(n)
    kept = [n for n in nodes if keep(n)]
    if view == "coarse":
        kept += [tok for tok in src.tokens]  # display nodes: not in the graph
    params = {id(n): cs for n in kept if not n._parents and roles.get(id(n), Role("")).kind == "param"
              and (cs := [c for c in children.get(id(n), []) if roles.get(id(c), Role("")).kind == "copy"])}
    extra = {}
    if view == "coarse" and src.tokens:
        at = {tok.t: tok for tok in src.tokens}
        extra = {id(n): at[n.t] for n in nodes if n.t in at  # the ops that read token ids
                 and (n._op == "embed" or n._op == "affine" and n._ctx is not None)}
    contracted = _contract(nodes + src.tokens, keep if not src.tokens else (lambda n: keep(n) or isinstance(n, _Token)),
                           extra)
    return kept, params, contracted


def _drawn_edges(contracted: dict[tuple[int, int], float | None], nodes: list[Any], view: str, hidden: set[int],
                 params: dict[int, list[Any]], cuts: list[tuple[int, Any, Any]],
                 roles: dict[int, Role]) -> list[tuple[str, str, dict]]:
    """The edges between drawn nodes (``contracted``: from ``_contract``), each once; an edge into or out
    of a folded step ends at the fold.
    An edge C_{t-1} → C_t of the same layer and direction is the highlighted cell-state path."""
    by_id = {id(n): n for n in nodes}

    def end(n: Any | None) -> str | None:
        if n is None:
            return None
        return _FOLD if (n.t in hidden and id(n) not in params) else _key(n)

    def c_path(a: int, b: int) -> bool:
        ra, rb = roles.get(a), roles.get(b)
        return (ra is not None and rb is not None and ra.kind == rb.kind == "C"
                and (ra.layer, ra.direction) == (rb.layer, rb.direction))

    out: dict[tuple[str, str], dict[str, str]] = {}
    for (a, b), d in contracted.items():
        child = by_id[b]
        head, tail = end(child), end(by_id.get(a))
        if tail is None or head == tail:
            continue
        target = _op_key(child) if (view == "ops" and child._parents and head != _FOLD) else head
        if (tail, target) in out:
            if c_path(a, b):
                out[(tail, target)].update(color=_C_PATH, penwidth="3")
            continue
        attrs = {}
        if d is not None and _FOLD not in (head, tail) and a not in params:
            attrs["label"] = _fmt(d)
        if a in params:
            attrs.update(color="#a0a0a0", penwidth="0.7")
        if isinstance(by_id.get(a), _Token):
            attrs.update(style="dashed", color="#777777")
        if c_path(a, b):
            attrs.update(color=_C_PATH, penwidth="3")
        out[(tail, target)] = attrs
    for _, source, copy in cuts:
        s, c = end(by_id.get(id(source))), end(by_id.get(id(copy)))
        if s and c and s != c:
            out[(s, c)] = {"style": "dashed", "color": _CUT_COLOUR, "fontcolor": _CUT_COLOUR,
                           "label": "copy — no gradient"}
    return [(t, h, a) for (t, h), a in out.items()]


def _every(n: Any) -> bool:
    """Show every gradient. (Frames that do share their parameters' sums: see ``_Model.sums``.)"""
    return True


class _Frame:
    """Which gradients one picture shows: ``shown(node)``; a shared parameter shows Σ of its shown copies."""

    def __init__(self, shown: Callable[[Any], bool], m: _Model) -> None:
        self.shown, self.params, self.reached = shown, m.params, m.reached
        # a parameter's Σ over its shown copies (T of them), read for its label, its colour and the scale
        self._sums: dict[int, Any] = m.sums if shown is _every else {}

    def grad(self, n: Any) -> Any:
        """The gradient drawn on ``n`` in this frame; None while it is not shown or has none."""
        if isinstance(n, _Token):
            return None
        if id(n) in self.params:
            if id(n) not in self._sums:
                cs = [c for c in self.params[id(n)] if self.shown(c) and self.has_grad(c)]
                self._sums[id(n)] = None if not cs else sum(
                    (np.asarray(c.grad if c.grad is not None else 0.0) for c in cs), np.zeros(np.shape(n.data)))
            return self._sums[id(n)]
        return n.grad if self.shown(n) and self.has_grad(n) else None

    def has_grad(self, n: Any) -> bool:
        """Does the loss depend on ``n`` at all? (A gradient of 0 is a gradient; a detached one is none.)"""
        if id(n) in self.params:
            return any(self.has_grad(c) for c in self.params[id(n)])
        return self.reached is None or id(n) in self.reached


# -- drawing ----------------------------------------------------------------------------------------------
def draw(
    obj: Any,
    view: str | None = None,
    grads: bool = True,
    max_steps: int = 8,
    heat: bool = True,
    node_budget: int = NODE_BUDGET,
    title: str | None = None,
    reveal: Callable[[Any], bool] | None = None,
    tokens: Mapping[int, Any] | Sequence[Any] | None = None,
    max_width: int | None = MAX_WIDTH,
) -> graphviz.Digraph:
    r"""Draw an ``Unrolled``, a ``Tensor`` or a ``Value`` and everything it depends on.

    view="coarse" (the default for an ``Unrolled``) keeps the nodes the unroller recorded (X_t, gates,
    C_t, H_t, O_t, L_t, parameters, copies, context cuts) and contracts the op nodes between them;
    "ops" (the default for a Value or Tensor expression, as micrograd's ``draw_dot``) shows every op,
    with ∂out/∂in on each edge of a Value graph. Above ``max_steps`` time steps the middle ones fold
    into one "… k steps …" node, and more fold while the picture is wider than ``max_width`` pixels at
    96 dpi (a slide; None: no limit). ``tokens`` (a dict id → text, or a list/str indexed by id) shows
    a token-id net's inputs as text: X_3 ‘h’. ``reveal(node)`` picks the nodes whose gradients are
    shown (the stepper uses it); by default all. The colour scale is always that of all gradients.

    Labels must be str or None (TypeError naming the node otherwise). They are printed as text: a
    line break shows as ⏎, a tab as a space, other control characters and invisible format characters
    (bidi controls, zero-width) as their escape (``\x00``, ``\u202e``): a label cannot reverse or hide text.
    """
    if reveal is not None and not callable(reveal):
        raise TypeError(f"reveal must be a function node → bool or None, got {type(reveal).__name__}")
    args = (view, grads, max_steps, heat, node_budget, title, tokens, max_width)
    _check_draw_args(*args)
    m, frames, texts, pos = _fit(obj, args, lambda m: [_Frame(reveal or _every, m)])
    return _emit(m, frames[0], texts[0], pos, max_width)


@dataclass
class _Text:
    """The lines of one node's label (Graphviz HTML) and the box they need, in points."""

    lines: list[str]
    width: float
    height: float


def _texts(m: _Model, frame: _Frame) -> dict[str, _Text]:
    """The label of every drawn node (and of the fold node) in one frame."""
    out = {}
    for n in m.drawn:
        lines = _node_lines(m, frame, n)
        out[_key(n)] = _Text([p.html for p in lines], max(p.width for p in lines) + 8,
                             sum(p.height + 6 for p in lines) + 4)
    if m.hidden:
        lines = _fold_lines(m, frame)
        out[_FOLD] = _Text([p.html for p in lines], max(p.width for p in lines) + 40,
                           sum(p.height + 2 for p in lines) + 14)
    return out


def _suffix(role: Role) -> str:
    parts = ([f"l{role.layer}"] if role.layer else []) + (["rev"] if role.direction else [])
    return f"({','.join(parts)})" if parts else ""


def _node_lines(m: _Model, frame: _Frame, n: Any) -> list[_Piece]:
    role = m.roles.get(id(n))
    kind = role.kind if role is not None else ""
    if isinstance(n, _Token):
        return [_line(_math(n.label, bold=True)), _plain(n.text)]
    if kind == "cut" and role is not None:  # the Elman/Jordan context: a copy, not a weight copy
        before = None if role.t is None else role.t + (1 if role.direction else -1)  # reverse: from t + 1
        prev = f"{role.name}_{before}{_suffix(role)}" if before is not None else role.name
        lines = [_line(_math(f"context_{role.t}{_suffix(role)}", bold=True)),
                 _line([_plain("copy of "), *_math(prev), _plain(", no gradient")])]
    elif n.label:
        name = _math(_printable(n.label), bold=True)
        if kind == "param" and role is not None and role.part:
            name.append(_plain(f" ({role.part})"))
        shape = np.shape(n.data)
        if len(shape) and np.size(n.data) > 1 and kind not in ("copy", "gate"):
            name.append(_plain(f" {shape}"))
        lines = [_line(name)]
    else:
        lines = [_plain(n._op or "leaf", italic=True)]
    gr = frame.grad(n) if m.grads else None
    if id(n) in m.params:
        copies = m.params[id(n)]
        count, have = len(copies), sum(1 for c in copies if frame.shown(c))
        if m.grads:
            sym = _printable(n.label or "W")
            total = _value(gr) if gr is not None else ("·" if frame.has_grad(n) else "—")
            lines.append(_line([*_math("Σ_t"), _plain(" ∂L/∂"), *_math(f"{sym}_t" if "_" not in sym else sym),
                                _plain(f" = {total}")]))
        lines.append(_plain(f"{count} per-step cop{'y' if count == 1 else 'ies'}" if have == count
                            else f"Σ over {have} of {count} copies"))
        return lines
    if kind != "copy" and n._op != "copy":  # a copy shares its parameter's data: show its gradient only
        lines.append(_plain(f"data {_value(n.data)}"))
    if m.grads:
        text = _value(gr) if gr is not None else ("·" if frame.has_grad(n) else "—")
        lines.append(_plain("grad " + text))
    return lines


def _fold_lines(m: _Model, frame: _Frame) -> list[_Piece]:
    lines = [_plain(f"… {len(m.hidden)} steps …", 11), _plain(f"t = {m.hidden[0]}–{m.hidden[-1]}", 11)]
    if m.grads and m.fold_states:
        norms = [_magnitude(frame.grad(n)) for n in m.fold_states if frame.grad(n) is not None]
        what = [_plain("|∂L/∂", 11), *_math("H_t", 11), _plain("|", 11)]
        if len(norms) == len(m.fold_states):
            lines.append(_line([*what, _plain(f" from {_fmt(min(norms))} to {_fmt(max(norms))}", 11)]))
        else:
            lines.append(_line([*what, _plain(" ·", 11)]))
    return lines


# -- the grid of the coarse view ----------------------------------------------------------------------------
_GAP, _STEP_GAP, _ROW_GAP = 0.2, 0.5, 0.45  # inches between boxes in a row, between steps, between rows


def _row_of(m: _Model, n: Any) -> tuple:
    """The row of a node in its step's block, as a sort key from bottom to top: X; then per layer and
    direction its weight copies (and context), gates, C, H; then the head's copies, O, L."""
    role = m.roles.get(id(n))
    if role is None:
        return (3, 0, 0, 9)
    kind, band = role.kind, (role.layer, role.direction)
    if m.roles and role.name.isdigit():  # a hand-built graph: rows by depth within the step
        return {"input": (1,), "copy": (2,)}.get(kind, (3, int(role.name)))
    if kind == "input":
        return (1,) if role.layer == 0 else (2, *band, 0)
    if kind == "copy" and id(n) in m.head:
        return (4,)
    if kind in ("copy", "cut"):
        return (2, *band, 0)
    order = {"gate": 1, "C": 2, "state": 2, "H": 3}
    if kind in order:
        return (2, *band, order[kind])
    return {"output": (5,), "loss": (6,) if role.t is not None else (7,)}.get(kind, (3, 0, 0, 9))


def _per_line(count: int) -> int:
    """Boxes of one row of a step side by side; three or more go in two lines (a step stays narrow)."""
    return count if count <= 2 else math.ceil(count / 2)


def _grid(m: _Model, texts: dict[str, _Text]) -> tuple[dict[str, tuple[float, float]], float]:
    """Pinned centre positions (inches) of every drawn node, and the picture's width in inches."""
    # the order the unroller recorded the nodes (i, f, g, o; W^X before W^H …), else topological order
    order = {i: k for k, i in enumerate(m.roles)}
    rank = {id(n): (order.get(id(n), 0), i) for i, n in enumerate(m.drawn)}
    w = {k: (t.width + 6) / 72 for k, t in texts.items()}  # the label, and the box's borders
    h = {k: t.height / 72 for k, t in texts.items()}
    outside = [n for n in m.drawn if id(n) in m.params or n.t is None and _row_of(m, n) < (7,)]
    blocks: dict[int, dict[tuple, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for n in m.drawn:
        if n.t is not None and id(n) not in m.params:
            blocks[n.t][_row_of(m, n)].append(n)
    totals = [n for n in m.drawn if n.t is None and id(n) not in m.params and n not in outside]
    # rows: shared by every step, so a path such as C_{t-1} → C_t is one straight line
    lines: dict[tuple, dict[int, list[list[Any]]]] = defaultdict(dict)
    for t, rows in blocks.items():
        for r, ns in rows.items():
            ns.sort(key=lambda n: rank[id(n)])
            k = _per_line(len(ns))
            lines[r][t] = [ns[i:i + k] for i in range(0, len(ns), k)]
    y, row_y = 0.0, {}
    for r in sorted(lines):
        height = max(h[_key(n)] for ls in lines[r].values() for line in ls for n in line)
        count = max(len(ls) for ls in lines[r].values())
        row_y[r] = [y + height / 2 + i * (height + _GAP) for i in range(count)]
        y += count * height + (count - 1) * _GAP + _ROW_GAP
    top = y
    pos: dict[str, tuple[float, float]] = {}
    x = 0.0
    steps = sorted(blocks)
    sequence: list[Any] = list(steps)
    if m.hidden:
        sequence.insert(len([t for t in steps if t < m.hidden[0]]), _FOLD)
    spans: dict[str, list[float]] = defaultdict(list)
    for item in sequence:
        if item == _FOLD:
            fw = max(2.0, w[_FOLD])
            pos[_FOLD] = (x + fw / 2, top / 2)
            x += fw + _STEP_GAP
            continue
        rows = {r: lines[r][item] for r in lines if item in lines[r]}
        width = max(sum(w[_key(n)] for n in line) + _GAP * (len(line) - 1) for ls in rows.values() for line in ls)
        for r, ls in rows.items():
            for line, ly in zip(ls, row_y[r]):
                lw = sum(w[_key(n)] for n in line) + _GAP * (len(line) - 1)
                cx = x + (width - lw) / 2
                for n in line:
                    pos[_key(n)] = (cx + w[_key(n)] / 2, ly)
                    cx += w[_key(n)] + _GAP
        spans[m.parts.get(item, "")] += [x, x + width]
        # an invisible point above the block's top box: the cluster grows up, so its label ("t = 3",
        # "encoder · t = 3") gets a line of its own instead of lying under the top box
        highest = max(row_y[r][len(ls) - 1] + h[_key(ls[-1][0])] / 2 for r, ls in rows.items())
        pos[f"top{item}"] = (x + width / 2, highest + 0.3)
        x += width + _STEP_GAP
    span = max(x - _STEP_GAP, 1.0)
    for n in totals:  # the total loss L = Σ L_t, above the middle
        pos[_key(n)] = (span / 2, top + h[_key(n)] / 2)
    # the shared parameters, under the steps that use them (an encoder's under the encoder), in lines
    groups: dict[str, list[Any]] = defaultdict(list)
    for n in sorted(outside, key=lambda n: rank[id(n)]):
        role = m.roles.get(id(n))
        groups[role.part if role is not None else ""].append(n)
    y = -_ROW_GAP
    for part, ns in groups.items():
        lo, hi = (min(spans[part]), max(spans[part])) if spans.get(part) else (0.0, span)
        room = max(hi - lo, 6.0)
        line: list[Any] = []
        batches = []
        for n in ns:
            if line and sum(w[_key(k)] + _GAP for k in line) + w[_key(n)] > room:
                batches.append(line)
                line = []
            line.append(n)
        batches.append(line)
        for line in batches:
            lh = max(h[_key(n)] for n in line)
            lw = sum(w[_key(n)] for n in line) + _GAP * (len(line) - 1)
            cx = max(0.0, (lo + hi - lw) / 2)
            for n in line:
                pos[_key(n)] = (cx + w[_key(n)] / 2, y - lh / 2)
                cx += w[_key(n)] + _GAP
            y -= lh + _GAP
    if m.scale:
        pos["legend"] = (2.6, y - 0.6)
    return pos, max(span, max((p[0] + w.get(k, 0) / 2 for k, p in pos.items()), default=0.0))


def _layout(m: _Model, texts: dict[str, _Text]) -> tuple[dict[str, tuple[float, float]], float]:
    return _grid(m, texts) if m.grid else ({}, 0.0)


def _fit(obj: Any, args: tuple, frames_of: Callable[[_Model], list[_Frame]],
         width_of: Callable[[_Model], list[_Frame]] | None = None
         ) -> tuple[_Model, list[_Frame], list[dict[str, _Text]], dict[str, tuple[float, float]]]:
    """The model, its frames, their labels (each node as wide as its widest frame) and the positions —
    with more steps folded while the grid is wider than ``max_width``."""
    view, grads, max_steps, heat, node_budget, title, tokens, max_width = args
    notes: list[str] = []
    src = _source(obj, tokens)
    while True:
        m = _model(obj, src, view, grads, max_steps, heat, node_budget, title, notes)
        frames = frames_of(m)
        texts = [_texts(m, f) for f in frames]
        sizing = texts + ([_texts(m, f) for f in width_of(m)] if width_of else [])
        widest = {k: _Text([], max(t[k].width for t in sizing), max(t[k].height for t in sizing)) for k in texts[0]}
        for t in texts:
            for k, text in t.items():
                text.width, text.height = widest[k].width, widest[k].height
        pos, width = _layout(m, widest)
        drawn_steps = len({n.t for n in m.drawn if n.t is not None and n.t >= 1})
        if (max_width is None or not m.grid or width * 96 <= max_width - 40 or drawn_steps <= 2
                or max_steps <= 2):
            return m, frames, texts, pos
        max_steps = max(2, min(max_steps, drawn_steps) - 1)
        view = m.view  # a switch to the coarse view (over the node budget) stays, with its note
        notes = [x for x in m.notes
                 if not x.startswith(("steps ", "folded to fit"))]
        notes.append(f"folded to fit {max_width:,} px")


def _emit(m: _Model, frame: _Frame, texts: dict[str, _Text], pos: dict[str, tuple[float, float]],
          max_width: int | None, visible: Callable[[str], bool] | None = None) -> graphviz.Digraph:
    """One picture of the model. Every box gets its label's width (the widest over a stepper's
    frames), so all frames share one layout whatever numbers they show; ``visible(key)`` False draws a
    node as an invisible placeholder (the forward stepper's later steps)."""
    engine = "neato" if m.grid else "dot"
    size = {"size": f"{max_width / 96:.2f},1000"} if max_width is not None else {}
    g = graphviz.Digraph("micrornn", engine=engine, comment=(
        f"layout engine: {engine} (also set by the layout attribute, so `dot` or `neato` on this file draw the "
        "same picture)"), graph_attr={
        "layout": engine, "fontname": _FONT, "fontsize": "11", "labelloc": "b", "labeljust": "l",
        "outputorder": "edgesfirst", **size,
        # routed splines avoid the nodes but cost seconds on hundreds of edges: curved ones past a size
        **({"splines": _splines(len(m.drawn), len(m.edges)), "overlap": "true"} if m.grid else
           {"rankdir": "LR", "nodesep": "0.2", "ranksep": "0.3"})})
    g.attr("node", fontname=_FONT, fontsize="10", shape="plain")
    g.attr("edge", fontname=_FONT, fontsize="9", color="#555555", arrowsize="0.6")
    seen = visible or (lambda k: True)

    def place(k: str) -> dict[str, str]:
        attrs = {"pos": f"{pos[k][0]:.3f},{pos[k][1]:.3f}!"} if k in pos else {}
        if not seen(k):
            attrs["style"] = "invis"
        return attrs

    def label(n: Any) -> str:
        k = _key(n)
        if isinstance(n, _Token):
            fill, font = "white", "black"
        elif m.scale and frame.has_grad(n):
            gr = frame.grad(n)
            fill, font = m.scale.colour(_magnitude(gr)) if gr is not None else ("white", "black")
        elif m.grads and not frame.has_grad(n):
            fill, font = _NO_GRAD, "#555555"
        else:
            fill, font = "white", "black"
        width = round(texts[k].width)
        rows = "".join(f'<TR><TD BGCOLOR="{fill}" WIDTH="{width}"><FONT COLOR="{font}">{line}</FONT></TD></TR>'
                       for line in texts[k].lines)
        border = "2" if id(n) in m.params else "1"
        style = ' STYLE="ROUNDED"' if m.roles.get(id(n), Role("")).kind == "cut" else ""
        return f'<<TABLE BORDER="{border}"{style} CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">{rows}</TABLE>>'

    clusters: dict[int | None, list[Any]] = defaultdict(list)
    for n in m.drawn:
        clusters[None if id(n) in m.params or n.t is None else n.t].append(n)
    for t in sorted(t for t in clusters if t is not None):
        with g.subgraph(name=f"cluster_t{t}") as c:
            part = f"{m.parts[t]} · " if t in m.parts else ""
            c.attr(label=f"{part}t = {t}", style="rounded", color="#bbbbbb", fontcolor="#666666", margin="14",
                   labelloc="t")
            for n in clusters[t]:
                _add_node(c, n, label(n), m.view, place(_key(n)))
            if f"top{t}" in pos:
                c.node(f"top{t}", label="", shape="point", style="invis", width="0.01",
                       pos=f"{pos[f'top{t}'][0]:.3f},{pos[f'top{t}'][1]:.3f}!")
    for n in clusters.get(None, []):
        _add_node(g, n, label(n), m.view, place(_key(n)))
    if m.hidden:
        rows = "".join(f"<TR><TD>{line}</TD></TR>" for line in texts[_FOLD].lines)
        attrs = {"shape": "box", "style": "rounded,dashed", "fontsize": "11", **place(_FOLD)}
        if pos:
            attrs["width"] = f"{texts[_FOLD].width / 72:.2f}"
        g.node(_FOLD, label=f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{rows}</TABLE>>', **attrs)
    for tail, head, attrs in m.edges:
        ends = (tail.replace("op", "n", 1), head.replace("op", "n", 1))
        if not (seen(ends[0]) and seen(ends[1])):
            attrs = {**attrs, "style": "invis"}
        g.edge(tail, head, **attrs)
    if m.scale:
        g.node("legend", label=m.scale.legend(m.c_path), shape="plain", **place("legend"))
    if m.caption:
        g.attr(label=_escaped(m.caption))
    return g


def _splines(nodes: int, edges: int) -> str:
    """How the grid's edges are drawn: routed around the boxes while that is cheap, else curved, else straight."""
    work = nodes * edges
    return "true" if work <= ROUTED else "curved" if work <= CURVED else "line"


def _add_node(g: graphviz.Digraph, n: Any, label: str, view: str, place: dict[str, str]) -> None:
    g.node(_key(n), label=label, **place)
    if view == "ops" and n._parents:  # the op that made it, as its own small node
        g.node(_op_key(n), label=_escaped(n._op), shape="circle", fontsize="9", width="0.3", margin="0.02",
               **({"style": "invis"} if place.get("style") == "invis" else {}))
        g.edge(_op_key(n), _key(n), **({"style": "invis"} if place.get("style") == "invis" else {}))

# -- rendering with a guard ---------------------------------------------------------------------------------
MAX_SECONDS = 86_400.0  # a day: the OS timers under subprocess overflow long before 1e308 s


def _seconds(name: str, x: Any) -> float:
    """A time limit: a number of seconds in (0, a day], else ValueError naming the argument."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not (
            math.isfinite(x) and 0 < x <= MAX_SECONDS):
        raise ValueError(f"{name} must be a finite number of seconds > 0 and at most {MAX_SECONDS:g}, got {x!r}")
    return float(x)


COMMON_FORMATS = ("svg", "png", "pdf", "jpg", "gif", "ps", "eps", "dot")  # what an error suggests


@functools.cache
def dot_formats() -> frozenset[str]:
    """The output formats this ``dot`` can write (``dot -T?`` lists them); the graphviz package's list if
    ``dot`` cannot be asked (its absence is reported when a picture is drawn)."""
    exe = shutil.which("dot")
    try:
        listed = subprocess.run([exe or "dot", "-T?"], capture_output=True, timeout=10).stderr.decode(errors="replace")
    except (OSError, subprocess.SubprocessError):
        listed = ""
    names = listed.partition("Use one of:")[2].split()
    return frozenset(names) - {"gtk", "x11", "xlib"} if names else frozenset(graphviz.FORMATS)


def _format(path: Path) -> str:
    """The picture format ``path``'s suffix asks for (none: SVG), checked before anything is written."""
    fmt = path.suffix.lstrip(".").lower() or "svg"  # picture.SVG is an SVG too (dot knows only "svg")
    if fmt not in dot_formats():
        raise ValueError(f"render: dot cannot write a .{fmt} file ({path.name}); end the name in one of "
                         f".{', .'.join(COMMON_FORMATS)} (viz.dot_formats() lists all {len(dot_formats())})")
    return fmt


def render(graph: graphviz.Digraph, path: str | os.PathLike, timeout: float = DOT_TIMEOUT) -> Path:
    """Write ``graph`` to ``path`` (format from the suffix: .svg .png .pdf …) with ``dot``, never for longer
    than ``timeout`` seconds. The DOT source is always written next to it, as ``path`` + ``.dot``; both
    atomically. A format ``dot`` cannot write, or a path that cannot be written, fails before any file is."""
    timeout = _seconds("timeout", timeout)
    if path == "":
        raise ValueError(f"render: path must name a file such as picture.svg, got {path!r}")
    path = files.as_path(path, "render")
    if path.is_dir():
        raise ValueError(f"render: {path} is a folder; name a file in it, such as {path / 'picture.svg'}")
    fmt = _format(path)
    source = files.as_path(f"{path}.dot", "render (the DOT source beside the picture)")
    target = files.writable_file(path, "render", make_folders=True)
    files.atomic_write(files.writable_file(source, "render"), lambda f: f.write(graph.source.encode("utf-8")),
                       "render")
    picture = _dot(graph, fmt, timeout, f"the DOT source is in {source}")
    files.atomic_write(target, lambda f: f.write(picture), "render")
    return path


def to_svg(graph: graphviz.Digraph, timeout: float = DOT_TIMEOUT) -> str:
    """The picture as an SVG string (``dot`` with a timeout)."""
    return _dot(graph, "svg", _seconds("timeout", timeout), "draw(...).source has the DOT text").decode("utf-8")


def _dot(graph: graphviz.Digraph, fmt: str, timeout: float, where: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFound(f"Graphviz's `dot` program is not installed ({where}). Install it: {INSTALL_DOT}")
    try:
        done = subprocess.run([exe, f"-K{graph.engine}", f"-T{fmt}"], input=graph.source.encode("utf-8"),
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"dot took longer than {timeout:g} s and was stopped ({where}); draw fewer steps "
                           "(max_steps=) or the coarse view") from None
    if done.returncode != 0:
        message = " ".join(done.stderr.decode(errors="replace").split())  # one line
        raise RuntimeError(f"dot failed ({where}): {message}")
    return done.stdout




# -- steppers: backward and forward, one frame at a time, one layout ------------------------------------------
FRAME_BUDGET = 60.0  # seconds for a whole backward_frames, forward_frames or save_stepper call


def backward_frames(obj: Any, view: str | None = None, max_steps: int = 8, grads: bool = True, heat: bool = True,
                    node_budget: int = NODE_BUDGET, title: str | None = None,
                    budget: float = FRAME_BUDGET, tokens: Mapping[int, Any] | Sequence[Any] | None = None,
                    max_width: int | None = MAX_WIDTH) -> list[tuple[graphviz.Digraph, str]]:
    """Pictures in the order backprop computes the gradients, each with a caption.

    For a graph with time steps: the forward pass first, then one frame per drawn step from T down to
    1 as the gradients arrive (the shared parameters' Σ grows one copy at a time), then "done". The
    steps ``draw`` folds into one "… k steps …" node (beyond ``max_steps``) get one frame together, so
    T = 1,000 makes about ``max_steps`` + 3 frames. Without time steps: one frame per labelled node
    (at most 60), in backward order. Call ``backward()`` first.

    The graph is walked once; every frame has the same nodes, edges, colour scale and label widths, so
    the pictures share one layout (``forward_frames``' too) and only colours and numbers change. If
    the frames take longer than ``budget`` seconds, a TimeoutError says how far they got (a stepper
    that silently stops half-way would teach the wrong thing).

        >>> import micrornn as mr
        >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
        >>> [caption for _, caption in backward_frames(y)][1]
        'Backward step 1: ∂L/∂y = 1'
    """
    budget = _seconds("budget", budget)
    start = time.perf_counter()
    args = (view, grads, max_steps, heat, node_budget, title, tokens, max_width)
    _check_draw_args(*args)
    captions: list[str] = []

    def frames_of(m: _Model) -> list[_Frame]:
        plan = _backward_plan(m)
        captions[:] = [c for _, c in plan]
        return [_Frame(shown, m) for shown, _ in plan]

    m, frames, texts, pos = _fit(obj, args, frames_of)
    out = []
    for i, (frame, text, caption) in enumerate(zip(frames, texts, captions)):
        _check_budget(start, budget, i, len(frames), "backward_frames")
        out.append((_emit(m, frame, text, pos, max_width), caption))
    _check_budget(start, budget, len(frames), len(frames), "backward_frames")
    return out


def forward_frames(obj: Any, view: str | None = None, max_steps: int = 8, grads: bool = True, heat: bool = True,
                   node_budget: int = NODE_BUDGET, title: str | None = None,
                   budget: float = FRAME_BUDGET, tokens: Mapping[int, Any] | Sequence[Any] | None = None,
                   max_width: int | None = MAX_WIDTH) -> list[tuple[graphviz.Digraph, str]]:
    """The graph growing one time step at a time, each picture with a caption.

    First the shared parameters (and H_0 if there is one), then one frame per drawn step t = 1 … T
    (the folded steps in one frame), then the loss. Nodes of later steps are already in the picture as
    invisible placeholders, so nothing moves: the layout is that of ``backward_frames`` with the same
    arguments, and a forward stepper followed by a backward one reads as one film. No gradient is
    shown yet ("grad ·"). Without time steps: one frame per op node (at most 60), in forward order.

        >>> import micrornn as mr
        >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
        >>> [caption for _, caption in forward_frames(y)][-1]
        'Forward done: the loss is computed; backward can start.'
    """
    budget = _seconds("budget", budget)
    start = time.perf_counter()
    args = (view, grads, max_steps, heat, node_budget, title, tokens, max_width)
    _check_draw_args(*args)
    plan: list[tuple[Callable[[str], bool], str]] = []

    def frames_of(m: _Model) -> list[_Frame]:
        plan[:] = _forward_plan(m)
        return [_Frame(lambda n: False, m)]  # no gradient is shown going forward

    def sizing(m: _Model) -> list[_Frame]:  # the widths backward_frames gives: the same layout
        return [_Frame(shown, m) for shown, _ in _backward_plan(m)]

    m, frames, texts, pos = _fit(obj, args, frames_of, sizing)
    out = []
    for i, (visible, caption) in enumerate(plan):
        _check_budget(start, budget, i, len(plan), "forward_frames")
        out.append((_emit(m, frames[0], texts[0], pos, max_width, visible=visible), caption))
    _check_budget(start, budget, len(plan), len(plan), "forward_frames")
    return out


def _check_budget(start: float, budget: float, made: int, total: int, who: str) -> None:
    if time.perf_counter() - start > budget:
        raise TimeoutError(f"{who}: the time budget of {budget:g} s ran out after {made} of {total} frames; "
                           "draw fewer steps (max_steps=) or pass a larger budget=")


def _forward_plan(m: _Model) -> list[tuple[Callable[[str], bool], str]]:
    """(which node keys are visible, caption) for every frame of the forward stepper."""
    keyed = {_key(n): n for n in m.drawn}
    steps = [t for t in _steps(m.drawn) if t >= 1]
    if steps:
        def upto(k: float) -> Callable[[str], bool]:
            def visible(key: str) -> bool:
                if key in ("legend",):
                    return True
                if key == _FOLD:
                    return bool(m.hidden) and k >= m.hidden[-1]
                n = keyed.get(key)
                if n is None:
                    return True
                if id(n) in m.params:
                    return True
                return (n.t if n.t is not None else math.inf) <= k
            return visible

        start = "the shared parameters" + (" and the initial state" if any(
            n.t == 0 for n in m.drawn) else "") + ": nothing is computed yet."
        plan = [(upto(0), f"Forward: {start}")]
        for t in steps:
            plan.append((upto(t), f"Forward, t = {t}: step {t} reads X_{t} and the state of step {t - 1}, "
                         f"through its own copies of the weights."))
            if m.hidden and t == m.hidden[0] - 1:
                plan.append((upto(m.hidden[-1]), f"Forward through the {len(m.hidden)} folded steps, "
                              f"t = {m.hidden[0]} to {m.hidden[-1]} (one frame for all of them)."))
        plan.append((upto(math.inf), "Forward done: the loss is computed; backward can start."))
        return plan
    order = [n for n in m.drawn]
    rank = {_key(n): i for i, n in enumerate(order)}
    plan = []
    computed = [n for n in order if n._parents]
    leaves = sum(1 for n in order if not n._parents)
    plan.append((lambda k, r=leaves - 1: rank.get(k.replace("op", "n", 1), -1) <= r or k == "legend",
                 "Forward: the inputs and parameters (the leaves)."))
    for i, n in enumerate(computed[:60], start=1):
        r = rank[_key(n)]
        name = _printable(n.label) if n.label else n._op
        plan.append((lambda k, r=r: k == "legend" or rank.get(k.replace("op", "n", 1), -1) <= r,
                     f"Forward step {i}: {name} = {_value(n.data)}"))
    plan.append((lambda k: True, "Forward done: the loss is computed; backward can start."))
    return plan


class _Flow:
    """Where the gradient of each step's state comes from, read from the recorded roles, never from the
    cell's class. dL/dH_k = Σ dL_j/dH_k over the losses L_j that H_k reaches: step k's own and those of
    the steps after it, up to the next ``cut``. A cut is a ``detach()``-ed copy of a state (the
    Elman/Jordan context, or truncated BPTT every k steps): the next step starts from it, and no
    gradient flows back through it. In a bidirectional net's reverse direction "after" is earlier."""

    def __init__(self, roles: dict[int, Role], first: int, last: int) -> None:
        self.first, self.last = first, last
        self.losses = sorted({r.t for r in roles.values() if r.kind == "loss" and r.t is not None})
        self.states: dict[int, list[str]] = defaultdict(list)  # t → the forward state's names, H first
        self.cuts: dict[tuple[int, int], list[str]] = defaultdict(list)  # (direction, t) → what was copied
        for r in roles.values():
            if r.kind in ("H", "C", "state") and r.direction == 0 and r.t is not None:
                name = r.name if r.kind == "state" else r.kind
                if name not in self.states[r.t]:
                    self.states[r.t].append(name)
            elif r.kind == "cut" and r.t is not None and r.name not in self.cuts[r.direction, r.t]:
                self.cuts[r.direction, r.t].append(r.name)
        self.cut_at = {d: sorted(t for e, t in self.cuts if e == d) for d in (0, 1)}
        self.bidirectional = any(r.direction == 1 for r in roles.values())

    def window(self, k: int, direction: int = 0) -> tuple[int, int]:
        """The steps (lo, hi) whose losses step k's state reaches: k to the step before the next cut."""
        cuts = self.cut_at[direction]
        if direction == 0:
            i = bisect.bisect_right(cuts, k)
            return k, cuts[i] - 1 if i < len(cuts) else self.last
        i = bisect.bisect_left(cuts, k)
        return cuts[i - 1] + 1 if i > 0 else self.first, k

    def sources(self, k: int, direction: int = 0) -> list[int]:
        """The steps whose loss reaches step k's state."""
        lo, hi = self.window(k, direction)
        return self.losses[bisect.bisect_left(self.losses, lo):bisect.bisect_right(self.losses, hi)]

    def losses_text(self, k: int, steps: list[int], direction: int) -> str:
        if steps == [k]:
            return f"step {k}'s loss only"
        end = self.last if direction == 0 else self.first
        if k in steps and len(steps) == abs(end - k) + 1:  # every step from k on has a loss
            return f"the losses of step {k} and every {'later' if direction == 0 else 'earlier'} step"
        if len(steps) == 1:
            return f"step {steps[0]}'s loss" + ("" if k in steps else f" (step {k} has none)")
        if len(steps) == abs(steps[-1] - steps[0]) + 1:
            return f"the losses of steps {steps[0]}–{steps[-1]}"
        return "the losses of steps " + ", ".join(map(str, steps[:-1])) + f" and {steps[-1]}"

    def caption(self, k: int) -> str:
        """The caption of the backward frame that reaches step k (before the last)."""
        names = self.states.get(k) or ["H"]
        sources = self.sources(k)
        if sources:
            verb = "collect" if len(names) > 1 else "collects"
            text = (" and ".join(f"dL/d{x}_{k}" for x in names) + f" {verb} the gradient of "
                    + self.losses_text(k, sources, 0))
        else:
            hi = self.window(k)[1]
            text = "no gradient reaches " + " or ".join(f"{x}_{k}" for x in names) + (
                f": step {k} has no loss" if hi == k else f": no step from {k} to {hi} has a loss")
        cut = self.window(k)[1] + 1
        if cut <= self.last and self.cuts.get((0, cut)):
            copied = " and ".join(f"{x}_{cut - 1}" for x in self.cuts[0, cut])
            text += f"; step {cut} starts from a detached copy of {copied}, which passes no gradient back"
        back = self.sources(k, direction=1) if self.bidirectional else []
        if back:
            text += f"; the reverse direction's dL/dH_{k} collects the gradient of {self.losses_text(k, back, 1)}"
        elif self.bidirectional:
            text += f"; the reverse direction's H_{k} gets no gradient"
        share = "now hold their share" if sources or back else "get none"
        return f"Backward reaches t = {k}: {text}; the copies at t = {k} {share}."


def _backward_plan(m: _Model) -> list[tuple[Callable[[Any], bool], str]]:
    """(which gradients are shown, caption) for every frame, in backward order."""
    plan: list[tuple[Callable[[Any], bool], str]] = [
        (lambda n: False, "Forward pass: every value is computed; no gradient yet.")]
    steps = [t for t in _steps(m.nodes) if t >= 1]
    if steps:
        T, hidden = steps[-1], set(m.hidden)
        flow = _Flow(m.roles, steps[0], T)
        for k in reversed([t for t in steps if t not in hidden]):
            def from_k(n: Any, k: int = k) -> bool:
                return n.t is None or n.t >= k

            caption = (flow.caption(k) if k < T else
                       f"Backward starts at the loss and reaches the last step, t = {T}.")
            plan.append((from_k, caption))
            if m.hidden and k == m.hidden[-1] + 1:  # the folded steps, all in one frame
                first, last = m.hidden[0], m.hidden[-1]
                flows = any(flow.sources(t) or flow.bidirectional and flow.sources(t, 1) for t in m.hidden)
                plan.append((lambda n, k=first: n.t is None or n.t >= k,
                             f"Backward runs through the {len(m.hidden)} folded steps, t = {last} down to {first} "
                             "(one frame for all of them); " + (
                                 "their copies add their shares to each Σ." if flows else
                                 "no gradient reaches them, so their copies add nothing to any Σ.")))
        plan.append((lambda n: True, "Done: each shared parameter's gradient is the sum of its per-step copies' "
                     "gradients."))
        return plan
    back = list(reversed(m.nodes))  # the order backward completes the gradients
    rank = {id(n): i for i, n in enumerate(back)}
    labelled = [n for n in back if n.label]
    for i, n in enumerate(labelled[:60], start=1):
        r = rank[id(n)]
        plan.append((lambda x, r=r: rank.get(id(x), -1) <= r,
                     f"Backward step {i}: ∂L/∂{_printable(n.label)} = {_value(n.grad)}"))
    rest = len(labelled) - 60
    plan.append((lambda n: True, "Done: every gradient is computed" + (
        f" (the last {rest} labelled nodes at once)." if rest > 0 else ".")))
    return plan


def save_stepper(frames: list[tuple[graphviz.Digraph, str]], path: str | Path, title: str = "micrornn: backward, "
                 "step by step", timeout: float = DOT_TIMEOUT, budget: float = FRAME_BUDGET) -> Path:
    """One self-contained HTML page (SVGs inline; buttons, arrow keys, a slider) that works offline.

    Each frame's ``dot`` run stops after ``timeout`` seconds and all of them after ``budget``
    (TimeoutError either way); nothing is written then.
    """
    from .stepper import Stepper  # here, not at the top: the stepper module builds on this one

    timeout, budget = _seconds("timeout", timeout), _seconds("budget", budget)
    return Stepper(frames, title, timeout=timeout, budget=budget).save(path)
