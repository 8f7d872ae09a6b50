"""`Value`: one float per node, pure Python — the micrograd granularity.

Each node stores the *local derivative* of each edge, ∂out/∂parent, next to the parent itself,
instead of a closure. Backward is then one loop, ``parent.grad += local * out.grad``; nodes hold
no reference cycles; and the pictures can print the local derivative on every edge — the factors
whose product is the vanishing/exploding chain.

    >>> a = Value(2.0, label="a")
    >>> y = (a * a).tanh()
    >>> y.backward()
    >>> round(a.grad, 6)            # d tanh(a²)/da = 2a (1 - tanh²(a²))
    0.005364
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Union

from . import graph
from .graph import STATE

__all__ = ["Value"]

Number = Union[int, float]
# Shared local-derivative tuples: ops whose derivatives are constants allocate nothing for them.
_ONE, _ZERO, _ONE_ONE, _ONE_MINUS_ONE, _MINUS_ONE = (1.0,), (0.0,), (1.0, 1.0), (1.0, -1.0), (-1.0,)


def _check_number(x: object, what: str) -> float:
    """A plain finite real number as a float, or a clear error naming what was received."""
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} must be a real number (int or float), got {type(x).__name__}: {x!r}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{what} must be finite, got {x}")
    return x


class Value:
    """A scalar node of the computation graph.

    >>> x = Value(3.0, label="x")
    >>> y = 2 * x + 1
    >>> y.backward(); x.grad
    2.0
    """

    __slots__ = ("data", "grad", "_parents", "_local", "_op", "label", "t")
    __array_ufunc__ = None  # numpy scalars defer to us: np.float64(2) * v calls v.__rmul__

    def __init__(self, data: Number, label: str | None = None) -> None:
        self.data = _check_number(data, "Value(data)")
        self.grad = 0.0
        self._parents: tuple[Value, ...] = ()
        self._local: tuple[float, ...] = ()
        self._op = ""
        self.label = label
        self.t = STATE.t

    # -- arithmetic: one obvious pattern per op -- data, parents, local derivatives --------------
    def __add__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _node(self.data + other.data, (self, other), _ONE_ONE, "+")
        if type(other) is float or isinstance(other, Real):  # the float test first: isinstance(…, Real) is slow
            return _node(self.data + other, (self,), _ONE, "+")
        return NotImplemented

    def __mul__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _node(self.data * other.data, (self, other), (other.data, self.data), "*")
        if type(other) is float or isinstance(other, Real):
            return _node(self.data * other, (self,), (float(other),), "*")
        return NotImplemented

    def __pow__(self, k: Number) -> Value:
        if type(k) is not int and type(k) is not float:
            if isinstance(k, Value):
                raise TypeError("Value ** Value is not supported: the exponent must be a plain number")
            if not isinstance(k, Real):
                return NotImplemented
        x = self.data
        if x == 0.0 and k < 1:
            raise ZeroDivisionError(f"0 ** {k}: the derivative k·x^(k-1) is undefined at x = 0")
        out = x**k
        if isinstance(out, complex):
            raise ValueError(f"{x} ** {k} is not a real number (negative base, fractional exponent)")
        return _node(out, (self,), (k * x ** (k - 1),), f"**{k:g}")

    def __truediv__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            if other.data == 0.0:
                raise ZeroDivisionError(f"division by a Value that is 0 (label={other.label!r})")
            inv = 1.0 / other.data
            return _node(self.data * inv, (self, other), (inv, -self.data * inv * inv), "/")
        if isinstance(other, Real):
            return self * (1.0 / other)
        return NotImplemented

    def __rtruediv__(self, other: Number) -> Value:  # 2 / v
        if not isinstance(other, Real):
            return NotImplemented
        return other * self**-1

    def __neg__(self) -> Value:
        return _node(-self.data, (self,), _MINUS_ONE, "neg")

    def __sub__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _node(self.data - other.data, (self, other), _ONE_MINUS_ONE, "-")
        if type(other) is float or isinstance(other, Real):
            return _node(self.data - other, (self,), _ONE, "-")
        return NotImplemented

    def __rsub__(self, other: Number) -> Value:  # 1 - v
        if not isinstance(other, Real):
            return NotImplemented
        return _node(other - self.data, (self,), _MINUS_ONE, "-")

    __radd__ = __add__
    __rmul__ = __mul__

    # -- functions ------------------------------------------------------------------------------
    def exp(self) -> Value:
        out = math.exp(self.data) if self.data < 709.0 else math.inf
        return _node(out, (self,), (out,), "exp")

    def log(self) -> Value:
        if self.data <= 0.0:
            raise ValueError(f"log of a non-positive Value {self.data} (label={self.label!r})")
        return _node(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self) -> Value:
        out = math.tanh(self.data)
        return _node(out, (self,), (1.0 - out * out,), "tanh")

    def sigmoid(self) -> Value:
        x = self.data
        out = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return _node(out, (self,), (out * (1.0 - out),), "sigmoid")

    def relu(self) -> Value:
        if self.data > 0.0:
            return _node(self.data, (self,), _ONE, "relu")
        return _node(0.0, (self,), _ZERO, "relu")

    def identity(self) -> Value:
        """A new node with the same value; used for the per-step copies ``W^H_t`` of a weight."""
        return _node(self.data, (self,), _ONE, "copy")

    # -- graph -----------------------------------------------------------------------------------
    def backward(self, grad: float = 1.0) -> None:
        """Fill ``.grad`` of every node this one depends on with d(self)/d(node)."""
        graph.backward(self, _check_number(grad, "backward(grad)"), 0.0)

    def _backward(self) -> None:
        g = self.grad
        for parent, local in zip(self._parents, self._local):
            parent.grad += local * g

    def detach(self) -> Value:
        """A leaf with the same value and no history: no gradient flows back through it."""
        return _node(self.data, (), (), "detach")

    def zero_grad(self) -> None:
        self.grad = 0.0

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return float(self.data)

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def _node(data: float, parents: tuple[Value, ...], local: tuple[float, ...], op: str) -> Value:
    """An op's result: trusted data, no validation (the hot path of every forward pass)."""
    v = Value.__new__(Value)
    v.data = data
    v.grad = 0.0
    if STATE.grad_enabled:
        v._parents = parents
        v._local = local
    else:
        v._parents = v._local = ()
    v._op = op
    v.label = None
    v.t = STATE.t
    return v
