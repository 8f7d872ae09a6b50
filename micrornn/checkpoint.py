"""Checkpoint files: an ``.npz`` (a zip of one ``.npy`` member per parameter), written atomically.

Reading checks each member's header (shape, dtype) against the model before its data, so the bytes read
are bounded by the model's size whatever the file claims. ``Module.save`` / ``Module.load`` call these.

    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write(Path(d) / "w.npz", {"W": np.eye(2)})
    ...     read(Path(d) / "w.npz", lambda headers: None)["W"].shape
    (2, 2)
"""

from __future__ import annotations

import errno
import io
import math
import os
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy

from . import files

__all__ = ["write", "read"]

def write(path: str | os.PathLike, state: Mapping[str, np.ndarray]) -> None:
    """Write named arrays to an ``.npz`` file atomically: a temporary file beside the target, then a rename.

    A symlink is written through (its target is replaced, the link stays), an existing file keeps its
    permission bits, a new one gets the usual ``0o666 & ~umask``. A temporary left by a killed save of the
    same file is removed (see ``files.atomic_write``)."""
    path = files.as_path(path, "save")
    if path.is_dir():
        raise IsADirectoryError(f"save: {path} is a directory; give a file name such as {path / 'rnn.npz'}")
    files.atomic_write(files.writable_file(path, "save"), lambda f: np.savez(f, **state), "save")


def read(path: str | os.PathLike, mismatch: Callable[[Mapping[str, tuple]], str | None],
         model: str = "model") -> dict[str, np.ndarray]:
    """The arrays of a checkpoint written by ``write``, by name.

    ``mismatch`` gets every member's (shape, dtype) from its header, before any data is read, and returns
    what keeps them from fitting the model (or None): a small file claiming a huge array fails at once.
    Not a checkpoint (not an ``.npz``, damaged, a bare ``.npy``): ``ValueError("not a micrornn checkpoint: …")``."""
    path = files.as_path(path, "load")
    found = _found(path)
    if found.is_dir():
        raise IsADirectoryError(f"load: {path} is a directory, not a checkpoint file")
    if not found.is_file():  # /dev/zero never ends, a FIFO blocks until someone writes
        raise _not_a_checkpoint(path, "not a regular file (a device, pipe or socket)")
    with _open_checkpoint(path) as archive:
        headers = {name: _member_header(archive, name, path) for name in _member_names(archive, path)}
        problem = mismatch({name: (shape, dtype) for name, (shape, _, dtype) in headers.items()})
        if problem:
            raise ValueError(f"checkpoint {path} does not fit this {model}: {problem}")
        state = {name: _member_data(archive, name, header, path) for name, header in headers.items()}
    return state


_DAMAGED = (ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)
MAX_HEADER = 64 * 1024  # bytes in one member's .npy header; save() writes about 128


def _found(path: Path) -> Path:
    """``path``, after checking something is there: a missing file or a symlink loop is one clear error."""
    try:
        path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"load: there is no file {path}") from None
    except OSError as e:
        what = "is a loop of symbolic links" if e.errno == errno.ELOOP else f"cannot be read ({e.strerror})"
        raise OSError(f"load: {path} {what}; give the path of a checkpoint saved by save()") from None
    return path


def _not_a_checkpoint(path: Path, what: object) -> ValueError:
    return ValueError(f"not a micrornn checkpoint: {path}: {what}")


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
    """(shape, fortran_order, dtype) from a .npy header, leaving ``f`` at the first data byte.

    The header's length is read here and checked first: numpy would read all of a claimed 3 GB before its own
    size check, so a crafted 50 kB file could take gigabytes of memory."""
    version = npy.read_magic(f)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f".npy format version {version[0]}.{version[1]} (save() writes 1.0)")
    size_field = f.read(2 if version == (1, 0) else 4)
    length = int.from_bytes(size_field, "little")
    if length > MAX_HEADER:
        raise ValueError(f"its .npy header claims {length:,} bytes; a checkpoint's has at most {MAX_HEADER:,}")
    header = io.BytesIO(size_field + f.read(length))
    read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    try:
        return read_header(header, max_header_size=MAX_HEADER)
    except (SyntaxError, tokenize.TokenError, RecursionError, MemoryError):  # from numpy parsing the header text
        raise ValueError("its .npy header is not a readable description of an array") from None


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
