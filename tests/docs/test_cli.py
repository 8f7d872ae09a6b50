"""[E] 13: every user error of the `micrornn` command is one line on stderr naming the argument, exit code 2."""

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from micrornn.cli import main as cli

pytestmark = [pytest.mark.lesson_tour]  # this file's lessons: pytest -m lesson_tour

ROOT = Path(__file__).resolve().parents[2]


def one_line_error(capsys, argv, *expected):
    """Run the command; it must return 2 and print one line on stderr holding each expected piece."""
    assert cli(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for piece in expected:
        assert piece in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("argv, expected", [
    (["draw", "--seed", "-1"], ["argument --seed", "≥ 0, got -1"]),
    (["draw", "--seed", "1e3"], ["argument --seed", "whole number, got '1e3'"]),
    (["draw", "--steps", "0"], ["argument --steps", "got 0"]),
    (["draw", "--steps", "2.5"], ["argument --steps", "whole number, got '2.5'"]),
    (["draw", "--steps", "10001"], ["argument --steps", "from 1 to 10,000"]),
    (["draw", "--hidden", "0"], ["argument --hidden"]),
    (["draw", "--hidden", "1001"], ["argument --hidden", "from 1 to 1,000"]),
    (["draw", "--input", "-3"], ["argument --input"]),
    (["draw", "--output", "x"], ["argument --output"]),
    (["draw", "--truncate", "0"], ["argument --truncate", "≥ 1"]),
    (["draw", "--max-steps", "1"], ["argument --max-steps", "from 2"]),
    (["draw", "--topology", "sideways"], ["argument --topology", "invalid choice"]),
    (["draw", "--view", "fine"], ["argument --view"]),
    (["draw", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["draw", "--steps", "10000", "--hidden", "1000"], ["argument --steps", "use fewer steps or a smaller net"]),
    (["draw", "--steps", "5000", "--hidden", "5", "--scalar"], ["argument --steps", "--scalar makes one per number"]),
    (["draw", "--cell", "transformer"], ["argument --cell", "invalid choice"]),
    (["draw", "--cell", "lstm", "--feedback", "output"], ["argument --feedback", "not of --cell lstm"]),
    (["draw", "--cell", "gru", "--activation", "relu"], ["argument --activation", "not of --cell gru"]),
    (["draw", "--cell", "elman", "--truncate", "2"], ["argument --truncate", "truncation is 1 by definition"]),
    (["draw", "--cell", "lstm", "--steps", "2000", "--hidden", "100"], ["argument --steps", "use fewer steps"]),
    (["tour", "--jobs", "0"], ["argument --jobs", "from 1 to 64"]),
    (["tour", "--jobs", "two"], ["argument --jobs", "whole number"]),
    (["tour", "--step", "--jobs", "2"], ["argument --jobs", "--step runs the demos one at a time"]),
    ([], ["required: command"]),
    (["fly"], ["argument command", "invalid choice"]),
])
def test_e13_numbers_and_choices_name_the_argument(capsys, argv, expected):
    one_line_error(capsys, argv, *expected)


def test_e13_draw_out_that_cannot_be_written(capsys, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    cases = [
        ("", ["argument --out", "needs a file name"]),
        ("   ", ["argument --out", "needs a file name"]),
        (str(tmp_path), ["argument --out", "is a folder"]),
        (str(tmp_path) + "/", ["argument --out", "is a folder"]),
        (str(a_file / "p.svg"), ["argument --out", "is a file, not a folder"]),
        (str(tmp_path / "p.xyz"), ["argument --out", ".svg, .png, .pdf"]),
        (str(tmp_path / "picture"), ["argument --out", "must end in one of"]),
    ]
    if Path("/proc/self").is_dir():
        cases.append(("/proc/micrornn_test/p.svg", ["argument --out", "cannot write"]))
        cases.append(("/proc/p.svg", ["argument --out", "cannot write"]))
    for out, expected in cases:
        one_line_error(capsys, ["draw", "--steps", "2", "--out", out], *expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # nothing written on the way


@pytest.mark.parametrize("command", [["tour"], ["demo", "03"]])
def test_e13_folder_out_that_cannot_be_written(capsys, tmp_path, command):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    one_line_error(capsys, [*command, "--out", ""], "argument --out", "needs a folder name")
    one_line_error(capsys, [*command, "--out", str(a_file)], "argument --out", "is a file, not a folder")
    one_line_error(capsys, [*command, "--out", str(a_file / "sub")], "argument --out", "is a file, not a folder")
    if Path("/proc/self").is_dir():
        one_line_error(capsys, [*command, "--out", "/proc/micrornn_test"], "argument --out", "cannot")


def test_e13_unknown_demo_lists_the_demos(capsys, tmp_path):
    line = one_line_error(capsys, ["demo", "99", "--out", str(tmp_path / "out")], "'99'", "the demos are")
    assert "01_value_engine" in line and "09_bptt_worked_example" in line
    assert not (tmp_path / "out").exists()  # a bad name leaves no folder behind


def test_e13_help_is_not_an_error(capsys):
    assert cli(["draw", "--help"]) == 0
    assert "--max-steps" in capsys.readouterr().out


def test_e13_python_m_micrornn_prints_no_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "micrornn", "draw", "--out", ""], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == ("micrornn draw: error: argument --out: needs a file name such as picture.svg, "
                                   "got '' (see micrornn draw --help)")


def test_e13_a_file_name_too_long_for_the_os_is_a_one_line_error(capsys, tmp_path):
    one_line_error(capsys, ["draw", "--out", str(tmp_path / ("a" * 300 + ".svg"))], "--out", "longer than 255")


def test_e13_an_upper_case_suffix_names_the_same_format(tmp_path):
    assert cli(["draw", "--steps", "2", "--hidden", "2", "--out", str(tmp_path / "p.SVG")]) == 0
    assert (tmp_path / "p.SVG").read_text().lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_f6_ctrl_c_stops_a_tour_and_its_workers_with_one_line(tmp_path):
    import os
    import signal
    import time

    argv = [sys.executable, "-m", "micrornn", "tour", "--quick", "--jobs", "2", "--out", str(tmp_path)]
    tour = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,  # its own process group, as a terminal gives it: Ctrl-C reaches all
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    # the demos are running once the first one's folder is there (the tour starts the longest ones first)
    while not any(p.is_dir() for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # past the workers' start-up: a Ctrl-C inside an import prints the interpreter's own noise
    os.killpg(tour.pid, signal.SIGINT)
    try:
        _, err = tour.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while (left := _running_in_group(tour.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(tour.pid, signal.SIGKILL)
    assert tour.returncode == 130 and err.strip().splitlines()[-1] == "micrornn tour: interrupted", err
    assert "Traceback" not in err
    assert not left, f"a process of the tour is still running: {left}"


_BORN = r"""
import os, signal, sys
from pathlib import Path
import micrornn.tour as tour

r, w = os.pipe()
held = lambda: signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
os.register_at_fork(after_in_child=lambda: os.write(w, b"1" if held() else b"0"))  # at birth, before any setup

def demo(path, out, quick, injected):  # in the worker, after its set-up: Ctrl-C ignored, no longer blocked
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN and not held(), 0.0, ""

tour._run_in_worker = demo
runs = [ok for ok, _, _ in tour._in_workers([Path("a.py"), Path("b.py")], Path(sys.argv[1]), True, 2)]
print(runs, os.read(r, 16).decode(), held())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="fork-started workers (Linux); the mask is POSIX")
def test_tour_workers_are_born_with_ctrl_c_held_back(tmp_path):
    # a Ctrl-C inside a worker's start-up printed the interpreter's "Exception ignored" traceback (CI, #19's
    # session): the workers are now started with SIGINT blocked, and the tour's own process unblocks it after
    out = subprocess.run([sys.executable, "-c", _BORN, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[True,", "True]", "11", "False"], out.stdout


_HELD = r"""
import gc, os, signal, sys
from pathlib import Path
import micrornn.tour as tour

def demo(path, out, quick, injected):
    return None, 0.0, ""

tour._run_in_worker = demo
real_submit = tour.ProcessPoolExecutor.submit

def submit(self, *args, **kwargs):  # Ctrl-C pressed while the workers start: held back until the submits end
    future = real_submit(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGINT)
    return future

tour.ProcessPoolExecutor.submit = submit
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # the caller's own mask, to be kept
try:
    list(tour._in_workers([Path("a.py"), Path("b.py")], Path(sys.argv[1]), True, 2))
except KeyboardInterrupt:
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    print("interrupted", gc.get_freeze_count(), signal.SIGUSR1 in mask, signal.SIGINT in mask)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="fork-started workers (Linux); the mask is POSIX")
def test_a_ctrl_c_held_back_at_start_up_leaves_the_collector_and_the_callers_mask_as_they_were(tmp_path):
    out = subprocess.run([sys.executable, "-c", _HELD, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["interrupted", "0", "True", "False"], (out.stdout, out.stderr[-2000:])


def _running_in_group(pgid: int) -> list[str]:
    """The processes of a group that still run (a worker, a dot): ps lines, zombies left out (a container's
    first process may be slow to reap an orphan that has ended)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return []
    if shutil.which("ps") is None:
        return [f"a process of group {pgid} (no ps here to tell which, or whether it is a zombie)"]
    ps = subprocess.run(["ps", "-eo", "pid,pgid,stat,cmd"], capture_output=True, text=True).stdout
    rows = [line.split(None, 3) for line in ps.splitlines()[1:]]
    return [" ".join(row) for row in rows if len(row) > 2 and row[1] == str(pgid) and not row[2].startswith("Z")]


def test_f6_a_reader_that_goes_away_ends_the_tour_quietly(tmp_path):
    """`micrornn tour | head -3`: the broken pipe is not a problem with --out, and no traceback."""
    demos = tmp_path / "demos"
    demos.mkdir()
    for i in (1, 2):
        (demos / f"0{i}_loud.py").write_text(
            "from pathlib import Path\nfrom micrornn.report import Report, params\n"
            "QUICK, OUT = params(QUICK=False, OUT=Path('unused'))\nreport = Report('loud', OUT)\n"
            "for k in range(3000):\n    print('line', k)\n")
    tour = subprocess.Popen([sys.executable, "-m", "micrornn", "tour", "--jobs", "2", "--out", str(tmp_path / "out")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MICRORNN_DEMOS": str(demos)})
    assert tour.stdout.readline() == "\n"  # the first header's blank line; then the reader leaves
    tour.stdout.close()
    err = tour.stderr.read()
    assert tour.wait(timeout=60) == 141 and err == "", err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("cell, kind", [("rnn", "RNN"), ("elman", "Elman"), ("jordan", "Jordan"), ("lstm", "LSTM"),
                                        ("gru", "GRU")])
def test_l6_draw_draws_the_cell_it_is_told(capsys, tmp_path, monkeypatch, cell, kind):
    from micrornn import viz

    drawn = []
    real = viz.draw
    monkeypatch.setattr(viz, "draw", lambda u, **kw: drawn.append(u) or real(u, **kw))
    out = tmp_path / "p.svg"
    assert cli(["draw", "--cell", cell, "--steps", "3", "--h0", "--out", str(out)]) == 0
    assert type(drawn[0].rnn).__name__ == kind and out.stat().st_size > 1000
    assert f"({cell}, many-to-one, T = 3" in capsys.readouterr().out
    if cell in ("elman", "jordan"):
        assert drawn[0].cuts, "a copy net's picture shows its context copies"
