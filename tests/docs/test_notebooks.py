"""[F] items 1–2: every demo runs as a Jupyter notebook (jupytext → nbclient + ipykernel, quick mode injected)
with its sections as cells and its pictures inline."""

import shutil
import sys
from pathlib import Path

import pytest

from micrornn.tour import find_demos

jupytext = pytest.importorskip("jupytext", reason="jupytext is a test dependency: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="nbclient is a test dependency: pip install -e '.[test]'")
pytest.importorskip("ipykernel", reason="ipykernel (the notebook kernel) is a test dependency")
pytestmark = [pytest.mark.lesson_tour,  # this file's lessons: pytest -m lesson_tour
              pytest.mark.skipif(shutil.which("dot") is None, reason="the demos draw with Graphviz's dot")]

ROOT = Path(__file__).resolve().parents[2]
IMAGES = {"image/svg+xml", "image/png"}


def execute(path: Path, out: Path, monkeypatch) -> "nbclient.NotebookClient":
    notebook = jupytext.read(path)
    # The kernel is another process: QUICK and OUT reach it through the environment (micrornn.report.params).
    monkeypatch.setenv("MICRORNN_QUICK", "1")
    monkeypatch.setenv("MICRORNN_OUT", str(out))
    # "python3" is ipykernel's own kernel; jupyter_client starts it with this interpreter (sys.executable).
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", coalesce_streams=True,
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return notebook


def images(cell) -> list[str]:
    return [m for o in cell.get("outputs", []) if o.output_type in ("display_data", "execute_result")
            for m in o.data if m in IMAGES]


@pytest.mark.parametrize("path", find_demos(), ids=lambda p: p.stem)
def test_f2_every_demo_runs_as_a_notebook_with_pictures_inline(path, tmp_path, monkeypatch):
    nb = execute(path, tmp_path / "out", monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 3, f"{path.name}: one cell per idea, got {len(code)} code cells"
    assert "parameters" in code[0].metadata.get("tags", []) and "params(" in code[0].source
    assert any(images(c) for c in code), f"{path.name}: no picture shown inline"
    assert any(c.cell_type == "markdown" and "$" in c.source for c in nb.cells), "no formula in a markdown cell"
    for cell in code:  # a progress bar leaves one line, not one per refresh
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                assert o.text.count("it/s]") + o.text.count("s/it]") <= 1, o.text
                assert o.name == "stdout", f"a notebook shows stderr as an error: {o.text[:200]}"
    last = code[-1]
    assert last.source.strip().endswith("report") and last.outputs[0].data["text/markdown"].startswith("**")
    written = list((tmp_path / "out").iterdir())
    assert written, "the pictures are written to the injected OUT as well"


def test_f2_the_kernel_is_this_interpreter(tmp_path, monkeypatch):
    # A fresh `make test` has only .venv: the notebook kernel must be that venv's python, not the system's.
    nb = jupytext.reads("# %%\nimport sys\nprint(sys.executable)\n", fmt="py:percent")
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3")
    client.execute()
    assert Path(nb.cells[0].outputs[0].text.strip()).resolve() == Path(sys.executable).resolve()
