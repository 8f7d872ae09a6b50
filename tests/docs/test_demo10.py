"""[G] 7: demo 10 — the LSTM's cell state carries the gradient that fades in a simple RNN, and the
temporal-order problem (Hochreiter & Schmidhuber 1997, experiment 6a) that the RNN cannot learn and the LSTM
and GRU can. The demo runs in quick mode the way the tour runs it; its report holds the claims."""


import numpy as np
import pytest
from helpers import demo_report
from hypothesis import given, settings
from hypothesis import strategies as st

from micrornn import data
from micrornn.tour import DEMOS_DIR

pytestmark = [pytest.mark.lesson_lstm, pytest.mark.lesson_tour]  # this file's lessons: pytest -m lesson_lstm

DEMO = DEMOS_DIR / "10_lstm.py"
B, E, X, Y = (data.TEMPORAL_SYMBOLS.index(s) for s in "BEXY")


# -- the data: the temporal-order problem ----------------------------------------------------------------------
def test_g7_temporal_order_windows_are_hochreiter_schmidhubers_at_t50_and_scale_with_t():
    assert data.temporal_order_windows(50) == ((3, 12), (25, 40))
    assert data.temporal_order_windows(30) == ((2, 7), (15, 24))
    assert data.temporal_order_windows(100) == ((6, 24), (50, 80))


@settings(max_examples=40)
@given(n=st.integers(1, 40), T=st.integers(10, 120), seed=st.integers(0, 2**32 - 1))
def test_g7_temporal_order_sequences_hold_b_e_two_informative_symbols_and_their_order(n, T, seed):
    ids, labels = data.temporal_order(n, T=T, seed=seed)
    assert ids.shape == (T, n) and labels.shape == (n,)
    assert ids.dtype.kind == "i" and labels.dtype.kind == "i"
    assert (ids[0] == B).all() and (ids[-1] == E).all()
    (lo1, hi1), (lo2, hi2) = data.temporal_order_windows(T)
    assert 2 <= lo1 <= hi1 < lo2 <= hi2 <= T - 1
    for j in range(n):
        t = np.flatnonzero(ids[:, j] >= X) + 1  # 1-based steps holding X or Y
        assert len(t) == 2 and lo1 <= t[0] <= hi1 and lo2 <= t[1] <= hi2
        middle = np.delete(ids[1:-1, j], t - 2)
        assert ((middle >= 0) & (middle < 4)).all(), "every other step is a distractor a..d"
        first, second = ids[t - 1, j] - X  # 0: X, 1: Y
        assert labels[j] == 2 * first + second
        assert data.TEMPORAL_CLASSES[labels[j]] == data.TEMPORAL_SYMBOLS[ids[t[0] - 1, j]] + \
            data.TEMPORAL_SYMBOLS[ids[t[1] - 1, j]]


def test_g7_temporal_order_is_deterministic_balanced_and_fills_its_windows():
    ids, labels = data.temporal_order(4000, T=50, seed=3)
    again, labels_again = data.temporal_order(4000, T=50, seed=3)
    assert (ids == again).all() and (labels == labels_again).all()
    assert not (data.temporal_order(4000, T=50, seed=4)[0] == ids).all()
    counts = np.bincount(labels, minlength=4)
    assert counts.min() > 0.22 * 4000 and counts.max() < 0.28 * 4000  # 25 % each: guessing scores 25 %
    t1 = np.argmax(ids >= X, axis=0) + 1
    t2 = ids.shape[0] - np.argmax(ids[::-1] >= X, axis=0)
    assert set(t1) == set(range(3, 13)) and set(t2) == set(range(25, 41))


@pytest.mark.parametrize("call, message", [
    (lambda: data.temporal_order(0), r"temporal_order\(n\) must be a positive int, got 0"),
    (lambda: data.temporal_order(3, T=9), r"temporal_order\(T\) must be an int ≥ 10 .*got 9"),
    (lambda: data.temporal_order(3, T=30.0), r"temporal_order\(T\) must be an int ≥ 10 .*got 30.0"),
    (lambda: data.temporal_order_windows(True), r"must be an int ≥ 10 .*got True"),
])
def test_g7_temporal_order_rejects_bad_sizes_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- the demo, in quick mode ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick(quick_tour):
    """Demo 10's report from the session's quick tour (conftest.py): run the way the tour runs it."""
    return demo_report(quick_tour, "10_lstm")


def test_g7_demo10_writes_its_pictures(quick):
    report, out = quick
    names = {path.name for path, _ in report.figures}
    assert names == {"gradient_reach.png", "lstm_unrolled.svg", "temporal_order.png"}
    for path, _ in report.figures:
        assert path.parent == out and path.stat().st_size > 500, path


@pytest.mark.lesson_vanishing
def test_g7_rnn_gradient_fades_where_the_lstm_cell_state_carries_it(quick):
    n = quick[0].numbers
    assert n["RNN: ‖δL/δH_1‖ / ‖δL/δH_50‖"] < 1e-8  # 50 steps back: as good as nothing arrives
    assert n["LSTM b_f = 4: max / min of ‖δL/δC_t‖"] < 10  # within an order of magnitude over all 50 steps
    assert n["LSTM b_f = 4 C_1 reach / RNN H_1 reach"] > 1e5
    # ∂C_t/∂C_{t−1} = f_t: the forget gate decides. Started at f ≈ ½ the LSTM fades as the RNN does.
    shut, half_open = n["LSTM b_f = 0: ‖δL/δC_1‖ / ‖δL/δC_50‖"], n["LSTM b_f = 2: ‖δL/δC_1‖ / ‖δL/δC_50‖"]
    assert shut < 1e-6 < half_open < n["LSTM b_f = 4: ‖δL/δC_1‖ / ‖δL/δC_50‖"]


def test_g7_lstm_and_gru_learn_temporal_order_where_the_rnn_stays_near_chance(quick):
    n = quick[0].numbers
    assert n["T (training)"] == 30
    assert n["LSTM accuracy"] >= 0.9 and n["GRU accuracy"] >= 0.9
    assert n["LSTM accuracy on t₁ alone"] >= 0.9
    assert n["RNN accuracy"] <= 0.45  # chance is 25 %, knowing the symbol at t₂ alone 50 %
    assert n["RNN accuracy on t₁ alone"] <= 0.6  # the distant symbol: a coin toss for the RNN
