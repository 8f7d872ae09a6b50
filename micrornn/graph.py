"""The one backprop algorithm that both engines (`Value`, `Tensor`) share.

A node is any object with these attributes:

    data      its value (a float or an ndarray)
    grad      dL/d(node) after backward()
    _parents  a tuple of the nodes it was computed from, in argument order (``a + a`` has two edges)
    _op       the name of the op that made it; "" for a leaf (made by the user, by ``detach()`` or
              under ``no_grad()``), which has no parents
    _mark     scratch space for the topological walk (``None`` on a new node)
    _backward a method that sends ``self.grad`` on to each parent (the chain rule, one node)

The topological order is a depth-first post-order kept on an explicit stack — no recursion, so an
unrolled graph of 100,000 time steps backpropagates at Python's default recursion limit. (Creation
order is a topological order too; sorting by a creation counter was ~10% faster on 1,000 steps but
12% slower on 10,000, where the extra int per node costs more than the walk saves.)

    >>> import micrornn as mr
    >>> with mr.timestep(3):
    ...     h = mr.Value(0.5, label="H_3")
    >>> h.t
    3
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["backward", "topological_order", "timestep", "no_grad", "is_grad_enabled", "zero_grad"]


class _State:
    """Global switches read by every op: is the graph being recorded, which time step are we in."""

    __slots__ = ("grad_enabled", "t")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.t: int | None = None


STATE = _State()


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


_KEEP = object()  # topological_order(): leave the grads alone


def topological_order(*roots: Any, reset_inner: Any = _KEEP) -> list[Any]:
    """Every node the roots depend on, each one after all of its parents (parents first).

    Nodes already visited carry this walk's own token in ``node._mark`` (a fresh object per walk):
    reading an attribute is cheaper than a lookup in a set of a hundred thousand nodes.
    With ``reset_inner`` given, each inner node's grad is set to it as the node is placed, while
    the node is still in the CPU cache (a separate pass cost 5 of the 80 ms of a 10,000-step graph).
    """
    order: list[Any] = []
    mark = object()
    reset = reset_inner is not _KEEP
    for root in roots:
        if root._mark is mark:
            continue
        root._mark = mark
        stack = [(root, iter(root._parents))]  # a node, and the parents it has still to visit
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent._mark is not mark:
                    parent._mark = mark
                    stack.append((parent, iter(parent._parents)))
                    break
            else:  # all parents placed: the node can follow them
                stack.pop()
                order.append(node)
                if reset and node._op:
                    node.grad = reset_inner
    return order


def backward(root: Any, seed: Any, zero: Any) -> list[Any]:
    """Reverse-mode sweep from ``root`` with dL/d(root) = ``seed``.

    Grads of the graph's inner nodes are reset to ``zero`` first; leaves (parameters, inputs,
    detached copies) accumulate, as in PyTorch, so two calls double leaf grads and nothing else.
    Returns the nodes in the order their gradients were completed.
    """
    with _collector_paused():
        order = topological_order(root, reset_inner=zero)
        order.reverse()  # children first: a node's gradient is complete before it is passed on
        root.grad = seed if root._op else root.grad + seed
        for node in order:
            if node._op:
                node._backward()
    return order


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Keep Python's cyclic garbage collector out of the sweep.

    The sweep makes only short-lived, acyclic temporaries, yet every few hundred of them the
    collector would rescan the whole (live, acyclic) graph: on a 10,000-step unroll that was a
    third of backward's time. Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def zero_grad(nodes: Iterable[Any]) -> None:
    """Set the grads of the given (leaf) nodes back to zero."""
    for node in nodes:
        node.zero_grad()
