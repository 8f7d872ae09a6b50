"""Cells on one unroller — the simple RNN, LSTM, GRU and a cell written inside a test — issue [G] 1–4."""

import numpy as np
import pytest
from helpers import MinimalGRU, PeepholeLSTM

import micrornn as mr
from micrornn import testing, viz
from micrornn import unroll as U
from micrornn.backends import _flat
from micrornn.gradcheck import GradcheckError, directional_gradcheck, numerical_grad
from micrornn.nn import GRU, LSTM, RNN, Cell
from micrornn.tensor import VJP

pytestmark = [pytest.mark.lesson_bptt, pytest.mark.lesson_lstm]  # this file's lessons: pytest -m lesson_bptt


CELLS = [RNN, LSTM, GRU, PeepholeLSTM, MinimalGRU]


# -- G2: the user's own cell gets everything with no further work ------------------------------------------
@pytest.mark.parametrize("cls", [PeepholeLSTM, MinimalGRU])
def test_g2_a_cell_written_in_a_test_passes_the_one_call_check(cls):
    testing.check_cell(cls, examples=10)


def test_g2_the_check_fails_for_a_wrong_gradient(monkeypatch):
    right = VJP["sigmoid"]
    monkeypatch.setitem(VJP, "sigmoid", lambda g, out, which: 1.01 * right(g, out, which))
    with pytest.raises((GradcheckError, AssertionError)):
        testing.check_cell(PeepholeLSTM, examples=3, shrink=False, topologies=("many_to_many",))


@pytest.mark.parametrize("topology", testing.TOPOLOGIES)
def test_g2_a_user_cell_runs_every_topology_with_copies_and_a_picture(topology):
    cell = PeepholeLSTM(2, 3, 2, seed=0)
    xs, ys = np.ones((3, 2)), np.zeros((3, 2))
    kwargs = {"one_to_one": dict(x=xs[0], y=ys[0]), "many_to_one": dict(xs=xs, y=ys[0]),
              "many_to_many": dict(xs=xs, ys=ys), "one_to_many": dict(x=xs[0], ys=ys)}[topology]
    u = getattr(U, topology)(cell, **kwargs)
    u.backward()
    assert np.allclose(sum(u.copy_grads("w_c")), cell.w_c.grad)
    assert u.H[0].label == "H_0" and u.C[0].label == "C_0"  # no h0: zeros, as the cell asked
    src = viz.draw(u).source  # the parameter w_c (shape (9,)) is drawn once, with its sum over the copies
    assert "(9,)" in src and "∂L/∂w" in src


# -- G1: one step, used everywhere; PyTorch's numerics --------------------------------------------------------
def _torch_twin(torch, cell):
    """torch.nn.LSTM/GRU with this cell's weights (PyTorch names: weight_ih_l1_reverse …)."""
    module = {LSTM: torch.nn.LSTM, GRU: torch.nn.GRU}[type(cell)](
        cell.input_size, cell.hidden_size, num_layers=cell.num_layers, bidirectional=cell.bidirectional,
        dtype=torch.float64)
    pairs = {}
    for layer in range(cell.num_layers):
        for direction in range(cell.directions):
            ours = mr.nn.layer_suffix(layer, direction)
            theirs = f"_l{layer}" + ("_reverse" if direction else "")
            for a, b in (("W_x", "weight_ih"), ("W_h", "weight_hh"), ("b_x", "bias_ih"), ("b_h", "bias_hh")):
                pairs[a + ours] = getattr(module, b + theirs)
    with torch.no_grad():
        for name, tp in pairs.items():
            tp.copy_(torch.tensor(getattr(cell, name).data))
    return module, pairs


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, False), (1, True), (2, True)])
@pytest.mark.parametrize("with_h0", [False, True])
def test_g1_lstm_and_gru_match_pytorch_outputs_and_gradients(cls, num_layers, bidirectional, with_h0):
    torch = pytest.importorskip("torch", reason="torch is an optional extra (pip install micrornn[torch])")
    cell = cls(3, 4, 2, num_layers=num_layers, bidirectional=bidirectional, seed=7)
    module, pairs = _torch_twin(torch, cell)
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 2, 2))
    h0 = None
    if with_h0:
        shape = (num_layers * cell.directions, 2, 4)
        h0 = tuple(rng.normal(size=shape) for _ in cell.state_names)
        h0 = h0 if cls is LSTM else h0[0]
    u = U.many_to_many(cell, xs, ys, h0=h0)
    u.backward()
    t_h0 = None if h0 is None else (tuple(map(torch.tensor, h0)) if cls is LSTM else torch.tensor(h0))
    out, _ = module(torch.tensor(xs), t_h0)
    W_o, b_o = (torch.tensor(p.data, requires_grad=True) for p in (cell.W_o, cell.b_o))
    loss = sum(((out[t] @ W_o.T + b_o - torch.tensor(ys[t])) ** 2).mean() for t in range(5))
    loss.backward()
    assert u.loss.item() == pytest.approx(loss.item(), rel=1e-12)
    top = [np.concatenate([U.data_of(h) for h in (fwd, rev)], -1) if bidirectional else U.data_of(fwd)
           for fwd, rev in zip(u.states[(num_layers - 1, 0)]["H"][with_h0:],
                               u.states[(num_layers - 1, cell.directions - 1)]["H"][with_h0:])]
    assert np.allclose(np.stack(top), out.detach().numpy(), rtol=1e-10, atol=1e-13)
    for name, tp in pairs.items():
        assert np.allclose(getattr(cell, name).grad, tp.grad.numpy(), rtol=1e-10, atol=1e-13), name
    assert np.allclose(cell.W_o.grad, W_o.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_g1_sample_logits_equal_many_to_many_outputs_for_every_cell(cls, num_layers):
    cell = cls(5, 3, 5, num_layers=num_layers, token_ids=True, seed=2)
    prefix = [1, 4, 0, 2, 3, 3]
    _, logits = U._generate(cell, prefix, 1)
    u = U.many_to_many(cell, np.array(prefix), np.array(prefix[1:] + [0]))
    assert len(logits) == len(prefix) == len(u.O)
    for t, (o, o_sample) in enumerate(zip(u.O, logits), start=1):
        assert np.allclose(o.data, o_sample, rtol=1e-13, atol=1e-15), t
    assert len(mr.sample(cell, prefix, 7, seed=1)) == 7


def test_g1_the_step_runs_on_its_own_in_user_code():
    lstm = LSTM(2, 3, 1)
    be = U.TensorBackend()
    state = None
    for x in np.eye(2):
        state = lstm.step(be, lstm, state, mr.Tensor(x))
    u = U.many_to_one(lstm, np.eye(2), np.zeros(1))
    assert np.allclose(state[0].data, u.H[-1].data) and np.allclose(state[1].data, u.C[-1].data)


# -- G3: compositions --------------------------------------------------------------------------------------
def _seq2seq_problem(cls, teacher_forcing, batch=None, num_layers=2):
    enc, dec = cls(2, 3, 2, num_layers=num_layers, seed=1), cls(2, 3, 2, num_layers=num_layers, seed=2)
    rng = np.random.default_rng(3)
    b = () if batch is None else (batch,)
    xs, ys = rng.normal(size=(3, *b, 2)), rng.normal(size=(3, *b, 2))
    return enc, dec, lambda scalar=False: U.seq2seq(enc, dec, xs, ys, teacher_forcing=teacher_forcing, scalar=scalar)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_g3_seq2seq_encoder_gradients_equal_finite_differences(cls, teacher_forcing):
    enc, dec, build = _seq2seq_problem(cls, teacher_forcing, batch=2, num_layers=1)
    u = build()
    u.backward()
    numeric, _ = numerical_grad(lambda *_: build().loss, enc.parameters())
    for p, g in zip(enc.parameters(), numeric):
        assert np.allclose(p.grad, g, rtol=1e-6, atol=1e-9), p.label
    directional_gradcheck(lambda *_: build().loss, enc.parameters() + dec.parameters())  # the decoder too
    assert enc.W_h.grad.any() and enc.W_x.grad.any() and not enc.W_o.grad.any()  # the encoder's head is unused


@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_g3_seq2seq_scalar_equals_tensor(teacher_forcing):
    enc, dec, build = _seq2seq_problem(GRU, teacher_forcing)
    u = build()
    u.backward()
    grads = [p.grad.copy() for p in enc.parameters() + dec.parameters()]
    enc.zero_grad(), dec.zero_grad()
    s = build(scalar=True)
    s.backward()
    assert abs(s.loss.data - u.loss.item()) <= 1e-12
    for p, g in zip(enc.parameters() + dec.parameters(), grads):
        assert np.allclose(p.grad, g, rtol=1e-9, atol=1e-12), p.label


def test_g3_free_running_feeds_the_output_back_inside_the_graph():
    _, _, forced = _seq2seq_problem(LSTM, True)
    _, _, free = _seq2seq_problem(LSTM, False)
    f, r = forced(), free()
    assert r.X[1] is r.O[0] and r.X[2] is r.O[1]  # X_{t} = O_{t-1}, the node itself
    assert f.X[1] is not f.O[0] and not f.X[1]._parents  # teacher forcing: the target, a constant
    r.backward()
    assert r.O[0].grad is not None and np.abs(r.O[0].grad).sum() > 0
    assert [t for t in r.steps["H"]] == [4, 5, 6] and r.encoder.steps["H"] == [1, 2, 3]


def test_g3_seq2seq_with_token_ids_and_its_errors():
    enc, dec = GRU(5, 3, 4, token_ids=True), GRU(4, 3, 4, token_ids=True, seed=1)
    u = U.seq2seq(enc, dec, np.array([1, 2, 3]), np.array([0, 3, 2]))
    assert [int(x) for x in u.X] == [0, 0, 3]  # start id 0, then the previous targets
    with pytest.raises(ValueError, match="free running feeds"):
        U.seq2seq(enc, dec, np.array([1, 2]), np.array([0, 3]), teacher_forcing=False)
    with pytest.raises(ValueError, match="same state"):
        U.seq2seq(LSTM(2, 3, 2), GRU(2, 3, 2), np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="one direction"):
        U.seq2seq(GRU(2, 3, 2, bidirectional=True), GRU(2, 3, 2), np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="input_size == output_size"):
        U.seq2seq(GRU(2, 3, 2), GRU(3, 3, 2), np.ones((2, 2)), np.ones((2, 2)))


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_g3_bidirectional_reverse_states_depend_on_later_inputs(cls):
    cell = cls(2, 3, 2, bidirectional=True, seed=0)
    xs = np.random.default_rng(0).normal(size=(4, 2))
    u = U.many_to_one(cell, xs, np.zeros(2))
    xs2 = xs.copy()
    xs2[-1] += 1.0  # change only the last input
    v = U.many_to_one(cell, xs2, np.zeros(2))
    fwd, rev = u.states[(0, 0)]["H"], u.states[(0, 1)]["H"]
    assert np.allclose(fwd[0].data, v.states[(0, 0)]["H"][0].data)  # H_1 does not see X_4
    assert not np.allclose(rev[0].data, v.states[(0, 1)]["H"][0].data)  # H_1^rev does
    assert [h.t for h in rev] == [1, 2, 3, 4] and rev[0].label == "H_1(rev)"
    assert cell.W_o.shape == (2, 6)


def test_g3_stacked_and_bidirectional_names_follow_pytorch():
    lstm = LSTM(3, 4, 2, num_layers=2, bidirectional=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:8] == ["W_x", "W_h", "b_x", "b_h", "W_x_rev", "W_h_rev", "b_x_rev", "b_h_rev"]
    assert names[8:] == ["W_x_l1", "W_h_l1", "b_x_l1", "b_h_l1", "W_x_l1_rev", "W_h_l1_rev", "b_x_l1_rev",
                         "b_h_l1_rev", "W_o", "b_o"]
    assert lstm.W_x_l1.shape == (16, 8) and lstm.W_x_l1_rev.label == "W^X(l1,rev)"
    assert [(n, p.shape) for n, p in GRU(3, 4, 2).named_parameters()][:2] == [("W_x", (12, 3)), ("W_h", (12, 4))]
    assert RNN(3, 4, 2, num_layers=2).W_x_l1.shape == (4, 4)


# -- G4: roles ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scalar", [False, True])
def test_g4_every_recorded_node_has_its_role(scalar):
    lstm = LSTM(2, 2, 2, num_layers=2, truncate=2, seed=0)
    u = U.many_to_many(lstm, np.ones((4, 2)), np.zeros((4, 2)), h0=(np.zeros((2, 2)), np.zeros((2, 2))),
                       scalar=scalar)

    def role(node):
        return u.role(_flat(node)[0])

    assert role(u.H[0]) == U.Role("H", 0, 1, 0, "H") and role(u.C[0]) == U.Role("C", 0, 1, 0, "C")
    assert role(u.states[(0, 0)]["C"][2]) == U.Role("C", 2, 0, 0, "C")
    assert role(u.X[0]) == U.Role("input", 1) and role(u.O[3]).kind == "output" and role(u.L[1]).kind == "loss"
    assert role(u.loss) == U.Role("loss", None)
    assert role(u.copies["W_h_l1"][0]) == U.Role("copy", 1, 1, 0, "W_h_l1")
    assert role(u.copies["W_o"][0]) == U.Role("copy", 1, 1, 0, "W_o")
    assert role(u.leaves["b_x"]) == U.Role("param", None, 0, 0, "b_x")
    gates = [r for r in u.roles.values() if r.kind == "gate"]
    per_step = {(r.t, r.layer, r.name) for r in gates}
    assert per_step == {(t, layer, g) for t in range(1, 5) for layer in (0, 1) for g in "ifgo"}
    cuts = {(r.t, r.layer, r.name) for r in u.roles.values() if r.kind == "cut"}
    assert cuts == {(3, layer, s) for layer in (0, 1) for s in "HC"} and len(u.cuts) == 4
    assert all(r.kind in U.ROLE_KINDS for r in u.roles.values())


def test_g4_per_step_copies_and_context_cuts_are_told_apart():
    u = U.many_to_many(mr.nn.Elman(2, 3, 2), np.ones((3, 2)), np.zeros((3, 2)))
    kinds = {u.role(c).kind for c in (copy for _, _, copy in u.cuts)}
    assert kinds == {"cut"} and {u.role(c).kind for c in u.copies["W_h"]} == {"copy"}
    assert all(u.role(src).kind == "H" for _, src, _ in u.cuts)


def test_g4_seq2seq_roles_name_their_part():
    enc, dec, build = _seq2seq_problem(GRU, True)
    u = build()
    assert u.role(u.H[0]).part == "decoder" and u.role(u.encoder.H[-1]).part == "encoder"
    assert u.role(u.encoder.copies["W_x"][0]) == U.Role("copy", 1, 0, 0, "W_x", "encoder")


# -- bad input -------------------------------------------------------------------------------------------------
def test_cell_argument_errors():
    with pytest.raises(TypeError, match=r"starts from the pair h0=\(h0, c0\)"):
        U.many_to_one(LSTM(2, 3, 2), np.ones((2, 2)), 1, h0=np.zeros(3))
    with pytest.raises(ValueError, match=r"h0 must be numbers of shape \(2, 3\)"):
        U.many_to_one(GRU(2, 3, 2, num_layers=2), np.ones((2, 2)), 1, h0=np.zeros(3))
    with pytest.raises(ValueError, match="Jordan"):
        RNN(2, 3, 2, feedback="output", num_layers=2)
    with pytest.raises(ValueError, match="one direction"):
        U.one_to_many(GRU(2, 3, 2, bidirectional=True), np.ones(2), np.ones((3, 2)), feed="output")
    with pytest.raises(ValueError, match="one direction"):
        mr.sample(GRU(4, 3, 4, bidirectional=True, token_ids=True), [1], 2)
    with pytest.raises(ValueError, match="num_layers must be a positive int"):
        LSTM(2, 3, 2, num_layers=0)
    with pytest.raises(TypeError, match="bidirectional must be True or False"):
        GRU(2, 3, 2, bidirectional="yes")

    class NoStep(Cell):
        def weights(self, I, H):
            return {"W": (H, I)}

    with pytest.raises(NotImplementedError, match="must define step"):
        U.many_to_one(NoStep(2, 3, 2), np.ones((2, 2)), 1)
