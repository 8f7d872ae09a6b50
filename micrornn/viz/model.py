"""The model of a picture: which nodes and edges are drawn, their roles, the folded steps and the colour scale —
everything that does not depend on which gradients a frame shows — and ``_Frame``, which gradients it shows."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..record import Role, Unrolled
from .edges import _contract, _drawn_edges
from .heat import _C_PATH, _Heat
from .nodes import _Token
from .source import _Source
from .text import _magnitude

NODE_BUDGET = 400  # more nodes than this and a picture switches to coarse + collapsed, and says so

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


def _steps(nodes: Iterable[Any]) -> list[int]:
    """The time steps the nodes belong to, in order."""
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
    explained: list[str] | None = None  # the legend's explaining lines (viz.explain), made when first asked
    overlay: dict[int, list[tuple[int, float]]] | None = None  # view="contributions": id(copy) → [(t, ‖C[t,k]‖)]


Keeper = Callable[[str], Callable[[Any], bool]]  # view → which nodes it keeps


def _model(obj: Any, src: _Source, view: str | None = None, grads: bool = True, max_steps: int = 8,
           heat: bool = True, node_budget: int = NODE_BUDGET, title: str | None = None,
           notes: Sequence[str] = (), scale: _Heat | None = None, fold: list[int] | None = None) -> _Model:
    """The model of ``src`` in ``view``: the middle steps folded beyond ``max_steps``, and more of them (an
    ops view drawn coarse) while it has more than ``node_budget`` boxes; ``notes`` and the caption say so.
    ``fold`` (a layout's folded steps) pins them instead: a repaint folds the steps its layout folded."""
    asked = view if view is not None else ("coarse" if src.roles is not None else "ops")
    roles, keeper = _roles(src, asked)
    notes = list(notes)
    view, hidden = _folded(src, keeper, asked, max_steps, node_budget, notes, fold)
    hidden_set = set(hidden)
    kept, params, contracted = src.once(("kept", asked, view), lambda: _kept(src, view, keeper(view), roles))
    drawn = [n for n in kept if n.t not in hidden_set or id(n) in params]
    edges = _drawn_edges(contracted, src.nodes + src.tokens, view, hidden_set, params, src.cuts, roles)
    m = _Model(view, bool(grads), src.nodes, drawn, roles, params, hidden, _fold_states(obj, kept, hidden_set, roles),
               edges, None, "", src.reached, src.head, {}, any(a.get("color") == _C_PATH for _, _, a in edges),
               notes, view == "coarse" and any(n.t is not None for n in drawn), src.once(("sums", asked, view), dict))
    if isinstance(obj, Unrolled) and obj.encoder is not None:
        m.parts = {r.t: r.part for r in roles.values() if r.t is not None and r.part}
    if heat and grads:
        m.scale = scale if scale is not None else _scale(m)
    m.caption = " · ".join(dict.fromkeys(x for x in [title if title is not None else src.title, *notes] if x))
    return m


def _folded(src: _Source, keeper: Keeper, view: str, max_steps: int, node_budget: int, notes: list[str],
            fold: list[int] | None) -> tuple[str, list[int]]:
    """The view drawn and the folded steps: those the budget asks for (``_within_budget``), or a layout's
    own (``fold``); the first note says which are folded."""
    if fold is None:
        view, hidden = _within_budget(src, keeper, view, max_steps, node_budget, notes)
    else:
        hidden = list(fold)
    if hidden:
        notes.insert(0, f"steps {hidden[0]}–{hidden[-1]} folded into one node")
    return view, hidden


def _scale(m: _Model) -> _Heat | None:
    """One colour scale over every gradient the picture can show, whichever frame shows it."""
    everything = _Frame(_every, m)
    return _Heat.over(_magnitude(everything.grad(n)) for n in m.drawn if everything.grad(n) is not None)


def _roles(src: _Source, view: str) -> tuple[dict[int, Role], Keeper]:
    """Every node's role, and which nodes each view keeps. An unrolled graph's roles are the recorded ones
    (its token inputs added) and its coarse view keeps exactly those nodes; a hand-built graph's coarse view
    keeps the labelled nodes, the leaves and the roots, and its roles are read from its structure."""
    if src.roles is not None:
        recorded = src.roles
        roles = src.once(("roles",), lambda: {**recorded, **{id(tok): Role("input", tok.t) for tok in src.tokens}})
        return roles, lambda v: (lambda n: True) if v == "ops" else (lambda n: id(n) in roles)
    root_ids = {id(r) for r in src.roots}

    def keeper(v: str) -> Callable[[Any], bool]:
        return (lambda n: True) if v == "ops" else (
            lambda n: n.label is not None or not n._parents or id(n) in root_ids)

    return src.once(("roles", view), lambda: _structural_roles(src.nodes, src.roots, keeper(view))), keeper


def _within_budget(src: _Source, keeper: Keeper, view: str, max_steps: int, node_budget: int,
                   notes: list[str]) -> tuple[str, list[int]]:
    """The view and the folded steps that keep the picture within ``node_budget`` boxes: first the ops
    view becomes coarse, then the drawn steps are halved (never below 2). Each change adds a note."""
    steps = src.once(("steps",), lambda: _steps(src.nodes))
    hidden = _hidden_steps(steps, max_steps)
    if _size(src, keeper, view, hidden) <= node_budget:
        return view, hidden
    if view == "ops":
        view = "coarse"
        notes.append(f"ops view over the {node_budget}-node budget: drawn coarse")
    while _size(src, keeper, view, hidden) > node_budget and max_steps > 2:
        max_steps = max(2, max_steps // 2)
        hidden = _hidden_steps(steps, max_steps)
    if hidden:
        notes.append(f"collapsed to {max_steps} drawn steps to stay within {node_budget} nodes")
    return view, hidden


def _size(src: _Source, keeper: Keeper, view: str, hidden: list[int]) -> int:
    """How many boxes ``view`` draws with ``hidden`` folded (the ops view draws an op beside each result)."""
    keep = keeper(view)
    per_step = src.once(("size", view), lambda: Counter(n.t for n in src.nodes if keep(n)))
    hid_set = set(hidden)
    n_kept = sum(count for t, count in per_step.items() if t not in hid_set)
    return n_kept * (2 if view == "ops" else 1)


def _fold_states(obj: Any, kept: list[Any], hidden: set[int], roles: dict[int, Role]) -> list[Any]:
    """The top layer's forward H_t of the folded steps: the fold node reports their gradient norms."""
    top = obj.rnn.num_layers - 1 if isinstance(obj, Unrolled) else 0
    return [n for n in kept if n.t in hidden and (r := roles.get(id(n))) is not None
            and r.kind == "H" and r.layer == top and r.direction == 0]


def _kept(src: _Source, view: str, keep: Callable[[Any], bool], roles: dict[int, Role]
          ) -> tuple[list[Any], dict[int, list[Any]], dict[tuple[int, int], float | None]]:
    """The nodes ``view`` keeps (parents first), the shared parameters with their per-step copies, and the
    edges between kept nodes (``_contract``)."""
    kept = [n for n in src.nodes if keep(n)]
    if view == "coarse":
        kept += [tok for tok in src.tokens]  # display nodes: not in the graph
    extra = _token_reads(src) if view == "coarse" and src.tokens else {}
    keep_token = keep if not src.tokens else (lambda n: keep(n) or isinstance(n, _Token))
    return kept, _copies(src.nodes, kept, roles), _contract(src.nodes + src.tokens, keep_token, extra)


def _copies(nodes: list[Any], kept: list[Any], roles: dict[int, Role]) -> dict[int, list[Any]]:
    """Each kept shared parameter's id → its per-step copies (the children recorded as copies)."""
    children: dict[int, list[Any]] = defaultdict(list)
    for n in nodes:
        for p in n._parents:
            children[id(p)].append(n)

    def kind(n: Any) -> str:
        return roles.get(id(n), Role("")).kind

    return {id(n): cs for n in kept if not n._parents and kind(n) == "param"
            and (cs := [c for c in children.get(id(n), []) if kind(c) == "copy"])}


def _token_reads(src: _Source) -> dict[int, _Token]:
    """The ops that read a token id (an embedding, or a column lookup W^X X_t) → that step's token node."""
    at = {tok.t: tok for tok in src.tokens}
    return {id(n): at[n.t] for n in src.nodes if n.t in at
            and (n._op == "embed" or n._op == "affine" and n._ctx is not None)}


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
