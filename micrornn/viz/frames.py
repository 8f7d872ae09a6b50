"""Steppers' frames: the forward and backward passes one step at a time, every frame on one layout."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import graphviz

from .dot import FRAME_BUDGET, _seconds
from .emit import _emit
from .flow import _Flow
from .heat import _given_scale
from .labels import _pinned, _tables, _Text
from .model import NODE_BUDGET, _Frame, _Model, _steps
from .nodes import _FOLD, _key
from .picture import MAX_WIDTH, _check_draw_args, _fit
from .text import _printable, _value


def backward_frames(obj: Any, view: str | None = None, max_steps: int = 8, grads: bool = True, heat: bool = True,
                    node_budget: int = NODE_BUDGET, title: str | None = None,
                    budget: float = FRAME_BUDGET, tokens: Mapping[int, Any] | Sequence[Any] | None = None,
                    max_width: int | None = MAX_WIDTH, scale: Any = None) -> list[tuple[graphviz.Digraph, str]]:
    """Pictures in the order backprop computes the gradients, each with a caption.

    For a graph with time steps: the forward pass first, then one frame per drawn step from T down to
    1 as the gradients arrive (the shared parameters' Σ grows one copy at a time), then "done". The
    steps ``draw`` folds into one "… k steps …" node (beyond ``max_steps``) get one frame together, so
    T = 1,000 makes about ``max_steps`` + 3 frames. Without time steps: one frame per labelled node
    (at most 60), in backward order. Call ``backward()`` first.

    The graph is walked once; every frame has the same nodes, edges, colour scale and label widths, so
    the pictures share one layout (``forward_frames``' too) and only colours and numbers change. If
    the frames take longer than ``budget`` seconds, a TimeoutError says how far they got (a stepper
    that silently stops half-way would teach the wrong thing).

        >>> import micrornn as mr
        >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
        >>> [caption for _, caption in backward_frames(y)][1]
        'Backward step 1: ∂L/∂y = 1'
    """
    budget = _seconds("budget", budget)
    start = time.perf_counter()
    args = (view, grads, max_steps, heat, node_budget, title, tokens, max_width)
    _check_draw_args(*args, views=("coarse", "ops"))
    captions: list[str] = []

    def frames_of(m: _Model) -> list[_Frame]:
        plan = _backward_plan(m)
        captions[:] = [c for _, c in plan]
        return [_Frame(shown, m) for shown, _ in plan]

    m, frames, texts, pos = _fit(obj, args, frames_of, scale=_given_scale(scale))
    texts = _tables_alike(texts)
    out = []
    for i, (frame, text, caption) in enumerate(zip(frames, texts, captions)):
        _check_budget(start, budget, i, len(frames), "backward_frames")
        out.append((_emit(m, frame, text, pos, max_width), caption))
    _check_budget(start, budget, len(frames), len(frames), "backward_frames")
    return out


def forward_frames(obj: Any, view: str | None = None, max_steps: int = 8, grads: bool = True, heat: bool = True,
                   node_budget: int = NODE_BUDGET, title: str | None = None,
                   budget: float = FRAME_BUDGET, tokens: Mapping[int, Any] | Sequence[Any] | None = None,
                   max_width: int | None = MAX_WIDTH, scale: Any = None) -> list[tuple[graphviz.Digraph, str]]:
    """The graph growing one time step at a time, each picture with a caption.

    First the shared parameters (and H_0 if there is one), then one frame per drawn step t = 1 … T
    (the folded steps in one frame), then the loss. Nodes of later steps are already in the picture as
    invisible placeholders, so nothing moves: the layout is that of ``backward_frames`` with the same
    arguments, and a forward stepper followed by a backward one reads as one film. No gradient is
    shown yet ("grad ·"). Without time steps: one frame per op node (at most 60), in forward order.

        >>> import micrornn as mr
        >>> a = mr.Value(2.0, label="a"); y = a * a; y.label = "y"; y.backward()
        >>> [caption for _, caption in forward_frames(y)][-1]
        'Forward done: the loss is computed; backward can start.'
    """
    budget = _seconds("budget", budget)
    start = time.perf_counter()
    args = (view, grads, max_steps, heat, node_budget, title, tokens, max_width)
    _check_draw_args(*args, views=("coarse", "ops"))
    plan: list[tuple[Callable[[str], bool], str]] = []

    def frames_of(m: _Model) -> list[_Frame]:
        plan[:] = _forward_plan(m)
        return [_Frame(lambda n: False, m)]  # no gradient is shown going forward

    def sizing(m: _Model) -> list[_Frame]:  # the widths backward_frames gives: the same layout
        return [_Frame(shown, m) for shown, _ in _backward_plan(m)]

    m, frames, texts, pos = _fit(obj, args, frames_of, sizing, scale=_given_scale(scale))
    out = []
    for i, (visible, caption) in enumerate(plan):
        _check_budget(start, budget, i, len(plan), "forward_frames")
        out.append((_emit(m, frames[0], texts[0], pos, max_width, visible=visible), caption))
    _check_budget(start, budget, len(plan), len(plan), "forward_frames")
    return out


def _tables_alike(texts: list[dict[str, _Text]]) -> list[dict[str, _Text]]:
    """Every frame's line tables as wide as their widest in any frame, so a number that grows moves nothing
    in its line: the frames differ only in their texts and colours, and a Stepper patches them into frame
    0's SVG (one dot run) instead of drawing each."""
    out = [dict(t) for t in texts]
    for k in texts[0]:
        widths = [_tables(t[k]) for t in texts]
        if len({len(w) for w in widths}) != 1:
            continue
        widest = [max(column) for column in zip(*widths)]
        for t in out:
            t[k] = _pinned(t[k], widest, t[k])
    return out


def _check_budget(start: float, budget: float, made: int, total: int, who: str) -> None:
    """A TimeoutError saying how far the frames got, once ``budget`` seconds have passed since ``start``."""
    if time.perf_counter() - start > budget:
        raise TimeoutError(f"{who}: the time budget of {budget:g} s ran out after {made} of {total} frames; "
                           "draw fewer steps (max_steps=) or pass a larger budget=")


Plan = list[tuple[Callable[[Any], bool], str]]  # per frame: what it shows (a node key or a node → bool), caption
_FORWARD_DONE = "Forward done: the loss is computed; backward can start."


def _forward_plan(m: _Model) -> Plan:
    """(which node keys are visible, caption) for every frame of the forward stepper."""
    steps = [t for t in _steps(m.drawn) if t >= 1]
    return _forward_by_step(m, steps) if steps else _forward_by_op(m)


def _forward_by_step(m: _Model, steps: list[int]) -> Plan:
    """The parameters first, then one step at a time (the folded ones in one frame), then the loss."""
    keyed = {_key(n): n for n in m.drawn}
    start = "the shared parameters" + (" and the initial state" if any(
        n.t == 0 for n in m.drawn) else "") + ": nothing is computed yet."
    plan = [(_upto(m, keyed, 0), f"Forward: {start}")]
    for t in steps:
        plan.append((_upto(m, keyed, t), f"Forward, t = {t}: step {t} reads X_{t} and the state of step {t - 1}, "
                     f"through its own copies of the weights."))
        if m.hidden and t == m.hidden[0] - 1:
            plan.append((_upto(m, keyed, m.hidden[-1]), f"Forward through the {len(m.hidden)} folded steps, "
                         f"t = {m.hidden[0]} to {m.hidden[-1]} (one frame for all of them)."))
    plan.append((_upto(m, keyed, math.inf), _FORWARD_DONE))
    return plan


def _upto(m: _Model, keyed: dict[str, Any], k: float) -> Callable[[str], bool]:
    """Which node keys are visible once step ``k`` is computed: the parameters, and every step up to k."""
    def visible(key: str) -> bool:
        if key in ("legend",):
            return True
        if key == _FOLD:
            return bool(m.hidden) and k >= m.hidden[-1]
        n = keyed.get(key)
        if n is None or id(n) in m.params:
            return True
        return (n.t if n.t is not None else math.inf) <= k
    return visible


def _forward_by_op(m: _Model) -> Plan:
    """A graph without time steps: the leaves first, then one op at a time (at most 60), in forward order."""
    order = [n for n in m.drawn]
    rank = {_key(n): i for i, n in enumerate(order)}
    plan: Plan = []
    computed = [n for n in order if n._parents]
    leaves = sum(1 for n in order if not n._parents)
    plan.append((lambda k, r=leaves - 1: rank.get(k.replace("op", "n", 1), -1) <= r or k == "legend",
                 "Forward: the inputs and parameters (the leaves)."))
    for i, n in enumerate(computed[:60], start=1):
        r = rank[_key(n)]
        name = _printable(n.label) if n.label else n._op
        plan.append((lambda k, r=r: k == "legend" or rank.get(k.replace("op", "n", 1), -1) <= r,
                     f"Forward step {i}: {name} = {_value(n.data)}"))
    plan.append((lambda k: True, _FORWARD_DONE))
    return plan


def _backward_plan(m: _Model) -> Plan:
    """(which gradients are shown, caption) for every frame, in backward order."""
    plan: Plan = [(lambda n: False, "Forward pass: every value is computed; no gradient yet.")]
    steps = [t for t in _steps(m.nodes) if t >= 1]
    return plan + (_backward_by_step(m, steps) if steps else _backward_by_label(m))


def _from_step(k: int) -> Callable[[Any], bool]:
    """Show the gradients of step ``k`` and every later step (and of the nodes of no step)."""
    return lambda n: n.t is None or n.t >= k


def _backward_by_step(m: _Model, steps: list[int]) -> Plan:
    """From the last step down to the first (the folded ones in one frame), each frame with its flow."""
    T, hidden = steps[-1], set(m.hidden)
    flow = _Flow(m.roles, steps[0], T)
    plan: Plan = []
    for k in reversed([t for t in steps if t not in hidden]):
        caption = (flow.caption(k) if k < T else
                   f"Backward starts at the loss and reaches the last step, t = {T}.")
        plan.append((_from_step(k), caption))
        if m.hidden and k == m.hidden[-1] + 1:  # the folded steps, all in one frame
            plan.append((_from_step(m.hidden[0]), _fold_caption(m.hidden, flow)))
    plan.append((lambda n: True, "Done: each shared parameter's gradient is the sum of its per-step copies' "
                 "gradients."))
    return plan


def _fold_caption(hidden: list[int], flow: _Flow) -> str:
    """The caption of the one frame for all the folded steps: do their copies get any gradient?"""
    first, last = hidden[0], hidden[-1]
    flows = any(flow.sources(t) or flow.bidirectional and flow.sources(t, 1) for t in hidden)
    return (f"Backward runs through the {len(hidden)} folded steps, t = {last} down to {first} "
            "(one frame for all of them); " + (
                "their copies add their shares to each Σ." if flows else
                "no gradient reaches them, so their copies add nothing to any Σ."))


def _backward_by_label(m: _Model) -> Plan:
    """A graph without time steps: one labelled node at a time (at most 60), in the order backward
    completes their gradients, then the rest at once."""
    back = list(reversed(m.nodes))
    rank = {id(n): i for i, n in enumerate(back)}
    labelled = [n for n in back if n.label]
    plan: Plan = []
    for i, n in enumerate(labelled[:60], start=1):
        r = rank[id(n)]
        plan.append((lambda x, r=r: rank.get(id(x), -1) <= r,
                     f"Backward step {i}: ∂L/∂{_printable(n.label)} = {_value(n.grad)}"))
    rest = len(labelled) - 60
    plan.append((lambda n: True, "Done: every gradient is computed" + (
        f" (the last {rest} labelled nodes at once)." if rest > 0 else ".")))
    return plan

