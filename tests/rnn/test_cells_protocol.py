"""A user's own cell fails loudly and helpfully — issue [I] (17), and the two silent gradients of [J] (18) 1–2.

Each case quotes what the issue saw on the old main: silent acceptance, numpy's matmul message, a bare
KeyError, check_cell returning None or failing a correct truncated RNN.
"""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrornn import testing
from micrornn import unroll as U
from micrornn.gradcheck import GradcheckError
from micrornn.nn import GRU, LSTM, RNN, Cell, Elman, Jordan
from micrornn.protocol import CellError
from micrornn.tensor import VJP

pytestmark = [pytest.mark.lesson_cells]  # this file's lessons: pytest -m lesson_cells

XS, YS = np.random.default_rng(0).normal(size=(3, 3)), np.zeros((3, 2))


class Plain(Cell):
    """A correct simple RNN, the base of the broken ones below."""

    def weights(self, I, H):
        return {"W_x": (H, I), "W_h": (H, H), "b": (H,)}

    def step(self, be, p, h, x):
        z = be.affine(p.W_x, x, p.b)
        return be.tanh(z if h is None else z + be.affine(p.W_h, h))


class IndRNN(Cell):
    """H_t = relu(w ⊙ H_{t-1} + W X_t + b) (Li et al., 2018): the README's newcomer exercise, as it is there."""

    accepts_none = True
    labels = {"W": "W^X", "w": "w^H"}

    def weights(self, I, H):
        return {"w": (H,), "W": (H, I), "b": (H,)}

    def step(self, be, p, h, x):
        z = p.b if x is None else be.affine(p.W, x, p.b)
        return be.relu(z if h is None else p.w * h + z)


class IndRNNWithH0(IndRNN):
    """The same without accepts_none: the unroller passes zeros for H_0 and for a missing input."""

    accepts_none = False


class OneForTwo(Plain):
    state_names = ("H", "C")

    def step(self, be, p, state, x):
        h, c = state
        return be.tanh(be.affine(p.W_x, x, p.b) + be.affine(p.W_h, h))


class ThreeForTwo(OneForTwo):
    def step(self, be, p, state, x):
        h = super().step(be, p, state, x)
        return h, h, h


class PairForOne(Plain):
    def step(self, be, p, h, x):
        return super().step(be, p, h, x), super().step(be, p, h, x)


class TwiceAsWide(Plain):
    def step(self, be, p, h, x):
        z = super().step(be, p, h, x)
        return be.concat([z, z])


class ReturnsNone(Plain):
    def step(self, be, p, h, x):
        return None


class ReturnsArray(Plain):
    def step(self, be, p, h, x):
        return np.zeros(4)


class Transposed(Plain):
    def weights(self, I, H):
        return {"W_x": (I, H), "W_h": (H, H), "b": (H,)}


class MatrixForVector(Plain):
    """w declared (H, H) where (H,) was meant: ``w * h`` broadcast the state to (H, H) silently."""

    def weights(self, I, H):
        return {"W_x": (H, I), "w": (H, H), "b": (H,)}

    def step(self, be, p, h, x):
        z = be.affine(p.W_x, x, p.b)
        return be.tanh(z if h is None else z + p.w * h)


class Undeclared(Plain):
    def step(self, be, p, h, x):
        return be.tanh(be.affine(p.W_q, x))


class Optional(Plain):
    """Ordinary Python for an optional weight: getattr with a default, hasattr."""

    def step(self, be, p, h, x):
        extra = getattr(p, "b_extra", None)
        assert extra is None and not hasattr(p, "nope") and hasattr(p, "W_x")
        return super().step(be, p, h, x)


@pytest.mark.parametrize("cls, message", [
    (OneForTwo, r"OneForTwo\.step at t=1: returned a Tensor of shape \(4,\), but state_names = \('H', 'C'\) "
                r"declares a tuple of 2"),
    (ThreeForTwo, r"ThreeForTwo\.step at t=1: returned a tuple of 3, but state_names = \('H', 'C'\)"),
    (PairForOne, r"PairForOne\.step at t=1: returned a tuple of 2, but state_names = \('H',\) declares one state"),
    (TwiceAsWide, r"TwiceAsWide\.step at t=1: state H has shape \(8,\), expected \(4,\) = \(hidden_size,\)"),
    (MatrixForVector, r"state H has shape \(4, 4\), expected \(4,\).*p\.w \(4, 4\)"),
    (ReturnsNone, r"ReturnsNone\.step at t=1: returned None: does step end with `return`"),
    (ReturnsArray, r"state H is a ndarray of shape \(4,\), expected a Tensor"),
    (Transposed, r"Transposed\.step at t=1: p\.W_x has shape \(3, 4\); be\.affine\(W, x\) needs W's columns = "
                 r"len\(x\) = 3"),
    (Undeclared, r"Undeclared has no weight 'W_q': its weights are W_x, W_h, b, W_o, b_o"),
])
def test_i1_a_step_that_breaks_the_protocol_is_named_at_the_step(cls, message):
    with pytest.raises(CellError, match=message):
        U.many_to_many(cls(3, 4, 2), XS, YS)


def test_i1_the_protocol_is_checked_on_both_engines_and_every_layer():
    with pytest.raises(CellError, match="TwiceAsWide.step at t=1"):
        U.many_to_many(TwiceAsWide(3, 4, 2), XS, YS, scalar=True)
    with pytest.raises(CellError, match=r"TwiceAsWide\.step at t=1, layer 0"):
        U.many_to_many(TwiceAsWide(3, 4, 2, num_layers=2), XS, YS)
    with pytest.raises(CellError, match=r"TwiceAsWide\.step at t=1: state H has shape \(8,\)"):
        U.many_to_many(TwiceAsWide(3, 4, 2, bidirectional=True), XS, YS)


def test_i4b_optional_weights_read_with_getattr_and_hasattr_work():
    U.many_to_many(Optional(3, 4, 2), XS, YS).backward()
    with pytest.raises(CellError, match="Undeclared.step at t=1: AttributeError: Undeclared has no weight .W_q."):
        U.sample(Undeclared(3, 4, 3, token_ids=True), [0], 2)  # sample reads the weights themselves


@pytest.mark.parametrize("weights, message", [
    ([("W", (4, 3))], r"must return a non-empty dict of name → shape.*got list"),
    (None, "got None"),
    ({}, "non-empty dict"),
    ({3: (4, 3)}, "a weight's name must be an identifier.*got 3"),
    ({"W x": (2,)}, "identifier.*'W x'"),
    ({"W": (4, -1)}, r"gives 'W' the shape \(4, -1\): every size must be a positive int"),
    ({"W": (4, 2.5)}, r"\(4, 2\.5\): every size must be a positive int"),
    ({"W": (10**6, 10**6)}, r"'W' the shape \(1000000, 1000000\) = 1,000,000,000,000 numbers, above the cap"),
])
def test_i4b_weights_are_validated_when_the_cell_is_made(weights, message):
    class Declares(Plain):
        def weights(self, I, H):
            return weights

    with pytest.raises(CellError, match=message):
        Declares(3, 4, 2)


@pytest.mark.parametrize("seed", ["abc", -1, 2.5, None, True])
def test_i4b_the_seed_is_checked_like_the_sizes(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        RNN(2, 3, 2, seed=seed)


# -- the backend's ops: relu, and the README's IndRNN -------------------------------------------------------
def test_i3_relu_is_a_backend_op_on_both_engines_and_the_readme_indrnn_passes():
    cell = IndRNN(3, 4, 2, seed=1)
    u, s = U.many_to_many(cell, XS, YS), U.many_to_many(cell, XS, YS, scalar=True)
    assert abs(float(u.loss.data) - float(s.loss.data)) < 1e-12
    for cls in (IndRNN, IndRNNWithH0):  # every topology, one_to_many's missing inputs included
        report = testing.check_cell(cls, examples=12, topologies=testing.TOPOLOGIES)
        assert report.plain == 1 and report.drawn == 12


def test_i3_a_wrong_weight_shape_in_the_indrnn_is_named():
    class WrongIndRNN(IndRNN):
        def weights(self, I, H):
            return {"w": (H, H), "W": (H, I), "b": (H,)}

    with pytest.raises(CellError, match=r"state H has shape \(4, 4\).*p\.w \(4, 4\)"):
        U.many_to_many(WrongIndRNN(3, 4, 2), XS, YS)


# -- check_cell ---------------------------------------------------------------------------------------------------
def test_i4_check_cell_returns_a_report_of_what_it_checked():
    report = testing.check_cell(GRU, examples=3)
    line = str(report)
    assert "\n" not in line and line.startswith("check_cell(GRU): 4 problems passed (1 plain + 3 drawn)")
    assert "finite differences" in line and "Value graph = Tensor graph" in line
    html = report._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 4


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_i4_check_cell_of_a_truncated_net_differences_the_truncated_loss(cls):
    report = testing.check_cell(cls, examples=3, truncate=2)
    assert "truncate=2" in str(report) and report.stats.worst_fd < 1e-5


@pytest.mark.parametrize("cls", [Elman, Jordan])
def test_i4_check_cell_runs_the_one_layer_copy_nets(cls):
    assert testing.check_cell(cls, examples=3).drawn == 3


@pytest.mark.parametrize("args, error, message", [
    ((3,), TypeError, "expects a subclass of micrornn.nn.Cell, got int 3"),
    ((RNN(2, 3, 2),), TypeError, r"an instance of RNN: pass the class itself, check_cell\(RNN\)"),
    ((RNN, 0), ValueError, r"check_cell\(examples=...\) expects a positive int.*got 0"),
    ((RNN, 2.5), ValueError, "positive int"),
    ((RNN, 2, "yes"), TypeError, r"check_cell: shrink must be True or False"),
])
def test_i4_check_cells_argument_errors_are_its_own(args, error, message):
    with pytest.raises(error, match=message):
        testing.check_cell(*args)


def test_i4_a_protocol_error_shows_on_the_plain_problem_not_a_shrunk_bidirectional_one():
    with pytest.raises(CellError, match=r"TwiceAsWide\.step at t=1: state H has shape \(8,\)") as e:
        testing.check_cell(TwiceAsWide, examples=5)
    assert "layer" not in str(e.value) and "reverse" not in str(e.value)


def test_i4_a_wrong_gradient_is_traced_to_a_weight_entry_and_a_step_copy(monkeypatch):
    right = VJP["sigmoid"]
    monkeypatch.setitem(VJP, "sigmoid", lambda g, out, which: 1.01 * right(g, out, which))
    with pytest.raises(GradcheckError, match=r"on the plain problem .*gradient mismatch for \w+\[[\d, ]+\] "
                                             r"\(step t=\d copy\): analytic [-\d.e]+, numeric [-\d.e]+"):
        testing.check_cell(GRU, examples=2)


# -- the unroll's own arguments --------------------------------------------------------------------------------
def test_i5_ragged_inputs_and_non_finite_start_states_are_named():
    with pytest.raises(ValueError, match=r"many_to_many\(xs\): inputs are ragged: entry 0 has shape \(3,\) but "
                                         r"entry 1 has shape \(2,\)"):
        U.many_to_many(RNN(3, 4, 2), [[1.0, 2.0, 3.0], [1.0, 2.0]], YS[:2])
    with pytest.raises(ValueError, match="h0 holds inf/nan"):
        U.many_to_many(RNN(3, 4, 2), XS, YS, h0=np.full(4, np.nan))
    with pytest.raises(ValueError, match=r"h0\[1\] \(c0\) holds inf/nan"):
        U.many_to_many(LSTM(3, 4, 2), XS, YS, h0=(np.zeros(4), np.full(4, np.inf)))
    with pytest.raises(ValueError, match="start holds inf/nan"):
        U.seq2seq(RNN(3, 4, 2), RNN(2, 4, 2), XS, YS, start=np.full(2, np.nan))


# -- memory_estimate counts what the cell builds -------------------------------------------------------------
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU, IndRNN, IndRNNWithH0])
@pytest.mark.parametrize("hidden, batch", [(4, None), (16, 4)])  # small nets: nodes, not numbers, cost the most
def test_i4b_memory_estimate_is_within_1_5x_of_the_measured_peak(cls, hidden, batch):
    cell = cls(3, hidden, 2, seed=0)
    b = () if batch is None else (batch,)
    xs, ys = np.zeros((60, *b, 3)), np.zeros((60, *b, 2))
    estimate = U.memory_estimate(cell, 60, batch=batch)
    tracemalloc.start()
    try:
        U.many_to_many(cell, xs, ys).backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / 1.5 <= estimate <= 1.5 * peak, (estimate, peak)


# -- [J] 1-2: param_grad is this graph's, and a Value graph's loss.backward() fills the weights -----------------
@pytest.mark.parametrize("scalar", [False, True])
def test_j1_param_grad_is_this_graphs_sum_of_copies_however_often_backward_ran(scalar):
    rnn = RNN(2, 3, 2, seed=0)
    X = np.random.default_rng(1).normal(size=(4, 2))
    u = U.many_to_one(rnn, X, 1, scalar=scalar)
    u.loss.backward()
    first = u.param_grad("W_h")
    u2 = U.many_to_one(rnn, X, 1, scalar=scalar)
    u2.loss.backward()
    u2.loss.backward()
    assert np.allclose(u2.param_grad("W_h"), first, rtol=1e-12)
    assert np.allclose(rnn.W_h.grad, 3 * first, rtol=1e-12)  # .grad accumulates, as PyTorch's leaves
    with pytest.raises(KeyError, match="W_q.*this graph's parameters are W_h, W_x, b, W_o, b_o"):
        u.param_grad("W_q")


@settings(max_examples=15, deadline=None, database=None)
@given(st.data(), st.integers(1, 3))
def test_j1_param_grad_equals_the_copies_sum_on_both_engines_after_any_number_of_backwards(data, k):
    p = data.draw(testing.cell_problems(RNN, max_T=3, max_size=2, layers=(1,)))
    for scalar in (False, True):
        u = p.build(scalar=scalar)
        for _ in range(k):
            u.backward()
        for name, _ in p.cell.named_parameters():
            grads = u.copy_grads(name)
            total = sum(grads) if grads else 0.0
            assert np.allclose(u.param_grad(name), total, rtol=1e-12, atol=1e-15)


def test_j2_a_value_graphs_loss_backward_fills_the_weights_as_the_tensor_engine_does():
    X = np.random.default_rng(1).normal(size=(4, 2))
    grads = []
    for scalar in (False, True):
        rnn = RNN(2, 3, 2, seed=0)
        U.many_to_one(rnn, X, 1, scalar=scalar).loss.backward()
        grads.append(rnn.W_h.grad.copy())
    assert np.abs(grads[1]).sum() > 0 and np.allclose(grads[1], grads[0], rtol=1e-10)


# -- [I] 6: dL_i/dH_t without training on L_i twice ----------------------------------------------------------
@pytest.mark.parametrize("scalar", [False, True])
def test_i6_loss_grads_decomposes_dL_dH_and_leaves_the_weights_alone(scalar):
    rnn = RNN(2, 3, 2, seed=0)
    rng = np.random.default_rng(2)
    u = U.many_to_many(rnn, rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), scalar=scalar)
    u.backward()
    full = [U.grad_of(h).copy() for h in u.H]
    weights = rnn.W_h.grad.copy()
    per_loss = [u.loss_grads(i) for i in range(len(u.L))]
    assert np.array_equal(rnn.W_h.grad, weights)
    for t in range(len(u.H)):
        assert np.allclose(sum(g[t] for g in per_loss), full[t], rtol=1e-12)
        assert all(not per_loss[i][t].any() for i in range(t))  # L_i does not reach the states after step i
    with pytest.raises(IndexError, match="has 4 losses; got 4"):
        u.loss_grads(4)


@pytest.mark.parametrize("scalar", [False, True])
def test_i6_loss_grads_at_a_given_h0_are_each_losss_own(scalar):
    rnn = RNN(2, 3, 2, seed=0)
    rng = np.random.default_rng(3)
    xs, ys, h0 = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=3)
    u = U.many_to_many(rnn, xs, ys, h0=h0, scalar=scalar)
    u.backward()
    full = U.grad_of(u.H[0]).copy()
    shares = [u.loss_grads(i)[0] for i in range(3)]
    for i, share in enumerate(shares):  # the same number from a fresh graph, backpropagated from L_i alone
        fresh = U.many_to_many(rnn, xs, ys, h0=h0, scalar=scalar)
        fresh.L[i].backward()
        assert np.allclose(share, U.grad_of(fresh.H[0]), rtol=1e-12)
    assert np.allclose(sum(shares), full, rtol=1e-12)
    assert np.allclose(U.grad_of(u.H[0]), full)  # H_0's own grad is left as the full backward left it
