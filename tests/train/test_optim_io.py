"""Issue [E] items 3, 5 (optimisers and clipping on every input), 10, 11 (save and load of checkpoints)."""

import io
import math
import os
import re
import stat
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy

import micrornn as mr
from micrornn import optim
from micrornn.nn import RNN

pytestmark = [pytest.mark.lesson_training]  # this file's lessons: pytest -m lesson_training


def tensor_with_grad(grad) -> mr.Tensor:
    g = np.asarray(grad, dtype=float)
    w = mr.Tensor(np.zeros(g.shape))
    w.grad = g.copy()
    return w


# -- E3: params is a Tensor or an iterable of distinct Tensors ------------------------------------------
@pytest.mark.lesson_vanishing
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


@pytest.mark.lesson_vanishing
def test_e3_clipping_skips_parameters_without_a_gradient():
    w, none = tensor_with_grad([3.0, 4.0]), mr.Tensor([1.0, 1.0])
    none.grad = None
    assert optim.clip_grad_norm_([none, w], 1.0) == 5.0
    optim.clip_grad_value_([none, w], 0.1)
    assert none.grad is None  # as torch: skipped, no zero gradient made up


# -- E5: the total norm without overflow, NaN/inf as PyTorch, ranges checked ------------------------------
@pytest.mark.lesson_vanishing
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


@pytest.mark.lesson_vanishing
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


@pytest.mark.lesson_vanishing
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


# -- E10: save keeps the file's mode and writes through symlinks, still atomically ------------------------
def same_parameters(a, b) -> bool:
    return all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))


def test_e10_save_keeps_an_existing_files_mode(tmp_path):
    path = tmp_path / "rnn.npz"
    for mode in (0o644, 0o640, 0o604):
        path.write_bytes(b"old")
        path.chmod(mode)
        RNN(3, 4, 2).save(path)
        assert stat.S_IMODE(path.stat().st_mode) == mode  # not mkstemp's 0o600


def test_e10_a_new_file_gets_0666_less_the_umask(tmp_path):
    for umask in (0o022, 0o027, 0o077):
        old = os.umask(umask)
        try:
            RNN(3, 4, 2).save(tmp_path / f"new{umask:o}.npz")
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / f"new{umask:o}.npz").stat().st_mode) == 0o666 & ~umask


def test_e10_save_writes_through_a_symlink(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "rnn.npz"
    RNN(3, 4, 2, seed=1).save(target)
    link, chain = tmp_path / "latest.npz", tmp_path / "chain.npz"
    link.symlink_to(Path("store") / "rnn.npz")  # relative, as `ln -s` makes them
    chain.symlink_to(link)
    for seed, via in ((2, link), (3, chain)):
        a = RNN(3, 4, 2, seed=seed)
        a.save(via)
        assert link.is_symlink() and os.readlink(link) == str(Path("store") / "rnn.npz") and chain.is_symlink()
        b = RNN(3, 4, 2)
        b.load(target)
        assert same_parameters(a, b)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["chain.npz", "latest.npz", "rnn.npz", "store"]


def test_e10_a_crash_mid_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "rnn.npz"
    RNN(3, 4, 2, seed=1).save(path)
    before = path.read_bytes()

    def crash(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        RNN(3, 4, 2, seed=2).save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["rnn.npz"]


def test_e10_save_to_a_directory_or_nowhere_is_a_clear_error(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory; give a file name such as"):
        RNN(3, 4, 2).save(tmp_path)
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere does not exist"):
        RNN(3, 4, 2).save(tmp_path / "nowhere" / "rnn.npz")
    assert list(tmp_path.iterdir()) == []
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="pipe is not a regular file"):
        RNN(3, 4, 2).save(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a pipe, not replaced by a file


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_e10_save_respects_a_read_only_file(tmp_path):
    path = tmp_path / "rnn.npz"
    path.write_bytes(b"keep me")
    path.chmod(0o444)
    with pytest.raises(PermissionError, match="is not writable"):
        RNN(3, 4, 2).save(path)
    assert path.read_bytes() == b"keep me"


# -- E11: load says "not a micrornn checkpoint" and checks every header before reading data ---------------
def npy_bytes(shape, descr="<f8", data=b"") -> bytes:
    f = io.BytesIO()
    npy.write_array_header_1_0(f, {"descr": descr, "fortran_order": False, "shape": shape})
    return f.getvalue() + data


def checkpoint_with(path, model, **members: bytes):
    """``model``'s checkpoint at ``path`` with some members' .npy bytes replaced."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, p in model.named_parameters():
            f = io.BytesIO()
            np.save(f, p.data)
            z.writestr(name + ".npy", members.get(name, f.getvalue()))


def damaged_directory(raw: bytes) -> bytes:
    """A checkpoint whose second directory entry's name runs over the entries after it."""
    entries = [i for i in range(len(raw)) if raw.startswith(b"PK\x01\x02", i)]
    end_record, e = raw.rindex(b"PK\x05\x06"), entries[1]
    name, extra, comment = (int.from_bytes(raw[e + k:e + k + 2], "little") for k in (28, 30, 32))
    longer = name + end_record - (e + 46 + name + extra + comment)
    return raw[:e + 28] + longer.to_bytes(2, "little") + raw[e + 30:]


def test_e11_what_is_not_a_checkpoint_is_named(tmp_path):
    rnn = RNN(3, 4, 2, seed=0)
    before = rnn.state_dict()
    good = tmp_path / "good.npz"
    rnn.save(good)
    raw = good.read_bytes()
    cases = {
        "random.npz": (np.random.default_rng(0).bytes(1000), "not an .npz \\(zip\\) archive"),
        "empty.npz": (b"", "an empty file"),
        "truncated.npz": (raw[: len(raw) // 2], "a damaged or truncated zip archive"),
        "directory.npz": (damaged_directory(raw), "damaged zip archive \\(lists 2 of its 5 entries\\)"),
        "flipped.npz": (raw[:100] + bytes([raw[100] ^ 0xFF]) + raw[101:], "member W_h.npy: Bad CRC-32"),
    }
    for name, (content, _) in cases.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "plain.npy", np.zeros((4, 4)))
    cases["plain.npy"] = (None, "a single .npy array; save\\(\\) writes an .npz archive")
    for name, (_, what) in cases.items():
        with pytest.raises(ValueError, match=f"^not a micrornn checkpoint: {re.escape(str(tmp_path / name))}: {what}"):
            rnn.load(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        rnn.load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError, match="is a directory, not a checkpoint file"):
        rnn.load(tmp_path)
    assert all(np.array_equal(before[n], p.data) for n, p in rnn.named_parameters())


def test_e11_a_huge_member_fails_on_its_header_before_any_data_is_read(tmp_path):
    rnn = RNN(3, 4, 2)
    path = tmp_path / "huge.npz"
    checkpoint_with(path, rnn, W_h=npy_bytes((125_000_000,), data=bytes(64)))  # claims 1 GB of float64
    assert path.stat().st_size < 10_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"^checkpoint {re.escape(str(path))} does not fit this RNN: "
                                             r"state\['W_h'\] has shape \(125000000,\), RNN expects \(4, 4\)"):
            rnn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_e11_member_headers_and_data_are_checked(tmp_path):
    rnn = RNN(3, 4, 2)
    before = rnn.state_dict()
    cases = {
        "object": (dict(b=npy_bytes((4,), "|O", b"\x80\x04junk")), r"does not fit this RNN: .*dtype object"),
        "short": (dict(b=npy_bytes((4,), data=bytes(16))), r"member b.npy: its data ends after 16 of the 32 bytes"),
        "long": (dict(b=npy_bytes((4,), data=bytes(40))), r"member b.npy: it holds more than the 32 bytes"),
        "magic": (dict(b=b"not an npy"), r"member b.npy: the magic string is not correct"),
        "nan": (dict(b=npy_bytes((4,), data=np.full(4, np.nan).tobytes())), r"state\['b'\] must hold finite"),
    }
    for name, (members, message) in cases.items():
        checkpoint_with(tmp_path / f"{name}.npz", rnn, **members)
        with pytest.raises(ValueError, match=message):
            rnn.load(tmp_path / f"{name}.npz")
    assert all(np.array_equal(before[n], p.data) for n, p in rnn.named_parameters())


def test_e11_any_npz_of_the_right_arrays_loads(tmp_path):
    a = RNN(3, 4, 2, seed=1)
    state = a.state_dict()
    state["W_h"] = np.asfortranarray(state["W_h"])  # stored column-major: the header says so
    state["b"] = state["b"].astype(">f8")  # big-endian
    np.savez_compressed(tmp_path / "other.npz", **state)
    b = RNN(3, 4, 2, seed=2)
    b.load(tmp_path / "other.npz")
    assert all(np.array_equal(state[n], p.data) for n, p in b.named_parameters())


def test_e11_a_device_or_pipe_is_not_a_checkpoint_and_never_blocks(tmp_path):
    # /dev/zero never ends (zipfile read it until memory ran out) and a FIFO blocked load() forever
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo):
        with pytest.raises(ValueError, match="not a micrornn checkpoint: .*not a regular file"):
            RNN(2, 3, 1).load(path)


def test_e5_a_tiny_norm_type_gives_an_infinite_norm_not_overflow_error():
    w = mr.Tensor([0.0, 0.0])
    w.grad = np.array([3.0, 4.0])
    assert optim.clip_grad_norm_(w, 1.0, norm_type=1e-300) == math.inf
