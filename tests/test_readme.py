"""[F] item 7: every ```python block of README.md runs as written (each in a fresh namespace, in a scratch folder)."""

import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)


def heading(block: str) -> str:
    text = README.read_text(encoding="utf-8")
    before = text[:text.index(block)]
    return re.findall(r"^#+ (.+)$", before, flags=re.M)[-1]


def test_f7_the_readme_teaches_each_teacher_topic_with_a_snippet():
    headings = {heading(b) for b in BLOCKS}
    for topic in ("Reading gradients in scalar mode", "Setting weights by hand", "Testing strategies",
                  "A hand-built graph with time steps and per-step copies"):
        assert topic in headings, f"no runnable snippet under '{topic}'"


@pytest.mark.skipif(shutil.which("dot") is None, reason="the picture snippets render with Graphviz's dot")
@pytest.mark.parametrize("block", BLOCKS, ids=[f"{i}-{heading(b)[:40]}" for i, b in enumerate(BLOCKS)])
def test_f7_readme_snippet_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # snippets may write files (elman.svg, rnn.npz)
    exec(compile(block, f"README.md: {heading(block)}", "exec"), {"__name__": "readme"})
