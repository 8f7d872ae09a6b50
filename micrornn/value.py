"""`Value`: one float per node, pure Python — the micrograd granularity.

Each node stores the *local derivative* of each edge, ∂out/∂parent, next to the parent itself,
instead of a closure. Backward is then ``parent.grad += local * out.grad`` per edge; nodes hold
no reference cycles; and the pictures can print the local derivative on every edge — the factors
whose product is the vanishing/exploding chain.

Every Value op has one or two inputs, so a node keeps its parents in two slots, ``_p0`` and ``_p1``
(``None`` when absent), and their local derivatives in ``_d0`` and ``_d1``. ``node._parents`` gives
the parents as a tuple in argument order, as the graph protocol asks. Storing that tuple instead
would make every node two objects for the allocator and the garbage collector to handle: a fifth
of the engine's time on long sequences (see ``benchmarks/bench_engine.py``).

Local derivatives are numbers fixed by the forward pass, so a change of ``w.data`` afterwards could
not reach them; the Tensor engine would read the new array. Both engines therefore follow one rule
(``graph``'s docstring): assigning ``.data`` makes the graphs that read the old number stale, and
``backward()`` on one raises. Ops agree with ``Tensor``'s numbers at float64's edges as well
(``exp`` overflows to inf, ``relu`` passes NaN on, ``**`` gives ±inf instead of OverflowError).

    >>> a = Value(2.0, label="a")
    >>> y = (a * a).tanh()
    >>> y.backward()
    >>> round(a.grad, 6)            # d tanh(a²)/da = 2a (1 - tanh²(a²))
    0.005364
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextvars import ContextVar
from numbers import Real
from typing import Any, Union

from . import graph
from .flags import exponent
from .graph import EDIT_CLOCK, current

__all__ = ["Value"]

Number = Union[int, float]


def _check_number(x: object, what: str) -> float:
    """A plain finite real number as a float, or a clear error naming what was received."""
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} must be a real number (int or float), got {type(x).__name__}: {x!r}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{what} must be finite, got {x}")
    return x


def _power(x: float, k: float) -> float:
    """``x ** k`` as numpy computes it: ±inf on overflow, where Python's float ** raises OverflowError."""
    try:
        return x**k
    except OverflowError:
        negative = x < 0 and k % 2 == 1  # a negative base to an odd integer power
        return -math.inf if negative else math.inf


# The sweep behind ``Value.backward()``, per thread like the fast switch: the spine's ``graph.backward``.
# fast.py installs its own default at import and sets this back to the spine's in ``fast.off("walk")``.
SWEEP: ContextVar[Callable[[Any, float, float], Any]] = ContextVar("micrornn_value_sweep", default=graph.backward)


class Value:
    """A scalar node of the computation graph.

    >>> x = Value(3.0, label="x")
    >>> y = 2 * x + 1
    >>> y.backward(); x.grad
    2.0
    """

    __slots__ = ("_data", "_grad", "_p0", "_p1", "_d0", "_d1", "_op", "label", "t", "_mark", "_stamp")
    __array_ufunc__ = None  # numpy scalars defer to us: np.float64(2) * v calls v.__rmul__

    def __init__(self, data: Number, label: str | None = None) -> None:
        self._data = _check_number(data, "Value(data)")
        self._grad = 0.0  # the engine reads and writes the slot; users go through the checked .grad
        self._p0: Value | None = None  # first and second parent (None: absent)
        self._p1: Value | None = None
        self._d0 = self._d1 = 0.0  # ∂self/∂_p0 and ∂self/∂_p1
        self._op: str | None = ""
        self.label = label
        self.t = current()[1]
        self._mark = None
        self._stamp = EDIT_CLOCK[0]

    @property
    def data(self) -> float:
        """The number this node holds."""
        return self._data

    @data.setter
    def data(self, x: Number) -> None:
        # an assignment (e.g. ``w.data -= lr * w.grad``) makes every graph computed from the old
        # number stale: backward() on one raises, as PyTorch does after an in-place change
        if isinstance(x, bool) or not isinstance(x, Real):
            raise TypeError(f"Value.data must be a real number (int or float), got {type(x).__name__}: {x!r}")
        self._data = float(x)
        self._stamp = graph.edited()

    @property
    def grad(self) -> float:
        """d(root)/d(self) after ``root.backward()``."""
        return self._grad

    @grad.setter
    def grad(self, g: Number) -> None:
        if isinstance(g, bool) or not isinstance(g, Real):
            name = self.label or "Value"
            raise TypeError(f"{name}.grad must be a real number (int or float), got {type(g).__name__}: {g!r}")
        self._grad = float(g)

    # -- arithmetic: one obvious pattern per op -- data, parents, local derivatives --------------
    def __add__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _node(self._data + other._data, self, other, 1.0, 1.0, "+")
        if type(other) is float or isinstance(other, Real):  # the float test first: isinstance(…, Real) is slow
            return _node(self._data + other, self, None, 1.0, 0.0, "+")
        return NotImplemented

    def __mul__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _node(self._data * other._data, self, other, other._data, self._data, "*")
        if type(other) is float or isinstance(other, Real):
            d = other if type(other) is float else float(other)  # the local derivative is always a float
            return _node(self._data * other, self, None, d, 0.0, "*")
        return NotImplemented

    def __pow__(self, k: Number) -> Value:
        """``x ** k`` for a plain number ``k``; overflow gives ±inf, as in numpy and ``Tensor``.

        At x = 0 (as PyTorch): ``0 ** 0 = 1`` with derivative 0, since x**0 is the constant 1;
        for k ≥ 1 the derivative k·0^(k-1) is 1 (k = 1) or 0. For k < 1 (k ≠ 0) it would be
        infinite, and that raises ZeroDivisionError rather than passing inf on.
        """
        if type(k) is not int:
            exponent(k, Value)  # a plain finite number (flags.py: the same rule as Tensor's)
        x = self._data
        if k == 2:  # the square of every squared-error loss: worth a path without the general power
            return _node(x * x, self, None, 2.0 * x, 0.0, "**2")
        if k == 0:  # x**0 = 1 for every x, NaN and 0 included (C's pow, numpy, PyTorch)
            return _node(1.0, self, None, 0.0, 0.0, f"**{k}")
        if x == 0.0 and k < 1:
            raise ZeroDivisionError(f"0 ** {k}: the derivative k·x^(k-1) is infinite at x = 0")
        if x < 0.0 and k % 1 != 0:
            raise ValueError(f"{x} ** {k} is not a real number (negative base, fractional exponent)")
        return _node(_power(x, k), self, None, k * _power(x, k - 1), 0.0, f"**{k}")

    def __truediv__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            y = other._data
            if y == 0.0:
                raise ZeroDivisionError(f"division by a Value that is 0 (label={other.label!r})")
            out = self._data / y
            return _node(out, self, other, 1.0 / y, -out / y, "/")
        if type(other) is float or isinstance(other, Real):
            if other == 0:
                raise ZeroDivisionError(f"division of a Value (label={self.label!r}) by the number 0")
            return _node(self._data / other, self, None, 1.0 / other, 0.0, "/")
        return NotImplemented

    def __rtruediv__(self, other: Number) -> Value:  # 2 / v
        if not isinstance(other, Real):
            return NotImplemented
        x = self._data
        if x == 0.0:
            raise ZeroDivisionError(f"division of {other} by a Value that is 0 (label={self.label!r})")
        out = other / x
        return _node(out, self, None, -out / x, 0.0, "/")

    def __neg__(self) -> Value:
        return _node(-self._data, self, None, -1.0, 0.0, "neg")

    def __sub__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _node(self._data - other._data, self, other, 1.0, -1.0, "-")
        if type(other) is float or isinstance(other, Real):
            return _node(self._data - other, self, None, 1.0, 0.0, "-")
        return NotImplemented

    def __rsub__(self, other: Number) -> Value:  # 1 - v
        if not isinstance(other, Real):
            return NotImplemented
        return _node(other - self._data, self, None, -1.0, 0.0, "-")

    __radd__ = __add__
    __rmul__ = __mul__

    # -- functions ------------------------------------------------------------------------------
    def exp(self) -> Value:
        try:
            out = math.exp(self._data)
        except OverflowError:  # past x ≈ 709.78; numpy (and Tensor.exp) give inf, and so do we
            out = math.inf
        return _node(out, self, None, out, 0.0, "exp")

    def log(self) -> Value:
        if self._data <= 0.0:
            raise ValueError(f"log of a non-positive Value {self._data} (label={self.label!r})")
        return _node(math.log(self._data), self, None, 1.0 / self._data, 0.0, "log")

    def tanh(self) -> Value:
        out = math.tanh(self._data)
        return _node(out, self, None, 1.0 - out * out, 0.0, "tanh")

    def sigmoid(self) -> Value:
        x = self._data
        # exp of a non-positive number on both branches: never overflows, for any |x|
        out = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return _node(out, self, None, out * (1.0 - out), 0.0, "sigmoid")

    def relu(self) -> Value:
        """max(x, 0) with PyTorch's conventions: relu'(0) = 0, and NaN passes on (derivative 1)."""
        x = self._data
        if x <= 0.0:
            return _node(0.0, self, None, 0.0, 0.0, "relu")
        return _node(x, self, None, 1.0, 0.0, "relu")  # x > 0, or NaN (which compares false)

    def identity(self) -> Value:
        """A new node with the same value; used for the per-step copies ``W^H_t`` of a weight."""
        return _node(self._data, self, None, 1.0, 0.0, "copy")

    # -- graph -----------------------------------------------------------------------------------
    def backward(self, grad: float = 1.0) -> None:
        """Fill ``.grad`` of every node this one depends on with d(self)/d(node)."""
        SWEEP.get()(self, _check_number(grad, "backward(grad)"), 0.0)  # graph.backward (fast.py: one pass)

    def _backward(self) -> None:
        g = self._grad
        self._p0._grad += self._d0 * g
        if self._p1 is not None:  # a + a has two edges to a: both add
            self._p1._grad += self._d1 * g

    @property
    def _parents(self) -> tuple[Value, ...]:
        """The nodes this one was computed from, in argument order (``a + a`` gives ``(a, a)``)."""
        if self._p1 is not None:
            return (self._p0, self._p1)
        return () if self._p0 is None else (self._p0,)

    @property
    def _local(self) -> tuple[float, ...]:
        """∂self/∂parent for each parent, in order: the labels of this node's incoming edges."""
        return (self._d0, self._d1)[: len(self._parents)]

    def detach(self) -> Value:
        """A leaf with the same value and no history: no gradient flows back through it."""
        out = _node(self._data, None, None, 0.0, 0.0, "")
        out._op = ""  # a leaf the user asked for, also under no_grad(): backward() may start here
        return out

    def zero_grad(self) -> None:
        self._grad = 0.0

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return float(self.data)

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


_new = object.__new__  # what Value.__new__ resolves to, without the lookup on every node


def _node(data: float, p0: Value | None, p1: Value | None, d0: float, d1: float, op: str) -> Value:
    """An op's result: trusted data, no validation (the hot path of every forward pass)."""
    v = _new(Value)
    v._data = data
    v._grad = 0.0
    grad_enabled, v.t = current()
    if grad_enabled:
        v._p0 = p0
        v._p1 = p1
        v._op = op
    else:  # no graph: a leaf (no parents), marked as computed under no_grad (op None, not "")
        v._p0 = v._p1 = None
        v._op = None
    v._d0 = d0
    v._d1 = d1
    v.label = None
    v._mark = None
    v._stamp = EDIT_CLOCK[0]
    return v
