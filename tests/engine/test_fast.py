"""micrornn.fast: every speed trick gives the reading path's numbers, and the switch is per thread.

The invariants themselves run on both paths in tests/engine/test_invariants.py; here: the two paths against each
other on every cell and topology, graphs built on one path and swept on the other, and the switch.
"""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrornn as mr
from micrornn import fast
from micrornn import unroll as U
from micrornn.fast import FactoredCopy
from micrornn.graph import topological_order
from micrornn.nn import GRU, LSTM, RNN, Elman, Jordan
from micrornn.tensor import Tensor
from micrornn.testing import cell_problems

pytestmark = [pytest.mark.lesson_fast]  # this file's lessons: pytest -m lesson_fast


def _grads(p, scalar=False):
    """Loss, every parameter's grad, every copy's grad and every H_t's grad of one fresh backward."""
    p.cell.zero_grad()
    u = p.build(scalar=scalar)
    u.backward()
    params = [q.grad.copy() for q in p.cell.parameters()]
    copies = [g for name in u.copies for g in u.copy_grads(name)]
    states = [np.asarray(mr.unroll.grad_of(h), dtype=float) for h in u.H]
    return [np.asarray(mr.unroll.data_of(u.loss), dtype=float), *params, *copies, *states]


def _close(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-13)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), cls=st.sampled_from([RNN, LSTM, GRU]))
def test_fast_and_reference_give_the_same_numbers_on_every_topology(data, cls):
    p = data.draw(cell_problems(cls, max_T=6))
    fast_numbers = _grads(p)
    with fast.off():
        reference = _grads(p)
    _close(fast_numbers, reference)


@pytest.mark.parametrize("cls", [RNN, Elman, Jordan, LSTM, GRU])
@pytest.mark.parametrize("trick", fast.TRICKS)
def test_each_trick_alone_off_gives_the_same_numbers(cls, trick):
    rng = np.random.default_rng(3)
    xs, ys = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))

    class P:  # a problem as check_cell has them, built from fixed data
        cell = cls(2, 3, 2, seed=1)

        def build(self, scalar=False):
            return U.many_to_many(self.cell, xs, ys, scalar=scalar)

    fast_numbers = _grads(P())
    with fast.off(trick):
        _close(_grads(P()), fast_numbers)
    with fast.off():
        _close(_grads(P(), scalar=True), fast_numbers)


@pytest.mark.parametrize("tricks_off", [(), ("copies",), ("copies", "walk")])  # factored, one pass, spine
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_every_sweep_refuses_a_stale_graph_first_and_starts_inner_grads_afresh(engine, tricks_off):
    def leaf(x, label):
        return mr.Value(x, label=label) if engine == "value" else Tensor([x, 2 * x], label=label)

    def total(y):
        return y if engine == "value" else y.sum()

    with fast.off(*tricks_off) if tricks_off else fast.on():
        w, x = leaf(0.5, "w"), leaf(1.5, "x")
        h = (w * x).tanh()
        y = total(h * w)
        y.backward()
        first, dh = np.copy(w.grad), np.copy(h.grad)
        y.backward()  # leaves accumulate, the inner node h starts again from zero
        np.testing.assert_allclose(w.grad, 2 * first, rtol=1e-15)
        np.testing.assert_allclose(h.grad, dh, rtol=1e-15)
        w.data = 0.7 if engine == "value" else np.array([0.7, 1.4])
        with pytest.raises(RuntimeError, match=r"'w'.* had its \.data assigned after"):
            y.backward()
        np.testing.assert_allclose(w.grad, 2 * first, rtol=1e-15)  # refused before any gradient moved


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_with_two_stale_edges_every_sweep_names_the_one_the_spine_names(engine):
    """The walks meet edges in different orders (the fast ones as they descend, the spine's in its order):
    the error must not depend on which sweep is on."""
    def leaf(x, label):
        return mr.Value(x, label=label) if engine == "value" else Tensor([x, 2 * x], label=label)

    messages = {}
    for tricks_off in [(), ("copies",), ("copies", "walk")]:
        with fast.off(*tricks_off) if tricks_off else fast.on():
            a, b = leaf(0.5, "a"), leaf(1.5, "b")
            y = a * b.tanh()  # the fast walks meet the edge to a first, the spine's the one to b
            y = y if engine == "value" else y.sum()
            a.data, b.data = (0.7, 1.7) if engine == "value" else (np.array([0.7, 1.4]), np.array([1.7, 3.4]))
            with pytest.raises(RuntimeError, match="had its .data assigned") as e:
                y.backward()
            messages[tricks_off] = str(e.value)
    assert len(set(messages.values())) == 1, messages


def test_the_reference_graph_has_plain_copies_and_three_nodes_per_pre_activation():
    rnn = RNN(2, 3, 2, seed=0)
    xs, ys = np.ones((3, 2)), np.zeros((3, 2))
    with fast.off():
        u = U.many_to_many(rnn, xs, ys)
    ops = {n._op for n in topological_order(u.loss)}
    assert all(type(c) is Tensor and c._op == "copy" for cs in u.copies.values() for c in cs)
    assert "affine" not in ops and "linear" in ops
    u = U.many_to_many(rnn, xs, ys)
    assert all(type(c) is FactoredCopy for cs in u.copies.values() for c in cs)
    assert "affine" in {n._op for n in topological_order(u.loss)}


@pytest.mark.parametrize("build_off, sweep_off", [(False, True), (True, False)])
def test_a_graph_built_on_one_path_and_swept_on_the_other_is_right(build_off, sweep_off):
    rnn = RNN(4, 3, 4, token_ids=True, seed=0)
    ids, targets = np.array([0, 3, 3, 1, 2]), np.array([1, 2, 0, 3, 3])
    u = U.many_to_many(rnn, ids, targets)
    u.backward()
    want = [q.grad.copy() for q in rnn.parameters()]
    rnn.zero_grad()
    with fast.off() if build_off else fast.on():
        u = U.many_to_many(rnn, ids, targets)
    with fast.off() if sweep_off else fast.on():
        u.backward()
    _close([q.grad for q in rnn.parameters()], want)
    _close([sum(u.copy_grads(name)) for name, _ in rnn.named_parameters()], want)


def test_a_copy_of_a_copy_hands_its_gradient_on_in_both_sweeps():
    for sweep in (fast.on, fast.off):
        W = Tensor(np.ones((2, 2)))
        W_1 = fast.copy(W, "W_1")
        W_2 = fast.copy(W_1, "W_2")
        with sweep():
            (W_2 @ Tensor([1.0, 2.0])).sum().backward()
        assert W.grad.tolist() == [[1.0, 2.0], [1.0, 2.0]], sweep


def test_off_names_the_tricks_and_refuses_unknown_ones():
    with pytest.raises(ValueError, match=r"fast.off: unknown trick 'copy'; the tricks are copies, fused"):
        with fast.off("copy"):
            pass
    with fast.off("fused"):
        assert fast.enabled("copies") and not fast.enabled("fused")
        with fast.on():
            assert fast.enabled("fused")
        assert not fast.enabled("fused")
    assert fast.enabled("fused")


def test_the_switch_belongs_to_the_thread():
    seen = []
    inside, release = threading.Event(), threading.Event()

    def lecture():
        with fast.off():
            inside.set()
            release.wait(5)
            seen.append(("lecture", fast.enabled("copies")))

    t = threading.Thread(target=lecture)
    t.start()
    inside.wait(5)
    seen.append(("main", fast.enabled("copies")))
    release.set()
    t.join(5)
    assert seen == [("main", True), ("lecture", False)]


def _files_a_backward_enters(graph_u):
    files = set()

    def tracer(frame, event, arg):
        if event == "call":
            files.add(os.path.basename(frame.f_code.co_filename))

    sys.settrace(tracer)
    try:
        graph_u.backward()
    finally:
        sys.settrace(None)
    return files


def test_the_sweep_follows_the_switch_and_off_never_enters_fast_py():
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    with fast.off():
        u = U.many_to_many(Elman(2, 3, 2, seed=0), xs, ys)
        assert "fast.py" not in _files_a_backward_enters(u)  # the spine: graph.backward, nothing of fast.py
    u = U.many_to_many(Elman(2, 3, 2, seed=0), xs, ys)
    assert "fast.py" in _files_a_backward_enters(u)  # on by default: the factored sweep
    seen = []
    inside, release = threading.Event(), threading.Event()

    def lecture():  # another thread's switch does not change this one's sweeps
        with fast.off("copies"):
            with fast.off("walk"):
                inside.set()
                release.wait(5)
                seen.append(mr.tensor.SWEEP.get() is mr.value.SWEEP.get() is mr.graph.backward)
            seen.append(mr.tensor.SWEEP.get() is mr.value.SWEEP.get() is fast.one_pass_backward)

    t = threading.Thread(target=lecture)
    t.start()
    inside.wait(5)
    seen.append(mr.tensor.SWEEP.get() is fast.factored_backward and mr.value.SWEEP.get() is fast.one_pass_backward)
    release.set()
    t.join(5)
    assert seen == [True, True, True]
    code = "import micrornn as mr; print(mr.tensor.SWEEP.get() is mr.value.SWEEP.get() is mr.graph.backward)"
    assert _run(code, "1").stdout.strip() == "True" and _run(code, "0").stdout.strip() == "False"


def _run(code, value):
    env = {**os.environ, "MICRORNN_REFERENCE": value}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_the_environment_switches_every_trick_off():
    out = _run("import micrornn as mr; print([mr.fast.enabled(t) for t in mr.fast.TRICKS])", "1")
    assert out.stdout.strip() == "[False, False, False, False]", out.stderr
    assert _run("import micrornn as mr; print(mr.fast.enabled('copies'))", "0").stdout.strip() == "True"
    bad = _run("import micrornn", "yes")
    assert bad.returncode != 0 and "MICRORNN_REFERENCE must be 1 (every fast trick off) or 0/unset, got 'yes'" \
        in bad.stderr


@pytest.mark.parametrize("reference", [False, True])
def test_a_rule_patched_after_import_is_the_one_both_sweeps_use(monkeypatch, reference):
    # the fast sweep reads tensor.VJP at every node (no snapshot): a patched rule is never ignored
    from micrornn.tensor import VJP

    xs, ys = np.random.default_rng(0).normal(size=(2, 3, 2))
    rnn = RNN(2, 3, 2, seed=0)

    def grads():
        rnn.zero_grad()
        with fast.off() if reference else fast.on():
            U.many_to_many(rnn, xs, ys).backward()
        return rnn.W_x.grad.copy()

    before = grads()
    right = VJP["tanh"]
    monkeypatch.setitem(VJP, "tanh", lambda g, out, which: 2.0 * right(g, out, which))
    assert not np.allclose(grads(), before)


def test_enabled_refuses_a_trick_it_does_not_know():
    with pytest.raises(ValueError, match="unknown trick 'copy'; the tricks are copies, fused"):
        fast.enabled("copy")  # a misspelling used to read as "on"


@pytest.mark.parametrize("first_off", [False, True])
def test_the_memory_estimate_is_measured_per_path(first_off):
    # the measurement is cached on the cell: with plain copies (fast off) a step holds dense gradients,
    # so each path needs its own — whichever measured first used to answer for both
    rnn = RNN(65, 256, 65, seed=0)
    estimates = {}
    for off in (first_off, not first_off):
        with fast.off() if off else fast.on():
            estimates[off] = U.memory_estimate(rnn, 10_000)
    assert estimates[False] < 500e6 < 2 * 2**30 < estimates[True]


@pytest.mark.parametrize("reference", [False, True])
def test_a_copy_no_gradient_reached_reads_as_on_the_other_path(reference):
    xs, ys = np.random.default_rng(0).normal(size=(2, 3, 2))
    with fast.off() if reference else fast.on():
        u = U.many_to_many(RNN(2, 3, 2, seed=0), xs, ys)
        assert all(c.grad is None for c in u.copies["W_h"])  # before backward: None, as any inner node
        u.L[0].backward()  # L_1 reaches no W^H copy (W^H is first used at step 2)
        assert all(c.grad is None for c in u.copies["W_h"])
        u.backward()  # the record's backward gives every copy the loss does not reach zeros
        assert all(isinstance(g, np.ndarray) for g in u.copy_grads("W_h"))


def test_a_stored_or_decorating_switch_adds_to_what_is_off_when_it_is_entered():
    @fast.off("copies")
    def lecture():
        return sorted(t for t in fast.TRICKS if not fast.enabled(t))

    with fast.off("fused"):
        assert lecture() == ["copies", "fused"]  # the decorator does not switch "fused" back on
    assert lecture() == ["copies"]
    assert fast.enabled("fused") and fast.enabled("copies")
