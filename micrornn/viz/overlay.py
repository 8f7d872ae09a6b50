"""``view="contributions"``: the coarse picture with, in every weight copy W_k, a bar of what each loss sends.

The bar of copy W_k splits it by C[t, k] = ∂L_t/∂W_k of ``u.contributions`` (RNNbow's itemized gradients):
one segment per loss step t that reaches W_k, its length the share of |C[t, k]| in Σ_t |C[t, k]| (the norm
of a matrix), coloured by t. In a vanishing net an early copy's bar is nearly all the colour of the nearest
loss; where the gradient travels, the later losses' colours share it.

    >>> import numpy as np
    >>> from micrornn.nn import RNN; from micrornn.unroll import many_to_many
    >>> u = many_to_many(RNN(1, 2, 1, seed=0), np.ones((3, 1)), np.zeros((3, 1)))
    >>> bars = contributions_overlay(u)
    >>> [t for t, _ in bars[id(u.copies["W_h"][0])]]      # W^H_2 is reached by L_2 and L_3
    [2, 3]
"""

from __future__ import annotations

from typing import Any

from ..record import Unrolled
from .text import _Piece

__all__ = ["contributions_overlay"]

# one colour per loss step (cycled): Tableau's ten, distinct from the viridis heat behind them
_STEPS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]
_BAR = 72  # points: a bar's length (a wider box stretches it, the shares stay)


def contributions_overlay(u: Any) -> dict[int, list[tuple[int, float]]]:
    """id(copy W_k) → [(t, ‖C[t, k]‖)] for every weight with copies and every loss step t that reaches it."""
    if not isinstance(u, Unrolled):
        raise TypeError(f'view="contributions" draws an Unrolled (from micrornn.unroll), got {type(u).__name__}')
    if not u.L:
        raise ValueError('view="contributions" needs per-step losses u.L; this graph has none')
    out: dict[int, list[tuple[int, float]]] = {}
    for name, copies in u.copies.items():
        if not copies:
            continue
        C = u.contributions(name)
        norms = C.norms()
        for j, copy in enumerate(copies):
            for node in (copy.reshape(-1) if hasattr(copy, "reshape") and not hasattr(copy, "_op") else [copy]):
                out[id(node)] = [(t, float(norms[i, j])) for i, t in enumerate(C.loss_steps) if norms[i, j] > 0]
    return out


def bar(parts: list[tuple[int, float]]) -> _Piece:
    """One copy's bar: a segment per loss step, its length the share of |C[t, k]| in the copy's total."""
    total = sum(v for _, v in parts)
    if total <= 0:
        return _Piece('<FONT POINT-SIZE="8">no loss reaches it</FONT>', 70, 10)
    widths = [(t, max(1, round(_BAR * v / total))) for t, v in parts]
    cells = "".join(f'<TD BGCOLOR="{colour(t)}" WIDTH="{w}" HEIGHT="7"></TD>' for t, w in widths)
    return _Piece(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>{cells}</TR></TABLE>',
                  sum(w for _, w in widths), 8, table=True)


def colour(t: int) -> str:
    """The colour of loss step t in the bars and their legend."""
    return _STEPS[(t - 1) % len(_STEPS)]


def legend_row(steps: list[int], columns: int) -> str:
    """The legend's row that names the bars' colours: ■ L_1 ■ L_2 … (the first ten steps, then "…")."""
    shown = steps[:10]
    keys = " ".join(f'<FONT COLOR="{colour(t)}">■</FONT> L_{t}' for t in shown) + (" …" if len(steps) > 10 else "")
    return (f'<TR><TD COLSPAN="{columns}" ALIGN="LEFT">the bar in copy W_k: the share of each loss, '
            f"|∂L_t/∂W_k|, {keys}</TD></TR>")
