"""Hypothesis strategies for property-testing gradients — the ones micrornn's own tests use.

    >>> from micrornn.testing import Expression
    >>> expr = Expression(1, (("mul", (0, 0)), ("tanh", (1,))))   # tanh(x0 · x0)
    >>> str(expr)
    'tanh(mul(x0, x0))'

In a test: ``@given(expressions(ops=SMOOTH_OPS))`` draws such programs at random.

For recurrent cells, ``cell_problems(LSTM)`` draws a small net (sizes, layers, direction, seed) with a
topology and data, and ``check_cell(MyCell)`` runs the design's invariants on a few of them in one call.

An ``Expression`` is a small random program over the ops both engines share. It runs unchanged on
Values and on Tensors (both spell ``a + b``, ``a.tanh()`` …), so the same expression can be built at
both granularities and their gradients compared.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .cellcheck import CellProblem, CellReport, Stats, check_problem, plain_problem
from .flags import flag
from .gradcheck import GradcheckError
from .tensor import Tensor
from .value import Value

__all__ = [
    "finite_floats", "values", "shapes", "arrays", "tensors", "broadcastable_shapes",
    "Expression", "expressions", "OPS", "SMOOTH_OPS", "TOPOLOGIES", "CellProblem", "cell_problems", "problem_data",
    "check_cell", "CellReport",
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


# -- recurrent cells: drawn problems and a one-call check ------------------------------------------------
TOPOLOGIES = ("one_to_one", "many_to_one", "many_to_many", "one_to_many")


def cell_problems(cell_class: type, topologies: Sequence[str] = TOPOLOGIES, max_T: int = 4, max_batch: int = 2,
                  max_size: int = 3, layers: Sequence[int] = (1, 2), bidirectional: Sequence[bool] = (False, True),
                  allow_ids: bool = True, **cell_kwargs: Any) -> st.SearchStrategy[CellProblem]:
    """A small problem for ``cell_class`` (a ``micrornn.nn.Cell``): sizes 1..max_size, a drawn number of
    layers and direction, token ids or vectors, class or regression targets, with or without h0."""
    # checked here, at the call: the strategy's body runs only when hypothesis draws from it
    allow_ids = flag(allow_ids, "allow_ids", "cell_problems")
    if isinstance(bidirectional, (bool, np.bool_, str)) or not isinstance(bidirectional, Sequence):
        raise TypeError(f"cell_problems: bidirectional must be a sequence of the directions to draw from, e.g. "
                        f"(False, True), got {bidirectional!r}")
    bidirectional = [flag(b, f"bidirectional[{k}]", "cell_problems") for k, b in enumerate(bidirectional)]
    return _cell_problems(cell_class, topologies, max_T, max_batch, max_size, layers, bidirectional, allow_ids,
                          **cell_kwargs)


@st.composite
def _cell_problems(draw: Callable, cell_class: type, topologies: Sequence[str], max_T: int, max_batch: int,
                   max_size: int, layers: Sequence[int], bidirectional: Sequence[bool], allow_ids: bool,
                   **cell_kwargs: Any) -> CellProblem:
    topology = draw(st.sampled_from(list(topologies)))
    I, H, O = (draw(st.integers(1, max_size)) for _ in range(3))
    ids = allow_ids and draw(st.booleans())
    num_layers, reverse = draw(st.sampled_from(list(layers))), draw(st.sampled_from(list(bidirectional)))
    # only what differs from Cell's defaults is passed: a one-layer class (Elman, Jordan) need not take them
    shape = {**({"num_layers": num_layers} if num_layers != 1 else {}), **({"bidirectional": True} if reverse else {}),
             **({"token_ids": True} if ids else {})}
    cell = cell_class(I, H, O, seed=draw(st.integers(0, 2**16)), **shape, **cell_kwargs)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    batch = draw(st.sampled_from([None, *range(1, max_batch + 1)]))
    T = 1 if topology == "one_to_one" else draw(st.integers(1, max_T))
    return CellProblem(cell, topology, problem_data(draw, cell, topology, rng, batch, T))


def problem_data(draw: Callable, cell: Any, topology: str, rng: np.random.Generator, batch: int | None,
                 T: int) -> dict[str, Any]:
    """The data of a drawn problem for ``cell``: the keyword arguments of ``unroll.<topology>`` — inputs (token
    ids or vectors, as the cell reads), class or regression targets, an h0 or none, and for one-to-many the
    feed (``"output"`` only where the output can be the next input). ``draw`` is hypothesis's, inside a
    ``@st.composite``; the numbers come from ``rng``."""
    I, O, ids = cell.input_size, cell.output_size, cell.token_ids
    bshape = () if batch is None else (batch,)
    classes = O > 1 and draw(st.booleans())

    def x_of(n: int) -> np.ndarray:
        return rng.integers(0, I, size=(n, *bshape)) if ids else rng.uniform(-1, 1, size=(n, *bshape, I))

    def y_of(n: int) -> np.ndarray:
        return rng.integers(0, O, size=(n, *bshape)) if classes else rng.uniform(-1, 1, size=(n, *bshape, O))

    h0 = None
    if draw(st.booleans()):
        stacked = cell.num_layers * cell.directions
        shape = (*(() if stacked == 1 else (stacked,)), *bshape, cell.context_size)
        parts = tuple(rng.uniform(-0.5, 0.5, size=shape) for _ in cell.state_names)
        h0 = parts if len(parts) > 1 else parts[0]
    if topology == "one_to_one":
        return dict(x=x_of(1)[0], y=y_of(1)[0])
    if topology == "many_to_one":
        return dict(xs=x_of(T), y=y_of(1)[0], h0=h0)
    if topology == "many_to_many":
        return dict(xs=x_of(T), ys=y_of(T), h0=h0)
    can_feed = not ids and I == O and not cell.bidirectional
    return dict(x=x_of(1)[0], ys=y_of(T), h0=h0, feed="output" if can_feed and draw(st.booleans()) else "zeros")


_STRATEGY_ARGS = ("topologies", "max_T", "max_batch", "max_size", "layers", "bidirectional", "allow_ids")


def check_cell(cell_class: type, examples: int = 8, shrink: bool = True, **kwargs: Any) -> CellReport:
    """Property-check a ``micrornn.nn.Cell`` subclass and return what was checked (a ``CellReport``):

    1. every parameter's gradient is the sum of its per-step copies' gradients;
    2. the gradients equal central finite differences (float64, relative error ≤ 1e-6) along three
       random directions; on a mismatch, the weight entry and the step copy at fault are named;
    3. the scalar (``Value``) unroll gives the Tensor unroll's loss and gradients (≤ 1e-9).

    First one plain problem (one layer, one direction, I = 3, H = 4, O = 2, T = 3), so a protocol or shape
    error shows on a net a student can read; then ``examples`` problems drawn by ``cell_problems``.
    Keyword arguments go to ``cell_problems`` (``topologies``, ``max_T``, ``max_batch``, ``max_size``,
    ``layers``, ``bidirectional``, ``allow_ids``) or, all others, to the cell (e.g. ``truncate=2``: then the
    finite differences are of the truncated loss). Raises ``AssertionError`` / ``GradcheckError``;
    hypothesis reports the smallest failing problem (``shrink=False``: the first one, at once).
    Keep the cell smooth (tanh, sigmoid) for 2.

        >>> from micrornn.nn import GRU
        >>> print(check_cell(GRU, examples=2))  # doctest: +ELLIPSIS
        check_cell(GRU): 3 problems passed (1 plain + 2 drawn) — ...
    """
    from hypothesis import HealthCheck, Phase, given, settings

    from .cells import Cell

    if not (isinstance(cell_class, type) and issubclass(cell_class, Cell)):
        hint = (f" (an instance of {type(cell_class).__name__}: pass the class itself, "
                f"check_cell({type(cell_class).__name__}))" if isinstance(cell_class, Cell) else "")
        raise TypeError(f"check_cell(cell_class) expects a subclass of micrornn.nn.Cell, got "
                        f"{type(cell_class).__name__} {cell_class!r}{hint}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"check_cell(examples=...) expects a positive int (problems to draw), got {examples!r}")
    shrink = flag(shrink, "shrink", "check_cell")
    strategy = {k: v for k, v in kwargs.items() if k in _STRATEGY_ARGS}
    accepts = inspect.signature(cell_class).parameters
    for name, arg, one in (("num_layers", "layers", (1,)), ("bidirectional", "bidirectional", (False,)),
                           ("token_ids", "allow_ids", False)):
        if name not in accepts:  # e.g. Elman: one layer, one direction
            strategy.setdefault(arg, one)
    cell_kwargs = {k: v for k, v in kwargs.items() if k not in _STRATEGY_ARGS}
    stats = Stats()
    topology = "many_to_many" if "many_to_many" in strategy.get("topologies", TOPOLOGIES) else \
        tuple(strategy["topologies"])[0]
    plain = plain_problem(cell_class, topology, **cell_kwargs)
    try:
        check_problem(plain, stats)
    except (AssertionError, GradcheckError) as e:
        raise type(e)(f"on the plain problem (one layer, one direction, I=3, H=4, O=2, T=3): {e}") from None

    phases = [Phase.explicit, Phase.generate, *([Phase.shrink] if shrink else [])]

    # one failure, the smallest, not "Hypothesis found 5 distinct failures" of the same mistake
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True, phases=phases,
              report_multiple_bugs=False, suppress_health_check=[HealthCheck.too_slow])
    @given(problem=cell_problems(cell_class, **strategy, **cell_kwargs))
    def run(problem: CellProblem) -> None:
        check_problem(problem, stats)

    run()
    drawn = stats.problems - 1
    return CellReport(cell_class.__name__, 1, drawn, stats, cell_kwargs.get("truncate"))
