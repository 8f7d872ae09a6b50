"""The shared backprop core: the topological walk, leaves, and the sweep's effect on the collector."""

import gc

import numpy as np
import pytest

import micrornn as mr
from micrornn.graph import topological_order

pytestmark = [pytest.mark.lesson_value, pytest.mark.lesson_tensor]  # this file's lessons: pytest -m lesson_value


def _engines():
    """The same small graph in both engines: (leaves, root)."""
    a, b = mr.Value(0.5, label="a"), mr.Value(-1.5, label="b")
    yield (a, b), ((a * b).tanh() + a) * a
    A, B = mr.Tensor([0.5, 1.0], label="A"), mr.Tensor([-1.5, 2.0], label="B")
    yield (A, B), (((A * B).tanh() + A) * A).sum()


@pytest.mark.parametrize("leaves,root", list(_engines()))
def test_walk_places_every_node_after_its_parents_once(leaves, root):
    order = topological_order(root)
    position = {id(n): i for i, n in enumerate(order)}
    assert len(position) == len(order) == (6 if isinstance(root, mr.Value) else 7)  # Tensor: + .sum()
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node._parents)
    assert order == topological_order(root)  # a second walk: the marks of the first don't leak into it
    a, b = leaves
    assert [n for n in topological_order(a, root, b) if not n._parents] == [a, b]  # roots shared with the graph


@pytest.mark.parametrize("leaves,root", list(_engines()))
def test_leaves_are_the_nodes_no_op_made(leaves, root):
    for leaf in leaves:
        assert leaf._op == "" and leaf._parents == ()
    assert root._op and root._parents
    assert root.detach()._op == "" and root.detach()._parents == ()
    with mr.no_grad():
        made = root * 2.0
    assert made._op is None and made._parents == ()  # a leaf, marked as made under no_grad()


@pytest.mark.parametrize("leaves,root", list(_engines()))
def test_no_grad_result_accumulates_like_a_leaf(leaves, root):
    with mr.no_grad():
        c = leaves[0] * 3.0  # a constant to the graph below
    y = c * leaves[1]
    if isinstance(y, mr.Tensor):
        y = y.sum()
    y.backward()
    y.backward()
    expected = 2 * np.asarray(leaves[1].data)
    assert np.allclose(c.grad, expected)  # two calls: doubled, as for any leaf


@pytest.mark.parametrize("enabled", [True, False])
def test_backward_leaves_the_garbage_collector_as_it_found_it(enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        a = mr.Value(0.3)
        (a * a).backward()
        assert gc.isenabled() is enabled
        bad = mr.Tensor([1.0, 2.0])
        out = bad.sum()
        out._op = "no such op"  # the sweep fails half-way: the collector must still come back
        with pytest.raises(KeyError):
            out.backward()
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_backward_resets_inner_grads_but_not_leaves():
    w = mr.Value(2.0)
    h = w * w
    y = h * 3.0
    y.backward()
    h.grad = 100.0  # stale: the next sweep must start it from zero
    y.backward()
    assert h.grad == 3.0 and w.grad == 2 * 12.0
