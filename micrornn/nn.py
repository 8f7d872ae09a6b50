"""Modules: parameters with names, `Linear`, and the recurrent net of the notes.

    H_t = f(W^H H_{t-1} + W^X X_t + b)        O_t = W^O H_t + b^O

Shapes follow PyTorch's ``nn.RNN``: ``W_h`` is hidden×hidden, ``W_x`` hidden×input, ``W_o``
output×hidden; a batch is a leading dimension. The graph itself is built by ``micrornn.unroll``.

    >>> rnn = RNN(input_size=2, hidden_size=3, output_size=1, seed=0)
    >>> [(name, p.shape) for name, p in rnn.named_parameters()]
    [('W_h', (3, 3)), ('W_x', (3, 2)), ('b', (3,)), ('W_o', (1, 3)), ('b_o', (1,))]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import checkpoint
from . import functional as F
from .tensor import Tensor

__all__ = ["Module", "Linear", "RNN", "Elman", "Jordan", "FEEDBACKS"]

FEEDBACKS = ("hidden", "output")


def _positive_int(x: object, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
        raise ValueError(f"{name} must be a positive int, got {x!r}")
    return int(x)


class Module:
    """Parameters are the ``Tensor`` attributes listed in ``_param_names``, in that (stable) order."""

    _param_names: tuple[str, ...] = ()

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        return [(name, getattr(self, name)) for name in self._param_names]

    def parameters(self) -> list[Tensor]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def _mismatch(self, entries: Mapping[str, tuple[tuple[int, ...], np.dtype]]) -> str | None:
        """What keeps arrays of these (shape, dtype)s, by name, from loading into this module; None if nothing."""
        expected = {name: p.shape for name, p in self.named_parameters()}
        missing, extra = expected.keys() - entries.keys(), entries.keys() - expected.keys()
        if missing or extra:
            return f"state does not match {type(self).__name__}: missing {sorted(missing)}, unexpected {sorted(extra)}"
        for name, shape in expected.items():
            got, dtype = entries[name]
            if got != shape:
                return f"state[{name!r}] has shape {got}, {type(self).__name__} expects {shape}"
            if dtype.kind not in "iuf":
                return f"state[{name!r}] must hold finite real numbers, got dtype {dtype}"
        return None

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy arrays into the parameters; on any mismatch nothing is changed and the error says what."""
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict needs a dict of arrays by name, got {type(state).__name__}")
        arrays = {name: np.asarray(a) for name, a in state.items()}
        problem = self._mismatch({name: (a.shape, a.dtype) for name, a in arrays.items()})
        if problem:
            raise ValueError(problem)
        for name, a in arrays.items():
            if not np.isfinite(a).all():
                raise ValueError(f"state[{name!r}] must hold finite real numbers")
        for name, p in self.named_parameters():  # all checked: now write
            p.data[...] = arrays[name]

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters to an ``.npz`` file, atomically: a temporary file, then a rename.

        A symlink is written through (its target is replaced, the link stays), an existing file keeps its
        permission bits, a new one gets the usual ``0o666 & ~umask``.

            >>> import tempfile
            >>> from pathlib import Path
            >>> with tempfile.TemporaryDirectory() as d:
            ...     rnn = RNN(2, 3, 1); rnn.save(Path(d) / "rnn.npz"); rnn.load(Path(d) / "rnn.npz")
        """
        checkpoint.write(path, self.state_dict())

    def load(self, path: str | os.PathLike) -> None:
        """Read parameters written by ``save``; on any error the model is unchanged.

        A file that is not such a checkpoint (not an ``.npz``, damaged, a bare ``.npy``) raises
        ``ValueError("not a micrornn checkpoint: <path>: <what is wrong>")``; one written for another
        architecture names the parameter and both shapes. Every member's ``.npy`` header is checked
        against the model before any data is read, so a small file claiming a huge array fails at once.
        A missing file raises ``FileNotFoundError``.
        """
        self.load_state_dict(checkpoint.read(path, self._mismatch, type(self).__name__))


class Linear(Module):
    """``y = W x + b`` with W of shape (out, in), as ``torch.nn.Linear``.

    >>> layer = Linear(3, 2, seed=0)
    >>> layer(Tensor([1.0, 0.0, -1.0])).shape
    (2,)
    """

    _param_names = ("W", "b")

    def __init__(self, in_features: int, out_features: int, seed: int = 0) -> None:
        n_in, n_out = _positive_int(in_features, "in_features"), _positive_int(out_features, "out_features")
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(n_in)
        self.W = Tensor(rng.uniform(-bound, bound, (n_out, n_in)), label="W")
        self.b = Tensor(rng.uniform(-bound, bound, n_out), label="b")

    def __call__(self, x: Tensor) -> Tensor:
        return F.linear(x, self.W, self.b)


class RNN(Module):
    """The simple recurrent net of the notes; ``micrornn.unroll`` turns it into a graph.

    feedback="hidden" feeds ``H_{t-1}`` back (Elman); "output" feeds ``O_{t-1}`` (Jordan), so ``W_h``
    is then hidden×output. ``truncate=k`` cuts the graph every k steps with ``detach()`` (``None``:
    full BPTT; 1: the copy nets, whose context units hold a copy no gradient flows back through).
    ``token_ids=True`` makes the inputs token ids 0..input_size−1 instead of vectors: ``W^X X_t`` is
    then column ``X_t`` of ``W^X`` (the product with a one-hot vector, as ``nn.Embedding``); without it
    an integer input is an error, never silently read as ids.
    Parameters are uniform in ±1/√hidden, drawn from ``seed``.

    ``step`` is the one recurrence — the unroller, ``sample`` and user code all call it:

        >>> from micrornn.unroll import TensorBackend
        >>> from micrornn.tensor import Tensor
        >>> rnn = RNN(2, 3, 1)
        >>> H_1 = rnn.step(TensorBackend(), rnn, None, Tensor([1.0, 0.0]))   # H_1 = f(W^X X_1 + b)
        >>> rnn.step(TensorBackend(), rnn, H_1, Tensor([0.0, 1.0])).shape
        (3,)
    """

    _param_names = ("W_h", "W_x", "b", "W_o", "b_o")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        activation: str = "tanh",
        feedback: str = "hidden",
        truncate: int | None = None,
        seed: int = 0,
        token_ids: bool = False,
    ) -> None:
        self.input_size = _positive_int(input_size, "input_size")
        self.hidden_size = _positive_int(hidden_size, "hidden_size")
        self.output_size = _positive_int(output_size, "output_size")
        self.f = F.activation(activation)  # raises for an unknown name
        self.activation = activation
        if feedback not in FEEDBACKS:
            raise ValueError(f"feedback must be one of {FEEDBACKS} (Elman / Jordan), got {feedback!r}")
        self.feedback = feedback
        if truncate is not None:
            truncate = _positive_int(truncate, "truncate (None for full BPTT, or k ≥ 1)")
        self.truncate = truncate
        if not isinstance(token_ids, (bool, np.bool_)):
            raise TypeError(f"token_ids must be True or False, got {token_ids!r}")
        self.token_ids = bool(token_ids)
        self.seed = seed
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(self.hidden_size)
        H, I, O = self.hidden_size, self.input_size, self.output_size

        def init(*shape: int) -> np.ndarray:
            return rng.uniform(-bound, bound, shape)

        self.W_h = Tensor(init(H, H if feedback == "hidden" else O), label="W^H")
        self.W_x = Tensor(init(H, I), label="W^X")
        self.b = Tensor(init(H), label="b")
        self.W_o = Tensor(init(O, H), label="W^O")
        self.b_o = Tensor(init(O), label="b^O")

    def step(self, be: Any, p: Any, context: Any, X_t: Any) -> Any:
        """One step of the recurrence, ``H_t = f(W^H C_t + W^X X_t + b)`` with C_t the context.

        ``be`` is the backend (Tensors or Values), ``p`` holds the parameters by name — the per-step
        copies in an unrolled graph, the parameters themselves (``p = self``) when sampling. No
        context (step 1 without ``h0``) means no W^H term; no input (``one_to_many`` after step 1
        with ``feed="zeros"``) means no W^X term.
        """
        z = be.affine(p.W_h, context, p.b) if context is not None else p.b
        if X_t is not None:
            z = be.affine(p.W_x, X_t) + z
        return be.apply(self.f, z)

    def output(self, be: Any, p: Any, H_t: Any) -> Any:
        """``O_t = W^O H_t + b^O``."""
        return be.affine(p.W_o, H_t, p.b_o)

    @property
    def context_size(self) -> int:
        """Width of what is fed back: H_{t-1} (Elman) or O_{t-1} (Jordan)."""
        return self.hidden_size if self.feedback == "hidden" else self.output_size

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"output_size={self.output_size}, activation={self.activation!r}, feedback={self.feedback!r}, "
            f"truncate={self.truncate}, seed={self.seed}{', token_ids=True' if self.token_ids else ''})"
        )


class Elman(RNN):
    """The Elman copy net: the hidden state is *copied* into context units (``truncate=1``)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, activation: str = "tanh",
                 seed: int = 0, token_ids: bool = False) -> None:
        super().__init__(input_size, hidden_size, output_size, activation, feedback="hidden", truncate=1, seed=seed,
                         token_ids=token_ids)


class Jordan(RNN):
    """The Jordan copy net: the *output* is copied into the context units (``truncate=1``)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, activation: str = "tanh",
                 seed: int = 0, token_ids: bool = False) -> None:
        super().__init__(input_size, hidden_size, output_size, activation, feedback="output", truncate=1, seed=seed,
                         token_ids=token_ids)

