"""Invariant 9, the contribution matrix C[t, k] = ∂L_t/∂W_k (``u.contributions``): its sums are the copies'
and the weight's gradients, it is causal and cut by truncation, both engines and both paths agree, and it
leaves every ``.grad`` alone. Each property runs on the fast path and on the reading path."""

import numpy as np
import pytest
from helpers import problems
from hypothesis import given, settings
from hypothesis import strategies as st

from micrornn import fast
from micrornn import unroll as U
from micrornn.backends import _flat
from micrornn.nn import GRU, LSTM, RNN
from micrornn.testing import cell_problems

pytestmark = [pytest.mark.lesson_bptt,  # this file's lessons: pytest -m lesson_bptt
              pytest.mark.usefixtures("path"),
              pytest.mark.parametrize("path", ["fast", "reference"], indirect=True)]
FEW = settings(max_examples=15, deadline=None)



def close(a, b, rtol=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    return np.allclose(a, b, rtol=rtol, atol=rtol * (1 + np.abs(b).max(initial=0)))


def graph_grads(u):
    """Every node's grad slot, to see that contributions() changes none."""
    from micrornn.graph import topological_order
    roots = [v for L in u.L for v in _flat(L)] + list(_flat(u.loss))
    return [(n, None if n._grad is None else np.array(n._grad.dense() if hasattr(n._grad, "dense") else n._grad))
            for n in topological_order(*roots)]


def assert_sums(u, rnn, kwargs):
    """Invariant 9 on a graph: the sums, the norms, causality and (state) truncation."""
    # truncate=j cuts the state every j steps; an output fed back as the next input (one_to_many,
    # feed="output") is a second path through time that no cut touches, so there C may reach further back
    windows = rnn.truncate if kwargs.get("feed") != "output" else None
    u.backward()
    for name in u.copies:
        C = u.contributions(name)
        assert C.shape == (len(u.L), len(u.copies[name]), *getattr(rnn, name).shape)
        per_copy = C.sum(axis=0)
        for k, g in enumerate(u.copy_grads(name)):
            assert close(per_copy[k], g), (name, k)
        assert close(C.sum(), u.param_grad(name)), name
        assert close(np.asarray(C).sum(axis=(0, 1)), u.param_grad(name)), name
        dense = np.asarray(C)
        norms = np.sqrt((dense.reshape(*dense.shape[:2], int(np.prod(dense.shape[2:]))) ** 2).sum(axis=2))
        assert close(C.norms(), norms), name
        for t, tl in enumerate(C.loss_steps):
            for k, tc in enumerate(C.copy_steps):
                if tc > tl:  # causal: a loss never reaches a later step's copy
                    assert not dense[t, k].any(), (name, tl, tc)
                if windows and tl - tc >= windows:  # truncated BPTT: windows of `truncate` steps
                    assert not dense[t, k].any(), (name, tl, tc)


@FEW
@given(p=problems())
def test_contributions_sum_to_copy_grads_and_param_grad(p):
    assert_sums(p.build(), p.rnn, p.kwargs)


@FEW
@given(p=problems(max_T=5))
def test_contributions_scalar_engine_equals_tensor_engine(p):
    u, s = p.build(), p.build(scalar=True)
    for name in u.copies:
        assert close(np.asarray(u.contributions(name)), np.asarray(s.contributions(name)), 1e-9), name
    assert_sums(s, p.rnn, p.kwargs)


@FEW
@given(p=cell_problems(LSTM, max_T=4) | cell_problems(GRU, max_T=4))
def test_contributions_gated_cells(p):
    u = U.__dict__[p.topology](p.cell, **p.kwargs)
    u.backward()
    for name in u.copies:
        C = u.contributions(name)
        for k, g in enumerate(u.copy_grads(name)):
            assert close(C.sum(axis=0)[k], g), (name, k)
        assert close(C.sum(), u.param_grad(name)), name


@FEW
@given(p=problems(max_T=6))
def test_fast_and_reference_paths_agree(p):
    # built on this run's path (the module's fixture) and swept on the other, against both on the other
    names = [n for n, _ in p.rnn.named_parameters()]
    other = fast.off() if fast.enabled("copies") else fast.on()
    u = p.build()
    with other:
        crossed = {n: np.asarray(u.contributions(n)) for n in names}
        u = p.build()
        theirs = {n: np.asarray(u.contributions(n)) for n in names}
    for n in names:
        assert close(crossed[n], theirs[n]), n


@FEW
@given(p=problems(max_T=6), scalar=st.booleans())
def test_contributions_touch_no_grad(p, scalar):
    u = p.build(scalar=scalar)
    u.backward()
    weights = [q.grad.copy() for q in p.rnn.parameters()]
    before = graph_grads(u)
    grads = {n: u.param_grad(n) for n in u.copies}
    for name in u.copies:
        u.contributions(name)
    for q, g in zip(p.rnn.parameters(), weights):
        assert np.array_equal(q.grad, g)
    for (_, g), (_, h) in zip(before, graph_grads(u)):
        assert (g is None and h is None) or np.array_equal(g, h)
    for n in u.copies:
        assert np.array_equal(u.param_grad(n), grads[n])
    u.backward()  # the user's later backward is unaffected: exactly twice the weight gradient
    for q, g in zip(p.rnn.parameters(), weights):
        assert close(q.grad, 2 * g)


def test_contributions_before_any_backward_leave_grads_unset():
    rnn = RNN(2, 3, 2, seed=1)
    u = U.many_to_many(rnn, np.eye(2)[[0, 1, 0]], np.eye(2)[[1, 0, 1]])
    C = u.contributions("W_h")
    assert not any(q.grad.any() for q in rnn.parameters())
    u.backward()
    assert close(C.sum(), u.param_grad("W_h"))


def test_row_sums_match_finite_differences_of_each_loss():
    """Σ_k C[t, k] = dL_t/dW: checked against central differences of L_t alone."""
    rnn = RNN(2, 3, 2, seed=3)
    xs, ys = np.random.default_rng(0).normal(size=(2, 5, 2))
    C = U.many_to_many(rnn, xs, ys, loss="mse").contributions("W_h")
    per_loss = C.sum(axis=1)
    eps = 1e-6
    for t in (1, 4):
        fd = np.zeros(rnn.W_h.shape)
        for idx in np.ndindex(*rnn.W_h.shape):
            value = rnn.W_h.data[idx]
            losses = []
            for shift in (eps, -eps):
                rnn.W_h.data[idx] = value + shift
                losses.append(U.many_to_many(rnn, xs, ys, loss="mse").L[t].item())
            rnn.W_h.data[idx] = value
            fd[idx] = (losses[0] - losses[1]) / (2 * eps)
        assert np.allclose(per_loss[t], fd, rtol=1e-6, atol=1e-9)


def test_linear_scalar_net_corner_is_one_point_one_to_the_fiftieth():
    """h_t = w h_{t-1} + x_t with w = 1.1 (identity activation, h_0 = 0, zero inputs but x_1 = 1): h_t = 1.1^(t-1),
    so ∂L_51/∂W^X_1 = w^50 · (dL_51/dh_51) · x_1. With L = o h_51 (W^O = 1, mse against a target that makes
    dL/dO = 1) the corner entry C[last, first] of W^X is exactly 1.1^50 ≈ 117.39."""
    T = 51
    rnn = RNN(1, 1, 1, activation="identity", seed=0)
    rnn.W_h.data[:] = 1.1
    rnn.W_x.data[:] = 1.0
    rnn.W_o.data[:] = 1.0
    rnn.b.data[:] = 0.0
    rnn.b_o.data[:] = 0.0
    xs = np.zeros((T, 1))
    xs[0] = 1.0
    h_T = 1.1 ** (T - 1)
    ys = np.zeros((T, 1))
    ys[-1] = h_T - 0.5  # mse (O − y)² on one number: dL/dO = 2 (O − y) = 1
    for scalar in (False, True):
        C = U.many_to_many(rnn, xs, ys, loss="mse", scalar=scalar).contributions("W_x")
        assert C.copy_steps[0] == 1 and C.loss_steps[-1] == T
        corner = C[-1, 0].item()
        assert corner == pytest.approx(1.1**50, rel=1e-12)
        assert round(corner, 2) == 117.39


def test_truncation_cuts_contributions_beyond_the_window():
    rnn = RNN(2, 3, 2, truncate=3, seed=2)
    xs, ys = np.random.default_rng(1).normal(size=(2, 9, 2))
    C = U.many_to_many(rnn, xs, ys, loss="mse").contributions("W_h")
    norms = C.norms()
    for i, t in enumerate(C.loss_steps):
        for j, k in enumerate(C.copy_steps):
            if k > t or t - k >= 3:
                assert norms[i, j] == 0
    assert norms[C.loss_steps.index(3), C.copy_steps.index(2)] > 0


def test_many_to_one_has_one_row_and_bad_names_are_refused():
    rnn = RNN(2, 3, 2, seed=0)
    u = U.many_to_one(rnn, np.eye(2)[[0, 1, 1]], 1)
    C = u.contributions("W_h")
    assert C.shape == (1, 2, 3, 3) and C.norms().shape == (1, 2)
    with pytest.raises(KeyError, match="name must be one of"):
        u.contributions("W_q")
    with pytest.raises(TypeError, match=r"Contributions\[i, j\] takes two ints"):
        C[0]
    with pytest.raises(IndexError, match="copy index"):
        C[0, 5]
    with pytest.raises(ValueError, match="axis"):
        C.sum(axis=2)


def row(c, reached):
    """A copy's grad after one loss's backward; zero where that loss did not reach (a stale slot otherwise)."""
    if isinstance(c, np.ndarray):  # Values: number by number
        return np.vectorize(lambda v: v.grad if id(v) in reached else 0.0, otypes=[float])(c)
    return U.grad_of(c) if id(c) in reached else np.zeros(c.shape)


def per_loss_oracle(u, name):
    """C row by row the slow way: one backward of each L_i alone, reading the copies (the weights' grads are
    put back afterwards)."""
    saved = [q.grad.copy() for q in u.rnn.parameters()]
    rows = []
    for L in u.L:
        L.backward()
        reached = {id(v) for v in __import__("micrornn").graph.topological_order(*_flat(L))}
        rows.append([row(c, reached) for c in u.copies[name]])
    for q, g in zip(u.rnn.parameters(), saved):
        q.grad = g
    return np.array(rows).reshape(len(u.L), len(u.copies[name]), *U.data_of(u.leaves[name]).shape)


@FEW
@given(p=problems(topologies=("many_to_many", "one_to_many"), max_T=6) | cell_problems(LSTM, max_T=4),
       scalar=st.booleans())
def test_each_row_is_one_loss_backpropagated_alone(p, scalar):
    cell = getattr(p, "rnn", None) or p.cell
    u = getattr(U, p.topology)(cell, scalar=scalar, **p.kwargs)
    for name in u.copies:
        assert close(np.asarray(u.contributions(name)), per_loss_oracle(u, name)), name


def test_picture_heat_and_rainbow(tmp_path):
    from micrornn import plots
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(2, 8, 2))
    u = U.many_to_many(RNN(2, 3, 2, seed=0), xs, ys, loss="mse")
    C = u.contributions("W_h")
    parts = plots.rainbow_parts(C)
    assert parts.shape == C.shape[:2]
    assert np.isclose(parts.sum(), np.linalg.norm(C.sum()), rtol=1e-12)  # the bars add up to ‖dW‖
    fig = plots.contributions(u, "W_h", path=tmp_path / "c.png", scale=(1e-6, 1.0))
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    heat = fig.axes[0].collections[0]
    assert heat.norm.vmin == 1e-6 and heat.norm.vmax == 1.0  # a shared scale is kept as given
    plots.plt.close(fig)
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf"):
        plots.contributions(u, "W_h", path=tmp_path / "c.txt")
    with pytest.raises(ValueError, match="scale"):
        plots.contributions(u, "W_h", scale=(1.0, 0.1))
    with pytest.raises(TypeError, match="Unrolled"):
        plots.contributions(C, "W_h")


def test_a_stale_graph_is_refused():
    rnn = RNN(2, 3, 2, seed=0)
    u = U.many_to_many(rnn, np.eye(2)[[0, 1]], np.eye(2)[[1, 0]])
    rnn.W_x.data = rnn.W_x.data * 2  # an optimiser step after the graph was built
    with pytest.raises(RuntimeError, match=r"contributions\(\): 'W\^X'.*ask the new graph"):
        u.contributions("W_h")


@pytest.mark.parametrize("scalar", [False, True])
def test_a_graph_built_under_no_grad_is_refused(scalar):
    from micrornn import no_grad
    with no_grad():
        u = U.many_to_many(RNN(2, 3, 2, seed=0), np.eye(2)[[0, 1]], np.eye(2)[[1, 0]], scalar=scalar)
    with pytest.raises(RuntimeError, match="no_grad"):
        u.contributions("W_h")


def test_the_picture_of_a_weight_without_copies_is_refused_in_words(path):
    import matplotlib

    matplotlib.use("Agg")
    from micrornn import plots

    u = U.one_to_one(RNN(2, 3, 2, seed=0), np.ones(2), 1)  # one step, no context: W^H is never used
    with pytest.raises(ValueError, match="'W_h' has no per-step copies in this graph"):
        plots.contributions(u, "W_h")


@settings(max_examples=8, deadline=None)
@given(cell=st.sampled_from([RNN, LSTM, GRU]), T_enc=st.integers(1, 4), T_dec=st.integers(1, 3),
       seed=st.integers(0, 50), scalar=st.booleans())
def test_seq2seq_encoder_contributions_sum_to_the_encoders_grads(cell, T_enc, T_dec, seed, scalar):
    """part="encoder": the decoder's losses into the encoder's copies, through the last state; the sums
    are the encoder's copy grads and its weight's grad, on both engines."""
    rng = np.random.default_rng(seed)
    enc, dec = cell(2, 3, 2, seed=seed), cell(2, 3, 2, seed=seed + 1)
    u = U.seq2seq(enc, dec, rng.normal(size=(T_enc, 2)), rng.normal(size=(T_dec, 2)), scalar=scalar)
    C = {name: u.contributions(name, part="encoder") for name in u.encoder.copies}
    u.backward()
    for name, c in C.items():
        assert c.loss_steps == list(range(T_enc + 1, T_enc + T_dec + 1))
        assert all(1 <= t <= T_enc for t in c.copy_steps)  # each encoder copy precedes each loss (W^O: none)
        per_copy = c.sum(axis=0)
        for k, g in enumerate(u.encoder.copy_grads(name)):
            assert close(per_copy[k], g, 1e-10), (name, k)
        assert close(c.sum(), getattr(enc, name).grad, 1e-10), name


def test_seq2seq_part_is_checked_and_the_encoder_record_says_where_to_ask():
    enc, dec = RNN(2, 3, 2, seed=0), RNN(2, 3, 2, seed=1)
    u = U.seq2seq(enc, dec, np.ones((3, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="part='encoder'"):
        u.encoder.contributions("W_h")
    with pytest.raises(ValueError, match="part must be None, 'decoder' or 'encoder'"):
        u.contributions("W_h", part="enc")
    plain = U.many_to_many(RNN(2, 3, 2), np.ones((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="only a seq2seq record has one"):
        plain.contributions("W_h", part="encoder")
    with pytest.raises(KeyError, match="encoder's parameters"):
        u.contributions("W_q", part="encoder")
