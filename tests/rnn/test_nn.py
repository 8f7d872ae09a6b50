"""Modules, optimisers, sampling, saving — and bad input at each of them."""

import numpy as np
import pytest

import micrornn as mr
from micrornn import optim
from micrornn import unroll as U
from micrornn.nn import RNN, Elman, Jordan, Linear

pytestmark = [pytest.mark.lesson_training]  # this file's lessons: pytest -m lesson_training


def test_parameter_shapes_follow_pytorch():
    rnn = RNN(4, 5, 3, seed=0)
    assert [(n, p.shape) for n, p in rnn.named_parameters()] == [
        ("W_h", (5, 5)), ("W_x", (5, 4)), ("b", (5,)), ("W_o", (3, 5)), ("b_o", (3,))]
    assert Jordan(4, 5, 3).W_h.shape == (5, 3)  # fed the output back
    assert (Elman(4, 5, 3).truncate, Jordan(4, 5, 3).feedback) == (1, "output")
    assert np.abs(rnn.W_h.data).max() <= 1 / np.sqrt(5)
    assert np.array_equal(RNN(4, 5, 3, seed=7).W_x.data, RNN(4, 5, 3, seed=7).W_x.data)
    layer = Linear(3, 2)
    mr.gradcheck(lambda W, b: (layer(mr.Tensor([1.0, 2.0, -1.0])) ** 2).sum(), layer.parameters())


def test_save_load_roundtrip_and_atomicity(tmp_path):
    a, b = RNN(3, 4, 2, seed=0), RNN(3, 4, 2, seed=1)
    path = tmp_path / "rnn.npz"
    a.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["rnn.npz"]  # no temporary file left behind
    W_h = b.W_h.data  # load writes into the same arrays
    b.load(path)
    assert b.W_h.data is W_h
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))


def test_load_corrupt_or_other_architecture_leaves_model_unchanged(tmp_path):
    rnn = RNN(3, 4, 2, seed=0)
    before = rnn.state_dict()
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="not a micrornn checkpoint: .*corrupt.npz: a damaged or truncated zip"):
        rnn.load(corrupt)
    other = tmp_path / "other.npz"
    RNN(3, 5, 2).save(other)
    with pytest.raises(ValueError, match=r"state\['W_h'\] has shape \(5, 5\), RNN expects \(4, 4\)"):
        rnn.load(other)
    with pytest.raises(ValueError, match="missing"):
        rnn.load_state_dict({"W_h": np.zeros((4, 4))})
    assert all(np.array_equal(before[n], p.data) for n, p in rnn.named_parameters())
    with pytest.raises(FileNotFoundError, match="missing.npz"):  # as np.load and torch.load
        rnn.load(tmp_path / "missing.npz")


def test_optimisers_follow_their_formulas():
    g = np.array([0.5, -1.0])

    def run(opt_cls, steps=3, **kw):
        w = mr.Tensor([1.0, 2.0])
        opt = opt_cls([w], **kw)
        for _ in range(steps):
            w.grad = g.copy()
            opt.step()
        return w.data

    assert np.allclose(run(optim.SGD, lr=0.1), [1.0, 2.0] - 3 * 0.1 * g)
    assert np.allclose(run(optim.SGD, lr=0.1, momentum=0.9), [1.0, 2.0] - 0.1 * g * (1 + 1.9 + 2.71))
    ada = [1.0, 2.0] - 0.1 * g * sum(1 / np.sqrt(k) for k in (1, 2, 3)) / np.abs(g)
    assert np.allclose(run(optim.Adagrad, lr=0.1), ada)
    assert np.allclose(run(optim.Adam, lr=0.01), [1.0, 2.0] - 3 * 0.01 * np.sign(g), atol=1e-6)
    with pytest.raises(ValueError, match="lr must be finite and ≥ 0"):  # torch.optim allows lr=0
        optim.SGD([mr.Tensor([1.0])], lr=-0.1)
    with pytest.raises(TypeError, match="parameter 0 is a Value"):
        optim.SGD([mr.Value(1.0)], lr=0.1)


@pytest.mark.lesson_vanishing
def test_clip_nonfinite_and_value():
    w = mr.Tensor([0.0, 0.0])
    w.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="norm of the gradients is inf"):
        optim.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    w.grad = np.array([3.0, -0.5])
    optim.clip_grad_value_([w], 1.0)
    assert np.array_equal(w.grad, [1.0, -0.5])
    w.grad = np.array([3.0, 4.0])
    assert optim.clip_grad_norm_([w], 1.0, norm_type=np.inf) == 4.0


def test_sample_is_deterministic_and_in_range():
    rnn = RNN(6, 8, 6, seed=0, token_ids=True)
    a = mr.sample(rnn, [1, 2], 30, seed=3)
    assert a == mr.sample(rnn, [1, 2], 30, seed=3) and len(a) == 30 and 0 <= min(a) and max(a) < 6
    assert mr.sample(Jordan(6, 8, 6, token_ids=True), 0, 5)
    with pytest.raises(ValueError, match="input_size == output_size"):
        mr.sample(RNN(3, 4, 2, token_ids=True), 0, 5)
    with pytest.raises(ValueError, match="token id 9 is out of range"):
        mr.sample(rnn, [9], 5)
    with pytest.raises(ValueError, match="temperature"):
        mr.sample(rnn, [1], 5, temperature=0)


def test_unrolled_record_is_keyed_by_time_step():
    rnn = RNN(2, 3, 2)
    u = U.many_to_many(rnn, np.ones((3, 2)), np.ones((3, 2)), h0=np.zeros(3))
    assert u.steps["H"] == [0, 1, 2, 3] and u.steps["L"] == [1, 2, 3]
    assert [h.label for h in u.H] == ["H_0", "H_1", "H_2", "H_3"]
    assert u.at(2)["H"] is u.H[2] and u.at(2)["X"].label == "X_2"
    assert [c.label for c in u.copies["W_h"]] == ["W^H_1", "W^H_2", "W^H_3"]
    assert [c.t for c in u.copies["W_x"]] == [1, 2, 3]
    assert u.loss.label == "L"


# -- bad input ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(activation="gelu"), ValueError, "unknown activation 'gelu'"),
        (dict(feedback="context"), ValueError, "feedback must be one of"),
        (dict(truncate=0), ValueError, "truncate"),
        (dict(hidden_size=0), ValueError, "hidden_size must be a positive int"),
    ],
)
def test_bad_rnn_arguments(kwargs, error, match):
    args = dict(input_size=2, hidden_size=3, output_size=2) | kwargs
    with pytest.raises(error, match=match):
        RNN(**args)


def test_bad_unroll_inputs():
    rnn = RNN(2, 3, 4)
    with pytest.raises(ValueError, match=r"shape \(5, 3\), expected \(T, 2\) or \(T, batch, 2\)"):
        U.many_to_one(rnn, np.ones((5, 3)), 1)
    with pytest.raises(ValueError, match="T = 0"):
        U.many_to_one(rnn, np.ones((0, 2)), 1)
    with pytest.raises(ValueError, match="got 4 targets for T = 5"):
        U.many_to_many(rnn, np.ones((5, 2)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"class index 4 is out of range for output_size 4 \(classes 0..3\)"):
        U.many_to_one(rnn, np.ones((5, 2)), 4)
    with pytest.raises(ValueError, match="token id 2 is out of range for input_size 2"):
        U.many_to_one(RNN(2, 3, 4, token_ids=True), np.array([0, 1, 2]), 1)
    with pytest.raises(ValueError, match=r"regression target must have shape \(4,\), got \(3,\)"):
        U.many_to_one(rnn, np.ones((5, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"h0 must be numbers of shape \(3,\)"):
        U.many_to_one(rnn, np.ones((5, 2)), 1, h0=np.zeros(4))
    with pytest.raises(TypeError, match="must be numbers"):
        U.many_to_one(rnn, [["a", "b"]], 1)
    with pytest.raises(ValueError, match="loss must be one of"):
        U.many_to_one(rnn, np.ones((5, 2)), 1, loss="hinge")
    with pytest.raises(ValueError, match="feed='output' needs"):
        U.one_to_many(rnn, np.ones(2), np.ones((3, 4)), feed="output")
    with pytest.raises(TypeError, match="must be a micrornn.nn.Cell"):
        U.many_to_one(object(), np.ones((2, 2)), 1)
