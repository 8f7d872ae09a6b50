"""Published results the demos reproduce, checked on the engines themselves (issue #21, item 4).

Pascanu, Mikolov & Bengio 2013, the cliff: x_t = w·σ(x_{t-1}) + b, x_0 = 0.5, T = 50,
E = (σ(x_50) − 0.7)². Demo 8 draws it; here its gradient is checked three ways.
Elman 1990, XOR in time: demo 2 trains on it; here the copy net, seeded, learns the XOR bit.
"""

import numpy as np
import pytest

import micrornn as mr
from micrornn import data, optim, unroll
from micrornn.nn import Elman

pytestmark = [pytest.mark.lesson_vanishing, pytest.mark.lesson_bptt]  # this file's lessons: pytest -m lesson_vanishing


def cliff_value(w, b, T=50):
    W, B, x = mr.Value(w), mr.Value(b), mr.Value(0.5)
    for t in range(1, T + 1):
        with mr.timestep(t):
            x = W.identity() * x.sigmoid() + B.identity()
    E = (x.sigmoid() - 0.7) ** 2
    E.backward()
    return E.data, np.array([W.grad, B.grad])


def cliff_tensor(w, b, T=50):
    W, B, x = mr.Tensor([w]), mr.Tensor([b]), mr.Tensor([0.5])
    for t in range(1, T + 1):
        with mr.timestep(t):
            x = W.identity() * x.sigmoid() + B.identity()
    E = ((x.sigmoid() - 0.7) ** 2).sum()
    E.backward()
    return E.item(), np.array([W.grad[0], B.grad[0]])


def cliff_numpy(w, b, T=50):
    x = 0.5
    for _ in range(T):
        x = w / (1 + np.exp(-x)) + b
    return (1 / (1 + np.exp(-x)) - 0.7) ** 2


@pytest.mark.parametrize("w, b", [(5.0, -2.7), (5.0, -2.64), (5.0, -2.6), (4.5, -2.3), (5.0, -2.6119)])
def test_the_cliff_gradient_three_ways(w, b):
    E, g = cliff_value(w, b)
    E_t, g_t = cliff_tensor(w, b)
    h = 1e-7
    fd = np.array([(cliff_numpy(w + h, b) - cliff_numpy(w - h, b)) / (2 * h),
                   (cliff_numpy(w, b + h) - cliff_numpy(w, b - h)) / (2 * h)])
    assert E == pytest.approx(cliff_numpy(w, b), rel=1e-12) and E_t == pytest.approx(E, rel=1e-12)
    assert np.allclose(g_t, g, rtol=1e-10, atol=0)
    assert np.allclose(fd, g, rtol=1e-5, atol=1e-9)


def test_the_wall_is_between_b_minus_2_62_and_minus_2_61_on_w_5():
    assert cliff_numpy(5.0, -2.62) > 0.34 and cliff_numpy(5.0, -2.61) < 0.011
    assert abs(cliff_value(5.0, -2.6123)[1][1]) > 500  # the wall's gradient


def trained_outputs(net, xs, ys, tx, ty, lr, steps=150):
    """Train ``net`` with Adam on the stream (xs, ys), many-to-many; its outputs O_t on the fresh stream tx."""
    opt = optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        net.zero_grad()
        unroll.many_to_many(net, xs, ys).backward()
        opt.step()
    with mr.no_grad():
        return np.stack([o.data for o in unroll.many_to_many(net, tx, ty).O])


def test_an_elman_copy_net_predicts_the_xor_bit_and_only_it():
    # 3,000 bits, H = 8, the context copied (no BPTT through it), as in the paper; seconds on 2 cores
    xs, ys, _ = data.xor_in_time(3000, rows=60, seed=0)
    tx, ty, position = data.xor_in_time(3000, rows=30, seed=1)
    O = trained_outputs(Elman(1, 8, 1, seed=0), xs, ys, tx, ty, lr=0.1)[..., 0]
    right = (O > 0.5) == (ty[..., 0] > 0.5)
    assert right[position == 2].mean() >= 0.9
    assert right[position != 2].mean() < 0.6  # coin flips stay coin flips


def test_xor_in_time_refuses_rows_that_do_not_divide_the_stream():
    with pytest.raises(ValueError, match="do not cut into 7 rows"):
        data.xor_in_time(3000, rows=7)


def test_an_elman_copy_net_predicts_the_vowels_and_knows_a_consonant_comes_but_not_which():
    """Elman 1990's letters in time (b → ba, d → dii, g → guuu, 6 phonetic features): the sawtooth."""
    xs, ys, _ = data.letters_in_time(3000, rows=100, seed=0)
    tx, ty, letter = data.letters_in_time(3000, rows=30, seed=1)
    O = trained_outputs(Elman(6, 20, 6, seed=0), xs, ys, tx, ty, lr=0.05)
    per_bit = (O - ty) ** 2
    consonant = np.isin(letter, list("bdg"))
    assert per_bit.sum(-1)[consonant].mean() > 4 * per_bit.sum(-1)[~consonant].mean()
    high, consonantal = data.LETTER_FEATURES.index("high"), data.LETTER_FEATURES.index("consonantal")
    assert per_bit[..., high][consonant].mean() > 4 * per_bit[..., consonantal][consonant].mean()
    for v in "aiu":  # each vowel, after its consonant, is predicted well
        assert per_bit.sum(-1)[letter == v].mean() < 0.15, v


def test_letters_in_time_is_the_syllables_and_refuses_rows_that_do_not_divide_the_stream():
    xs, ys, letter = data.letters_in_time(60, rows=1, seed=3)
    stream = "".join(letter[:, 0])
    for consonant, syllable in data.SYLLABLES.items():
        for k in range(len(stream) - len(syllable)):
            if stream[k] == consonant:
                assert stream[k:k + len(syllable)] == syllable
    assert np.array_equal(xs[1:], ys[:-1])  # the input at t + 1 is the target at t
    with pytest.raises(ValueError, match="do not cut into 7 rows"):
        data.letters_in_time(3000, rows=7)
