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
from collections.abc import Iterable

import numpy as np

from .tensor import Tensor, tensor_list

__all__ = ["SGD", "Adagrad", "Adam", "clip_grad_norm_", "clip_grad_value_", "grad_norm"]


def _grad(p: Tensor) -> np.ndarray:
    return np.zeros_like(p.data) if p.grad is None else p.grad


def grad_norm(params: Iterable[Tensor], norm_type: float = 2.0) -> float:
    """The total norm of all gradients together (``inf`` for the max-norm)."""
    grads = [_grad(p) for p in params]
    if norm_type == math.inf:
        return float(max(np.abs(g).max() for g in grads))
    return float(sum(np.sum(np.abs(g) ** norm_type) for g in grads) ** (1.0 / norm_type))


def clip_grad_norm_(
    params: Iterable[Tensor], max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    """Scale all gradients by ``max_norm / (total + 1e-6)`` when that is below 1; return the total before."""
    params = tensor_list(params, "clip_grad_norm_", "parameter")
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be > 0, got {max_norm!r}")
    total = grad_norm(params, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total {norm_type}-norm of the gradients is {total}; "
            "they cannot be clipped (pass error_if_nonfinite=False to scale them anyway)"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad = _grad(p) * coef
    return total


def clip_grad_value_(params: Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]``."""
    params = tensor_list(params, "clip_grad_value_", "parameter")
    if not clip_value > 0:
        raise ValueError(f"clip_grad_value_: clip_value must be > 0, got {clip_value!r}")
    for p in params:
        p.grad = np.clip(_grad(p), -clip_value, clip_value)


class Optimizer:
    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = tensor_list(params, type(self).__name__, "parameter")
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: lr must be > 0, got {lr!r}")
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        for i, p in enumerate(self.params):
            p.data -= self.update(i, _grad(p))  # in place: the module keeps the same arrays

    def update(self, i: int, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """``v ← μ v + g;  θ ← θ − lr v`` (plain SGD with μ = 0), as ``torch.optim.SGD``."""

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def update(self, i: int, g: np.ndarray) -> np.ndarray:
        if self.momentum:
            self.velocity[i] = self.momentum * self.velocity[i] + g
            g = self.velocity[i]
        return self.lr * g


class Adagrad(Optimizer):
    """``m ← m + g²;  θ ← θ − lr g / √(m + ε)`` — min-char-rnn's optimiser."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.1, eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.eps = eps
        self.memory = [np.zeros_like(p.data) for p in self.params]

    def update(self, i: int, g: np.ndarray) -> np.ndarray:
        self.memory[i] += g * g
        return self.lr * g / np.sqrt(self.memory[i] + self.eps)


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam``."""

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.betas, self.eps, self.t = betas, eps, 0
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
