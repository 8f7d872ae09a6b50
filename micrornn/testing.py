"""Hypothesis strategies for property-testing gradients — the ones micrornn's own tests use.

    >>> from micrornn.testing import Expression
    >>> expr = Expression(1, (("mul", (0, 0)), ("tanh", (1,))))   # tanh(x0 · x0)
    >>> str(expr)
    'tanh(mul(x0, x0))'

In a test: ``@given(expressions(ops=SMOOTH_OPS))`` draws such programs at random.

An ``Expression`` is a small random program over the ops both engines share. It runs unchanged on
Values and on Tensors (both spell ``a + b``, ``a.tanh()`` …), so the same expression can be built at
both granularities and their gradients compared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .tensor import Tensor
from .value import Value

__all__ = [
    "finite_floats", "values", "shapes", "arrays", "tensors", "broadcastable_shapes",
    "Expression", "expressions", "OPS", "SMOOTH_OPS",
]


def finite_floats(low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[float]:
    """Well-conditioned floats: finite, bounded, no subnormals."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def values(low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[Value]:
    return finite_floats(low, high).map(Value)


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def arrays(shape: tuple[int, ...], low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[np.ndarray]:
    n = int(np.prod(shape, dtype=int))
    return st.lists(finite_floats(low, high), min_size=n, max_size=n).map(
        lambda xs: np.array(xs, dtype=np.float64).reshape(shape)
    )


def tensors(shape: tuple[int, ...] | None = None, low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[Tensor]:
    """Tensors of a given shape, or of a drawn one."""
    shape_st = st.just(shape) if shape is not None else shapes()
    return shape_st.flatmap(lambda s: arrays(s, low, high)).map(Tensor)


@st.composite
def broadcastable_shapes(draw: Callable, max_dims: int = 3, max_side: int = 4) -> tuple[tuple, tuple]:
    """A pair of shapes numpy broadcasts together: some axes set to 1, some leading axes dropped."""
    full = draw(shapes(0, max_dims, max_side))

    def variant() -> tuple[int, ...]:
        s = tuple(1 if draw(st.booleans()) else n for n in full)
        return s[draw(st.integers(0, len(s))):]

    return variant(), variant()


# -- random expression graphs ----------------------------------------------------------------------
# Each op is written with the operators and methods that Value and Tensor share, so it runs on both.
# Arguments of log, ** and / are kept positive and away from 0, so every op is smooth where it is used.
OPS: dict[str, tuple[int, Callable[..., Any]]] = {
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 1.0)),
    "neg": (1, lambda a: -a),
    "radd": (1, lambda a: 0.5 + a),
    "rsub": (1, lambda a: 1.0 - a),
    "rmul": (1, lambda a: 0.7 * a),
    "rdiv": (1, lambda a: 2.0 / (a * a + 0.5)),
    "pow": (1, lambda a: (a * a + 0.5) ** 1.5),
    "square": (1, lambda a: a**2),
    "exp": (1, lambda a: (a.tanh() * 2.0).exp()),
    "log": (1, lambda a: (a * a + 0.1).log()),
    "tanh": (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "relu": (1, lambda a: a.relu()),
}
SMOOTH_OPS = tuple(name for name in OPS if name != "relu")  # for finite differences: relu has a kink at 0


@dataclass(frozen=True)
class Expression:
    """A straight-line program: register i ≥ n_inputs holds ``OPS[name](*registers[args])``."""

    n_inputs: int
    steps: tuple[tuple[str, tuple[int, ...]], ...]

    def __call__(self, *inputs: Any) -> Any:
        regs = list(inputs)
        for name, args in self.steps:
            regs.append(OPS[name][1](*(regs[i] for i in args)))
        return regs[-1]

    def on_tensors(self, *inputs: Tensor) -> Tensor:
        """The expression elementwise on arrays, summed to a scalar."""
        return self(*inputs).sum()

    def on_values(self, *inputs: Sequence[Value]) -> Value:
        """The same expression built one Value per element (inputs: flat lists of Values), summed."""
        total = None
        for elems in zip(*inputs):
            out = self(*elems)
            total = out if total is None else total + out
        return total

    def __str__(self) -> str:
        names = [f"x{i}" for i in range(self.n_inputs)]
        for name, args in self.steps:
            names.append(f"{name}({', '.join(names[i] for i in args)})")
        return names[-1]


@st.composite
def expressions(draw: Callable, ops: Sequence[str] = tuple(OPS), max_inputs: int = 3, max_steps: int = 8) -> Expression:
    """Random expression graphs over ``ops``, with fan-out (a register may be used many times)."""
    n = draw(st.integers(1, max_inputs))
    steps = []
    for _ in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(list(ops)))
        arity = OPS[name][0]
        args = tuple(draw(st.integers(0, n + len(steps) - 1)) for _ in range(arity))
        steps.append((name, args))
    return Expression(n, tuple(steps))
