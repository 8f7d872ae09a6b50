"""The label of every box: its name in the notes' notation, its data and its gradient in one frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..record import Role
from .model import _Frame, _Model
from .nodes import _FOLD, _key, _Token
from .text import _fmt, _line, _magnitude, _math, _Piece, _plain, _printable, _value


@dataclass
class _Text:
    """The lines of one node's label (Graphviz HTML) and the box they need, in points."""

    lines: list[str]
    width: float
    height: float


def _texts(m: _Model, frame: _Frame) -> dict[str, _Text]:
    """The label of every drawn node (and of the fold node) in one frame."""
    out = {}
    for n in m.drawn:
        lines = _node_lines(m, frame, n)
        out[_key(n)] = _Text([p.html for p in lines], max(p.width for p in lines) + 8,
                             sum(p.height + 6 for p in lines) + 4)
    if m.hidden:
        lines = _fold_lines(m, frame)
        out[_FOLD] = _Text([p.html for p in lines], max(p.width for p in lines) + 40,
                           sum(p.height + 2 for p in lines) + 14)
    return out


def _suffix(role: Role) -> str:
    parts = ([f"l{role.layer}"] if role.layer else []) + (["rev"] if role.direction else [])
    return f"({','.join(parts)})" if parts else ""


def _node_lines(m: _Model, frame: _Frame, n: Any) -> list[_Piece]:
    role = m.roles.get(id(n))
    kind = role.kind if role is not None else ""
    if isinstance(n, _Token):
        return [_line(_math(n.label, bold=True)), _plain(n.text)]
    if kind == "cut" and role is not None:  # the Elman/Jordan context: a copy, not a weight copy
        before = None if role.t is None else role.t + (1 if role.direction else -1)  # reverse: from t + 1
        prev = f"{role.name}_{before}{_suffix(role)}" if before is not None else role.name
        lines = [_line(_math(f"context_{role.t}{_suffix(role)}", bold=True)),
                 _line([_plain("copy of "), *_math(prev), _plain(", no gradient")])]
    elif n.label:
        name = _math(_printable(n.label), bold=True)
        if kind == "param" and role is not None and role.part:
            name.append(_plain(f" ({role.part})"))
        shape = np.shape(n.data)
        if len(shape) and np.size(n.data) > 1 and kind not in ("copy", "gate"):
            name.append(_plain(f" {shape}"))
        lines = [_line(name)]
    else:
        lines = [_plain(n._op or "leaf", italic=True)]
    gr = frame.grad(n) if m.grads else None
    if id(n) in m.params:
        copies = m.params[id(n)]
        count, have = len(copies), sum(1 for c in copies if frame.shown(c))
        if m.grads:
            sym = _printable(n.label or "W")
            total = _value(gr) if gr is not None else ("·" if frame.has_grad(n) else "—")
            lines.append(_line([*_math("Σ_t"), _plain(" ∂L/∂"), *_math(f"{sym}_t" if "_" not in sym else sym),
                                _plain(f" = {total}")]))
        lines.append(_plain(f"{count} per-step cop{'y' if count == 1 else 'ies'}" if have == count
                            else f"Σ over {have} of {count} copies"))
        return lines
    if kind != "copy" and n._op != "copy":  # a copy shares its parameter's data: show its gradient only
        lines.append(_plain(f"data {_value(n.data)}"))
    if m.grads:
        text = _value(gr) if gr is not None else ("·" if frame.has_grad(n) else "—")
        lines.append(_plain("grad " + text))
    return lines


def _fold_lines(m: _Model, frame: _Frame) -> list[_Piece]:
    lines = [_plain(f"… {len(m.hidden)} steps …", 11), _plain(f"t = {m.hidden[0]}–{m.hidden[-1]}", 11)]
    if m.grads and m.fold_states:
        norms = [_magnitude(frame.grad(n)) for n in m.fold_states if frame.grad(n) is not None]
        what = [_plain("|∂L/∂", 11), *_math("H_t", 11), _plain("|", 11)]
        if len(norms) == len(m.fold_states):
            lines.append(_line([*what, _plain(f" from {_fmt(min(norms))} to {_fmt(max(norms))}", 11)]))
        else:
            lines.append(_line([*what, _plain(" ·", 11)]))
    return lines
