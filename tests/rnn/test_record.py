"""The record an unroll returns: how it prints (issue #20, item 6)."""

import numpy as np
import pytest

from micrornn import unroll as U
from micrornn.nn import LSTM, RNN

pytestmark = [pytest.mark.lesson_bptt]  # this file's lessons: pytest -m lesson_bptt


@pytest.mark.parametrize("scalar", [False, True])
def test_repr_of_an_unrolled_graph_is_one_short_line(scalar):
    u = U.many_to_one(LSTM(2, 3, 2, seed=0), np.ones((20 if not scalar else 3, 2)), 1, scalar=scalar)
    text = repr(u)
    assert len(text) <= 300 and "\n" not in text, text  # it printed 50,703 characters for T = 20 before
    assert text.startswith("Unrolled(many_to_one, LSTM(2→3→2), T=")
    assert f"loss={float(np.sum(U.data_of(u.loss))):.6g}" in text and "viz.draw(u)" in text


def test_repr_without_a_loss_says_so():
    u = U.many_to_one(RNN(2, 3, 2), np.ones((2, 2)), 1)
    u.loss = None
    assert "loss=not built" in repr(u)
