"""[F] 5: the micrograd idiom — ``viz.draw(expr)`` of unlabelled Values draws the whole expression."""

import re
import shutil

import numpy as np
import pytest

import micrornn as mr
from micrornn import viz

pytestmark = [pytest.mark.lesson_pictures, pytest.mark.lesson_value]  # this file's lessons: pytest -m lesson_pictures


def test_f5_draw_of_unlabelled_values_shows_ops_and_local_derivatives():
    a = mr.Value(2.0)
    b = mr.Value(-3.0)
    y = a * b + b ** 2
    y.backward()
    src = viz.draw(y).source
    ab, b2 = y._parents
    values = re.findall(r"^\s*(n\d+) \[label=<", src, flags=re.MULTILINE)
    ops = dict(re.findall(r"^\s*(op\d+) \[label=\"?([^\" ]+)\"?", src, flags=re.MULTILINE))
    assert sorted(values) == sorted(f"n{id(v)}" for v in (a, b, ab, b2, y))  # every value, leaves and results
    assert sorted(ops.values()) == ["*", "**2", "+"]  # an op node for each result, as micrograd's draw_dot
    edges = {(t, h): float(d) for t, h, d in re.findall(r"(n\d+) -> (op\d+) \[label=\"?([-\d.e]+)\"?\]", src)}
    assert edges == {(f"n{id(a)}", f"op{id(ab)}"): -3.0,  # ∂(ab)/∂a = b
                     (f"n{id(b)}", f"op{id(ab)}"): 2.0,  # ∂(ab)/∂b = a
                     (f"n{id(b)}", f"op{id(b2)}"): -6.0,  # ∂(b²)/∂b = 2b
                     (f"n{id(ab)}", f"op{id(y)}"): 1.0, (f"n{id(b2)}", f"op{id(y)}"): 1.0}
    for op in ops:
        assert re.search(rf"\b{op} -> n{op[2:]}\b", src)  # each op node feeds its result
    assert "grad -4" in src and "grad -3" in src  # ∂y/∂b = a + 2b = -4, ∂y/∂a = b


def test_f5_a_tensor_expression_and_the_coarse_view_keep_the_root():
    W = mr.Tensor(np.ones((2, 2)))
    x = mr.Tensor(np.array([1.0, 2.0]))
    y = (W @ x).tanh().sum()
    y.backward()
    src = viz.draw(y).source
    assert len(re.findall(r"^\s*op\d+ \[", src, flags=re.MULTILINE)) == 3  # @, tanh, sum
    coarse = viz.draw(y, view="coarse").source  # only leaves and labels are kept: the root stays, with edges
    assert f"n{id(y)} [label=" in coarse and re.search(rf"n{id(W)} -> n{id(y)}", coarse)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_f5_the_expression_renders(tmp_path):
    a, b = mr.Value(2.0), mr.Value(-3.0)
    y = a * b + b ** 2
    y.backward()
    svg = viz.render(viz.draw(y), tmp_path / "expr.svg").read_text()
    assert svg.count('class="node"') == 5 + 3 + 1  # values, ops, the legend
    assert svg.count('class="edge"') == 5 + 3
