"""fast: the speed tricks, each a named second implementation of a function on the reading path.

The spine (``graph.backward``, ``Tensor._receive``, ``cells.RNN.step``, ``unroll``) is what a lecture
reads; every trick here computes the same numbers faster, is on by default, and is tested equal to the
function it replaces (tests/engine/test_fast.py, ≤ 1e-12 relative). Gains, unless a row says otherwise:
a char-RNN step (vocab 65, hidden 100, T = 25, token ids) with the trick switched off over with it on,
medians of 60 interleaved steps in one process on the 2-core CI machine (``benchmarks/bench_charrnn.py
--quick`` prints the reference/fast column, every trick off; ``benchmarks/bench_tricks.py`` each trick
alone off, T = 25 to 10,000):

=========  ====================================================  =================================================
trick      replaces (on the spine)                               what it does differently
=========  ====================================================  =================================================
copies     ``tensor._copy`` (a plain "copy" node),               a per-step copy ``W_t`` (``FactoredCopy``) keeps
           ``Tensor._receive`` (dense Σ_t dL/dW_t),              dL/dW_t as the factors it arrived in (``g xᵀ``:
           ``graph.topological_order`` and ``graph.backward``    ``Outer``; read columns: ``Columns``) and hands
                                                                 them to the weight at once; the rank-one products
                                                                 of all steps are added as one stacked product
                                                                 ``Gᵀ X`` at the end; the walk stops at a weight's
                                                                 copy, and the sweep is inlined (no call per edge).
                                                                 RNN 2.4×, LSTM 1.4×, GRU 2.1× faster; the
                                                                 T = 10,000 hidden-256 unroll's memory estimate
                                                                 8.9 GB → 0.18 GB (peak measured: 139 MB)
fused      ``cells.RNN.step`` (``affine + affine + b``)          ``W^H C_t + W^X X_t + b`` as one node ("affine")
                                                                 instead of three: 1.08× on the simple RNN
walk       ``graph.backward`` (walk, then a pass that checks     one pass: each node is checked and its grad reset
           for stale edges and resets the inner grads)           as it is placed, while it is still in the CPU
                                                                 cache, and the cyclic collector paused for the
                                                                 sweep (the Value engine's sweep; the Tensor
                                                                 engine's with "copies" off). Value engine,
                                                                 forward + backward: 1.10–1.14× at T = 1,000
                                                                 and 10,000 (``bench_engine.py``,
                                                                 reference/fast)
collector  ``unroll._unroll``'s build (Python's cyclic           the collector paused while an unroll builds: it
           collector running, as in any Python program)          finds nothing in the acyclic graph, yet ran a
                                                                 young-generation pass every 700 new objects
                                                                 (131 of them, 11 middle and 1 full pass for a
                                                                 10,000-step build). Forward + backward: within
                                                                 noise at T = 25 and 1,000 (0.97–1.04×),
                                                                 1.06–1.10× at 10,000; the build alone there:
                                                                 1.13–1.15× (``bench_tricks.py --long``, two
                                                                 runs). The collector is one per
                                                                 process: a thread's switch decides its own
                                                                 builds, but while another thread's build holds
                                                                 the collector paused, every thread runs paused
=========  ====================================================  =================================================

Switch them off for a lecture, a trace, or to check a result against the reading path::

    >>> import micrornn as mr
    >>> with mr.fast.off():              # every trick: the spine runs
    ...     mr.fast.enabled("copies")
    False
    >>> with mr.fast.off("fused"):       # one trick
    ...     mr.fast.enabled("copies"), mr.fast.enabled("fused")
    (True, False)

``MICRORNN_REFERENCE=1`` in the environment (read at import) starts every thread with all of them off.
The switch belongs to the running thread (and asyncio task), like ``no_grad()``. A graph keeps what it
was built with: a graph built fast and swept with the tricks off (or the other way round) still gives
the right gradients, but its fast nodes still pass them back by rules from this file (an op that reads a
``FactoredCopy`` by ``RULES``, a fused "affine" by the rule it adds to ``VJP``): to watch only the spine
run, build the graph inside the block too.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from . import functional as F
from . import graph, tensor, value
from .flags import known
from .graph import EDIT_CLOCK, current
from .tensor import VJP, Tensor, _node, _unbroadcast

__all__ = ["TRICKS", "enabled", "off", "on", "FactoredCopy", "Outer", "Columns", "collector_paused"]

TRICKS = ("copies", "fused", "walk", "collector")


def _from_environment() -> frozenset[str]:
    value = os.environ.get("MICRORNN_REFERENCE", "")
    if value not in ("", "0", "1"):
        raise ValueError(f"MICRORNN_REFERENCE must be 1 (every fast trick off) or 0/unset, got {value!r}")
    return frozenset(TRICKS) if value == "1" else frozenset()


# a frozenset is immutable, so one default shared by every thread is safe (ruff cannot tell from the call)
OFF: ContextVar[frozenset[str]] = ContextVar("micrornn_fast_off", default=_from_environment())  # noqa: B039


def enabled(trick: str) -> bool:
    """Whether ``trick`` (one of ``TRICKS``) is on in the running thread; a name not in TRICKS is a
    ValueError (a misspelt trick would otherwise read as "on")."""
    return known(trick, TRICKS, "trick", "fast.enabled") not in OFF.get()


def _tricks(tricks: tuple[str, ...], who: str) -> frozenset[str]:
    return frozenset(known(trick, TRICKS, "trick", who) for trick in tricks) or frozenset(TRICKS)


def off(*tricks: str) -> AbstractContextManager[None]:
    """Run the reading path for ``tricks`` (all when none is named) inside the block."""
    return _switched(add=_tricks(tricks, "fast.off"))


def on(*tricks: str) -> AbstractContextManager[None]:
    """Switch ``tricks`` (all when none is named) back on inside the block, e.g. under MICRORNN_REFERENCE=1."""
    return _switched(remove=_tricks(tricks, "fast.on"))


@contextmanager
def _switched(add: frozenset[str] = frozenset(), remove: frozenset[str] = frozenset()) -> Iterator[None]:
    """Inside the block: the running thread's switch with ``add`` off and ``remove`` on (read as the block is
    entered, so a stored or decorating ``off(...)`` adds to whatever is off then), and the sweeps of
    ``Tensor.backward`` and ``Value.backward`` chosen to match. OFF is set here and nowhere else."""
    now = (OFF.get() | add) - remove
    tensor_sweep, value_sweep = _sweeps_for(now)
    token, tokens = OFF.set(now), (tensor.SWEEP.set(tensor_sweep), value.SWEEP.set(value_sweep))
    try:
        yield
    finally:
        tensor.SWEEP.reset(tokens[0])
        value.SWEEP.reset(tokens[1])
        OFF.reset(token)


# -- collector: the cyclic collector kept out of a build or a sweep ----------------------------------------
@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block, and restore it as it was found.

    A build or a sweep makes only acyclic nodes and temporaries, which the collector scans for cycles it never
    finds: a young-generation pass every 700 new objects, and now and then a full pass over every live object,
    the whole graph included. Reference counting still frees everything as usual, and a cycle a cell's own
    code makes is collected after the block. The unroller's build uses it when the "collector" trick is on;
    this file's sweeps (and ``contributions``) always do. The collector belongs to the process, not to the
    thread: a pause in one thread pauses it for all of them until the block ends.

        >>> import gc
        >>> with collector_paused():
        ...     gc.isenabled()
        False
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- copies: factored gradients ------------------------------------------------------------------------
class Outer:
    """The gradient of a matrix W (m, n) used as ``W @ x``: ``g xᵀ``, or ``Σ_k g_k x_kᵀ = gᵀ x`` for a
    batch, kept as its factors ``g`` ((m,) or (k, m)) and ``x`` ((n,) or (k, n)).

        >>> o = Outer(np.array([1.0, 2.0]), np.array([3.0, 0.0, 1.0]), (2, 3))
        >>> o.dense().tolist()
        [[3.0, 0.0, 1.0], [6.0, 0.0, 2.0]]
    """

    __slots__ = ("g", "x", "shape")
    __array_ufunc__ = None  # ndarray + Outer defers to Outer.__radd__

    def __init__(self, g: np.ndarray, x: np.ndarray, shape: tuple[int, ...]) -> None:
        self.g, self.x, self.shape = g, x, shape

    def dense(self) -> np.ndarray:
        return self.g[:, None] * self.x if self.g.ndim == 1 else self.g.T @ self.x

    def add_to(self, out: np.ndarray) -> None:
        """``out += g xᵀ`` (one product, as the hand-written floor's ``dW += dz.T @ h``)."""
        out += self.dense()

    def __add__(self, other: Any) -> Any:
        if type(other) is Outer:  # stack the factors: Σ over both
            return Outer(np.vstack((self.g, other.g)), np.vstack((self.x, other.x)), self.shape)
        return self.dense() + other

    __radd__ = __add__


class Columns:
    """The gradient of a matrix W (m, n) read by column ids (``embed``): column ``ids[k]`` receives
    ``g[k]``; zero elsewhere. ``ids`` is one id with ``g`` of shape (m,), or (k,) ids with ``g`` (k, m).

        >>> Columns(np.array([2, 0, 2]), np.ones((3, 2)), (2, 4)).dense().tolist()
        [[1.0, 0.0, 2.0, 0.0], [1.0, 0.0, 2.0, 0.0]]
    """

    __slots__ = ("ids", "g", "shape")
    __array_ufunc__ = None

    def __init__(self, ids: Any, g: np.ndarray, shape: tuple[int, ...]) -> None:
        self.ids, self.g, self.shape = ids, g, shape

    def dense(self) -> np.ndarray:
        out = np.zeros(self.shape)
        self.add_to(out)
        return out

    def add_to(self, out: np.ndarray) -> None:
        """``out[:, ids] += g`` column by column: a token repeated in the batch accumulates."""
        if self.g.ndim == 1:
            out[:, int(self.ids)] += self.g  # one id: a plain index, added in place
        else:
            np.add.at(out.T, self.ids, self.g)

    def __add__(self, other: Any) -> Any:
        if type(other) is Columns:
            ids = np.concatenate((np.atleast_1d(self.ids), np.atleast_1d(other.ids)))
            return Columns(ids, np.vstack((self.g, other.g)), self.shape)
        return self.dense() + other

    __radd__ = __add__


_FACTORS = (Outer, Columns)


class FactoredCopy(Tensor):
    """The fast per-step copy ``W_t`` (trick "copies"): the same array as W, its own node, and its
    gradient dL/dW_t kept as the factors it arrived in, so a copy costs a node, not a matrix. Reading
    ``.grad`` builds the matrix (on every read: reading the copies of a 10,000-step graph one by one
    never holds them all).

        >>> from micrornn import functional as F
        >>> W = Tensor(np.zeros((3, 4)), label="W^X")
        >>> W_1 = copy(W, "W^X_1")
        >>> F.embed(W_1, 2).sum().backward()
        >>> type(W_1._grad).__name__, W_1.grad[:, 2].tolist(), W.grad[:, 2].tolist()
        ('Columns', [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a FactoredCopy is made by fast.copy(W, label) (the per-step copy W_t of a Tensor W)")

    @property
    def grad(self) -> np.ndarray | None:  # type: ignore[override]
        """dL/dW_t as an ndarray of the weight's shape; None, as for the spine's plain copy, until a
        gradient reaches it (``u.backward()`` gives every copy the loss does not reach zeros)."""
        g = self._grad
        if g is None:
            return None
        return g.dense() if type(g) in _FACTORS else g

    @grad.setter
    def grad(self, g: Any) -> None:
        self._grad = tensor._checked_grad(self, g)

    def _receive(self, g: Any) -> None:
        """Keep one contribution, dense or factored (two factored ones of one kind stay factored)."""
        self._grad = g if self._grad is None else self._grad + g

    def _backward(self) -> None:
        """Hand the sum on: factors stay factors for a weight or a copy; an inner node needs the matrix."""
        g, parent = self._grad, self._parents[0]
        if type(parent) is FactoredCopy:
            parent._receive(g)
        elif not parent._parents:
            _add_to_leaf(parent, g)
        else:
            parent._receive(g.dense() if type(g) in _FACTORS else g)


_new = object.__new__


def copy(W: Tensor, label: str | None) -> Tensor:
    """The per-step copy ``W_t`` labelled ``label``: a ``FactoredCopy`` when "copies" is on, else the
    spine's plain copy node (``tensor._copy``). (The unroller's backend chooses once per graph instead.)"""
    return (tensor._copy if "copies" in OFF.get() else factored_copy)(W, label)


def factored_copy(W: Tensor, label: str | None) -> Tensor:
    """A ``FactoredCopy`` of W, built slot by slot: the unroller makes a few every step."""
    grad_enabled, t = current()
    if not grad_enabled:  # no graph: a leaf, as every result under no_grad()
        return tensor._copy(W, label)
    c = _new(FactoredCopy)
    c._data = W._data  # the very array: a copy costs a node, not a matrix
    c._grad = None
    c._parents = (W,)
    c._which = (0,)
    c._ctx = None
    c._op = "copy"
    c.label = label
    c.t = t
    c._mark = None
    c._stamp = EDIT_CLOCK[0]
    return c


def _add_to_leaf(leaf: Tensor, g: Any) -> None:
    """Accumulate a gradient, dense or factored, into a leaf (a weight) — in place, as PyTorch does."""
    if type(g) in _FACTORS:
        _add_factors(leaf, g)
    elif leaf._grad is None:
        leaf._grad = np.array(g)
    else:
        leaf._grad += g


# The rank-one outer products (batch 1) a running backward() owes each weight, added in a few stacked
# products at its end: Σ_t g_t x_tᵀ = Gᵀ X with the g_t as the rows of G and the x_t as the rows of X
# (25 steps at hidden 100: 1.2-1.4 ms step by step, 0.1-0.2 ms stacked). One dict per running backward.
_OWED: ContextVar[dict | None] = ContextVar("micrornn_owed", default=None)
_STACK_NUMBERS = 2**14  # stack at most 128 kB of factors at a time


def _add_factors(leaf: Tensor, g: Outer | Columns) -> None:
    if leaf._grad is None:
        leaf._grad = g.dense()
        return
    owed = _OWED.get()
    if type(g) is Outer and g.g.ndim == 1 and owed is not None:
        owed.setdefault(id(leaf), (leaf, []))[1].append(g)
    else:
        g.add_to(leaf._grad)


def _add_outers(out: np.ndarray, outers: list[Outer]) -> None:
    """``out += Σ_k g_k x_kᵀ`` over rank-one factors, as a few stacked matrix products."""
    first = outers[0]
    chunk = max(1, _STACK_NUMBERS // (first.g.size + first.x.size))
    for i in range(0, len(outers), chunk):
        part = outers[i:i + chunk]
        if len(part) == 1:
            part[0].add_to(out)
        else:
            out += np.array([f.g for f in part]).T @ np.array([f.x for f in part])


def d_weight(g: np.ndarray, W: Tensor, x: np.ndarray) -> Any:
    """``functional._d_weight`` for a FactoredCopy: its two factors, not the matrix."""
    return Outer(g, x, W._data.shape) if type(W) is FactoredCopy else F._d_weight(g, W, x)


def d_columns(g: np.ndarray, W: Tensor, ids: np.ndarray) -> Any:
    """``functional._d_columns`` for a FactoredCopy: only the columns it read."""
    return Columns(ids, g, W._data.shape) if type(W) is FactoredCopy else F._d_columns(g, W, ids)


def _vjp_linear(g: np.ndarray, out: Tensor, which: int) -> Any:
    if which == 1:
        x, W = out._parents[:2]
        return d_weight(g, W, x._data)
    return VJP["linear"](g, out, which)


def _vjp_embed(g: np.ndarray, out: Tensor, which: int) -> Any:
    return d_columns(g, out._parents[0], out._ctx)


def _vjp_matmul(g: np.ndarray, out: Tensor, which: int) -> Any:
    a, b = out._ctx
    if which == 0 and a.ndim == 2 and b.ndim <= 2 and type(out._parents[0]) is FactoredCopy:
        return Outer(g, b, a.shape) if b.ndim == 1 else Outer(g.T, b.T, a.shape)
    return VJP["@"](g, out, which)


# the rules the fast sweep uses instead of VJP's (they differ only for a FactoredCopy operand)
RULES = {"linear": _vjp_linear, "embed": _vjp_embed, "@": _vjp_matmul}


# -- copies: the walk that ends at a weight's copy, and the inlined sweep -------------------------------
def topological_order(root: Tensor) -> list[Tensor]:
    """``one_pass_order(root, None)``, except that a weight's FactoredCopy ends the walk: the sweep hands
    what it receives straight on to the weight, so it is neither placed nor swept (half the nodes of a
    char-RNN graph are such copies: walking them made backward 15% slower). Two walks, not one with a
    switch: the copy test on every parent would cost the Value engine's walk, which never meets a copy."""
    order: list[Tensor] = []
    mark = object()
    root._mark = mark
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._stamp > node._stamp:
                raise spine_stale_error(root)
            if parent._mark is not mark:
                parent._mark = mark
                if type(parent) is FactoredCopy and not parent._parents[0]._parents:
                    weight = parent._parents[0]
                    if weight._stamp > parent._stamp:
                        raise spine_stale_error(root)
                    parent._grad = None
                    continue
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(node)
            if node._op:
                node._grad = None
    return order


def _sweeps_for(off: frozenset[str]) -> tuple[Any, Any]:
    """The sweeps of ``Tensor.backward`` and ``Value.backward``: ``factored_backward`` when "copies" is on
    (Tensors), ``one_pass_backward`` when "walk" is on, else the spine's ``graph.backward`` (so with the
    tricks off a backward never enters this file)."""
    plain = graph.backward if "walk" in off else one_pass_backward
    return (plain if "copies" in off else factored_backward), plain


# -- walk: the walk that checks and resets as it places --------------------------------------------------
def one_pass_backward(root: Any, seed: Any, zero: Any = None) -> list[Any]:
    """``graph.backward`` with its check-and-reset pass folded into the walk (``one_pass_order``), and the
    cyclic collector kept out of the sweep."""
    if root._op is None:
        raise RuntimeError(graph.NO_GRAD_ERROR)
    with collector_paused():
        order = one_pass_order(root, zero)
        order.reverse()
        root._grad = seed if root._op else root._grad + seed
        for node in order:
            if node._op:
                node._backward()
    return order


def one_pass_order(root: Any, zero: Any) -> list[Any]:
    """``graph.topological_order(root)`` that refuses a stale edge as it meets it and sets each inner node's
    grad to ``zero`` as it places the node (a separate pass cost 5 of the 80 ms of a 10,000-step graph)."""
    order: list[Any] = []
    mark = object()
    root._mark = mark
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._stamp > node._stamp:
                raise spine_stale_error(root)
            if parent._mark is not mark:
                parent._mark = mark
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(node)
            if node._op:
                node._grad = zero
    return order


def spine_stale_error(root: Any) -> RuntimeError:
    """The error ``graph.backward`` raises for this stale graph. The fast walks meet edges as they descend,
    the spine's check in its own order; with two stale edges they would name different ones."""
    for node in graph.topological_order(root):
        for parent in node._parents:
            if parent._stamp > node._stamp:
                return graph.stale_error(node, parent)
    raise AssertionError("spine_stale_error() called on a graph with no stale edge")


def factored_backward(root: Tensor, seed: np.ndarray) -> None:
    """``graph.backward(root, seed, None)`` for graphs with FactoredCopy nodes: the walk ends at a weight's
    copy, the sweep is inlined, and the outer products owed to each weight are added stacked at the end."""
    if root._op is None:
        raise RuntimeError(graph.NO_GRAD_ERROR)
    owed: dict[int, tuple[Tensor, list[Outer]]] = {}
    token = _OWED.set(owed)
    try:
        with collector_paused():
            order = topological_order(root)
            order.reverse()
            root._grad = seed if root._op else root._grad + seed
            for node in order:
                if node._op:
                    _sweep(node)
    finally:
        _OWED.reset(token)
        for weight, outers in owed.values():
            _add_outers(weight._grad, outers)


def _sweep(node: Tensor) -> None:
    """``node._backward()`` with ``_receive`` inlined, a weight's copy handing on as it receives."""
    if type(node) is FactoredCopy:  # backward's root, or a copy of a copy or of an inner node
        g, parent = node._grad, node._parents[0]
        if type(parent) is FactoredCopy and not parent._parents[0]._parents:
            parent._receive(g)  # it ended the walk, so it will not be swept: hand on now
            _add_to_leaf(parent._parents[0], g)
        else:
            node._backward()
        return
    op = node._op  # read VJP at each node, never a snapshot: a rule patched or added later is used
    rule = RULES[op] if op in RULES else VJP[op]  # no .get() call: this runs once per node
    g = node._grad
    for parent, which in zip(node._parents, node._which):
        gp = rule(g, node, which)
        shape = parent._data.shape
        if gp.shape != shape:  # checked here, not in _unbroadcast: most edges need nothing (a call saved)
            gp = _unbroadcast(gp, shape)
        if type(parent) is FactoredCopy:
            parent._grad = gp if parent._grad is None else parent._grad + gp
            weight = parent._parents[0]
            if weight._parents:  # a copy of a copy or of an inner node: swept later
                continue
            parent = weight
        if type(gp) in _FACTORS:
            _add_factors(parent, gp)
        elif parent._grad is None:
            parent._grad = gp if parent._parents else np.array(gp)
        elif parent._parents:
            parent._grad = parent._grad + gp
        else:
            parent._grad += gp


# -- fused: the simple RNN's pre-activation as one node -----------------------------------------------
def affine2(W_h: Tensor, h: Tensor, W_x: Tensor, x: Tensor | np.ndarray, b: Tensor) -> Tensor:
    """``W_h h + W_x x + b`` as one node (op "affine"): the simple RNN's ``W^H C_t + W^X X_t + b``.

    ``x`` is a Tensor (a vector or a batch of rows, as in ``linear``) or token ids (``W_x x`` is then
    column x of W_x, as in ``embed``). Unchecked: the unroller checked the whole sequence.

        >>> W = Tensor(np.eye(2))
        >>> affine2(W, Tensor([1.0, 2.0]), Tensor(np.ones((2, 3))), np.int64(1), Tensor([0.5, 0.0])).data
        array([2.5, 3. ])
    """
    hd = h._data
    out = W_h._data @ hd if hd.ndim == 1 else hd @ W_h._data.T
    if type(x) is Tensor:  # operands numbered h 0, W_h 1, x 2, W_x 3, b 4 in both forms
        xd = x._data
        out += W_x._data @ xd if xd.ndim == 1 else xd @ W_x._data.T
        parents, which, ids = (h, W_h, x, W_x, b), (0, 1, 2, 3, 4), None
    else:  # token ids: no node for x
        out += W_x._data[:, x].T
        parents, which, ids = (h, W_h, W_x, b), (0, 1, 3, 4), x
    out += b._data
    return _node(out, parents, which, ids, "affine")


def _vjp_affine(g: np.ndarray, out: Tensor, which: int) -> Any:
    parents = out._parents
    if which == 0:
        return g @ parents[1]._data
    if which == 1:
        return d_weight(g, parents[1], parents[0]._data)
    if which == 2:
        return g @ parents[3]._data
    if which == 3:
        ids = out._ctx
        return d_columns(g, parents[-2], ids) if ids is not None else d_weight(g, parents[3], parents[2]._data)
    return g  # the bias; summed over a batch by the engine


VJP["affine"] = _vjp_affine  # an op of its own: any sweep, fast or not, can backprop a fused node


def rnn_step(cell: Any, be: Any, p: Any, context: Any, X_t: Any) -> Any:
    """``cells.RNN.step`` with ``W^H C_t + W^X X_t + b`` as one node (``be.affine2``) when both terms exist."""
    if context is None or X_t is None:
        return type(cell).step(cell, be, p, context, X_t)
    W_h, b = p.W_h, p.b  # copies are made as first read: W^H, b, then W^X (the pictures' node order)
    return be.apply(cell.f, be.affine2(W_h, context, p.W_x, X_t, b))


# Tensor.backward() and Value.backward() sweep through tensor.SWEEP and value.SWEEP: their defaults (every
# new thread's) become the ones the environment's switch chooses; off() and on() set them for their block
# (functions: nothing to mutate)
tensor.SWEEP = ContextVar("micrornn_sweep", default=_sweeps_for(OFF.get())[0])  # noqa: B039
value.SWEEP = ContextVar("micrornn_value_sweep", default=_sweeps_for(OFF.get())[1])  # noqa: B039
