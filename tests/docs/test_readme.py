"""[F] item 7: every ```python block of README.md runs as written. The blocks of one ``##`` section run in
order in one namespace (a later block may use an earlier one's names), each section fresh, in a scratch folder."""

import re
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lesson_tour]  # this file's lessons: pytest -m lesson_tour

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text(encoding="utf-8")
SECTIONS = [(part.splitlines()[0], re.findall(r"^```python\n(.*?)^```", part, flags=re.M | re.S))
            for part in re.split(r"^## ", TEXT, flags=re.M)[1:]]
SECTIONS = [(title, blocks) for title, blocks in SECTIONS if blocks]


def test_f7_the_readme_teaches_each_teacher_topic_with_a_snippet():
    for topic in ("Reading gradients in scalar mode", "Setting weights by hand", "Testing strategies",
                  "A hand-built graph with time steps and per-step copies"):
        part = TEXT.split(f"### {topic}\n", 1)
        assert len(part) == 2, f"no section '{topic}'"
        assert "```python\n" in part[1].split("\n### ", 1)[0], f"no runnable snippet under '{topic}'"


@pytest.mark.skipif(shutil.which("dot") is None, reason="the picture snippets render with Graphviz's dot")
@pytest.mark.parametrize("title, blocks", SECTIONS, ids=[title[:40] for title, _ in SECTIONS])
def test_f7_readme_snippets_run(title, blocks, tmp_path, monkeypatch):
    if "import torch" in "".join(blocks):
        pytest.importorskip("torch", reason="the PyTorch bridge is an optional extra: pip install micrornn[torch]")
    if "mr.explore(" in "".join(blocks):
        pytest.importorskip("ipywidgets", reason="the explore widget is an extra: pip install micrornn[widgets]")
    monkeypatch.chdir(tmp_path)  # snippets may write files (elman.svg, rnn.npz)
    namespace = {"__name__": "readme"}
    for i, block in enumerate(blocks, start=1):
        exec(compile(block, f"README.md, {title}, block {i}", "exec"), namespace)
