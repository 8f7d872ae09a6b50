"""Count the reading path: the functions a student reads from ``many_to_many`` to the weights' gradients.

    python scripts/reading_path.py            # the table and the totals
    python scripts/reading_path.py --json     # the totals as JSON
    python scripts/reading_path.py --markdown # the path in call order, as docs/spine.md lists it

It traces (``sys.settrace``) one Elman net, ``unroll.many_to_many(Elman(2, 3, 2), xs, ys)`` with T = 4
and ``u.backward()``, with every fast trick off (``mr.fast.off()``: the spine), and lists every function
of the package that ran, with its file and the lines of its body. The argument checks (``checks.py``:
what the arguments mean and the memory budget; ``flags.py``; ``protocol.py``: a step's result against the
cell's declarations) are not followed inside and count as ONE function of one line in one file, wherever
they are called: a reader takes "the arguments are checked" as one line. Docstrings, blank and comment-only
lines are not counted.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import micrornn as mr  # noqa: E402
from micrornn import unroll  # noqa: E402
from micrornn.nn import Elman  # noqa: E402

PACKAGE = ROOT / "micrornn"
CHECKS = ("checks.py", "flags.py", "protocol.py")  # followed no further: one function, one line, one file
CHECKS_KEY = ("micrornn/checks.py + flags.py + protocol.py", "(the argument checks)", 0)


def _body_lines(code: Any) -> int:
    """Lines of a function's body: no signature, no docstring, no blank or comment-only lines."""
    try:
        source = textwrap.dedent(inspect.getsource(code))
    except (OSError, TypeError):
        return 0
    function = ast.parse(source).body[0]
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return 0
    lines = source.splitlines()[body[0].lineno - 1:body[-1].end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def trace(reference: bool = True) -> dict[tuple[str, str, int], int]:
    """(file, function, first line) → body lines, for every package function the spine runs, in the order
    they are first called. ``reference=False`` traces the fast path instead (what runs by default)."""
    rng = np.random.default_rng(0)
    net = Elman(2, 3, 2, seed=0)
    xs, ys = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    seen: dict[tuple[str, str, int], int] = {}
    inside_checks = [0]

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if event != "call":
            return None
        code = frame.f_code
        path = Path(code.co_filename)
        if inside_checks[0] or PACKAGE not in path.parents or code.co_name.startswith("<"):
            return None
        if path.name in CHECKS:
            seen[CHECKS_KEY] = 1
            inside_checks[0] += 1
            return _leave_checks
        name = getattr(code, "co_qualname", code.co_name)  # co_qualname: Python 3.11+
        seen.setdefault((str(path.relative_to(ROOT)), name, code.co_firstlineno), _body_lines(code))
        return None

    def _leave_checks(frame: Any, event: str, arg: Any) -> Any:
        if event == "return":
            inside_checks[0] -= 1
        return _leave_checks

    with mr.fast.off() if reference else mr.fast.on():
        sys.settrace(tracer)
        try:
            u = unroll.many_to_many(net, xs, ys)
            u.backward()
        finally:
            sys.settrace(None)
    return seen


def totals(seen: dict[tuple[str, str, int], int]) -> dict[str, int]:
    return {"functions": len(seen), "lines": sum(seen.values()), "files": len({f for f, _, _ in seen})}


def span(file: str, line: int) -> tuple[int, str]:
    """The last line of the function that starts at ``file:line``, and the first line of its docstring."""
    tree = ast.parse((ROOT / file).read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            if line in (first, node.lineno):
                doc = (ast.get_docstring(node) or "").strip().split("\n")[0]
                return node.end_lineno or node.lineno, doc
    return line, ""


def markdown(seen: dict[tuple[str, str, int], int]) -> str:
    """The reading path as a Markdown table, in call order: where each function is and what it does."""
    rows = ["| # | function | where | body lines | what it does |", "|---|---|---|---|---|"]
    for i, ((file, name, line), n) in enumerate(seen.items(), start=1):
        if line == 0:
            rows.append(f"| {i} | {name} | `{file}` | {n} | what the arguments mean; the memory budget |")
            continue
        end, doc = span(file, line)
        doc = doc.replace("|", "\\|")  # a table cell
        rows.append(f"| {i} | `{name}` | `{file}:{line}-{end}` | {n} | {doc} |")
    t = totals(seen)
    rows.append("")
    rows.append(f"{t['functions']} functions, {t['lines']} lines of their bodies, in {t['files']} files.")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the totals as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the path in call order as Markdown")
    args = parser.parse_args()
    seen = trace()
    if args.markdown:
        print(markdown(seen), end="")
        return
    if args.json:
        print(json.dumps({**totals(seen), "path": [[f, name, line, n] for (f, name, line), n in seen.items()]}))
        return
    for (file, name, line), n in sorted(seen.items()):
        print(f"{file}:{line:<5} {name:<45} {n:>4} lines")
    t = totals(seen)
    print(f"{t['functions']} functions, {t['lines']} lines of their bodies, in {t['files']} files "
          "(fast off; the argument checks counted as one)")


if __name__ == "__main__":
    main()
