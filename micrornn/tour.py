"""The guided tour: run the demos in the order of the notes and write a gallery page.

Each demo in ``demos/NN_name.py`` has ``main(out_dir, quick=False) -> Report``; the tour runs them in
order, prints what to look at and the numbers that matter, and writes ``index.html``.
"""

from __future__ import annotations

import html
import importlib.util
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["Report", "save", "find_demos", "run_demo", "run_tour", "write_index", "DEMOS_DIR"]

DEMOS_DIR = Path(os.environ.get("MICRORNN_DEMOS", Path(__file__).resolve().parents[1] / "demos"))


@dataclass
class Report:
    """What a demo shows: a title, what to look at, the numbers that matter, the files it wrote."""

    title: str
    look: str
    numbers: dict[str, Any] = field(default_factory=dict)
    figures: list[tuple[Path, str]] = field(default_factory=list)  # (file, caption)
    links: list[tuple[Path, str]] = field(default_factory=list)  # pages to open (the backward stepper)

    def print(self) -> None:
        print(f"  look at: {self.look}")
        for name, value in self.numbers.items():
            print(f"  {name}: {_fmt(value)}")
        for path, caption in [*self.figures, *self.links]:
            print(f"  wrote {path}  ({caption})")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def save(obj: Any, path: Path) -> Path:
    """Write a matplotlib figure (closed afterwards) or a Graphviz picture to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(obj, "savefig"):
        import matplotlib.pyplot as plt

        obj.savefig(path, dpi=110)
        plt.close(obj)
        return path
    from .viz import render

    return render(obj, path)


def find_demos() -> list[Path]:
    if not DEMOS_DIR.is_dir():
        raise RuntimeError(f"the demos folder {DEMOS_DIR} is missing: run from a checkout of micrornn "
                           "(or set MICRORNN_DEMOS to its demos/ folder)")
    return sorted(p for p in DEMOS_DIR.glob("[0-9][0-9]_*.py"))


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"micrornn_demo_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _resolve(name: str) -> Path:
    demos = find_demos()
    matches = [p for p in demos if p.stem == name or p.stem.startswith(f"{name}_") or p.stem[3:] == name]
    if len(matches) != 1:
        names = ", ".join(p.stem for p in demos)
        raise ValueError(f"no single demo called {name!r}; the demos are: {names}")
    return matches[0]


def run_demo(name: str, out: Path, quick: bool = False) -> Report:
    """Run one demo by name (``07_vanishing_exploding``, ``07`` or ``vanishing_exploding``)."""
    path = _resolve(name)
    report = _load(path).main(out, quick=quick)
    print(f"== {report.title} ==")
    report.print()
    return report


def run_tour(out: Path, quick: bool = False, step: bool = False) -> Path:
    """All demos in order; returns the gallery page ``out/index.html``."""
    out.mkdir(parents=True, exist_ok=True)
    demos = find_demos()
    reports = []
    start = time.perf_counter()
    for i, path in enumerate(demos, start=1):
        t0 = time.perf_counter()
        print(f"\n== {i}/{len(demos)} {path.stem} ==")
        report = _load(path).main(out / path.stem, quick=quick)
        print(f"{report.title}  ({time.perf_counter() - t0:.1f} s)")
        report.print()
        reports.append((path.stem, report))
        if step and i < len(demos):
            try:
                input("  — Enter for the next section — ")
            except EOFError:  # no terminal: carry on
                pass
    index = write_index(out, reports)
    print(f"\nTour done in {time.perf_counter() - start:.1f} s. Open {index.resolve()} to see every picture.")
    return index


def write_index(out: Path, reports: list[tuple[str, Report]]) -> Path:
    """A gallery page with the captions, in the notes' order; it links only files that exist."""
    parts = []
    for stem, r in reports:
        items = []
        for path, caption in r.figures:
            rel = Path(os.path.relpath(path, out)).as_posix()
            if Path(path).exists():
                items.append(f'<figure><a href="{html.escape(rel)}"><img src="{html.escape(rel)}" '
                             f'alt="{html.escape(caption)}"></a><figcaption>{html.escape(caption)}</figcaption>'
                             "</figure>")
        links = "".join(
            f'<li><a href="{html.escape(Path(os.path.relpath(p, out)).as_posix())}">{html.escape(c)}</a></li>'
            for p, c in r.links if Path(p).exists())
        numbers = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v))}</td></tr>"
                          for k, v in r.numbers.items())
        parts.append(f'<section id="{html.escape(stem)}"><h2>{html.escape(r.title)}</h2>'
                     f"<p>{html.escape(r.look)}</p>"
                     + (f"<table>{numbers}</table>" if numbers else "")
                     + (f"<ul>{links}</ul>" if links else "")
                     + f'<div class="figs">{"".join(items)}</div></section>')
    toc = "".join(f'<li><a href="#{html.escape(s)}">{html.escape(r.title)}</a></li>' for s, r in reports)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>micrornn — the guided tour</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 75em; color: #222; padding: 0 1em; }}
section {{ border-top: 1px solid #ddd; padding-top: 1em; margin-top: 2em; }}
table {{ border-collapse: collapse; margin: .5em 0; }} td {{ border: 1px solid #ddd; padding: .2em .6em; }}
.figs {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; max-width: 100%; }} figure img {{ max-width: 100%; max-height: 30em; border: 1px solid #eee; }}
figcaption {{ font-size: .9em; color: #555; max-width: 40em; }}
</style></head><body>
<h1>micrornn — recurrent networks, unrolled and drawn</h1>
<p>Every number and picture on this page was computed by the engine while the tour ran.</p>
<ol>{toc}</ol>
{"".join(parts)}
</body></html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
