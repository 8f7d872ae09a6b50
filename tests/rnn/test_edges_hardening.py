"""Edge cases of issue #18: each mistake is refused at the user's own call, with one sentence that says
which argument was wrong, how, and what was expected — not deep inside an optimiser or a browser later."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import micrornn as mr
from micrornn.tensor import Tensor

pytestmark = [pytest.mark.lesson_bptt]  # this file's lessons: pytest -m lesson_bptt


# -- 2. Tensor.grad is checked when assigned --------------------------------------------------------------
@pytest.mark.parametrize("bad", ["x", np.array(["a"] * 9).reshape(3, 3), [[None] * 3] * 3, object()])
def test_grad_of_the_wrong_type_is_refused(bad):
    W = Tensor(np.ones((3, 3)), label="W")
    with pytest.raises(TypeError, match=r"W\.grad must .*numbers"):
        W.grad = bad


@pytest.mark.parametrize("bad", [np.zeros(7), np.zeros((3, 1)), np.zeros((1, 3, 3)), 0.0])
def test_grad_of_the_wrong_shape_is_refused(bad):
    W = Tensor(np.ones((3, 3)), label="W")
    with pytest.raises(ValueError, match=r"different size.*shape \(3, 3\)"):
        W.grad = bad


def test_grad_accepts_arrays_lists_and_none():
    W = Tensor(np.ones((2, 2)))
    W.grad = np.full((2, 2), 0.5)
    assert W.grad.dtype == np.float64 and W.grad.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    W.grad = [[1, 2], [3, 4]]  # numbers of any real dtype become float64
    assert W.grad.dtype == np.float64 and W.grad.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    W.grad = None  # as PyTorch: "no gradient yet"; the optimisers read it as zero
    assert W.grad is None
    W.grad = np.array([[np.inf, 0.0], [0.0, np.nan]])  # an exploding gradient is still a gradient
    s = Tensor(2.0)
    s.grad = 3.0
    assert s.grad.shape == () and float(s.grad) == 3.0


def test_grad_setter_keeps_the_float64_array_itself():
    W = Tensor(np.ones(3))
    g = np.zeros(3)
    W.grad = g
    assert W.grad is g  # no copy: assigning a gradient is as cheap as before


def test_copy_grad_is_checked_too():
    W = Tensor(np.ones((2, 3)), label="W")
    W_1 = W.identity()
    with pytest.raises(ValueError, match="different size"):
        W_1.grad = np.zeros(6)


def test_value_grad_must_be_a_number():
    a = mr.Value(1.0, label="a")
    with pytest.raises(TypeError, match=r"a\.grad must be a real number"):
        a.grad = "x"
    a.grad = 2  # numbers are fine
    assert a.grad == 2.0


def test_backward_still_fills_grads_after_the_setter():
    W = Tensor(np.ones((3, 3)), label="W")
    x = Tensor(np.arange(3.0))
    (W @ x).sum().backward()
    assert W.grad.tolist() == [[0.0, 1.0, 2.0]] * 3


# -- 1. models and optimisers pickle and deep-copy ----------------------------------------------------------
MODELS = {
    **{f"RNN-{f}": (lambda f=f: mr.nn.RNN(2, 3, 2, activation=f, seed=1)) for f in mr.functional.ACTIVATIONS},
    "RNN-jordan": lambda: mr.nn.RNN(2, 3, 2, feedback="output", truncate=2, seed=1),
    "Elman": lambda: mr.nn.Elman(2, 3, 2, seed=1),
    "Jordan": lambda: mr.nn.Jordan(2, 3, 2, activation="relu", seed=1),
    "LSTM": lambda: mr.nn.LSTM(2, 3, 2, seed=1),
    "GRU": lambda: mr.nn.GRU(2, 3, 2, seed=1),
}
XS = np.array([[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75]])


def _pickled(obj):
    import pickle

    return pickle.loads(pickle.dumps(obj))


def _deepcopied(obj):
    import copy

    return copy.deepcopy(obj)


def _loss_and_grads(model):
    model.zero_grad()
    u = mr.unroll.many_to_one(model, XS, np.array([0.1, -0.2]))
    u.backward()
    return u.loss.item(), [p.grad.copy() for p in model.parameters()]


@pytest.mark.parametrize("round_trip", [_pickled, _deepcopied])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_round_trip(name, round_trip):
    model = MODELS[name]()
    twin = round_trip(model)
    assert repr(twin) == repr(model)
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in model.named_parameters()]
    for (_, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
        assert np.array_equal(p.data, q.data) and p.data is not q.data
    loss, grads = _loss_and_grads(model)
    twin_loss, twin_grads = _loss_and_grads(twin)
    assert twin_loss == loss
    assert all(np.array_equal(g, h) for g, h in zip(grads, twin_grads))


def _state(opt) -> dict:
    return {k: v for k, v in vars(opt).items() if k != "params"}


def _equal(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


OPTIMIZERS = {name: cls for name, cls in vars(mr.optim).items()
              if isinstance(cls, type) and issubclass(cls, mr.optim.Optimizer) and cls is not mr.optim.Optimizer}


def test_every_optimizer_is_covered():
    assert {"SGD", "Adagrad", "Adam"} <= set(OPTIMIZERS)


@pytest.mark.parametrize("round_trip", [_pickled, _deepcopied])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_round_trip_with_their_model(name, round_trip):
    model = mr.nn.RNN(2, 3, 2, seed=1)
    opt = OPTIMIZERS[name](model.parameters(), lr=0.1)
    for _ in range(2):  # state worth keeping: momenta, sums of squares, Adam's step count
        _loss_and_grads(model)
        opt.step()
    model2, opt2 = round_trip((model, opt))
    assert _equal(_state(opt2), _state(opt))
    assert all(p is q for p, q in zip(opt2.params, model2.parameters())), "the optimiser steps the copied model"
    for m, o in ((model, opt), (model2, opt2)):  # the next step is the same on both
        _loss_and_grads(m)
        o.step()
    assert all(np.array_equal(p.data, q.data) for p, q in zip(model.parameters(), model2.parameters()))
    assert _equal(_state(opt2), _state(opt))


# -- 5. gradcheck names the inputs whose gradient is zero ---------------------------------------------------
def test_gradcheck_reports_an_ignored_input():
    from micrornn.gradcheck import directional_gradcheck, gradcheck

    a, b = Tensor([0.5, -1.0], label="a"), Tensor([2.0, 3.0], label="b")
    c = Tensor([1.0])  # no label: named by its position
    for check in (gradcheck, directional_gradcheck):
        report = check(lambda a, b, c: (a * a).sum(), [a, b, c])  # wired wrong: b and c are ignored
        assert report, "a zero gradient can be right, so the check still passes"
        assert report.zero_grad == ("b", "input 2")
        assert "b, input 2" in str(report) and "all-zero gradient" in repr(report)


def test_gradcheck_report_without_zero_gradients_says_nothing_about_them():
    from micrornn.gradcheck import gradcheck

    report = gradcheck(lambda a: (a * a).tanh(), [mr.Value(0.3)])
    assert report.zero_grad == () and "zero" not in repr(report)


# -- 3. every boolean flag refuses what is not a bool --------------------------------------------------------
def _flag_cases() -> dict:
    from micrornn import optim, plots, testing, tour, unroll, viz

    nn = mr.nn
    xs, y = np.ones((3, 2)), np.zeros(2)
    rnn = nn.RNN(2, 3, 2)

    def u():
        return unroll.many_to_one(rnn, xs, y)

    return {
        ("RNN", "bidirectional"): lambda v: nn.RNN(2, 3, 2, bidirectional=v),
        ("RNN", "token_ids"): lambda v: nn.RNN(2, 3, 2, token_ids=v),
        ("Elman", "token_ids"): lambda v: nn.Elman(2, 3, 2, token_ids=v),
        ("Jordan", "token_ids"): lambda v: nn.Jordan(2, 3, 2, token_ids=v),
        ("LSTM", "bidirectional"): lambda v: nn.LSTM(2, 3, 2, bidirectional=v),
        ("GRU", "token_ids"): lambda v: nn.GRU(2, 3, 2, token_ids=v),
        ("one_to_one", "scalar"): lambda v: unroll.one_to_one(rnn, np.ones(2), y, scalar=v),
        ("many_to_one", "scalar"): lambda v: unroll.many_to_one(rnn, xs, y, scalar=v),
        ("many_to_many", "scalar"): lambda v: unroll.many_to_many(rnn, xs, np.zeros((3, 2)), scalar=v),
        ("one_to_many", "scalar"): lambda v: unroll.one_to_many(rnn, np.ones(2), np.zeros((3, 2)), scalar=v),
        ("seq2seq", "scalar"): lambda v: unroll.seq2seq(rnn, nn.RNN(2, 3, 2), xs, np.zeros((2, 2)), scalar=v),
        ("seq2seq", "teacher_forcing"): lambda v: unroll.seq2seq(rnn, nn.RNN(2, 3, 2), xs, np.zeros((2, 2)),
                                                                 teacher_forcing=v),
        ("memory_estimate", "scalar"): lambda v: unroll.memory_estimate(rnn, 10, scalar=v),
        ("check_memory", "scalar"): lambda v: unroll.check_memory(rnn, 10, None, v),
        ("Tensor.sum", "keepdims"): lambda v: Tensor(np.ones((2, 2))).sum(axis=0, keepdims=v),
        ("Tensor.mean", "keepdims"): lambda v: Tensor(np.ones((2, 2))).mean(axis=0, keepdims=v),
        ("clip_grad_norm_", "error_if_nonfinite"): lambda v: optim.clip_grad_norm_(rnn.parameters(), 1.0,
                                                                                   error_if_nonfinite=v),
        ("draw", "grads"): lambda v: viz.draw(u(), grads=v),
        ("draw", "heat"): lambda v: viz.draw(u(), heat=v),
        ("backward_frames", "grads"): lambda v: viz.backward_frames(u(), grads=v),
        ("forward_frames", "heat"): lambda v: viz.forward_frames(u(), heat=v),
        ("training_curves", "log"): lambda v: plots.training_curves({"loss": [1.0, 0.5]}, log=v),
        ("execute", "quick"): lambda v: tour.execute(Path("no_such_demo.py"), Path("out/none"), quick=v),
        ("run_demo", "quick"): lambda v: tour.run_demo("no_such_demo", quick=v),
        ("run_tour", "quick"): lambda v: tour.run_tour(Path("out/none"), quick=v, jobs=0),
        ("run_tour", "step"): lambda v: tour.run_tour(Path("out/none"), step=v, jobs=0),
        ("check_cell", "shrink"): lambda v: testing.check_cell(nn.GRU, examples=1, shrink=v),
        ("cell_problems", "allow_ids"): lambda v: testing.cell_problems(nn.GRU, allow_ids=v),
        ("cell_problems", "bidirectional[1]"): lambda v: testing.cell_problems(nn.GRU, bidirectional=(False, v)),
    }


FLAG_CASES = sorted(_flag_cases())


@pytest.mark.parametrize("bad", ["yes", 1, "False", None])
@pytest.mark.parametrize("case", FLAG_CASES, ids="-".join)
def test_flags_refuse_non_bools(case, bad):
    where, name = case
    call = _flag_cases()[case]
    with pytest.raises(TypeError, match=re.escape(f"{name} must be True or False, got {bad!r}")):
        call(bad)


def test_numpy_bools_are_flags_too():
    assert mr.nn.RNN(2, 3, 2, bidirectional=np.True_).bidirectional is True
    u = mr.unroll.many_to_one(mr.nn.RNN(2, 3, 2), np.ones((3, 2)), np.zeros(2), scalar=np.False_)
    assert u.scalar is False
    assert Tensor(np.ones((2, 2))).sum(axis=0, keepdims=np.True_).shape == (1, 2)


def test_cell_problems_wants_a_sequence_of_directions():
    with pytest.raises(TypeError, match=r"cell_problems: bidirectional must be a sequence .*got True"):
        mr.testing.cell_problems(mr.nn.GRU, bidirectional=True)


@pytest.mark.parametrize("bad", ["yes", 1])
def test_torch_flags_refuse_non_bools(bad):
    torch = pytest.importorskip("torch")
    from micrornn import interop

    with pytest.raises(TypeError, match=re.escape(f"from_torch: token_ids must be True or False, got {bad!r}")):
        interop.from_torch(torch.nn.RNN(2, 3), torch.nn.Linear(3, 2), token_ids=bad)
    with pytest.raises(TypeError, match=re.escape(f"TorchModel: token_ids must be True or False, got {bad!r}")):
        interop.TorchModel(torch.nn.RNN(2, 3), torch.nn.Linear(3, 2), token_ids=bad)


# -- 4. invisible format characters never reach a picture ----------------------------------------------------
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
HIDDEN = "\u200b\u200d\ufeff\u00ad"  # zero-width space and joiner, BOM, soft hyphen: category Cf too


def _format_chars(text: str) -> set[str]:
    import unicodedata

    return {f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cf"}


def test_labels_and_titles_show_format_characters_as_escapes():
    from micrornn import viz

    a = mr.Value(2.0, label="a\u202eb")
    y = (a * mr.Value(3.0, label="c" + BIDI + HIDDEN)).tanh()
    y.label = "y\u2066"
    y.backward()
    g = viz.draw(y, title="grads\u200f of " + BIDI)
    svg = viz.to_svg(g)
    assert not _format_chars(g.source) and not _format_chars(svg)
    assert "a\\\\u202eb" in g.source  # visible: dot's source doubles the backslash, the picture shows \u202e
    assert "a\\u202eb" in svg


def test_unrolled_pictures_tokens_captions_and_stepper_pages_have_no_format_characters(tmp_path):
    from micrornn import viz

    rnn = mr.nn.RNN(3, 2, 3, token_ids=True)
    rnn.W_h.label = "W\u202e^H"
    u = mr.unroll.many_to_many(rnn, [0, 1, 2], [1, 2, 0])
    u.backward()
    tokens = ["\u202ea", "b\u200b", "c\u2067"]
    g = viz.draw(u, tokens=tokens, title="\u202etitle")
    assert not _format_chars(g.source) and not _format_chars(viz.to_svg(g))
    frames = viz.backward_frames(u, tokens=tokens, title="\u2066frames")
    assert not any(_format_chars(caption) for _, caption in frames)
    page = viz.save_stepper(frames, tmp_path / "steps.html", title="\u202estepper").read_text(encoding="utf-8")
    assert not _format_chars(page)
