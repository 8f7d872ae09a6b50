"""Every demo's main(tmp, quick=True) runs and its key claim holds; the quick tour runs end to end."""

import importlib.util
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from micrornn.cli import main as cli
from micrornn.tour import DEMOS_DIR, find_demos

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="the demos draw with Graphviz's dot")


def run(name, tmp_path):
    path = DEMOS_DIR / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.main(tmp_path / name, quick=True)
    for file, _ in [*report.figures, *report.links]:
        assert Path(file).exists() and Path(file).stat().st_size > 500, file
    return report.numbers


def test_there_are_nine_demos_in_the_notes_order():
    assert [p.stem[:2] for p in find_demos()] == [f"{i:02d}" for i in range(1, 10)]


def test_01_value_engine(tmp_path):
    n = run("01_value_engine", tmp_path)
    assert n["max |engine − hand|"] < 1e-12


def test_02_copy_nets_fail_where_bptt_learns(tmp_path):
    n = run("02_elman_jordan", tmp_path)
    bptt = n["test accuracy, RNN with BPTT"]
    assert bptt >= 0.9
    assert n["test accuracy, Elman copy net"] <= 0.6 and n["test accuracy, Jordan copy net"] <= 0.6
    assert bptt - max(n["test accuracy, Elman copy net"], n["test accuracy, Jordan copy net"]) >= 0.35


def test_03_one_to_one_formulas(tmp_path):
    n = run("03_one_to_one", tmp_path)
    assert n["max |dL/dH_1 − (W^O)ᵀ dL/dO|"] < 1e-12 and n["max |dL/dW^O − dL/dO H_1ᵀ|"] < 1e-12
    assert n["copies of W^H"] == 0


def test_04_many_to_one(tmp_path):
    n = run("04_many_to_one", tmp_path)
    assert n["sentiment test accuracy"] >= 0.9 and n["DNA blood-type test accuracy"] >= 0.9
    assert n["‖Σ_t dL/dW^X_t − dL/dW^X‖"] < 1e-12


def test_05_many_to_many(tmp_path):
    n = run("05_many_to_many", tmp_path)
    assert n["loss at end (mean of last 20)"] < 0.5 * n["T·ln V (knowing nothing)"]
    assert n["max |Σ_i dL_i/dH_t − dL/dH_t|"] < 1e-10


def test_06_one_to_many(tmp_path):
    assert run("06_one_to_many", tmp_path)["notes right"] >= 0.9


def test_07_vanishing_exploding(tmp_path):
    n = run("07_vanishing_exploding", tmp_path)
    assert n["w = 1.1: dL/dH_(T-50) / dL/dH_T"] == pytest.approx(117.39, rel=1e-4)
    assert n["w = 0.9: dL/dH_(T-50) / dL/dH_T"] == pytest.approx(0.00515, rel=1e-3)
    assert n["w = 1.1: 65 steps back"] == pytest.approx(1.1**65, rel=1e-12)
    near = n["adding problem T = 5: weight on the first (distant) number"]
    far = n["adding problem T = 20: weight on the first (distant) number"]
    assert near > 0.5 > far  # the distant number is used over a short gap, not over a long one


def test_08_gradient_clipping(tmp_path):
    n = run("08_gradient_clipping", tmp_path)
    assert not np.isfinite(n["no clipping: final loss"])
    assert np.isfinite(n["clipped: final loss"]) and n["clipped: final loss"] < 1e-3 * n["clipped: first loss"]


def test_09_worked_example(tmp_path):
    n = run("09_bptt_worked_example", tmp_path)
    assert n["max |hand − engine| over all quantities"] < 1e-12


def test_quick_tour_end_to_end(tmp_path, capsys):
    assert cli(["tour", "--out", str(tmp_path / "tour"), "--quick"]) == 0
    out = capsys.readouterr().out
    index = tmp_path / "tour" / "index.html"
    assert f"Open {index.resolve()}" in out
    html = index.read_text()
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert len(refs) >= 20
    for ref in refs:
        assert (index.parent / ref).exists(), ref
    assert html.count("<section") == 9


def test_demo_command_and_bad_name(tmp_path, capsys):
    assert cli(["demo", "03", "--out", str(tmp_path), "--quick"]) == 0
    assert "One-to-one" in capsys.readouterr().out
    assert cli(["demo", "nope", "--out", str(tmp_path)]) == 2
    assert "the demos are: 01_value_engine" in capsys.readouterr().err
