"""Two granularities, one cell: the builders a cell's step runs on.

``TensorBackend`` makes one node per array (the parameters themselves are the leaves); ``ValueBackend``
one ``Value`` per number (numpy object arrays of Values — for tiny nets and the cross-checks). A cell's
step calls only the methods both have (``affine``, ``embed``, ``tanh``, ``sigmoid``, ``gate``, …), so the
very same step builds either graph.

    >>> import numpy as np
    >>> be = ValueBackend()
    >>> W = be.constant(np.eye(2), "W")
    >>> [v.data for v in be.affine(W, be.constant(np.array([1.0, 2.0]), "h"))]
    [1.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, Union

import numpy as np

from . import fast, tensor
from . import functional as F
from .protocol import CellError, affine_error
from .tensor import Tensor, concatenate, constant
from .value import Value

__all__ = ["TensorBackend", "ValueBackend", "grad_of", "data_of", "Node"]

Node = Union[Tensor, Value, np.ndarray]  # np.ndarray: an object array of Values (scalar=True)

class TensorBackend:
    """One node per array: the parameters themselves are the leaves.

    The ops a cell's step uses (``affine``, ``tanh``, ``sigmoid``, ``gate``) are methods here and on
    ``ValueBackend``, so one step runs at both granularities.
    """

    scalar = False
    on_gate: Callable[[str, Any], None] | None = None  # set by the unroller: records a gate's role

    def leaf(self, p: Tensor) -> Tensor:
        return p

    def __init__(self) -> None:
        # the fast tricks this backend's graph is built with, read once per graph (a graph keeps what it was
        # built with): copy(leaf, label) makes the per-step copy W_t, the spine's plain copy node or a
        # FactoredCopy; fused: the simple RNN's step as one node (unroll._step); building(): the block the
        # unroller builds in, as written or with the cyclic collector paused
        off = fast.OFF.get()  # the tricks switched off in the running thread
        self.copy = tensor._copy if "copies" in off else fast.factored_copy
        self.fused = "fused" not in off
        self.building = nullcontext if "collector" in off else fast.collector_paused

    constant = staticmethod(constant)  # be.constant(x, label): a leaf, tensor.constant

    def detach(self, node: Tensor, label: str) -> Tensor:
        return constant(node._data, label)  # node.detach(), labelled

    # shapes, ids and targets were checked for the whole sequence up front: the unchecked ops follow
    def affine(self, W: Tensor, h: Tensor | np.ndarray, b: Tensor | None = None) -> Tensor:
        """``W h + b``; for token ids ``h``, column h of W (the product with a one-hot vector) + b."""
        if type(h) is not Tensor and _is_ids(h):
            return F._embed(W, h) if b is None else F._embed(W, h) + b
        try:
            return F._linear(h, W, b)
        except (AttributeError, TypeError, ValueError):  # a user cell's shapes: say which (no cost when right)
            raise _affine_error(W, h, b) from None

    def affine2(self, W_h: Tensor, h: Tensor, W_x: Tensor, x: Tensor | np.ndarray, b: Tensor) -> Tensor:
        """``W_h h + W_x x + b`` (``x`` a vector, a batch or token ids) as one node, ``affine``: the simple
        RNN's ``W^H C_t + W^X X_t + b`` with its three weighted inputs."""
        try:
            return fast.affine2(W_h, h, W_x, x, b)
        except (AttributeError, TypeError, ValueError):
            raise _affine2_error(W_h, h, W_x, x, b) from None

    def relu(self, z: Tensor) -> Tensor:
        return z.relu()

    def apply(self, f: Callable[[Any], Any], z: Tensor) -> Tensor:
        """An activation (``Tensor.tanh`` …) applied to a node."""
        return f(z)

    def tanh(self, z: Tensor) -> Tensor:
        return z.tanh()

    def sigmoid(self, z: Tensor) -> Tensor:
        return z.sigmoid()

    def gate(self, name: str, node: Any) -> Any:
        """Mark ``node`` as gate ``name`` (i, f, g, o …) for the record and the pictures; returns it."""
        if self.on_gate is not None:
            self.on_gate(name, node)
        return node

    def concat(self, nodes: Sequence[Tensor]) -> Tensor:
        """Join along the last axis: [H_t; H_t^rev]."""
        return concatenate(nodes, axis=-1)

    def embed(self, W: Tensor, ids: np.ndarray) -> Tensor:
        return F._embed(W, ids)

    def cross_entropy(self, o: Tensor, y: np.ndarray) -> Tensor:
        return F._cross_entropy(o, y)

    mse = staticmethod(F._mse)  # be.mse(O, Y): the unroller checked Y's shape up front

    def label(self, node: Tensor, label: str) -> Tensor:
        node.label = label
        return node


_SLOT = Value._grad  # the slot behind Value.grad, which the engine reads and writes


class ParamValue(Value):
    """A Value leaf standing for one number ``param.data[index]`` of a Tensor parameter (``scalar=True``).

    What its gradient slot receives is added into ``param.grad[index]`` as it arrives, so ``u.loss.backward()``
    fills the weights' grads on the Value engine as it does on the Tensor engine (no silent zero grads)."""

    __slots__ = ("param", "index")

    def __init__(self, data: float, param: Tensor, index: tuple[int, ...]) -> None:
        self.param, self.index = param, index
        _SLOT.__set__(self, 0.0)
        super().__init__(data)

    @property
    def _grad(self) -> float:
        return _SLOT.__get__(self)

    @_grad.setter
    def _grad(self, g: float) -> None:
        self.param.grad[self.index] += g - _SLOT.__get__(self)
        _SLOT.__set__(self, g)


class ValueBackend(TensorBackend):
    """One ``Value`` per number: nodes are numpy object arrays of Values (for tiny nets and cross-checks)."""

    scalar = True

    def leaf(self, p: Tensor) -> np.ndarray:
        leaf = np.empty(p.shape, dtype=object)
        for idx, x in np.ndenumerate(p.data):
            leaf[idx] = ParamValue(float(x), p, idx)
        return self.label(leaf, p.label)

    def __init__(self) -> None:
        self.fused = fast.enabled("fused")  # (copies are the method below: Values have no factored copy)
        self.building = nullcontext if not fast.enabled("collector") else fast.collector_paused

    def copy(self, leaf: np.ndarray, label: str) -> np.ndarray:
        return self.label(_map(lambda v: v.identity(), leaf), label)

    def constant(self, x: np.ndarray, label: str) -> np.ndarray:
        return self.label(_map(Value, np.asarray(x, dtype=np.float64)), label)

    def detach(self, node: np.ndarray, label: str) -> np.ndarray:
        return self.label(_map(lambda v: v.detach(), node), label)

    def affine(self, W: np.ndarray, h: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        if _is_ids(h):
            Wh = self.embed(W, h)
        else:
            problem = affine_error(W, h, b)  # numpy would broadcast a wrong bias over Values silently
            if problem is not None:
                raise problem
            Wh = W @ h if h.ndim == 1 else h @ W.T  # numpy's object matmul: Σ of Value products
        return Wh if b is None else Wh + b

    def affine2(self, W_h: np.ndarray, h: np.ndarray, W_x: np.ndarray, x: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The same sums of Value products as ``affine(W_x, x) + affine(W_h, h, b)``."""
        return self.affine(W_x, x) + self.affine(W_h, h, b)

    def relu(self, z: np.ndarray) -> np.ndarray:
        return _map(Value.relu, z)

    def apply(self, f: Callable[[Any], Any], z: np.ndarray) -> np.ndarray:
        """An activation applied to every Value of the array."""
        return _map(f, z)

    def tanh(self, z: np.ndarray) -> np.ndarray:
        return _map(Value.tanh, z)

    def sigmoid(self, z: np.ndarray) -> np.ndarray:
        return _map(Value.sigmoid, z)

    def concat(self, nodes: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate(nodes, axis=-1)  # the very Values: no new nodes

    def embed(self, W: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return W[:, ids].T  # the very Value nodes of those columns: no new nodes, as a one-hot product

    def cross_entropy(self, o: np.ndarray, y: np.ndarray) -> Value:
        rows, ys = (o[None], np.atleast_1d(y)) if o.ndim == 1 else (o, y)
        losses = []
        for row, k in zip(rows, ys):
            m = max(v.data for v in row)  # a constant shift: exp never overflows, gradients unchanged
            lse = _vsum([(v - m).exp() for v in row]).log() + m
            losses.append(lse - row[k])
        return _vsum(losses) * (1.0 / len(losses))

    def mse(self, o: np.ndarray, y: np.ndarray) -> Value:
        sq = [(v - float(t)) ** 2 for v, t in zip(o.reshape(-1), np.asarray(y).reshape(-1))]
        return _vsum(sq) * (1.0 / len(sq))

    def label(self, node: Any, label: str) -> Any:
        if isinstance(node, Value):
            node.label = label
            return node
        for idx, v in np.ndenumerate(node):  # one number: no index (the univariate pictures of the notes)
            v.label = label if node.size == 1 else f"{label}[{','.join(map(str, idx))}]"
        return node


def _is_ids(x: Any) -> bool:
    """Token ids are integer arrays (or one numpy integer); vectors are Tensors or arrays of Values."""
    return isinstance(x, (np.ndarray, np.integer)) and x.dtype.kind in "iu"


def _affine_error(W: Any, h: Any, b: Any) -> CellError:
    """The error for an ``affine`` that failed: what is wrong with W, x or b."""
    return affine_error(W, h, b) or CellError(f"be.affine(W, x, b) failed for W {np.shape(W)}, x {np.shape(h)}, "
                                              f"b {np.shape(b)}")


def _affine2_error(W_h: Any, h: Any, W_x: Any, x: Any, b: Any) -> CellError:
    """The same for ``affine2``: the first of its two products (or the bias) that cannot be formed."""
    pairs = ((W_h, h, b),) if type(x) is not Tensor and _is_ids(x) else ((W_h, h, None), (W_x, x, None), (W_h, h, b))
    for W, v, bias in pairs:
        problem = affine_error(W, v, bias)
        if problem is not None:
            return problem
    return CellError(f"be.affine2 failed for W_h {np.shape(W_h)}, h {np.shape(h)}, W_x {np.shape(W_x)}, "
                     f"x {np.shape(x)}, b {np.shape(b)}")


def _map(fn: Callable[[Any], Any], arr: np.ndarray) -> np.ndarray:
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = fn(v)
    return out


def _vsum(values: Sequence[Any]) -> Any:
    """values[0] + values[1] + …, left to right (no 0 + … node in front)."""
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def _flat(node: Any) -> list[Any]:
    """The graph nodes of a node: itself, or every Value of an object array (token ids: none)."""
    if isinstance(node, np.ndarray):
        return list(node.reshape(-1)) if node.dtype == object else []
    return [] if isinstance(node, np.integer) else [node]


def grad_of(node: Node) -> np.ndarray:
    """The gradient held by a node as an ndarray — for a Tensor, a Value, or an object array of Values."""
    return _as_numbers(node, "grad")


def data_of(node: Node) -> np.ndarray:
    """The value held by a node as an ndarray (see ``grad_of``)."""
    return _as_numbers(node, "data")


def _as_numbers(node: Node, attr: str) -> np.ndarray:
    if isinstance(node, (Tensor, Value)):
        x = getattr(node, attr)
        return np.zeros_like(np.asarray(node.data)) if x is None else np.asarray(x)
    if node.size == 0:
        return np.zeros(node.shape)
    return np.vectorize(lambda v: getattr(v, attr), otypes=[np.float64])(node)


def _t_of(node: Any) -> int:
    """The time step a node was built in (the first Value's, for an array of Values)."""
    return (node.reshape(-1)[0] if isinstance(node, np.ndarray) else node).t
