"""Issue [H] 1: per-step copies keep their gradients as factors (an outer product, a few columns).

A copy ``W_t`` used in ``W_t @ x``, ``linear(x, W_t)`` or ``embed(W_t, ids)`` must read exactly as the
dense gradient would, for any shapes, batch and ids; the weight must receive the same sum; and a long
unroll must not hold a matrix per step.
"""

import gc
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrornn as mr
from micrornn import fast, graph
from micrornn import functional as F
from micrornn import unroll as U
from micrornn.fast import Columns, FactoredCopy, Outer
from micrornn.nn import RNN
from micrornn.tensor import Tensor

pytestmark = [pytest.mark.lesson_fast]  # this file's lessons: pytest -m lesson_fast

USES = ("linear", "linear+b", "matmul", "embed")


@st.composite
def copy_uses(draw):
    """A weight (m, n), a batch (None: one vector) and one to three uses of one copy of it."""
    m, n = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    batch = draw(st.none() | st.integers(1, 5))
    uses = draw(st.lists(st.sampled_from(USES), min_size=1, max_size=3))
    lead = () if batch is None else (batch,)
    ids = [np.asarray(draw(st.lists(st.integers(0, n - 1), min_size=batch, max_size=batch)))
           if batch is not None else np.int64(draw(st.integers(0, n - 1))) for _ in uses]
    seed = draw(st.integers(0, 2**16))
    return m, n, lead, uses, ids, seed


def _loss(W_t, m, n, lead, uses, ids, seed):
    """Σ over the uses of a random linear functional of each use's output (every entry gets a gradient)."""
    rng = np.random.default_rng(seed)
    total = None
    for use, tok in zip(uses, ids):
        if use == "embed":
            out = F.embed(W_t, tok)
        elif use == "matmul":
            x = Tensor(rng.normal(size=(n, *lead)))  # W (m, n) @ x (n,) or (n, B)
            out = W_t @ x
        else:
            x = Tensor(rng.normal(size=(*lead, n)))
            out = F.linear(x, W_t, Tensor(rng.normal(size=m)) if use == "linear+b" else None)
        term = (out * Tensor(rng.normal(size=out.shape))).sum()
        total = term if total is None else total + term
    return total


@given(case=copy_uses(), chain=st.sampled_from(["copy", "copy of a copy", "copy of an inner node"]))
@settings(max_examples=60)
def test_h1_a_factored_copy_grad_equals_the_dense_one(case, chain):
    m, n, lead, uses, ids, seed = case
    W0 = np.random.default_rng(seed).normal(size=(m, n))
    # the reference: the same uses of an inner node (W + 0), whose gradient every rule returns dense
    W_ref = Tensor(W0)
    dense = W_ref + 0.0
    _loss(dense, m, n, lead, uses, ids, seed).backward()
    W = Tensor(W0)
    source = {"copy": W, "copy of a copy": fast.copy(W, None), "copy of an inner node": W * 1.0}[chain]
    W_t = fast.copy(source, None)
    _loss(W_t, m, n, lead, uses, ids, seed).backward()
    assert type(W_t) is FactoredCopy and isinstance(W_t.grad, np.ndarray) and W_t.grad.shape == (m, n)
    np.testing.assert_allclose(W_t.grad, dense.grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W.grad, W_ref.grad, rtol=1e-12, atol=1e-12)
    if chain != "copy of an inner node" and len({use == "embed" for use in uses}) == 1:
        assert type(W_t._grad) is (Columns if uses[0] == "embed" else Outer), "one kind of use: the copy holds factors"


def test_h1_the_unroller_s_copies_hold_factors_and_read_as_matrices():
    rnn = RNN(5, 4, 5, token_ids=True, seed=0)
    u = U.many_to_many(rnn, np.array([0, 3, 3, 1]), np.array([1, 2, 0, 4]))
    u.backward()
    assert [type(c._grad) for c in u.copies["W_x"]] == [Columns] * 4
    assert [type(c._grad) for c in u.copies["W_h"]] == [Outer] * 3
    assert [type(c._grad) for c in u.copies["W_o"]] == [Outer] * 4
    for name, param in rnn.named_parameters():
        grads = u.copy_grads(name)
        assert all(type(g) is np.ndarray and g.shape == param.shape for g in grads)
        np.testing.assert_allclose(sum(grads), param.grad, rtol=1e-12, atol=1e-15)
    assert not u.copies["W_x"][0].grad[:, [1, 2, 3, 4]].any()  # X_1 = token 0: only column 0


def test_h1_a_copy_the_loss_does_not_reach_reads_none_as_the_plain_copy_does():
    # [K]: the two paths agree on every .grad, so a FactoredCopy nothing reached reads None, as the
    # spine's plain copy (an inner node) does; Unrolled.backward() gives such copies zeros on both paths
    reads = []
    for off in (False, True):
        with fast.off("copies") if off else fast.on():
            W = Tensor(np.ones((2, 3)))
            W_1 = fast.copy(W, None)
            W_1 @ Tensor([1.0, 2.0, 3.0])  # built, never backpropagated
            (W @ Tensor([1.0, 0.0, 0.0])).sum().backward()
            reads.append(W_1.grad)
    assert reads == [None, None]


def test_h1_copies_under_no_grad_are_plain_leaves():
    with mr.no_grad():
        c = fast.copy(Tensor(np.ones(2)), None)
    assert type(c) is Tensor and c._op is None


def _peak_bytes(T: int, hidden: int) -> int:
    rng = np.random.default_rng(0)
    rnn = RNN(65, hidden, 65, token_ids=True, seed=0)
    xs, ys = rng.integers(0, 65, size=T), rng.integers(0, 65, size=T)
    tracemalloc.start()
    try:
        U.many_to_many(rnn, xs, ys, max_memory=float("inf")).backward()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_h1_a_long_unroll_holds_no_matrix_per_step():
    # [H]: T = 10,000 at hidden 256 in under 500 MB, i.e. 50 kB a step. With a full-size gradient per
    # copy, each step held W^H_t, W^X_t and W^O_t's: 790 kB at hidden 256 (5.7 GB at T = 10,000).
    T = 200
    peak = _peak_bytes(T, 256)
    assert peak <= 500e6 / 10_000 * T, f"{peak / T:,.0f} bytes a step"


def test_h1_a_weight_adds_its_copies_outer_products_in_chunks_exactly():
    # rank-one factors are stacked at the end of backward, at most _STACK_NUMBERS numbers at a time:
    # T = 300 at hidden 64 takes three chunks for W^H (128 steps each) and two for W^O
    rng = np.random.default_rng(1)
    rnn = RNN(7, 64, 7, token_ids=True, seed=1)
    T = 300
    u = U.many_to_many(rnn, rng.integers(0, 7, size=T), rng.integers(0, 7, size=T))
    u.backward()
    for name in ("W_h", "W_o", "W_x"):
        copies = u.copies[name]
        assert len(copies) >= T - 1
        np.testing.assert_allclose(sum(c.grad for c in copies), getattr(rnn, name).grad, rtol=1e-10, atol=1e-12)


def test_h1_a_copy_takes_any_gradient_an_op_gives():
    # a 0-d copy broadcast in a sum receives a numpy scalar (np.float64) from the engine's unbroadcast
    w = Tensor(2.0)
    c = fast.copy(w, None)
    (c * Tensor([1.0, 2.0, 3.0])).sum().backward()
    assert float(c.grad) == 6.0 and float(w.grad) == 6.0


def test_h1_a_weight_used_directly_adds_the_same_factors():
    # the weight itself in linear / @ / embed (no copy) takes the factored gradient as well
    rng = np.random.default_rng(0)
    W0, x, ids = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), np.array([0, 3, 3, 1, 2])
    W = Tensor(W0)
    total = None
    for t in range(5):
        term = (F.linear(Tensor(x[t]), W) * F.embed(W, ids[t])[:3] + (W @ Tensor(x[t]))).sum()
        total = term if total is None else total + term
    total.backward()
    dense = Tensor(W0) + 0.0  # an inner node: every rule gives it the matrix
    total = None
    for t in range(5):
        term = (F.linear(Tensor(x[t]), dense) * F.embed(dense, ids[t])[:3] + (dense @ Tensor(x[t]))).sum()
        total = term if total is None else total + term
    total.backward()
    np.testing.assert_allclose(W.grad, dense.grad, rtol=1e-12, atol=1e-12)


def test_h_copies_cost_backward_ends_at_a_weight_s_copies(monkeypatch):
    # [H] "copies cost <= 10%": a copy of a weight hands each gradient on to the weight as it arrives, so
    # backward's walk ends at it — no sweep step for the copy, no copy -> weight edge walked (they were
    # half the nodes of a char-RNN graph)
    rnn = RNN(6, 4, 6, token_ids=True, seed=0)
    u = U.many_to_many(rnn, np.array([0, 3, 3, 1, 5]), np.array([1, 2, 0, 4, 4]))
    swept, orders = [], []
    sweep, walk = FactoredCopy._backward, fast.topological_order
    monkeypatch.setattr(FactoredCopy, "_backward", lambda self: (swept.append(self), sweep(self))[1])
    monkeypatch.setattr(fast, "topological_order", lambda root: orders.append(walk(root)) or orders[-1])
    u.backward()
    assert swept == [] and len(orders) == 1
    params = {id(p) for p in rnn.parameters()}
    assert not [n for n in orders[0] if type(n) is FactoredCopy or id(n) in params], "walked past a copy to its weight"
    assert sum(map(len, u.copies.values())) == 5 * 4 + 4  # ... which are all still in the graph
    for name, param in rnn.named_parameters():
        np.testing.assert_allclose(sum(u.copy_grads(name)), param.grad, rtol=1e-12, atol=1e-15)


def test_h_copies_cost_a_second_backward_doubles_the_weights_and_not_the_copies():
    # the walk still resets the copies it ends at: their grads are this call's, the weights accumulate
    rnn = RNN(6, 4, 6, token_ids=True, seed=0)
    u = U.many_to_many(rnn, np.array([0, 3, 3, 1]), np.array([1, 2, 0, 4]))
    u.backward()
    once = {name: ([c.grad for c in u.copies[name]], p.grad.copy()) for name, p in rnn.named_parameters()}
    u.backward()
    for name, p in rnn.named_parameters():
        copies, weight = once[name]
        np.testing.assert_allclose(p.grad, 2 * weight, rtol=1e-12)
        for c, g in zip(u.copies[name], copies):
            np.testing.assert_array_equal(c.grad, g)


def test_h_copies_cost_a_copy_as_backward_s_root_passes_its_gradient_on():
    # the one place a copy of a weight is swept: it is the root, so nothing handed it a gradient
    W = Tensor(np.ones((2, 3)))
    W_1 = fast.copy(W, None)
    W_1.backward(np.full((2, 3), 2.0))
    np.testing.assert_array_equal(W_1.grad, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(W.grad, np.full((2, 3), 2.0))


def test_h_copies_cost_the_collector_stays_out_of_a_long_build():
    # the cyclic collector rescanned the growing (acyclic) graph every few hundred nodes, the per-step
    # copies half of them: an unroll now keeps it paused while it builds, as backward does while it sweeps
    rnn = RNN(7, 8, 7, token_ids=True, seed=0)
    ids = np.arange(2_000) % 7
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    assert gc.isenabled()
    gc.collect()  # the counts start from zero: what the input checks make before the build cannot reach 700
    gc.callbacks.append(count)
    try:
        u = U.many_to_one(rnn, ids, 3)  # one target: what is made after the input checks is the graph
    finally:
        gc.callbacks.remove(count)
    # none while it builds (25 before this change); at most one pass once the collector is back on
    assert len(collections) <= 1 and gc.isenabled()
    assert len(u.copies["W_h"]) == 1_999 and len(graph.topological_order(u.loss)) > 10_000


class _SpyRNN(RNN):
    """An RNN whose every step notes whether the cyclic collector is running while it builds."""

    seen: list

    def step(self, be, p, context, X_t):
        self.seen.append(gc.isenabled())
        return RNN.step(self, be, p, context, X_t)


def _spy(seed=0):
    spy = _SpyRNN(3, 4, 3, token_ids=True, seed=seed)
    spy.seen = []
    return spy


@pytest.mark.parametrize("topology", ["many_to_many", "seq2seq"])
@pytest.mark.parametrize("off", [(), ("collector",)])
def test_the_collector_trick_pauses_the_build_and_off_the_build_runs_as_written(off, topology):
    """The pause is fast.py's "collector" trick, not the reading path's: switched off (a lecture, a trace),
    the build runs with the collector on (in a process where no other thread is pausing it: the collector is
    one per process); the numbers are the same either way."""
    ids = np.arange(30) % 3
    spies = [_spy(0), _spy(1)]
    with fast.off(*off) if off else fast.on():
        if topology == "many_to_many":
            u = U.many_to_many(spies[0], ids, (ids + 1) % 3)
        else:  # both halves: the encoder's build and the decoder's
            u = U.seq2seq(spies[0], spies[1], ids, (ids[:5] + 1) % 3)
        u.backward()
    assert spies[0].seen == [bool(off)] * 30 and gc.isenabled()
    assert topology == "many_to_many" or spies[1].seen == [bool(off)] * 5
    with fast.off():  # the same graph on the reading path: the same gradients
        plain = [_spy(0), _spy(1)]
        v = (U.many_to_many(plain[0], ids, (ids + 1) % 3) if topology == "many_to_many"
             else U.seq2seq(plain[0], plain[1], ids, (ids[:5] + 1) % 3))
        v.backward()
    for a, b in zip(spies, plain):
        np.testing.assert_allclose(a.W_h.grad, b.W_h.grad, rtol=1e-12)


def test_the_environment_switch_runs_the_build_with_the_collector_on():
    code = ("import gc, numpy as np; from micrornn import unroll as U; from micrornn.nn import RNN\n"
            "class Spy(RNN):\n"
            "    def step(self, be, p, c, x):\n"
            "        seen.append(gc.isenabled()); return RNN.step(self, be, p, c, x)\n"
            "seen = []; U.many_to_many(Spy(3, 4, 3, token_ids=True), np.arange(6) % 3, np.arange(6) % 3)\n"
            "print(seen)")
    for value, enabled in (("1", True), ("0", False)):
        env = {**os.environ, "MICRORNN_REFERENCE": value}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == str([enabled] * 6), out.stderr


def test_h_copies_cost_a_failing_build_leaves_the_collector_as_it_was():
    class Broken(RNN):
        def step(self, be, p, context, X_t):
            raise ArithmeticError("a cell's own bug")

    rnn = Broken(3, 4, 3, token_ids=True, seed=0)
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with pytest.raises(ArithmeticError):
                U.many_to_many(rnn, np.array([0, 1, 2]), np.array([1, 2, 0]))
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


def test_h_copies_cost_a_walk_that_only_reads_the_graph_leaves_the_copies_grads_alone():
    from micrornn import graph

    W, x = Tensor(np.ones((2, 2))), Tensor(np.array([1.0, 2.0]))
    W_1 = fast.copy(W, None)
    y = (W_1 @ x).sum()
    y.backward()
    order = graph.topological_order(y)  # no reset_inner: a reader, e.g. a picture
    assert W_1 in order and W in order, "a reading walk sees every node"
    assert W_1.grad.tolist() == [[1.0, 2.0], [1.0, 2.0]]


def test_h_copies_cost_a_copy_is_made_by_identity_not_by_its_constructor():

    with pytest.raises(TypeError, match=r"made by fast.copy\(W, label\)"):
        FactoredCopy(np.ones(2))
