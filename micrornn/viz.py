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
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


def _notation(label: str) -> str:
    """'W^H_3[0,1]' → W<SUP>H</SUP><SUB>3</SUB>[0,1] as a Graphviz HTML label."""
    m = re.fullmatch(r"([^\^_\[]+)(?:\^([^_\[]+))?(?:_([^\[]+))?(\[.*\])?", label)
    if not m:
        return html.escape(label)
    name, sup, sub, idx = m.groups()
    out = html.escape(name)
    if sup:
        out += f"<SUP>{html.escape(sup)}</SUP>"
    if sub:
        out += f"<SUB>{html.escape(sub)}</SUB>"
    return out + html.escape(idx or "")


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
@dataclass
class _Picture:
    nodes: list[Any]  # oldest first
    kept: list[Any]
    edges: dict[tuple[int, int], float | None]  # (parent id, child id) → contracted ∂child/∂parent
    children: dict[int, list[Any]]
    cuts: list[tuple[int, Any, Any]] = field(default_factory=list)
    title: str = ""


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
    """Draw an ``Unrolled``, a ``Tensor`` or a ``Value`` and everything it depends on.

    view="coarse" keeps the labelled nodes (X_t, H_t, O_t, L_t, parameters, copies) and contracts the op
    nodes between them; "ops" shows every op, with ∂out/∂in on each edge of a Value graph. Above
    ``max_steps`` time steps the middle ones fold into one "… k steps …" node. ``reveal(node)`` picks
    the nodes whose gradients are shown (the backward stepper uses it); by default all.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 2:
        raise ValueError(f"max_steps must be an int ≥ 2 (first and last steps are always drawn), got {max_steps!r}")
    roots, cuts, auto_title = _roots(obj)
    nodes = topological_order(*roots)  # parents first
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
    keep = keeper(view)
    kept = [n for n in nodes if keep(n)]
    edges = _contract(nodes, keep)
    children: dict[int, list[Any]] = defaultdict(list)
    for n in nodes:
        for p in n._parents:
            children[id(p)].append(n)
    pic = _Picture(nodes, kept, edges, children, cuts, title if title is not None else auto_title)
    if hidden:
        notes.insert(0, f"steps {hidden[0]}–{hidden[-1]} folded into one node")
    return _emit(pic, view, grads, heat, set(hidden), notes, reveal)


def _copies_of(pic: _Picture, n: Any) -> list[Any]:
    return [c for c in pic.children.get(id(n), []) if c._op == "copy"]


def _emit(pic: _Picture, view: str, grads: bool, heat: bool, hidden: set[int], notes: list[str],
          reveal: Callable[[Any], bool] | None) -> graphviz.Digraph:
    shown = reveal or (lambda n: True)
    by_id = {id(n): n for n in pic.nodes}
    params = {id(n): cs for n in pic.kept if not n._parents and (cs := _copies_of(pic, n))}

    def grad_of(n: Any) -> Any:
        if id(n) in params:  # a shared parameter shows Σ_t of its (revealed) per-step copies
            cs = [c for c in params[id(n)] if shown(c)]
            return sum((np.asarray(c.grad if c.grad is not None else 0.0) for c in cs), np.zeros(np.shape(n.data)))
        return n.grad if shown(n) else None

    drawn = [n for n in pic.kept if n.t not in hidden]
    scale = _Heat.over(_magnitude(grad_of(n)) for n in drawn) if (heat and grads) else None
    # Coarse view with time steps: a grid of our own — rows X_t, H_t, O_t, L_t from bottom to top, time
    # left to right, as in the notes — pinned for neato (dot's cluster ordering follows the parameters'
    # fan-out edges, not time). Otherwise micrograd's left-to-right picture, laid out by dot.
    grid = view == "coarse" and any(n.t is not None for n in drawn)
    g = graphviz.Digraph("micrornn", engine="neato" if grid else "dot", graph_attr={
        "fontname": "Helvetica", "fontsize": "11", "labelloc": "b", "labeljust": "l", "outputorder": "edgesfirst",
        # routed splines avoid the nodes but cost seconds on hundreds of edges: curved ones past a size
        **({"splines": "true" if len(drawn) <= SPLINE_NODES else "curved", "overlap": "true"} if grid else
           {"rankdir": "LR", "nodesep": "0.2", "ranksep": "0.3"})})
    g.attr("node", fontname="Helvetica", fontsize="10", shape="plain")
    g.attr("edge", fontname="Helvetica", fontsize="9", color="#555555", arrowsize="0.6")

    def node_rows(n: Any) -> list[str]:
        name = f"<B>{_notation(n.label)}</B>" if n.label else f"<I>{html.escape(n._op or 'leaf')}</I>"
        shape = np.shape(n.data)
        if len(shape) and np.size(n.data) > 1:
            name += f" {shape}"
        gr = grad_of(n)
        cells = [name]
        if id(n) in params:
            count, have = len(params[id(n)]), sum(1 for c in params[id(n)] if shown(c))
            if grads:
                sym = _notation(n.label or "W")
                cells.append(f"Σ<SUB>t</SUB> ∂L/∂{sym}<SUB>t</SUB> = {_value(gr)}")
            cells.append(f"{count} per-step cop{'y' if count == 1 else 'ies'}" if have == count
                         else f"Σ over {have} of {count} copies")
        else:
            if n._op != "copy":  # a copy shares its parameter's data: show its gradient only
                cells.append(f"data {_value(n.data)}")
            if grads:
                cells.append("grad " + (_value(gr) if gr is not None else "·"))
        return cells

    def node_label(n: Any) -> str:
        fill, font = scale.colour(_magnitude(grad_of(n))) if scale else ("white", "black")
        rows = "".join(f'<TR><TD BGCOLOR="{fill}"><FONT COLOR="{font}">{c}</FONT></TD></TR>' for c in node_rows(n))
        border = "2" if id(n) in params else "1"
        return f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">{rows}</TABLE>>'

    def key(n: Any) -> str:
        return f"n{id(n)}"

    def op_key(n: Any) -> str:
        return f"op{id(n)}"

    fold = "fold" if hidden else None
    pos = _grid(drawn, params, hidden, {key(n): _width(node_rows(n)) for n in drawn}, key) if grid else {}

    def place(k: str) -> dict[str, str]:
        return {"pos": f"{pos[k][0]:.2f},{pos[k][1]:.2f}!"} if k in pos else {}

    # nodes: one cluster per time step; the shared parameters outside
    clusters: dict[int | None, list[Any]] = defaultdict(list)
    for n in drawn:
        clusters[None if id(n) in params else n.t].append(n)
    for t in sorted(t for t in clusters if t is not None):
        with g.subgraph(name=f"cluster_t{t}") as c:
            c.attr(label=f"t = {t}", style="rounded", color="#bbbbbb", fontcolor="#666666", margin="14", labelloc="t")
            for n in clusters[t]:
                _add_node(c, n, key(n), node_label(n), view, op_key(n), place(key(n)))
    for n in clusters.get(None, []):
        _add_node(g, n, key(n), node_label(n), view, op_key(n), place(key(n)))
    if fold:
        hnorms = [_magnitude(n.grad) for n in pic.nodes if n.t in hidden and n.label and n.label.startswith("H_")
                  and n.grad is not None]
        span = f"<BR/>‖∂L/∂H<SUB>t</SUB>‖ from {_fmt(min(hnorms))} to {_fmt(max(hnorms))}" if (
            grads and hnorms and reveal is None) else ""
        g.node(fold, label=f"<… {len(hidden)} steps …<BR/>t = {min(hidden)}–{max(hidden)}{span}>", shape="box",
               style="rounded,dashed", fontsize="11", **place(fold))

    def end(node_id: int) -> str | None:
        n = by_id.get(node_id)
        if n is None:
            return None
        return fold if n.t in hidden else key(n)

    seen_edges = set()
    for (a, b), d in pic.edges.items():
        head, tail = end(b), end(a)
        if head is None or tail is None or head == tail or (tail, head) in seen_edges:
            continue
        seen_edges.add((tail, head))
        child = by_id[b]
        target = op_key(child) if (view == "ops" and child._parents and head != fold) else head
        attrs = {}
        if d is not None and fold not in (head, tail) and a not in params:
            attrs["label"] = _fmt(d)
        if a in params:
            attrs.update(color="#a0a0a0", penwidth="0.7")
        g.edge(tail, target, **attrs)
    for _, source, copy in pic.cuts:
        s, c = end(id(source)), end(id(copy))
        if s and c and s != c:
            g.edge(s, c, style="dashed", color=_CUT_COLOUR, fontcolor=_CUT_COLOUR, label="copy — no gradient")
    if scale:
        g.node("legend", label=scale.legend(), shape="plain", **place("legend"))
    caption = " · ".join(x for x in [pic.title, *notes] if x)
    if caption:
        g.attr(label=html.escape(caption))
    return g


# -- the grid of the coarse view ----------------------------------------------------------------------------
_ROWS = {"param": 0.0, "input": 1.2, "state": 2.4, "output": 3.6, "loss": 4.8, "total": 6.0}  # inches
_GAP, _STEP_GAP = 0.25, 0.7


def _width(rows: list[str]) -> float:
    """Estimated width in inches of a node label (10 pt Helvetica)."""
    text = max(len(re.sub(r"<[^>]+>", "", r)) for r in rows)
    return 0.3 + 0.075 * text


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
            pos["fold"] = (x + 1.0, _ROWS["state"])
            x += 2.0 + _STEP_GAP
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


def _add_node(g: graphviz.Digraph, n: Any, key: str, label: str, view: str, op_key: str,
              place: dict[str, str]) -> None:
    g.node(key, label=label, **place)
    if view == "ops" and n._parents:  # the op that made it, as its own small node
        g.node(op_key, label=html.escape(n._op), shape="circle", fontsize="9", width="0.3", margin="0.02")
        g.edge(op_key, key)


# -- rendering with a guard ---------------------------------------------------------------------------------
def render(graph: graphviz.Digraph, path: str | Path, timeout: float = DOT_TIMEOUT) -> Path:
    """Write ``graph`` to ``path`` (format from the suffix: .svg .png .pdf …) with ``dot``, never for longer
    than ``timeout`` seconds. The DOT source is always written next to it, as ``path`` + ``.dot``."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    source = path.with_name(path.name + ".dot")
    source.write_text(graph.source, encoding="utf-8")
    path.write_bytes(_dot(graph, fmt, timeout, f"the DOT source is in {source}"))
    return path


def to_svg(graph: graphviz.Digraph, timeout: float = DOT_TIMEOUT) -> str:
    """The picture as an SVG string (``dot`` with a timeout)."""
    return _dot(graph, "svg", timeout, "draw(...).source has the DOT text").decode("utf-8")


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
        raise RuntimeError(f"dot failed ({where}): {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


# -- backward, one frame at a time -----------------------------------------------------------------------------
def backward_frames(obj: Any, view: str = "coarse", max_steps: int = 8,
                    **kwargs: Any) -> list[tuple[graphviz.Digraph, str]]:
    """Pictures in the order backprop computes the gradients, each with a caption.

    For a graph with time steps: the forward pass first, then one frame per step from T down to 1 as
    the gradients arrive (the shared parameters' Σ grows one copy at a time). Call ``backward()``
    first. Without time steps: one frame per labelled node, in backward order.
    """
    roots, _, _ = _roots(obj)
    nodes = topological_order(*roots)  # parents first
    steps = [t for t in _steps(nodes) if t >= 1]
    frames = [(draw(obj, view=view, max_steps=max_steps, reveal=lambda n: False, **kwargs),
               "Forward pass: every value is computed; no gradient yet.")]
    if steps:
        T = steps[-1]
        for k in reversed(steps):
            def shown(n: Any, k: int = k) -> bool:
                return n.t is None or n.t >= k

            caption = (f"Backward reaches t = {k}: dL/dH_{k} collects the gradient from step {k} and from every "
                       f"later step; the copies at t = {k} now hold their share." if k < T else
                       f"Backward starts at the loss and reaches the last step, t = {T}.")
            frames.append((draw(obj, view=view, max_steps=max_steps, reveal=shown, **kwargs), caption))
        frames.append((draw(obj, view=view, max_steps=max_steps, **kwargs),
                       "Done: each shared parameter's gradient is the sum of its per-step copies' gradients."))
        return frames
    order = [n for n in reversed(nodes) if n.label]
    for i, n in enumerate(order[:60], start=1):
        done = {id(m) for m in order[:i]}
        frames.append((draw(obj, view=view, max_steps=max_steps, reveal=lambda m, done=done: id(m) in done,
                            **kwargs), f"Backward step {i}: ∂L/∂{n.label} = {_value(n.grad)}"))
    return frames


def save_stepper(frames: list[tuple[graphviz.Digraph, str]], path: str | Path, title: str = "micrornn: backward, "
                 "step by step", timeout: float = DOT_TIMEOUT) -> Path:
    """One self-contained HTML page (SVGs inline; buttons, arrow keys, a slider) that works offline."""
    if not frames:
        raise ValueError("save_stepper needs at least one frame")
    svgs = [to_svg(g, timeout) for g, _ in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(svgs, [c for _, c in frames], title), encoding="utf-8")
    return path
