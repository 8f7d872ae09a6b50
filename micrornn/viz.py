"""Graphviz pictures of graphs: every time step, every per-step copy, every gradient.

    >>> import micrornn as mr
    >>> a = mr.Value(2.0, label="a")
    >>> y = (a * a).tanh(); y.label = "y"; y.backward()
    >>> g = draw(y, view="ops")            # a graphviz.Digraph: shows inline in Jupyter
    >>> "tanh" in g.source
    True

``draw`` accepts an ``Unrolled`` (from ``micrornn.unroll``), a ``Tensor`` or a ``Value``. Pictures are
laid out left→right with one cluster per time step (without clusters ``dot`` can take minutes on
50 steps). A shared parameter is drawn once, with an edge to each per-step copy: the copies show
their gradients, the parameter their sum. Node colour is log10 of the gradient magnitude on one
scale for the whole picture, so vanishing and exploding gradients show at a glance.
"""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .graph import topological_order
from .stepper import page
from .tensor import Tensor
from .unroll import Unrolled
from .value import Value

__all__ = ["draw", "render", "to_svg", "backward_frames", "save_stepper", "DotNotFound", "VIEWS"]

VIEWS = ("coarse", "ops")
NODE_BUDGET = 400  # more nodes than this and a picture switches to coarse + collapsed, and says so
DOT_TIMEOUT = 30.0  # seconds; `dot` never runs longer than this
SPLINE_NODES = 120  # above this many nodes, edges are drawn curved instead of routed around nodes
INSTALL_DOT = ("Debian/Ubuntu: sudo apt-get install graphviz | macOS: brew install graphviz | "
               "conda: conda install -c conda-forge graphviz")
# viridis (colour-blind safe, dark → light): low gradients dark, high gradients bright
_VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
            "#fde725"]
_NO_GRAD = "#e8e8e8"
_CUT_COLOUR = "#d95f02"


class DotNotFound(RuntimeError):
    """Graphviz's ``dot`` binary is not installed; the message says how to install it."""


# -- text -----------------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.4g}"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _printable(text: str) -> str:
    r"""``text`` as a picture can show it: a line break → ⏎, a tab → a space, any other control character
    (and a lone surrogate, which UTF-8 cannot encode) → its escape, e.g. ``\x00``. dot stops with a
    "syntax error" at a NUL byte.

    >>> _printable("a\nb\x00")
    'a⏎b\\x00'
    """
    if text.isprintable():
        return text
    text = _LINE_BREAK.sub("⏎", text).replace("\t", " ")
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Cs") else ch
                   for ch in text)


def _escaped(text: str) -> str:
    r"""``text`` for a Graphviz label, plain or HTML-like: printable, entities escaped, and a backslash
    doubled (dot reads ``\N``, ``\G``, ``\l`` … as escapes, in HTML-like labels too)."""
    return html.escape(_printable(text)).replace("\\", "\\\\")


def _notation(label: str) -> str:
    """'W^H_3[0,1]' → W<SUP>H</SUP><SUB>3</SUB>[0,1] as a Graphviz HTML label."""
    m = re.fullmatch(r"([^\^_\[]+)(?:\^([^_\[]+))?(?:_([^\[]+))?(\[.*\])?", label, flags=re.DOTALL)
    if not m:
        return _escaped(label)
    name, sup, sub, idx = m.groups()
    out = _escaped(name)
    if sup:
        out += f"<SUP>{_escaped(sup)}</SUP>"
    if sub:
        out += f"<SUB>{_escaped(sub)}</SUB>"
    return out + _escaped(idx or "")


def _magnitude(x: Any) -> float:
    """|x| for a number, the Euclidean norm for an array."""
    if x is None:
        return 0.0
    a = np.asarray(x, dtype=np.float64)
    return float(abs(a)) if a.ndim == 0 else float(np.sqrt(np.sum(a * a)))


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
        """Fill and font colour for a gradient of magnitude m."""
        if not (m > 0 and math.isfinite(m)):
            return _NO_GRAD, "black"
        x = (math.log10(m) - self.lo) / (self.hi - self.lo)
        i = min(len(_VIRIDIS) - 1, max(0, int(round(x * (len(_VIRIDIS) - 1)))))
        return _VIRIDIS[i], ("white" if i < 6 else "black")

    def legend(self) -> str:
        ticks = np.linspace(self.lo, self.hi, 5)
        cells = "".join(f'<TD BGCOLOR="{self.colour(10**v)[0]}" WIDTH="34"> </TD>' for v in np.linspace(
            self.lo, self.hi, len(_VIRIDIS)))
        labels = "".join(f'<TD COLSPAN="2">{10 ** v:.2g}</TD>' for v in ticks)
        return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1"><TR><TD COLSPAN="{len(_VIRIDIS)}">'
                f"<B>|∂L/∂·|</B> (log scale)</TD><TD> </TD></TR><TR>{cells}"
                f'<TD BGCOLOR="{_NO_GRAD}">no grad</TD></TR><TR>{labels}</TR></TABLE>>')


# -- the picture model -------------------------------------------------------------------------------------
def _flat(node: Any) -> list[Any]:
    if isinstance(node, np.ndarray):
        return list(node.reshape(-1))
    return [node]


def _roots(obj: Any) -> tuple[list[Any], list[tuple[int, Any, Any]], str]:
    if isinstance(obj, Unrolled):
        roots = []
        for group in (obj.L, obj.O, obj.H, [obj.loss]):
            for n in group:
                roots.extend(_flat(n))
        cuts = [(t, s, c) for t, src, cp in obj.cuts for s, c in zip(_flat(src), _flat(cp))]
        rnn = obj.rnn
        kind = {(None, "hidden"): "RNN", (None, "output"): "RNN (Jordan feedback)", (1, "hidden"): "Elman copy net",
                (1, "output"): "Jordan copy net"}.get((rnn.truncate, rnn.feedback), f"RNN, truncate={rnn.truncate}")
        title = f"{obj.topology.replace('_', '-')}, T = {obj.T}, {kind}, f = {rnn.activation}"
        return roots, cuts, title
    if isinstance(obj, (Value, Tensor)):
        return [obj], [], ""
    raise TypeError(f"draw() takes an Unrolled, a Tensor or a Value, got {type(obj).__name__}")


def _local(node: Any, i: int) -> float | None:
    """∂node/∂parent_i when it is a number (a Value keeps it with the edge); None for arrays."""
    return node._local[i] if isinstance(node, Value) else None


def _contract(nodes: list[Any], keep: Callable[[Any], bool]) -> dict[tuple[int, int], float | None]:
    """Edges between kept nodes through the dropped ones; for Values the derivative along all paths."""
    reach: dict[int, dict[int, float | None]] = {}  # dropped node → {kept ancestor: ∂node/∂ancestor}
    edges: dict[tuple[int, int], float | None] = {}
    for n in nodes:  # parents before children
        through: dict[int, float | None] = defaultdict(float)
        for i, p in enumerate(n._parents):
            d = _local(n, i)
            sources = {id(p): 1.0} if keep(p) else reach.get(id(p), {})
            for a, da in sources.items():
                prev = through[a]
                through[a] = None if (d is None or da is None or prev is None) else prev + d * da
        if keep(n):
            for a, d in through.items():
                edges[(a, id(n))] = d
        else:
            reach[id(n)] = dict(through)
    return edges


def _steps(nodes: list[Any]) -> list[int]:
    return sorted({n.t for n in nodes if n.t is not None})


def _hidden_steps(steps: list[int], max_steps: int) -> list[int]:
    """The middle steps to fold into one "… k steps …" node: the first and last ones stay."""
    body = [t for t in steps if t >= 1]
    if len(body) <= max_steps:
        return []
    head = max(1, (max_steps + 1) // 2)
    tail = max(1, max_steps - head)
    return body[head:len(body) - tail]


# -- the model of a picture: computed once, drawn as many frames as the stepper needs --------------------------
@dataclass
class _Model:
    """Everything about a picture that does not depend on which gradients are shown.

    ``draw`` emits it once; ``backward_frames`` emits it once per frame, so a frame costs the nodes
    it draws, not a walk over the whole graph, and every frame has the same nodes, edges and scale.
    """

    view: str
    grads: bool
    nodes: list[Any]  # the whole graph, parents first
    drawn: list[Any]  # the nodes drawn (the folded steps left out), parents first
    params: dict[int, list[Any]]  # a shared parameter's id → its per-step copies
    hidden: list[int]  # the folded steps
    fold_states: list[Any]  # the H_t of the folded steps: the fold node reports their gradient norms
    edges: list[tuple[str, str, dict[str, str]]]  # (tail, head, attributes): folded, deduplicated
    scale: _Heat | None
    caption: str
    # The coarse view of a graph with time steps is a grid of our own — rows X_t, H_t, O_t, L_t from bottom to
    # top, time left to right, as in the notes — pinned for neato (dot's cluster ordering follows the
    # parameters' fan-out edges, not time). Otherwise micrograd's left-to-right picture, laid out by dot.
    grid: bool


def _key(n: Any) -> str:
    return f"n{id(n)}"


def _op_key(n: Any) -> str:
    return f"op{id(n)}"


_FOLD = "fold"


def _describe(n: Any) -> str:
    """A node for an error message: its op and its time step."""
    what = f"the {n._op!r} node" if n._op else "a leaf"
    return what + (f" at t = {n.t}" if n.t is not None else "")


def _check_draw_args(view: Any, grads: Any, max_steps: Any, heat: Any, node_budget: Any, title: Any) -> None:
    if not isinstance(view, str) or view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 2:
        raise ValueError(f"max_steps must be an int ≥ 2 (first and last steps are always drawn), got {max_steps!r}")
    if isinstance(node_budget, bool) or not isinstance(node_budget, int) or node_budget < 1:
        raise ValueError(f"node_budget must be an int ≥ 1, got {node_budget!r}")
    for name, flag in (("grads", grads), ("heat", heat)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")


def _model(obj: Any, view: str = "coarse", grads: bool = True, max_steps: int = 8, heat: bool = True,
           node_budget: int = NODE_BUDGET, title: str | None = None) -> _Model:
    _check_draw_args(view, grads, max_steps, heat, node_budget, title)
    roots, cuts, auto_title = _roots(obj)
    nodes = topological_order(*roots)  # parents first
    for n in nodes:  # a label is drawn as text: check it here, not deep inside re or dot
        if n.label is not None and not isinstance(n.label, str):
            raise TypeError(f"draw(): {_describe(n)} has label {n.label!r} of type {type(n.label).__name__}; "
                            "a label must be a str or None")
    notes = []
    steps = _steps(nodes)
    hidden = _hidden_steps(steps, max_steps)

    def keeper(v: str) -> Callable[[Any], bool]:
        return (lambda n: True) if v == "ops" else (lambda n: n.label is not None or not n._parents)

    def size(v: str, hid: list[int]) -> int:
        keep, hid_set = keeper(v), set(hid)
        n_kept = sum(1 for n in nodes if keep(n) and n.t not in hid_set)
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
    children: dict[int, list[Any]] = defaultdict(list)
    for n in nodes:
        for p in n._parents:
            children[id(p)].append(n)
    kept = [n for n in nodes if keep(n)]
    params = {id(n): cs for n in kept if not n._parents
              and (cs := [c for c in children.get(id(n), []) if c._op == "copy"])}
    drawn = [n for n in kept if n.t not in hidden_set]
    fold_states = [n for n in nodes if n.t in hidden_set and n.label and n.label.startswith("H_")]
    edges = _drawn_edges(nodes, keep, view, hidden_set, params, cuts)
    scale = None
    if heat and grads:
        everything = _Frame(lambda n: True, params)
        scale = _Heat.over(_magnitude(everything.grad(n)) for n in drawn)
    caption = " · ".join(x for x in [title if title is not None else auto_title, *notes] if x)
    grid = view == "coarse" and any(n.t is not None for n in drawn)
    return _Model(view, bool(grads), nodes, drawn, params, hidden, fold_states, edges, scale, caption, grid)


def _drawn_edges(nodes: list[Any], keep: Callable[[Any], bool], view: str, hidden: set[int],
                 params: dict[int, list[Any]], cuts: list[tuple[int, Any, Any]]) -> list[tuple[str, str, dict]]:
    """The edges between drawn nodes, each once; an edge into or out of a folded step ends at the fold."""
    by_id = {id(n): n for n in nodes}

    def end(n: Any | None) -> str | None:
        if n is None:
            return None
        return _FOLD if n.t in hidden else _key(n)

    out: list[tuple[str, str, dict[str, str]]] = []
    seen = set()
    for (a, b), d in _contract(nodes, keep).items():
        child = by_id[b]
        head, tail = end(child), end(by_id.get(a))
        if tail is None or head == tail or (tail, head) in seen:
            continue
        seen.add((tail, head))
        target = _op_key(child) if (view == "ops" and child._parents and head != _FOLD) else head
        attrs = {}
        if d is not None and _FOLD not in (head, tail) and a not in params:
            attrs["label"] = _fmt(d)
        if a in params:
            attrs.update(color="#a0a0a0", penwidth="0.7")
        out.append((tail, target, attrs))
    for _, source, copy in cuts:
        s, c = end(by_id.get(id(source))), end(by_id.get(id(copy)))
        if s and c and s != c:
            out.append((s, c, {"style": "dashed", "color": _CUT_COLOUR, "fontcolor": _CUT_COLOUR,
                               "label": "copy — no gradient"}))
    return out


class _Frame:
    """Which gradients one picture shows: ``shown(node)``; a shared parameter shows Σ of its shown copies."""

    def __init__(self, shown: Callable[[Any], bool], params: dict[int, list[Any]]) -> None:
        self.shown, self.params = shown, params

    def grad(self, n: Any) -> Any:
        """The gradient drawn on ``n`` in this frame; None while it is not shown."""
        if id(n) in self.params:
            cs = [c for c in self.params[id(n)] if self.shown(c)]
            if not cs:
                return None
            return sum((np.asarray(c.grad if c.grad is not None else 0.0) for c in cs), np.zeros(np.shape(n.data)))
        return n.grad if self.shown(n) else None


# -- drawing ----------------------------------------------------------------------------------------------
def draw(
    obj: Any,
    view: str = "coarse",
    grads: bool = True,
    max_steps: int = 8,
    heat: bool = True,
    node_budget: int = NODE_BUDGET,
    title: str | None = None,
    reveal: Callable[[Any], bool] | None = None,
) -> graphviz.Digraph:
    r"""Draw an ``Unrolled``, a ``Tensor`` or a ``Value`` and everything it depends on.

    view="coarse" keeps the labelled nodes (X_t, H_t, O_t, L_t, parameters, copies) and contracts the op
    nodes between them; "ops" shows every op, with ∂out/∂in on each edge of a Value graph. Above
    ``max_steps`` time steps the middle ones fold into one "… k steps …" node. ``reveal(node)`` picks
    the nodes whose gradients are shown (the backward stepper uses it); by default all. The colour
    scale is always that of all gradients, so a colour means the same in every frame of a stepper.

    Labels must be str or None (TypeError naming the node otherwise). They are printed as text: a
    line break shows as ⏎, a tab as a space, other control characters as their escape (``\x00``).
    """
    if reveal is not None and not callable(reveal):
        raise TypeError(f"reveal must be a function node → bool or None, got {type(reveal).__name__}")
    m = _model(obj, view, grads, max_steps, heat, node_budget, title)
    frame = _Frame(reveal or (lambda n: True), m.params)
    texts = _texts(m, frame)
    return _emit(m, frame, texts, _layout(m, _widths(texts)), fixed=None)


def _texts(m: _Model, frame: _Frame) -> dict[str, list[str]]:
    """The rows of every drawn node's label (and of the fold node) in one frame."""
    out = {_key(n): _node_rows(m, frame, n) for n in m.drawn}
    if m.hidden:
        out[_FOLD] = _fold_rows(m, frame)
    return out


def _node_rows(m: _Model, frame: _Frame, n: Any) -> list[str]:
    name = f"<B>{_notation(n.label)}</B>" if n.label else f"<I>{_escaped(n._op or 'leaf')}</I>"
    shape = np.shape(n.data)
    if len(shape) and np.size(n.data) > 1:
        name += f" {shape}"
    gr = frame.grad(n) if m.grads else None
    cells = [name]
    if id(n) in m.params:
        copies = m.params[id(n)]
        count, have = len(copies), sum(1 for c in copies if frame.shown(c))
        if m.grads:
            sym = _notation(n.label or "W")
            cells.append(f"Σ<SUB>t</SUB> ∂L/∂{sym}<SUB>t</SUB> = {_value(gr) if gr is not None else '·'}")
        cells.append(f"{count} per-step cop{'y' if count == 1 else 'ies'}" if have == count
                     else f"Σ over {have} of {count} copies")
    else:
        if n._op != "copy":  # a copy shares its parameter's data: show its gradient only
            cells.append(f"data {_value(n.data)}")
        if m.grads:
            cells.append("grad " + (_value(gr) if gr is not None else "·"))
    return cells


def _fold_rows(m: _Model, frame: _Frame) -> list[str]:
    rows = [f"… {len(m.hidden)} steps …", f"t = {m.hidden[0]}–{m.hidden[-1]}"]
    if m.grads and m.fold_states:
        norms = [_magnitude(frame.grad(n)) for n in m.fold_states if frame.grad(n) is not None]
        if len(norms) == len(m.fold_states):
            rows.append(f"‖∂L/∂H<SUB>t</SUB>‖ from {_fmt(min(norms))} to {_fmt(max(norms))}")
        else:
            rows.append("‖∂L/∂H<SUB>t</SUB>‖ ·")
    return rows


def _widths(texts: dict[str, list[str]]) -> dict[str, float]:
    return {k: _width(rows) for k, rows in texts.items()}


def _layout(m: _Model, widths: dict[str, float]) -> dict[str, tuple[float, float]]:
    return _grid(m.drawn, m.params, set(m.hidden), widths, _key) if m.grid else {}


def _emit(m: _Model, frame: _Frame, texts: dict[str, list[str]], pos: dict[str, tuple[float, float]],
          fixed: dict[str, float] | None) -> graphviz.Digraph:
    """One picture of the model. With ``fixed`` (key → inches) every label gets that minimum width, so the
    frames of a stepper share one layout whatever numbers they show."""
    g = graphviz.Digraph("micrornn", engine="neato" if m.grid else "dot", graph_attr={
        "fontname": "Helvetica", "fontsize": "11", "labelloc": "b", "labeljust": "l", "outputorder": "edgesfirst",
        # routed splines avoid the nodes but cost seconds on hundreds of edges: curved ones past a size
        **({"splines": "true" if len(m.drawn) <= SPLINE_NODES else "curved", "overlap": "true"} if m.grid else
           {"rankdir": "LR", "nodesep": "0.2", "ranksep": "0.3"})})
    g.attr("node", fontname="Helvetica", fontsize="10", shape="plain")
    g.attr("edge", fontname="Helvetica", fontsize="9", color="#555555", arrowsize="0.6")

    def place(k: str) -> dict[str, str]:
        return {"pos": f"{pos[k][0]:.2f},{pos[k][1]:.2f}!"} if k in pos else {}

    def label(n: Any) -> str:
        k = _key(n)
        fill, font = m.scale.colour(_magnitude(frame.grad(n))) if m.scale else ("white", "black")
        width = f' WIDTH="{round(fixed[k] * 72)}"' if fixed else ""  # on the cells, so the colour fills the box
        rows = "".join(f'<TR><TD BGCOLOR="{fill}"{width}><FONT COLOR="{font}">{c}</FONT></TD></TR>'
                       for c in texts[k])
        border = "2" if id(n) in m.params else "1"
        return f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">{rows}</TABLE>>'

    # nodes: one cluster per time step; the shared parameters outside
    clusters: dict[int | None, list[Any]] = defaultdict(list)
    for n in m.drawn:
        clusters[None if id(n) in m.params else n.t].append(n)
    for t in sorted(t for t in clusters if t is not None):
        with g.subgraph(name=f"cluster_t{t}") as c:
            c.attr(label=f"t = {t}", style="rounded", color="#bbbbbb", fontcolor="#666666", margin="14", labelloc="t")
            for n in clusters[t]:
                _add_node(c, n, label(n), m.view, place(_key(n)))
    for n in clusters.get(None, []):
        _add_node(g, n, label(n), m.view, place(_key(n)))
    if m.hidden:
        size = {"width": f"{_fold_width(fixed[_FOLD]):.2f}"} if fixed else {}
        g.node(_FOLD, label="<" + "<BR/>".join(texts[_FOLD]) + ">", shape="box", style="rounded,dashed",
               fontsize="11", **size, **place(_FOLD))
    for tail, head, attrs in m.edges:
        g.edge(tail, head, **attrs)
    if m.scale:
        g.node("legend", label=m.scale.legend(), shape="plain", **place("legend"))
    if m.caption:
        g.attr(label=_escaped(m.caption))
    return g


# -- the grid of the coarse view ----------------------------------------------------------------------------
_ROWS = {"param": 0.0, "input": 1.2, "state": 2.4, "output": 3.6, "loss": 4.8, "total": 6.0}  # inches
_GAP, _STEP_GAP = 0.25, 0.7


def _width(rows: list[str]) -> float:
    """Estimated width in inches of a node label (10 pt Helvetica)."""
    text = max(len(re.sub(r"<[^>]+>", "", r)) for r in rows)
    return 0.3 + 0.075 * text


def _fold_width(text_width: float) -> float:
    """The fold node's width: its text is 11 pt (the estimate is for 10 pt), inside a box's margins."""
    return 1.1 * text_width + 0.22


def _row(n: Any, params: dict[int, list[Any]]) -> str:
    if id(n) in params:
        return "param"
    label = (n.label or "").split("[")[0]
    name, _, sub = label.partition("_")
    if label.startswith(("W^O_", "b^O_")):
        return "state"  # the output layer's copies sit beside H_t, under O_t
    if name in ("H", "O", "L") and sub == "0":
        return "input"  # an initial state H_0 / O_0 enters like an input
    return {"H": "state", "O": "output", "L": "loss" if sub else "total"}.get(name, "input")


_ORDER = {"X": 0, "C": 1, "W^X": 2, "W^H": 3, "b": 4, "H": 5, "W^O": 6, "b^O": 7}


def _kind(n: Any) -> str:
    """The name in a node's label without step and index: 'W^H_3[0,1]' → 'W^H'."""
    return (n.label or "").split("_")[0].split("[")[0]


def _grid(drawn: list[Any], params: dict[int, list[Any]], hidden: set[int], widths: dict[str, float],
          key: Callable[[Any], str]) -> dict[str, tuple[float, float]]:
    """Pinned positions: one block of columns per time step (the fold between), one row per kind."""
    rank = {id(n): i for i, n in enumerate(drawn)}  # drawn is in topological order: a stable tie-break
    blocks: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    steps = sorted({n.t for n in drawn if n.t is not None and id(n) not in params})
    for n in drawn:
        if n.t is not None and id(n) not in params:
            blocks[n.t][_row(n, params)].append(n)

    def order(n: Any) -> tuple:
        return _ORDER.get(_kind(n), 9), rank[id(n)]

    pos: dict[str, tuple[float, float]] = {}
    x = 0.0
    sequence: list[Any] = list(steps)
    if hidden:
        before = [t for t in steps if t < min(hidden)]
        sequence.insert(len(before), "fold")
    for item in sequence:
        if item == "fold":
            w = max(2.0, _fold_width(widths.get("fold", 0.0)))
            pos["fold"] = (x + w / 2, _ROWS["state"])
            x += w + _STEP_GAP
            continue
        rows = blocks[item]
        main = {r: [n for n in ns if _kind(n) not in ("W^O", "b^O")]
                for r, ns in rows.items()}  # the output layer's copies W^O_t, b^O_t go beside, not under, O_t
        extra = {r: [n for n in ns if n not in main[r]] for r, ns in rows.items()}

        def width(ns: list[Any]) -> float:
            return sum(widths[key(n)] for n in ns) + _GAP * max(len(ns) - 1, 0)

        half = max(width(main[r]) / 2 + (width(extra[r]) + _GAP if extra[r] else 0.0) for r in rows)
        centre = x + half
        for r in rows:
            cx = centre - width(main[r]) / 2
            for n in sorted(main[r], key=order) + sorted(extra[r], key=order):
                w = widths[key(n)]
                pos[key(n)] = (cx + w / 2, _ROWS[r])
                cx += w + _GAP
        x += 2 * half + _STEP_GAP
    span = max(x - _STEP_GAP, 1.0)
    outside = [n for n in drawn if n.t is None or id(n) in params]
    for r in ("param", "total", "input", "state", "output", "loss"):
        ns = sorted((n for n in outside if _row(n, params) == r), key=lambda n: rank[id(n)])
        if not ns:
            continue
        total = sum(widths[key(n)] for n in ns) + _GAP * (len(ns) - 1)
        cx = (span - total) / 2
        for n in ns:
            w = widths[key(n)]
            pos[key(n)] = (cx + w / 2, _ROWS[r] if r != "input" else _ROWS["param"])
            cx += w + _GAP
    pos["legend"] = (2.2, _ROWS["param"] - 1.0)
    return pos


def _value(x: Any) -> str:
    """A number as a number; an array as its norm between bars."""
    a = np.asarray(x, dtype=np.float64)
    return _fmt(float(a.reshape(()))) if a.size == 1 else f"‖{_fmt(_magnitude(a))}‖"


def _add_node(g: graphviz.Digraph, n: Any, label: str, view: str, place: dict[str, str]) -> None:
    g.node(_key(n), label=label, **place)
    if view == "ops" and n._parents:  # the op that made it, as its own small node
        g.node(_op_key(n), label=_escaped(n._op), shape="circle", fontsize="9", width="0.3", margin="0.02")
        g.edge(_op_key(n), _key(n))


# -- rendering with a guard ---------------------------------------------------------------------------------
def _seconds(name: str, x: Any) -> float:
    """A time limit: a finite number of seconds > 0, else ValueError naming the argument."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not (
            math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {x!r}")
    return float(x)


def render(graph: graphviz.Digraph, path: str | Path, timeout: float = DOT_TIMEOUT) -> Path:
    """Write ``graph`` to ``path`` (format from the suffix: .svg .png .pdf …) with ``dot``, never for longer
    than ``timeout`` seconds. The DOT source is always written next to it, as ``path`` + ``.dot``."""
    timeout = _seconds("timeout", timeout)
    if not isinstance(path, (str, Path)) or not str(path):
        raise ValueError(f"render: path must name a file such as picture.svg, got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"render: {path} is a folder; name a file in it, such as {path / 'picture.svg'}")
    fmt = path.suffix.lstrip(".") or "svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    source = path.with_name(path.name + ".dot")
    source.write_text(graph.source, encoding="utf-8")
    path.write_bytes(_dot(graph, fmt, timeout, f"the DOT source is in {source}"))
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


# -- backward, one frame at a time -----------------------------------------------------------------------------
FRAME_BUDGET = 60.0  # seconds for a whole backward_frames or save_stepper call


def backward_frames(obj: Any, view: str = "coarse", max_steps: int = 8, grads: bool = True, heat: bool = True,
                    node_budget: int = NODE_BUDGET, title: str | None = None,
                    budget: float = FRAME_BUDGET) -> list[tuple[graphviz.Digraph, str]]:
    """Pictures in the order backprop computes the gradients, each with a caption.

    For a graph with time steps: the forward pass first, then one frame per drawn step from T down to
    1 as the gradients arrive (the shared parameters' Σ grows one copy at a time), then "done". The
    steps ``draw`` folds into one "… k steps …" node (beyond ``max_steps``) get one frame together, so
    T = 1,000 makes about ``max_steps`` + 3 frames. Without time steps: one frame per labelled node
    (at most 60), in backward order. Call ``backward()`` first.

    The graph is walked once; every frame has the same nodes, edges, colour scale and label widths, so
    the pictures share one layout and only colours and numbers change. If the frames take longer than
    ``budget`` seconds, a TimeoutError says how far they got (a stepper that silently stops half-way
    would teach the wrong thing).

        >>> import micrornn as mr
        >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
        >>> [caption for _, caption in backward_frames(y)][1]
        'Backward step 1: ∂L/∂y = 1'
    """
    budget = _seconds("budget", budget)
    start = time.perf_counter()
    m = _model(obj, view, grads, max_steps, heat, node_budget, title)
    plan = _frame_plan(m)

    def check(made: int) -> None:
        if time.perf_counter() - start > budget:
            raise TimeoutError(f"backward_frames: the time budget of {budget:g} s ran out after {made} of "
                               f"{len(plan)} frames; draw fewer steps (max_steps=) or pass a larger budget=")

    check(0)
    frames = [_Frame(shown, m.params) for shown, _ in plan]
    texts = []
    for i, frame in enumerate(frames):
        texts.append(_texts(m, frame))
        check(i)
    widths = {k: max(_width(t[k]) for t in texts) for k in texts[0]}  # the widest each label gets
    pos = _layout(m, widths)
    out = []
    for i, (frame, text, (_, caption)) in enumerate(zip(frames, texts, plan)):
        out.append((_emit(m, frame, text, pos, fixed=widths), caption))
        check(i + 1)
    return out


def _frame_plan(m: _Model) -> list[tuple[Callable[[Any], bool], str]]:
    """(which gradients are shown, caption) for every frame, in backward order."""
    plan: list[tuple[Callable[[Any], bool], str]] = [
        (lambda n: False, "Forward pass: every value is computed; no gradient yet.")]
    steps = [t for t in _steps(m.nodes) if t >= 1]
    if steps:
        T, hidden = steps[-1], set(m.hidden)
        for k in reversed([t for t in steps if t not in hidden]):
            def from_k(n: Any, k: int = k) -> bool:
                return n.t is None or n.t >= k

            caption = (f"Backward reaches t = {k}: dL/dH_{k} collects the gradient from step {k} and from every "
                       f"later step; the copies at t = {k} now hold their share." if k < T else
                       f"Backward starts at the loss and reaches the last step, t = {T}.")
            plan.append((from_k, caption))
            if m.hidden and k == m.hidden[-1] + 1:  # the folded steps, all in one frame
                first, last = m.hidden[0], m.hidden[-1]
                plan.append((lambda n, k=first: n.t is None or n.t >= k,
                             f"Backward runs through the {len(m.hidden)} folded steps, t = {last} down to {first} "
                             f"(one frame for all of them); their copies add their shares to each Σ."))
        plan.append((lambda n: True, "Done: each shared parameter's gradient is the sum of its per-step copies' "
                     "gradients."))
        return plan
    back = list(reversed(m.nodes))  # the order backward completes the gradients
    rank = {id(n): i for i, n in enumerate(back)}
    labelled = [n for n in back if n.label]
    for i, n in enumerate(labelled[:60], start=1):
        r = rank[id(n)]
        plan.append((lambda x, r=r: rank[id(x)] <= r,
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
    timeout, budget = _seconds("timeout", timeout), _seconds("budget", budget)
    if isinstance(frames, graphviz.Digraph) or not all(
            isinstance(f, tuple) and len(f) == 2 and isinstance(f[0], graphviz.Digraph) and isinstance(f[1], str)
            for f in frames):
        raise TypeError("save_stepper takes a list of (picture, caption) pairs, as backward_frames returns")
    if not frames:
        raise ValueError("save_stepper needs at least one frame")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    deadline = time.perf_counter() + budget
    svgs = []
    for i, (g, _) in enumerate(frames):
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError(f"save_stepper: the time budget of {budget:g} s ran out after {i} of {len(frames)} "
                               "frames; make fewer frames (max_steps=) or pass a larger budget=")
        try:
            svgs.append(_dot(g, "svg", min(timeout, left), "draw(...).source has the DOT text").decode("utf-8"))
        except TimeoutError:
            if left >= timeout:
                raise
            raise TimeoutError(f"save_stepper: the time budget of {budget:g} s ran out in frame {i + 1} of "
                               f"{len(frames)}; make fewer frames (max_steps=) or pass a larger budget=") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(svgs, [_printable(c) for _, c in frames], _printable(title)), encoding="utf-8")
    return path
