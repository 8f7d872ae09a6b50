"""What the docs tests share: one quick tour for the whole session (test_demos, test_demo10 and test_demo11 read
its reports)."""

import contextlib
import io

import pytest

from micrornn import tour
from micrornn.cli import main as cli
from micrornn.tour import write_index


@pytest.fixture(scope="session")
def quick_tour(tmp_path_factory):
    """`micrornn tour --quick` once for the session; every demo's report is kept for its own test."""
    out = tmp_path_factory.mktemp("tour")
    reports = {}

    def recording(out, runs):  # the demos run in worker processes: their reports reach the gallery page
        reports.update(runs)
        return write_index(out, runs)

    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as m, contextlib.redirect_stdout(printed):
        m.setattr(tour, "write_index", recording)
        code = cli(["tour", "--out", str(out), "--quick"])
    return code, printed.getvalue(), out, reports

