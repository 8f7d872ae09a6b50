"""Issue [E] items 3, 5 (optimisers and clipping on every input), 10, 11 (save and load of checkpoints)."""

import math

import numpy as np
import pytest

import micrornn as mr
from micrornn import optim


def tensor_with_grad(grad) -> mr.Tensor:
    g = np.asarray(grad, dtype=float)
    w = mr.Tensor(np.zeros(g.shape))
    w.grad = g.copy()
    return w


# -- E3: params is a Tensor or an iterable of distinct Tensors ------------------------------------------
def test_e3_clip_accepts_a_single_tensor():
    w = tensor_with_grad([3.0, 4.0])
    assert optim.grad_norm(w) == 5.0
    assert optim.clip_grad_norm_(w, 1.0) == 5.0  # not 0.0 from iterating its rows
    assert np.allclose(w.grad, [0.6, 0.8])
    w.grad = np.array([3.0, -0.5])
    optim.clip_grad_value_(w, 1.0)
    assert np.array_equal(w.grad, [1.0, -0.5])


def test_e3_optimisers_refuse_a_single_tensor_as_torch_optim_does():
    for opt in (optim.SGD, optim.Adagrad, optim.Adam):
        w = tensor_with_grad([[1.0, 2.0], [3.0, 4.0]])
        with pytest.raises(TypeError, match=rf"{opt.__name__}: params must be an iterable of Tensors, got a single"):
            opt(w, lr=0.1)
        opt([w], lr=0.1).step()  # the list form updates the weight
        assert (w.data != 0).all()


def test_e3_params_must_be_distinct_tensors():
    w, v = tensor_with_grad([3.0, 4.0]), tensor_with_grad([1.0])
    for call in (lambda p: optim.SGD(p, lr=0.1), lambda p: optim.clip_grad_norm_(p, 1.0),
                 lambda p: optim.clip_grad_value_(p, 1.0)):
        with pytest.raises(ValueError, match="parameter 2 is parameter 0 again"):
            call([w, v, w])
        with pytest.raises(TypeError, match="parameter 1 is a ndarray, expected a Tensor"):
            call([w, np.zeros(2)])
        with pytest.raises(TypeError, match="params must be a Tensor or an iterable of Tensors, got NoneType"):
            call(None)
    assert np.array_equal(w.grad, [3.0, 4.0])  # nothing was clipped twice
    with pytest.raises(ValueError, match="Adam: got an empty parameter list"):
        optim.Adam([])
    assert optim.clip_grad_norm_([], 1.0) == 0.0  # as torch: nothing to clip
    assert optim.SGD(iter([w]), lr=0.1).params == [w]  # any iterable, read once


def test_e3_clipping_skips_parameters_without_a_gradient():
    w, none = tensor_with_grad([3.0, 4.0]), mr.Tensor([1.0, 1.0])
    none.grad = None
    assert optim.clip_grad_norm_([none, w], 1.0) == 5.0
    optim.clip_grad_value_([none, w], 0.1)
    assert none.grad is None  # as torch: skipped, no zero gradient made up


# -- E5: the total norm without overflow, NaN/inf as PyTorch, ranges checked ------------------------------
def test_e5_clip_norm_of_huge_and_tiny_finite_gradients():
    for scale in (1e200, 1e300):
        a, b = tensor_with_grad([3 * scale, 0.0]), tensor_with_grad([[4 * scale]])
        assert optim.clip_grad_norm_([a, b], 1.0) == pytest.approx(5 * scale, rel=1e-12)  # not inf
        assert np.allclose(a.grad, [0.6, 0.0]) and np.allclose(b.grad, [[0.8]])  # not zeroed
    assert optim.grad_norm(tensor_with_grad([3e-200, 4e-200])) == pytest.approx(5e-200, rel=1e-12)  # not 0
    w = tensor_with_grad([1e200, -1e200])
    assert optim.grad_norm(w, norm_type=3) == pytest.approx(2 ** (1 / 3) * 1e200, rel=1e-12)
    assert optim.grad_norm(w, norm_type=math.inf) == 1e200


def test_e5_nonfinite_gradients_follow_pytorch():
    a, b = tensor_with_grad([np.nan, 1.0]), tensor_with_grad([1.0, 2.0])
    assert math.isnan(optim.clip_grad_norm_([a, b], 1.0))
    assert np.isnan(a.grad).all() and np.isnan(b.grad).all()  # torch scales by clamp(nan, max=1) = nan
    a, b = tensor_with_grad([np.inf, 1.0]), tensor_with_grad([1.0, 2.0])
    assert optim.clip_grad_norm_([a, b], 1.0) == math.inf
    assert np.isnan(a.grad[0]) and a.grad[1] == 0 and not b.grad.any()  # inf · 0 is nan, the rest 0
    for bad in ([np.nan, 1.0], [-np.inf, 1.0]):
        w = tensor_with_grad(bad)
        with pytest.raises(RuntimeError, match="norm of the gradients is (nan|inf)"):
            optim.clip_grad_norm_(w, 1.0, error_if_nonfinite=True)
        assert np.array_equal(w.grad, bad, equal_nan=True)  # unchanged when it raises


def test_e5_total_norm_and_clipping_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for norm_type in (0.5, 1.0, 2.0, 3.0, math.inf):
        grads = [rng.normal(size=s) * 7 for s in ((3, 2), (4,))]
        ours = [tensor_with_grad(g) for g in grads]
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g)
        total = optim.clip_grad_norm_(ours, 1.5, norm_type=norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type=norm_type)
        assert total == pytest.approx(float(expected), rel=1e-12)
        for w, t in zip(ours, theirs):
            assert np.allclose(w.grad, t.grad.numpy(), rtol=1e-12, atol=0)


def test_e5_clip_rejects_bad_norm_type_and_max_norm():
    w = tensor_with_grad([3.0, 4.0])
    for norm_type in (0, -1.0, -math.inf, math.nan):
        with pytest.raises(ValueError, match="norm_type must be > 0"):
            optim.clip_grad_norm_(w, 1.0, norm_type=norm_type)
    for norm_type in ("2", None, True):
        with pytest.raises(TypeError, match="norm_type must be a real number"):
            optim.clip_grad_norm_(w, 1.0, norm_type=norm_type)
    for max_norm in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="max_norm must be > 0"):
            optim.clip_grad_norm_(w, max_norm)
    with pytest.raises(TypeError, match="max_norm must be a real number"):
        optim.clip_grad_norm_(w, "1")
    with pytest.raises(ValueError, match="clip_value must be > 0"):
        optim.clip_grad_value_(w, math.nan)
    assert np.array_equal(w.grad, [3.0, 4.0])
    assert optim.clip_grad_norm_(w, math.inf) == 5.0 and np.array_equal(w.grad, [3.0, 4.0])  # measure only


@pytest.mark.parametrize(("opt", "kwargs", "error", "message"), [
    (optim.Adam, dict(betas=(1.0, 0.999)), ValueError, r"betas\[0\] must be in \[0, 1\)"),
    (optim.Adam, dict(betas=(0.9, -0.1)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
    (optim.Adam, dict(betas=(math.nan, 0.9)), ValueError, r"betas\[0\] must be in \[0, 1\)"),
    (optim.Adam, dict(betas=(0.9,)), TypeError, r"betas must be a pair"),
    (optim.Adam, dict(eps=-1e-8), ValueError, "eps must be finite and ≥ 0"),
    (optim.Adam, dict(lr=math.inf), ValueError, "lr must be finite and ≥ 0"),
    (optim.Adagrad, dict(eps=math.nan), ValueError, "eps must be finite and ≥ 0"),
    (optim.Adagrad, dict(lr=-0.1), ValueError, "lr must be finite and ≥ 0"),
    (optim.SGD, dict(lr=math.nan), ValueError, "SGD: lr must be finite and ≥ 0"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), ValueError, "momentum must be finite and ≥ 0"),
    (optim.SGD, dict(lr=0.1, momentum=math.inf), ValueError, "momentum must be finite and ≥ 0"),
    (optim.SGD, dict(lr=True), TypeError, "SGD: lr must be a real number"),
    (optim.SGD, dict(lr="0.1"), TypeError, "SGD: lr must be a real number"),
    (optim.SGD, dict(lr=None), TypeError, "SGD: lr must be a real number"),
    (optim.SGD, dict(lr=0.1, momentum=None), TypeError, "momentum must be a real number"),
])
def test_e5_optimisers_reject_hyperparameters_out_of_range(opt, kwargs, error, message):
    with pytest.raises(error, match=message):
        opt([mr.Tensor([1.0])], **kwargs)


def test_e5_optimiser_ranges_are_pytorchs():
    w = tensor_with_grad([1.0, -2.0])
    optim.SGD([w], lr=0).step()  # lr = 0 is allowed, as in torch.optim
    assert not w.data.any()
    opt = optim.Adam([w], lr=np.float64(0.1), betas=(0.0, 0.0), eps=0)
    opt.step()
    assert np.allclose(w.data, [-0.1, 0.1]) and np.isfinite(w.data).all()
