"""What a cell promises, checked where a user's own cell can break it — with errors that name the culprit.

A cell declares its weights (``weights(I, H)``: name → shape) and its state (``state_names``), and its
``step(be, p, state, X_t)`` returns a state of that form: one node for ``("H",)``, a tuple of one node per
name otherwise, each of shape ``(hidden_size,)`` or ``(batch, hidden_size)``. These checks run once per
cell (the declaration) and once per step (the result); a wrong shape is reported with the weight or the
state part at fault, the cell, the step and the time step — never as numpy's matmul signature.

    >>> check_weights("MyCell", {"W_x": (4, 3), "b": (4,)})
    {'W_x': (4, 3), 'b': (4,)}
    >>> check_weights("MyCell", {"W_x": (4, -3)})
    Traceback (most recent call last):
    ...
    micrornn.protocol.CellError: MyCell.weights() gives 'W_x' the shape (4, -3): every size must be a positive int
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor
from .value import Value

__all__ = ["CellError", "check_weights", "check_state", "MAX_WEIGHT_SIZE"]

MAX_WEIGHT_SIZE = 2**26  # numbers in one weight (512 MiB of float64): a typo such as (10**6, 10**6) stops here


class CellError(TypeError, ValueError):
    """A cell's declaration or its step's result breaks the cell protocol. Both a TypeError and a
    ValueError, so code that caught either one before (a wrong type, a wrong shape) still does."""


def check_weights(cell: str, shapes: Any) -> dict[str, tuple[int, ...]]:
    """``weights()``'s answer as a dict of identifier → tuple of positive ints, or a CellError naming the entry."""
    if not isinstance(shapes, dict) or not shapes:
        raise CellError(f"{cell}.weights() must return a non-empty dict of name → shape, e.g. "
                        f"{{'W_x': (H, I), 'b': (H,)}}, got {_short(shapes)}")
    out = {}
    for name, shape in shapes.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise CellError(f"{cell}.weights(): a weight's name must be an identifier (it is read as p.<name> in "
                            f"step), got {name!r}")
        if not isinstance(shape, (tuple, list)):
            raise CellError(f"{cell}.weights() gives {name!r} the shape {shape!r}: a shape is a tuple of sizes, "
                            f"e.g. (H,) for a vector or (H, I) for a matrix")
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in shape):
            raise CellError(f"{cell}.weights() gives {name!r} the shape {tuple(shape)!r}: every size must be a "
                            f"positive int")
        size = int(np.prod(shape, dtype=object))
        if size > MAX_WEIGHT_SIZE:
            raise CellError(f"{cell}.weights() gives {name!r} the shape {tuple(shape)} = {size:,} numbers, above the "
                            f"cap of {MAX_WEIGHT_SIZE:,} per weight (micrornn.protocol.MAX_WEIGHT_SIZE); "
                            "is a size wrong?")
        out[name] = tuple(int(n) for n in shape)
    return out


def check_state(cell: Any, state: Any, scalar: bool, batch: int | None) -> str | None:
    """What is wrong with ``state`` as the result of ``cell.step`` (see the module docstring); None if nothing.
    The unroller puts the cell, the time step and the weights the step read in front of it."""
    names = cell.state_names
    if len(names) > 1:
        if not isinstance(state, tuple) or len(state) != len(names):
            got = f"a tuple of {len(state)}" if isinstance(state, tuple) else _short(state)
            return f"returned {got}, but state_names = {names} declares a tuple of {len(names)} ({', '.join(names)})"
        parts = state
    else:
        if isinstance(state, tuple):
            return (f"returned a tuple of {len(state)}, but state_names = {names} declares one state: return the "
                    f"node itself (or declare {len(state)} names in state_names)")
        parts = (state,)
    want = (cell.hidden_size,) if batch is None else (batch, cell.hidden_size)
    for name, part in zip(names, parts):
        if scalar:
            ok = isinstance(part, np.ndarray) and part.dtype == object and all(isinstance(v, Value) for v in part.flat)
            kind = "an array of Values (scalar=True)"
        else:
            ok = isinstance(part, Tensor)
            kind = "a Tensor"
        if state is None:
            return "returned None: does step end with `return` of the new state?"
        if not ok:
            return (f"state {name} is {_short(part)}, expected {kind} built with be's ops from p and the inputs (a "
                    f"plain array or number has no gradient)")
        if part.shape != want:
            return (f"state {name} has shape {part.shape}, expected {want} = "
                    f"({'' if batch is None else 'batch, '}hidden_size{',' if batch is None else ''})")
    return None


def affine_error(W: Any, h: Any, b: Any, name: str | None = None) -> CellError | None:
    """Why ``be.affine(W, h, b)`` cannot compute ``W h + b``; None when it can. The error names W as ``name``
    (default: its label) and keeps the operands (``.operands``), so the unroller can name W as the step
    did (``p.W_x``) — it knows which copy is which."""
    W_shape, h_shape, b_shape = np.shape(W), np.shape(h), np.shape(b)
    name = name or getattr(W, "label", None) or "W"
    if h is None:
        problem = ("be.affine(W, x): x is None — a cell with accepts_none = True gets None for a missing state "
                   "(step 1 without H_0) or input: leave that term out, as RNN.step does")
    elif not isinstance(h, (Tensor, np.ndarray)):
        problem = f"be.affine(W, x): x is a {type(h).__name__}, expected a state or input node" + (
            f" (a state of {len(h)} parts, as state_names declares, comes as a tuple: unpack it, e.g. "
            f"h, c = state)" if isinstance(h, tuple) else "")
    elif len(W_shape) != 2:
        problem = f"{name} has shape {W_shape}; be.affine(W, x) needs a matrix W of shape (out, len(x))"
    elif h_shape[-1:] != W_shape[1:]:
        problem = (f"{name} has shape {W_shape}; be.affine(W, x) needs W's columns = len(x) = "
                   f"{h_shape[-1] if h_shape else '?'} (x has shape {h_shape})")
    elif b is not None and b_shape != W_shape[:1]:
        problem = f"be.affine(W, x, b): b has shape {b_shape}, expected ({W_shape[0]},) = the rows of {name} {W_shape}"
    else:
        return None
    error = CellError(problem)
    error.operands = (W, h, b)
    return error


def _short(x: Any) -> str:
    """A value as an error message shows it: its type, and a shape or a short repr."""
    if x is None:
        return "None"
    shape = getattr(x, "shape", None)
    if shape is not None:
        kind = type(x).__name__
        return f"{'an' if kind[0] in 'aeiouAEIOU' else 'a'} {kind} of shape {shape}"
    text = repr(x)
    return f"{type(x).__name__} {text[:60] + '…' if len(text) > 60 else text}"
