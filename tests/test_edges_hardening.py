"""Edge cases of issue #18: each mistake is refused at the user's own call, with one sentence that says
which argument was wrong, how, and what was expected — not deep inside an optimiser or a browser later."""

from __future__ import annotations

import numpy as np
import pytest

import micrornn as mr
from micrornn.tensor import Tensor


# -- 2. Tensor.grad is checked when assigned --------------------------------------------------------------
@pytest.mark.parametrize("bad", ["x", np.array(["a"] * 9).reshape(3, 3), [[None] * 3] * 3, object()])
def test_grad_of_the_wrong_type_is_refused(bad):
    W = Tensor(np.ones((3, 3)), label="W")
    with pytest.raises(TypeError, match=r"W\.grad must .*numbers"):
        W.grad = bad


@pytest.mark.parametrize("bad", [np.zeros(7), np.zeros((3, 1)), np.zeros((1, 3, 3)), 0.0])
def test_grad_of_the_wrong_shape_is_refused(bad):
    W = Tensor(np.ones((3, 3)), label="W")
    with pytest.raises(ValueError, match=r"different size.*shape \(3, 3\)"):
        W.grad = bad


def test_grad_accepts_arrays_lists_and_none():
    W = Tensor(np.ones((2, 2)))
    W.grad = np.full((2, 2), 0.5)
    assert W.grad.dtype == np.float64 and W.grad.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    W.grad = [[1, 2], [3, 4]]  # numbers of any real dtype become float64
    assert W.grad.dtype == np.float64 and W.grad.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    W.grad = None  # as PyTorch: "no gradient yet"; the optimisers read it as zero
    assert W.grad is None
    W.grad = np.array([[np.inf, 0.0], [0.0, np.nan]])  # an exploding gradient is still a gradient
    s = Tensor(2.0)
    s.grad = 3.0
    assert s.grad.shape == () and float(s.grad) == 3.0


def test_grad_setter_keeps_the_float64_array_itself():
    W = Tensor(np.ones(3))
    g = np.zeros(3)
    W.grad = g
    assert W.grad is g  # no copy: assigning a gradient is as cheap as before


def test_copy_grad_is_checked_too():
    W = Tensor(np.ones((2, 3)), label="W")
    W_1 = W.identity()
    with pytest.raises(ValueError, match="different size"):
        W_1.grad = np.zeros(6)


def test_value_grad_must_be_a_number():
    a = mr.Value(1.0, label="a")
    with pytest.raises(TypeError, match=r"a\.grad must be a real number"):
        a.grad = "x"
    a.grad = 2  # numbers are fine
    assert a.grad == 2.0


def test_backward_still_fills_grads_after_the_setter():
    W = Tensor(np.ones((3, 3)), label="W")
    x = Tensor(np.arange(3.0))
    (W @ x).sum().backward()
    assert W.grad.tolist() == [[0.0, 1.0, 2.0]] * 3


# -- 1. models and optimisers pickle and deep-copy ----------------------------------------------------------
MODELS = {
    **{f"RNN-{f}": (lambda f=f: mr.nn.RNN(2, 3, 2, activation=f, seed=1)) for f in mr.functional.ACTIVATIONS},
    "RNN-jordan": lambda: mr.nn.RNN(2, 3, 2, feedback="output", truncate=2, seed=1),
    "Elman": lambda: mr.nn.Elman(2, 3, 2, seed=1),
    "Jordan": lambda: mr.nn.Jordan(2, 3, 2, activation="relu", seed=1),
    "LSTM": lambda: mr.nn.LSTM(2, 3, 2, seed=1),
    "GRU": lambda: mr.nn.GRU(2, 3, 2, seed=1),
}
XS = np.array([[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75]])


def _pickled(obj):
    import pickle

    return pickle.loads(pickle.dumps(obj))


def _deepcopied(obj):
    import copy

    return copy.deepcopy(obj)


def _loss_and_grads(model):
    model.zero_grad()
    u = mr.unroll.many_to_one(model, XS, np.array([0.1, -0.2]))
    u.backward()
    return u.loss.item(), [p.grad.copy() for p in model.parameters()]


@pytest.mark.parametrize("round_trip", [_pickled, _deepcopied])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_round_trip(name, round_trip):
    model = MODELS[name]()
    twin = round_trip(model)
    assert repr(twin) == repr(model)
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in model.named_parameters()]
    for (_, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
        assert np.array_equal(p.data, q.data) and p.data is not q.data
    loss, grads = _loss_and_grads(model)
    twin_loss, twin_grads = _loss_and_grads(twin)
    assert twin_loss == loss
    assert all(np.array_equal(g, h) for g, h in zip(grads, twin_grads))


def _state(opt) -> dict:
    return {k: v for k, v in vars(opt).items() if k != "params"}


def _equal(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


OPTIMIZERS = {name: cls for name, cls in vars(mr.optim).items()
              if isinstance(cls, type) and issubclass(cls, mr.optim.Optimizer) and cls is not mr.optim.Optimizer}


def test_every_optimizer_is_covered():
    assert {"SGD", "Adagrad", "Adam"} <= set(OPTIMIZERS)


@pytest.mark.parametrize("round_trip", [_pickled, _deepcopied])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_round_trip_with_their_model(name, round_trip):
    model = mr.nn.RNN(2, 3, 2, seed=1)
    opt = OPTIMIZERS[name](model.parameters(), lr=0.1)
    for _ in range(2):  # state worth keeping: momenta, sums of squares, Adam's step count
        _loss_and_grads(model)
        opt.step()
    model2, opt2 = round_trip((model, opt))
    assert _equal(_state(opt2), _state(opt))
    assert all(p is q for p, q in zip(opt2.params, model2.parameters())), "the optimiser steps the copied model"
    for m, o in ((model, opt), (model2, opt2)):  # the next step is the same on both
        _loss_and_grads(m)
        o.step()
    assert all(np.array_equal(p.data, q.data) for p, q in zip(model.parameters(), model2.parameters()))
    assert _equal(_state(opt2), _state(opt))


# -- 5. gradcheck names the inputs whose gradient is zero ---------------------------------------------------
def test_gradcheck_reports_an_ignored_input():
    from micrornn.gradcheck import directional_gradcheck, gradcheck

    a, b = Tensor([0.5, -1.0], label="a"), Tensor([2.0, 3.0], label="b")
    c = Tensor([1.0])  # no label: named by its position
    for check in (gradcheck, directional_gradcheck):
        report = check(lambda a, b, c: (a * a).sum(), [a, b, c])  # wired wrong: b and c are ignored
        assert report, "a zero gradient can be right, so the check still passes"
        assert report.zero_grad == ("b", "input 2")
        assert "b, input 2" in str(report) and "all-zero gradient" in repr(report)


def test_gradcheck_report_without_zero_gradients_says_nothing_about_them():
    from micrornn.gradcheck import gradcheck

    report = gradcheck(lambda a: (a * a).tanh(), [mr.Value(0.3)])
    assert report.zero_grad == () and "zero" not in repr(report)
