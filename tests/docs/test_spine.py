"""The spine (#19): the reading path from ``many_to_many`` to the weights' gradients, traced with fast off.

``scripts/reading_path.py`` traces it; these tests keep ``docs/spine.md`` in step with the code, stop the
path from growing, and say when it reaches the issue's bar.
"""

import ast
import importlib.util
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lesson_fast]  # this file's lessons: pytest -m lesson_fast

ROOT = Path(__file__).resolve().parents[2]

# What the path is today: a ratchet. Lower these when the path shrinks; never raise them.
TODAY = {"functions": 58, "lines": 304, "files": 8}
BAR = {"functions": 25, "lines": 200, "files": 6}  # issue #19's "done when"


@pytest.fixture(scope="module")
def reading_path():
    spec = importlib.util.spec_from_file_location("reading_path", ROOT / "scripts" / "reading_path.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spine(reading_path):
    return reading_path.trace()


def test_the_lecture_page_lists_the_path_as_the_code_is(reading_path, spine):
    page = (ROOT / "docs" / "spine.md").read_text()
    MARKER = reading_path.MARKER
    assert MARKER in page, "docs/spine.md lost its generated section"
    listed = page.split(MARKER, 1)[1]
    assert listed == reading_path.markdown(spine), (
        "docs/spine.md's table has drifted from the code: python scripts/reading_path.py --write")


def test_the_reading_path_does_not_grow(reading_path, spine):
    totals = reading_path.totals(spine)
    grew = {k: (totals[k], TODAY[k]) for k in TODAY if totals[k] > TODAY[k]}
    assert not grew, f"the reading path grew (now, before): {grew}; keep speed and checks off the spine"


def test_the_reading_path_runs_no_speed_trick(spine):
    names = {f"{file}:{name}" for file, name, _ in spine}
    tricks = {n for n in names if "fast.py" in n}  # not even a dispatcher: the switch is read where it is kept
    assert not tricks, f"with fast off the path still runs {sorted(tricks)}"
    assert "micrornn/graph.py:backward" in names and "micrornn/tensor.py:Tensor._receive" in names
    assert 'micrornn/tensor.py:lambda "copy"' in names  # the table's rules count too, one line each


def test_the_tracer_sees_the_fast_path_when_it_is_on(reading_path):
    names = {name for file, name, _ in reading_path.trace(reference=False) if file == "micrornn/fast.py"}
    assert {"factored_copy", "factored_backward", "rnn_step", "_sweep"} <= names


@pytest.mark.xfail(strict=True, reason="#19's bar is not met yet: see docs/spine.md for what is left")
def test_the_reading_path_meets_the_bar(reading_path, spine):
    totals = reading_path.totals(spine)
    assert all(totals[k] <= BAR[k] for k in BAR), totals


def test_the_recorder_as_one_count_folds_only_the_recorders_calls(reading_path, spine):
    folded = reading_path.recorder_as_one(spine)
    names = {name for _, name, _ in folded}
    assert "(the recorder's calls)" in names and not any(n.startswith("Recorder.") for n in names)
    assert "Unrolled.backward" in names  # the path's own step, not bookkeeping
    recorder = [k for k in spine if k[0] == "micrornn/record.py" and k[1].startswith("Recorder.")]
    assert len(folded) == len(spine) - len(recorder) + 1


# -- the other bars: short functions, radon's complexity C at worst, imports that point one way ----
PACKAGE = ROOT / "micrornn"


def _functions():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(ROOT).as_posix(), node


def _body_lines(fn):
    """Lines of a function's body, its docstring left out (nested functions count with it)."""
    body = fn.body[1:] if len(fn.body) > 1 and _is_docstring(fn.body[0]) else fn.body
    return fn.end_lineno - body[0].lineno + 1


def _is_docstring(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _complexity(fn):
    """McCabe's number as radon counts it (checked equal on every function of the package): 1, plus each
    if / ternary / assert, loop (+1 for its else), except handler (+1 for a try's else), extra operand of
    and / or, comprehension and its ifs, match case (but the catch-all). A nested function or class is a
    block of its own."""
    count, todo = 1, list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Try):
            count += len(node.handlers) + bool(node.orelse)
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
        elif isinstance(node, (ast.If, ast.IfExp, ast.Assert)):
            count += 1
        elif isinstance(node, ast.Match):
            count += sum(not (isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None) for c in node.cases)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            count += 1 + bool(node.orelse)
        elif isinstance(node, ast.comprehension):
            count += 1 + len(node.ifs)
        todo.extend(ast.iter_child_nodes(node))
    return count


def test_no_function_body_is_over_60_lines_outside_fast():
    long = {f"{file}:{fn.lineno} {fn.name}": _body_lines(fn) for file, fn in _functions()
            if not file.endswith("/fast.py") and _body_lines(fn) > 60}
    assert not long, f"function bodies over 60 lines (issue #19): {long}"


def test_no_function_is_more_complex_than_radons_c():
    worse = {f"{file}:{fn.lineno} {fn.name}": _complexity(fn) for file, fn in _functions() if _complexity(fn) > 20}
    assert not worse, f"cyclomatic complexity above 20 (radon's D or worse; issue #19): {worse}"


def test_the_complexity_count_sees_what_radon_sees():
    fn = ast.parse("def f(xs):\n    try:\n        for x in xs:\n            if x and x > 1 or not x:\n"
                   "                return [y for y in x if y]\n        else:\n            pass\n"
                   "    except ValueError:\n        pass\n    return 1 if xs else 2\n").body[0]
    assert _complexity(fn) == 1 + 1 + 2 + 1 + 2 + 2 + 1  # try's handler, for+else, if, and/or, [… if], ternary


def test_the_package_imports_point_one_way():
    """No import cycle between the package's modules (function-level imports included)."""
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    imports = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = base + ("." + node.module if node.module else "")
                for alias in node.names:
                    imports[name].add(next(m for m in (f"{target}.{alias.name}", target) if m in modules))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                imports[name] |= {m for m in found if m in modules}
        imports[name].discard(name)
    state, cycles = {}, []

    def visit(name, path):  # depth first; a module met again on the current path closes a cycle
        state[name] = "open"
        for other in sorted(imports[name]):
            if state.get(other) == "open":
                cycles.append(path[path.index(other):] + [name, other])
            elif other not in state:
                visit(other, path + [name])
        state[name] = "done"

    for name in sorted(modules):
        if name not in state:
            visit(name, [])
    assert not cycles, f"import cycles: {cycles}"
