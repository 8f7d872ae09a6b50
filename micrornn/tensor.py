"""`Tensor`: one numpy float64 array per node, with broadcasting-aware vector-Jacobian products.

Forward ops live on the class; the backward rule of every op lives in one plain table, ``VJP``,
keyed by the op's name. A rule gets the gradient of the output ``g``, the output node and which
operand it is asked about (0, 1, …), and returns the gradient for that operand; the engine then
sums it back to the operand's shape (undoing numpy broadcasting) and accumulates it.

A per-step copy ``W.identity()`` is a plain node (rule ``"copy": g``): backprop gives it that step's
contribution dL/dW_t, and the weight, a leaf reached through every copy, adds them up in ``_receive``:
``dL/dW = Σ_t dL/dW_t`` is nothing but accumulation. (``fast.py`` keeps a copy's gradient as factors
instead; ``with mr.fast.off():`` runs this reading path.)

Nodes keep references to the arrays they read (a per-step copy shares its weight's array), so an
in-place step between forward and backward would feed backward the new numbers. Assigning ``.data``
(``W.data -= lr * W.grad`` included) or ``copy_`` marks the graphs that read the old numbers stale,
and ``backward()`` on one raises — the rule the Value engine follows too (see ``graph``).

    >>> import numpy as np
    >>> W = Tensor(np.ones((2, 3)), label="W")
    >>> x = Tensor([1.0, 2.0, 3.0], label="x")
    >>> (W @ x).sum().backward()
    >>> W.grad
    array([[1., 2., 3.],
           [1., 2., 3.]])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from numbers import Real
from typing import Any, Union

import numpy as np

from . import graph
from .flags import exponent, flag
from .graph import EDIT_CLOCK, current

__all__ = ["Tensor", "concatenate", "stack", "VJP"]

ArrayLike = Union[np.ndarray, Sequence, float, int]
Operand = Union["Tensor", np.ndarray, float, int]


def as_array(data: Any, what: str, finite: bool = True) -> np.ndarray:
    """A float64 array owned by the caller, or a clear error naming what was received."""
    if isinstance(data, Tensor):
        raise TypeError(f"{what}: got a Tensor; use t.detach() (shares data) or Tensor(t.data) (copies)")
    try:
        arr = np.array(data)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{what} must be a rectangular array of numbers: {e}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold real numbers, got dtype {arr.dtype} from {type(data).__name__}")
    arr = arr.astype(np.float64, copy=False)
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{what} must be finite; it holds {np.count_nonzero(~np.isfinite(arr))} inf/nan entries")
    return arr


def _checked_grad(node: Tensor, g: Any) -> np.ndarray | None:
    """What ``node.grad = g`` stores: None, or a float64 array of the node's shape (the array itself when
    it is one already); anything else is refused here, not later in an optimiser step."""
    if g is None:
        return None
    name = f"{node.label}.grad" if node.label else "Tensor.grad"
    if isinstance(g, Tensor):
        raise TypeError(f"{name} must be an array of numbers, got a Tensor; assign its .data")
    arr = g if type(g) is np.ndarray and g.dtype == np.float64 else as_array(g, name, finite=False)
    if arr.shape != node.shape:
        raise ValueError(f"{name}: the assigned grad has data of a different size, shape {arr.shape}, "
                         f"where the Tensor's data has shape {node.shape}")
    return arr


class Tensor:
    """A node holding an ndarray; ``.grad`` has the same shape after ``backward()``.

    >>> a = Tensor([1.0, -2.0], label="a")
    >>> (a * a).sum().backward(); a.grad
    array([ 2., -4.])
    """

    __slots__ = ("_data", "_grad", "_parents", "_which", "_ctx", "_op", "label", "t", "_mark", "_stamp")
    __array_ufunc__ = None  # ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, data: ArrayLike, label: str | None = None) -> None:
        self._data = as_array(data, "Tensor(data)")
        self._grad: np.ndarray | None = np.zeros(self._data.shape)  # the engine's slot; users go through .grad
        self._parents: tuple[Tensor, ...] = ()
        self._which: tuple[int, ...] = ()
        self._ctx: Any = None
        self._op: str | None = ""
        self.label = label
        self.t = current()[1]
        self._mark = None
        self._stamp = EDIT_CLOCK[0]

    @property
    def data(self) -> np.ndarray:
        """The array this node holds.

        Assigning it — ``W.data = new`` or an in-place ``W.data -= lr * W.grad`` (an optimiser
        step) — makes every graph computed from the old numbers stale: backward() on one raises
        (PyTorch's rule). Writing *into* the array (``W.data[...] = v``) goes unseen; see ``copy_``.
        """
        return self._data

    @data.setter
    def data(self, values: ArrayLike) -> None:
        if values is not self._data:  # W.data -= d changed the array in place: nothing to convert
            self._data = as_array(values, "Tensor.data", finite=False)
        self._stamp = graph.edited()

    @property
    def grad(self) -> np.ndarray | None:
        """dL/d(self) after ``backward()``: an ndarray of this Tensor's shape (None: no gradient yet).

        Assigning it is checked, as in PyTorch: numbers only, and the shape of ``.data``. (The engine
        writes the slot ``_grad`` itself, so backward pays nothing for the check.)
        """
        return self._grad

    @grad.setter
    def grad(self, g: ArrayLike | None) -> None:
        self._grad = _checked_grad(self, g)

    def copy_(self, values: ArrayLike) -> Tensor:
        """Overwrite the data in place with ``values`` (broadcast to this shape), as ``torch.Tensor.copy_``.

        Unlike ``W.data[...] = values`` the change is recorded: a graph computed from the old numbers
        refuses ``backward()`` instead of mixing old and new values. Returns ``self``.

        >>> W = Tensor([[1.0, 2.0]])
        >>> y = (W * W).sum()
        >>> W.copy_([[0.0, 0.5]]).data
        array([[0. , 0.5]])
        >>> y.backward()
        Traceback (most recent call last):
        RuntimeError: backward(): a leaf of shape (1, 2) had its .data assigned after a '*' node of shape (1, 2) ...
        """
        src = as_array(values, "copy_(values)")
        try:
            self._data[...] = src
        except ValueError:
            raise ValueError(f"copy_(values): shape {src.shape} does not broadcast to {self.shape}") from None
        self._stamp = graph.edited()
        return self

    # -- shape ------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        return len(self._data)

    def item(self) -> float:
        if self._data.size != 1:
            raise ValueError(f"item() needs a Tensor with one element, got shape {self.shape}")
        return float(self._data.reshape(()))

    def numpy(self) -> np.ndarray:
        return self._data

    # -- elementwise binary ops (numpy broadcasting) ----------------------------------------------
    def _binary(self, other: Operand, op: str, fn: Callable, reflected: bool = False) -> Tensor:
        if isinstance(other, Tensor):
            x, y, parents, which = self._data, other._data, (self, other), (0, 1)
        elif isinstance(other, (Real, np.ndarray)) and not isinstance(other, bool):
            c = np.asarray(other, dtype=np.float64)  # a constant: no graph node for it
            x, y, which = (c, self._data, (1,)) if reflected else (self._data, c, (0,))
            parents = (self,)
        else:
            return NotImplemented
        if op == "/" and not y.all():
            raise ZeroDivisionError(f"division by a Tensor with {y.size - np.count_nonzero(y)} zero entries")
        try:
            out = fn(x, y)
        except ValueError:
            raise ValueError(f"{op}: shapes {x.shape} and {y.shape} do not broadcast together "
                             "(trailing dimensions must be equal or 1)") from None
        return _node(out, parents, which, (x, y), op)

    def __add__(self, other: Operand) -> Tensor:
        return self._binary(other, "+", np.add)

    def __radd__(self, other: Operand) -> Tensor:
        return self._binary(other, "+", np.add, reflected=True)

    def __sub__(self, other: Operand) -> Tensor:
        return self._binary(other, "-", np.subtract)

    def __rsub__(self, other: Operand) -> Tensor:
        return self._binary(other, "-", np.subtract, reflected=True)

    def __mul__(self, other: Operand) -> Tensor:
        return self._binary(other, "*", np.multiply)

    def __rmul__(self, other: Operand) -> Tensor:
        return self._binary(other, "*", np.multiply, reflected=True)

    def __truediv__(self, other: Operand) -> Tensor:
        return self._binary(other, "/", np.divide)

    def __rtruediv__(self, other: Operand) -> Tensor:
        return self._binary(other, "/", np.divide, reflected=True)

    def __pow__(self, k: float) -> Tensor:
        """``x ** k`` for a plain number ``k``, with ``Value.__pow__``'s rules at 0: ``0 ** 0 = 1`` with
        derivative 0 (as PyTorch); an infinite derivative (0 ** k for k < 1, k ≠ 0) raises."""
        exponent(k, Tensor)  # a plain finite number (flags.py: the same rule as Value's)
        x = self._data
        if k % 1 != 0 and (x < 0).any():
            raise ValueError(f"Tensor ** {k}: a fractional power of a negative entry is not real")
        if k < 1 and k != 0 and not x.all():
            raise ZeroDivisionError(f"Tensor ** {k}: the derivative k·x^(k-1) is infinite at x = 0")
        return _node(x**k, (self,), (0,), (x, k), "**")

    def __neg__(self) -> Tensor:
        return _node(-self._data, (self,), (0,), None, "neg")

    def __matmul__(self, other: Tensor) -> Tensor:
        if not isinstance(other, Tensor):
            return NotImplemented
        a, b = self._data, other._data
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"@ needs at least 1-D operands, got shapes {a.shape} and {b.shape}")
        k_right = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != k_right:
            raise ValueError(
                f"@: shapes {a.shape} and {b.shape} do not match: the last dim of the left ({a.shape[-1]}) "
                f"must equal the {'only' if b.ndim == 1 else 'second-to-last'} dim of the right ({k_right})"
            )
        try:
            out = a @ b
        except ValueError:
            raise ValueError(f"@: batch dimensions of shapes {a.shape} and {b.shape} do not broadcast") from None
        return _node(out, (self, other), (0, 1), (a, b), "@")

    # -- elementwise functions --------------------------------------------------------------------
    def exp(self) -> Tensor:
        return _node(np.exp(self._data), (self,), (0,), None, "exp")

    def log(self) -> Tensor:
        x = self._data
        if (x <= 0).any():
            raise ValueError(f"log of a Tensor with {np.count_nonzero(x <= 0)} non-positive entries")
        return _node(np.log(x), (self,), (0,), x, "log")

    def tanh(self) -> Tensor:
        return _node(np.tanh(self._data), (self,), (0,), None, "tanh")

    def sigmoid(self) -> Tensor:
        x = self._data
        e = np.exp(-np.abs(x))  # stable on both sides: 1 / (1 + e^-x) for x ≥ 0, e^x / (1 + e^x) below
        out = np.where(x >= 0, 1.0, e)
        out /= 1.0 + e
        return _node(out, (self,), (0,), None, "sigmoid")

    def relu(self) -> Tensor:
        """max(x, 0) with PyTorch's conventions: relu'(0) = 0, and NaN passes on (derivative 1)."""
        x = self._data
        return _node(np.maximum(x, 0.0), (self,), (0,), ~(x <= 0), "relu")

    def identity(self) -> Tensor:
        """A new node sharing the data: the per-step copy ``W^H_t`` of a weight (rule ``"copy": g``).

        >>> W = Tensor(np.eye(2), label="W^H")
        >>> W_1, W_2 = W.identity(), W.identity()
        >>> (W_1 @ Tensor([1.0, 2.0]) + W_2 @ Tensor([3.0, 0.0])).sum().backward()
        >>> W_1.grad.tolist(), W.grad.tolist()
        ([[1.0, 2.0], [1.0, 2.0]], [[4.0, 2.0], [4.0, 2.0]])
        """
        return _copy(self, None)

    # -- reductions and shape ops -----------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        keepdims = flag(keepdims, "keepdims", "Tensor.sum")
        return _node(self._data.sum(axis=axis, keepdims=keepdims), (self,), (0,), (axis, keepdims), "sum")

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        keepdims = flag(keepdims, "keepdims", "Tensor.mean")
        out = self._data.mean(axis=axis, keepdims=keepdims)
        return _node(out, (self,), (0,), (axis, keepdims), "mean")

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        new = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        try:
            out = self._data.reshape(new)
        except ValueError:
            raise ValueError(f"cannot reshape a Tensor of shape {self.shape} ({self.size} entries) to {new}") from None
        return _node(out, (self,), (0,), None, "reshape")

    def transpose(self, *axes: int) -> Tensor:
        axes_t = tuple(axes) if axes else tuple(range(self.ndim))[::-1]
        if sorted(axes_t) != list(range(self.ndim)):
            raise ValueError(f"transpose axes {axes_t} are not a permutation of the {self.ndim} axes of {self.shape}")
        return _node(self._data.transpose(axes_t), (self,), (0,), axes_t, "transpose")

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, Tensor):
            raise TypeError("index a Tensor with ints, slices or integer arrays, not with a Tensor")
        try:
            out = self._data[index]
        except IndexError as e:
            raise IndexError(f"index {index!r} is invalid for a Tensor of shape {self.shape}: {e}") from None
        # an integer array (or list) may repeat an entry: backward must accumulate (np.add.at);
        # ints and slices pick each entry once, and the gradient is a plain assignment
        parts = index if type(index) is tuple else (index,)
        repeats = any(isinstance(i, (list, np.ndarray)) for i in parts)
        return _node(np.array(out, dtype=np.float64), (self,), (0,), (index, repeats), "[]")

    # -- graph ------------------------------------------------------------------------------------
    def backward(self, grad: ArrayLike | None = None) -> None:
        """Fill ``.grad`` of every node this one depends on. Starts from a scalar unless ``grad`` is given."""
        seed = np.ones_like(self._data) if grad is None and self._data.size == 1 else _seed(self, grad)
        SWEEP.get()(self, seed)  # graph.backward; fast.py's factored sweep when its tricks are on

    def _backward(self) -> None:
        """The chain rule at this node: each parent receives ``rule(g)``, summed back to its shape."""
        rule, g = VJP[self._op], self._grad
        for parent, which in zip(self._parents, self._which):
            parent._receive(_unbroadcast(rule(g, self, which), parent._data.shape))

    def _receive(self, g: np.ndarray) -> None:
        """Add one path's gradient: a weight reached through its per-step copies sums Σ_t dL/dW_t here."""
        if self._grad is None:  # first contribution: take it (a leaf gets its own array, added into later)
            self._grad = g if self._parents else np.array(g)
        elif self._parents:
            self._grad = self._grad + g  # never in place: grads of inner nodes may be shared
        else:
            self._grad += g  # a leaf accumulates in place, as PyTorch's do

    def detach(self) -> Tensor:
        """A leaf sharing the data, with no history: no gradient flows back through it."""
        return constant(self._data, None)

    def zero_grad(self) -> None:
        self._grad = np.zeros(self._data.shape)

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Tensor({name}shape={self.shape}, data={_short(self._data)}, grad={_short(self.grad)})"


def _seed(root: Tensor, grad: ArrayLike | None) -> np.ndarray:
    """dL/d(root) for ``root.backward(grad)``: ``grad`` checked to be an array of the root's shape."""
    if grad is None:
        raise ValueError(f"backward() starts from a scalar, but this Tensor has shape {root.shape}; "
                         "reduce it first (e.g. .sum()) or pass grad= an array of that shape")
    seed = as_array(grad, "backward(grad)")
    if seed.shape != root.shape:
        raise ValueError(f"backward(grad): grad has shape {seed.shape}, expected {root.shape}")
    return seed


def _short(a: np.ndarray | None) -> str:
    if a is None:
        return "None"
    return np.array2string(np.asarray(a), precision=4, threshold=6, edgeitems=2, separator=", ").replace("\n", "")


_new = object.__new__  # what Tensor.__new__ resolves to, without the lookup on every node


def _node(data: np.ndarray, parents: tuple, which: tuple, ctx: Any, op: str) -> Tensor:
    """An op's result: trusted data, no validation (the hot path of every forward pass: one assignment a
    line, as a tuple assignment of five costs ~30% more per node)."""
    v = _new(Tensor)
    v._data = data
    v._grad = None
    grad_enabled, v.t = current()
    v.label = None
    v._mark = None
    v._stamp = EDIT_CLOCK[0]
    if not grad_enabled:
        return _no_graph(v)
    v._parents = parents
    v._which = which
    v._ctx = ctx
    v._op = op
    return v


def _no_graph(v: Tensor) -> Tensor:
    """``_node``'s result under ``no_grad()``: a leaf (no parents) with a grad of its own, marked as computed
    under no_grad (``_op`` None, so backward() refuses to start from it)."""
    v._parents = v._which = ()
    v._ctx = None
    v._op = None
    v._grad = np.zeros(v._data.shape)
    return v


def constant(data: Any, label: str | None) -> Tensor:
    """A leaf holding ``data`` itself when it is a float64 array (the unroller's X_t, checked up front;
    ``detach()``); anything else (a cell's ``be.constant(0.5)``) goes through ``Tensor``'s own checks."""
    if type(data) is not np.ndarray or data.dtype != np.float64:
        return Tensor(data, label=label)
    out = _node(data, (), (), None, "")
    out._op = ""  # a leaf the user asked for, also under no_grad(): backward() may start here
    out._grad, out.label = np.zeros(data.shape), label
    return out


def _copy(W: Tensor, label: str | None) -> Tensor:
    """``W.identity()`` labelled ``label``: the per-step copy W_t, a node that shares W's array."""
    c = _node(W._data, (W,), (0,), None, "copy")
    c.label = label
    return c


# The sweep behind ``Tensor.backward()``, per thread like the fast switch: the spine's ``graph.backward``.
# fast.py replaces it at import with one whose default follows MICRORNN_REFERENCE, and ``fast.off()`` sets the
# spine's back (``fast.off("copies")`` alone: its one-pass sweep, unless "walk" is off too).
SWEEP: ContextVar[Callable[[Tensor, np.ndarray], Any]] = ContextVar("micrornn_sweep", default=graph.backward)


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes numpy broadcast, so it has ``shape`` again."""
    if g.shape == shape:
        return g
    if g.ndim > len(shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; the gradient is split back."""
    tensors = tensor_list(tensors, "concatenate")
    try:
        out = np.concatenate([t._data for t in tensors], axis=axis)
    except (ValueError, np.exceptions.AxisError) as e:
        raise ValueError(f"concatenate: shapes {[t.shape for t in tensors]} along axis {axis}: {e}") from None
    splits = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return _node(out, tuple(tensors), tuple(range(len(tensors))), (axis, splits), "concatenate")


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    tensors = tensor_list(tensors, "stack")
    try:
        out = np.stack([t._data for t in tensors], axis=axis)
    except (ValueError, np.exceptions.AxisError) as e:
        raise ValueError(f"stack: shapes {[t.shape for t in tensors]} along axis {axis}: {e}") from None
    return _node(out, tuple(tensors), tuple(range(len(tensors))), axis, "stack")


def tensor_list(items: Iterable[Tensor], what: str, noun: str = "item") -> list[Tensor]:
    """``items`` as a non-empty list of Tensors, or an error naming the first item that is not one."""
    tensors = list(items)
    if not tensors:
        raise ValueError(f"{what} needs at least one Tensor")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}: {noun} {i} is a {type(t).__name__}, expected a Tensor")
    return tensors


# -- vector-Jacobian products: op name -> rule(g, out, which) -> gradient of operand `which` -------
def _vjp_matmul(g: np.ndarray, out: Tensor, which: int) -> Any:
    a, b = out._ctx
    if a.ndim == 2 and b.ndim == 1:  # W @ h, the RNN's matrix-vector product
        return g[:, None] * b if which == 0 else a.T @ g  # the outer product g bᵀ
    # promote 1-D operands to matrices, as numpy's matmul does, then drop the added axis again
    if b.ndim == 1:
        g = g[..., None]
    if a.ndim == 1:
        g = np.expand_dims(g, -2)
    if which == 0:
        da = g @ np.swapaxes(b if b.ndim > 1 else b[:, None], -1, -2)
        return da[..., 0, :] if a.ndim == 1 else da
    db = np.swapaxes(a if a.ndim > 1 else a[None, :], -1, -2) @ g
    return db[..., 0] if b.ndim == 1 else db


def _vjp_pow(g: np.ndarray, out: Tensor, which: int) -> np.ndarray:
    x, k = out._ctx
    if k == 0:  # x**0 is the constant 1: derivative 0, even where x**-1 is inf or NaN (as PyTorch)
        return g * 0.0
    return g * k * x ** (k - 1)


def _vjp_sum(g: np.ndarray, out: Tensor, which: int) -> np.ndarray:
    axis, keepdims = out._ctx
    shape = out._parents[0]._data.shape
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape).copy()


def _vjp_mean(g: np.ndarray, out: Tensor, which: int) -> np.ndarray:
    axis, keepdims = out._ctx  # as "sum", each entry's share 1/n of the entries averaged
    x = out._parents[0]._data
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g * (out._data.size / x.size), x.shape).copy()


def _vjp_getitem(g: np.ndarray, out: Tensor, which: int) -> np.ndarray:
    index, repeats = out._ctx
    dx = np.zeros(out._parents[0]._data.shape)
    if repeats:
        np.add.at(dx, index, g)  # repeated indices accumulate
    else:
        dx[index] = g
    return dx


def _vjp_concatenate(g: np.ndarray, out: Tensor, which: int) -> np.ndarray:
    axis, splits = out._ctx
    return np.split(g, splits, axis=axis)[which]


VJP: dict[str, Callable[[np.ndarray, Tensor, int], np.ndarray]] = {
    "+": lambda g, out, which: g,
    "-": lambda g, out, which: g if which == 0 else -g,
    "*": lambda g, out, which: g * out._ctx[1 - which],
    "/": lambda g, out, which: g / out._ctx[1] if which == 0 else -g * out._data / out._ctx[1],
    "**": _vjp_pow,
    "neg": lambda g, out, which: -g,
    "@": _vjp_matmul,
    "exp": lambda g, out, which: g * out._data,
    "log": lambda g, out, which: g / out._ctx,
    "tanh": lambda g, out, which: g * (1.0 - out._data * out._data),
    "sigmoid": lambda g, out, which: g * (out._data * (1.0 - out._data)),  # σ(1 − σ) first, as Value's edge
    "relu": lambda g, out, which: g * out._ctx,
    "copy": lambda g, out, which: g,
    "sum": _vjp_sum,
    "mean": _vjp_mean,
    "reshape": lambda g, out, which: g.reshape(out._parents[0]._data.shape),
    "transpose": lambda g, out, which: g.transpose(np.argsort(out._ctx)),
    "[]": _vjp_getitem,
    "concatenate": _vjp_concatenate,
    "stack": lambda g, out, which: np.take(g, which, axis=out._ctx),
}
