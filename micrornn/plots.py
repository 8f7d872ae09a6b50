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

import matplotlib

matplotlib.use("Agg")  # files, not windows: works on a machine with no display (Jupyter still shows figures)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .flags import flag  # noqa: E402
from .nn import RNN  # noqa: E402
from .unroll import Unrolled, grad_of, many_to_one  # noqa: E402

__all__ = ["gradient_flow", "spectral_sweep", "sweep_gradients", "training_curves", "powers_of_ten"]

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
