"""One picture: ``draw`` checks its arguments, models the graph, typesets the labels and lays them out,
folding more steps while the picture is wider than a slide."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import graphviz

from ..flags import flag
from .emit import _emit
from .heat import _given_scale, _Heat
from .labels import _Text, _texts
from .layout import _layout
from .model import NODE_BUDGET, _every, _Frame, _Model, _model
from .overlay import contributions_overlay
from .source import _source

VIEWS = ("coarse", "ops", "contributions")
MAX_WIDTH = 2000  # pixels at 96 dpi: a slide. Wider pictures fold more steps, then scale down

def _check_draw_args(view: Any, grads: Any, max_steps: Any, heat: Any, node_budget: Any, title: Any,
                     tokens: Any, max_width: Any, views: tuple[str, ...] = VIEWS) -> None:
    """A ValueError or TypeError naming the first of ``draw``'s arguments that is not what it should be
    (``views``: the views the caller draws; the steppers' frames have no "contributions")."""
    if view is not None and (not isinstance(view, str) or view not in views):
        raise ValueError(f"view must be one of {views} or None (coarse for an Unrolled, ops for an expression), "
                         f"got {view!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 2:
        raise ValueError(f"max_steps must be an int ≥ 2 (first and last steps are always drawn), got {max_steps!r}")
    if isinstance(node_budget, bool) or not isinstance(node_budget, int) or node_budget < 1:
        raise ValueError(f"node_budget must be an int ≥ 1, got {node_budget!r}")
    flag(grads, "grads")
    flag(heat, "heat")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    if tokens is not None and not isinstance(tokens, (Mapping, Sequence)):
        raise TypeError(f"tokens must map token ids to text (a dict, or a list/str indexed by id), got "
                        f"{type(tokens).__name__}")
    if max_width is not None and (isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 200):
        raise ValueError(f"max_width must be None or an int ≥ 200 (pixels at 96 dpi), got {max_width!r}")


def draw(
    obj: Any,
    view: str | None = None,
    grads: bool = True,
    max_steps: int = 8,
    heat: bool = True,
    node_budget: int = NODE_BUDGET,
    title: str | None = None,
    reveal: Callable[[Any], bool] | None = None,
    tokens: Mapping[int, Any] | Sequence[Any] | None = None,
    max_width: int | None = MAX_WIDTH,
    scale: Any = None,
) -> graphviz.Digraph:
    r"""Draw an ``Unrolled``, a ``Tensor`` or a ``Value`` and everything it depends on.

    view="coarse" (the default for an ``Unrolled``) keeps the nodes the unroller recorded (X_t, gates,
    C_t, H_t, O_t, L_t, parameters, copies, context cuts) and contracts the op nodes between them;
    "ops" (the default for a Value or Tensor expression, as micrograd's ``draw_dot``) shows every op,
    with ∂out/∂in on each edge of a Value graph. Above ``max_steps`` time steps the middle ones fold
    into one "… k steps …" node, and more fold while the picture is wider than ``max_width`` pixels at
    96 dpi (a slide; None: no limit). ``tokens`` (a dict id → text, or a list/str indexed by id) shows
    a token-id net's inputs as text: X_3 ‘h’. ``reveal(node)`` picks the nodes whose gradients are
    shown (the stepper uses it); by default all. The colour scale is that of all the picture's gradients,
    unless ``scale`` gives one: a (lo, hi) range of |gradient|, or ``scale_of(an earlier picture)``, so
    that two nets, two values of w or two training steps drawn apart read on one scale (the legend says
    "shared"; a gradient beyond the range takes the end colour).

    Labels must be str or None (TypeError naming the node otherwise). They are printed as text: a
    line break shows as ⏎, a tab as a space, other control characters and invisible format characters
    (bidi controls, zero-width) as their escape (``\x00``, ``\u202e``): a label cannot reverse or hide text.
    """
    if reveal is not None and not callable(reveal):
        raise TypeError(f"reveal must be a function node → bool or None, got {type(reveal).__name__}")
    args = (view, grads, max_steps, heat, node_budget, title, tokens, max_width)
    _check_draw_args(*args)
    overlay = None
    if view == "contributions":  # the coarse picture, each copy with its bar of C[t, k] (viz.overlay)
        overlay = contributions_overlay(obj)
        args = ("coarse", *args[1:])
    m, frames, texts, pos = _fit(obj, args, lambda m: [_Frame(reveal or _every, m)], scale=_given_scale(scale),
                                 overlay=overlay)
    return _emit(m, frames[0], texts[0], pos, max_width)


def _fit(obj: Any, args: tuple, frames_of: Callable[[_Model], list[_Frame]],
         width_of: Callable[[_Model], list[_Frame]] | None = None, scale: _Heat | None = None,
         overlay: dict[int, list[tuple[int, float]]] | None = None
         ) -> tuple[_Model, list[_Frame], list[dict[str, _Text]], dict[str, tuple[float, float]]]:
    """The model, its frames, their labels (each node as wide as its widest frame) and the positions —
    with more steps folded while the grid is wider than ``max_width``."""
    view, grads, max_steps, heat, node_budget, title, tokens, max_width = args
    notes: list[str] = []
    src = _source(obj, tokens)
    while True:
        m = _model(obj, src, view, grads, max_steps, heat, node_budget, title, notes, scale)
        m.overlay = overlay
        frames = frames_of(m)
        texts = [_texts(m, f) for f in frames]
        widest = _same_sizes(texts, [_texts(m, f) for f in width_of(m)] if width_of else [])
        pos, width = _layout(m, widest)
        drawn_steps = len({n.t for n in m.drawn if n.t is not None and n.t >= 1})
        if (max_width is None or not m.grid or width * 96 <= max_width - 40 or drawn_steps <= 2
                or max_steps <= 2):
            return m, frames, texts, pos
        max_steps = max(2, min(max_steps, drawn_steps) - 1)
        view = m.view  # a switch to the coarse view (over the node budget) stays, with its note
        notes = [x for x in m.notes
                 if not x.startswith(("steps ", "folded to fit"))]
        notes.append(f"folded to fit {max_width:,} px")


def _same_sizes(texts: list[dict[str, _Text]], sizing: list[dict[str, _Text]]) -> dict[str, _Text]:
    """Each node's box in every frame made as wide and as high as its largest over ``texts`` and ``sizing``
    (frames measured only), so all the frames share one layout. Returns those sizes."""
    every = texts + sizing
    widest = {k: _Text([], max(t[k].width for t in every), max(t[k].height for t in every)) for k in texts[0]}
    for t in texts:
        for k, text in t.items():
            text.width, text.height = widest[k].width, widest[k].height
    return widest


def scale_of(picture: graphviz.Digraph) -> _Heat:
    """The colour scale a picture was drawn on, to draw another on the same one: ``draw(u2, scale=
    scale_of(draw(u1)))``. ``.range`` is its (smallest, largest) |gradient|.

        >>> import micrornn as mr
        >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
        >>> [round(v, 3) for v in scale_of(draw(y)).range]
        [1.0, 4.0]
    """
    scale = getattr(picture, "_micrornn_scale", None) if isinstance(picture, graphviz.Digraph) else None
    if scale is None:
        what = "a picture drawn without a colour scale (heat=False, grads=False or no gradient yet)" if isinstance(
            picture, graphviz.Digraph) else f"a {type(picture).__name__}"
        raise ValueError(f"scale_of(picture): picture must be one that draw() or a stepper drew with its "
                         f"gradients' colours, got {what}")
    return scale
