"""The two one-switch initialisations: ``LSTM(forget_bias=1.0)`` (Jozefowicz et al. 2015) and
``RNN(init="identity", activation="relu")`` (the IRNN of Le, Jaitly & Hinton 2015), and their PyTorch twins."""

import numpy as np
import pytest

from micrornn import unroll as U
from micrornn.nn import LSTM, RNN, Elman

pytestmark = [pytest.mark.lesson_vanishing, pytest.mark.lesson_lstm]  # this file's lessons: pytest -m lesson_vanishing


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forget_gates(lstm, T=50):
    """The forget gates f_t (T, hidden) of an untrained LSTM on zero inputs, and Π_t f_t per unit: the factor
    ∂C_T/∂C_0 the cell-state path multiplies the gradient by (f_1 has no C_0 to act on: t = 2 … T)."""
    u = U.many_to_one(lstm, np.zeros((T, lstm.input_size)), np.zeros(lstm.output_size))
    f = np.array([g.data for g, name, _, _ in u.gates if name == "f"])
    return f, f[1:].prod(axis=0)


def test_forget_bias_takes_the_cell_path_from_half_to_sigmoid_one():
    plain, opened = LSTM(3, 64, 1, seed=0), LSTM(3, 64, 1, seed=0, forget_bias=1.0)
    f0, path0 = forget_gates(plain)
    f1, path1 = forget_gates(opened)
    assert np.allclose(f1[0], sigmoid(1.0), rtol=1e-15)  # step 1: no input, no H_0, so f = σ(b^X_f + b^H_f)
    assert abs(np.exp(np.log(f0).mean()) - 0.5) < 0.03  # PyTorch's init: f ≈ ½
    assert abs(np.exp(np.log(f1).mean()) - sigmoid(1.0)) < 0.03  # open: f ≈ σ(1) ≈ 0.731
    # the product over 49 steps, typical unit: ≈ 0.5^49 ≈ 1.8e-15 against σ(1)^49 ≈ 2.2e-7
    assert abs(np.log10(np.exp(np.log(path0).mean())) - 49 * np.log10(0.5)) < 1.5
    assert abs(np.log10(np.exp(np.log(path1).mean())) - 49 * np.log10(sigmoid(1.0))) < 1.5
    assert np.exp(np.log(path1).mean()) > 1e6 * np.exp(np.log(path0).mean())


def test_forget_bias_changes_only_the_forget_quarter_of_the_biases():
    plain, opened = LSTM(2, 3, 1, seed=5, num_layers=2, bidirectional=True), \
        LSTM(2, 3, 1, seed=5, num_layers=2, bidirectional=True, forget_bias=2.5)
    for name, p in plain.named_parameters():
        q = getattr(opened, name).data
        if name.startswith(("b_x", "b_h")):
            f = slice(3, 6)
            assert np.array_equal(np.delete(q, np.r_[f]), np.delete(p.data, np.r_[f])), name
            assert np.all(q[f] == (2.5 if name.startswith("b_x") else 0.0)), name
        else:
            assert np.array_equal(q, p.data), name  # the seed draws the same weights
    assert "forget_bias=2.5" in repr(opened)


@pytest.mark.parametrize("bad, error", [(True, TypeError), ("1", TypeError), (float("inf"), ValueError)])
def test_forget_bias_refuses_non_numbers(bad, error):
    with pytest.raises(error, match="forget_bias"):
        LSTM(2, 3, 1, forget_bias=bad)


def test_identity_init_is_w_h_eye_and_zero_bias_in_every_layer():
    rnn = RNN(2, 4, 1, init="identity", activation="relu", num_layers=2, bidirectional=True, seed=1)
    for name, p in rnn.named_parameters():
        if name.startswith("W_h"):
            assert np.array_equal(p.data, np.eye(4)), name
        elif name.startswith("b") and name != "b_o":
            assert not p.data.any(), name
    plain = RNN(2, 4, 1, activation="relu", num_layers=2, bidirectional=True, seed=1)
    assert np.array_equal(plain.W_x.data, rnn.W_x.data) and np.array_equal(plain.W_o.data, rnn.W_o.data)
    assert "init='identity'" in repr(rnn) and "init" not in repr(plain)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(init="eye"), ValueError, "init must be one of"),
    (dict(init=None), TypeError, "init must be a string"),
    (dict(init="identity", feedback="output"), ValueError, "square W"),
])
def test_identity_init_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RNN(2, 3, 1, **kwargs)


@pytest.mark.parametrize("scalar", [False, True])
def test_irnn_passes_the_gradient_back_unchanged(scalar):
    """At init, nonnegative inputs through nonnegative W^X and H_0 > 0 keep every relu active: each step's
    Jacobian is W^H = I, so ∂H_T/∂H_0 = I exactly and ‖dL/dH_t‖ is one flat strip."""
    T, H = 50 if not scalar else 12, 4
    rnn = RNN(3, H, 2, init="identity", activation="relu", seed=0)
    rnn.W_x.data[...] = np.abs(rnn.W_x.data)
    rng = np.random.default_rng(0)
    xs, h0 = rng.uniform(0, 1, size=(T, 3)), rng.uniform(0.5, 1, size=H)
    u = U.many_to_one(rnn, xs, np.zeros(2), h0=h0, loss="mse", scalar=scalar)
    u.backward()
    strip = [U.grad_of(h) for h in u.H]
    assert all(np.array_equal(g, strip[-1]) for g in strip)  # dL/dH_0 = … = dL/dH_T, bit for bit
    if not scalar:
        jacobian = []
        for i in range(H):
            v = U.many_to_one(rnn, xs, np.zeros(2), h0=h0, loss="mse")
            v.H[-1].backward(np.eye(H)[i])
            jacobian.append(v.H[0].grad)
        assert np.array_equal(np.array(jacobian), np.eye(H))


def test_plain_init_unchanged_for_elman():
    assert np.array_equal(Elman(2, 3, 1, seed=4).W_h.data, RNN(2, 3, 1, truncate=1, seed=4).W_h.data)


# -- the PyTorch bridge ------------------------------------------------------------------------------------
def test_forget_bias_through_the_torch_bridge():
    torch = pytest.importorskip("torch")
    from micrornn import interop
    lstm = LSTM(3, 4, 2, forget_bias=1.0, seed=0)
    model = interop.to_torch(lstm)
    assert torch.equal(model.rnn.bias_ih_l0[4:8], torch.ones(4, dtype=torch.float64))  # b^X_f = 1 …
    assert torch.equal(model.rnn.bias_hh_l0[4:8], torch.zeros(4, dtype=torch.float64))  # … b^H_f = 0
    xs = np.random.default_rng(0).normal(size=(6, 3))
    O, _ = model(torch.from_numpy(xs))
    u = U.many_to_many(lstm, xs, np.zeros((6, 2)))
    assert np.allclose(O.detach().numpy(), np.stack([o.data for o in u.O]), rtol=1e-10)
    # torch's way: any split of the forget bias between bias_ih and bias_hh is the same net
    torch_lstm = torch.nn.LSTM(3, 4, dtype=torch.float64)
    with torch.no_grad():
        torch_lstm.bias_ih_l0[4:8] = 0.25
        torch_lstm.bias_hh_l0[4:8] = 0.75
    back = interop.from_torch(torch_lstm, torch.nn.Linear(4, 2, dtype=torch.float64))
    assert np.allclose(back.b_x.data[4:8] + back.b_h.data[4:8], 1.0, rtol=0, atol=1e-15)
    f, _ = forget_gates(back, T=2)
    assert np.allclose(f[0], sigmoid(1.0), rtol=1e-14)


def test_irnn_through_the_torch_bridge():
    torch = pytest.importorskip("torch")
    from micrornn import interop
    irnn = RNN(3, 4, 2, init="identity", activation="relu", seed=0)
    model = interop.to_torch(irnn)
    assert model.rnn.nonlinearity == "relu"
    assert torch.equal(model.rnn.weight_hh_l0, torch.eye(4, dtype=torch.float64))
    assert not model.rnn.bias_ih_l0.any() and not model.rnn.bias_hh_l0.any()
    xs = np.random.default_rng(1).uniform(size=(8, 3))
    O, _ = model(torch.from_numpy(xs))
    u = U.many_to_many(irnn, xs, np.zeros((8, 2)))
    assert np.allclose(O.detach().numpy(), np.stack([o.data for o in u.O]), rtol=1e-10)
    torch_rnn = torch.nn.RNN(3, 4, nonlinearity="relu", dtype=torch.float64)
    with torch.no_grad():
        torch_rnn.weight_hh_l0.copy_(torch.eye(4))
        torch_rnn.bias_ih_l0.zero_()
        torch_rnn.bias_hh_l0.zero_()
    back = interop.from_torch(torch_rnn, torch.nn.Linear(4, 2, dtype=torch.float64))
    assert back.activation == "relu" and np.array_equal(back.W_h.data, np.eye(4)) and not back.b.data.any()
