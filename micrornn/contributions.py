"""Who sends what where: the contribution matrix C[t, k] = ∂L_t/∂W_k of one shared weight.

After ``backward()`` each per-step copy ``W_k`` holds dL/dW_k = Σ_t ∂L_t/∂W_k, the sum over the losses that
reach it. ``contributions(u, name)`` keeps the sum apart: row i is what loss ``u.L[i]`` alone sends into each
copy (RNNbow's "itemized gradients"). It is one reverse sweep over the graph in which every node carries one
cotangent per loss, stacked (a ``(losses, *shape)`` array) — not one backward per loss — and it reads and
writes no ``.grad``: the weights, the copies and every inner node keep the gradients they had.

    >>> import numpy as np
    >>> from micrornn.nn import RNN; from micrornn.unroll import many_to_many
    >>> u = many_to_many(RNN(1, 2, 1, seed=0), np.ones((3, 1)), np.zeros((3, 1)))
    >>> C = u.contributions("W_h")
    >>> C.shape                    # 3 losses, W^H used at steps 2 and 3 (no H_0), entries shaped like W^H
    (3, 2, 2, 2)
    >>> C.loss_steps, C.copy_steps
    ([1, 2, 3], [2, 3])
    >>> bool(np.all(C.norms()[0] == 0))   # L_1 comes before W^H is first used: causality
    True
    >>> u.backward(); bool(np.allclose(C.sum(), u.param_grad("W_h")))
    True

Indices are positions: ``C[i, j]`` is ∂L_{t_i}/∂W_{t_j} with ``t_i = C.loss_steps[i]`` and
``t_j = C.copy_steps[j]``. ``np.asarray(C)`` is the dense ``(losses, copies, *param.shape)`` array; the
object itself keeps each weight-matrix entry as its two factors (g xᵀ), so a T = 100 contribution matrix of
a 64 × 64 weight costs what its factors cost, and ``norms()`` never builds the 100 × 99 × 64 × 64 numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .backends import ParamValue, _flat
from .fast import collector_paused
from .graph import stale_error, topological_order
from .tensor import VJP, Tensor
from .tensor import _unbroadcast as _engine_unbroadcast

__all__ = ["Contributions", "contributions"]


class Contributions:
    """C[i, j] = ∂L_{t_i}/∂W_{t_j} for one weight: index it like the array it stands for.

    ``shape`` is ``(losses, copies, *param.shape)``; ``C[i, j]`` is one parameter-shaped ndarray,
    ``np.asarray(C)`` (or ``C.dense()``) all of them; ``norms()`` the (losses, copies) matrix of Frobenius
    norms; ``sum(axis)`` adds up rows (axis 0: the copies' grads), columns (axis 1: each loss's dL_t/dW) or
    both (None: dL/dW). ``loss_steps`` and ``copy_steps`` give the time step of each row and column.
    """

    def __init__(self, name: str, param_shape: tuple[int, ...], loss_steps: list[int], copy_steps: list[int],
                 terms: list[list[tuple]]) -> None:
        self.name = name
        self.param_shape = tuple(param_shape)
        self.loss_steps, self.copy_steps = list(loss_steps), list(copy_steps)
        # terms[j]: what copy j received, a list of (lo, hi, kind, a, b): rows lo..hi-1 of the losses get
        # a[r] (kind "dense", b None) or the outer product a[r]ᵀ-style with b (kind "outer": g xᵀ, Σ over a batch)
        self._terms = terms

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.loss_steps), len(self.copy_steps), *self.param_shape)

    def __repr__(self) -> str:
        return f"Contributions({self.name!r}, shape={self.shape})"

    def column(self, j: int) -> np.ndarray:
        """All losses' contributions to copy j: a ``(losses, *param.shape)`` array."""
        out = np.zeros((len(self.loss_steps), *self.param_shape))
        for lo, hi, kind, a, b in self._terms[j]:
            out[lo:hi] += a if kind == "dense" else _outer(a, b)
        return out

    def __getitem__(self, index: tuple[int, int]) -> np.ndarray:
        if not (isinstance(index, tuple) and len(index) == 2 and all(_is_int(i) for i in index)):
            raise TypeError(f"Contributions[i, j] takes two ints (loss i, copy j); got {index!r} — "
                            "np.asarray(C) gives the whole array for any other indexing")
        i, j = (_position(x, n, what) for x, n, what in zip(index, self.shape[:2], ("loss", "copy")))
        return self.column(j)[i]

    def dense(self) -> np.ndarray:
        """The whole ``(losses, copies, *param.shape)`` array."""
        out = np.zeros(self.shape)
        for j in range(len(self.copy_steps)):
            out[:, j] = self.column(j)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.dense()
        return out if dtype is None else out.astype(dtype)

    def norms(self) -> np.ndarray:
        """‖C[i, j]‖ (Frobenius) as a (losses, copies) matrix — lower-triangular in time for a causal net.

        A lone rank-one entry g xᵀ has norm ‖g‖·‖x‖ (batch: via the Gram matrices), so no matrix is built."""
        out = np.zeros(self.shape[:2])
        for j, terms in enumerate(self._terms):
            if len(terms) == 1 and terms[0][2] == "outer":
                lo, hi, _, g, x = terms[0]
                if x.ndim == 1:  # ‖g xᵀ‖ = ‖g‖ ‖x‖
                    out[lo:hi, j] = np.linalg.norm(g, axis=1) * np.linalg.norm(x)
                else:  # ‖Gᵀ X‖² = Σ (G Gᵀ) ∘ (X Xᵀ), row by row
                    out[lo:hi, j] = np.sqrt(np.maximum(np.einsum("rbm,rcm,bc->r", g, g, x @ x.T), 0.0))
            elif terms:
                block = self.column(j)
                out[:, j] = np.sqrt((block.reshape(len(block), -1) ** 2).sum(axis=1))
        return out

    def sum(self, axis: int | None = None) -> np.ndarray:
        """Σ over losses (axis 0: ``u.copy_grads``), over copies (axis 1: dL_t/dW per loss) or both (dL/dW)."""
        if axis not in (None, 0, 1):
            raise ValueError(f"Contributions.sum(axis): axis must be 0 (losses), 1 (copies) or None, got {axis!r}")
        if axis == 1:
            out = np.zeros((len(self.loss_steps), *self.param_shape))
            for j in range(len(self.copy_steps)):
                out += self.column(j)
            return out
        per_copy = np.array([self.column(j).sum(axis=0) for j in range(len(self.copy_steps))]).reshape(
            len(self.copy_steps), *self.param_shape)
        return per_copy if axis == 0 else per_copy.sum(axis=0)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _position(i: int, n: int, what: str) -> int:
    if not -n <= i < n:
        raise IndexError(f"Contributions[i, j]: the {what} index must be in [-{n}, {n}), got {i}")
    return int(i) % n


def _outer(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Rows g[r] xᵀ (g (r, m), x (n,)) or g[r]ᵀ x summed over a batch (g (r, B, m), x (B, n)): (r, m, n)."""
    return g[:, :, None] * x if x.ndim == 1 else np.einsum("rbm,bn->rmn", g, x)


def contributions(u: Any, name: str, part: str | None = None) -> Contributions:
    """C[i, j] = ∂L_i/∂W_j for the weight ``name`` of the unrolled graph ``u`` (see the module docstring).

    ``part="encoder"`` (a seq2seq record): the decoder's losses into the copies of the *encoder's* weight
    ``name``, through the encoder's last state; None (or "decoder") the record's own weights."""
    if part not in (None, "decoder", "encoder"):
        raise ValueError(f"contributions(part): part must be None, 'decoder' or 'encoder' (seq2seq), got {part!r}")
    owner = u
    if part == "encoder":
        owner = getattr(u, "encoder", None)
        if owner is None:
            raise ValueError(f"contributions(part='encoder'): this {u.topology} graph has no encoder; only a "
                             "seq2seq record has one")
    if not isinstance(name, str) or name not in owner.copies:
        raise KeyError(f"contributions(name): name must be one of the {part or 'graph'}'s parameters "
                       f"({', '.join(owner.copies)}); got {name!r}")
    if not u.L:
        hint = (" This is a seq2seq encoder's record: ask the decoder's, u.contributions(name, part='encoder')"
                if u.part == "encoder" else "")
        raise ValueError(f"contributions(): this graph has no per-step losses u.L.{hint}")
    if any(v._op is None for L in u.L for v in _flat(L)):
        raise RuntimeError("contributions(): the losses were computed under no_grad(), so no graph was recorded "
                           "to sweep; unroll outside the no_grad() block")
    copies = owner.copies[name]
    leaf = owner.leaves[name]
    shape = tuple(np.shape(leaf.data if isinstance(leaf, Tensor) else leaf))
    loss_steps = list(u.steps.get("L", [])) or [None] * len(u.L)
    copy_steps = [_step_of(c) for c in copies]
    sweep = _value_sweep if u.scalar else _tensor_sweep
    with collector_paused():  # as in fast's sweeps: no collector passes over the live graph while it sweeps
        terms = sweep(u.L, copies, shape)
    return Contributions(name, shape, loss_steps, copy_steps, terms)


def _step_of(node: Any) -> int | None:
    return (node.reshape(-1)[0] if isinstance(node, np.ndarray) else node).t


def _check_fresh(order: list[Any]) -> None:
    """Refuse a stale graph, as backward() does: a weight assigned after the graph read it."""
    for node in order:
        for parent in node._parents:
            if parent._stamp > node._stamp:
                raise _stale(node, parent)
        if isinstance(node, ParamValue) and node.param._stamp > node._stamp:
            raise _stale(node, node.param)


def _stale(node: Any, parent: Any) -> RuntimeError:
    """backward()'s stale-graph error, worded for contributions()."""
    text = str(stale_error(node, parent)).replace("backward():", "contributions():", 1)
    return RuntimeError(text.replace("then call backward() on the new result", "then ask the new graph"))


# -- the Value engine: a vector of cotangents (one per loss) on every number ---------------------------
def _value_sweep(losses: list[Any], copies: list[np.ndarray], shape: tuple[int, ...]) -> list[list[tuple]]:
    n = len(losses)
    order = topological_order(*losses)
    _check_fresh(order)
    cot: dict[int, np.ndarray] = {}
    for i, L in enumerate(losses):
        seed = np.zeros(n)
        seed[i] = 1.0
        cot[id(L)] = cot[id(L)] + seed if id(L) in cot else seed
    for node in reversed(order):
        g = cot.get(id(node))
        if g is None or not node._op:
            continue
        for parent, local in ((node._p0, node._d0), (node._p1, node._d1)):
            if parent is None or not parent._op:  # leaves (weights, inputs, cuts) need no cotangent
                continue
            key = id(parent)
            cot[key] = cot[key] + local * g if key in cot else local * g
    terms = []
    for c in copies:
        block = np.zeros((n, *shape))
        for idx, v in np.ndenumerate(c):
            g = cot.get(id(v))
            if g is not None:
                block[(slice(None), *idx)] = g
        terms.append([(0, n, "dense", block, None)])
    return terms


# -- the Tensor engine: a (rows, *shape) stack of cotangents, rows lo..hi-1 of the losses ---------------
# Elementwise rules multiply g by arrays of the node's own (broadcast) shape, so they take a stack of g as
# it is; the rules that reshape, index or multiply matrices get a stacked version below, and any other op
# is swept one loss row at a time (right, only slower).
_ELEMENTWISE = {"+", "-", "*", "/", "**", "neg", "exp", "log", "tanh", "sigmoid", "relu", "copy", "identity"}


def _tensor_sweep(losses: list[Tensor], copies: list[Tensor], shape: tuple[int, ...]) -> list[list[tuple]]:
    order = topological_order(*losses)
    _check_fresh(order)
    targets = {id(c): j for j, c in enumerate(copies)}
    # where nothing is asked for: an input, a cut, another weight's copy (looked up once, not per edge)
    ends = {id(n) for n in order if (not n._parents or _is_weight_copy(n)) and id(n) not in targets}
    stacks = _Stacks(targets, ends, len(copies))
    send, cot = stacks.send, stacks.cot
    for i, L in enumerate(losses):
        send(L, i, i + 1, "dense", np.ones((1, *L._data.shape)))
    for node in reversed(order):
        entry = cot.pop(id(node), None)
        if entry is None or not node._op:
            continue
        lo, hi, G, _ = entry
        rule = VJP[node._op] if node._op in _ELEMENTWISE else None  # most ops: the engine's rule on the stack
        for parent, which in zip(node._parents, node._which):
            if id(parent) in ends:
                continue  # an input, a cut, another weight's copy: nothing asked for there, so no product
            if rule is not None:  # _stacked_vjp's first case, without its call and list
                send(parent, lo, hi, "dense", _unbroadcast(rule(G, node, which), parent._data.shape))
                continue
            for kind, a, b in _stacked_vjp(G, node, which, parent):
                send(parent, lo, hi, kind, a, b)
    return stacks.terms


class _Stacks:
    """The sweep's stacked cotangents: ``cot[id(node)] = [lo, hi, G, owned]``, rows lo…hi−1 of the losses
    that have reached the node so far and their stack G; what reaches an asked-for copy j is kept apart as a
    term of ``terms[j]``, never added (the Contributions keep each entry as the factors it arrived in)."""

    def __init__(self, targets: dict[int, int], ends: set[int], copies: int) -> None:
        self.targets, self.ends = targets, ends
        self.terms: list[list[tuple]] = [[] for _ in range(copies)]
        self.cot: dict[int, list[Any]] = {}

    def send(self, parent: Tensor, lo: int, hi: int, kind: str, a: np.ndarray, b: Any = None) -> None:
        cot, targets, ends, key = self.cot, self.targets, self.ends, id(parent)
        if kind == "slice":  # a: the stack for parent[b]; added in place where the buffer is ours
            have = cot.get(key)
            if have is not None and (have[0], have[1]) == (lo, hi) and key not in targets:
                if not have[3]:
                    have[2], have[3] = have[2].copy(), True
                have[2][b] += a
                return
            full = np.zeros((hi - lo, *parent._data.shape))
            full[b] = a
            kind, a, b = "dense", full, None
            if have is None and key not in targets and key not in ends:
                cot[key] = [lo, hi, full, True]
                return
        j = targets.get(key)
        if j is not None:
            self.terms[j].append((lo, hi, kind, a, b))
            return
        if key in ends:  # a leaf, or another weight's copy: not asked for
            return
        if kind == "outer":
            a = _outer(a, b)
        have = cot.get(key)
        if have is None:  # a rule may hand on the very array it got ("+", "copy"): not ours to add into
            cot[key] = [lo, hi, a, False]
            return
        lo0, hi0, g0, owned = have
        if (lo0, hi0) == (lo, hi):
            if owned:
                g0 += a
            else:
                have[2], have[3] = g0 + a, True
            return
        l, h = min(lo0, lo), max(hi0, hi)  # the rows either one covers (a causal net's nest)
        g = np.zeros((h - l, *g0.shape[1:]))
        g[lo0 - l:hi0 - l] += g0
        g[lo - l:hi - l] += a
        cot[key] = [l, h, g, True]


def _is_weight_copy(node: Tensor) -> bool:
    return node._op == "copy" and not node._parents[0]._parents


def _unbroadcast(G: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``tensor._unbroadcast`` for a stack: sum G (rows, *broadcast) back to (rows, *shape)."""
    if G.shape[1:] == shape:  # nothing was broadcast (most ops of a step)
        return G
    extra = G.ndim - 1 - len(shape)
    if extra:
        G = G.sum(axis=tuple(range(1, 1 + extra)))
    axes = tuple(1 + i for i, k in enumerate(shape) if k == 1 and G.shape[1 + i] != 1)
    return G.sum(axis=axes, keepdims=True) if axes else G


def _stacked_vjp(G: np.ndarray, node: Tensor, which: int, parent: Tensor) -> list[tuple]:
    """What parent ``which`` of ``node`` receives for the stack G: [(kind, a, b)]; "outer" keeps g and x.

    One rule per op from the table ``STACKED`` (elementwise ops: the engine's own rule, broadcast over the
    rows); an op with no stacked rule, or a case its rule does not cover, goes one row at a time."""
    pshape = parent._data.shape
    if node._op in _ELEMENTWISE:
        return [("dense", _unbroadcast(VJP[node._op](G, node, which), pshape), None)]
    rule = STACKED.get(node._op)
    parts = None if rule is None else rule(G, node, which, pshape)
    return _row_by_row(G, node, which, pshape) if parts is None else parts


def _stacked_linear(G: np.ndarray, node: Tensor, which: int, pshape: tuple[int, ...]) -> list[tuple]:
    x, W = node._parents[0], node._parents[1]  # linear(x, W, b): which 0, 1, 2
    return _weighted(G, ("in", "weight", "bias")[which], W, x, pshape)


def _stacked_affine(G: np.ndarray, node: Tensor, which: int, pshape: tuple[int, ...]) -> list[tuple]:
    ps = node._parents  # affine(h, W_h, x, W_x, b): which 0 … 4; W_x read by token ids: its columns
    if which == 3 and node._ctx is not None:
        return [("dense", _stacked_columns(G, pshape, node._ctx), None)]
    W, x = (ps[1], ps[0]) if which in (0, 1) else (ps[3], ps[2])
    return _weighted(G, {0: "in", 1: "weight", 2: "in", 3: "weight", 4: "bias"}[which], W, x, pshape)


def _weighted(G: np.ndarray, role: str, W: Tensor, x: Tensor, pshape: tuple[int, ...]) -> list[tuple]:
    """``W x + b`` per row: the input receives G W, the weight the rows of G with x (kept as factors)."""
    if role == "in":
        return [("dense", G @ W._data, None)]
    if role == "weight":
        return [("outer", G, x._data)]
    return [("dense", _unbroadcast(G, pshape), None)]


def _stacked_embed(G: np.ndarray, node: Tensor, which: int, pshape: tuple[int, ...]) -> list[tuple]:
    return [("dense", _stacked_columns(G, pshape, node._ctx), None)]


def _stacked_matmul(G: np.ndarray, node: Tensor, which: int, pshape: tuple[int, ...]) -> list[tuple] | None:
    a, b = node._ctx
    if a.ndim == 2 and b.ndim == 1:  # W @ h
        return [("outer", G, b)] if which == 0 else [("dense", G @ a, None)]
    return None


def _stacked_getitem(G: np.ndarray, node: Tensor, which: int, pshape: tuple[int, ...]) -> list[tuple] | None:
    index, repeats = node._ctx
    parts = index if isinstance(index, tuple) else (index,)
    if repeats or not all(isinstance(i, (int, slice, type(Ellipsis), type(None))) for i in parts):
        return None
    return [("slice", G, (slice(None), *parts))]  # added into the parent's stack in place (an LSTM's 4 slices)


def _stacked_mean(G: np.ndarray, node: Tensor, which: int, pshape: tuple[int, ...]) -> list[tuple] | None:
    axis, _ = node._ctx
    if axis is not None:
        return None
    share = np.full(pshape, 1.0 / node._parents[0]._data.size)  # every entry its 1/n of L_t
    return [("dense", np.multiply.outer(G, share), None)]


def _stacked_concatenate(G: np.ndarray, node: Tensor, which: int, pshape: tuple[int, ...]) -> list[tuple]:
    axis, splits = node._ctx
    return [("dense", np.split(G, splits, axis=axis + 1 if axis >= 0 else axis)[which], None)]


def _row_by_row(G: np.ndarray, node: Tensor, which: int, pshape: tuple[int, ...]) -> list[tuple]:
    """Any other op: one loss row at a time through the engine's own rule (a factored result made dense)."""
    rule = VJP[node._op]
    out = np.zeros((len(G), *pshape))
    for r, g in enumerate(G):
        gp = rule(g, node, which)
        out[r] = _engine_unbroadcast(gp.dense() if hasattr(gp, "dense") else np.asarray(gp), pshape)
    return [("dense", out, None)]


# op → its rule for a stack of cotangents (one row per loss step); None from a rule: go row by row
STACKED: dict[str, Callable[[np.ndarray, Tensor, int, tuple[int, ...]], list[tuple] | None]] = {
    "linear": _stacked_linear,
    "affine": _stacked_affine,
    "embed": _stacked_embed,
    "@": _stacked_matmul,
    "[]": _stacked_getitem,
    "concatenate": _stacked_concatenate,
    "mean": _stacked_mean,
}


def _stacked_columns(G: np.ndarray, pshape: tuple[int, ...], ids: Any) -> np.ndarray:
    """dL/dW for a W (m, n) read by column ids, per row: (rows, m, n); a repeated id accumulates."""
    out = np.zeros((len(G), *pshape))
    if np.ndim(ids) == 0:
        out[:, :, int(ids)] = G
    else:
        for r in range(len(G)):
            np.add.at(out[r].T, ids, G[r])
    return out
