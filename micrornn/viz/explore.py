"""``explore``: sliders over a net's settings, and its unrolled picture repainted at every move.

    >>> ex = Explorer(cell="rnn", T=12, w=(0.8, 1.2, 0.1))     # the univariate linear RNN, W^H = w
    >>> [s.name for s in ex.sliders], ex.sliders[0].values
    (['w'], [0.8, 0.9, 1.0, 1.1, 1.2])
    >>> frame = ex.frame({"w": 1.1})                          # forward, backward, picture, strip, numbers
    >>> "ρ(W<sup>H</sup>) = 1.1 &gt; 1" in frame.numbers
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
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import files
from ..record import Unrolled
from .dot import FRAME_BUDGET, _seconds
from .heat import _given_scale, _Heat
from .lesson import page
from .paint import Layout, LayoutMismatch, Paint
from .text import _fmt, _magnitude

CELLS = ("rnn", "lstm", "gru")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
MAX_T = 1_000  # a live picture past this would cost seconds per move (draw folds it, the unroll does not)
MAX_VALUES = 201  # values one slider may take
MAX_LAYOUTS = 16  # structures kept laid out at once (each cost one dot run); also the most a lesson page holds
MAX_FRAMES = 2_000  # settings a lesson page pre-computes
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
    # w from 0.8 to 1.2: at T = 50, w^(T−1) spans 2e-5 … 8e3, which ten colours tell apart; a wider range
    # spreads the fixed scale so far that 0.9 and 1.1 would read alike
    base: dict[str, Any] = {"T": 20, "w": (0.8, 1.2, 0.02), "hidden": 1 if cell == "rnn" else 3}
    if cell == "rnn":
        base["activation"] = "identity"  # the linear net: ∂L/∂H_k = w^(T−k) ∂L/∂H_T exactly
    return base


def builtin(cell: str = "rnn", T: int = 20, w: float = 1.0, activation: str = "identity", hidden: int = 1,
            seed: int = 0) -> Unrolled:
    """The nets ``explore(cell=…)`` shows: many-to-one, one input, one output, target 1.

    ``rnn``: W^H = w·Q with Q orthogonal (one unit: W^H = w), so its spectral radius is |w|, and b = 0; ``lstm`` and
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
        rnn.b.data[...] = 0.0  # no bias: H_t stays small, so ∂L/∂O (where the chain starts) is alike for every w
    else:
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](1, hidden, 1, seed=seed)
        rnn.W_h.data[...] *= w
    # small inputs: a tanh unit stays off its flat ends, and the linear net's output (so ∂L/∂O) stays modest
    xs = 0.01 * rng.normal(size=(T, 1))
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
    net: Unrolled  # the net it shows, after backward

    @property
    def svg(self) -> str:
        return self.layout.template.svg(self.paint.values)


def _checked_settings(build: Callable[..., Unrolled] | None, cell: str, view: str,
                      settings: dict[str, Any]) -> dict[str, Any]:
    """``Explorer``'s arguments checked: a callable ``build`` or a known built-in ``cell`` with its own
    settings only (the defaults filled in), a known view, and a range's ends in bounds before its values
    are made (T=(1, 5000) is "T too large", not "too many values")."""
    if build is not None and not callable(build):
        raise TypeError(f"explore: the first argument must build an Unrolled from the sliders' values (a "
                        f"function), got {type(build).__name__}")
    if view not in ("coarse", "ops"):  # a Layout paints these two (not draw's "contributions" bars)
        raise ValueError(f"explore: view must be one of ('coarse', 'ops'), got {view!r}")
    if build is not None:
        return settings
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
    for k, v in settings.items():
        for end in v[:2] if isinstance(v, tuple) and len(v) in (2, 3) else ():
            _check_value(k, end)
    return settings


def _on_slider(s: Any, v: Any) -> bool:
    """Whether ``v`` is one of slider ``s``'s values (a float within rounding of one)."""
    if s.numeric and isinstance(v, (int, float)) and not isinstance(v, bool):
        return any(abs(v - x) <= 1e-9 * max(1.0, abs(x)) for x in s.values)
    return v in s.values


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
        settings = _checked_settings(build, cell, view, settings)
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
        self._wide: dict[tuple, list[Unrolled]] = {}  # per structure, the nets a layout was too narrow for
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
        """The colour scale: given, each frame's own ("own"), or fixed over ‖∂L/∂H_t‖ at the sliders' extreme
        values — the lesson's chain; a weight's gradient (Σ_t ∂L/∂H_t H_{t−1}ᵀ grows as w^(2T)) beyond it
        takes the end colour rather than squeezing the H_t's into two colours."""
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
        """The nets at the ends of every numeric slider and at every choice of the others (an activation
        list: tanh keeps w = 1.5 below 1 where identity explodes): the extremes the scale must span."""
        ends = [[min(s.values), max(s.values)] if s.numeric else list(s.values) for s in self.sliders]
        combos = itertools.islice(itertools.product(*ends), 16)  # 2^4 corners at most: a few builds, not 2^n
        return [self.net(dict(zip((s.name for s in self.sliders), combo))) for combo in combos]

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
            for end in (min(s.values), max(s.values)) if s.numeric else ():
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
        if not p.fits:  # longer numbers than the layout has room for: one more dot run, sized for them too
            wide = self._wide.setdefault(_structure(u), [])
            wide.append(u)
            self._layouts.pop(_structure(u), None)
            lay = self.layout(u, [*self._neighbours(u, values), *wide])
            p = lay.paint(u)
        return Frame(lay, p, _strip(u, self.scale), _numbers(u, values), u)


    # -- the widget -----------------------------------------------------------------------------------------
    def widget(self) -> Any:
        """The live ipywidgets widget: a slider per setting (a menu for choices), the strip, the numbers and
        the picture, repainted on every move. Needs ipywidgets (``pip install 'micrornn[widgets]'``)."""
        widgets = _ipywidgets()
        controls = [widgets.SelectionSlider(options=[(_shown(v), v) for v in s.values], value=s.start,
                                            description=s.name, continuous_update=True) if s.numeric else
                    widgets.Dropdown(options=[(str(v), v) for v in s.values], value=s.start, description=s.name)
                    for s in self.sliders]
        picture, strip, numbers = widgets.HTML(), widgets.HTML(), widgets.HTML()

        def update(change: Any = None) -> None:
            f = self.frame({s.name: c.value for s, c in zip(self.sliders, controls)})
            picture.value, strip.value, numbers.value = f.svg, f.strip, f.numbers

        for c in controls:
            c.observe(update, names="value")
        update()
        box = widgets.VBox([widgets.HBox(controls), widgets.HBox([strip, numbers]), picture])
        box.controls, box.picture, box.numbers = controls, picture, numbers  # for tests and benchmarks
        return box

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """In Jupyter: the widget (Jupyter asks every object it shows for this)."""
        return self.widget()._repr_mimebundle_(**kwargs)

    # -- the lesson page -----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, grid: dict[str, Sequence[Any]] | None = None, title: str | None = None,
             budget: float = FRAME_BUDGET) -> os.PathLike:
        """Write the explorer as one self-contained HTML page that works with no kernel and no network.

        Every setting on ``grid`` is computed now (default: every value of every slider; ``grid={"T": [10,
        20, 50]}`` picks fewer) and stored as a patch of its layout's SVG. At most 2,000 settings and 16
        layouts (one per structure: each T is one), and at most ``budget`` seconds (TimeoutError)."""
        budget = _seconds("budget", budget)
        if Path(os.fspath(path)).suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"explore.save(path): the lesson is an HTML page; expected a .html file, got {path!r}")
        axes = self._grid(grid)
        count = math.prod(len(values) for _, values in axes)
        if count > MAX_FRAMES:
            raise ValueError(f"explore.save: the grid has {count:,} settings "
                             f"({' × '.join(str(len(v)) for _, v in axes)}); at most {MAX_FRAMES:,}: pass grid= "
                             "with fewer values, e.g. grid={'T': [10, 30, 60]}")
        start = time.perf_counter()
        settings = [dict(zip((name for name, _ in axes), combo)) for combo in itertools.product(*(v for _, v in axes))]
        if self.build is None and math.prod(len(v) for k, v in axes if k in ("T", "hidden")) > MAX_LAYOUTS:
            raise ValueError(_TOO_MANY)  # each (T, hidden) of a built-in net is a layout: known before any run
        structures: set[tuple] = set()
        for values in settings:  # first pass: every layout grows until all its frames' numbers fit
            structures.add(_structure(self.frame(values).net))
            if len(structures) > MAX_LAYOUTS:
                raise ValueError(_TOO_MANY)
            self._within(start, budget, 0, count)
        layouts: dict[int, int] = {}  # id(layout) → its index on the page
        svgs, frames = [], []
        for values in settings:
            f = self.frame(values)
            if id(f.layout) not in layouts:
                if len(layouts) >= MAX_LAYOUTS:
                    raise ValueError(_TOO_MANY)
                layouts[id(f.layout)] = len(svgs)
                svgs.append(f.layout.template.svg(f.layout.template.base))
            frames.append([layouts[id(f.layout)], _patch(f), f.strip, f.numbers])
            self._within(start, budget, len(frames), count)
        sliders = [(name, [_shown(v) for v in values], _nearest(values, s.start))
                   for (name, values), s in zip(axes, self.sliders)]
        text = page(title or self._title(), sliders, svgs, frames)
        target = files.writable_file(files.as_path(path, "explore.save"), "explore.save", make_folders=True)
        files.atomic_write(target, lambda out: out.write(text.encode("utf-8")), "explore.save")
        return target

    @staticmethod
    def _within(start: float, budget: float, made: int, count: int) -> None:
        """A TimeoutError once ``budget`` seconds have passed since ``start``, saying how far the page got."""
        if time.perf_counter() - start > budget:
            raise TimeoutError(f"explore.save: the time budget of {budget:g} s ran out ({made} of {count} settings "
                               "written); pass grid= with fewer values or a larger budget=")

    def _grid(self, grid: dict[str, Sequence[Any]] | None) -> list[tuple[str, list[Any]]]:
        """Each slider's values on the lesson's grid (checked: known sliders, non-empty lists, buildable)."""
        grid = dict(grid or {})
        names = [s.name for s in self.sliders]
        unknown = set(grid) - set(names)
        if unknown:
            raise ValueError(f"explore.save: grid names no slider {sorted(unknown)}; the sliders are {names}")
        axes = []
        for s in self.sliders:
            values = list(grid.get(s.name, s.values))
            if not values:
                raise ValueError(f"explore.save: grid[{s.name!r}] is empty; give at least one value")
            outside = [v for v in values if not _on_slider(s, v)]
            if outside:
                raise ValueError(f"explore.save: grid[{s.name!r}] has {outside}, which the slider does not offer "
                                 f"(its values run {_shown(s.values[0])} … {_shown(s.values[-1])})")
            if self.build is None:
                for v in values:
                    _check_value(s.name, v)
            axes.append((s.name, values))
        return axes

    def __repr__(self) -> str:
        sliders = ", ".join(f"{s.name} ({len(s.values)} values)" for s in self.sliders)
        return f"Explorer({self._title().removeprefix('micrornn explore: ')}; sliders: {sliders or 'none'})"

    def _title(self) -> str:
        what = f"cell = {self.cell}" if self.cell else getattr(self.build, "__name__", "build")
        return f"micrornn explore: {what}, " + ", ".join(f"{k} = {v}" for k, v in self.fixed.items())


def _ipywidgets() -> Any:
    """The ipywidgets module, or an ImportError that says how to install it."""
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(f"explore's live widget needs ipywidgets: {INSTALL} (Explorer(...).save('lesson.html') "
                          "writes the same as an offline page without it)") from None
    return ipywidgets


def explore(build: Callable[..., Unrolled] | None = None, *, cell: str = "rnn", view: str = "coarse",
            scale: Any = None, **settings: Any) -> Explorer:
    """A live notebook widget: sliders over a net's settings, its picture, strip and numbers repainted on
    every move, on one colour scale. ``.save("lesson.html")`` writes the same as an offline page.

        mr.explore(cell="rnn", T=50)                         # drag w from 0.9 to 1.1: vanishing → exploding
        mr.explore(cell="rnn", T=(1, 60), w=(0.5, 1.5, 0.05), activation=["tanh", "relu", "identity"])
        mr.explore(lambda T, w: my_unroll(T, w), T=(5, 40), w=(0.5, 1.5, 0.1))   # your own net

    A tuple is a range ((lo, hi) ints, or (lo, hi, step)), a list the choices, another value fixed. The
    built-in cells are "rnn" (settings T, w, activation, hidden, seed), "lstm" and "gru" (T, w, hidden,
    seed). Needs ipywidgets: ``pip install 'micrornn[widgets]'``.
    """
    _ipywidgets()
    return Explorer(build, cell=cell, view=view, scale=scale, **settings)


_TOO_MANY = (f"explore.save: the grid needs more than {MAX_LAYOUTS} layouts (each T, hidden size or cell is one "
             "dot run); pass grid= with fewer values of those, e.g. grid={'T': [10, 30, 60]}")


def _shown(v: Any) -> str:
    """A slider's value as its label shows it."""
    return _fmt(v) if isinstance(v, float) else str(v)


def _nearest(values: list[Any], start: Any) -> int:
    """The index of ``start`` among ``values`` (the nearest one for numbers; else the first)."""
    if start in values:
        return values.index(start)
    numbers = [i for i, v in enumerate(values) if isinstance(v, (int, float))]
    return min(numbers, key=lambda i: abs(values[i] - start)) if numbers and isinstance(start, (int, float)) else 0


def _patch(f: Frame) -> list[Any]:
    """The frame's slots that differ from its layout's SVG, flat: slot, fill (None: black), text (None: a
    cell), … — text as the browser reads it (entities resolved)."""
    out: list[Any] = []
    for i, (value, base) in enumerate(zip(f.paint.values, f.layout.template.base)):
        if value != base:
            fill, content = value
            out += [i, fill, html.unescape(content) if f.layout.template.slots[i].attrs is not None else None]
    return out


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
            if linear else "<tr><th>k</th><th>|∂L/∂H<sub>k</sub>| ÷ |∂L/∂H<sub>T</sub>|</th></tr>")
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
    verdict = ("&lt; 1: the gradient vanishes going back, at least as fast as ρ<sup>T−k</sup> once f′ ≤ 1"
               if rho < 1 - 1e-12 else "— the gradient neither fades nor grows through W<sup>H</sup> alone"
               if rho <= 1 + 1e-12 else "&gt; 1: the gradient can explode going back (with f = identity it does, "
               "as ρ<sup>T−k</sup>)")
    return f'<p class="criterion">ρ(W<sup>H</sup>) = {_fmt(rho)} {verdict}</p>'
