"""Training smoke tests: fixed seeds, tiny data, a real improvement in seconds."""

import numpy as np
import pytest

import micrornn as mr
from micrornn import data, optim
from micrornn import unroll as U
from micrornn.nn import RNN

pytestmark = [pytest.mark.lesson_training]  # this file's lessons: pytest -m lesson_training


def fit(rnn, build, iters, lr):
    """Adam on the loss of ``build()`` (a fresh unrolled graph each step); returns the last graph."""
    opt = optim.Adam(rnn.parameters(), lr=lr)
    for _ in range(iters):
        rnn.zero_grad()
        u = build()
        u.backward()
        opt.step()
    return u


def accuracy(rnn, xs, ys):
    with mr.no_grad():
        return float((U.many_to_one(rnn, xs, ys).O[-1].data.argmax(-1) == ys).mean())


def test_sentiment_with_negation_is_learned():
    xs, ys, vocab = data.sentiment(200, seed=0)
    xt, yt, _ = data.sentiment(200, seed=1)
    rnn = RNN(len(vocab), 16, 2, seed=0, token_ids=True)
    before = accuracy(rnn, xt, yt)
    fit(rnn, lambda: U.many_to_one(rnn, xs, ys), 100, lr=0.03)
    after = accuracy(rnn, xt, yt)
    assert after >= 0.95 > before + 0.2, (before, after)


def test_char_model_loss_falls_well_below_uniform():
    text = data.zen()
    vocab = data.CharVocab.of(text)
    ids = vocab.encode(text)
    T = 25
    uniform = T * np.log(len(vocab))  # L = Σ_t L_t of a model that knows nothing
    rnn = RNN(len(vocab), 48, len(vocab), seed=0, token_ids=True)
    opt = optim.Adagrad(rnn.parameters(), lr=0.1)
    losses = []
    for it in range(150):
        xs, ys = data.char_windows(ids, T, 16, seed=it)
        u = U.many_to_many(rnn, xs, ys)
        rnn.zero_grad()
        u.backward()
        optim.clip_grad_norm_(rnn.parameters(), 5.0)
        opt.step()
        losses.append(u.loss.item())
    assert losses[0] > 0.9 * uniform
    assert np.mean(losses[-10:]) < 0.55 * uniform, (losses[0], np.mean(losses[-10:]), uniform)
    out = vocab.decode(mr.sample(rnn, vocab.encode("Beautiful is").tolist(), 40, temperature=0.5, seed=1))
    assert len(out) == 40


def test_adding_problem_short_gap_beats_the_mean():
    xs, ys = data.adding_problem(64, T=6, seed=0)
    rnn = RNN(2, 16, 1, seed=0)
    u = fit(rnn, lambda: U.many_to_one(rnn, xs, ys), 200, lr=0.02)
    assert u.loss.item() < 0.05 < np.var(ys)  # predicting the mean scores the variance ≈ 1/6


def test_one_to_many_melodies():
    x, notes, _ = data.melodies(48, seed=0)
    rnn = RNN(x.shape[1], 24, data.N_NOTES + data.N_KEYS, seed=0)
    fit(rnn, lambda: U.one_to_many(rnn, x, notes), 150, lr=0.03)
    with mr.no_grad():
        u = U.one_to_many(rnn, x, notes)
    predicted = np.stack([o.data.argmax(-1) for o in u.O])
    assert (predicted == notes).mean() > 0.95
