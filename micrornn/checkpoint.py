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

import math
import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy

__all__ = ["write", "read"]

def write(path: str | os.PathLike, state: Mapping[str, np.ndarray]) -> None:
    """Write named arrays to an ``.npz`` file atomically: a temporary file beside the target, then a rename.

    A symlink is written through (its target is replaced, the link stays), an existing file keeps its
    permission bits, a new one gets the usual ``0o666 & ~umask``."""
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
            np.savez(f, **state)
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them the file
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read(path: str | os.PathLike, mismatch: Callable[[Mapping[str, tuple]], str | None],
         model: str = "model") -> dict[str, np.ndarray]:
    """The arrays of a checkpoint written by ``write``, by name.

    ``mismatch`` gets every member's (shape, dtype) from its header, before any data is read, and returns
    what keeps them from fitting the model (or None): a small file claiming a huge array fails at once.
    Not a checkpoint (not an ``.npz``, damaged, a bare ``.npy``): ``ValueError("not a micrornn checkpoint: …")``."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"load: {path} is a directory, not a checkpoint file")
    if path.exists() and not path.is_file():  # /dev/zero never ends, a FIFO blocks until someone writes
        raise _not_a_checkpoint(path, "not a regular file (a device, pipe or socket)")
    with _open_checkpoint(path) as archive:
        headers = {name: _member_header(archive, name, path) for name in _member_names(archive, path)}
        problem = mismatch({name: (shape, dtype) for name, (shape, _, dtype) in headers.items()})
        if problem:
            raise ValueError(f"checkpoint {path} does not fit this {model}: {problem}")
        state = {name: _member_data(archive, name, header, path) for name, header in headers.items()}
    return state


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
