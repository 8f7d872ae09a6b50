"""micrornn — a tiny reverse-mode autodiff engine that makes recurrent neural networks visible.

    >>> import micrornn as mr
    >>> a = mr.Value(2.0, label="a")
    >>> y = (a * a).tanh()
    >>> y.backward()
    >>> round(a.grad, 6)
    0.005364
"""

from . import data, functional, nn, optim, unroll
from .gradcheck import gradcheck
from .graph import is_grad_enabled, no_grad, timestep, zero_grad
from .tensor import Tensor, concatenate, stack
from .unroll import sample
from .value import Value

__all__ = [
    "Value", "Tensor", "concatenate", "stack", "functional", "gradcheck", "nn", "unroll", "optim", "data", "sample",
    "no_grad", "timestep", "is_grad_enabled", "zero_grad",
]
__version__ = "0.1.0"
