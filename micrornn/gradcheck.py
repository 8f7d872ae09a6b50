"""Central finite differences against backward, for Values and Tensors.

    >>> import micrornn as mr
    >>> a = mr.Value(0.3)
    >>> gradcheck(lambda a: (a * a).tanh(), [a])
    GradcheckReport(passed: 1 input checked)

A zero gradient agrees with finite differences too, so a loss wired to ignore an input would pass
unseen; the report names every input whose gradient is zero everywhere (legitimate or not, you decide):

    >>> b = mr.Value(0.7, label="b")
    >>> gradcheck(lambda a, b: a * a, [a, b])
    GradcheckReport(passed: 2 inputs checked; all-zero gradient: b)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from .graph import no_grad
from .tensor import Tensor
from .value import Value

__all__ = ["gradcheck", "directional_gradcheck", "numerical_grad", "GradcheckError", "GradcheckReport"]

Node = Union[Value, Tensor]


class GradcheckError(AssertionError):
    """Backward disagrees with finite differences; the message names the worst element."""


@dataclass(frozen=True)
class GradcheckReport:
    """What a passing check returns: true, and the names of the inputs whose gradient was zero everywhere."""

    inputs: tuple[str, ...]  # every input checked, by label (or "input i")
    zero_grad: tuple[str, ...]  # those whose backprop gradient is exactly zero in every element

    def __bool__(self) -> bool:
        return True  # a failing check raises GradcheckError; ``assert gradcheck(...)`` keeps working

    def __repr__(self) -> str:
        n = len(self.inputs)
        zero = f"; all-zero gradient: {', '.join(self.zero_grad)}" if self.zero_grad else ""
        return f"GradcheckReport(passed: {n} input{'s' if n != 1 else ''} checked{zero})"

    __str__ = __repr__


def _report(inputs: list[Node], analytic: list[np.ndarray]) -> GradcheckReport:
    names = tuple(x.label or f"input {i}" for i, x in enumerate(inputs))
    zero = tuple(name for name, g in zip(names, analytic) if not np.any(g))
    return GradcheckReport(names, zero)


def _evaluate(fn: Callable[..., Node], inputs: Sequence[Node]) -> float:
    with no_grad():
        out = fn(*inputs)
    return float(out.data)


# Each evaluation of f is only accurate to a few ulps of |f|, so the difference quotient carries an error
# of about that much divided by 2ε: a floor below which no tolerance can be asked of finite differences.
_ULPS = 8 * np.finfo(np.float64).eps


def _analytic(fn: Callable[..., Node], inputs: list[Node], where: str) -> list[np.ndarray]:
    """The gradients backprop gives for leaf ``inputs`` (their grads cleared first), as float64 arrays."""
    for i, x in enumerate(inputs):
        if not isinstance(x, (Value, Tensor)) or x._parents:
            raise TypeError(f"{where}: input {i} must be a leaf Value or Tensor, got {x!r}")
    for x in inputs:
        x.zero_grad()
    fn(*inputs).backward()
    return [np.array(x.grad, dtype=np.float64) for x in inputs]


def numerical_grad(
    fn: Callable[..., Node], inputs: Sequence[Node], eps: float = 1e-6
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """d fn / d input by central differences ``(f(x+ε) − f(x−ε)) / 2ε``, one element at a time.

    Returns the gradients and, for each element, the rounding-error floor of its difference quotient.
    """
    grads, floors = [], []
    for x in inputs:
        holder = x.data if isinstance(x, Tensor) else np.array([x.data])
        g, floor = np.zeros(holder.shape), np.zeros(holder.shape)
        flat = holder.reshape(-1)  # a view: writing it perturbs a Tensor in place
        for i in range(flat.size):
            x0 = flat[i]
            fx = []
            for xi in (x0 + eps, x0 - eps):
                flat[i] = xi
                if isinstance(x, Value):
                    x.data = float(xi)
                fx.append(_evaluate(fn, inputs))
            flat[i] = x0
            if isinstance(x, Value):
                x.data = float(x0)
            g.reshape(-1)[i] = (fx[0] - fx[1]) / (2 * eps)
            floor.reshape(-1)[i] = _ULPS * (abs(fx[0]) + abs(fx[1])) / (2 * eps)
        if isinstance(x, Value):
            g, floor = g.reshape(()), floor.reshape(())
        grads.append(g)
        floors.append(floor)
    return grads, floors


def gradcheck(
    fn: Callable[..., Node],
    inputs: Sequence[Node],
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> GradcheckReport:
    """Check ``fn(*inputs).backward()`` against central differences; ``fn`` must return a scalar node.

    Passes when ``|analytic − numeric| ≤ atol + rtol·|numeric| + floor`` for every element, where
    ``floor ≈ 8 ulp(|f|) / 2ε`` is the rounding error of the difference quotient itself; otherwise raises
    ``GradcheckError`` naming the worst element (input, index, analytic, numeric). A pass returns a
    ``GradcheckReport`` (true) that lists the inputs with an all-zero gradient.
    """
    inputs = list(inputs)
    analytic = _analytic(fn, inputs, "gradcheck")
    numeric, floors = numerical_grad(fn, inputs, eps)
    worst, where = -np.inf, None
    for i, (a, n, floor) in enumerate(zip(analytic, numeric, floors)):
        excess = np.abs(a - n) - (atol + rtol * np.abs(n) + floor)
        if excess.size and excess.max() > worst:
            j = np.unravel_index(np.argmax(excess), excess.shape) if excess.ndim else ()
            worst, where = excess.max(), (i, j, a[j], n[j])
    if worst > 0:
        i, j, a, n = where
        label = inputs[i].label or f"input {i}"
        raise GradcheckError(
            f"gradient mismatch at {label}{list(j) if j else ''}: analytic {a:.10g}, numeric {n:.10g} "
            f"(|diff| {abs(a - n):.3g} > atol {atol:g} + rtol {rtol:g}·|numeric|)"
        )
    return _report(inputs, analytic)


def directional_gradcheck(
    fn: Callable[..., Node],
    inputs: Sequence[Node],
    n_directions: int = 3,
    seed: int = 0,
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> GradcheckReport:
    """Check backward along random directions v: ``Σ_i ∂f/∂x_i v_i`` against ``(f(x + εv) − f(x − εv)) / 2ε``.

    Two evaluations per direction instead of two per element, so a net with hundreds of parameters is
    checked in a few forward passes; a wrong gradient element is caught unless v happens to be orthogonal
    to the error (probability 0 for a normal v). Same tolerance rule and report as ``gradcheck``.

        >>> import micrornn as mr
        >>> W = mr.Tensor([[0.5, -1.0], [2.0, 0.3]])
        >>> directional_gradcheck(lambda W: (W * W).tanh().sum(), [W])
        GradcheckReport(passed: 1 input checked)
    """
    inputs = list(inputs)
    analytic = _analytic(fn, inputs, "directional_gradcheck")
    rng = np.random.default_rng(seed)

    def shift(vs: list[np.ndarray], scale: float) -> None:
        for x, v in zip(inputs, vs):
            if isinstance(x, Tensor):
                x.data += scale * v
            else:
                x.data = float(x.data + scale * v)

    for k in range(n_directions):
        vs = [rng.normal(size=np.shape(x.data)) for x in inputs]
        slope = sum(float((a * v).sum()) for a, v in zip(analytic, vs))
        fx = []
        for sign in (1.0, -1.0):
            shift(vs, sign * eps)
            try:
                fx.append(_evaluate(fn, inputs))
            finally:
                shift(vs, -sign * eps)
        numeric = (fx[0] - fx[1]) / (2 * eps)
        floor = _ULPS * (abs(fx[0]) + abs(fx[1])) / (2 * eps)
        if abs(slope - numeric) > atol + rtol * abs(numeric) + floor:
            raise GradcheckError(f"gradient mismatch along random direction {k}: analytic {slope:.10g}, numeric "
                                 f"{numeric:.10g} (|diff| {abs(slope - numeric):.3g} > atol {atol:g} + rtol {rtol:g}"
                                 f"·|numeric|)")
    return _report(inputs, analytic)
