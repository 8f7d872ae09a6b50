"""The one backprop algorithm that both engines (`Value`, `Tensor`) share.

A node is any object with these attributes:

    data      its value (a float or an ndarray)
    grad      dL/d(node) after backward()
    _parents  the nodes it was computed from, in argument order (``a + a`` has two edges)
    _id       a creation counter: a node is always created after its parents
    _backward a method that sends ``self.grad`` on to each parent (the chain rule, one node)

Because ``_id`` grows with creation, sorting the reachable nodes by ``_id`` *is* a topological
order — no recursion, so an unrolled graph of 100,000 time steps backpropagates at Python's
default recursion limit.

    >>> import micrornn as mr
    >>> with mr.timestep(3):
    ...     h = mr.Value(0.5, label="H_3")
    >>> h.t
    3
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

__all__ = ["backward", "topological_order", "timestep", "no_grad", "is_grad_enabled", "zero_grad"]


class _State:
    """Global switches read by every op: is the graph being recorded, which time step are we in."""

    __slots__ = ("grad_enabled", "t")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.t: int | None = None


STATE = _State()
next_id = itertools.count().__next__  # called once per node; creation order = topological order
_by_id = attrgetter("_id")


class timestep:
    """Tag every node built inside the block with time step ``t`` (read back as ``node.t``).

    Cell code never threads ``t`` around; the unroll loop wraps each step in ``with timestep(t):``.
    (A class rather than a generator: it is entered once per time step, so it should be cheap.)
    """

    __slots__ = ("t", "previous")

    def __init__(self, t: int | None) -> None:
        if t is not None and not isinstance(t, int):
            raise TypeError(f"timestep(t) expects an int or None, got {type(t).__name__}")
        self.t = t

    def __enter__(self) -> None:
        self.previous, STATE.t = STATE.t, self.t

    def __exit__(self, *exc: object) -> None:
        STATE.t = self.previous


@contextmanager
def no_grad() -> Iterator[None]:
    """Build no graph inside the block: results are leaves with no parents (sampling, evaluation).

    >>> import micrornn as mr
    >>> a = mr.Value(2.0)
    >>> with mr.no_grad():
    ...     b = a * a
    >>> b._parents
    ()
    """
    previous, STATE.grad_enabled = STATE.grad_enabled, False
    try:
        yield
    finally:
        STATE.grad_enabled = previous


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


def topological_order(root: Any) -> list[Any]:
    """All nodes reachable from ``root``, root first, each node before its parents (iterative)."""
    seen = {root}
    stack = [root]
    nodes = []
    while stack:
        node = stack.pop()
        nodes.append(node)
        for parent in node._parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    nodes.sort(key=_by_id, reverse=True)  # newest first: every child before its parents
    return nodes


def backward(root: Any, seed: Any, zero: Any) -> list[Any]:
    """Reverse-mode sweep from ``root`` with dL/d(root) = ``seed``.

    Grads of the graph's inner nodes are reset to ``zero`` first; leaves (parameters, inputs,
    detached copies) accumulate, as in PyTorch, so two calls double leaf grads and nothing else.
    Returns the nodes in the order their gradients were completed.
    """
    order = topological_order(root)
    for node in order:
        if node._parents:
            node.grad = zero
    root.grad = seed if root._parents else root.grad + seed
    for node in order:
        if node._parents:
            node._backward()
    return order


def zero_grad(nodes: Iterable[Any]) -> None:
    """Set the grads of the given (leaf) nodes back to zero."""
    for node in nodes:
        node.zero_grad()
