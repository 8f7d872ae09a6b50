"""micrornn — a tiny reverse-mode autodiff engine that makes recurrent neural networks visible.

    >>> import micrornn as mr
    >>> a = mr.Value(2.0, label="a")
    >>> y = (a * a).tanh()
    >>> y.backward()
    >>> round(a.grad, 6)
    0.005364
"""

import importlib
from typing import Any

from . import data, fast, functional, nn, optim, unroll
from .gradcheck import gradcheck
from .graph import is_grad_enabled, no_grad, timestep, zero_grad
from .recording import Recording, record_training
from .tensor import Tensor, concatenate, stack
from .unroll import sample
from .value import Value

__all__ = [
    "Value", "Tensor", "concatenate", "stack", "functional", "gradcheck", "nn", "unroll", "optim", "data", "sample",
    "fast", "no_grad", "timestep", "is_grad_enabled", "zero_grad", "Recording", "record_training",
]
__version__ = "0.1.0"

# Imported on first use (`mr.viz.draw(u)`), so `import micrornn` does not pay for graphviz, matplotlib,
# hypothesis or the tour until a picture, a plot or a strategy is asked for.
_LAZY = ("viz", "plots", "report", "testing", "stepper", "tour", "cli", "interop", "film")


def __getattr__(name: str) -> Any:
    if name == "explore":  # the live widget: mr.explore(cell="rnn", T=50); imports the pictures on first use
        from .viz.explore import explore

        return explore
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)  # the import also sets it as our attribute
    raise AttributeError(f"module 'micrornn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "explore"})
