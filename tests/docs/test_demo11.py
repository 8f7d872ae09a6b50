"""Issue #21 item 3: demo 11, learning over time — the share of W^H's gradient that comes from beyond lag 10,
at the first and the last frame of a training film, for the tanh RNN and the LSTM on the temporal-order
problem. The demo runs in quick mode the way the tour runs it (the session's quick tour); its report holds
the claims."""


import numpy as np
import pytest
from helpers import demo_report

from micrornn.recording import Recording

pytestmark = [pytest.mark.lesson_lstm, pytest.mark.lesson_tour]  # this file's lessons: pytest -m lesson_lstm


@pytest.fixture(scope="module")
def quick(quick_tour):
    return demo_report(quick_tour, "11_learning_over_time")


def test_demo11_writes_the_matrix_picture_the_film_page_and_gif_and_a_recording(quick):
    report, out = quick
    assert {p.name for p, _ in report.figures} == {"learning_over_time.png"}
    assert {p.name for p, _ in report.links} == {"film.html", "film.gif"}
    for path, _ in [*report.figures, *report.links]:
        assert path.parent == out and path.stat().st_size > 500, path
    n = report.numbers
    page = (out / "film.html").read_text(encoding="utf-8")
    assert page.count('class="frame"') == n["frames"] == n["steps"] // 10
    lstm = Recording.load(out / "lstm_film.npz")
    assert len(lstm) == n["frames"] and lstm.steps[-1] == n["training step of the last frame"]
    assert np.isclose(lstm.far_fraction(n["lag threshold"])[-1], n["LSTM: share of ‖C‖ beyond lag 10, last frame"])


def test_demo11_the_rnn_gets_its_gradient_from_the_last_steps_before_and_after_training(quick):
    n = quick[0].numbers
    assert n["RNN: share of ‖C‖ beyond lag 10, first frame"] < 0.01
    assert n["RNN: share of ‖C‖ beyond lag 10, last frame"] < 0.05
    assert n["RNN held-out accuracy"] <= 0.35  # chance is 25 %
    assert n["RNN spectral radius of W^H, end"] < 1  # vanishing, not exploding: see the demo's last section


def test_demo11_the_lstms_far_lag_share_rises_as_it_learns(quick):
    n = quick[0].numbers
    start, end = n["LSTM: share of ‖C‖ beyond lag 10, first frame"], n["LSTM: share of ‖C‖ beyond lag 10, last frame"]
    assert 0.1 < start < 0.4  # forget gates at σ(2) ≈ 0.88: a quarter of the gradient from beyond lag 10
    assert end > 0.5 and end > 2 * start
    assert n["LSTM held-out accuracy"] >= 0.9
    assert end > 20 * n["RNN: share of ‖C‖ beyond lag 10, last frame"]
