"""A notebook's HTML copy that reads with no network: every formula as MathML, no script from a CDN.

    python scripts/offline_html.py out/notebooks/05_many_to_many.ipynb     # writes 05_many_to_many.html beside it

nbconvert's HTML leaves the TeX of the markdown cells (``$\\frac{\\delta L}{\\delta H_t}$``) to MathJax,
loaded from a CDN, so on a laptop with no network a learner reads raw TeX. Here the TeX is converted at
build time with latex2mathml (browsers draw MathML themselves) and the CDN scripts (MathJax, require.js,
mermaid) are left out. The ``.ipynb`` keeps its TeX: Jupyter renders it with its own MathJax.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from latex2mathml.converter import convert
from nbconvert import HTMLExporter

MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$([^$\n]+?)\$", re.S)  # display $$…$$, inline $…$ (not \$)
CODE = re.compile(r"(`+)(.+?)\1", re.S)  # a code span or fence: its dollars are code, not math
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)


def mathml(markdown: str) -> str:
    """The markdown with each $…$ and $$…$$ as MathML (inline and block); code spans are left alone.

        >>> mathml("the state $H_t$").startswith("the state <math")
        True
        >>> mathml("a code span `cost = $5` keeps its dollar")
        'a code span `cost = $5` keeps its dollar'
    """
    out, last = [], 0
    for code in CODE.finditer(markdown):
        out.append(_formulas(markdown[last:code.start()]))
        out.append(code.group(0))
        last = code.end()
    out.append(_formulas(markdown[last:]))
    return "".join(out)


def _formulas(text: str) -> str:
    def one(m: re.Match) -> str:
        display, inline = m.group(1), m.group(2)
        return convert(display, display="block") if display is not None else convert(inline)

    return MATH.sub(one, text)


def _fetches(script: str) -> bool:
    """Whether a <script> block needs the network (a CDN) or only configures MathJax."""
    opening = script[:script.index(">") + 1]
    return bool(re.search(r"""src\s*=\s*["']?https?://""", opening, re.I)) or "cdnjs" in script \
        or "text/x-mathjax-config" in opening


def offline_html(notebook: Path) -> str:
    """The HTML of ``notebook`` (executed outputs included) with its formulas as MathML, no CDN script."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = mathml(cell.source)
    body, _ = HTMLExporter().from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    # nbconvert re-serialises headings (for their anchor links) through an XML library, which writes MathML
    # as <ns0:math …>: an HTML parser does not know that prefix, so the formula would show as plain text
    body = re.sub(r'\s+xmlns:(ns\d+)="http://www.w3.org/1998/Math/MathML"', "", body)
    body = re.sub(r"<(/?)ns\d+:", r"<\1", body)
    return SCRIPT.sub(lambda m: "" if _fetches(m.group(0)) else m.group(0), body)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for name in argv:
        notebook = Path(name)
        page = notebook.with_suffix(".html")
        page.write_text(offline_html(notebook), encoding="utf-8")
        print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
