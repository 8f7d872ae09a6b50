"""Modules: parameters with names, `Linear`, and the recurrent net of the notes.

    H_t = f(W^H H_{t-1} + W^X X_t + b)        O_t = W^O H_t + b^O

Shapes follow PyTorch's ``nn.RNN``: ``W_h`` is hidden×hidden, ``W_x`` hidden×input, ``W_o``
output×hidden; a batch is a leading dimension. The graph itself is built by ``micrornn.unroll``.

    >>> rnn = RNN(input_size=2, hidden_size=3, output_size=1, seed=0)
    >>> [(name, p.shape) for name, p in rnn.named_parameters()]
    [('W_h', (3, 3)), ('W_x', (3, 2)), ('b', (3,)), ('W_o', (1, 3)), ('b_o', (1,))]
"""

from __future__ import annotations

import math
import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy

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
            >>> with tempfile.TemporaryDirectory() as d:
            ...     rnn = RNN(2, 3, 1); rnn.save(Path(d) / "rnn.npz"); rnn.load(Path(d) / "rnn.npz")
        """
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"save: {path} is a directory; give a file name such as {path / 'rnn.npz'}")
        target = Path(os.path.realpath(path))  # through any symlinks: the link stays a link
        if not target.parent.is_dir():
            raise FileNotFoundError(f"save: the directory {target.parent} does not exist")
        mode = None
        if target.exists() and not target.is_file():  # a rename would swap /dev/null or a pipe for a file
            raise ValueError(f"save: {target} is not a regular file; give the path of an .npz file")
        if target.exists():
            if not os.access(target, os.W_OK):  # replacing it would bypass its read-only bits
                raise PermissionError(f"save: {target} is not writable")
            mode = stat.S_IMODE(target.stat().st_mode)
        fd, tmp = _new_file_beside(target)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **self.state_dict())
                if mode is not None:
                    os.fchmod(f.fileno(), mode)
                f.flush()
                os.fsync(f.fileno())  # the bytes are on disk before the rename makes them the file
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def load(self, path: str | os.PathLike) -> None:
        """Read parameters written by ``save``; on any error the model is unchanged.

        A file that is not such a checkpoint (not an ``.npz``, damaged, a bare ``.npy``) raises
        ``ValueError("not a micrornn checkpoint: <path>: <what is wrong>")``; one written for another
        architecture names the parameter and both shapes. Every member's ``.npy`` header is checked
        against the model before any data is read, so a small file claiming a huge array fails at once.
        A missing file raises ``FileNotFoundError``.
        """
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"load: {path} is a directory, not a checkpoint file")
        with _open_checkpoint(path) as archive:
            headers = {name: _member_header(archive, name, path) for name in _member_names(archive, path)}
            problem = self._mismatch({name: (shape, dtype) for name, (shape, _, dtype) in headers.items()})
            if problem:
                raise ValueError(f"checkpoint {path} does not fit this {type(self).__name__}: {problem}")
            state = {name: _member_data(archive, name, header, path) for name, header in headers.items()}
        self.load_state_dict(state)


# -- checkpoint files: an .npz (a zip of .npy members, one per parameter) -------------------------------
# Loading reads each member's header first and its data only once every shape and dtype fits the model,
# so the bytes read are bounded by the model's size whatever the file claims.
_DAMAGED = (ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)


def _not_a_checkpoint(path: Path, what: object) -> ValueError:
    return ValueError(f"not a micrornn checkpoint: {path}: {what}")


def _new_file_beside(target: Path) -> tuple[int, Path]:
    """A fresh file in ``target``'s directory (so the rename stays on one file system), mode 0o666 & ~umask.

    ``tempfile.mkstemp`` would make it 0o600; ``os.open`` with 0o666 lets the kernel apply the umask.
    """
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def _open_checkpoint(path: Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with open(path, "rb") as f:
            head = f.read(6)
        if head == b"\x93NUMPY":
            raise _not_a_checkpoint(path, "a single .npy array; save() writes an .npz archive") from None
        if head.startswith(b"PK"):
            raise _not_a_checkpoint(path, "a damaged or truncated zip archive") from None
        raise _not_a_checkpoint(path, "an empty file" if not head else "not an .npz (zip) archive") from None
    except _DAMAGED as e:
        raise _not_a_checkpoint(path, f"damaged zip archive ({e})") from None
    listed, recorded = len(archive.infolist()), _entries_in_end_record(path)
    if recorded is not None and recorded != listed:  # a damaged directory can hide entries
        archive.close()
        raise _not_a_checkpoint(path, f"damaged zip archive (lists {listed} of its {recorded} entries)")
    return archive


def _entries_in_end_record(path: Path) -> int | None:
    """The entry count in the zip's end record (the last 22 bytes when there is no comment), or None."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() < 22:
            return None
        f.seek(-22, os.SEEK_END)
        record = f.read(22)
    return int.from_bytes(record[10:12], "little") if record[:4] == b"PK\x05\x06" else None


def _member_names(archive: zipfile.ZipFile, path: Path) -> list[str]:
    names = archive.namelist()
    if len(set(names)) != len(names):
        raise _not_a_checkpoint(path, "a member name appears twice")
    bad = [n for n in names if not n.endswith(".npy")]
    if bad:
        raise _not_a_checkpoint(path, f"members {bad} are not .npy arrays")
    return [n.removesuffix(".npy") for n in names]


def _npy_header(f: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from a .npy header, leaving ``f`` at the first data byte."""
    version = npy.read_magic(f)
    if version == (1, 0):
        return npy.read_array_header_1_0(f)
    if version == (2, 0):
        return npy.read_array_header_2_0(f)
    raise ValueError(f".npy format version {version[0]}.{version[1]} (save() writes 1.0)")


def _member_header(archive: zipfile.ZipFile, name: str, path: Path) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        with archive.open(name + ".npy") as f:
            return _npy_header(f)
    except _DAMAGED as e:
        raise _not_a_checkpoint(path, f"member {name}.npy: {e}") from None


def _member_data(archive: zipfile.ZipFile, name: str, header: tuple, path: Path) -> np.ndarray:
    shape, fortran, dtype = header
    size = math.prod(shape) * dtype.itemsize
    try:
        with archive.open(name + ".npy") as f:
            _npy_header(f)
            data = f.read(size)
            if len(data) < size:
                raise ValueError(f"its data ends after {len(data)} of the {size} bytes its header promises")
            if f.read(1):  # reading to the end also makes zipfile check the member's CRC
                raise ValueError(f"it holds more than the {size} bytes of data its header promises")
    except _DAMAGED as e:
        raise _not_a_checkpoint(path, f"member {name}.npy: {e}") from None
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C")


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
    Parameters are uniform in ±1/√hidden, drawn from ``seed``.
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

    @property
    def context_size(self) -> int:
        """Width of what is fed back: H_{t-1} (Elman) or O_{t-1} (Jordan)."""
        return self.hidden_size if self.feedback == "hidden" else self.output_size

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"output_size={self.output_size}, activation={self.activation!r}, feedback={self.feedback!r}, "
            f"truncate={self.truncate}, seed={self.seed})"
        )


class Elman(RNN):
    """The Elman copy net: the hidden state is *copied* into context units (``truncate=1``)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, activation: str = "tanh",
                 seed: int = 0) -> None:
        super().__init__(input_size, hidden_size, output_size, activation, feedback="hidden", truncate=1, seed=seed)


class Jordan(RNN):
    """The Jordan copy net: the *output* is copied into the context units (``truncate=1``)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, activation: str = "tanh",
                 seed: int = 0) -> None:
        super().__init__(input_size, hidden_size, output_size, activation, feedback="output", truncate=1, seed=seed)

