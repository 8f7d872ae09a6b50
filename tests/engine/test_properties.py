"""Random expression graphs: finite differences, and the Value graph against the Tensor graph."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrornn as mr
from micrornn.gradcheck import gradcheck
from micrornn.testing import SMOOTH_OPS, arrays, expressions, shapes

pytestmark = [pytest.mark.lesson_value, pytest.mark.lesson_tensor]  # this file's lessons: pytest -m lesson_value


@given(expr=expressions(ops=SMOOTH_OPS), shape=shapes(0, 2, 3), data=st.data())
def test_expression_gradients_match_finite_differences(expr, shape, data):
    xs = [mr.Tensor(data.draw(arrays(shape, -1.5, 1.5))) for _ in range(expr.n_inputs)]
    gradcheck(expr.on_tensors, xs)


@given(expr=expressions(), shape=shapes(0, 2, 3), data=st.data())
def test_value_graph_equals_tensor_graph(expr, shape, data):
    arrs = [data.draw(arrays(shape, -1.5, 1.5)) for _ in range(expr.n_inputs)]
    ts = [mr.Tensor(a) for a in arrs]
    vs = [[mr.Value(float(x)) for x in a.reshape(-1)] for a in arrs]
    t_out = expr.on_tensors(*ts)
    v_out = expr.on_values(*vs)
    t_out.backward()
    v_out.backward()
    scale = 1.0 + abs(t_out.item())
    assert abs(t_out.item() - v_out.data) <= 1e-9 * scale, str(expr)
    for t, v in zip(ts, vs):
        v_grad = np.array([x.grad for x in v]).reshape(t.shape)
        assert np.allclose(t.grad, v_grad, rtol=1e-9, atol=1e-9 * (1 + np.abs(t.grad).max())), str(expr)


@given(n=st.integers(1, 4), m=st.integers(1, 4), data=st.data())
def test_value_matvec_equals_tensor_matmul(n, m, data):
    W = data.draw(arrays((n, m)))
    x = data.draw(arrays((m,)))
    tW, tx = mr.Tensor(W), mr.Tensor(x)
    (tW @ tx).tanh().sum().backward()
    vW = [[mr.Value(float(w)) for w in row] for row in W]
    vx = [mr.Value(float(v)) for v in x]
    rows = [sum((w * v for w, v in zip(row, vx)), mr.Value(0.0)).tanh() for row in vW]
    sum(rows, mr.Value(0.0)).backward()
    assert np.allclose(tW.grad, [[w.grad for w in row] for row in vW], rtol=1e-9, atol=1e-12)
    assert np.allclose(tx.grad, [v.grad for v in vx], rtol=1e-9, atol=1e-12)
