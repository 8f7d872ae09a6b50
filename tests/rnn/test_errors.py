"""Bad input: a clear error at the user's own call, naming what was wrong and what was expected."""

import numpy as np
import pytest

import micrornn as mr
from micrornn import functional as F
from micrornn import unroll
from micrornn.nn import RNN

pytestmark = [pytest.mark.lesson_bptt]  # this file's lessons: pytest -m lesson_bptt


def test_non_scalar_backward():
    t = mr.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"starts from a scalar.*shape \(2, 3\)"):
        (t * 2).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\), expected \(2, 3\)"):
        (t * 2).backward(np.ones(3))


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"@: shapes \(2, 3\) and \(4,\) do not match.*\(3\).*\(4\)"):
        mr.Tensor(np.ones((2, 3))) @ mr.Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"at least 1-D"):
        mr.Tensor(1.0) @ mr.Tensor(np.ones(4))


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\+: shapes \(2, 3\) and \(2,\) do not broadcast"):
        mr.Tensor(np.ones((2, 3))) + mr.Tensor(np.ones(2))


@pytest.mark.parametrize("bad", ["a", None, [1, "x"], {"a": 1}, True])
def test_non_numeric_data(bad):
    with pytest.raises(TypeError, match="must be a real number|must hold real numbers"):
        mr.Value(bad) if not isinstance(bad, list) else mr.Tensor(bad)
    if not isinstance(bad, (list, bool)):
        with pytest.raises(TypeError):
            mr.Tensor(bad)


def test_non_finite_and_ragged_data():
    with pytest.raises(ValueError, match="must be finite"):
        mr.Value(float("nan"))
    with pytest.raises(ValueError, match="2 inf/nan"):
        mr.Tensor([1.0, np.inf, np.nan])
    with pytest.raises(ValueError, match="rectangular"):
        mr.Tensor([[1.0, 2.0], [3.0]])


def test_wrong_index():
    t = mr.Tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"index 5 is invalid for a Tensor of shape \(2, 3\)"):
        t[5]
    with pytest.raises(TypeError, match="not with a Tensor"):
        t[mr.Tensor([0.0])]


def test_operands_of_the_wrong_type():
    with pytest.raises(TypeError, match="unsupported operand"):
        mr.Value(1.0) + "a"
    with pytest.raises(TypeError, match="unsupported operand"):
        mr.Value(1.0) * mr.Tensor([1.0])
    with pytest.raises(TypeError, match="plain number"):
        mr.Value(2.0) ** mr.Value(2.0)


def test_domain_errors():
    with pytest.raises(ValueError, match="log of a non-positive Value"):
        mr.Value(-1.0).log()
    with pytest.raises(ValueError, match="1 non-positive"):
        mr.Tensor([1.0, 0.0]).log()
    with pytest.raises(ZeroDivisionError):
        mr.Value(1.0) / mr.Value(0.0)
    with pytest.raises(ZeroDivisionError, match="1 zero entries"):
        mr.Tensor([1.0, 2.0]) / mr.Tensor([1.0, 0.0])
    with pytest.raises(ValueError, match="not real"):
        mr.Tensor([-1.0]) ** 0.5


def test_loss_errors():
    logits = mr.Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"target 3 is out of range for 3 classes \(0..2\)"):
        F.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"logits \(2, 3\) and targets \(3,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"pred has shape \(2, 3\) but target has shape \(3,\)"):
        F.mse(logits, np.zeros(3))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        F.activation("gelu")


def test_failed_op_leaves_operands_unchanged():
    a = mr.Tensor(np.ones((2, 3)))
    before = (a.data.copy(), a.grad.copy(), a._parents)
    with pytest.raises(ValueError):
        a @ mr.Tensor(np.ones(5))
    assert np.array_equal(a.data, before[0]) and np.array_equal(a.grad, before[1]) and a._parents == before[2]


# -- a cell whose layers or directions no longer match its weights -----------------------------------------
@pytest.mark.parametrize("change,said", [("bidirectional", "num_layers=1, bidirectional=True"),
                                         ("num_layers", "num_layers=2, bidirectional=False")])
def test_a_cell_changed_after_it_was_made_is_refused_at_the_call(change, said):
    rnn = RNN(2, 3, 2)
    setattr(rnn, change, True if change == "bidirectional" else 2)  # was an IndexError / KeyError in the loop
    with pytest.raises(ValueError, match=rf"^many_to_many: this RNN was made with num_layers=1, "
                                         rf"bidirectional=False .* now says {said}\. They are fixed"):
        unroll.many_to_many(rnn, np.ones((3, 2)), np.zeros((3, 2)))


def test_a_cell_whose_init_skips_cell_init_is_told_to_call_it():
    class Mine(RNN):
        def __init__(self):  # forgot super().__init__(...): was an AttributeError deep in the loop
            pass

    with pytest.raises(TypeError, match=r"^one_to_many: this Mine has no weights: its __init__ must call "
                                        r"super\(\).__init__"):
        unroll.one_to_many(Mine(), np.ones(2), 3)
