"""Issue #21 item 2: ``record_training`` films a training run (contributions, state gradients, loss every N steps);
the ``Recording`` round-trips through one .npz with the checkpoint reader's guards, and plays as a stepper or GIF."""

import io
import zipfile

import numpy as np
import pytest

from micrornn import data, optim, unroll
from micrornn.nn import LSTM, RNN
from micrornn.recording import MAX_BYTES, Recording, record_training

pytestmark = [pytest.mark.lesson_training]  # this file's lessons: pytest -m lesson_training

T, B = 12, 4


def trainer(net, lr=0.05):
    """(step_fn, update) for Adam on fresh temporal-order batches, as demo 11 trains."""
    opt = optim.Adam(net.parameters(), lr=lr)

    def step(i):
        xs, ys = data.temporal_order(B, T=T, seed=i)
        net.zero_grad()
        u = unroll.many_to_one(net, xs, ys)
        u.backward()
        return u

    return step, opt.step


@pytest.mark.parametrize("make", [lambda: RNN(8, 5, 4, token_ids=True, seed=3),
                                  lambda: LSTM(8, 3, 4, token_ids=True, seed=3)], ids=["RNN", "LSTM"])
def test_frame_0_is_a_fresh_unrolls_contributions_and_there_are_steps_over_every_frames(make):
    step, update = trainer(make())
    film = record_training(step, steps=12, update=update, every=3)
    assert len(film) == 12 // 3 and film.steps.tolist() == [0, 3, 6, 9]
    xs, ys = data.temporal_order(B, T=T, seed=0)
    fresh = unroll.many_to_one(make(), xs, ys)  # same seed, untrained
    C = fresh.contributions("W_h")
    assert np.array_equal(film.contributions[0], C.norms())
    assert film.loss_steps.tolist() == C.loss_steps and film.copy_steps.tolist() == C.copy_steps
    fresh.backward()
    assert np.allclose(film.state_grad_norms[0], [np.linalg.norm(h.grad) for h in fresh.H])
    assert film.loss[0] == pytest.approx(float(fresh.loss.data))
    assert not np.array_equal(film.contributions[-1], film.contributions[0]), "training moved the weights"


def test_far_fraction_and_lag_profile_split_the_contribution_mass_by_lag():
    step, update = trainer(RNN(8, 5, 4, token_ids=True, seed=0))
    film = record_training(step, steps=4, update=update, every=2, what=("contributions",))
    lags = film.lags()
    assert lags.tolist() == [[T - k for k in range(2, T + 1)]]  # one loss at T, copies of W^H at 2..T
    profile = film.lag_profile()
    assert np.allclose(profile.sum(axis=1), 1)
    for lag in (0, 3, 9):
        assert np.allclose(film.far_fraction(lag), profile[:, lag + 1:].sum(axis=1))
    assert np.all(film.far_fraction(T) == 0)
    assert film.what == ("contributions",) and film.loss is None


def test_a_recording_round_trips_through_one_npz(tmp_path):
    step, update = trainer(LSTM(8, 3, 4, token_ids=True, seed=1))
    film = record_training(step, steps=4, update=update, every=2)
    back = Recording.load(film.save(tmp_path / "film.npz"))
    assert back.name == "W_h" and back.what == film.what
    for key in ("steps", "loss", "contributions", "loss_steps", "copy_steps", "state_grad_norms", "state_steps"):
        assert np.array_equal(getattr(back, key), getattr(film, key)), key


# -- bad input: one clear error at the call ------------------------------------------------------------------
@pytest.fixture
def loop():
    return trainer(RNN(8, 4, 4, token_ids=True, seed=0))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"every": 0}, ValueError, r"every must be a positive int, got 0"),
    ({"every": -2}, ValueError, r"every must be a positive int, got -2"),
    ({"every": 1.5}, ValueError, r"every must be a positive int, got 1.5"),
    ({"steps": 0}, ValueError, r"steps must be a positive int, got 0"),
    ({"what": ("loss", "gradients")}, ValueError, r"unknown: \['gradients'\]"),
    ({"what": ()}, ValueError, r"one or more of .*got none"),
    ({"what": "loss"}, TypeError, r"got the str 'loss'; write what=\('loss',\)"),
    ({"name": "W_q"}, KeyError, r"name must be one of the weights .*W_h.*got 'W_q'"),
    ({"update": 3}, TypeError, r"update must be callable"),
])
def test_record_training_refuses_bad_arguments_by_name(loop, kwargs, error, message):
    step, update = loop
    with pytest.raises(error, match=message):
        record_training(step, **{"steps": 4, "update": update, **kwargs})


def test_record_training_says_what_step_fn_should_have_returned(loop):
    step, update = loop
    with pytest.raises(TypeError, match=r"step_fn\(0\) returned float, expected the Unrolled graph"):
        record_training(lambda i: float(step(i).loss.data), steps=2, update=update)
    with pytest.raises(TypeError, match="step_fn must be callable"):
        record_training("train", steps=2, update=update)
    net = RNN(8, 4, 4, token_ids=True, seed=0)
    xs, ys = data.temporal_order(B, T=T, seed=0)
    with pytest.raises(ValueError, match=r"was not backpropagated; call u.backward\(\)"):
        record_training(lambda i: unroll.many_to_one(net, xs, ys), steps=2, update=None)


def test_record_training_explains_a_step_fn_that_updated_the_weights_itself():
    net = RNN(8, 4, 4, token_ids=True, seed=0)
    opt = optim.SGD(net.parameters(), lr=0.1)
    xs, ys = data.temporal_order(B, T=T, seed=0)

    def step(i):
        net.zero_grad()
        u = unroll.many_to_one(net, xs, ys)
        u.backward()
        opt.step()  # too early: the recording reads u after this
        return u

    with pytest.raises(RuntimeError, match=r"stale.*did step_fn call opt.step\(\)\?.*update=opt.step"):
        record_training(step, steps=2, update=None)


def test_record_training_refuses_graphs_of_different_lengths():
    net = RNN(8, 4, 4, token_ids=True, seed=0)

    def step(i):
        xs, ys = data.temporal_order(B, T=T + i, seed=0)
        net.zero_grad()
        u = unroll.many_to_one(net, xs, ys)
        u.backward()
        return u

    with pytest.raises(ValueError, match="every recorded graph must have the same steps"):
        record_training(step, steps=2, update=None)


def npz(path, **members):
    """An .npz written by numpy itself (np.savez pickles object arrays)."""
    np.savez(path, **members)
    return path


@pytest.mark.parametrize("members, message", [
    ({"W_h": np.eye(2)}, r"no 'micrornn_recording' member .*Module.load"),
    ({"micrornn_recording": np.array([1]), "name": np.array("W_h"), "steps": np.array([0]),
      "loss": np.array([{"a": 1}], dtype=object)}, r"member 'loss' holds pickled Python objects"),
    ({"micrornn_recording": np.array([1]), "name": np.array("W_h"), "steps": np.array([0]), "extra": np.zeros(1)},
     r"unknown member 'extra'"),
    ({"micrornn_recording": np.array([1]), "name": np.array("W_h"), "steps": np.array([0.5])},
     r"member 'steps' is a 1-d float64 array, expected a 1-d array of ints"),
    ({"micrornn_recording": np.array([1]), "name": np.array("W_h"), "steps": np.array([0, 1]),
      "loss": np.zeros(3)}, r"member 'loss' has shape \(3,\), expected \(2,\)"),
])
def test_load_refuses_what_is_not_a_recording(tmp_path, members, message):
    with pytest.raises(ValueError, match="Recording.load: .*" + message):
        Recording.load(npz(tmp_path / "x.npz", **members))


def test_load_refuses_a_file_that_is_not_an_npz_or_claims_too_much(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"Recording.load: not a micrornn recording: .*not an .npz"):
        Recording.load(text)
    with pytest.raises(FileNotFoundError, match="there is no file"):
        Recording.load(tmp_path / "missing.npz")
    # a tiny file whose header claims a huge array: refused from the header, before any data is read
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (MAX_BYTES // 8 + 1,)})
    big = tmp_path / "big.npz"
    with zipfile.ZipFile(big, "w") as z:
        for name, a in {"micrornn_recording": np.array([1]), "name": np.array("W_h"), "steps": np.array([0])}.items():
            f = io.BytesIO()
            np.save(f, a)
            z.writestr(name + ".npy", f.getvalue())
        z.writestr("loss.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:])
    assert big.stat().st_size < 2000
    with pytest.raises(ValueError, match=r"claim .* bytes, more than MAX_BYTES"):
        Recording.load(big)


def test_the_scalar_engine_records_the_same_frames_as_the_tensor_engine():
    xs, ys = np.ones((4, 1)), np.zeros(1)
    films = []
    for scalar in (False, True):
        net = RNN(1, 2, 1, seed=0)

        def step(i, net=net, scalar=scalar):
            net.zero_grad()
            u = unroll.many_to_one(net, xs, ys, scalar=scalar)
            u.backward()
            return u

        films.append(record_training(step, steps=3, update=optim.SGD(net.parameters(), lr=0.1).step))
    for key in ("loss", "contributions", "state_grad_norms"):
        assert np.allclose(getattr(films[0], key), getattr(films[1], key), rtol=1e-9), key


def test_review_a_recording_is_saved_only_as_npz(tmp_path):
    """A fresh-eyes review: rec.save("r.json") wrote an npz under a .json name."""
    import micrornn as mr
    from micrornn.recording import Recording

    net = mr.nn.RNN(1, 2, 1, seed=0)

    def step(i):
        u = mr.unroll.many_to_many(net, np.ones((3, 1)), np.zeros((3, 1)))
        u.backward()
        return u

    rec = mr.record_training(step, 2, update=lambda: None)
    for name in ("r.json", "r"):
        with pytest.raises(ValueError, match="expected a path ending in .npz"):
            rec.save(tmp_path / name)
    assert Recording.load(rec.save(tmp_path / "r.npz")).steps.tolist() == rec.steps.tolist()
