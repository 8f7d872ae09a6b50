"""The edges a picture draws: contracted through the nodes a view leaves out, folded, each drawn once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..record import Role
from ..value import Value
from .heat import _C_PATH, _CUT_COLOUR
from .nodes import _FOLD, _key, _op_key, _Token
from .text import _fmt


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
    edges: dict[tuple[int, int], float | None] = {}
    for n in nodes:  # parents before children
        if keep(n):
            region, frontier = _walk_up(n, keep, extra)
            grad = _walk_down(n, sorted(region, key=lambda m: position[id(m)], reverse=True), extra)
            for a in frontier:
                edges[(id(a), id(n))] = grad[id(a)]
    return edges


def _sources(n: Any, extra: dict[int, Any]) -> list[tuple[Any, float | None]]:
    """(parent, ∂n/∂parent) of each edge into ``n``, the token id last."""
    out = [(p, _local(n, i)) for i, p in enumerate(n._parents)]
    if id(n) in extra:
        out.append((extra[id(n)], None))
    return out


def _walk_up(n: Any, keep: Callable[[Any], bool], extra: dict[int, Any]) -> tuple[list[Any], list[Any]]:
    """The dropped nodes above ``n`` up to the kept ones (its region), and those kept ones (its frontier).
    Depth first, left to right, so the kept ancestors come in the order they are met."""
    region, frontier, seen = [n], [], {id(n)}
    stack = [p for p, _ in reversed(_sources(n, extra))]
    while stack:
        p = stack.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        if keep(p):
            frontier.append(p)
        else:
            region.append(p)
            stack.extend(q for q, _ in reversed(_sources(p, extra)))
    return region, frontier


def _walk_down(n: Any, region: list[Any], extra: dict[int, Any]) -> dict[int, float | None]:
    """Backprop from ``n`` over its region, children before parents: ∂n/∂x for every x it reaches
    (None once an array is on the path: no number to print)."""
    grad: dict[int, float | None] = {id(n): 1.0}
    for m in region:
        g = grad[id(m)]
        for p, d in _sources(m, extra):
            step = None if g is None or d is None else g * d
            if id(p) not in grad:
                grad[id(p)] = step
            elif step is None or grad[id(p)] is None:
                grad[id(p)] = None
            else:
                grad[id(p)] += step
    return grad


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

    out: dict[tuple[str, str], dict[str, str]] = {}
    for (a, b), d in contracted.items():
        child = by_id[b]
        head, tail = end(child), end(by_id.get(a))
        if tail is None or head == tail:
            continue
        target = _op_key(child) if (view == "ops" and child._parents and head != _FOLD) else head
        if (tail, target) not in out:
            out[(tail, target)] = _attrs(d, by_id.get(a), a in params, _FOLD in (head, tail))
        if _c_path(roles, a, b):
            out[(tail, target)].update(color=_C_PATH, penwidth="3")
    for _, source, copy in cuts:
        s, c = end(by_id.get(id(source))), end(by_id.get(id(copy)))
        if s and c and s != c:
            out[(s, c)] = {"style": "dashed", "color": _CUT_COLOUR, "fontcolor": _CUT_COLOUR,
                           "label": "copy — no gradient"}
    return [(t, h, a) for (t, h), a in out.items()]


def _attrs(d: float | None, tail: Any, from_param: bool, folded: bool) -> dict[str, str]:
    """How an edge looks: its derivative printed on it (a Value graph), thin grey from a shared parameter
    to its copies, dashed from a token."""
    attrs = {}
    if d is not None and not folded and not from_param:
        attrs["label"] = _fmt(d)
    if from_param:
        attrs.update(color="#a0a0a0", penwidth="0.7")
    if isinstance(tail, _Token):
        attrs.update(style="dashed", color="#777777")
    return attrs


def _c_path(roles: dict[int, Role], a: int, b: int) -> bool:
    """Is a → b a step of the cell state's path C_{t-1} → C_t (same layer, same direction)?"""
    ra, rb = roles.get(a), roles.get(b)
    return (ra is not None and rb is not None and ra.kind == rb.kind == "C"
            and (ra.layer, ra.direction) == (rb.layer, rb.direction))
