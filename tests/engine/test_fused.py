"""Issue [H] 2: the simple RNN's step ``W^H C_t + W^X X_t + b`` is one node with three weighted inputs.

The fused node (``fast.affine2``, op "affine") must give every operand exactly the gradient the
separate ops give (two products and a sum), with factored gradients for the per-step copies; the
unrolled record must keep its copies, labels and roles.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrornn import fast
from micrornn import functional as F
from micrornn import unroll as U
from micrornn.fast import FactoredCopy
from micrornn.nn import RNN
from micrornn.tensor import Tensor

pytestmark = [pytest.mark.lesson_fast]  # this file's lessons: pytest -m lesson_fast


@st.composite
def affine_cases(draw):
    """Sizes, a batch (None: one vector), token ids or a float input, and a seed."""
    hidden, inp = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    batch = draw(st.none() | st.integers(1, 4))
    ids = draw(st.booleans())
    lead = () if batch is None else (batch,)
    x = (np.asarray(draw(st.lists(st.integers(0, inp - 1), min_size=batch, max_size=batch))) if batch is not None
         else np.int64(draw(st.integers(0, inp - 1)))) if ids else None
    return hidden, inp, lead, x, draw(st.integers(0, 2**16))


def _operands(hidden, inp, lead, x, seed, copies):
    rng = np.random.default_rng(seed)
    W_h, W_x, b = Tensor(rng.normal(size=(hidden, hidden))), Tensor(rng.normal(size=(hidden, inp))), \
        Tensor(rng.normal(size=hidden))
    h = Tensor(rng.normal(size=(*lead, hidden)))
    x = Tensor(rng.normal(size=(*lead, inp))) if x is None else x
    weights = (W_h, W_x, b)
    uses = tuple(fast.copy(w, None) for w in weights) if copies else tuple(w + 0.0 for w in weights)
    probe = rng.normal(size=(*lead, hidden))
    return weights, uses, h, x, probe


@given(case=affine_cases(), copies=st.booleans())
@settings(max_examples=60)
def test_h2_affine2_gives_the_gradients_of_the_separate_ops(case, copies):
    grads, values = [], []
    for fused in (False, True):
        (W_h, W_x, b), (Wh_t, Wx_t, b_t), h, x, probe = _operands(*case, copies)
        if fused:
            z = fast.affine2(Wh_t, h, Wx_t, x, b_t)
        else:
            wx = F._embed(Wx_t, x) if type(x) is not Tensor else F._linear(x, Wx_t)
            z = wx + F._linear(h, Wh_t, b_t)
        (z.tanh() * Tensor(probe)).sum().backward()
        values.append(z.data)
        nodes = [W_h, W_x, b, h, Wh_t, Wx_t, b_t] + ([x] if type(x) is Tensor else [])
        grads.append([n.grad for n in nodes])
    np.testing.assert_allclose(values[1], values[0], rtol=1e-12, atol=1e-12)
    for fused_grad, separate_grad in zip(grads[1], grads[0]):
        np.testing.assert_allclose(fused_grad, separate_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("token_ids", [True, False])
@pytest.mark.parametrize("batch", [None, 3])
def test_h2_the_simple_rnn_step_is_one_affine_node_of_the_copies(token_ids, batch):
    rnn = RNN(4, 5, 4, token_ids=token_ids, seed=1)
    rng = np.random.default_rng(0)
    lead = () if batch is None else (batch,)
    xs = rng.integers(0, 4, size=(3, *lead)) if token_ids else rng.normal(size=(3, *lead, 4))
    u = U.many_to_many(rnn, xs, rng.integers(0, 4, size=(3, *lead)))
    for t, H in enumerate(u.H, start=1):
        z = H._parents[0]  # H_t = tanh(z)
        if t == 1:  # no H_0: no W^H term, as in the notes
            assert z._op != "affine"
            continue
        assert z._op == "affine"
        copies = [p for p in z._parents if type(p) is FactoredCopy]
        assert [c.label for c in copies] == [f"W^H_{t}", f"W^X_{t}", f"b_{t}"]
        recorded = [u.copies["W_h"][t - 2], u.copies["W_x"][t - 1], u.copies["b"][t - 1]]  # no W^H_1
        assert all(c is r for c, r in zip(copies, recorded))
        assert z._parents[0] is u.H[t - 2]
    u.backward()
    # the copies still read their own step's gradient, and the weight their sum
    for name in ("W_h", "W_x", "b"):
        np.testing.assert_allclose(sum(u.copy_grads(name)), getattr(rnn, name).grad, atol=1e-12)


def test_h2_a_bad_target_still_names_its_step():
    rnn = RNN(4, 3, 4, token_ids=True)
    with pytest.raises(ValueError, match="step 3: class index 4 is out of range"):
        U.many_to_many(rnn, np.array([0, 1, 2]), np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="step 1: class index -1"):
        U.many_to_many(rnn, np.array([0, 1, 2]), np.array([-1, 1, 2]))
