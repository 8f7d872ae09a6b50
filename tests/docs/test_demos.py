"""Every demo runs as a script with QUICK injected and its key claim holds in its `report`; the quick tour
runs end to end."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from micrornn import tour
from micrornn.cli import main as cli
from micrornn.report import Report, inject, no_progress_bars, params, progress
from micrornn.tour import DEMOS_DIR, execute, find_demos, write_index

pytestmark = [pytest.mark.lesson_tour,  # this file's lessons: pytest -m lesson_tour
              pytest.mark.skipif(shutil.which("dot") is None, reason="the demos draw with Graphviz's dot")]


@pytest.fixture
def run(quick_tour):
    def numbers(name):
        _, _, out, reports = quick_tour
        report = reports[name]
        assert report.figures, "every demo shows at least one picture"
        for file, _ in [*report.figures, *report.links]:
            assert Path(file).exists() and Path(file).stat().st_size > 500, file
            assert Path(file).parent == out / name, "pictures go to the injected OUT"
        return report.numbers

    return numbers


def test_the_demos_are_numbered_in_the_notes_order():
    numbers = [int(p.stem[:2]) for p in find_demos()]
    assert numbers[:9] == list(range(1, 10)) and numbers == list(range(1, len(numbers) + 1))


def test_01_value_engine(run):
    n = run("01_value_engine")
    assert n["max |engine − hand|"] < 1e-12


def test_02_copy_nets_fail_where_bptt_learns(run):
    n = run("02_elman_jordan")
    bptt = n["test accuracy, RNN with BPTT"]
    assert bptt >= 0.9
    assert n["test accuracy, Elman copy net"] <= 0.6 and n["test accuracy, Jordan copy net"] <= 0.6
    assert bptt - max(n["test accuracy, Elman copy net"], n["test accuracy, Jordan copy net"]) >= 0.35
    # Elman 1990, XOR in time: one step back is all the copy must carry, and the copy net learns it
    for net in ("Elman copy net", "RNN with BPTT"):
        errors = [n[f"XOR in time, {net}: error at position {k}"] for k in range(3)]
        assert min(errors[0], errors[1]) > 0.24 and errors[2] < 0.2, (net, errors)  # 0.25: guessing
        assert n[f"XOR in time, {net}: position 2 accuracy"] >= 0.85
    # Elman 1990, letters in time: the error is high at the (random) consonants, low over their vowels, and
    # at a consonant the net knows that one comes ("consonantal") but not which ("high", "back")
    assert n["letters in time: error predicting consonants"] > 4 * n["letters in time: error predicting vowels"]
    assert n["letters in time: error on 'high' at the consonants"] > 4 * n[
        "letters in time: error on 'consonantal' at the consonants"]


def test_03_one_to_one_formulas(run):
    n = run("03_one_to_one")
    assert n["max |dL/dH_1 − (W^O)ᵀ dL/dO|"] < 1e-12 and n["max |dL/dW^O − dL/dO H_1ᵀ|"] < 1e-12
    assert n["copies of W^H"] == 0


def test_04_many_to_one(run):
    n = run("04_many_to_one")
    assert n["sentiment test accuracy"] >= 0.9 and n["DNA blood-type test accuracy"] >= 0.9
    assert n["‖Σ_t dL/dW^X_t − dL/dW^X‖"] < 1e-12


def test_05_many_to_many(run):
    n = run("05_many_to_many")
    assert n["loss at end (mean of last 20)"] < 0.5 * n["T·ln V (knowing nothing)"]
    assert n["max |Σ_i dL_i/dH_t − dL/dH_t|"] < 1e-10


def test_06_one_to_many(run):
    assert run("06_one_to_many")["notes right"] >= 0.9


@pytest.mark.lesson_vanishing
def test_07_vanishing_exploding(run):
    n = run("07_vanishing_exploding")
    assert n["w = 1.1: dL/dH_(T-50) / dL/dH_T"] == pytest.approx(117.39, rel=1e-4)
    assert n["w = 0.9: dL/dH_(T-50) / dL/dH_T"] == pytest.approx(0.00515, rel=1e-3)
    assert n["w = 1.1: 65 steps back"] == pytest.approx(1.1**65, rel=1e-12)
    near = n["adding problem T = 5: weight on the first (distant) number"]
    far = n["adding problem T = 20: weight on the first (distant) number"]
    assert near > 0.5 > far  # the distant number is used over a short gap, not over a long one


@pytest.mark.lesson_vanishing
def test_08_gradient_clipping(run):
    n = run("08_gradient_clipping")
    assert not np.isfinite(n["no clipping: final loss"])
    assert np.isfinite(n["clipped: final loss"]) and n["clipped: final loss"] < 1e-3 * n["clipped: first loss"]
    # Pascanu et al. 2013: E drops off a wall between b = -2.62 and -2.61 on the line w = 5
    assert 0.36 < n["cliff: E at w = 5, b = -2.7"] < 0.361 and 0.012 < n["cliff: E at w = 5, b = -2.6"] < 0.0122
    assert n["cliff: largest |dE/db| at the wall"] > 500
    assert n["cliff: the plain step's move from the wall"] > 50  # lr 0.1 times a gradient of norm ~1,000
    assert abs(n["cliff: the clipped step's move from the wall"] - 0.1) < 1e-12  # lr · threshold


def test_09_worked_example(run):
    n = run("09_bptt_worked_example")
    assert n["max |hand − engine| over all quantities"] < 1e-12


def test_quick_tour_end_to_end(quick_tour):
    code, out, folder, _ = quick_tour
    assert code == 0
    index = folder / "index.html"
    assert f"Open {index.resolve()}" in out
    html = index.read_text()
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert len(refs) >= 20
    for ref in refs:
        assert (index.parent / ref).exists(), ref
    assert html.count("<section") == len(find_demos())


def test_demo_command_and_bad_name(tmp_path, capsys):
    assert cli(["demo", "03", "--out", str(tmp_path), "--quick"]) == 0
    assert "One-to-one" in capsys.readouterr().out
    assert cli(["demo", "nope", "--out", str(tmp_path)]) == 2
    assert "the demos are: 01_value_engine" in capsys.readouterr().err


def test_f1_injected_parameters_win_over_the_demos_defaults(tmp_path, monkeypatch):
    assert params(QUICK=False, OUT=Path("out/x")) == (False, Path("out/x"))
    with inject(QUICK=True, OUT=tmp_path):
        assert params(QUICK=False, OUT=Path("out/x")) == (True, tmp_path)
    monkeypatch.setenv("MICRORNN_QUICK", "yes")  # how a notebook kernel (another process) gets them
    assert params(QUICK=False) is True
    monkeypatch.setenv("MICRORNN_QUICK", "maybe")
    with pytest.raises(ValueError, match="MICRORNN_QUICK='maybe': expected a yes/no value"):
        params(QUICK=False)


@pytest.mark.parametrize("path", find_demos(), ids=lambda p: p.stem)
def test_f1_every_demo_is_a_percent_notebook_with_a_parameters_cell_and_a_report(path):
    text = path.read_text(encoding="utf-8")
    cells = re.split(r"^# %%", text, flags=re.M)[1:]
    code = [c for c in cells if not c.startswith(" [markdown]")]
    assert code[0].startswith(' tags=["parameters"]') and "params(QUICK=False, OUT=" in code[0]
    assert len(code) >= 3 and "def main(" not in text, "one top-level cell per idea, not one main()"
    assert code[-1].rstrip().endswith("report")


def test_f1_a_demo_runs_as_a_plain_script(tmp_path):
    # `python demos/03_one_to_one.py` with no injection writes to its own OUT, relative to the working directory
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICRORNN_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, str(DEMOS_DIR / "03_one_to_one.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out/demo/03_one_to_one/one_to_one.svg").stat().st_size > 500


def test_f1_report_show_writes_once_and_displays_the_file(tmp_path):
    from micrornn import Value, viz

    a = Value(2.0, label="a")
    y = a * a
    y.backward()
    r = Report("t", out=tmp_path)
    fig = r.show(viz.draw(y), "y.svg", "a caption")
    assert r.figures == [(tmp_path / "y.svg", "a caption")]
    assert fig._repr_svg_() == (tmp_path / "y.svg").read_text() and fig._repr_png_() is None
    with pytest.raises(TypeError, match="matplotlib Figure or a graphviz Digraph"):
        r.show("not a picture", "z.svg", "")


def test_f6_tour_step_refreshes_the_gallery_before_each_pause(tmp_path, monkeypatch, capsys):
    seen = []

    def pause(prompt):
        index = tmp_path / "index.html"
        seen.append(index.read_text().count("<section"))
        return ""

    monkeypatch.setattr(tour, "find_demos", lambda: [DEMOS_DIR / "01_value_engine.py", DEMOS_DIR / "03_one_to_one.py"])
    monkeypatch.setattr("builtins.input", pause)
    tour.run_tour(tmp_path, quick=True, step=True)
    assert seen == [1], "after demo 1 the gallery shows demo 1, before the pause"
    assert f"open {(tmp_path / 'index.html').resolve()}#01_value_engine" in capsys.readouterr().out


def test_f5_import_micrornn_stays_light_and_viz_plots_are_attributes():
    code = ("import sys, micrornn as mr; heavy = [m for m in ('graphviz', 'matplotlib') if m in sys.modules]; "
            "assert not heavy, heavy; mr.viz.draw; mr.plots.gradient_flow; mr.report.Report; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    import micrornn

    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        micrornn.nope  # noqa: B018


def test_f6_background_renders_are_waited_for_and_their_errors_raised(tmp_path):
    import graphviz

    from micrornn.report import render_behind

    broken = graphviz.Digraph(body=["a -> {"])  # dot rejects this
    with render_behind():
        r = Report("t", out=tmp_path)
        r.show(broken, "broken.svg", "a picture dot cannot draw")  # returns at once: dot runs behind
        with pytest.raises(RuntimeError, match="dot failed"):
            r.wait()


def _slow_fake_dot(tmp_path, monkeypatch, seconds=30):
    """A ``dot`` on PATH that answers ``-T?`` at once and takes ``seconds`` to draw; each run's pid goes to
    ``tmp_path / "dots"``."""
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f"#!/bin/sh\nif [ \"$1\" = '-T?' ]; then echo 'Use one of: svg png' >&2; exit 1; fi\n"
                    f"echo $$ >> {tmp_path / 'dots'}\nexec sleep {seconds}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "dots"


@pytest.mark.skipif(sys.platform != "linux", reason="a fake dot on PATH, and /proc")
def test_f6_a_failing_block_draws_none_of_its_queued_pictures_and_says_so(tmp_path, monkeypatch):
    import threading

    import graphviz

    from micrornn.report import render_behind
    from micrornn.viz import dot

    dots = _slow_fake_dot(tmp_path, monkeypatch, seconds=2)
    r = Report("t", out=tmp_path)
    with pytest.raises(ValueError, match="the demo broke"), render_behind():
        shown = [r.show(graphviz.Digraph(body=["a -> b"]), f"p{i}.svg", "a picture") for i in range(3)]
        while not dots.exists():  # the first picture is being drawn
            threading.Event().wait(0.01)
        raise ValueError("the demo broke")
    assert len(dots.read_text().split()) == 1, "the pictures still queued were drawn after the error"
    with pytest.raises(RuntimeError, match=r"p1\.svg was not drawn: the render_behind\(\) block it was queued in"):
        shown[1].wait()
    assert not dot._STOPPED.is_set()


@pytest.mark.skipif(sys.platform != "linux", reason="a fake dot on PATH, a signal, and /proc")
def test_f6_ctrl_c_while_dot_draws_ends_and_reaps_it(tmp_path, monkeypatch):
    import signal
    import threading

    import graphviz

    from micrornn import viz

    dots = _slow_fake_dot(tmp_path, monkeypatch)
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        viz.to_svg(graphviz.Digraph(body=["a -> b"]), timeout=60)
    (pid,) = [int(line) for line in dots.read_text().split()]
    assert not Path(f"/proc/{pid}").exists(), "dot was left running, or unreaped (a zombie)"


@pytest.mark.skipif(sys.platform != "linux", reason="a fake dot on PATH")
def test_f6_after_stop_running_no_dot_is_started(tmp_path, monkeypatch):
    dots = _slow_fake_dot(tmp_path, monkeypatch, seconds=1)
    code = ("import graphviz\nfrom micrornn import viz\nfrom micrornn.viz import dot\ndot.stop_running()\n"
            "try:\n    viz.to_svg(graphviz.Digraph(body=['a -> b']))\nexcept RuntimeError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)  # never here
    assert done.stdout.startswith("dot was not run: this program is stopping"), done.stdout + done.stderr
    assert not dots.exists()


def test_f1_execute_reads_the_report_and_still_runs_a_main_style_demo(tmp_path):
    old = tmp_path / "10_old.py"
    old.write_text("from micrornn.report import Report\n\n"
                   "def main(out_dir, quick=False):\n"
                   "    return Report('old style', out_dir, numbers={'quick': quick})\n")
    assert execute(old, tmp_path / "out", quick=True).numbers == {"quick": True}
    empty = tmp_path / "11_empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(RuntimeError, match="11_empty.py did not leave a `report`"):
        execute(empty, tmp_path / "out")


def test_f1_a_main_style_demo_s_render_errors_are_raised_too(tmp_path):
    old = tmp_path / "10_old.py"
    old.write_text("import graphviz\nfrom micrornn.report import Report\n\n"
                   "def main(out_dir, quick=False):\n    r = Report('old style', out_dir)\n"
                   "    r.show(graphviz.Digraph(body=['a -> {']), 'broken.svg', 'dot cannot draw this')\n"
                   "    return r\n")  # before: the error was dropped, and the tour listed a missing file
    with pytest.raises(RuntimeError, match="dot failed"):
        execute(old, tmp_path / "out")


def test_f1_report_table_keeps_bars_inside_cells():
    # "max |engine − hand|" once split the notebook's last table into stray columns (4 of 9 demos)
    from micrornn.report import Report

    table = Report("t", "look", numbers={"max |engine − hand|": 1e-16, "a": "x|y"})._repr_markdown_()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [len(re.findall(r"(?<!\\)\|", row)) for row in rows] == [3, 3]


def test_f6_demo_by_number_writes_to_its_own_folder(tmp_path, monkeypatch):
    # `micrornn demo 7` is demo 07, and two demos never share a folder (02, 05 and 06 all wrote loss.png)
    monkeypatch.chdir(tmp_path)
    assert cli(["demo", "3", "--quick"]) == 0
    assert (tmp_path / "out" / "demo" / "03_one_to_one").is_dir()


# -- the tour runs demos side by side (item 6: the quick tour within 5 s on 2 cores) ---------------------------
def _fake_demos(folder: Path, bodies: dict[str, str]) -> list[Path]:
    """Tiny demos in the notebook style: a parameters cell, ``body``, a report with the worker's pid and the
    wall-clock interval it ran in."""
    paths = []
    for stem, body in bodies.items():
        path = folder / f"{stem}.py"
        path.write_text("import os, time\nfrom pathlib import Path\nfrom micrornn.report import Report, params\n"
                        f"QUICK, OUT = params(QUICK=False, OUT=Path('unused'))\nreport = Report({stem!r}, OUT)\n"
                        f"start = time.time()\n{body}\n"
                        "report.numbers.update(pid=os.getpid(), start=start, end=time.time())\n")
        paths.append(path)
    return paths


def test_f6_tour_runs_demos_side_by_side_and_prints_each_whole_in_order(tmp_path, monkeypatch, capsys):
    demos = _fake_demos(tmp_path, {"01_slow": "time.sleep(1.0); print('first demo says')",
                                   "02_fast": "time.sleep(0.5); print('second demo says')"})
    reports = {}
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    monkeypatch.setattr(tour, "write_index", lambda out, runs: reports.update(runs) or write_index(out, runs))
    tour.run_tour(tmp_path / "out", quick=True, jobs=2)
    out = capsys.readouterr().out
    # 02 finishes first (it starts first and sleeps less), yet the printout keeps the notes' order, each whole
    assert out.index("== 1/2 01_slow ==") < out.index("first demo says") < out.index("== 2/2 02_fast ==") \
        < out.index("second demo says") < out.index("Tour done")
    slow, fast = reports["01_slow"].numbers, reports["02_fast"].numbers
    assert os.getpid() not in (slow["pid"], fast["pid"]) and slow["pid"] != fast["pid"]
    assert max(slow["start"], fast["start"]) < min(slow["end"], fast["end"]), "the two demos ran at the same time"
    assert "(2 demos at a time)" in out


def test_f6_with_another_thread_running_the_workers_start_afresh_instead_of_forking(tmp_path, monkeypatch):
    import threading

    demos = _fake_demos(tmp_path, {"01_a": "print('a')", "02_b": "import micrornn; print(micrornn.__name__)"})
    reports = {}
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    monkeypatch.setattr(tour, "write_index", lambda out, runs: reports.update(runs) or write_index(out, runs))
    forks, counting = [], [True]
    os.register_at_fork(after_in_parent=lambda: counting[0] and forks.append(1))  # (a hook cannot be removed)
    busy = threading.Event()
    other = threading.Thread(target=busy.wait)  # as a Jupyter kernel's heartbeat thread: fork is unsafe then
    other.start()
    try:
        tour.run_tour(tmp_path / "out", jobs=2)
    finally:
        counting[0] = False
        busy.set()
        other.join()
    assert len(reports) == 2 and os.getpid() not in {r.numbers["pid"] for r in reports.values()}
    assert not forks, "a worker was forked from a process with two threads"


def test_f6_one_job_runs_the_demos_here_in_order(tmp_path, monkeypatch, capsys):
    demos = _fake_demos(tmp_path, {"01_a": "print('a')", "02_b": "print('b')"})
    reports = {}
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    monkeypatch.setattr(tour, "write_index", lambda out, runs: reports.update(runs) or write_index(out, runs))
    tour.run_tour(tmp_path / "out", jobs=1)
    assert {r.numbers["pid"] for r in reports.values()} == {os.getpid()}
    assert reports["01_a"].numbers["end"] <= reports["02_b"].numbers["start"]


def test_f6_a_failing_demo_in_a_worker_stops_the_tour_with_its_error(tmp_path, monkeypatch):
    demos = _fake_demos(tmp_path, {"01_broken": "raise ValueError('demo 01 is broken')",
                                   "02_fine": "print('fine')"})
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    with pytest.raises(ValueError, match="demo 01 is broken"):
        tour.run_tour(tmp_path / "out", jobs=2)
    assert not (tmp_path / "out" / "index.html").exists()


def test_f6_a_failing_demo_stops_the_others_at_once_and_shows_what_it_printed(tmp_path, monkeypatch, capsys):
    import time

    demos = _fake_demos(tmp_path, {"01_broken": "print('got this far'); raise ValueError('demo 01 is broken')",
                                   "02_slow": "time.sleep(60)"})  # the last demo starts first
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="demo 01 is broken"):
        tour.run_tour(tmp_path / "out", jobs=2)
    assert time.monotonic() - t0 < 30, "the tour waited for the other demo to finish"
    out = capsys.readouterr().out
    assert out.index("== 1/2 01_broken ==") < out.index("got this far")


# A stop that lands while the pool hands a result back. The pool's worker loop catches whatever a task raises
# (SystemExit too) and takes the next task: before the fix the worker swallowed the stop, ignored the pool's
# second SIGTERM, and the pool's join waited for it for ever (CI's 5,400 s timeout, one run in 30 under load).
_STOPPED_WHILE_HANDING_BACK = """
import multiprocessing, os, signal
from concurrent.futures import ProcessPoolExecutor
from micrornn import tour

class StoppedOnTheWayBack:
    def __reduce__(self):  # runs as the pool pickles the result, inside its _sendback_result
        os.kill(os.getpid(), signal.SIGTERM)
        return (int, (7,))

def handed_back():
    return StoppedOnTheWayBack()

if __name__ == "__main__":
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"), initializer=tour._worker_signals)
    idle = pool.submit(int, 1)
    idle.result()
    try:
        print("result", pool.submit(handed_back).result())
    except BaseException as e:
        print("result", type(e).__name__)
    tour._stop(pool)  # as the tour does on an error: SIGTERM to every worker, then the pool's join
    pool.shutdown(wait=True, cancel_futures=True)
    print("shut down")
"""


@pytest.mark.skipif(sys.platform != "linux", reason="fork, and signals sent to a process")
def test_f6_a_worker_stopped_while_handing_back_a_result_finishes_it_and_ends(tmp_path):
    script = tmp_path / "stopped.py"
    script.write_text(_STOPPED_WHILE_HANDING_BACK)
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the pool's shutdown waited for ever for a worker that had swallowed the tour's stop")
    assert done.stdout.split("\n")[:2] == ["result 7", "shut down"], done.stdout + done.stderr


_STOPPED_THEN_NEXT_DEMO = """
import multiprocessing, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from micrornn import tour
from stopped import StoppedOnTheWayBack

def handed_back_later():
    time.sleep(1)  # the second task is queued by then, however loaded the machine
    return StoppedOnTheWayBack()

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=tour._worker_signals)
    first = pool.submit(handed_back_later)
    second = pool.submit(Path(sys.argv[1]).write_text, "the next demo ran")  # queued behind it
    print("first", first.result())
    try:
        second.result()
        print("second ran")
    except BaseException as e:
        print("second", type(e).__name__)
    pool.shutdown(wait=True)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="fork, and signals sent to a process")
def test_f6_a_worker_stopped_while_handing_back_takes_no_further_task(tmp_path):
    (tmp_path / "stopped.py").write_text(_STOPPED_WHILE_HANDING_BACK)
    script, marker = tmp_path / "next.py", tmp_path / "marker"
    script.write_text(_STOPPED_THEN_NEXT_DEMO)
    done = subprocess.run([sys.executable, str(script), str(marker)], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.stdout.split("\n")[:2] == ["first 7", "second BrokenProcessPool"], done.stdout + done.stderr
    assert not marker.exists(), "the stopped worker went on to the next task in its queue"


@pytest.mark.skipif(sys.platform != "linux", reason="a fake dot on PATH, and signals sent to a process")
def test_f6_a_stopped_demo_leaves_no_dot_running(tmp_path, monkeypatch):
    import time

    dots = _slow_fake_dot(tmp_path, monkeypatch)
    demos = _fake_demos(tmp_path, {
        "01_broken": "time.sleep(1.5); raise ValueError('demo 01 is broken')",
        "02_draws": "import graphviz\nfor i in range(3):\n"
                    "    report.show(graphviz.Digraph(body=['a -> b']), f'p{i}.svg', 'a picture')\n"
                    "time.sleep(30)"})  # the last demo starts first; its pictures are drawn behind
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="demo 01 is broken"):
        tour.run_tour(tmp_path / "out", jobs=2)
    assert time.monotonic() - t0 < 15, "the tour waited for the drawing demo"
    pids = [int(line) for line in dots.read_text().split()]
    assert len(pids) == 1, f"the pictures still queued were drawn after the stop: {pids}"
    time.sleep(0.5)  # the worker kills dot as it stops; the kill takes a moment to land
    alive = [pid for pid in pids if _running(pid)]
    assert not alive, f"dot processes left running after the tour stopped: {alive}"


def _running(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended (reaped by init once orphaned)


@pytest.mark.skipif(sys.platform != "linux", reason="fork, and signals sent to a process")
def test_f6_a_stopped_worker_outside_a_demo_exits_even_where_every_exception_is_caught(tmp_path):
    script = tmp_path / "caught.py"
    script.write_text("import os, signal, time\nfrom micrornn import tour\ntour._worker_signals()\n"
                      "try:\n    os.kill(os.getpid(), signal.SIGTERM)\n    time.sleep(5)\n"
                      "except BaseException:\n    pass\nprint('still running')\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (128 + 15, ""), done.stdout + done.stderr


def test_f6_a_demo_that_catches_the_stop_is_ended_within_seconds(tmp_path, monkeypatch):
    import time

    demos = _fake_demos(tmp_path, {"01_broken": "time.sleep(0.5); raise ValueError('demo 01 is broken')",
                                   "02_stubborn": "try:\n    time.sleep(60)\nexcept BaseException:\n"
                                                  "    time.sleep(60)"})  # the last demo starts first
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="demo 01 is broken"):
        tour.run_tour(tmp_path / "out", jobs=2)
    assert time.monotonic() - t0 < 30, "the tour waited for a demo that had caught its stop"


def test_f6_a_worker_that_dies_gets_an_error_that_says_why_and_what_to_do(tmp_path, monkeypatch):
    demos = _fake_demos(tmp_path, {"01_a": "print('a')", "02_dies": "os._exit(3)"})
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    with pytest.raises(RuntimeError, match=r"ended before its demo did.*if __name__ == \"__main__\".*jobs=1"):
        tour.run_tour(tmp_path / "out", jobs=2)


@pytest.mark.parametrize("other_thread", [False, True], ids=["forked", "spawned"])
def test_f6_injected_values_reach_the_workers(tmp_path, monkeypatch, other_thread):
    import threading

    demos = _fake_demos(tmp_path, {f"0{i}_d": "report.numbers['FULL'] = params(FULL=False)" for i in (1, 2)})
    reports = {}
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    monkeypatch.setattr(tour, "write_index", lambda out, runs: reports.update(runs) or write_index(out, runs))
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    if other_thread:  # spawned workers do not inherit this process's context
        other.start()
    try:
        with inject(FULL=True):
            tour.run_tour(tmp_path / "out", jobs=2)
    finally:
        done.set()
        if other_thread:
            other.join()
    assert [r.numbers["FULL"] for r in reports.values()] == [True, True]


def test_f6_a_progress_bar_leaves_no_thread_behind():
    """tqdm's monitor thread outlives its bar; with it, a later tour could not fork its workers."""
    code = ("import threading; from micrornn.report import progress; list(progress(range(3), 'x')); "
            "print(threading.active_count())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "1", done.stderr


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_f6_jobs_must_be_a_whole_number_of_at_least_one(tmp_path, jobs):
    with pytest.raises(ValueError, match=r"jobs must be an int ≥ 1 .*got"):
        tour.run_tour(tmp_path, jobs=jobs)


def test_f6_step_runs_one_demo_at_a_time_and_says_so_when_asked_for_more(tmp_path):
    with pytest.raises(ValueError, match="one at a time: leave jobs out"):
        tour.run_tour(tmp_path / "out", step=True, jobs=2)
    assert not (tmp_path / "out").exists(), "a bad call leaves nothing behind"


def test_f6_the_tours_workers_show_no_progress_bars(capsys):
    with no_progress_bars():
        assert list(progress(range(3), "hidden bar")) == [0, 1, 2]
    assert "hidden bar" not in capsys.readouterr().err
    assert list(progress(range(3), "shown bar")) == [0, 1, 2]
    assert "shown bar" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", [1, 2])
def test_f6_each_demos_header_comes_before_what_it_prints(tmp_path, monkeypatch, capsys, jobs):
    # run one by one (--jobs 1, --step) the demo printed before its "== i/N ==" header, since the lazy run
    # was pulled before the header was printed; a failing demo in a worker was never named at all
    demos = _fake_demos(tmp_path, {"01_a": "print('demo a says')", "02_b": "print('demo b says')",
                                   "03_broken": "print('demo c starts'); raise ValueError('demo c is broken')"})
    monkeypatch.setattr(tour, "find_demos", lambda: demos)
    with pytest.raises(ValueError, match="demo c is broken"):
        tour.run_tour(tmp_path / "out", jobs=jobs)
    out = capsys.readouterr().out
    assert out.index("== 1/3 01_a ==") < out.index("demo a says") < out.index("== 2/3 02_b ==") \
        < out.index("demo b says") < out.index("== 3/3 03_broken ==")
    assert out.count("== 1/3 01_a ==") == 1


def test_f6_the_tour_leaves_the_collectors_frozen_set_as_it_found_it(tmp_path, monkeypatch):
    # it froze the imports before forking and unfroze them after: a failed fork left 70,000 objects frozen,
    # and a caller's own gc.freeze() (or, on the spawn path, anyone's) was undone
    import gc

    demos = _fake_demos(tmp_path, {"01_a": "print('a')", "02_b": "print('b')"})
    monkeypatch.setattr(tour, "find_demos", lambda: demos)

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    with monkeypatch.context() as m:
        m.setattr(tour.threading, "active_count", lambda: 1)  # the fork path, whatever earlier tests left running
        m.setattr(os, "fork", no_fork)
        with pytest.raises(BlockingIOError):
            tour.run_tour(tmp_path / "out", jobs=2)
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        tour.run_tour(tmp_path / "out", jobs=2)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
