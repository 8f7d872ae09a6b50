"""Central finite differences against backward, for Values and Tensors.

    >>> import micrornn as mr
    >>> a = mr.Value(0.3)
    >>> gradcheck(lambda a: (a * a).tanh(), [a])
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Union

import numpy as np

from .graph import no_grad
from .tensor import Tensor
from .value import Value

__all__ = ["gradcheck", "numerical_grad", "GradcheckError"]

Node = Union[Value, Tensor]


class GradcheckError(AssertionError):
    """Backward disagrees with finite differences; the message names the worst element."""


def _evaluate(fn: Callable[..., Node], inputs: Sequence[Node]) -> float:
    with no_grad():
        out = fn(*inputs)
    return float(out.data)


def numerical_grad(fn: Callable[..., Node], inputs: Sequence[Node], eps: float = 1e-6) -> list[np.ndarray]:
    """d fn / d input by central differences ``(f(x+ε) − f(x−ε)) / 2ε``, one element at a time."""
    grads = []
    for x in inputs:
        if isinstance(x, Value):
            x0 = x.data
            x.data = x0 + eps
            up = _evaluate(fn, inputs)
            x.data = x0 - eps
            down = _evaluate(fn, inputs)
            x.data = x0
            grads.append(np.array((up - down) / (2 * eps)))
            continue
        g = np.zeros_like(x.data)
        flat = x.data.reshape(-1)  # a view: writing it perturbs x in place
        for i in range(flat.size):
            x0 = flat[i]
            flat[i] = x0 + eps
            up = _evaluate(fn, inputs)
            flat[i] = x0 - eps
            down = _evaluate(fn, inputs)
            flat[i] = x0
            g.reshape(-1)[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def gradcheck(
    fn: Callable[..., Node],
    inputs: Sequence[Node],
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> bool:
    """Check ``fn(*inputs).backward()`` against central differences; ``fn`` must return a scalar node.

    Passes when ``|analytic − numeric| ≤ atol + rtol·|numeric|`` for every element; otherwise raises
    ``GradcheckError`` naming the worst element (input, index, analytic, numeric).
    """
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, (Value, Tensor)) or x._parents:
            raise TypeError(f"gradcheck: input {i} must be a leaf Value or Tensor, got {x!r}")
    for x in inputs:
        x.zero_grad()
    fn(*inputs).backward()
    analytic = [np.array(x.grad, dtype=np.float64) for x in inputs]
    numeric = numerical_grad(fn, inputs, eps)
    worst, where = -np.inf, None
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
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
    return True
