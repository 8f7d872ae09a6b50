"""Issue #21 item 2: a Recording plays as a stepper page (a training-step slider), a GIF and one matrix picture."""

import numpy as np
import pytest

from micrornn import film
from micrornn.recording import Recording

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures


def recording(frames=4, T=8, seed=0):
    """A made-up recording of one loss at T over copies 2..T: nothing trains, so the test is instant."""
    rng = np.random.default_rng(seed)
    return Recording("W_h", np.arange(frames) * 5, loss=rng.random(frames) + 1,
                     contributions=rng.random((frames, 1, T - 1)), loss_steps=np.array([T]),
                     copy_steps=np.arange(2, T + 1))


def test_a_film_has_one_frame_per_recorded_step_and_a_slider_over_them(tmp_path):
    f = film.Film({"RNN": recording(), "LSTM": recording(seed=1)}, lag=3)
    assert len(f) == 4 and len(f.svgs) == len(f.images) == 4
    assert len({im.size for im in f.images}) == 1, "one canvas for every frame"
    assert len({im.tobytes() for im in f.images}) == 4, "each frame paints its own lines"
    far = recording().far_fraction(3)
    assert f.captions[2].startswith(f"training step 10 — RNN: {far[2]:.1%} of ‖C‖ beyond lag 3")
    page = f.save(tmp_path / "film.html").read_text(encoding="utf-8")
    assert page.count('class="frame"') == 4 and 'class="slider" type="range" min="0" max="3"' in page
    assert 'class="frame"' in f._repr_html_()
    gif = f.to_gif(tmp_path / "film.gif")
    from PIL import Image
    assert Image.open(gif).n_frames == 4


def test_matrix_draws_each_recording_over_training_steps_and_lags(tmp_path):
    fig = film.matrix({"RNN": recording(), "LSTM": recording(seed=1)}, lag=3, path=tmp_path / "m.png")
    assert (tmp_path / "m.png").stat().st_size > 1000
    far = recording().far_fraction(3)
    assert fig.axes[0].get_title() == f"RNN: {far[0]:.1%} → {far[-1]:.1%} beyond lag 3"


@pytest.mark.parametrize("call, error, message", [
    (lambda: film.Film([recording()]), TypeError, r"give a Recording or a dict of them"),
    (lambda: film.Film({}), TypeError, r"got an empty dict"),
    (lambda: film.Film({"a": 3}), TypeError, r"'a' holds an object of type int, expected a Recording"),
    (lambda: film.Film(recording(), lag=-1), ValueError, r"lag must be an int ≥ 0"),
    (lambda: film.Film({"a": recording(4), "b": recording(5)}), ValueError,
     r"at the same training steps .*a: 4 frames, b: 5 frames"),
    (lambda: film.Film(Recording("W_h", np.arange(2), loss=np.ones(2))), ValueError, r"holds no contributions"),
    (lambda: film.matrix(recording(), path="m.txt"), ValueError, r"writes a .png or .svg or .pdf file; got 'm.txt'"),
    (lambda: film.Film(recording(201)), ValueError, r"201 frames are more than 200; record with a larger every="),
])
def test_bad_input_to_the_film_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_film_files_are_checked_before_any_work(tmp_path):
    f = film.Film(recording())
    with pytest.raises(ValueError, match=r"writes a .gif file"):
        f.to_gif(tmp_path / "film.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        f.save(tmp_path / "no" / "film.html")
    with pytest.raises(ValueError, match="fps must be"):
        f.to_gif(tmp_path / "film.gif", fps=0)
