"""[F] items 1–2: every demo runs as a Jupyter notebook (jupytext → nbclient + ipykernel, quick mode injected)
with its sections as cells and its pictures inline."""

import importlib.util
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from micrornn.tour import find_demos

jupytext = pytest.importorskip("jupytext", reason="jupytext is a test dependency: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="nbclient is a test dependency: pip install -e '.[test]'")
pytest.importorskip("ipykernel", reason="ipykernel (the notebook kernel) is a test dependency")
nbformat = pytest.importorskip("nbformat", reason="nbformat comes with nbclient")
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
    if path.stem in ("09_bptt_worked_example", "11_learning_over_time"):  # [L] 5: steppers play inline too
        html = [o.data.get("text/html", "") for c in code for o in c.get("outputs", []) if "data" in o]
        assert any('class="frame"' in h for h in html), f"{path.stem}'s stepper is not shown inline"


def test_f2_the_kernel_is_this_interpreter(tmp_path, monkeypatch):
    # A fresh `make test` has only .venv: the notebook kernel must be that venv's python, not the system's.
    nb = jupytext.reads("# %%\nimport sys\nprint(sys.executable)\n", fmt="py:percent")
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3")
    client.execute()
    assert Path(nb.cells[0].outputs[0].text.strip()).resolve() == Path(sys.executable).resolve()


class _MarkdownText(HTMLParser):
    """The text a reader sees in the markdown cells of a page (code spans left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.code, self.text, self.formulas = 0, 0, [], 0

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if self.depth or "jp-RenderedMarkdown" in classes:
            self.depth += 1
        self.code += tag == "code"
        self.formulas += tag == "math" and self.depth > 0

    def handle_endtag(self, tag):
        self.code -= tag == "code"
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and not self.code:
            self.text.append(data)


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="needs Chromium (apt-get install chromium)")
def test_l5_the_html_copy_shows_its_formulas_with_no_network(tmp_path):
    pytest.importorskip("latex2mathml", reason="latex2mathml is a test dependency: pip install -e '.[test]'")
    spec = importlib.util.spec_from_file_location("offline_html", ROOT / "scripts" / "offline_html.py")
    offline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(offline)
    notebook = tmp_path / "05_many_to_many.ipynb"  # the formulas are in the markdown: no need to execute it
    nbformat.write(jupytext.read(ROOT / "demos" / "05_many_to_many.py"), notebook)
    page = tmp_path / "05_many_to_many.html"
    page.write_text(offline.offline_html(notebook), encoding="utf-8")
    source = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src\s*=\s*["']?|import\(\s*["'])https?://""", source), "a script from the network"
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    # --proxy-server to a closed port: no request can leave the machine, as on a laptop offline
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    seen = _MarkdownText()
    seen.feed(dom)
    text = "".join(seen.text)
    assert seen.formulas >= 4, "the formulas are MathML elements in the page the browser built"
    assert "$" not in text and "\\frac" not in text, f"raw TeX in the page: {text[:300]}"
