"""The array engine: every op's VJP against central differences, broadcasting, shape ops, losses."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrornn as mr
from micrornn import functional as F
from micrornn.gradcheck import gradcheck
from micrornn.testing import arrays, broadcastable_shapes, shapes, tensors

pytestmark = [pytest.mark.lesson_tensor]  # this file's lessons: pytest -m lesson_tensor

rng = np.random.default_rng(0)


def T(*shape, low=-2.0, high=2.0, label=None):
    return mr.Tensor(rng.uniform(low, high, size=shape), label=label)


BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / (b * b + 0.5),
}


@pytest.mark.parametrize("name", BINARY)
@given(pair=broadcastable_shapes(), data=st.data())
def test_broadcasting_binary_ops(name, pair, data):
    sa, sb = pair
    a = mr.Tensor(data.draw(arrays(sa)))
    b = mr.Tensor(data.draw(arrays(sb)))
    out = BINARY[name](a, b)
    assert out.shape == np.broadcast_shapes(sa, sb)
    gradcheck(lambda a, b: (BINARY[name](a, b) * out.data).sum(), [a, b])
    assert a.grad.shape == sa and b.grad.shape == sb


UNARY = {
    "exp": lambda a: a.exp(),
    "log": lambda a: (a * a + 0.1).log(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "neg": lambda a: -a,
    "pow": lambda a: (a * a + 0.2) ** 1.5,
    "rsub": lambda a: 1.0 - a,
    "rdiv": lambda a: 1.0 / (a * a + 1.0),
    "radd_array": lambda a: np.ones(a.shape[-1:]) + a,
    "sum": lambda a: a.sum() * a.sum(),
    "mean": lambda a: a.mean() ** 2,
    "reshape": lambda a: a.reshape(-1) * np.arange(a.size),
    "transpose": lambda a: a.T * np.arange(a.size).reshape(a.T.shape),
}


@pytest.mark.parametrize("name", UNARY)
@given(x=tensors(shape=None))
def test_unary_ops_against_finite_differences(name, x):
    weights = None

    def f(x):
        nonlocal weights
        y = UNARY[name](x)
        if weights is None:
            weights = np.linspace(0.5, 1.5, y.size).reshape(y.shape)
        return (y * weights).sum()

    gradcheck(f, [x])


@given(x=tensors(shape=None))
def test_relu_away_from_the_kink(x):
    x.data[np.abs(x.data) < 1e-3] = 0.5
    gradcheck(lambda x: (x.relu() * x.relu()).sum(), [x])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean_with_axis(axis, keepdims):
    x = T(2, 3, 4)
    w = np.random.default_rng(1).normal(size=np.sum(x.data, axis=axis, keepdims=keepdims).shape)
    gradcheck(lambda x: (x.sum(axis=axis, keepdims=keepdims) * w).sum(), [x])
    gradcheck(lambda x: (x.mean(axis=axis, keepdims=keepdims) * w).sum(), [x])


@pytest.mark.parametrize(
    "sa, sb",
    [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
     ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3,)), ((1, 2, 3), (4, 3, 2))],
)
def test_matmul_shapes(sa, sb):
    a, b = T(*sa), T(*sb)
    out = a @ b
    assert out.shape == np.matmul(a.data, b.data).shape
    w = np.linspace(-1, 1, out.data.size).reshape(out.shape)
    gradcheck(lambda a, b: ((a @ b) * w).sum(), [a, b])


def test_indexing_scatters_back_and_repeats_accumulate():
    x = T(4, 3)
    idx = np.array([0, 2, 2, 3])
    gradcheck(lambda x: (x[idx] * np.arange(12).reshape(4, 3)).sum(), [x])
    x.zero_grad()
    x[idx].sum().backward()
    assert np.array_equal(x.grad[:, 0], [1, 0, 2, 1])
    for index in (1, (slice(1, 3), 2), (Ellipsis, -1), (np.array([1, 1]), np.array([0, 2]))):
        gradcheck(lambda x: (x[index] * 1.5).sum(), [x])


def test_concatenate_and_stack():
    a, b = T(2, 3), T(4, 3)
    gradcheck(lambda a, b: (mr.concatenate([a, b], axis=0) * np.arange(18).reshape(6, 3)).sum(), [a, b])
    c, d = T(2, 3), T(2, 3)
    for axis in (0, 1, 2):
        w = np.arange(12.0).reshape(np.stack([c.data, d.data], axis=axis).shape)
        gradcheck(lambda c, d: (mr.stack([c, d, c], axis=axis)[(slice(None),) * axis + (slice(0, 2),)] * w).sum(),
                  [c, d])


def test_detach_and_no_grad():
    w = T(3)
    y = (w.detach() * w).sum()
    y.backward()
    assert np.allclose(w.grad, w.data)
    with mr.no_grad():
        z = (w * w).sum()
    assert z._parents == ()


def test_backward_twice_and_inner_grads_kept():
    w = T(3, 3, label="W")
    x = T(3, label="x")
    h = (w @ x).tanh()
    loss = (h * h).sum()
    loss.backward()
    g_w, g_h = w.grad.copy(), h.grad.copy()
    assert h.grad.shape == h.shape
    loss.backward()
    assert np.allclose(w.grad, 2 * g_w) and np.allclose(h.grad, g_h)


def test_repr():
    t = mr.Tensor(np.arange(10.0), label="x")
    assert repr(t).startswith("Tensor(x: shape=(10,), data=[0., 1., ..., 8., 9.]")


# -- functional --------------------------------------------------------------------------------------
@given(shape=shapes(1, 2, 5), data=st.data())
def test_softmax_and_log_softmax(shape, data):
    x = mr.Tensor(data.draw(arrays(shape, -5, 5)))
    w = np.linspace(-1, 2, x.size).reshape(shape)
    assert np.allclose(F.softmax(x).data.sum(-1), 1.0)
    assert np.allclose(np.exp(F.log_softmax(x).data), F.softmax(x).data)
    gradcheck(lambda x: (F.softmax(x) * w).sum(), [x])
    gradcheck(lambda x: (F.log_softmax(x) * w).sum(), [x])


def test_log_softmax_is_stable_for_huge_logits():
    x = mr.Tensor([1000.0, 0.0, -1000.0])
    assert np.isfinite(F.log_softmax(x).data).all()
    assert F.cross_entropy(x, 0).item() == pytest.approx(0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy(reduction):
    logits = T(4, 5)
    targets = np.array([0, 4, 2, 2])
    ref = -F.log_softmax(logits).data[np.arange(4), targets]
    expected = ref.mean() if reduction == "mean" else ref.sum()
    assert F.cross_entropy(logits, targets, reduction).item() == pytest.approx(expected)
    gradcheck(lambda lg: F.cross_entropy(lg, targets, reduction), [logits])
    gradcheck(lambda lg: F.cross_entropy(lg, 3), [T(5)])


def test_mse_linear_embed():
    p, y = T(3, 2), rng.normal(size=(3, 2))
    assert F.mse(p, y).item() == pytest.approx(((p.data - y) ** 2).mean())
    gradcheck(lambda p: F.mse(p, y, "sum"), [p])
    W = T(4, 3)
    for x in (T(3), T(5, 3)):
        assert np.allclose(F.linear(x, W).data, x.data @ W.data.T)
        gradcheck(lambda x, W: (F.linear(x, W) ** 2).sum(), [x, W])
    E = T(4, 6)
    assert np.array_equal(F.embed(E, 2).data, E.data[:, 2])
    ids = np.array([1, 5, 1])
    assert np.array_equal(F.embed(E, ids).data, E.data[:, ids].T)
    gradcheck(lambda E: (F.embed(E, ids) ** 2).sum(), [E])


@st.composite
def matmul_operands(draw):
    """Shapes (…, n, k) @ (…, k, m), either side possibly 1-D, batch dimensions broadcasting."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(shapes(0, 2, 3))
    left = (k,) if draw(st.booleans()) else (*batch[draw(st.integers(0, len(batch))):], n, k)
    right = (k,) if draw(st.booleans()) else (*batch[draw(st.integers(0, len(batch))):], k, m)
    return mr.Tensor(draw(arrays(left))), mr.Tensor(draw(arrays(right)))


@given(operands=matmul_operands())
def test_matmul_against_finite_differences_over_drawn_shapes(operands):
    a, b = operands
    out = a @ b
    assert out.shape == np.matmul(a.data, b.data).shape
    w = np.linspace(-1, 1, out.data.size).reshape(out.shape)
    gradcheck(lambda a, b: ((a @ b) * w).sum(), [a, b])
