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
