"""The one backprop algorithm that both engines (`Value`, `Tensor`) share.

A node is any object with these attributes:

    data      its value (a float or an ndarray)
    grad      dL/d(node) after backward(), for users (checked when assigned)
    _grad     the slot behind it, which the engine reads and writes (no check in the hot path)
    _parents  a tuple of the nodes it was computed from, in argument order (``a + a`` has two edges)
    _op       the name of the op that made it; "" for a leaf the user made (or ``detach()``), None for
              a result computed under ``no_grad()`` — a leaf too, but not one backward() may start from
    _mark     scratch space for the topological walk (``None`` on a new node)
    _stamp    the edit clock's reading when ``data`` was set (made, or last assigned); see ``edited``
    _backward a method that sends ``self._grad`` on to each parent (the chain rule, one node)

The topological order is a depth-first post-order kept on an explicit stack — no recursion, so an
unrolled graph of 100,000 time steps backpropagates at Python's default recursion limit. (Creation
order is a topological order too; sorting by a creation counter was ~10% faster on 1,000 steps but
12% slower on 10,000, where the extra int per node costs more than the walk saves.)

Backward computes the gradient at the numbers the forward pass saw, or raises (PyTorch's rule):
assigning a node's ``.data`` (``w.data -= lr * w.grad``, an optimiser step, ``Tensor.copy_``)
after a graph read it makes that graph stale, and ``backward()`` on it raises RuntimeError naming
the node. Both engines follow it: a Value keeps its local derivatives from the forward pass, a
Tensor keeps references to arrays that an in-place step would change. Only writes *into* a
Tensor's array (``W.data[...] = v``) go unseen, as writes through ``.data`` do in PyTorch: use
them to set weights before building a graph, or use ``copy_``.

Grad mode and the current time step belong to the running thread (and asyncio task), as in
PyTorch: ``no_grad()`` in a sampling thread leaves a training thread's graph alone.

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
from contextvars import ContextVar
from typing import Any

__all__ = ["backward", "topological_order", "timestep", "no_grad", "is_grad_enabled", "zero_grad"]


# Grad mode and the current time step, as one immutable pair per context: a ContextVar gives each
# thread its own (a new thread starts from the default) and each asyncio task its own copy, so a
# ``no_grad()`` in one never switches off the graph in another. Every op reads the pair once: a
# ContextVar.get() costs ~20 ns where a threading.local attribute costs ~70 ns (Python 3.11).
_STATE: ContextVar[tuple[bool, int | None]] = ContextVar("micrornn_state", default=(True, None))
current = _STATE.get  # () -> (grad_enabled, t) of the running thread or task


class timestep:
    """Tag every node built inside the block with time step ``t`` (read back as ``node.t``).

    Cell code never threads ``t`` around; the unroll loop wraps each step in ``with timestep(t):``.
    The time step belongs to the thread (or asyncio task) that entered the block. (A class, not a
    generator: it is entered once per step, and a generator's block cost 0.5 µs more, 9% of a
    1,000-step Value graph's build and backward in benchmarks/bench_engine.py.)
    """

    __slots__ = ("t", "previous")

    def __init__(self, t: int | None) -> None:
        if t is not None and not isinstance(t, int):
            raise TypeError(f"timestep(t) expects an int or None, got {type(t).__name__}")
        self.t = t

    def __enter__(self) -> None:
        grad_enabled, self.previous = current()
        _STATE.set((grad_enabled, self.t))

    def __exit__(self, *exc: object) -> None:
        # restore only the time step: a no_grad() left inside the block keeps its own say
        _STATE.set((current()[0], self.previous))


@contextmanager
def no_grad() -> Iterator[None]:
    """Build no graph inside the block: results are leaves with no parents (sampling, evaluation).

    Like ``torch.no_grad``, it switches grad mode off for the running thread only (here: its
    context, so also only for the running asyncio task); other threads keep recording their graphs.
    ``backward()`` refuses to start from a result computed inside the block.

    >>> import micrornn as mr
    >>> a = mr.Value(2.0)
    >>> with mr.no_grad():
    ...     b = a * a
    >>> b._parents
    ()
    """
    was_enabled = current()[0]
    _set_grad_enabled(False)
    try:
        yield
    finally:
        _set_grad_enabled(was_enabled)


def _set_grad_enabled(enabled: bool) -> None:
    _STATE.set((enabled, current()[1]))  # keep the time step: exits of timestep/no_grad may interleave


def is_grad_enabled() -> bool:
    """Whether ops record the graph in the running thread (``False`` inside ``no_grad()``)."""
    return current()[0]


# -- edits: a node's .data assigned after the graph was built ------------------------------------
# The edit clock counts assignments to any node's ``.data`` (an optimiser step, a hand-written
# ``w.data -= lr * w.grad``). A node records the clock reading when its data was set, in
# ``node._stamp``: when it was made, or when its ``.data`` was last assigned. Parents are made
# before their children, so in a fresh graph every edge has ``parent._stamp <= child._stamp``;
# a parent stamped later than a child was changed after the child read it, and backward()
# refuses (PyTorch's rule, which its per-tensor version counter enforces).
EDIT_CLOCK = [0]  # one cell, so value.py and tensor.py read the live number
_edits = itertools.count(1)


def edited() -> int:
    """Advance the edit clock (called by the ``.data`` setters); returns the new reading."""
    EDIT_CLOCK[0] = stamp = next(_edits)  # next() on a count is atomic under the GIL
    return stamp


def stale_error(node: Any, parent: Any) -> RuntimeError:
    """The error backward() raises when ``parent`` changed after ``node`` was computed from it."""

    def name(n: Any) -> str:
        what = f"{n.label!r}" if n.label else ("a leaf" if not n._op else f"a {n._op!r} node")
        shape = getattr(n.data, "shape", None)
        where = "" if n.t is None else f" at t={n.t}"
        return what + (f" of shape {shape}" if shape is not None else "") + where

    return RuntimeError(
        f"backward(): {name(parent)} had its .data assigned after {name(node)} was computed from it, "
        "so the graph no longer matches the numbers it was built from. Run the forward pass again after "
        "changing values (e.g. after an optimiser step), then call backward() on the new result."
    )


NO_GRAD_ERROR = (
    "backward() called on a result computed under no_grad(): no graph was recorded for it, so there is "
    "nothing to backpropagate. Compute it outside the no_grad() block (or call backward() on a leaf you made)."
)


def topological_order(*roots: Any) -> list[Any]:
    """Every node the roots depend on, each one after all of its parents (parents first).

    An iterative depth-first walk (a recursive one would overflow Python's stack on a long sequence).
    Nodes already visited carry this walk's own token in ``node._mark`` (a fresh object per walk):
    reading an attribute is cheaper than a lookup in a set of a hundred thousand nodes.
    """
    order: list[Any] = []
    mark = object()
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
    return order


def backward(root: Any, seed: Any, zero: Any = None) -> list[Any]:
    """Reverse-mode sweep from ``root`` with dL/d(root) = ``seed``.

    Grads of the graph's inner nodes are reset to ``zero`` first (None: the Tensor engine's "none yet");
    leaves (parameters, inputs, detached copies) accumulate, as in PyTorch, so two calls double leaf
    grads and nothing else (a leaf root too: its grad grows by ``seed`` each call). Returns the nodes in
    the order their gradients were completed. Each engine calls it from its own ``backward()``, which
    knows its zero.

    Raises RuntimeError, before any leaf's grad has changed, when ``root`` was computed under
    ``no_grad()`` or when a node's ``.data`` was assigned after a node computed from it was made.
    """
    if root._op is None:
        raise RuntimeError(NO_GRAD_ERROR)
    order = topological_order(root)
    for node in order:  # before any gradient moves: refuse a stale graph, start inner grads afresh
        for parent in node._parents:
            if parent._stamp > node._stamp:  # changed after node read it (see edited())
                raise stale_error(node, parent)
        if node._op:
            node._grad = zero  # the slot itself: the checked .grad setter is for users
    order.reverse()  # children first: a node's gradient is complete before it is passed on
    root._grad = seed if root._op else root._grad + seed
    for node in order:
        if node._op:
            node._backward()
    return order


def zero_grad(nodes: Iterable[Any]) -> None:
    """Set the grads of the given (leaf) nodes back to zero."""
    for node in nodes:
        node.zero_grad()
