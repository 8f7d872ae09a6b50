"""Modules: parameters with names (save, load, state_dict), and ``Linear``.

    >>> layer = Linear(3, 2, seed=0)
    >>> [(name, p.shape) for name, p in layer.named_parameters()]
    [('W', (2, 3)), ('b', (2,))]
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from . import checkpoint
from . import functional as F
from .flags import positive_int
from .tensor import Tensor

__all__ = ["Module", "Linear"]


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
            p.copy_(arrays[name])  # recorded: a graph built from the old weights refuses backward()

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters to an ``.npz`` file, atomically: a temporary file, then a rename.

        A symlink is written through (its target is replaced, the link stays), an existing file keeps its
        permission bits, a new one gets the usual ``0o666 & ~umask``.

            >>> import tempfile
            >>> from pathlib import Path
            >>> with tempfile.TemporaryDirectory() as d:
            ...     layer = Linear(2, 3); layer.save(Path(d) / "w.npz"); layer.load(Path(d) / "w.npz")
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
        n_in, n_out = positive_int(in_features, "in_features"), positive_int(out_features, "out_features")
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(n_in)
        self.W = Tensor(rng.uniform(-bound, bound, (n_out, n_in)), label="W")
        self.b = Tensor(rng.uniform(-bound, bound, n_out), label="b")

    def __call__(self, x: Tensor) -> Tensor:
        return F.linear(x, self.W, self.b)
