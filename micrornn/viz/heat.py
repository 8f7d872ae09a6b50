"""Colour: one log10 scale of gradient magnitudes for the whole picture, and its legend."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .text import _escaped

# viridis (colour-blind safe, dark → light): low gradients dark, high gradients bright
_VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
            "#fde725"]
_NO_GRAD = "#e8e8e8"  # the loss does not depend on this node: no gradient at all
_ZERO_GRAD = "#ffffff"  # the loss depends on it, and the gradient is exactly 0
_CUT_COLOUR = "#d95f02"  # a context cut: the detached copy that passes no gradient back
_WRAP = 84  # characters of an explaining line: about the colour bar's width at the legend's font size
_C_PATH = "#d62728"  # the cell state's path C_{t-1} → C_t: the line that carries the LSTM's gradient


@dataclass
class _Heat:
    """One log10 scale for the whole picture (``lo``, ``hi``: log10 of the smallest and largest |gradient|).
    ``shared``: it was given (``draw(…, scale=…)``), so several pictures read on it alike; gradients beyond
    it take the end colours."""

    lo: float
    hi: float
    shared: bool = False

    @property
    def range(self) -> tuple[float, float]:
        """(smallest, largest) |gradient| of the scale: pass it, or the scale, as ``scale=`` of a picture."""
        return 10.0 ** self.lo, 10.0 ** self.hi

    @classmethod
    def over(cls, magnitudes: Iterable[float]) -> _Heat | None:
        """The scale spanning ``magnitudes`` (zeros and non-finite ones left out); None if none is left."""
        logs = [math.log10(m) for m in magnitudes if m > 0 and math.isfinite(m)]
        if not logs:
            return None
        lo, hi = min(logs), max(logs)
        return cls(lo, hi if hi > lo else lo + 1.0)

    def colour(self, m: float) -> tuple[str, str]:
        """Fill and font colour for a gradient of magnitude m (0: white; inf/nan: the no-gradient grey)."""
        if m == 0:
            return _ZERO_GRAD, "black"
        if not (m > 0 and math.isfinite(m)):
            return _NO_GRAD, "black"
        x = (math.log10(m) - self.lo) / (self.hi - self.lo)
        i = min(len(_VIRIDIS) - 1, max(0, int(round(x * (len(_VIRIDIS) - 1)))))
        return _VIRIDIS[i], ("white" if i < 6 else "black")

    @staticmethod
    def legend_height(c_path: bool, explained: Sequence[str] = ()) -> float:
        """About how tall (inches) ``legend`` is: the bar's three rows, then a line of text per row."""
        rows = int(c_path) + sum(len(textwrap.wrap(line, _WRAP)) for line in explained)
        return 0.7 + 0.19 * rows

    def legend(self, c_path: bool, explained: Sequence[str] = (), rows: Callable[[int], str] | None = None) -> str:
        """The colour bar with five ticks, 0 and no-gradient, as a Graphviz HTML label; then the cell state's
        path (``c_path``) and one line per ``explained`` text (``explain.lines``: |x|, twin biases …)."""
        ticks = np.linspace(self.lo, self.hi, 5)
        cells = "".join(f'<TD BGCOLOR="{self.colour(10**v)[0]}" WIDTH="34"> </TD>' for v in np.linspace(
            self.lo, self.hi, len(_VIRIDIS)))
        labels = "".join(f'<TD COLSPAN="2">{10 ** v:.2g}</TD>' for v in ticks)
        extra = (f'<TR><TD COLSPAN="{len(_VIRIDIS) + 2}" ALIGN="LEFT"><FONT COLOR="{_C_PATH}">━━</FONT> the cell '
                 "state's path: C carries the gradient from step to step</TD></TR>") if c_path else ""
        # each explaining line wrapped to the bar's width: a wider cell would stretch the bar's colours
        for line in explained:
            text = '<BR ALIGN="LEFT"/>'.join(_escaped(part) for part in textwrap.wrap(line, _WRAP))
            extra += f'<TR><TD COLSPAN="{len(_VIRIDIS) + 2}" ALIGN="LEFT" BALIGN="LEFT">{text}</TD></TR>'
        if rows is not None:  # more rows of the caller's (the contributions bars' colours), given the width
            extra += rows(len(_VIRIDIS) + 2)
        which = "log scale, shared" if self.shared else "log scale"  # shared: given, the same on other pictures
        return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1"><TR><TD COLSPAN="{len(_VIRIDIS)}">'
                f"<B>|∂L/∂·|</B> ({which})</TD><TD> </TD><TD> </TD></TR><TR>{cells}"
                f'<TD BGCOLOR="{_ZERO_GRAD}" BORDER="1">0</TD><TD BGCOLOR="{_NO_GRAD}">— no gradient</TD></TR>'
                f"<TR>{labels}</TR>{extra}</TABLE>>")


Scale = _Heat  # the public name: ``scale_of(picture)`` returns one, ``draw(…, scale=…)`` takes one


def _given_scale(scale: object) -> _Heat | None:
    """``draw``'s ``scale=``: None (the picture's own range), a (lo, hi) range of |gradient| with
    0 < lo < hi, or the Scale of an earlier picture (``scale_of``) — a shared scale either way."""
    if scale is None:
        return None
    if isinstance(scale, _Heat):
        return _Heat(scale.lo, scale.hi, shared=True)
    ok = isinstance(scale, (tuple, list)) and len(scale) == 2 and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in scale)
    if not ok or not (0 < scale[0] < scale[1] < math.inf):
        raise ValueError(f"scale must be None (the picture's own range), a (lo, hi) range of |gradient| with "
                         f"0 < lo < hi, or scale_of(an earlier picture); got {scale!r}")
    return _Heat(math.log10(scale[0]), math.log10(scale[1]), shared=True)
