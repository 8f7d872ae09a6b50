"""``explore``: sliders over a net's settings, and its unrolled picture repainted at every move.

    >>> ex = Explorer(cell="rnn", T=12, w=(0.8, 1.2, 0.1))     # the univariate linear RNN, W^H = w
    >>> [s.name for s in ex.sliders], ex.sliders[0].values
    (['w'], [0.8, 0.9, 1.0, 1.1, 1.2])
    >>> frame = ex.frame({"w": 1.1})                          # forward, backward, picture, strip, numbers
    >>> "ρ(W^H) = 1.1" in frame.numbers
    True

Every move re-runs forward and backward and paints the picture on a ``Layout`` (``viz.paint``) made once
per structure (cell, T, hidden size, view): ``dot`` does not run while ``w`` or the activation changes.
Beside the picture: the strip of ‖∂L/∂H_t‖ over t, and the numbers — for the linear net (f = identity,
one unit) ∂L/∂H_k ÷ ∂L/∂H_T beside w^(T−k), and for every simple RNN the spectral-radius criterion. All
of it is on one colour scale fixed across the sliders' values (``scale=``), so vanishing and exploding
read apart. ``mr.explore`` shows it as an ipywidgets widget; ``Explorer.save`` writes the same as one
offline page (``viz.lesson``).
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..record import Unrolled
from .heat import _given_scale, _Heat
from .paint import Layout, LayoutMismatch, Paint
from .picture import VIEWS
from .text import _fmt, _magnitude

CELLS = ("rnn", "lstm", "gru")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
MAX_T = 1_000  # a live picture past this would cost seconds per move (draw folds it, the unroll does not)
MAX_VALUES = 201  # values one slider may take
MAX_LAYOUTS = 16  # structures kept laid out at once (each cost one dot run)
INSTALL = "pip install 'micrornn[widgets]'"


@dataclass
class Slider:
    """One setting: its name, the values it may take, and the value it starts at."""

    name: str
    values: list[Any]
    start: Any

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)


def _slider(name: str, spec: Any) -> Slider:
    """``(lo, hi)`` ints: every int; ``(lo, hi, step)``: lo, lo + step, … hi; a list: those choices."""
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"explore: {name}=[] offers no value; give at least one choice")
        return Slider(name, list(spec), spec[0])
    if not isinstance(spec, tuple):
        return Slider(name, [spec], spec)
    if len(spec) not in (2, 3) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
        raise ValueError(f"explore: {name} must be (lo, hi) or (lo, hi, step) numbers, a list of choices or one "
                         f"value; got {spec!r}")
    lo, hi = spec[0], spec[1]
    step = spec[2] if len(spec) == 3 else 1
    if not (math.isfinite(lo) and math.isfinite(hi) and hi >= lo):
        raise ValueError(f"explore: {name}=({lo!r}, {hi!r}, …) is an empty range; give lo ≤ hi")
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"explore: {name}'s step must be a number > 0, got {step!r}")
    count = int(math.floor((hi - lo) / step + 1e-9)) + 1
    if count > MAX_VALUES:
        raise ValueError(f"explore: {name}={spec!r} has {count:,} values; at most {MAX_VALUES} (a larger step)")
    whole = all(isinstance(v, int) for v in (lo, hi, step))
    values = [lo + i * step if whole else round(lo + i * step, 10) for i in range(count)]
    middle = (lo + hi) / 2
    return Slider(name, values, min(values, key=lambda v: (abs(v - middle), v)))


def _defaults(cell: str) -> dict[str, Any]:
    """The sliders a built-in net starts with: T, w (W^H's scale) and, for the simple RNN, f."""
    base: dict[str, Any] = {"T": 20, "w": (0.5, 1.5, 0.05), "hidden": 1 if cell == "rnn" else 3}
    if cell == "rnn":
        base["activation"] = "identity"  # the linear net: ∂L/∂H_k = w^(T−k) ∂L/∂H_T exactly
    return base


def builtin(cell: str = "rnn", T: int = 20, w: float = 1.0, activation: str = "identity", hidden: int = 1,
            seed: int = 0) -> Unrolled:
    """The nets ``explore(cell=…)`` shows: many-to-one, one input, one output, target 1.

    ``rnn``: W^H = w·Q with Q orthogonal (one unit: W^H = w), so its spectral radius is |w|; ``lstm`` and
    ``gru``: their drawn W^H scaled by w. Inputs are fixed draws (seed 0), so only the sliders change.

        >>> u = builtin("rnn", T=3, w=0.5); u.backward()
        >>> float(u.at(1)["H"].grad[0] / u.at(3)["H"].grad[0])    # w^(T−1)
        0.25
    """
    from .. import nn, unroll  # the engine, imported when a net is built (not by `import micrornn.viz`)

    rng = np.random.default_rng(seed)
    if cell == "rnn":
        rnn = nn.RNN(1, hidden, 1, activation=activation, seed=seed)
        q, _ = np.linalg.qr(rng.normal(size=(hidden, hidden))) if hidden > 1 else (np.ones((1, 1)), None)
        rnn.W_h.data[...] = w * q
    else:
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](1, hidden, 1, seed=seed)
        rnn.W_h.data[...] *= w
    xs = np.ones((T, 1)) if cell == "rnn" else rng.normal(size=(T, 1))
    return unroll.many_to_one(rnn, xs, np.array([1.0]))


def _check_value(name: str, v: Any) -> None:
    """A clear error for a built-in net's setting that cannot be built."""
    if name == "T" and not (isinstance(v, int) and 1 <= v <= MAX_T):
        raise ValueError(f"explore: T must be a whole number of steps from 1 to {MAX_T:,}, got {v!r}")
    if name == "hidden" and not (isinstance(v, int) and 1 <= v <= 64):
        raise ValueError(f"explore: hidden must be a whole number of units from 1 to 64, got {v!r}")
    if name == "activation" and v not in ACTIVATIONS:
        raise ValueError(f"explore: activation must be one of {ACTIVATIONS}, got {v!r}")
    if name == "w" and not (isinstance(v, (int, float)) and math.isfinite(v)):
        raise ValueError(f"explore: w must be a finite number, got {v!r}")


@dataclass
class Frame:
    """What one setting of the sliders shows: the picture (its paint on a layout), the strip, the numbers."""

    layout: Layout
    paint: Paint
    strip: str  # an inline SVG: ‖∂L/∂H_t‖ over t, on the picture's scale
    numbers: str  # HTML: w^(T−k) beside the backprop ratios, the spectral-radius criterion

    @property
    def svg(self) -> str:
        return self.layout.template.svg(self.paint.values)


class Explorer:
    """Sliders over a net's settings and the frame each setting shows (see the module's docstring).

    ``Explorer(cell="rnn", T=(1, 60), w=(0.5, 1.5, 0.05), activation=["tanh", "identity"])`` or
    ``Explorer(build, T=(5, 50), lr=[0.1, 1])`` with ``build(**values)`` returning an ``Unrolled``
    (``explore`` calls its ``backward()``). A tuple is a range, a list the choices, anything else a fixed
    value. ``scale=None`` fixes one colour scale over the sliders' extreme values; a (lo, hi) range or a
    ``viz.Scale`` gives it; ``"own"`` lets each frame span its own gradients.
    """

    def __init__(self, build: Callable[..., Unrolled] | None = None, *, cell: str = "rnn", view: str = "coarse",
                 scale: Any = None, max_steps: int = 8, **settings: Any) -> None:
        if build is not None and not callable(build):
            raise TypeError(f"explore: the first argument must build an Unrolled from the sliders' values (a "
                            f"function), got {type(build).__name__}")
        if view not in VIEWS:
            raise ValueError(f"explore: view must be one of {VIEWS}, got {view!r}")
        if build is None:
            if cell not in CELLS:
                raise ValueError(f"explore: unknown cell {cell!r}; the built-in nets are {CELLS} (or pass a "
                                 "function that builds an Unrolled)")
            unknown = set(settings) - {"T", "w", "activation", "hidden", "seed"}
            if unknown:
                raise TypeError(f"explore(cell={cell!r}) has no setting {sorted(unknown)}; its settings are T, w, "
                                "activation (rnn), hidden, seed")
            if cell != "rnn" and "activation" in settings:
                raise ValueError(f"explore: activation belongs to the simple RNN, not to cell={cell!r}")
            settings = {**_defaults(cell), **settings}
        self.cell, self.view, self.max_steps = cell if build is None else None, view, max_steps
        self.build = build
        every = [_slider(k, v) for k, v in settings.items()]
        if build is None:
            for s in every:
                for v in s.values:
                    _check_value(s.name, v)
        self.sliders = [s for s in every if len(s.values) > 1]  # what moves; the rest is fixed
        self.fixed = {s.name: s.start for s in every if len(s.values) == 1}
        self._layouts: dict[tuple, Layout] = {}
        self.scale = self._scale(scale)

    # -- building and painting ----------------------------------------------------------------------------
    def net(self, values: dict[str, Any]) -> Unrolled:
        """The unrolled net of one setting, after its forward and backward passes."""
        unknown = set(values) - {s.name for s in self.sliders}
        if unknown:
            raise ValueError(f"explore: no slider {sorted(unknown)}; the sliders are {[s.name for s in self.sliders]}")
        settings = {**self.fixed, **{s.name: values.get(s.name, s.start) for s in self.sliders}}
        u = builtin(self.cell, **settings) if self.build is None else self.build(**settings)
        if not isinstance(u, Unrolled):
            raise TypeError(f"explore: build(**{settings}) must return an Unrolled (from micrornn.unroll), got "
                            f"{type(u).__name__}")
        u.backward()
        return u

    def _scale(self, scale: Any) -> _Heat | None:
        """The colour scale: given, each frame's own ("own"), or fixed over the sliders' extreme values."""
        if isinstance(scale, str):
            if scale != "own":
                raise ValueError(f"explore: scale must be None, 'own', a (lo, hi) range or a viz.Scale, got {scale!r}")
            return None
        if scale is not None:
            return _given_scale(scale)
        logs = []
        for u in self._probes():
            logs += [math.log10(m) for m in _norms(u) if m > 0 and math.isfinite(m)]
        if not logs:
            return None
        return _Heat(min(logs), max(max(logs), min(logs) + 1.0), shared=True)

    def _probes(self) -> list[Unrolled]:
        """The nets at the ends of every numeric slider (the other sliders at their start): the extremes."""
        ends = [[s.values[0], s.values[-1]] if s.numeric else [s.start] for s in self.sliders]
        return [self.net(dict(zip((s.name for s in self.sliders), combo))) for combo in itertools.product(*ends)][:16]

    def layout(self, u: Unrolled, sizes: Sequence[Unrolled] = ()) -> Layout:
        """The layout of ``u``'s structure: made once (one dot run), then reused for every setting."""
        key = _structure(u)
        lay = self._layouts.get(key)
        if lay is None:
            if len(self._layouts) >= MAX_LAYOUTS:
                self._layouts.pop(next(iter(self._layouts)))  # the oldest: an explorer never grows without end
            lay = Layout(u, view=self.view, max_steps=self.max_steps, title=_title(u), scale=self.scale,
                         sizes=sizes, room=12, splines="curved")  # routed edges: 0.6 s for an LSTM at T = 20
            self._layouts[key] = lay
        return lay

    def _neighbours(self, u: Unrolled, values: dict[str, Any]) -> list[Unrolled]:
        """Nets of ``u``'s structure with one numeric slider at an end: a new layout is sized for their numbers."""
        out = []
        for s in self.sliders:
            for end in (s.values[0], s.values[-1]) if s.numeric else ():
                v = self.net({**values, s.name: end})
                if _structure(v) == _structure(u):
                    out.append(v)
        return out

    def frame(self, values: dict[str, Any], sizes: Sequence[Unrolled] | None = None) -> Frame:
        """Forward, backward and the repaint for one setting of the sliders (a dict name → value). A new
        structure is laid out with room for the numbers of ``sizes`` (default: the sliders' ends)."""
        u = self.net(values)
        if _structure(u) not in self._layouts and sizes is None:
            sizes = self._neighbours(u, values)
        sizes = sizes or ()
        lay = self.layout(u, sizes)
        try:
            p = lay.paint(u)
        except LayoutMismatch:  # a build whose structure _structure did not tell apart: lay it out anew
            self._layouts.pop(_structure(u), None)
            lay = self.layout(u, sizes)
            p = lay.paint(u)
        if not p.fits:  # longer numbers than the layout has room for: one more dot run, with this frame sized in
            self._layouts.pop(_structure(u), None)
            lay = self.layout(u, [*sizes, u])
            p = lay.paint(u)
        return Frame(lay, p, _strip(u, self.scale), _numbers(u, values))


def _structure(u: Unrolled) -> tuple:
    """What decides a picture's layout: the cell, its sizes and options, the topology and T."""
    r = u.rnn
    return (type(r).__name__, u.topology, u.T, r.hidden_size, r.num_layers, r.bidirectional,
            getattr(r, "feedback", None), r.truncate, u.encoder is not None)


def _title(u: Unrolled) -> str:
    """The picture's title, the same for every setting of one structure (the numbers are beside it)."""
    return f"{u.topology.replace('_', '-')}, T = {u.T}, {type(u.rnn).__name__}"


def _norms(u: Unrolled) -> list[float]:
    """‖∂L/∂H_t‖ for t = 1 … T (the top layer's forward state)."""
    return [_magnitude(u.at(t)["H"].grad) for t in range(1, u.T + 1)]


def _strip(u: Unrolled, scale: _Heat | None) -> str:
    """‖∂L/∂H_t‖ over t as small bars on a log axis (the picture's scale, so a strip reads as its colours)."""
    norms = _norms(u)
    logs = [math.log10(m) for m in norms if m > 0 and math.isfinite(m)]
    lo, hi = (scale.lo, scale.hi) if scale else (min(logs, default=0.0), max(logs, default=1.0))
    hi = hi if hi > lo else lo + 1.0
    width, height, bar = 600, 60, 600 / len(norms)
    bars = []
    for t, m in enumerate(norms, start=1):
        x = (math.log10(m) - lo) / (hi - lo) if m > 0 and math.isfinite(m) else 0.0
        h = max(1.0, min(1.0, x) * height) if m > 0 else 0.0
        fill = (scale or _Heat(lo, hi)).colour(m)[0]
        bars.append(f'<rect x="{(t - 1) * bar:.1f}" y="{height - h:.1f}" width="{max(bar - 1, 0.5):.1f}" '
                    f'height="{h:.1f}" fill="{fill}"><title>t = {t}: {_fmt(m)}</title></rect>')
    return (f'<svg class="strip" width="{width}" height="{height + 14}" viewBox="0 0 {width} {height + 14}">'
            f'{"".join(bars)}<text x="0" y="{height + 12}" font-size="10">t = 1</text>'
            f'<text x="{width}" y="{height + 12}" font-size="10" text-anchor="end">t = {len(norms)}</text></svg>')


def _shown_steps(T: int) -> list[int]:
    """The steps k whose ratio the numbers show: the last few, then every so often, then k = 1."""
    back = [0, 1, 2, 3, 5, 10, 20, 30, 40, 50, 100, 200, 500]
    return sorted({T - b for b in back if T - b >= 1} | {1}, reverse=True)


def _numbers(u: Unrolled, values: dict[str, Any]) -> str:
    """The numbers beside the picture, as HTML: ∂L/∂H_k ÷ ∂L/∂H_T by backprop (and w^(T−k) beside it for
    the linear net), and the spectral radius of W^H with what it predicts."""
    r, T = u.rnn, u.T
    last = np.asarray(u.at(T)["H"].grad, dtype=np.float64)
    linear = type(r).__name__ == "RNN" and r.hidden_size == 1 and r.activation == "identity"
    rows = []
    for k in _shown_steps(T):
        g = np.asarray(u.at(k)["H"].grad, dtype=np.float64)
        ratio = float(g.reshape(-1)[0] / last.reshape(-1)[0]) if linear else _magnitude(g) / max(_magnitude(last),
                                                                                                 1e-300)
        w = float(np.asarray(r.W_h.data).reshape(-1)[0]) if linear else None
        power = f"<td>{_fmt(w ** (T - k))}</td>" if linear else ""
        rows.append(f'<tr><td>{k}</td><td class="ratio">{_fmt(ratio)}</td>{power}</tr>')
    head = ("<tr><th>k</th><th>∂L/∂H<sub>k</sub> ÷ ∂L/∂H<sub>T</sub> (backprop)</th><th>w<sup>T−k</sup></th></tr>"
            if linear else "<tr><th>k</th><th>‖∂L/∂H<sub>k</sub>‖ ÷ ‖∂L/∂H<sub>T</sub>‖</th></tr>")
    shown = ", ".join(f"{html.escape(str(k))} = {html.escape(str(v))}" for k, v in values.items())
    return (f'<div class="numbers"><div class="setting">{shown}</div>{_criterion(r)}'
            f'<table class="ratios">{head}{"".join(rows)}</table></div>')


def _criterion(r: Any) -> str:
    """The spectral-radius criterion of a simple RNN's W^H (for gated cells: what carries the gradient)."""
    W = np.asarray(r.W_h.data, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        return ('<p class="criterion">The spectral-radius test is the simple RNN\'s; in an LSTM the cell state '
                "carries the gradient: ∂C<sub>t</sub>/∂C<sub>t−1</sub> = f<sub>t</sub>.</p>")
    rho = float(max(abs(np.linalg.eigvals(W))))
    verdict = ("< 1: the gradient vanishes going back, at least as fast as ρ<sup>T−k</sup> once f′ ≤ 1"
               if rho < 1 - 1e-12 else "= 1: the gradient neither fades nor grows through W^H alone"
               if rho <= 1 + 1e-12 else "> 1: the gradient can explode going back (with f = identity it does, "
               "as ρ<sup>T−k</sup>)")
    return f'<p class="criterion">ρ(W^H) = {_fmt(rho)} {verdict}</p>'
