"""The engine's rules, one op and one switch at a time (issue [E], items 1, 6, 7, 16 and 9's aliasing test).

- E1: grad mode and the time step belong to the thread (and asyncio task) that set them.
- E6: backward() refuses a result computed under no_grad() and a graph whose numbers were changed.
- E7: Value and Tensor agree on every op, at the edges of float64 too.
- E16: every Value op against float math and central differences, number operands on either side,
  with the conventions pinned (relu'(0), 0 ** k, exp near overflow, sigmoid's two branches).
"""

import asyncio
import math
import sys
import threading

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import micrornn as mr
from micrornn.nn import RNN
from micrornn.testing import finite_floats

pytestmark = [pytest.mark.lesson_value, pytest.mark.lesson_tensor]  # this file's lessons: pytest -m lesson_value


# -- E1: grad mode and time step per thread -------------------------------------------------------------
def _rnn_grads(rnn, xs, y):
    """The gradients of one many-to-one loss, plus those of a small Value chain (both engines)."""
    rnn.zero_grad()
    mr.unroll.many_to_one(rnn, xs, y).backward()
    w, h = mr.Value(0.9), mr.Value(0.1)
    for x in xs[:, 0]:
        h = (w * h + float(x)).tanh()
    h.backward()
    return [p.grad.copy() for p in rnn.parameters()] + [w.grad]


@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), T=st.integers(2, 5), sampler=st.sampled_from(["sample", "plain ops"]))
def test_e1_no_grad_in_another_thread_leaves_this_threads_gradients_alone(seed, T, sampler):
    rng = np.random.default_rng(seed)
    rnn = RNN(2, 3, 1, seed=seed)
    xs, y = rng.uniform(-1, 1, size=(T, 2)), rng.uniform(-1, 1, size=1)
    expected = _rnn_grads(rnn, xs, y)  # single-threaded
    tokens = RNN(3, 4, 3, token_ids=True, seed=seed)
    stop = threading.Event()
    rounds, errors, busy = [], [], threading.Event()

    def evaluate_forever():  # the other thread spends nearly all its time inside no_grad()
        a = mr.Tensor(rng.uniform(-1, 1, size=3))
        try:
            while not stop.is_set():
                if sampler == "sample":
                    mr.sample(tokens, start=[0, 1], steps=4)
                else:
                    with mr.no_grad():
                        for _ in range(20):
                            (a * a).tanh().sum()
                rounds.append(1)
                busy.set()
        except Exception as e:  # a failure there must fail the test, not vanish with the thread
            errors.append(e)

    other = threading.Thread(target=evaluate_forever)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: every op may interleave
    try:
        other.start()
        busy.wait(timeout=30)  # the other thread is looping in no_grad() before this one trains
        runs = [_rnn_grads(rnn, xs, y) for _ in range(4)]
    finally:
        stop.set()
        other.join()
        sys.setswitchinterval(interval)
    assert not errors and rounds, f"the no_grad thread did not run: {errors}"
    for got in runs:
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)
    assert mr.is_grad_enabled()


def test_e1_interleaved_no_grad_exits_in_two_threads_leave_grad_mode_on():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with mr.no_grad():
            first_in.set()
            second_in.wait(5)
        first_out.set()
        seen["first"] = mr.is_grad_enabled()

    def second():
        first_in.wait(5)
        with mr.no_grad():
            second_in.set()
            first_out.wait(5)  # the first thread leaves its block while this one is still inside
        seen["second"] = mr.is_grad_enabled()
        seen["second records a graph"] = (mr.Value(1.0) * 2.0)._parents != ()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"first": True, "second": True, "second records a graph": True}
    assert mr.is_grad_enabled()


def test_e1_timestep_is_per_thread():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def stepper():
        with mr.timestep(5):
            inside.set()
            done.wait(5)
            seen["own"] = (mr.Value(1.0) * 2.0).t

    other = threading.Thread(target=stepper)
    other.start()
    inside.wait(5)
    seen["main"] = (mr.Value(1.0) * 2.0).t  # while the other thread is inside timestep(5)
    with mr.timestep(7):
        done.set()
        other.join()
        seen["main, own block"] = mr.Value(0.0).t
    assert seen == {"own": 5, "main": None, "main, own block": 7}


def test_e1_no_grad_in_one_asyncio_task_leaves_another_task_alone():
    # a ContextVar (not threading.local) keeps grad mode per task, too
    async def evaluate(entered, trained):
        with mr.no_grad():
            entered.set()
            await trained.wait()

    async def train(entered, trained):
        await entered.wait()
        y = mr.Value(2.0) * 3.0
        trained.set()
        return y._parents != ()

    async def main():
        entered, trained = asyncio.Event(), asyncio.Event()
        _, recorded = await asyncio.gather(evaluate(entered, trained), train(entered, trained))
        return recorded

    assert asyncio.run(main())
    assert mr.is_grad_enabled()


def test_e1_no_grad_and_timestep_exits_out_of_order_restore_each_their_own():
    ng, ts = mr.no_grad(), mr.timestep(3)
    ng.__enter__()
    ts.__enter__()
    ng.__exit__(None, None, None)  # not LIFO (e.g. generators): grad mode back on, t still 3
    assert mr.is_grad_enabled() and mr.Value(0.0).t == 3
    ts.__exit__(None, None, None)
    assert mr.is_grad_enabled() and mr.Value(0.0).t is None


# -- E6: backward on stale or empty graphs --------------------------------------------------------------
def _leaf(engine, x, label="w"):
    return mr.Value(x, label=label) if engine == "value" else mr.Tensor([x, 2 * x], label=label)


def _scalar(y):
    return y if isinstance(y, mr.Value) else y.sum()


def _grad(node):
    return float(np.sum(node.grad))


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_e6_backward_on_a_result_computed_under_no_grad_raises(engine):
    w = _leaf(engine, 0.5)
    with mr.no_grad():
        y = _scalar((w * w).tanh())
    with pytest.raises(RuntimeError, match=r"computed under no_grad\(\)"):
        y.backward()
    assert _grad(w) == 0.0


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_e6_leaves_the_user_made_stay_legal_roots(engine):
    a = mr.Value(3.0) if engine == "value" else mr.Tensor(3.0)
    a.backward()  # d a / d a = 1, as micrograd; (PyTorch raises: the tensor does not require grad)
    assert _grad(a) == 1.0
    with mr.no_grad():
        made_inside = mr.Value(2.0) if engine == "value" else mr.Tensor(2.0)  # made by the user, not an op
        y = made_inside * 2.0
    made_inside.backward()
    y.detach().backward()  # detach(): a leaf asked for by name
    assert _grad(made_inside) == 1.0


# The same user action on both engines: assign a weight's .data between forward and backward.
def _assign(w):
    w.data = 0.7 if isinstance(w, mr.Value) else np.array([0.7, 1.4])


def _subtract(w):
    w.data -= 0.1  # a hand-written SGD step; for a Tensor numpy changes the array in place


EDITS = [("value", "assign"), ("value", "subtract"), ("tensor", "assign"), ("tensor", "subtract"),
         ("tensor", "copy_"), ("tensor", "SGD step")]


def _edit(engine, action, w):
    if action == "assign":
        _assign(w)
    elif action == "subtract":
        _subtract(w)
    elif action == "copy_":
        w.copy_([0.7, 1.4])
    else:
        mr.optim.SGD([w], lr=0.1).step()


@pytest.mark.parametrize("engine,action", EDITS)
def test_e6_changing_a_weight_between_forward_and_backward_raises(engine, action):
    w, x = _leaf(engine, 0.5), _leaf(engine, 1.5, "x")
    y = _scalar((w * x).tanh() * w)
    _edit(engine, action, w)
    with pytest.raises(RuntimeError, match=r"'w'.* had its \.data assigned after"):
        y.backward()
    assert _grad(w) == 0.0 and _grad(x) == 0.0  # refused before any gradient moved
    y = _scalar((w * x).tanh() * w)  # a new forward pass reads the new numbers: fine
    y.backward()
    assert _grad(w) != 0.0


def test_e6_in_place_subtract_is_seen_by_the_tensor_setter():
    W = mr.Tensor([1.0, 2.0], label="W")
    y = (W * W).sum()
    W.data -= 0.5  # numpy changes the array in place, then Python assigns W.data: that is seen
    with pytest.raises(RuntimeError, match="'W'"):
        y.backward()


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_e6_a_change_in_the_middle_of_the_forward_pass_raises(engine):
    # e.g. carrying a state across optimiser steps without detach(): the old steps read old weights
    w, x = _leaf(engine, 0.5), _leaf(engine, 1.5, "x")
    h = (w * x).tanh()
    _edit(engine, "assign", w)
    y = _scalar(h * w)
    with pytest.raises(RuntimeError, match="'w'"):
        y.backward()


def test_e6_a_per_step_copy_does_not_hide_a_change_of_its_weight():
    W = mr.Tensor(np.eye(2), label="W^H")
    W_1 = W.identity()  # shares W's array, as the unroller's copies do
    y = (W_1 @ mr.Tensor([1.0, 2.0])).tanh().sum()
    W.copy_(2 * np.eye(2))
    with pytest.raises(RuntimeError, match="'W\\^H'"):
        y.backward()


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_e6_second_backward_after_an_optimiser_style_step_raises(engine):
    w = _leaf(engine, 0.5)
    y = _scalar((w * w).tanh())
    y.backward()
    w.data = w.data - 0.1 * w.grad
    with pytest.raises(RuntimeError):
        y.backward()


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_e6_changes_elsewhere_leave_a_graph_usable(engine):
    w, other = _leaf(engine, 0.5), _leaf(engine, 0.25, "other")
    y = _scalar(w * w)
    _edit(engine, "assign", other)  # not in y's graph
    y.backward()
    assert _grad(w) == pytest.approx(1.0 if engine == "value" else 3.0)  # Σ 2w


def test_e6_a_training_loop_in_the_usual_order_never_raises():
    rnn = RNN(2, 3, 1, seed=0)
    opt = mr.optim.SGD(rnn.parameters(), lr=0.1)
    xs, y = np.ones((4, 2)), np.array([0.5])
    for _ in range(3):
        opt.zero_grad()
        mr.unroll.many_to_one(rnn, xs, y).backward()
        opt.step()


def test_e6_value_data_setter_checks_its_input():
    w = mr.Value(1.0)
    with pytest.raises(TypeError, match="Value.data must be a real number"):
        w.data = "2"
    w.data = 3  # ints become floats, as in the constructor
    assert w.data == 3.0 and type(w.data) is float


# -- E7: the engines agree on every op, at float64's edges ------------------------------------------------
EDGES = [709.0, -709.0, 710.0, -710.0, 1000.0, -1000.0, 0.0, -0.0, 1e-300, -1e-300, 1e200, -1e200,
         math.nan, math.inf, -math.inf, 1.0, -2.5]
EXPONENTS = [0, 1, 2, 3, -1, -2, 0.5, 1.5, -0.5, 400, -400, 2.0, 3.0]
CONSTANTS = [2.0, -3.0, 0.0, 1e-300, 1e300, math.inf, math.nan]

UNARY_OPS = {
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "neg": lambda a: -a,
    "identity": lambda a: a.identity(),
}
BINARY_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


def _same(a, b):
    """Both NaN, or equal (infinities of one sign included) up to an ulp or two (libm vs numpy exp)."""
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-15, abs_tol=0.0)


def _on_both(fn, *xs):
    """Run ``fn`` on Value nodes and on Tensor nodes holding ``xs`` (reached through an op: the
    constructors take finite numbers only). Returns per engine: ("raised", type) or (out, input grads)."""
    results = []
    for make in (mr.Value, mr.Tensor):
        nodes = [make(0.0) + x for x in xs]  # inner nodes: their grad after backward is d out / d node
        try:
            with np.errstate(all="ignore"):
                out = fn(*nodes)
                out.backward()
        except (ArithmeticError, ValueError) as e:
            results.append(("raised", type(e)))
            continue
        results.append((out.data, [n.grad for n in nodes]))
    return results


def _assert_agree(results, what):
    (v_out, v_grads), (t_out, t_grads) = results
    if v_out == "raised" or t_out == "raised":
        assert v_out == t_out and v_grads == t_grads, f"{what}: Value {results[0]}, Tensor {results[1]}"
        return
    assert _same(v_out, t_out), f"{what}: forward Value {v_out!r}, Tensor {t_out!r}"
    for i, (gv, gt) in enumerate(zip(v_grads, t_grads)):
        assert _same(gv, gt), f"{what}: d/d(operand {i}) Value {gv!r}, Tensor {gt!r}"


@given(name=st.sampled_from(sorted(UNARY_OPS)), x=st.sampled_from(EDGES) | finite_floats(-800, 800))
def test_e7_engines_agree_on_unary_ops_at_the_edges(name, x):
    _assert_agree(_on_both(UNARY_OPS[name], x), f"{name}({x!r})")


@given(name=st.sampled_from(sorted(BINARY_OPS)), x=st.sampled_from(EDGES), y=st.sampled_from(EDGES))
def test_e7_engines_agree_on_binary_ops_at_the_edges(name, x, y):
    _assert_agree(_on_both(BINARY_OPS[name], x, y), f"{x!r} {name} {y!r}")


@given(name=st.sampled_from(sorted(BINARY_OPS)), x=st.sampled_from(EDGES), c=st.sampled_from(CONSTANTS),
       number_first=st.booleans())
def test_e7_engines_agree_with_a_number_operand_on_either_side(name, x, c, number_first):
    op = BINARY_OPS[name]
    fn = (lambda a: op(c, a)) if number_first else (lambda a: op(a, c))
    _assert_agree(_on_both(fn, x), f"{c!r} {name} x={x!r}" if number_first else f"x={x!r} {name} {c!r}")


@given(x=st.sampled_from(EDGES), k=st.sampled_from(EXPONENTS))
def test_e7_engines_agree_on_powers_at_the_edges(x, k):
    _assert_agree(_on_both(lambda a: a**k, x), f"{x!r} ** {k!r}")


def test_e7_exp_just_below_overflow_is_finite_as_in_math():
    y = mr.Value(709.0).exp()
    assert y.data == math.exp(709.0) == pytest.approx(8.218407461554972e307)
    assert mr.Value(710.0).exp().data == math.inf  # past the largest double: inf, as numpy


def test_e7_relu_passes_nan_on_as_pytorch():
    x = mr.Value(0.0) + math.nan
    y = x.relu()
    y.backward()
    assert math.isnan(y.data) and x.grad == 1.0  # torch: relu(nan) = nan, and its mask keeps the gradient


def test_e7_a_power_that_overflows_gives_inf_not_overflow_error():
    assert (mr.Value(10.0) ** 400).data == math.inf
    assert (mr.Value(-10.0) ** 401).data == -math.inf
    assert (mr.Value(1e-300) ** -2).data == math.inf


@pytest.mark.parametrize("k", [math.inf, math.nan, True, "2"])
def test_e7_exponent_must_be_a_finite_number_in_both_engines(k):
    error = TypeError if isinstance(k, (bool, str)) else ValueError
    for x in (mr.Value(2.0), mr.Tensor([2.0])):
        with pytest.raises(error, match="exponent|plain number"):
            x**k


# -- E16: each Value op alone, against float math and central differences -----------------------------------
def _sigmoid(x):
    """1 / (1 + e^-x) in float math; below -700, where e^-x overflows, σ(x) = e^x to within 1e-304."""
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else math.exp(x)


# name -> (op on a Value, forward in float math, derivative in float math, domain of x)
UNARY_RULES = {
    "exp": (lambda a: a.exp(), math.exp, math.exp, (-20, 20)),
    "log": (lambda a: a.log(), math.log, lambda x: 1 / x, (0.01, 50)),
    "tanh": (lambda a: a.tanh(), math.tanh, lambda x: 1 - math.tanh(x) ** 2, (-5, 5)),
    "sigmoid": (lambda a: a.sigmoid(), _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)), (-30, 30)),
    "relu": (lambda a: a.relu(), lambda x: max(x, 0.0), lambda x: float(x > 0), (-5, 5)),
    "neg": (lambda a: -a, lambda x: -x, lambda x: -1.0, (-5, 5)),
    "identity": (lambda a: a.identity(), lambda x: x, lambda x: 1.0, (-5, 5)),
    "v + 2": (lambda a: a + 2, lambda x: x + 2, lambda x: 1.0, (-5, 5)),
    "2 + v": (lambda a: 2 + a, lambda x: 2 + x, lambda x: 1.0, (-5, 5)),
    "v - 2": (lambda a: a - 2, lambda x: x - 2, lambda x: 1.0, (-5, 5)),
    "2 - v": (lambda a: 2 - a, lambda x: 2 - x, lambda x: -1.0, (-5, 5)),
    "v * 2.5": (lambda a: a * 2.5, lambda x: x * 2.5, lambda x: 2.5, (-5, 5)),
    "3 * v": (lambda a: 3 * a, lambda x: 3 * x, lambda x: 3.0, (-5, 5)),
    "v / 4": (lambda a: a / 4, lambda x: x / 4, lambda x: 0.25, (-5, 5)),
    "2 / v": (lambda a: 2 / a, lambda x: 2 / x, lambda x: -2 / x**2, (0.1, 5)),
    "-2 / v": (lambda a: -2.0 / a, lambda x: -2 / x, lambda x: 2 / x**2, (-5, -0.1)),
    "v ** 2": (lambda a: a**2, lambda x: x**2, lambda x: 2 * x, (-5, 5)),
    "v ** 3": (lambda a: a**3, lambda x: x**3, lambda x: 3 * x**2, (-5, 5)),
    "v ** -1": (lambda a: a**-1, lambda x: x**-1, lambda x: -(x**-2), (0.1, 5)),
    "v ** 0.5": (lambda a: a**0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), (0.01, 5)),
    "v ** 1.5": (lambda a: a**1.5, lambda x: x**1.5, lambda x: 1.5 * x**0.5, (0.01, 5)),
    "v ** 0": (lambda a: a**0, lambda x: 1.0, lambda x: 0.0, (-5, 5)),
    "v ** 1": (lambda a: a**1, lambda x: x, lambda x: 1.0, (-5, 5)),
}


def _central_difference(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("name", UNARY_RULES)
@settings(max_examples=30)
@given(u=st.floats(0, 1))
def test_e16_each_unary_op_against_float_math_and_central_differences(name, u):
    op, f, df, (lo, hi) = UNARY_RULES[name]
    x = lo + (hi - lo) * u
    if name == "relu":
        assume(abs(x) > 1e-5)  # the kink: pinned separately below
    a = mr.Value(x)
    y = op(a)
    y.backward()
    assert y.data == pytest.approx(f(x), rel=1e-13, abs=1e-300), "forward"
    assert y._parents == (a,), "a number operand makes no node"
    assert a.grad == pytest.approx(df(x), rel=1e-12, abs=1e-300), "local derivative"
    numeric = _central_difference(f, x)
    assert a.grad == pytest.approx(numeric, rel=1e-6, abs=1e-7 * (1 + abs(f(x)))), "central difference"


BINARY_RULES = {
    "+": (lambda a, b: a + b, lambda x, y: x + y, lambda x, y: (1.0, 1.0)),
    "-": (lambda a, b: a - b, lambda x, y: x - y, lambda x, y: (1.0, -1.0)),
    "*": (lambda a, b: a * b, lambda x, y: x * y, lambda x, y: (y, x)),
    "/": (lambda a, b: a / b, lambda x, y: x / y, lambda x, y: (1 / y, -x / y**2)),
}


@pytest.mark.parametrize("name", BINARY_RULES)
@settings(max_examples=40)
@given(x=finite_floats(-5, 5), y=finite_floats(-5, 5))
def test_e16_each_binary_op_against_float_math_and_central_differences(name, x, y):
    if name == "/":
        assume(abs(y) > 0.1)
    op, f, df = BINARY_RULES[name]
    a, b = mr.Value(x), mr.Value(y)
    out = op(a, b)
    out.backward()
    assert out.data == pytest.approx(f(x, y), rel=1e-15, abs=1e-300)
    assert out._parents == (a, b)
    assert (a.grad, b.grad) == pytest.approx(df(x, y), rel=1e-12)
    numeric = (_central_difference(lambda s: f(s, y), x), _central_difference(lambda s: f(x, s), y))
    assert (a.grad, b.grad) == pytest.approx(numeric, rel=1e-6, abs=1e-6)


def test_e16_both_operands_one_node_add_up():
    a = mr.Value(3.0)
    for op, expected in ((lambda v: v - v, 0.0), (lambda v: v * v, 6.0), (lambda v: v / v, 0.0)):
        a.zero_grad()
        op(a).backward()
        assert a.grad == pytest.approx(expected)


def test_e16_relu_derivative_at_zero_is_zero_as_pytorch():
    for engine in (mr.Value, mr.Tensor):
        for zero in (0.0, -0.0):
            x = engine(zero)
            y = x.relu()
            y.backward()
            assert float(y.data) == 0.0 and float(x.grad) == 0.0


@pytest.mark.parametrize("k,value,derivative", [
    (0, 1.0, 0.0),  # x**0 is the constant 1 (PyTorch: 0**0 = 1, gradient 0)
    (1, 0.0, 1.0),
    (2, 0.0, 0.0),
    (3, 0.0, 0.0),
    (2.0, 0.0, 0.0),
])
def test_e16_zero_to_the_power_k(k, value, derivative):
    for engine in (mr.Value, mr.Tensor):
        x = engine(0.0)
        y = x**k
        y.backward()
        assert (float(y.data), float(x.grad)) == (value, derivative), engine.__name__


@pytest.mark.parametrize("k", [0.5, -1, -2.5])
def test_e16_zero_to_a_power_below_one_raises_in_both_engines(k):
    for engine in (mr.Value, mr.Tensor):
        with pytest.raises(ZeroDivisionError, match="infinite at x = 0"):
            engine(0.0) ** k


def test_e16_nan_to_the_power_zero_is_one_with_derivative_zero():
    for engine in (mr.Value, mr.Tensor):
        x = engine(0.0) + math.nan
        y = x**0
        y.backward()
        assert float(y.data) == 1.0 and float(x.grad) == 0.0


@pytest.mark.parametrize("x", [709.0, 709.7, 709.78])
def test_e16_exp_near_overflow(x):
    a = mr.Value(x)
    y = a.exp()
    y.backward()
    assert y.data == math.exp(x) and math.isfinite(y.data) and a.grad == y.data


@pytest.mark.parametrize("x", [0.0, 1e-8, 3.0, 36.0, 40.0, 700.0, 1000.0])
def test_e16_sigmoid_on_both_branches(x):
    for s in (x, -x):
        a = mr.Value(s)
        y = a.sigmoid()
        y.backward()
        assert y.data == pytest.approx(_sigmoid(s), rel=1e-14, abs=0.0)
        assert a.grad == pytest.approx(_sigmoid(s) * (1 - _sigmoid(s)), rel=1e-12, abs=0.0)
    assert mr.Value(-x).sigmoid().data + mr.Value(x).sigmoid().data == pytest.approx(1.0, rel=1e-15)


def test_e16_sigmoid_far_below_zero_keeps_its_relative_accuracy():
    # the x < 0 branch: exp(x)/(1+exp(x)) never computes exp(-x), which overflows past 709
    for x in (-710.0, -740.0):
        assert mr.Value(x).sigmoid().data == pytest.approx(math.exp(x), rel=1e-12)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_e16_backward_twice_on_a_leaf_root_accumulates(engine):
    a = mr.Value(2.0) if engine == "value" else mr.Tensor(2.0)
    a.backward()
    a.backward()
    assert float(a.grad) == 2.0  # a leaf accumulates, the root included (as any leaf in PyTorch)
    a.backward(3.0 if engine == "value" else np.array(3.0))
    assert float(a.grad) == 5.0


# -- E9 (second half): inner gradients are never accumulated in place ----------------------------------------
def test_e9_inner_grads_are_not_accumulated_in_place():
    # "+" and "copy" hand their incoming gradient on unchanged: without care three nodes share one
    # array, and adding into it in place would change the other nodes' gradients as well
    x = mr.Tensor([1.0, -2.0], label="x")
    a = x * 2.0
    b = a.identity()
    s = b + a
    s.sum().backward()
    np.testing.assert_array_equal(s.grad, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


@pytest.mark.parametrize("scalar", [False, True])
def test_e6_an_optimiser_step_between_unroll_and_backward_raises_on_both_paths(scalar):
    # the scalar unroll copies the weights into fresh Values: without a check it would silently use the old ones
    rnn = RNN(2, 3, 1, seed=0)
    u = mr.unroll.many_to_one(rnn, np.ones((3, 2)), np.ones(1), scalar=scalar)
    mr.optim.SGD(rnn.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError, match="had its .data assigned after"):
        u.backward()
    assert all(not p.grad.any() for p in rnn.parameters())  # refused before any gradient moved


# -- the exponent of x ** k: one rule for both engines (flags.exponent) ------------------------------------
@pytest.mark.parametrize("engine", ["Value", "Tensor"])
@pytest.mark.parametrize("k,error,message", [
    (True, TypeError, r"\*\* k needs a plain number k, got bool"),
    ("2", TypeError, r"\*\* k needs a plain number k, got str"),
    ("node", TypeError, r"\*\* k needs a plain number k, got a (Value|Tensor): \w+ \*\* \w+ is not supported"),
    (float("nan"), ValueError, r"\*\* nan: the exponent must be a finite number"),
    (float("inf"), ValueError, r"\*\* inf: the exponent must be a finite number"),
])
def test_both_engines_refuse_the_same_exponents_with_the_same_words(engine, k, error, message):
    x = mr.Value(2.0) if engine == "Value" else mr.Tensor([2.0, 3.0])
    if k == "node":
        k = x
    with pytest.raises(error, match=f"^{engine} " + message):
        x ** k


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_a_node_of_a_subclass_as_the_exponent_is_named_as_a_node_of_the_engine(engine):
    base = mr.Value if engine == "Value" else mr.Tensor
    Sub = type("Sub", (base,), {})  # e.g. fast.py's FactoredCopy is a Tensor
    x = base(2.0) if engine == "Value" else base([2.0, 3.0])
    k = Sub(2.0) if engine == "Value" else Sub([1.0, 1.0])
    with pytest.raises(TypeError, match=f"^{engine} \\*\\* k needs a plain number k, got a {engine}: "):
        x ** k
