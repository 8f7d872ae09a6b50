"""draw(u) on a long many-to-many net costs time linear in T (issue #18, item 12): the contraction that
hides the op nodes used to carry every dropped node's kept ancestors, and the loss L_1 + … + L_T is a
chain of T dropped sums, so 4× the steps cost ~10× the time. The picture itself does not grow (folded)."""

import time

import numpy as np
import pytest

from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import RNN

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures


def _fastest_draw(T: int, repeats: int = 3) -> float:
    """The least of a few wall times: the one the least disturbed by whatever else the machine runs."""
    rng = np.random.default_rng(0)
    u = U.many_to_many(RNN(2, 3, 2, seed=0), rng.normal(size=(T, 2)), rng.integers(0, 2, size=T))
    u.backward()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        viz.draw(u)
        times.append(time.perf_counter() - start)
    return min(times)


def test_four_times_the_steps_cost_less_than_six_times_the_time():
    short, long = _fastest_draw(500), _fastest_draw(2000)
    assert long < 6 * short, f"draw: T = 500 {short:.3f} s, T = 2,000 {long:.3f} s ({long / short:.1f}×)"
