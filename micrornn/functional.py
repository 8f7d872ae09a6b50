"""Losses and activations on Tensors: each one node with its own backward rule in ``tensor.VJP``.

    >>> import numpy as np
    >>> import micrornn as mr
    >>> logits = mr.Tensor([2.0, 0.5, -1.0])
    >>> loss = cross_entropy(logits, 0)
    >>> round(loss.item(), 4)
    0.2413
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Union

import numpy as np

from .tensor import VJP, Tensor, _node, as_array
from .value import Value

__all__ = [
    "softmax", "log_softmax", "cross_entropy", "mse", "linear", "embed", "activation", "ACTIVATIONS",
    "tanh", "sigmoid", "relu", "identity",
]

Node = Union[Tensor, Value]


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)  # shift by the max: exp never overflows
    return m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / Σ exp(x) along ``axis``, computed stably."""
    out = np.exp(x._data - _logsumexp(x._data, axis))
    return _node(out, (x,), (0,), axis, "softmax")


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x − log Σ exp(x) along ``axis``, computed stably."""
    return _node(x._data - _logsumexp(x._data, axis), (x,), (0,), axis, "log_softmax")


def _check_targets(logits: Tensor, targets: Any) -> np.ndarray:
    t = np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy targets must be integer class indices, got dtype {t.dtype}")
    if logits.ndim not in (1, 2) or t.shape != logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy expects logits (C,) with one target or (B, C) with targets (B,); "
            f"got logits {logits.shape} and targets {t.shape}"
        )
    C = logits.shape[-1]
    bad = (t < 0) | (t >= C)
    if bad.any():
        raise ValueError(f"cross_entropy target {t[bad].flat[0]} is out of range for {C} classes (0..{C - 1})")
    return t


def cross_entropy(logits: Tensor, targets: int | np.ndarray, reduction: str = "mean") -> Tensor:
    """−log softmax(logits)[target], averaged (``"mean"``) or summed (``"sum"``) over the batch.

    One fused node; its gradient is ``softmax(logits) − onehot(target)`` (scaled by the reduction).
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    return _cross_entropy(logits, _check_targets(logits, targets), reduction == "mean")


def _rows(t: np.ndarray) -> tuple:
    """Index of entry ``t`` in each row: ``x[_rows(t)]`` picks x[t] (one row) or x[b, t_b] (a batch)."""
    return (t,) if t.ndim == 0 else (np.arange(t.size), t)


def _cross_entropy(logits: Tensor, t: np.ndarray, mean: bool = True) -> Tensor:
    """cross_entropy without the checks, for callers that validated a whole sequence of targets once.

    −log softmax(x)[t] = log Σ exp(x − m) + m − x[t] with m = max x (exp never overflows); the
    softmax ``e / Σ e`` is kept for backward, which needs it and nothing else.
    """
    x = logits._data
    scale = 1.0 / t.size if mean else 1.0
    if x.ndim == 1:  # one sequence: numbers, not arrays, after the sum
        m = x.max()
        e = np.exp(x - m)
        s = e.sum()
        loss = (math.log(s) + m - x[t]) * scale
    else:
        m = x.max(axis=-1, keepdims=True)
        e = np.exp(x - m)
        s = e.sum(axis=-1, keepdims=True)
        loss = (np.log(s[:, 0]) + m[:, 0] - x[_rows(t)]).sum() * scale
    e /= s  # the softmax
    return _node(np.asarray(loss), (logits,), (0,), (e, t, scale), "cross_entropy")


def mse(pred: Tensor, target: Tensor | np.ndarray, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences; ``target`` must have the shape of ``pred``."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    target_data = target.data if isinstance(target, Tensor) else as_array(target, "mse(target)")
    if target_data.shape != pred.shape:
        raise ValueError(f"mse: pred has shape {pred.shape} but target has shape {target_data.shape}")
    return _mse(pred, target) if reduction == "mean" else ((pred - target) ** 2).sum()


def _mse(pred: Tensor, target: Tensor | np.ndarray) -> Tensor:
    """``mse`` with its arguments checked already (the unroller checks every target up front)."""
    return ((pred - target) ** 2).mean()  # drawn as the notes write it: (O_t − Y_t)²


def linear(x: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    """``W x + b`` for one vector x (shape (in,)), ``x Wᵀ + b`` for a batch (shape (B, in)) — PyTorch's layout.

    One node (the RNN's ``W^O H_t + b^O``), so a step needs no transpose or extra add node.
    """
    if not isinstance(x, Tensor) or not isinstance(W, Tensor) or not isinstance(b, (Tensor, type(None))):
        raise TypeError("linear(x, W, b=None) takes Tensors")
    if x.ndim not in (1, 2) or W.ndim != 2 or x.shape[-1] != W.shape[1]:
        raise ValueError(
            f"linear: expected x of shape (in,) or (batch, in) with in = {W.shape[1]} for W of shape "
            f"{W.shape}, got x of shape {x.shape}"
        )
    if b is not None and b.shape != (W.shape[0],):
        raise ValueError(f"linear: b must have shape ({W.shape[0]},) for W of shape {W.shape}, got {b.shape}")
    return _linear(x, W, b)


def _linear(x: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    xd = x._data
    out = W._data @ xd if xd.ndim == 1 else xd @ W._data.T
    if b is None:
        return _node(out, (x, W), (0, 1), None, "linear")
    out += b._data
    return _node(out, (x, W, b), (0, 1, 2), None, "linear")


def _vjp_linear(g: np.ndarray, out: Tensor, which: int) -> Any:
    x, W = out._parents[:2]
    if which == 0:
        return g @ W._data  # (out,) @ (out, in) or (B, out) @ (out, in)
    if which == 1:
        return _d_weight(g, W, x._data)
    return g  # the bias; summed over a batch by the engine


def _d_weight(g: np.ndarray, W: Tensor, x: np.ndarray) -> Any:
    """dL/dW of ``W x`` (``x Wᵀ`` for a batch): the outer product g xᵀ (Σ over the batch)."""
    return g[:, None] * x if x.ndim == 1 else g.T @ x


def _d_columns(g: np.ndarray, W: Tensor, ids: np.ndarray) -> Any:
    """dL/dW of column ``ids`` of W: g in those columns, zero elsewhere."""
    dW = np.zeros(W._data.shape)
    if ids.ndim == 0:
        dW[:, ids] = g
    else:
        np.add.at(dW.T, ids, g)  # a token repeated in the batch accumulates
    return dW


def embed(W: Tensor, ids: int | np.ndarray) -> Tensor:
    """Column ``ids`` of ``W`` — the product ``W · onehot(ids)`` without building the one-hot vector.

    For one id the result has shape (rows,); for ids of shape (B,) it is (B, rows).
    """
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu" or ids.ndim > 1:
        raise TypeError(f"embed: ids must be an int or a 1-D integer array, got dtype {ids.dtype}, shape {ids.shape}")
    V = W.shape[1]
    if ((ids < 0) | (ids >= V)).any():
        raise ValueError(f"token id out of range: got {ids.min()}..{ids.max()}, vocabulary has {V} ids (0..{V - 1})")
    return _embed(W, ids)


def _embed(W: Tensor, ids: np.ndarray) -> Tensor:
    return _node(W._data[:, ids].T.copy(), (W,), (0,), ids, "embed")


def _vjp_embed(g: np.ndarray, out: Tensor, which: int) -> Any:
    return _d_columns(g, out._parents[0], out._ctx)


def _vjp_softmax(g: np.ndarray, out: Tensor, which: int) -> np.ndarray:
    s = out._data
    return s * (g - (g * s).sum(axis=out._ctx, keepdims=True))


def _vjp_log_softmax(g: np.ndarray, out: Tensor, which: int) -> np.ndarray:
    return g - np.exp(out._data) * g.sum(axis=out._ctx, keepdims=True)


def _vjp_cross_entropy(g: np.ndarray, out: Tensor, which: int) -> np.ndarray:
    p, t, scale = out._ctx
    c = g * scale
    d = p * c  # (softmax − onehot(t)) · c
    d[_rows(t)] -= c
    return d


VJP.update(
    softmax=_vjp_softmax,
    log_softmax=_vjp_log_softmax,
    cross_entropy=_vjp_cross_entropy,
    linear=_vjp_linear,
    embed=_vjp_embed,
)


# The activations as named module-level functions, not lambdas: a cell keeps its activation (``rnn.f``),
# and pickle stores a function by its qualified name, so only named ones let a model be pickled
# (multiprocessing, joblib) or saved whole.
def tanh(x: Node) -> Node:
    return x.tanh()


def sigmoid(x: Node) -> Node:
    return x.sigmoid()


def relu(x: Node) -> Node:
    return x.relu()


def identity(x: Node) -> Node:
    """No activation: the linear RNN of the notes' vanishing/exploding example."""
    return x


ACTIVATIONS: dict[str, Callable[[Node], Node]] = {"tanh": tanh, "sigmoid": sigmoid, "relu": relu, "identity": identity}


def activation(name: str) -> Callable[[Node], Node]:
    """The activation ``f`` of ``H_t = f(W^H H_{t-1} + W^X X_t + b)`` by name, for Values and Tensors."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
