"""What ``draw`` was given, read once: the roots, the loss, the context cuts, the roles and the title."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import topological_order
from ..record import Role, Unrolled
from ..tensor import Tensor
from ..value import Value
from .nodes import _Token

_HEAD = ("W_o", "b_o")  # every Cell's output head O_t = W^O H_t + b^O: its copies sit in a row under O_t


def _tokens_of(u: Unrolled, tokens: Any) -> list[_Token]:
    """The token-input nodes to draw, for each part (encoder, decoder) whose net reads token ids."""
    out = []
    for record in (u.encoder, u) if u.encoder is not None else (u,):
        if record.rnn.token_ids:
            out += [_Token(t, x, tokens) for x, t in zip(record.X, record.steps.get("X", []))]
    return out


def _title(u: Unrolled) -> str:
    """The picture's title: topology, T and the cell, as the notes name them."""
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
    """``_given`` with the whole graph walked once, its labels checked, and the nodes the loss depends on."""
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
    """The roots, cuts, roles, tokens and title of an Unrolled, a Tensor or a Value (else a TypeError)."""
    if isinstance(obj, Unrolled):
        records = (obj.encoder, obj) if obj.encoder is not None else (obj,)
        roots = [r for record in records for r in _roots(record) if r is not None]
        cuts = [(t, s, c) for record in records for t, src, cp in record.cuts for s, c in zip(_flat(src), _flat(cp))]
        head = {i for i, r in obj.roles.items() if r.kind == "copy" and r.name in _HEAD}
        loss = obj.loss if isinstance(obj.loss, (Value, Tensor)) else None
        return _Source(roots, loss, cuts, obj.roles, _tokens_of(obj, tokens), _title(obj), head)
    if isinstance(obj, (Value, Tensor)):
        return _Source([obj], obj, [], None, [], "", set())
    raise TypeError(f"draw() takes an Unrolled, a Tensor or a Value, got {type(obj).__name__}")


def _roots(record: Unrolled) -> list[Any]:
    """Every node a record lists (L, O, H, the loss, the cells' other states): the picture draws what they
    depend on, so a state no loss reads is drawn too."""
    roots = []
    for group in (record.L, record.O, record.H, [record.loss]):
        for n in group:
            roots.extend(_flat(n))
    for lists in record.states.values():
        for nodes in lists.values():
            for n in nodes:
                roots.extend(_flat(n))
    return roots


def _flat(node: Any) -> list[Any]:
    """The graph nodes in a record's entry: a node, or each of an object array's (a token id is none)."""
    if isinstance(node, np.ndarray):
        return list(node.reshape(-1)) if node.dtype == object else []
    return [] if isinstance(node, (np.integer, int)) else [node]


def _describe(n: Any) -> str:
    """A node for an error message: its op and its time step."""
    what = f"the {n._op!r} node" if n._op else "a leaf"
    return what + (f" at t = {n.t}" if n.t is not None else "")
