"""What the unroller takes in: chained states, what an input means, repeated backward, memory — issue [E]."""

import tracemalloc

import numpy as np
import pytest

import micrornn as mr
from micrornn import unroll as U
from micrornn.gradcheck import numerical_grad
from micrornn.nn import GRU, LSTM, RNN, Jordan
from micrornn.tensor import Tensor

pytestmark = [pytest.mark.lesson_bptt]  # this file's lessons: pytest -m lesson_bptt


# -- E2: an h0 that is a graph node stays in the graph ----------------------------------------------------
def encoder_decoder(scalar=False):
    enc, dec = RNN(2, 3, 2, seed=1), RNN(2, 3, 2, seed=2)
    rng = np.random.default_rng(0)
    xs, xd, yd = rng.normal(size=(4, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))

    def decoder_loss():
        u_enc = U.many_to_one(enc, xs, np.zeros(2), scalar=scalar)  # its own loss is never backpropagated
        return U.many_to_many(dec, xd, yd, h0=u_enc.H[-1], scalar=scalar)

    return enc, dec, decoder_loss


@pytest.mark.parametrize("scalar", [False, True])
def test_e2_chained_unrolls_backpropagate_into_the_encoder(scalar):
    enc, dec, decoder_loss = encoder_decoder(scalar)
    u = decoder_loss()
    u.backward()
    numeric, _ = numerical_grad(lambda *_: decoder_loss().loss, enc.parameters())
    for (name, p), g in zip(enc.named_parameters(), numeric):
        if name in ("W_o", "b_o"):  # the encoder's head feeds only its own (unused) loss
            assert not p.grad.any()
            continue
        assert p.grad.any(), name
        assert np.allclose(p.grad, g, rtol=1e-6, atol=1e-9), name
    assert U.grad_of(u.H[0]).any()  # H_0 of the decoder passes the gradient on


def test_e2_a_plain_array_h0_stays_a_constant():
    enc, dec, decoder_loss = encoder_decoder()
    u_enc = U.many_to_one(enc, np.ones((4, 2)), np.zeros(2))
    u = U.many_to_many(dec, np.ones((3, 2)), np.zeros((3, 2)), h0=u_enc.H[-1].data)
    u.backward()
    assert not enc.W_h.grad.any() and not u.H[0]._parents


def test_e2_mismatched_h0_kinds_are_clear_errors():
    rnn = RNN(2, 3, 2)
    xs, ys = np.ones((2, 2)), np.zeros((2, 2))
    tensor_h = U.many_to_one(rnn, xs, np.zeros(2)).H[-1]
    value_h = U.many_to_one(rnn, xs, np.zeros(2), scalar=True).H[-1]
    with pytest.raises(TypeError, match="h0 is a Tensor but scalar=True builds Values"):
        U.many_to_many(rnn, xs, ys, h0=tensor_h, scalar=True)
    with pytest.raises(TypeError, match="h0 holds Values but scalar=False builds Tensors"):
        U.many_to_many(rnn, xs, ys, h0=value_h)
    with pytest.raises(ValueError, match=r"h0 must be numbers of shape \(3,\) \(the hidden state\), got \(4,\)"):
        U.many_to_many(rnn, xs, ys, h0=Tensor(np.zeros(4)))
    with pytest.raises(ValueError, match=r"h0 must be numbers of shape \(2, 3\)"):
        U.many_to_many(rnn, np.ones((2, 2, 2)), np.zeros((2, 2, 2)), h0=value_h, scalar=True)


# -- E4: two backward calls give twice the gradient on both engines ------------------------------------------
@pytest.mark.parametrize("scalar", [False, True])
def test_e4_backward_twice_doubles_parameter_grads(scalar):
    rnn = RNN(2, 3, 2, seed=0)
    u = U.many_to_many(rnn, np.ones((3, 2)), np.zeros((3, 2)), scalar=scalar)
    u.backward()
    once = {n: p.grad.copy() for n, p in rnn.named_parameters()}
    u.backward()
    for name, p in rnn.named_parameters():
        assert np.allclose(p.grad, 2 * once[name], rtol=1e-12, atol=0), name


# -- E8: the net says whether inputs are token ids, never the dtype ----------------------------------------
def test_e8_integer_inputs_to_a_vector_net_are_an_error_that_says_how_to_mean_them():
    rnn = RNN(2, 3, 2)
    for xs in (np.array([[0, 1], [1, 0], [1, 1]]), [[0, 1], [1, 0]], np.array([0, 1, 1])):
        with pytest.raises(TypeError, match=r"got integers .* pass floats .* or build the net with token_ids=True"):
            U.many_to_one(rnn, xs, 1)
    u = U.many_to_one(rnn, np.array([[0, 1], [1, 0], [1, 1]], dtype=float), 1)  # the same numbers as vectors
    assert U.data_of(u.X[0]).tolist() == [0.0, 1.0]


def test_e8_a_token_net_reads_ids_and_rejects_floats():
    rnn = RNN(4, 3, 2, token_ids=True)
    ids = np.array([[0, 3], [1, 2], [2, 1]])  # (T, batch)
    u = U.many_to_one(rnn, ids, np.array([0, 1]))
    one = U.many_to_one(rnn, ids[:, 1], 1)  # the second sequence alone
    assert np.allclose(U.data_of(u.H[-1])[1], U.data_of(one.H[-1]))
    with pytest.raises(TypeError, match=r"reads token ids \(token_ids=True\): expected integers 0..3"):
        U.many_to_one(rnn, np.ones((3, 4)), 1)
    with pytest.raises(TypeError, match="token_ids must be True or False"):
        RNN(4, 3, 2, token_ids="yes")


def test_e8_float_token_ids_to_sample_are_a_type_error():
    rnn = RNN(5, 4, 5, token_ids=True)
    for start in ([1.7], 1.7, [1, 2.0], [True]):
        with pytest.raises(TypeError, match="start must be token ids"):
            mr.sample(rnn, start, 3)
    with pytest.raises(ValueError, match="token_ids=True"):
        mr.sample(RNN(5, 4, 5), [1], 3)  # a vector net cannot be fed its own ids
    assert len(mr.sample(rnn, np.array([1, 2]), 3)) == 3  # numpy ints are ids


# -- E9: sample calls the unroller's step ---------------------------------------------------------------------
@pytest.mark.parametrize("feedback", ["hidden", "output"])
def test_e9_sample_logits_equal_many_to_many_outputs_for_the_same_prefix(feedback):
    rnn = RNN(5, 4, 5, feedback=feedback, seed=3, token_ids=True)
    prefix = [1, 4, 0, 2, 2]
    _, logits = U._generate(rnn, prefix, 1)
    u = U.many_to_many(rnn, np.array(prefix), np.array(prefix[1:] + [0]))
    assert len(logits) == len(prefix)
    for t, (o, o_sample) in enumerate(zip(u.O, logits), start=1):
        assert np.allclose(o.data, o_sample, rtol=1e-13, atol=1e-15), t


@pytest.mark.parametrize("feedback", ["hidden", "output"])
def test_e9_unroll_follows_the_formula_of_the_notes(feedback):
    """An independent numpy reference, so that a change to the one shared step cannot pass unnoticed."""
    rnn = RNN(3, 4, 2, activation="tanh", feedback=feedback, seed=5)
    rng = np.random.default_rng(1)
    xs, h0 = rng.normal(size=(5, 3)), rng.normal(size=rnn.context_size)
    u = U.many_to_many(rnn, xs, rng.normal(size=(5, 2)), h0=h0)
    Wh, Wx, b, Wo, bo = (p.data for p in rnn.parameters())
    context = h0
    for t, x in enumerate(xs, start=1):
        H = np.tanh(Wh @ context + Wx @ x + b)  # H_t = f(W^H C_t + W^X X_t + b)
        O = Wo @ H + bo  # O_t = W^O H_t + b^O
        assert np.allclose(U.data_of(u.at(t)["H"]), H, rtol=1e-13) and np.allclose(u.at(t)["O"].data, O, rtol=1e-13)
        context = H if feedback == "hidden" else O


# -- E15: say the memory before building ----------------------------------------------------------------------
def test_e15_an_unroll_above_the_memory_budget_is_refused_before_building():
    rnn = RNN(1, 256, 1)
    assert U.memory_estimate(rnn, 10_000) < 500e6  # [H]: copies keep factored gradients (5.7 GB before)
    with pytest.raises(MemoryError, match=r"needs about 2\.\d\d GiB, above the budget of 2\.00 GiB"):
        U.many_to_one(rnn, np.zeros((200_000, 1)), np.zeros(1))
    small = RNN(2, 8, 2)
    with pytest.raises(MemoryError, match="max_memory=bytes"):
        U.many_to_many(small, np.ones((50, 2)), np.zeros((50, 2)), max_memory=10_000)
    with pytest.raises(MemoryError, match="Values"):
        U.many_to_one(small, np.ones((5, 2)), 1, scalar=True, max_memory=10_000)
    assert U.many_to_one(small, np.ones((5, 2)), 1, max_memory=float("inf")).T == 5
    with pytest.raises(ValueError, match="max_memory must be a positive number"):
        U.many_to_one(small, np.ones((5, 2)), 1, max_memory=0)


def test_e15_the_budget_comes_from_the_environment(monkeypatch):
    small = RNN(2, 8, 2)
    monkeypatch.setenv("MICRORNN_MEMORY_BUDGET", "10000")
    with pytest.raises(MemoryError, match="above the budget"):
        U.many_to_many(small, np.ones((50, 2)), np.zeros((50, 2)))
    monkeypatch.setenv("MICRORNN_MEMORY_BUDGET", "lots")
    with pytest.raises(ValueError, match=r"\$MICRORNN_MEMORY_BUDGET must be a number of bytes"):
        U.many_to_many(small, np.ones((5, 2)), np.zeros((5, 2)))
    monkeypatch.delenv("MICRORNN_MEMORY_BUDGET")
    monkeypatch.setattr(U, "MEMORY_BUDGET", 10_000)
    with pytest.raises(MemoryError):
        U.many_to_many(small, np.ones((50, 2)), np.zeros((50, 2)))


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("scalar, T, H, batch", [(False, 300, 32, None), (False, 100, 8, 4), (True, 10, 3, None)])
def test_e15_the_estimate_is_within_a_factor_two_of_the_measured_peak(cls, scalar, T, H, batch):
    rnn = cls(3, H, 3, seed=0)
    shape = (T, 3) if batch is None else (T, batch, 3)
    xs, ys = np.random.default_rng(0).normal(size=shape), np.zeros(shape)
    tracemalloc.start()
    try:
        U.many_to_many(rnn, xs, ys, scalar=scalar).backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0.5 <= U.memory_estimate(rnn, T, batch, scalar) / peak <= 2


def test_jordan_chains_through_o0():
    enc, dec = Jordan(2, 3, 2, seed=0), RNN(2, 3, 2, feedback="output", seed=1)
    u_enc = U.many_to_many(enc, np.ones((3, 2)), np.zeros((3, 2)))
    u = U.many_to_many(dec, np.ones((2, 2)), np.zeros((2, 2)), h0=u_enc.O[-1])
    u.backward()
    assert u.O[0].label == "O_0" and enc.W_o.grad.any()


def test_e15_seq2seq_counts_encoder_and_decoder_against_one_budget():
    enc, dec = GRU(2, 8, 2), GRU(2, 8, 2)
    one = U.memory_estimate(enc, 50)
    with pytest.raises(MemoryError, match="decoder; the encoder's"):
        U.seq2seq(enc, dec, np.zeros((50, 2)), np.zeros((50, 2)), max_memory=int(1.5 * one))


@pytest.mark.parametrize("T", ["3", -5, 0, 2.5, True])
def test_e15_memory_estimate_checks_its_length(T):
    with pytest.raises(ValueError, match="memory_estimate: T must be a positive int"):
        U.memory_estimate(RNN(1, 4, 1), T)
