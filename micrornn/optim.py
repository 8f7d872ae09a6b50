"""Optimisers and gradient clipping, with PyTorch's semantics.

Gradient clipping by norm, from the notes: ``if ‖g‖ > μ: g ← μ g / ‖g‖`` — here ‖g‖ is the total norm
over all parameters together, as ``torch.nn.utils.clip_grad_norm_``.

    >>> import numpy as np
    >>> from micrornn import Tensor
    >>> w = Tensor([0.0, 0.0]); w.grad = np.array([3.0, 4.0])
    >>> float(clip_grad_norm_([w], max_norm=1.0))          # returns the norm before clipping
    5.0
    >>> np.round(w.grad, 6)
    array([0.6, 0.8])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from .flags import flag
from .tensor import Tensor

__all__ = ["SGD", "Adagrad", "Adam", "clip_grad_norm_", "clip_grad_value_", "grad_norm"]

Params = Tensor | Iterable[Tensor]


def _params(params: Params, what: str, *, optimizer: bool) -> list[Tensor]:
    """``params`` as a list of distinct Tensors, or an error naming what is wrong with it.

    Clipping takes one Tensor or an iterable of them, as ``torch.nn.utils.clip_grad_norm_`` does; an
    optimiser wants an iterable and raises ``TypeError`` for a single Tensor, as ``torch.optim`` does
    (iterating a Tensor would walk its rows: new Tensors no gradient ever reaches).
    """
    if isinstance(params, Tensor):
        if optimizer:
            raise TypeError(f"{what}: params must be an iterable of Tensors, got a single Tensor (pass [w])")
        return [params]
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{what}: params must be a Tensor or an iterable of Tensors, "
                        f"got {type(params).__name__}") from None
    if optimizer and not items:
        raise ValueError(f"{what}: got an empty parameter list")  # torch.optim raises here too
    seen: dict[int, int] = {}
    for i, p in enumerate(items):
        if not isinstance(p, Tensor):
            raise TypeError(f"{what}: parameter {i} is a {type(p).__name__}, expected a Tensor")
        if id(p) in seen:  # it would be clipped or updated twice
            raise ValueError(f"{what}: parameter {i} is parameter {seen[id(p)]} again; list each Tensor once")
        seen[id(p)] = i
    return items


def _number(what: str, name: str, x: object, ok: Callable[[float], bool], rule: str) -> float:
    """``x`` as a float when it is a real number (not a bool) for which ``ok`` holds; NaN never does."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what}: {name} must be a real number {rule}, got {x!r}")
    if not ok(float(x)):
        raise ValueError(f"{what}: {name} must be {rule}, got {x!r}")
    return float(x)


def _finite_at_least_0(what: str, name: str, x: object) -> float:
    return _number(what, name, x, lambda v: 0.0 <= v < math.inf, "finite and ≥ 0")


def _grad(p: Tensor) -> np.ndarray:
    return np.zeros_like(p.data) if p.grad is None else p.grad


def grad_norm(params: Params, norm_type: float = 2.0) -> float:
    """The total ``norm_type``-norm of all gradients together (``inf``: the largest ``|g|``).

    Parameters without a gradient are skipped. Unlike PyTorch, which overflows to ``inf`` for
    gradients near 1e200, the sum is taken over ``|g| / max|g|``, so every finite gradient has a
    finite norm when the norm itself fits in a float. A NaN gradient gives NaN, an infinite one ``inf``.

    >>> w = Tensor([0.0, 0.0]); w.grad = np.array([3e200, 4e200])
    >>> f"{grad_norm(w):.3g}"
    '5e+200'
    """
    norm_type = _number("grad_norm", "norm_type", norm_type, lambda v: v > 0, "> 0 (inf for the max-norm)")
    grads = [p.grad for p in _params(params, "grad_norm", optimizer=False) if p.grad is not None]
    if not grads:
        return 0.0
    biggest = float(max(np.max(np.abs(g), initial=0.0) for g in grads))  # NaN if any entry is NaN
    if norm_type == math.inf or biggest == 0.0 or not math.isfinite(biggest):
        return biggest
    total = sum(float(np.sum((np.abs(g) / biggest) ** norm_type)) for g in grads)  # each term ≤ 1
    try:
        return biggest * total ** (1.0 / norm_type)
    except OverflowError:  # a tiny norm_type (1e-300): the norm is beyond any float, as in PyTorch's inf
        return math.inf


def clip_grad_norm_(params: Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale all gradients by ``max_norm / (total + 1e-6)`` when that is below 1; return the total before.

    As ``torch.nn.utils.clip_grad_norm_`` (2.13): ``params`` is a Tensor or an iterable of them,
    parameters without a gradient are skipped, an empty list gives 0.0. A non-finite total raises
    ``RuntimeError`` with ``error_if_nonfinite=True``; otherwise the gradients are scaled anyway, as
    PyTorch does: a NaN total makes every gradient NaN, an ``inf`` total zeroes the finite entries.
    ``max_norm=inf`` measures without clipping. Differences: the total is a float, not a tensor, and it
    does not overflow (see ``grad_norm``); ``max_norm`` must be > 0 and ``norm_type`` > 0.

    >>> w = Tensor([0.0, 0.0]); w.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm_(w, 0.5), w.grad.round(6).tolist()
    (5.0, [0.3, 0.4])
    """
    params = _params(params, "clip_grad_norm_", optimizer=False)
    max_norm = _number("clip_grad_norm_", "max_norm", max_norm, lambda v: v > 0, "> 0 (inf: measure only)")
    flag(error_if_nonfinite, "error_if_nonfinite", "clip_grad_norm_")
    total = grad_norm(params, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total {norm_type}-norm of the gradients is {total}; "
            "they cannot be clipped (pass error_if_nonfinite=False to scale them anyway)"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0 or math.isnan(coef):  # PyTorch's clamp(coef, max=1) keeps a NaN
        with np.errstate(invalid="ignore"):  # inf · 0 = nan is the documented outcome, not a surprise
            for p in params:
                if p.grad is not None:
                    p.grad = p.grad * coef
    return total


def clip_grad_value_(params: Params, clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]``, as ``torch.nn.utils.clip_grad_value_``.

    ``params`` is a Tensor or an iterable of them; parameters without a gradient are skipped.

    >>> w = Tensor([0.0, 0.0]); w.grad = np.array([3.0, -0.5])
    >>> clip_grad_value_(w, 1.0); w.grad.tolist()
    [1.0, -0.5]
    """
    params = _params(params, "clip_grad_value_", optimizer=False)
    clip_value = _number("clip_grad_value_", "clip_value", clip_value, lambda v: v > 0, "> 0")
    for p in params:
        if p.grad is not None:
            p.grad = np.clip(p.grad, -clip_value, clip_value)


class Optimizer:
    """Holds the parameters (an iterable of distinct Tensors, as ``torch.optim``) and the learning rate.

    Hyperparameters are checked against PyTorch's ranges, and must also be finite: a NaN learning
    rate would turn every weight into NaN at the first step.
    """

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = _params(params, type(self).__name__, optimizer=True)
        self.lr = _finite_at_least_0(type(self).__name__, "lr", lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        for i, p in enumerate(self.params):
            p.data -= self.update(i, _grad(p))  # the one place weights change: in place, same arrays

    def update(self, i: int, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """``v ← μ v + g;  θ ← θ − lr v`` (plain SGD with μ = 0), as ``torch.optim.SGD``.

    >>> w = Tensor([1.0]); w.grad = np.array([2.0]); SGD([w], lr=0.1).step(); w.data.round(6).tolist()
    [0.8]
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _finite_at_least_0("SGD", "momentum", momentum)
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def update(self, i: int, g: np.ndarray) -> np.ndarray:
        if self.momentum:
            self.velocity[i] = self.momentum * self.velocity[i] + g
            g = self.velocity[i]
        return self.lr * g


class Adagrad(Optimizer):
    """``m ← m + g²;  θ ← θ − lr g / √(m + ε)`` — min-char-rnn's optimiser (lr, eps ≥ 0 and finite)."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.1, eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.eps = _finite_at_least_0("Adagrad", "eps", eps)
        self.memory = [np.zeros_like(p.data) for p in self.params]

    def update(self, i: int, g: np.ndarray) -> np.ndarray:
        self.memory[i] += g * g
        return self.lr * g / np.sqrt(self.memory[i] + self.eps)


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (0 ≤ β < 1; lr, eps ≥ 0 and finite)."""

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (β1, β2), got {betas!r}")
        self.betas = tuple(_number("Adam", f"betas[{k}]", b, lambda v: 0.0 <= v < 1.0, "in [0, 1)")
                           for k, b in enumerate(betas))
        self.eps, self.t = _finite_at_least_0("Adam", "eps", eps), 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        self.t += 1
        super().step()

    def update(self, i: int, g: np.ndarray) -> np.ndarray:
        b1, b2 = self.betas
        self.m[i] = b1 * self.m[i] + (1 - b1) * g
        self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
        m_hat = self.m[i] / (1 - b1**self.t)
        v_hat = self.v[i] / (1 - b2**self.t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
