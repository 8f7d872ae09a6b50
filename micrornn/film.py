"""Playing recordings of training (``micrornn.recording``): a stepper with a training-step slider, a GIF, and
the whole film as one matrix picture.

Each frame shows, for every recording side by side, where in the past the weight's gradient comes from: the
share of Σ ‖C[t, k]‖ at each lag t − k, on a log scale shared by all frames and nets (nothing jumps), with the
part beyond ``lag`` shaded. ``matrix`` stacks the frames into one heat: training step down, lag across.

    >>> import numpy as np
    >>> from micrornn import unroll
    >>> from micrornn.nn import RNN
    >>> from micrornn.recording import record_training
    >>> net = RNN(1, 3, 1, seed=0)
    >>> def step(i):
    ...     u = unroll.many_to_one(net, np.ones((6, 1)), np.zeros(1)); u.backward(); return u
    >>> film = Film({"RNN": record_training(step, steps=2, update=None)}, lag=2)
    >>> len(film), film.captions[1]
    (2, 'training step 1 — RNN: 3.2% of ‖C‖ beyond lag 2, loss 0.874')
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files, not windows (as plots.py)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from . import files  # noqa: E402
from .plots import powers_of_ten  # noqa: E402
from .recording import Recording  # noqa: E402
from .viz.gif import MAX_FRAMES, _check_gif_args, _write_gif  # noqa: E402
from .viz.stepper import _fragment, page  # noqa: E402

__all__ = ["Film", "matrix", "FLOOR"]

FLOOR = 1e-6  # the frames' log axis ends here at the bottom: a share below it runs off the panel
COLOURS = ("black", "tab:green", "tab:blue", "tab:red", "tab:purple")


def _recordings(recordings: Any, who: str) -> dict[str, Recording]:
    """``recordings`` (one Recording, or a mapping of names to them) as a checked dict."""
    if isinstance(recordings, Recording):
        recordings = {recordings.name: recordings}
    if not isinstance(recordings, Mapping) or not recordings:
        raise TypeError(f"{who}: give a Recording or a dict of them by name, e.g. {{'RNN': rnn_film}}; "
                        f"got {type(recordings).__name__ if not isinstance(recordings, Mapping) else 'an empty dict'}")
    for name, r in recordings.items():
        if not isinstance(r, Recording):
            raise TypeError(f"{who}: {name!r} holds an object of type {type(r).__name__}, expected a Recording "
                            "(record_training)")
        r._need("contributions", who)
    steps = {name: r.steps.tolist() for name, r in recordings.items()}
    if any(s != next(iter(steps.values())) for s in steps.values()):  # one caption, one slider for all
        raise ValueError(f"{who}: the recordings must have their frames at the same training steps to play side by "
                         f"side; got {', '.join(f'{n}: {len(s)} frames' for n, s in steps.items())}")
    return dict(recordings)


def _lag(lag: Any, who: str) -> int:
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 0:
        raise ValueError(f"{who}: lag must be an int ≥ 0 (how many steps back counts as far), got {lag!r}")
    return int(lag)


class Film:
    """The frames of one or more recordings, played side by side: ``_repr_html_`` (inline in Jupyter, with a
    training-step slider), ``save("film.html")`` (an offline page) and ``to_gif("film.gif")``.

    Every frame is drawn once, when the Film is made, on one matplotlib figure whose lines are repainted; at
    most ``viz.gif.MAX_FRAMES`` (200) frames."""

    def __init__(self, recordings: Recording | Mapping[str, Recording], lag: int = 10,
                 title: str = "micrornn: learning over time", dpi: int = 90) -> None:
        self.recordings = _recordings(recordings, "Film")
        self.lag = _lag(lag, "Film")
        if not isinstance(title, str):
            raise TypeError(f"Film: title must be a str, got {type(title).__name__}")
        if isinstance(dpi, bool) or not isinstance(dpi, int) or not 24 <= dpi <= 300:
            raise ValueError(f"Film: dpi must be an int from 24 to 300, got {dpi!r}")
        self.title = title
        first = next(iter(self.recordings.values()))
        if len(first) > MAX_FRAMES:  # each frame is drawn now: a film nobody steps through should not take minutes
            raise ValueError(f"Film: {len(first)} frames are more than {MAX_FRAMES}; record with a larger every=")
        self.steps = first.steps.tolist()
        self.far = {name: r.far_fraction(self.lag) for name, r in self.recordings.items()}
        self.captions = [self._caption(f) for f in range(len(first))]
        self.dpi = dpi
        self.images = self._draw()
        self.svgs = [_svg(image) for image in self.images]

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"Film({len(self)} frames of {', '.join(self.recordings)}, lag {self.lag})"

    def _caption(self, f: int) -> str:
        parts = []
        for name, r in self.recordings.items():
            loss = f", loss {r.loss[f]:.3g}" if r.loss is not None else ""
            parts.append(f"{name}: {self.far[name][f]:.1%} of ‖C‖ beyond lag {self.lag}{loss}")
        return f"training step {self.steps[f]} — " + "; ".join(parts)

    def _draw(self) -> list[Any]:  # at self.dpi: the page and the GIF share these images
        """Every frame as an RGBA image. The axes, ticks and labels are drawn once; each frame restores that
        background and paints only its lines and labels on it (Agg blitting: milliseconds, not a full draw)."""
        from PIL import Image

        fig, panels = _frame_figure(self.recordings, self.lag, self.dpi)
        try:
            fig.canvas.draw()
            background = fig.canvas.copy_from_bbox(fig.bbox)
            out = []
            for f in range(len(self)):
                fig.canvas.restore_region(background)
                for (name, r), (ax, line, label) in zip(self.recordings.items(), panels):
                    line.set_ydata(r.lag_profile()[f])  # below the axis: drawn off its bottom
                    label.set_text(f"step {self.steps[f]}: {self.far[name][f]:.1%} beyond lag {self.lag}")
                    ax.draw_artist(line)
                    ax.draw_artist(label)
                out.append(Image.frombuffer("RGBA", fig.canvas.get_width_height(),
                                            bytes(fig.canvas.buffer_rgba()), "raw", "RGBA", 0, 1))
        finally:
            plt.close(fig)
        return out

    def _repr_html_(self) -> str:
        return _fragment(self.svgs, self.captions, self.title)

    def save(self, path: str | Path) -> Path:
        """Write the film as one offline HTML page: ◀ ▶ buttons, ← → keys and a slider over the training steps."""
        target = _target(path, "Film.save", ".html")
        text = page(self.svgs, self.captions, self.title).encode("utf-8")
        files.atomic_write(target, lambda f: f.write(text), "Film.save")
        return files.as_path(path, "Film.save")  # as given (target has its symlinks resolved)

    def to_gif(self, path: str | Path, fps: float = 2.0, loop: int | None = 0) -> Path:
        """An animated GIF, one frame per recorded step, its caption below (``viz.gif``: one canvas, one palette)."""
        target = _target(path, "Film.to_gif", ".gif")
        _check_gif_args(fps, loop, self.dpi, MAX_FRAMES, 1)
        _write_gif(target, self.images, self.captions, self.dpi, fps, loop)
        return files.as_path(path, "Film.to_gif")


def _svg(image: Any) -> str:
    """A frame as an SVG holding its PNG: the stepper pads and steps SVGs, sized in points. A browser shows
    1 pt as 4/3 pixel, so the PNG's pixels are given as 3/4 pt each: shown pixel for pixel, never blurred."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    w, h = (f"{n * 0.75:.2f}" for n in image.size)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}">'
            f'<image width="{w}" height="{h}" href="data:image/png;base64,{data}"/></svg>')


def _target(path: Any, who: str, *suffixes: str) -> Path:
    """The file to write, checked before any work (folder exists and is writable, one of the suffixes)."""
    path = files.as_path(path, who)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{who} writes a {' or '.join(suffixes)} file; got {path.name!r}")
    return files.writable_file(path, who)


def _frame_figure(recordings: dict[str, Recording], lag: int, dpi: int) -> tuple[Figure, list[tuple[Any, ...]]]:
    """One panel per recording: the share of Σ‖C‖ against lag, log y on a range shared by every frame.
    Each panel's (axes, line, label): the line and the label are ``animated`` (left out of the background)."""
    fig, axes = plt.subplots(1, len(recordings), figsize=(4.2 * len(recordings), 3.2), squeeze=False, dpi=dpi)
    profiles = [r.lag_profile() for r in recordings.values()]
    positive = np.concatenate([p[p > 0] for p in profiles] + [np.array([1.0])])
    low = max(float(positive.min()), FLOOR)
    panels = []
    for ax, name, profile, colour in zip(axes[0], recordings, profiles, COLOURS):
        lags = np.arange(profile.shape[1])
        (line,) = ax.semilogy(lags, profile[0], "o-", ms=3, color=colour, animated=True)
        label = ax.text(0.97, 0.95, "", transform=ax.transAxes, ha="right", va="top", fontsize=9, animated=True)
        ax.axvspan(lag + 0.5, lags[-1] + 0.5, color="tab:orange", alpha=0.12, lw=0)
        ax.set_ylim(low / 2, 3.0)
        ax.set_xlim(-0.5, lags[-1] + 0.5)
        powers_of_ten(ax)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("lag t − k (steps back from the loss)")
        ax.grid(True, which="major", alpha=0.3)
        panels.append((ax, line, label))
    axes[0][0].set_ylabel("share of Σ‖∂L_t/∂W_k‖")
    fig.tight_layout()
    return fig, panels


def matrix(recordings: Recording | Mapping[str, Recording], lag: int = 10, path: str | Path | None = None) -> Figure:
    """The whole film in one picture: for each recording a heat of the share of Σ‖C‖ at each lag (across)
    for each recorded training step (down), on one log colour scale; the dashed line is ``lag``.

        >>> from micrornn.recording import Recording
        >>> r = Recording("W_h", np.array([0, 10]), contributions=np.array([[[1.0, 3.0]], [[2.0, 2.0]]]),
        ...               loss_steps=np.array([3]), copy_steps=np.array([2, 3]))
        >>> fig = matrix({"RNN": r}, lag=0); fig.axes[0].get_title()
        'RNN: 25.0% → 50.0% beyond lag 0'
        >>> plt.close(fig)
    """
    recordings = _recordings(recordings, "film.matrix")
    lag = _lag(lag, "film.matrix")
    target = None if path is None else _target(path, "film.matrix", ".png", ".svg", ".pdf")
    fig, axes = plt.subplots(1, len(recordings), figsize=(4.2 * len(recordings) + 0.8, 3.6), squeeze=False,
                             layout="constrained")
    norm = matplotlib.colors.LogNorm(1e-4, 1.0)
    cmap = plt.get_cmap("magma_r").with_extremes(under="white", bad="white")
    for ax, (name, r) in zip(axes[0], recordings.items()):
        profile = r.lag_profile()
        image = ax.pcolormesh(np.arange(profile.shape[1] + 1) - 0.5, _row_edges(r.steps),
                              np.ma.masked_less_equal(profile, 0.0), cmap=cmap, norm=norm, shading="flat")
        ax.axvline(lag + 0.5, color="tab:blue", ls="--", lw=1)
        ax.invert_yaxis()  # training runs down the page, as the frames of a film
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # training steps are whole
        far = r.far_fraction(lag)
        ax.set_title(f"{name}: {far[0]:.1%} → {far[-1]:.1%} beyond lag {lag}", fontsize=10)
        ax.set_xlabel("lag t − k (steps back from the loss)")
    axes[0][0].set_ylabel("training step")
    bar = fig.colorbar(image, ax=list(axes[0]), fraction=0.04, extend="min")
    bar.set_label("share of Σ‖∂L_t/∂W_k‖")
    powers_of_ten(bar.ax)
    if target is not None:
        files.atomic_write(target, lambda f: fig.savefig(f, format=target.suffix[1:].lower(), dpi=110),
                           "film.matrix")
    return fig


def _row_edges(steps: np.ndarray) -> np.ndarray:
    """Row edges around the recorded training steps (evenly spaced frames: half a spacing either side)."""
    s = np.asarray(steps, dtype=float)
    gap = s[1] - s[0] if len(s) > 1 else 1.0
    return np.concatenate(([s[0] - gap / 2], s + gap / 2))
