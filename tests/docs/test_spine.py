"""The spine (#19): the reading path from ``many_to_many`` to the weights' gradients, traced with fast off.

``scripts/reading_path.py`` traces it; these tests keep ``docs/spine.md`` in step with the code, stop the
path from growing, and say when it reaches the issue's bar.
"""

import importlib.util
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lesson_fast]  # this file's lessons: pytest -m lesson_fast

ROOT = Path(__file__).resolve().parents[2]

# What the path is today: a ratchet. Lower these when the path shrinks; never raise them.
TODAY = {"functions": 59, "lines": 311, "files": 8}
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
