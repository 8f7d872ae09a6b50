"""Writing files safely: check an output path before any work, then write it atomically.

Every file the library writes (checkpoints, stepper pages and GIFs, rendered pictures) goes through
``atomic_write``: the bytes go to a temporary file beside the target, then ``os.replace`` makes them the
file, so a crash leaves the old file or none, never half of one. A path that cannot be written is one
clear error naming it, before any work, never a raw ``OSError`` from deep inside numpy, Pillow or ``dot``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = writable_file(Path(d) / "a.txt", "demo")
    ...     _ = atomic_write(target, lambda f: f.write(b"hello"))
    ...     (Path(d) / "a.txt").read_bytes()
    b'hello'
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["as_path", "writable_folder", "writable_file", "atomic_write", "temporary_name"]

NAME_MAX = 255  # bytes in one file name on Linux, macOS and Windows file systems


def as_path(path: Any, who: str, arg: str = "path") -> Path:
    """``path`` (a str or os.PathLike) as a Path; another type, an empty or too long name is a clear error."""
    name = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(name, str):
        raise TypeError(f"{who}: {arg} must be a str or os.PathLike file name, got {type(path).__name__}")
    if not name:
        raise ValueError(f"{who}: {arg} must name a file, got an empty string")
    too_long = [part for part in Path(name).parts if len(os.fsencode(part)) > NAME_MAX]
    if too_long:  # the OS refuses it (ENAMETOOLONG) wherever it is used: say so once, here
        raise OSError(f"{who}: the name {too_long[0][:40]}… is {len(os.fsencode(too_long[0]))} bytes long; "
                      f"a file name can have at most {NAME_MAX}")
    return Path(name)


def _stat(path: Path, who: str) -> os.stat_result | None:
    """``os.stat(path)``, None if nothing is there; a symlink loop is a clear error."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OSError(f"{who}: {path} is a loop of symbolic links; point it at a real file") from None
        if e.errno == errno.ENOTDIR:  # a part of the path is a file: the caller names which
            return None
        raise OSError(f"{who}: cannot look at {path}: {e.strerror}") from None


def _folder_problem(folder: Path, who: str, path: Path, make: bool) -> None:
    """Raise if files cannot be made in ``folder`` (or, with ``make``, if it cannot be created)."""
    existing = next(p for p in [folder, *folder.parents] if _stat(p, who) is not None)
    if not existing.is_dir():
        what = "a file" if existing.is_file() else "a device or pipe"
        raise NotADirectoryError(f"{who}: cannot write {path}: {existing} is {what}, not a folder")
    if existing != folder and not make:
        raise FileNotFoundError(f"{who}: the folder {folder} does not exist; create it first")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{who}: cannot write {path}: the folder {existing} is not writable")


def writable_folder(folder: Path, who: str) -> Path:
    """``folder``, after checking it is (or can be made) a folder files can be written in; else a clear OSError."""
    found = _stat(folder, who)
    if found is not None and not stat.S_ISDIR(found.st_mode):
        raise NotADirectoryError(f"{who}: {folder} is a file, not a folder")
    _folder_problem(folder, who, folder, make=True)
    return folder


def writable_file(path: Path, who: str, make_folders: bool = False) -> Path:
    """The real file that writing ``path`` replaces (symlinks followed, so the link stays a link), after
    checking it can be written: its folder exists (or, with ``make_folders``, can be made and now is), and
    what is there already is a regular, writable file. Else a clear OSError naming ``path``."""
    found = _stat(path, who)
    target = Path(os.path.realpath(path))
    _folder_problem(target.parent, who, path, make_folders)
    if found is not None and not stat.S_ISREG(found.st_mode):  # a rename would swap /dev/null or a pipe for a file
        raise ValueError(f"{who}: {target} is not a regular file; give the path of a file to write")
    if found is not None and not os.access(target, os.W_OK):  # replacing it would bypass its read-only bits
        raise PermissionError(f"{who}: {target} is not writable")
    if make_folders:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise type(e)(f"{who}: cannot write {path}: cannot create the folder {target.parent} "
                          f"({e.strerror})") from None
    return target


# -- temporaries ------------------------------------------------------------------------------------------
# A temporary is ".micrornn-<tag>-<random>.tmp": short, so a legal 255-byte target name still has room, and
# <tag> (from the target's name) tells which target it belongs to. The writer holds an flock on it until
# it is renamed; the lock goes with the process, so one nobody holds is left by a killed save: stale.
def _tag(target: Path) -> str:
    return hashlib.sha256(os.fsencode(target.name)).hexdigest()[:8]


def temporary_name(target: Path) -> str:
    """A fresh temporary's name for ``target`` (the test of the cleanup makes one)."""
    return f".micrornn-{_tag(target)}-{secrets.token_hex(4)}.tmp"


def _is_temporary_of(name: str, tag: str) -> bool:
    prefix, suffix = f".micrornn-{tag}-", ".tmp"
    middle = name[len(prefix):-len(suffix)]
    return (name.startswith(prefix) and name.endswith(suffix) and len(middle) == 8
            and all(c in "0123456789abcdef" for c in middle))


def _remove_stale_temporaries(target: Path) -> None:
    """Delete this target's temporaries that no running save holds (left by a save that was killed)."""
    tag = _tag(target)
    with contextlib.suppress(OSError):  # cleanup is a courtesy: it never stops a save
        for entry in os.scandir(target.parent):
            if _is_temporary_of(entry.name, tag) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    fd = os.open(entry.path, os.O_RDONLY)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a save is writing it
                        os.unlink(entry.path)
                    finally:
                        os.close(fd)


def _new_temporary(target: Path, who: str) -> tuple[int, Path]:
    """A fresh, locked file in ``target``'s folder (so the rename stays on one file system), mode
    0o666 & ~umask (``tempfile.mkstemp`` would make it 0o600; ``os.open`` lets the kernel apply the umask)."""
    while True:
        tmp = target.with_name(temporary_name(target))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as e:  # e.g. /proc/self, a read-only mount: the checks cannot foresee every folder
            raise type(e)(f"{who}: cannot write {target}: the folder {target.parent} does not take new files "
                          f"({e.strerror})") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd, tmp


def atomic_write(target: Path, write: Callable[[IO[bytes]], Any], who: str = "write") -> Path:
    """Call ``write(f)`` on a temporary beside ``target`` (from ``writable_file``), then rename it over
    ``target``. An existing file keeps its permission bits; a new one gets ``0o666 & ~umask``; on any
    error (Ctrl-C too) the temporary is removed and ``target`` is untouched."""
    _remove_stale_temporaries(target)
    mode = stat.S_IMODE(target.stat().st_mode) if target.is_file() else None
    fd, tmp = _new_temporary(target, who)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them the file
            os.replace(tmp, target)  # while the lock is held: no cleanup can take it for stale
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
