"""The design's invariants 1–7, each a property over topologies × activations × feedback × truncation ×
batch 1–3 × T 1–12 — and 1, 2, 3, 5, 6 again for every cell (RNN, LSTM, GRU, a user's cell) × topology ×
stacked / bidirectional. Every one runs twice: on the reading path (``fast.off()``) and with the fast tricks."""

import numpy as np
import pytest
from helpers import PeepholeLSTM, problems
from hypothesis import given, settings
from hypothesis import strategies as st

from micrornn import fast, optim
from micrornn import unroll as U
from micrornn.backends import _flat
from micrornn.gradcheck import directional_gradcheck, gradcheck
from micrornn.nn import GRU, LSTM, RNN, Elman, Jordan
from micrornn.tensor import Tensor
from micrornn.testing import cell_problems

pytestmark = [pytest.mark.lesson_bptt, pytest.mark.lesson_fast,  # this file's lessons: pytest -m lesson_bptt
              pytest.mark.usefixtures("path"),
              pytest.mark.parametrize("path", ["fast", "reference"], indirect=True)]



# 1. the gradient of a shared weight is the sum of its per-step copies' gradients
@given(p=problems())
def test_shared_weight_grad_is_sum_of_per_step_copies(p):
    u = p.build()
    u.backward()
    for name, param in p.rnn.named_parameters():
        contributions = u.copy_grads(name)
        if contributions:
            assert np.allclose(sum(contributions), param.grad, rtol=1e-12, atol=1e-12)
        else:
            assert not param.grad.any()
    n_wh = len(u.copies["W_h"])
    has_h0 = p.kwargs.get("h0") is not None
    assert n_wh == (0 if p.topology == "one_to_one" else u.T - 1 + has_h0)  # T−1 copies without H_0, T with


# 2. gradients equal central finite differences (full BPTT; smooth activations)
@settings(max_examples=60)
@given(p=problems(activations=("tanh", "sigmoid", "identity"), truncations=(None,), max_T=6))
def test_gradients_match_finite_differences(p):
    gradcheck(lambda *params: p.build().loss, p.rnn.parameters())


# 3. the scalar (Value) unroll equals the Tensor unroll
@settings(max_examples=60)
@given(p=problems(max_T=6))
def test_scalar_unroll_equals_tensor_unroll(p):
    u = p.build()
    u.backward()
    tensor_grads = {n: q.grad.copy() for n, q in p.rnn.named_parameters()}
    p.rnn.zero_grad()
    s = p.build(scalar=True)
    s.backward()
    assert_scalar_graph_agrees(u, s, p.rnn, tensor_grads, kinds=("H",))


def assert_scalar_graph_agrees(u, s, cell, tensor_grads, kinds=("H", "C")):
    """The scalar Value graph ``s`` against the Tensor graph ``u`` of the same net: the loss, ``cell``'s
    parameter grads (left by ``s.backward()``) against ``tensor_grads``, and the grads of the states."""
    assert abs(u.loss.item() - s.loss.data) <= 1e-9 * (1 + abs(u.loss.item()))
    for name, q in cell.named_parameters():
        assert np.allclose(q.grad, tensor_grads[name], rtol=1e-9, atol=1e-12), name
    for kind in kinds:
        for a, b in zip(getattr(u, kind), getattr(s, kind)):
            assert np.allclose(U.grad_of(a), U.grad_of(b), rtol=1e-9, atol=1e-12)
        assert np.allclose(U.data_of(a), U.data_of(b), rtol=1e-12, atol=1e-15)


# 4. univariate linear RNN: dL/dH_{T-k} = w^k · dL/dH_T
def univariate(w, T):
    rnn = RNN(1, 1, 1, activation="identity", seed=0)
    rnn.W_h.data[...] = w
    rnn.W_o.data[...] = 1.0
    u = U.many_to_one(rnn, np.full((T, 1), 0.1), np.array([0.0]))
    u.backward()
    return u


@pytest.mark.parametrize("w, expected", [(1.1, 117.39), (0.9, 0.00515)])
def test_w_to_the_50(w, expected):
    u = univariate(w, T=51)
    ratio = u.H[0].grad.item() / u.H[-1].grad.item()  # dL/dH_1 / dL/dH_51
    assert ratio == pytest.approx(w**50, rel=1e-12)
    assert ratio == pytest.approx(expected, rel=1e-3)


@given(w=st.floats(-1.5, 1.5).filter(lambda w: abs(w) > 0.05), T=st.integers(2, 40))
@pytest.mark.lesson_vanishing
def test_w_to_the_k_chain(w, T):
    u = univariate(w, T)
    dT = u.H[-1].grad.item()
    for k in range(T):
        assert u.H[T - 1 - k].grad.item() == pytest.approx(w**k * dT, rel=1e-12, abs=1e-300)


# 5. many-to-many: dL/dH_t = Σ_{i≥t} dL_i/dH_t
@settings(max_examples=60)
@given(p=problems(topologies=("many_to_many",), max_T=8))
def test_per_loss_decomposition(p):
    u = p.build()
    u.backward()
    total = [np.zeros_like(U.data_of(h)) for h in u.H]
    for i in range(len(u.L)):
        alone = p.build()  # a fresh graph, backpropagated from L_i only
        alone.L[i].backward()
        for t, h in enumerate(alone.H):
            total[t] += U.grad_of(h)
    for h, expected in zip(u.H, total):
        assert np.allclose(U.grad_of(h), expected, rtol=1e-10, atol=1e-12)
    if p.rnn.truncate is None:  # from L_i alone, steps after i get nothing: the sum runs over i ≥ t only
        last = p.build()
        last.L[0].backward()
        steps = last.steps["H"]
        assert all(not U.grad_of(h).any() for h, t in zip(last.H, steps) if t > 1)


# 6. copy nets: no gradient reaches the previous step; equal to BPTT cut at every step
@settings(max_examples=60)
@given(p=problems(topologies=("many_to_many",), truncations=(1,), max_T=8))
def test_copy_nets_are_bptt_cut_at_every_step(p):
    u = p.build()
    u.backward()
    fed = u.H if p.rnn.feedback == "hidden" else u.O
    fed_steps = u.steps["H" if p.rnn.feedback == "hidden" else "O"]
    for (t, source, copy), in zip(u.cuts):
        assert source is fed[fed_steps.index(t - 1)]
        assert not copy._parents  # a leaf: the copy mechanism
    # the same gradients from T separate one-step graphs, each started from the copied context
    grads = {n: q.grad.copy() for n, q in p.rnn.named_parameters()}
    p.rnn.zero_grad()
    xs, ys, h0 = p.kwargs["xs"], p.kwargs["ys"], p.kwargs["h0"]
    context = h0
    for t in range(u.T):
        one = U.many_to_many(p.rnn, xs[t:t + 1], ys[t:t + 1], h0=context)
        one.backward()
        context = U.data_of(one.H[-1] if p.rnn.feedback == "hidden" else one.O[-1])
    for name, q in p.rnn.named_parameters():
        assert np.allclose(q.grad, grads[name], rtol=1e-10, atol=1e-12), name


def test_elman_many_to_one_gives_no_gradient_to_earlier_states():
    for net in (Elman(2, 3, 2), Jordan(2, 3, 2)):
        u = U.many_to_one(net, np.ones((5, 2)), 1)
        u.backward()
        assert all(not h.grad.any() for h in u.H[:-1])
        assert u.H[-1].grad.any()


# 7. clipping by norm
@given(shapes=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=4),
       max_norm=st.floats(0.01, 10.0), scale=st.floats(0.0, 100.0), seed=st.integers(0, 1000))
@pytest.mark.lesson_vanishing
def test_clip_grad_norm(shapes, max_norm, scale, seed):
    rng = np.random.default_rng(seed)
    params = [Tensor(np.zeros(s)) for s in shapes]
    for q in params:
        q.grad = rng.normal(size=q.shape) * scale
    before = [q.grad.copy() for q in params]
    norm_before = np.sqrt(sum((g**2).sum() for g in before))
    returned = optim.clip_grad_norm_(params, max_norm)
    assert returned == pytest.approx(norm_before)
    assert optim.grad_norm(params) <= max_norm + 1e-9
    if norm_before <= max_norm:
        assert all(np.array_equal(q.grad, g) for q, g in zip(params, before))  # a no-op
    else:
        factor = params[0].grad.reshape(-1)[0] / before[0].reshape(-1)[0] if before[0].any() else None
        for q, g in zip(params, before):
            assert np.allclose(q.grad, g * (max_norm / (norm_before + 1e-6)))  # same direction, one scale
        assert factor is None or factor > 0


# -- the same invariants for every cell × topology × stacked / bidirectional ([G]) ----------------------------
CELLS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU, "PeepholeLSTM": PeepholeLSTM}


@pytest.mark.parametrize("name", CELLS)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_cells_copies_sum_finite_differences_and_scalar_equals_tensor(name, data):
    p = data.draw(cell_problems(CELLS[name], max_T=3, max_size=2))
    u = p.build()
    u.backward()
    grads = {}
    for pname, param in p.cell.named_parameters():
        contributions = u.copy_grads(pname)
        assert np.allclose(sum(contributions) if contributions else 0.0, param.grad, rtol=1e-12, atol=1e-12)
        grads[pname] = param.grad.copy()
    directional_gradcheck(lambda *_: p.build().loss, p.cell.parameters())
    p.cell.zero_grad()
    s = p.build(scalar=True)
    s.backward()
    assert_scalar_graph_agrees(u, s, p.cell, grads)


@pytest.mark.parametrize("cls", [LSTM, GRU, PeepholeLSTM])
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_cells_gradients_match_elementwise_finite_differences(cls, data):
    p = data.draw(cell_problems(cls, max_T=3, max_size=2, layers=(1,), bidirectional=(False,)))
    gradcheck(lambda *_: p.build().loss, p.cell.parameters())


@pytest.mark.parametrize("name", CELLS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_cells_per_loss_decomposition(name, data):
    p = data.draw(cell_problems(CELLS[name], topologies=("many_to_many",), max_T=4, max_size=2))
    u = p.build()
    u.backward()
    for key, states in u.states.items():
        for kind, nodes in states.items():
            total = [np.zeros_like(U.data_of(n)) for n in nodes]
            for i in range(len(u.L)):
                alone = p.build()  # a fresh graph, backpropagated from L_i only
                alone.L[i].backward()
                for t, n in enumerate(alone.states[key][kind]):
                    total[t] += U.grad_of(n)
            for n, expected in zip(nodes, total):
                assert np.allclose(U.grad_of(n), expected, rtol=1e-10, atol=1e-12), (key, kind)


@pytest.mark.parametrize("name", CELLS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_cells_copy_nets_are_bptt_cut_at_every_step(name, data):
    cls = CELLS[name]
    p = data.draw(cell_problems(cls, topologies=("many_to_many",), max_T=4, max_size=2, truncate=1))
    u = p.build()
    u.backward()
    for t, source, copy in u.cuts:  # the reverse direction's context comes from step t + 1
        role = u.role(_flat(copy)[0])
        assert not _flat(copy)[0]._parents and role.kind == "cut"
        assert u.role(_flat(source)[0]).t == (t + 1 if role.direction else t - 1)
    if p.cell.bidirectional:
        return  # the chained one-step graphs below run forward only
    grads = {n: q.grad.copy() for n, q in p.cell.named_parameters()}
    p.cell.zero_grad()
    xs, ys, h0 = p.kwargs["xs"], p.kwargs["ys"], p.kwargs["h0"]
    layers = p.cell.num_layers
    for t in range(u.T):  # T one-step graphs, each started from the previous one's state (a constant)
        one = U.many_to_many(p.cell, xs[t:t + 1], ys[t:t + 1], h0=h0)
        one.backward()
        last = [tuple(U.data_of(one.states[(layer, 0)][s][-1]) for layer in range(layers))
                for s in p.cell.state_names]
        parts = tuple(np.stack(part) if layers > 1 else part[0] for part in last)
        h0 = parts if len(parts) > 1 else parts[0]
    for pname, q in p.cell.named_parameters():
        assert np.allclose(q.grad, grads[pname], rtol=1e-10, atol=1e-12), pname


def test_the_path_is_the_one_named(path):
    assert fast.enabled("copies") is fast.enabled("fused") is (path == "fast")
