"""The scalar engine: each op's rule, graph semantics, and deep chains."""

import math
import sys

import pytest
from hypothesis import assume, given

import micrornn as mr
from micrornn.gradcheck import GradcheckError, gradcheck
from micrornn.testing import finite_floats

pytestmark = [pytest.mark.lesson_value]  # this file's lessons: pytest -m lesson_value


def test_micrograd_sanity_example():
    # the expression from micrograd's README, with gradients worked out by hand
    a, b = mr.Value(-4.0), mr.Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, rel=1e-12)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-12)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-12)


def test_parents_in_argument_order_and_repeated_edges():
    a = mr.Value(3.0)
    y = a + a
    assert y._parents == (a, a)
    y.backward()
    assert a.grad == 2.0
    a.zero_grad()
    (a * a).backward()
    assert a.grad == 6.0


def test_node_reused_many_times():
    x = mr.Value(0.5)
    h = x * 1.0
    total = mr.Value(0.0)
    for _ in range(50):
        total = total + h * x
    total.backward()
    assert x.grad == pytest.approx(50 * 2 * 0.5)


def test_backward_twice_doubles_leaf_grads_only():
    w, x = mr.Value(1.5, label="w"), mr.Value(-0.5, label="x")
    h = (w * x).tanh()
    y = h * h
    y.backward()
    first = (w.grad, x.grad, h.grad)
    y.backward()
    assert (w.grad, x.grad) == pytest.approx((2 * first[0], 2 * first[1]))
    assert h.grad == pytest.approx(first[2])  # inner node: reset, not accumulated
    mr.zero_grad([w, x])
    assert (w.grad, x.grad) == (0.0, 0.0)


def test_detach_blocks_gradient():
    w = mr.Value(2.0)
    h = w * 3.0
    y = h.detach() * w
    y.backward()
    assert w.grad == 6.0  # only through the second factor
    assert h.grad == 0.0


def test_no_grad_builds_no_graph():
    w = mr.Value(2.0)
    with mr.no_grad():
        y = (w * w).tanh()
        assert not mr.is_grad_enabled()
    assert y._parents == () and mr.is_grad_enabled()
    with pytest.raises(RuntimeError, match=r"under no_grad\(\)"):  # item E6: no silent zero grads
        y.backward()
    assert w.grad == 0.0


def test_timestep_tags_nodes():
    with mr.timestep(4):
        a = mr.Value(1.0)
        b = a * 2
    c = b + 1
    assert (a.t, b.t, c.t) == (4, 4, None)


def test_chain_of_100000_steps_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 1000  # Python's default: nothing in backward may recurse
    w = mr.Value(0.9, label="w")
    h = mr.Value(0.0)
    for t in range(100_000):
        h = (w * h + math.sin(t)).tanh()
    h.backward()
    assert math.isfinite(w.grad) and w.grad != 0.0


def test_repr_shows_label_data_grad():
    a = mr.Value(2.0, label="a")
    assert repr(a) == "Value(a: data=2, grad=0)"


def test_reflected_ops_with_numbers_make_no_constant_nodes():
    a = mr.Value(2.0)
    for y in (2 * a, a * 2, 1 - a, a - 1, 1 + a, a + 1, a / 2):
        assert y._parents == (a,)
    assert (2 / a).data == 1.0
    import numpy as np

    y = np.float64(3.0) * a
    assert isinstance(y, mr.Value) and y.data == 6.0


UNARY = {
    "exp": (lambda a: a.exp(), math.exp),
    "log": (lambda a: a.log(), math.log),
    "tanh": (lambda a: a.tanh(), math.tanh),
    "sigmoid": (lambda a: a.sigmoid(), lambda x: 1 / (1 + math.exp(-x))),
    "relu": (lambda a: a.relu(), lambda x: max(x, 0.0)),
    "neg": (lambda a: -a, lambda x: -x),
    "pow2": (lambda a: a**2, lambda x: x**2),  # the square has its own path in __pow__
    "pow3": (lambda a: a**3, lambda x: x**3),
    "pow-0.5": (lambda a: a**-0.5, lambda x: x**-0.5),
}


@pytest.mark.parametrize("name", UNARY)
@given(x=finite_floats(-3, 3))
def test_unary_ops_against_finite_differences(name, x):
    op, ref = UNARY[name]
    if name in ("log", "pow-0.5"):
        assume(x > 0.05)
    if name == "relu":
        assume(abs(x) > 1e-3)
    a = mr.Value(x)
    assert op(a).data == pytest.approx(ref(x), rel=1e-12, abs=1e-300)
    gradcheck(op, [a])


BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", BINARY)
@given(x=finite_floats(-3, 3), y=finite_floats(-3, 3))
def test_binary_ops_against_finite_differences(name, x, y):
    if name == "/":
        assume(abs(y) > 0.1)
    gradcheck(BINARY[name], [mr.Value(x), mr.Value(y)])


def test_gradcheck_reports_worst_element():
    a = mr.Value(0.5, label="a")

    def bad(a):  # a hand-broken rule: the local derivative of "*" is off by one
        out = a * a
        out._d0 += 1.0  # (under no_grad, for the finite differences, nothing reads it)
        return out

    with pytest.raises(GradcheckError, match=r"at a: analytic 2, numeric 1(\.0+\d*)? "):
        gradcheck(bad, [a])


def test_subclasses_of_value_combine():
    class Named(mr.Value):
        pass

    a, b = Named(2.0), Named(3.0)
    y = a * b + a - b / a
    y.backward()
    assert y.data == pytest.approx(6.5) and a.grad == pytest.approx(3 + 1 + 3 / 4) and b.grad == pytest.approx(1.5)
