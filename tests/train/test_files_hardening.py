"""Bad inputs to the functions that read and write files (issues #17, #18): one clear error at the user's call,
naming the argument and what was wrong, never a raw error from numpy, zipfile, pathlib, dot or Pillow."""

import io
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import micrornn as mr
from micrornn import files
from micrornn.nn import RNN

pytestmark = [pytest.mark.lesson_training]  # this file's lessons: pytest -m lesson_training

ROOT = Path(__file__).resolve().parents[2]


def npz_with(path: Path, model, member: str, raw: bytes, method=zipfile.ZIP_DEFLATED) -> None:
    """``model``'s checkpoint at ``path`` with ``member``'s .npy bytes replaced by ``raw``."""
    with zipfile.ZipFile(path, "w", method) as z:
        for name, p in model.named_parameters():
            f = io.BytesIO()
            np.save(f, p.data)
            z.writestr(name + ".npy", raw if name == member else f.getvalue())


# -- 1. a version-2 .npy header claiming 3 GB is refused before numpy reads it -------------------------------
def test_load_refuses_a_huge_npy_header_before_reading_it(tmp_path):
    rnn = RNN(3, 4, 2)
    path = tmp_path / "v2.npz"
    spaces = zlib.compress(b" " * 20_000_000, 9)  # ~20 kB on disk; numpy read all 20 MB of it, then more
    assert len(spaces) < 100_000
    raw = b"\x93NUMPY\x02\x00" + (3_000_000_000).to_bytes(4, "little") + b" " * 20_000_000
    npz_with(path, rnn, "W_x", raw)
    assert path.stat().st_size < 200_000
    before = rnn.state_dict()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=r"^not a micrornn checkpoint: .*v2.npz: member W_x.npy: its .npy "
                                             r"header claims 3,000,000,000 bytes; a checkpoint's has at most 65,536"):
            rnn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000 and time.perf_counter() - start < 1.0
    assert all(np.array_equal(before[n], p.data) for n, p in rnn.named_parameters())


# -- 2. temporaries: short names, and a killed save's leftovers are cleaned by the next save of that file ----
def test_save_to_a_255_byte_file_name(tmp_path):
    path = tmp_path / ("a" * 251 + ".npz")  # the longest legal name: the temporary must not be longer
    RNN(3, 4, 2, seed=1).save(path)
    b = RNN(3, 4, 2)
    b.load(path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    with pytest.raises(OSError, match="save: the name a+… is 257 bytes long; a file name can have at most 255"):
        RNN(3, 4, 2).save(tmp_path / ("a" * 253 + ".npz"))


KILLED_SAVE = """
import os, signal, sys
import numpy as np
from micrornn.nn import RNN

def killed(f, **arrays):
    f.write(b"PK half an archive")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)

np.savez = killed
RNN(3, 4, 2).save(sys.argv[1])
"""


def test_the_next_save_removes_the_temporaries_a_killed_save_left(tmp_path):
    path, other = tmp_path / "rnn.npz", tmp_path / "other.npz"
    seen = set()
    for _ in range(2):  # each killed save leaves one temporary, and removes the one before
        done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], cwd=ROOT, capture_output=True)
        assert done.returncode == -signal.SIGKILL
        stale = [p.name for p in tmp_path.iterdir()]
        assert len(stale) == 1 and len(stale[0]) < 40 and stale[0] not in seen
        seen.add(stale[0])
    mine = [tmp_path / ".rnn.npz.1234abcd.tmp", tmp_path / files.temporary_name(other), tmp_path / "keep.tmp"]
    for p in mine:  # an older temporary pattern, another file's temporary and the user's own file stay
        p.write_bytes(b"not ours")
    live = tmp_path / files.temporary_name(path)  # a save in progress holds its temporary locked
    fd = os.open(live, os.O_WRONLY | os.O_CREAT)
    import fcntl
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        RNN(3, 4, 2).save(path)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, live.name, *(p.name for p in mine)])
    finally:
        os.close(fd)


# -- 5. load: a symlink loop, a header numpy's tokenizer chokes on, a missing file -----------------------------
def test_load_of_a_symlink_loop_is_one_clear_error(tmp_path):
    (tmp_path / "a.npz").symlink_to(tmp_path / "b.npz")
    (tmp_path / "b.npz").symlink_to(tmp_path / "a.npz")
    with pytest.raises(OSError, match=r"^load: .*a.npz is a loop of symbolic links; give the path of a checkpoint"):
        RNN(3, 4, 2).load(tmp_path / "a.npz")
    with pytest.raises(OSError, match=r"^save: .*a.npz is a loop of symbolic links"):
        RNN(3, 4, 2).save(tmp_path / "a.npz")
    with pytest.raises(FileNotFoundError, match=r"^load: there is no file .*missing.npz"):
        RNN(3, 4, 2).load(tmp_path / "missing.npz")


def test_load_of_a_header_numpys_tokenizer_cannot_read(tmp_path):
    # numpy retries a header it cannot parse with tokenize (for Python 2 files): an open "(" raised TokenError
    text = b"{'descr': '<f8', ("
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    rnn = RNN(3, 4, 2)
    npz_with(tmp_path / "tok.npz", rnn, "b", b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text)
    with pytest.raises(ValueError, match=r"member b.npy: its .npy header is not a readable description of an array"):
        rnn.load(tmp_path / "tok.npz")


# -- paths: str and os.PathLike, nothing else ---------------------------------------------------------------------
class PathLike:
    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return str(self.path)


def test_paths_are_str_or_pathlike(tmp_path):
    a = RNN(3, 4, 2, seed=3)
    a.save(PathLike(tmp_path / "w.npz"))
    b = RNN(3, 4, 2)
    b.load(PathLike(tmp_path / "w.npz"))
    assert np.array_equal(a.W_h.data, b.W_h.data)
    for bad, name in ((123, "int"), (b"w.npz", "bytes"), (None, "NoneType")):
        with pytest.raises(TypeError, match=f"save: path must be a str or os.PathLike file name, got {name}"):
            a.save(bad)
        with pytest.raises(TypeError, match=f"load: path must be a str or os.PathLike file name, got {name}"):
            a.load(bad)
    assert mr.__name__  # the package imports without the optional extras


# -- 3. Stepper.save and to_gif: atomic, and checked before any work ---------------------------------------------
@pytest.fixture(scope="module")
def stepper():
    from micrornn import viz
    from micrornn.stepper import Stepper

    a = mr.Value(2.0, label="a")
    y = a * a
    y.label = "y"
    y.backward()
    return Stepper(viz.backward_frames(y), "y = a·a")


def a_file_in(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("not a folder")
    return tmp_path / "afile"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_stepper_save_to_a_path_that_cannot_be_written(stepper, tmp_path):
    with pytest.raises(PermissionError, match=r"^save: cannot write /proc/self/x.html: the folder /proc/\d+ is not "
                                              "writable"):
        stepper.save("/proc/self/x.html")
    with pytest.raises(NotADirectoryError, match=r"^save: cannot write .*afile/x.html: .*afile is a file, not a"):
        stepper.save(a_file_in(tmp_path) / "x.html")
    with pytest.raises(TypeError, match="save: path must be a str or os.PathLike file name, got int"):
        stepper.save(3)
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_stepper_save_is_atomic(stepper, tmp_path, monkeypatch):
    path = tmp_path / "sub" / "s.html"
    assert stepper.save(PathLike(path)) == path and path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    before = path.read_bytes()
    monkeypatch.setattr("micrornn.viz.stepper.page", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        stepper.save(path)
    real_write = files.atomic_write

    def crash(target, write, who="write"):
        return real_write(target, lambda f: (f.write(b"<!DOCTYPE half"), 1 / 0), who)

    monkeypatch.undo()
    monkeypatch.setattr(files, "atomic_write", crash)
    with pytest.raises(ZeroDivisionError):
        stepper.save(path)
    assert path.read_bytes() == before and [p.name for p in path.parent.iterdir()] == ["s.html"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(fps=0.0015), r"fps must be a number of frames per second from 0.00153 .* to 50, got 0.0015"),
    (dict(fps=1e-300), r"fps must be a number of frames per second from 0.00153"),
    (dict(fps=0), r"fps must be a number"),
    (dict(fps="2"), r"fps must be a number"),
    (dict(loop=65536), r"loop must be an int ≥ 0 and ≤ 65535 \(GIF's 16 bits; 0 = forever\) or None"),
    (dict(loop=-1), r"loop must be an int ≥ 0 and ≤ 65535"),
])
def test_to_gif_refuses_what_a_gif_cannot_hold_before_any_work(stepper, tmp_path, monkeypatch, kwargs, message):
    monkeypatch.setattr("micrornn.viz.gif._dot", lambda *a: pytest.fail("made a PNG before checking the arguments"))
    with pytest.raises(ValueError, match="^to_gif: " + message):
        stepper.to_gif(tmp_path / "s.gif", **kwargs)
    assert not list(tmp_path.iterdir())


def test_to_gif_checks_its_path_first_and_writes_atomically(stepper, tmp_path, monkeypatch):
    path = tmp_path / "s.gif"
    stepper.to_gif(path, fps=100 / 65535, loop=65535)  # the extremes a GIF holds
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.info["duration"] == 655350 and gif.info["loop"] == 65535
    before = path.read_bytes()
    with monkeypatch.context() as m:
        m.setattr("micrornn.viz.gif._dot", lambda *a: pytest.fail("made a PNG before checking the path"))
        with pytest.raises(NotADirectoryError, match=r"^to_gif: cannot write .*afile/s.gif: .*afile is a file"):
            stepper.to_gif(a_file_in(tmp_path) / "s.gif")
        if Path("/proc/self").is_dir():
            with pytest.raises(PermissionError, match=r"^to_gif: cannot write /proc/self/s.gif"):
                stepper.to_gif("/proc/self/s.gif")
    monkeypatch.setattr("micrornn.viz.gif._palette", lambda frames: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        stepper.to_gif(path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["afile", "s.gif"]


# -- 4. viz.render: the format and the path are checked before anything is written --------------------------------
@pytest.fixture(scope="module")
def picture():
    from micrornn import viz

    a = mr.Value(2.0, label="a")
    y = a * a
    y.backward()
    return viz.draw(y)


def test_render_refuses_a_format_dot_cannot_write_and_leaves_nothing(picture, tmp_path):
    from micrornn import viz

    with pytest.raises(ValueError, match=r"^render: dot cannot write a .docx file \(x.docx\); end the name in one of "
                                         r".svg, .png, .pdf, .jpg, .gif, .ps, .eps, .dot \(viz.dot_formats\(\) lists"):
        viz.render(picture, tmp_path / "x.docx")
    assert not list(tmp_path.iterdir())
    assert {"svg", "png", "pdf", "dot"} <= viz.dot_formats()
    assert viz.render(picture, PathLike(tmp_path / "sub" / "x.SVG")) == tmp_path / "sub" / "x.SVG"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["x.SVG", "x.SVG.dot"]  # no temporaries


def test_render_to_a_path_that_cannot_be_written(picture, tmp_path):
    from micrornn import viz

    with pytest.raises(NotADirectoryError, match=r"^render: cannot write .*afile/x.svg: .*afile is a file, not a"):
        viz.render(picture, a_file_in(tmp_path) / "x.svg")
    with pytest.raises(NotADirectoryError, match=r"^render: cannot write .*afile/sub/x.svg: .*afile is a file"):
        viz.render(picture, tmp_path / "afile" / "sub" / "x.svg")
    if Path("/proc/self").is_dir():
        with pytest.raises(PermissionError, match=r"^render: cannot write /proc/self/x.svg: the folder /proc/\d+ is"):
            viz.render(picture, "/proc/self/x.svg")
    with pytest.raises(TypeError, match="render: path must be a str or os.PathLike file name, got list"):
        viz.render(picture, ["x.svg"])
    with pytest.raises(OSError, match=r"render \(the DOT source beside the picture\): the name a+… is 256 bytes"):
        viz.render(picture, tmp_path / ("a" * 248 + ".svg"))  # legal, but its .dot beside it would not be
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


# -- 7. the CLI: a MemoryError past the size guard is one line, not a traceback ----------------------------------
@pytest.mark.parametrize("argv, expected", [
    (["draw", "--steps", "4", "--hidden", "900", "--scalar"], "out of memory building the graph of --steps 4 with "
     "--hidden 900, --input 2, --output 2 and --scalar; use fewer --steps or a smaller net"),
    (["demo", "03"], "out of memory running the demo; try --quick, or close other programs"),
])
def test_cli_out_of_memory_is_one_line(capsys, monkeypatch, tmp_path, argv, expected):
    from micrornn import cli, tour

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("micrornn.nn.RNN", no_memory)
    monkeypatch.setattr(tour, "run_demo", no_memory)
    monkeypatch.setattr(cli, "_check_size", lambda args: None)  # as if the guard had let it through
    assert cli.main([*argv, "--out", str(tmp_path / ("p.svg" if argv[0] == "draw" else "out"))]) == 1
    err = capsys.readouterr().err
    assert err == f"micrornn {argv[0]}: error: {expected}\n"


# -- 6. MICRORNN_OUT: empty is unset; a folder that cannot be written is one line in a script -------------------
SCRIPT = "from pathlib import Path\nfrom micrornn.report import params\nprint(params(OUT=Path('out/demo/x')))\n"


@pytest.mark.parametrize("value, message", [
    ("/dev/null/x", "MICRORNN_OUT='/dev/null/x': cannot write /dev/null/x: /dev/null is a device or pipe, not a "
                    "folder"),
    ("/proc/self/out", "MICRORNN_OUT='/proc/self/out': cannot write /proc/self/out: the folder /proc/self is not "
                       "writable"),
])
def test_micrornn_out_that_cannot_be_written(tmp_path, monkeypatch, value, message):
    from micrornn.report import params

    if not Path(value).parent.parent.exists():
        pytest.skip(f"needs {Path(value).parent.parent}")
    (tmp_path / "demo.py").write_text(SCRIPT)
    done = subprocess.run([sys.executable, "demo.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MICRORNN_OUT": value})
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"error: {message}\n")  # no traceback
    monkeypatch.setenv("MICRORNN_OUT", value)
    with pytest.raises(OSError, match="^" + message.replace("(", r"\(")):  # called from code: an exception
        params(OUT=Path("out/demo/x"))


def test_an_empty_micrornn_out_is_unset(tmp_path, monkeypatch):
    from micrornn.report import params

    monkeypatch.setenv("MICRORNN_OUT", "")
    assert params(OUT=Path("out/demo/x")) == Path("out/demo/x")  # not Path(""), the working folder
    monkeypatch.setenv("MICRORNN_OUT", str(tmp_path / "new"))
    assert params(OUT=Path("out/demo/x")) == tmp_path / "new" and not (tmp_path / "new").exists()
