"""The bridge to PyTorch — issue [G] 6: to_torch / from_torch give the same net, outputs and gradients."""

import copy
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.lesson_torch]  # this file's lessons: pytest -m lesson_torch

torch = pytest.importorskip("torch", reason="torch is an optional extra (pip install micrornn[torch]); "
                                            "the interop tests need it")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import micrornn as mr  # noqa: E402
from micrornn import interop  # noqa: E402
from micrornn import unroll as U  # noqa: E402
from micrornn.nn import GRU, LSTM, RNN, Cell, Elman, Jordan  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-12)
KINDS = {"rnn_tanh": (RNN, dict(activation="tanh")), "rnn_relu": (RNN, dict(activation="relu")),
         "lstm": (LSTM, {}), "gru": (GRU, {})}


def _close(ours, theirs, what):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.shape == theirs.shape, what
    assert np.allclose(ours, theirs, **TOL), f"{what}: max |diff| {np.abs(ours - theirs).max()}"


@st.composite
def nets(draw, kinds=tuple(KINDS)):
    """A micrornn net, a problem for it (topology, inputs, targets, maybe h0) — small shapes, any seed."""
    cls, extra = KINDS[draw(st.sampled_from(kinds))]
    I, H, O = (draw(st.integers(1, 3)) for _ in range(3))
    model = cls(I, H, O, num_layers=draw(st.integers(1, 2)), bidirectional=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)), **extra)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    T, batch = draw(st.integers(1, 5)), draw(st.sampled_from([None, 1, 3]))
    bshape = () if batch is None else (batch,)
    xs = rng.normal(size=(T, *bshape, I))
    classes = draw(st.booleans())
    ys = rng.integers(0, O, size=(T, *bshape)) if classes else rng.normal(size=(T, *bshape, O))
    h0 = None
    if draw(st.booleans()):  # PyTorch's (layers·directions, [batch,] H), one per state
        h0 = tuple(rng.normal(size=(model.num_layers * model.directions, *bshape, H)) for _ in model.state_names)
        h0 = h0 if cls is LSTM else h0[0]
    return model, draw(st.sampled_from(["many_to_many", "many_to_one"])), xs, ys, h0


def _torch_loss(O, ys, topology):
    """micrornn's loss in torch: per step cross-entropy (mean over the batch) or MSE (mean), summed over steps."""
    steps = range(len(ys)) if topology == "many_to_many" else [len(ys) - 1]
    ys = torch.from_numpy(ys)
    one = torch.nn.functional.cross_entropy if not ys.is_floating_point() else torch.nn.functional.mse_loss
    return sum(one(O[t], ys[t]) for t in steps)


def _run_both(model, topology, xs, ys, h0):
    """Unroll micrornn, run ``to_torch(model)`` on the same data; backward both. Returns (u, torch model, O)."""
    theirs = interop.to_torch(model)
    if topology == "many_to_many":
        u = U.many_to_many(model, xs, ys, h0=h0)
    else:
        u = U.many_to_one(model, xs, ys[-1], h0=h0)
    u.backward()
    hx = None if h0 is None else (tuple(map(torch.from_numpy, h0)) if isinstance(h0, tuple) else torch.from_numpy(h0))
    O, _ = theirs(torch.from_numpy(xs), hx)
    loss = _torch_loss(O, ys, topology)
    loss.backward()
    assert u.loss.item() == pytest.approx(loss.item(), rel=1e-10, abs=1e-12)
    return u, theirs, O


def _check_grads(model, theirs):
    """Every micrornn parameter's gradient equals its torch twin's, found by name."""
    params = dict(theirs.named_parameters())
    for ours, name in interop.torch_names(model).items():
        _close(getattr(model, ours).grad, params[name].grad, f"grad of {ours} / {name}")
    if isinstance(model, RNN):  # bias_hh has no twin: b enters once, so its gradient is b's
        ours = {theirs: name for name, theirs in interop.torch_names(model).items()}
        for name, p in params.items():
            if "bias_hh" in name:
                _close(getattr(model, ours[name.replace("bias_hh", "bias_ih")]).grad, p.grad, name)
                assert not p.detach().any(), f"{name} must stay 0"


# -- micrornn → torch: the same outputs and gradients --------------------------------------------------------
@settings(max_examples=60)
@given(nets())
def test_g6_to_torch_gives_equal_outputs_and_gradients(problem):
    model, topology, xs, ys, h0 = problem
    u, theirs, O = _run_both(model, topology, xs, ys, h0)
    for t, o in zip(u.steps["O"], u.O):
        _close(o.data, O[t - 1], f"O_{t}")
    _check_grads(model, theirs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, False), (1, True), (2, True)])
@pytest.mark.parametrize("batch", [None, 2])
@pytest.mark.parametrize("topology", ["many_to_many", "many_to_one"])
def test_g6_every_cell_layout_and_loss_matches_pytorch(kind, num_layers, bidirectional, batch, topology):
    """The grid the issue names, one fixed example each (the property above draws the rest)."""
    cls, extra = KINDS[kind]
    model = cls(3, 4, 3, num_layers=num_layers, bidirectional=bidirectional, seed=5, **extra)
    rng = np.random.default_rng(1)
    bshape = () if batch is None else (batch,)
    xs, ys = rng.normal(size=(6, *bshape, 3)), rng.integers(0, 3, size=(6, *bshape))
    u, theirs, O = _run_both(model, topology, xs, ys, None)
    _close(U.data_of(u.O[-1]), O[-1], "O_T")
    _check_grads(model, theirs)
    assert any(np.abs(p.grad).max() > 1e-3 for p in model.parameters())  # the comparison is not of zeros


def test_g6_token_id_models_read_one_hot_ids_in_torch():
    model = GRU(5, 4, 5, num_layers=2, token_ids=True, seed=3)
    ids = np.array([[1, 4], [0, 2], [3, 3], [2, 0]])  # (T, B)
    u = U.many_to_many(model, ids, np.roll(ids, -1, axis=0))
    u.backward()
    theirs = interop.to_torch(model)
    O, _ = theirs(torch.from_numpy(ids))
    _torch_loss(O, np.roll(ids, -1, axis=0), "many_to_many").backward()
    for t, o in enumerate(u.O):
        _close(o.data, O[t], f"O_{t + 1}")
    _check_grads(model, theirs)
    assert "token_ids=True" in repr(theirs)


# -- torch → micrornn ----------------------------------------------------------------------------------------
@st.composite
def torch_nets(draw):
    """A torch module + head with torch's own init: any dtype, bias, batch_first the bridge accepts."""
    kind = draw(st.sampled_from(["RNN_tanh", "RNN_relu", "LSTM", "GRU"]))
    I, H, O = (draw(st.integers(1, 3)) for _ in range(3))
    L, bidirectional = draw(st.integers(1, 2)), draw(st.booleans())
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    options = dict(num_layers=L, bidirectional=bidirectional, bias=draw(st.booleans()),
                   batch_first=draw(st.booleans()), dtype=dtype)
    name, _, nonlinearity = kind.partition("_")
    if nonlinearity:
        options["nonlinearity"] = nonlinearity
    torch.manual_seed(draw(st.integers(0, 2**16)))
    module = getattr(torch.nn, name)(I, H, **options)
    head = torch.nn.Linear(H * (2 if bidirectional else 1), O, bias=draw(st.booleans()), dtype=dtype)
    if name == "RNN" and module.bias:
        with torch.no_grad():  # torch's init makes bias_hh ≠ 0: from_torch must add it into b
            for n, p in module.named_parameters():
                if "bias_hh" in n:
                    p.normal_()
    return module, head, draw(st.integers(0, 2**16))


@settings(max_examples=40)
@given(torch_nets())
def test_g6_from_torch_gives_the_outputs_and_gradients_of_the_module(net):
    module, head, seed = net
    model = interop.from_torch(module, head)
    assert all(p.data.dtype == np.float64 for p in model.parameters())
    module, head = copy.deepcopy(module).double(), copy.deepcopy(head).double()  # the same values, float64
    rng = np.random.default_rng(seed)
    xs, ys = rng.normal(size=(4, 2, module.input_size)), rng.normal(size=(4, 2, head.out_features))
    u = U.many_to_many(model, xs, ys)
    u.backward()
    x = torch.from_numpy(xs.transpose(1, 0, 2) if module.batch_first else xs)
    out, _ = module(x)
    O = head(out.transpose(0, 1) if module.batch_first else out)
    _torch_loss(O, ys, "many_to_many").backward()
    for t, o in enumerate(u.O):
        _close(o.data, O[t], f"O_{t + 1}")
    theirs = dict(module.named_parameters(prefix="rnn"))
    theirs.update(head.named_parameters(prefix="head"))
    for ours, name in interop.torch_names(model).items():
        if name in theirs:  # bias=False: the zero biases micrornn holds have no twin
            _close(getattr(model, ours).grad, theirs[name].grad, f"grad of {ours} / {name}")
        else:
            assert not getattr(model, ours).data.any(), f"{ours} must be 0 for bias=False"


# -- round trips ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("token_ids", [False, True])
def test_g6_from_torch_of_to_torch_is_the_same_model_bit_for_bit(kind, token_ids):
    cls, extra = KINDS[kind]
    model = cls(3, 4, 2, num_layers=2, bidirectional=True, token_ids=token_ids, seed=11, **extra)
    back = interop.from_torch(interop.to_torch(model))
    assert repr(back) == repr(model).replace("seed=11", "seed=0")  # the seed only drew weights, now overwritten
    assert back.state_dict().keys() == model.state_dict().keys()
    for name, a in model.state_dict().items():
        assert np.array_equal(back.state_dict()[name], a), name


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_g6_to_torch_of_from_torch_keeps_every_weight(name, dtype):
    torch.manual_seed(0)
    module = getattr(torch.nn, name)(3, 4, num_layers=2, bidirectional=True, dtype=dtype)
    head = torch.nn.Linear(8, 2, dtype=dtype)
    again = interop.to_torch(interop.from_torch(module, head))
    before = {**{f"rnn.{n}": p for n, p in module.named_parameters()}, "head.weight": head.weight,
              "head.bias": head.bias}
    after = dict(again.named_parameters())
    assert before.keys() == after.keys()
    for n, p in after.items():
        assert p.dtype == torch.float64, n  # micrornn is float64; a float32 value converts exactly
        if name == "RNN" and "bias" in n and "rnn." in n:  # only bias_ih + bias_hh enters the net
            continue
        assert torch.equal(p, before[n].double()), n
    if name == "RNN":
        for n, p in after.items():
            if "bias_ih" in n:
                hh = n.replace("bias_ih", "bias_hh")
                assert torch.equal(p, before[n].double() + before[hh].double()), n
                assert not after[hh].any(), hh


def test_g6_weights_are_copies_not_shared():
    model = LSTM(2, 3, 1, seed=0)
    W_x, W_h = model.W_x.data.copy(), model.W_h.data.copy()
    theirs = interop.to_torch(model)
    with torch.no_grad():
        theirs.rnn.weight_ih_l0.add_(1.0)
    model.W_h.data += 1.0
    assert np.array_equal(model.W_x.data, W_x)
    assert np.array_equal(theirs.rnn.weight_hh_l0.detach().numpy(), W_h)


def test_g6_train_in_torch_and_bring_the_weights_back():
    """The way out and back: three SGD steps in torch land on the weights three micrornn SGD steps give."""
    model = LSTM(2, 3, 2, seed=4)
    theirs = interop.to_torch(model)
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(5, 4, 2)), rng.integers(0, 2, size=(5, 4))
    ours_opt, their_opt = mr.optim.SGD(model.parameters(), lr=0.5), torch.optim.SGD(theirs.parameters(), lr=0.5)
    for _ in range(3):
        ours_opt.zero_grad(), their_opt.zero_grad()
        U.many_to_many(model, xs, ys).backward()
        ours_opt.step()
        _torch_loss(theirs(torch.from_numpy(xs))[0], ys, "many_to_many").backward()
        their_opt.step()
    back = interop.from_torch(theirs)
    for name, a in model.state_dict().items():
        _close(back.state_dict()[name], a, name)
    assert not np.allclose(model.W_x.data, LSTM(2, 3, 2, seed=4).W_x.data)  # training moved the weights


def test_g6_torch_model_is_a_module_with_rnn_and_head_and_pickles():
    theirs = interop.to_torch(RNN(2, 3, 1, activation="relu", num_layers=2))
    assert isinstance(theirs, interop.TorchModel) and isinstance(theirs, torch.nn.Module)
    assert isinstance(theirs.rnn, torch.nn.RNN) and theirs.rnn.nonlinearity == "relu"
    assert not theirs.rnn.batch_first and theirs.rnn.num_layers == 2 and isinstance(theirs.head, torch.nn.Linear)
    assert {n for n, _ in theirs.named_parameters()} >= {"rnn.weight_ih_l1", "rnn.bias_hh_l0", "head.weight"}
    buf = io.BytesIO()
    torch.save(theirs, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    x = torch.ones(3, 2, dtype=torch.float64)
    assert type(loaded) is interop.TorchModel and torch.equal(loaded(x)[0], theirs(x)[0])


def test_g6_to_torch_leaves_the_torch_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    interop.to_torch(GRU(2, 3, 1))
    assert torch.equal(torch.rand(3), expected)


# -- what has no equivalent: clear errors ---------------------------------------------------------------------
class _Minimal(Cell):
    def weights(self, I, H):
        return {"W_x": (H, I), "b": (H,)}

    def step(self, be, p, h, x):
        return be.tanh(be.affine(p.W_x, x, p.b))


@pytest.mark.parametrize("model, error, match", [
    (RNN(2, 3, 1, feedback="output"), ValueError, "Jordan.*feeds back H_"),
    (Jordan(2, 3, 1), ValueError, "Jordan"),
    (RNN(2, 3, 1, activation="sigmoid"), ValueError, "'tanh' or 'relu' only.*'sigmoid'"),
    (RNN(2, 3, 1, activation="identity"), ValueError, "'identity' has no equivalent"),
    (RNN(2, 3, 1, truncate=2), ValueError, "truncate=2 cuts the graph.*h_n.detach"),
    (LSTM(2, 3, 1, truncate=3), ValueError, "truncate=3"),
    (Elman(2, 3, 1), ValueError, "truncate=1"),
    (_Minimal(2, 3, 1), TypeError, "_Minimal defines its own step"),
    (mr.nn.Linear(2, 3), TypeError, "expected a micrornn.nn RNN, LSTM or GRU, got Linear"),
])
def test_g6_to_torch_refuses_what_torch_cannot_compute(model, error, match):
    with pytest.raises(error, match=match):
        interop.to_torch(model)
    with pytest.raises(error, match=match):
        interop.torch_names(model)


def test_g6_from_torch_refuses_what_micrornn_cannot_compute():
    head = torch.nn.Linear(4, 2)
    with pytest.raises(ValueError, match="proj_size=2 .*no projection"):
        interop.from_torch(torch.nn.LSTM(3, 4, proj_size=2), torch.nn.Linear(2, 2))
    dropped = torch.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    with pytest.raises(ValueError, match=r"dropout=0.5 .*module.eval\(\)"):
        interop.from_torch(dropped, head)
    assert interop.from_torch(dropped.eval(), head).num_layers == 2  # eval mode: no dropout, the same net
    with pytest.raises(TypeError, match="head must be the torch.nn.Linear"):
        interop.from_torch(torch.nn.GRU(3, 4))
    with pytest.raises(ValueError, match="head.in_features is 4.*= 8 wide"):
        interop.from_torch(torch.nn.GRU(3, 4, bidirectional=True), head)

    class MyLSTM(torch.nn.LSTM):
        pass

    with pytest.raises(TypeError, match="got MyLSTM; a subclass"):
        interop.from_torch(MyLSTM(3, 4), head)
    with pytest.raises(TypeError, match="expected a torch.nn.RNN, LSTM or GRU"):
        interop.from_torch(torch.nn.Linear(3, 4), head)
    with pytest.raises(ValueError, match="brings its own head"):
        interop.from_torch(interop.to_torch(GRU(3, 4, 2)), head)
    bad = torch.nn.GRU(3, 4)
    with torch.no_grad():
        bad.weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(ValueError, match="W_h"):
        interop.from_torch(bad, head)


def test_g6_from_torch_accepts_batch_first_and_no_bias():
    module = torch.nn.LSTM(3, 4, batch_first=True, bias=False)
    model = interop.from_torch(module, torch.nn.Linear(4, 2, bias=False))
    assert not model.b_x.data.any() and not model.b_h.data.any() and not model.b_o.data.any()
    assert np.array_equal(model.W_x.data, module.weight_ih_l0.detach().double().numpy())
    assert interop.to_torch(model).rnn.batch_first is False  # micrornn's layout: (T, [B,] I)


# -- torch stays optional -----------------------------------------------------------------------------------
def test_g6_without_torch_the_error_names_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install micrornn\[torch\]"):
        interop.to_torch(GRU(2, 3, 1))
    with pytest.raises(ImportError, match=r"pip install micrornn\[torch\]"):
        interop.from_torch(object(), object())


def test_g6_importing_micrornn_and_interop_does_not_import_torch():
    code = "import sys, micrornn, micrornn.interop; print('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[2]  # this clone's micrornn, not an installed one
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False", out.stderr
