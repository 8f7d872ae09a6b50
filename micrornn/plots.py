"""Matplotlib figures: gradient flow through time, the spectral-radius sweep, training curves.

    >>> import numpy as np
    >>> from micrornn.nn import RNN
    >>> from micrornn import unroll
    >>> u = unroll.many_to_one(RNN(1, 4, 1, seed=0), np.ones((10, 1)), np.zeros(1)); u.backward()
    >>> fig = gradient_flow(u)
    >>> fig.axes[0].get_yscale()
    'log'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files, not windows: works on a machine with no display (Jupyter still shows figures)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from . import files  # noqa: E402
from .contributions import Contributions  # noqa: E402
from .flags import flag  # noqa: E402
from .nn import RNN  # noqa: E402
from .unroll import Unrolled, grad_of, many_to_one  # noqa: E402

__all__ = ["gradient_flow", "spectral_sweep", "sweep_gradients", "training_curves", "powers_of_ten", "contributions",
           "rainbow_parts"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float, _position: int) -> str:
    exponent = math.log10(value) if value > 0 else math.nan
    if not math.isfinite(exponent) or abs(exponent - round(exponent)) > 1e-9:
        return ""  # a tick between powers of ten (matplotlib's minor labels handle narrow ranges)
    return "10" + str(round(exponent)).translate(_SUPERSCRIPT)


def powers_of_ten(ax: Axes, axis: str = "y") -> Axes:
    """Label a log axis 10⁻³, 10⁰, 10³ in plain Unicode text. Matplotlib's own labels look the same but go
    through its TeX parser: a tenth of a second per plot, a tenth of the quick tour. Call it after the last
    ``semilogy``/``set_yscale`` (each installs the scale's own labels again).

        >>> fig, ax = plt.subplots(); _ = ax.semilogy([1e-3, 1e3]); _ = powers_of_ten(ax)
        >>> ax.yaxis.get_major_formatter()(1e-3, 0), ax.yaxis.get_major_formatter()(2.0, 0)
        ('10⁻³', '')
        >>> plt.close(fig)
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(_power_of_ten))
    return ax


def _norms(u: Unrolled) -> tuple[list[int], list[float]]:
    ts, norms = [], []
    for t, h in zip(u.steps["H"], u.H):
        ts.append(t)
        norms.append(float(np.linalg.norm(grad_of(h))))
    return ts, norms


def gradient_flow(unrolled: Unrolled | Mapping[str, Unrolled], title: str = "How far back does the gradient reach?"
                  ) -> Figure:
    """‖dL/dH_t‖ against t on a log axis (call ``backward()`` first); several unrolls as a {name: u} dict."""
    runs = unrolled if isinstance(unrolled, Mapping) else {"": unrolled}
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, u in runs.items():
        ts, norms = _norms(u)
        ax.semilogy(ts, np.maximum(norms, 1e-300), marker="o", ms=3, label=name or None)
    powers_of_ten(ax)
    ax.set_xlabel("time step t")
    ax.set_ylabel("‖∂L/∂H$_t$‖")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if any(runs):
        ax.legend()
    fig.tight_layout()
    return fig


def sweep_gradients(radii: Sequence[float], T: int = 50, hidden: int = 8, activation: str = "identity",
                    seed: int = 0) -> np.ndarray:
    """For each spectral radius ρ of W^H: ‖dL/dH_1‖ / ‖dL/dH_T‖ of a many-to-one RNN over T steps.

    W^H is ρ times a random orthogonal matrix, so its eigenvalues all have modulus ρ; with f = identity
    the ratio is then exactly ρ^(T−1) — the notes' eigenvalue criterion, computed by backprop.
    """
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(hidden, hidden)))
    xs = rng.normal(scale=0.1, size=(T, 1))
    out = []
    for rho in radii:
        rnn = RNN(1, hidden, 1, activation=activation, seed=seed)
        rnn.W_h.data[...] = rho * Q
        u = many_to_one(rnn, xs, np.zeros(1))
        u.backward()
        first, last = np.linalg.norm(u.H[0].grad), np.linalg.norm(u.H[-1].grad)
        out.append(first / last if last > 0 else np.nan)
    return np.array(out)


def spectral_sweep(radii: Sequence[float] = tuple(np.linspace(0.5, 1.5, 21)), T: int = 50, hidden: int = 8,
                   activations: Sequence[str] = ("identity", "tanh"), seed: int = 0) -> Figure:
    """The gradient T−1 steps back (relative to the last step) against the spectral radius of W^H."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for act in activations:
        ax.semilogy(radii, sweep_gradients(radii, T, hidden, act, seed), marker="o", ms=3, label=f"f = {act}")
    r = np.asarray(radii)
    ax.semilogy(r, r ** (T - 1), "k--", lw=0.8, label=f"ρ^{T - 1}")
    powers_of_ten(ax)
    ax.axvline(1.0, color="grey", lw=0.8)
    ax.set_xlabel("spectral radius ρ of W$^H$")
    ax.set_ylabel(f"‖∂L/∂H$_1$‖ / ‖∂L/∂H$_{{{T}}}$‖")
    ax.set_title("Vanishing below ρ = 1, exploding above")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def training_curves(history: Mapping[str, Sequence[float]], title: str = "Training", log: bool = False,
                    xlabel: str = "iteration") -> Figure:
    """One line per named series, e.g. ``{"loss": [...], "accuracy": [...]}``."""
    if not history:
        raise ValueError("training_curves needs at least one named series")
    log = flag(log, "log", "training_curves")
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, values in history.items():
        v = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(v) + 1), v, label=name)
    if log:
        ax.set_yscale("log")
        powers_of_ten(ax)  # after set_yscale, which installs the scale's own labels
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def rainbow_parts(C: Contributions) -> np.ndarray:
    """The rainbow's numbers: ⟨C[i, j], û⟩ with û = dW/‖dW‖ the direction of the total gradient dW = Σ C.

    Each entry is the signed part of ‖dW‖ that loss i sends through copy j, so the parts add up to ‖dW‖
    exactly: a bar of them is the whole gradient, coloured by who sent it (zeros when dW is zero)."""
    total = C.sum()
    size = float(np.linalg.norm(total))
    if size == 0:
        return np.zeros(C.shape[:2])
    direction = (total / size).reshape(-1)
    return np.array([C.column(j).reshape(C.shape[0], -1) @ direction for j in range(C.shape[1])]).T


def contributions(u: Unrolled, name: str = "W_h", path: str | None = None,
                  scale: tuple[float, float] | None = None) -> Figure:
    """Two panels for ``u.contributions(name)``: the heat of ‖∂L_t/∂W_k‖ over (loss step t, copy step k) —
    lower-triangular for a causal net, how far back each loss reaches — and the "rainbow": for each copy
    step k a bar of what every loss step t sends into dW through W_k (``rainbow_parts``), one colour per t.

    ``scale=(lo, hi)`` fixes the heat's colour range (gradient magnitudes, log scale) so that several
    figures share one scale, as the graph pictures do with ``scale="shared"``; zero entries stay white.
    ``path`` also writes the figure (PNG, SVG or PDF, by its suffix), atomically.

        >>> from micrornn.unroll import many_to_many
        >>> u = many_to_many(RNN(1, 3, 1, seed=0), np.ones((6, 1)), np.zeros((6, 1)))
        >>> fig = contributions(u, "W_h")
        >>> [ax.get_title() for ax in fig.axes[:2]]
        ['‖∂L$_t$/∂W$^H$$_k$‖', 'What each loss step sends into dW$^H$']
        >>> plt.close(fig)
    """
    target = _contributions_args(u, path, scale)
    C = u.contributions(name)
    if 0 in C.shape[:2]:
        raise ValueError(f"plots.contributions: {name!r} has no per-step copies in this graph (it is not used "
                         f"at any step: T = {u.T}, {u.topology}), so there is nothing to draw; "
                         f"copies: {', '.join(f'{n} ({len(c)})' for n, c in u.copies.items())}")
    label = _math_label(u, name)
    fig, (heat, bars) = plt.subplots(1, 2, figsize=(10.0, 4.0), gridspec_kw={"width_ratios": [1, 1.25]})
    loss_steps = [t if t is not None else i + 1 for i, t in enumerate(C.loss_steps)]
    copy_steps = [t if t is not None else j + 1 for j, t in enumerate(C.copy_steps)]
    _heat_panel(fig, heat, C.norms(), loss_steps, copy_steps, label, scale)
    _rainbow_panel(fig, bars, rainbow_parts(C), loss_steps, copy_steps, label)
    fig.tight_layout()
    if target is not None:
        files.atomic_write(target, lambda f: fig.savefig(f, format=target.suffix[1:].lower(), dpi=110),
                           "plots.contributions")
    return fig


def _contributions_args(u: Any, path: Any, scale: Any) -> Path | None:
    """``contributions``' arguments checked before any work; the file to write, if any."""
    if not isinstance(u, Unrolled):
        raise TypeError(f"plots.contributions(u, name): u must be an Unrolled graph (from micrornn.unroll), "
                        f"got {type(u).__name__}")
    target = None
    if path is not None:  # a path that cannot be written fails now, not after the drawing
        target = files.writable_file(files.as_path(path, "plots.contributions"), "plots.contributions")
        if target.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise ValueError(f"plots.contributions: path must end in .png, .svg or .pdf, got {str(path)!r}")
    if scale is not None and not (len(scale) == 2 and 0 < scale[0] < scale[1]):
        raise ValueError(f"plots.contributions: scale must be (lo, hi) with 0 < lo < hi, got {scale!r}")
    return target


def _heat_panel(fig: Figure, heat: Axes, norms: np.ndarray, loss_steps: list[int], copy_steps: list[int],
                label: str, scale: tuple[float, float] | None) -> None:
    """The heat of ‖C[t, k]‖: loss steps down, copy steps across, zeros white, log colour scale."""
    positive = norms[norms > 0]
    lo, hi = scale if scale is not None else ((positive.min(), positive.max()) if positive.size else (1e-3, 1.0))
    hi = hi if hi > lo else lo * 10
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")  # a zero entry: no path from that loss to that copy
    image = heat.pcolormesh(_edges(copy_steps), _edges(loss_steps), np.ma.masked_equal(norms, 0.0), cmap=cmap,
                            norm=matplotlib.colors.LogNorm(lo, hi), shading="flat")
    heat.invert_yaxis()  # loss steps down the page, as a matrix is read: the triangle sits bottom-left
    for axis in (heat.xaxis, heat.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers, also for one row
    for steps, ticks in ((copy_steps, heat.set_xticks), (loss_steps, heat.set_yticks)):
        if not _contiguous(steps):  # drawn by position: label the cells with their steps
            ticks(np.arange(1, len(steps) + 1), [str(t) for t in steps])
        elif len(steps) <= 3:  # a locator would put fractions on a one-step axis
            ticks(steps)
    heat.set_xlabel("copy step k (the weight used at step k)")
    heat.set_ylabel("loss step t")
    heat.set_title(f"‖∂L$_t$/∂{label}$_k$‖")
    colourbar = fig.colorbar(image, ax=heat, fraction=0.05)
    colourbar.ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))


def _rainbow_panel(fig: Figure, bars: Axes, parts: np.ndarray, loss_steps: list[int], copy_steps: list[int],
                   label: str) -> None:
    """For each copy step a bar of what every loss step sends into dW through that copy, one colour per t."""
    first, last = min(loss_steps), max(loss_steps)
    by_step = matplotlib.colors.Normalize(first, last if last > first else first + 1)
    colours = [plt.get_cmap("rainbow")(by_step(t)) for t in loss_steps]
    up, down = np.zeros(len(copy_steps)), np.zeros(len(copy_steps))
    for i, t in enumerate(loss_steps):
        row = parts[i]
        base = np.where(row >= 0, up, down)  # positive parts stack up, negative ones down
        bars.bar(copy_steps, row, bottom=base, color=colours[i], width=0.85, label=f"L$_{{{t}}}$")
        up, down = up + np.maximum(row, 0), down + np.minimum(row, 0)
    bars.xaxis.set_major_locator(MaxNLocator(integer=True))
    bars.axhline(0, color="black", lw=0.6)
    bars.set_xlabel("copy step k")
    bars.set_ylabel(f"part of ‖d{label}‖ along d{label}")
    bars.set_title(f"What each loss step sends into d{label}")
    if last > first:
        fig.colorbar(matplotlib.cm.ScalarMappable(by_step, "rainbow"), ax=bars, fraction=0.05, label="loss step t")
    else:  # one loss (many-to-one): one colour, named in the legend
        bars.legend(loc="upper left")


def _edges(steps: Sequence[int]) -> np.ndarray:
    """Cell edges for pcolormesh around integer steps (steps in order, maybe with gaps)."""
    s = np.asarray(steps, dtype=float)
    if len(s) == 0:
        return np.array([0.5, 1.5])
    return np.concatenate(([s[0] - 0.5], s + 0.5)) if _contiguous(steps) else np.arange(len(s) + 1) + 0.5


def _contiguous(steps: Sequence[int]) -> bool:
    return bool(np.all(np.diff(np.asarray(steps, dtype=float)) == 1))


def _math_label(u: Unrolled, name: str) -> str:
    """W_h → W$^H$ (the notes' names) for the titles; other names as they are."""
    pretty = {"W_h": "W$^H$", "W_x": "W$^X$", "W_o": "W$^O$", "b": "b", "b_o": "b$^O$"}
    return pretty.get(name, name.replace("_", "\\_"))
