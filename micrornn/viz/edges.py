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
