"""The label of every box: its name in the notes' notation, its data and its gradient in one frame."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..record import Role
from .model import _Frame, _Model
from .nodes import _FOLD, _key, _Token
from .overlay import bar
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
    """"(l1,rev)": the layer and direction of a node that is not on the first layer's forward pass."""
    parts = ([f"l{role.layer}"] if role.layer else []) + (["rev"] if role.direction else [])
    return f"({','.join(parts)})" if parts else ""


def _node_lines(m: _Model, frame: _Frame, n: Any) -> list[_Piece]:
    """A box's lines: its name, typeset as its role's kind asks (``_NAMES``), then its numbers."""
    if isinstance(n, _Token):
        return [_line(_math(n.label, bold=True)), _plain(n.text)]
    role = m.roles.get(id(n))
    kind = role.kind if role is not None else ""
    numbers = _sum_lines if id(n) in m.params else _value_lines
    return _NAMES.get(kind, _shaped_name)(n, role) + numbers(m, frame, n, kind)


# -- names, per role kind -------------------------------------------------------------------------------------
def _named(n: Any, extra: list[_Piece]) -> list[_Piece]:
    """The node's label in bold notation, ``extra`` after it; an unlabelled node shows its op in italics."""
    if not n.label:
        return [_plain(n._op or "leaf", italic=True)]
    return [_line([*_math(_printable(n.label), bold=True), *extra])]


def _shape(n: Any) -> list[_Piece]:
    """" (3, 1)" after an array's name (a number, or an array of one, has none)."""
    shape = np.shape(n.data)
    return [_plain(f" {shape}")] if len(shape) and np.size(n.data) > 1 else []


def _shaped_name(n: Any, role: Role | None) -> list[_Piece]:
    return _named(n, _shape(n))


def _bare_name(n: Any, role: Role | None) -> list[_Piece]:
    """A weight copy or a gate: no shape (a copy's is its parameter's, a gate's its state's)."""
    return _named(n, [])


def _param_name(n: Any, role: Role | None) -> list[_Piece]:
    """A shared parameter: which part of a seq2seq it belongs to, and its shape."""
    part = [_plain(f" ({role.part})")] if role is not None and role.part else []
    return _named(n, part + _shape(n))


def _context_name(n: Any, role: Role | None) -> list[_Piece]:
    """The Elman/Jordan context: a detached copy of the previous state, not a weight copy."""
    assert role is not None  # a context is known by its recorded role
    before = None if role.t is None else role.t + (1 if role.direction else -1)  # reverse: from t + 1
    prev = f"{role.name}_{before}{_suffix(role)}" if before is not None else role.name
    return [_line(_math(f"context_{role.t}{_suffix(role)}", bold=True)),
            _line([_plain("copy of "), *_math(prev), _plain(", no gradient")])]


_NAMES: dict[str, Callable[[Any, Role | None], list[_Piece]]] = {
    "cut": _context_name, "param": _param_name, "copy": _bare_name, "gate": _bare_name,
}  # every other kind (and a hand-built graph's nodes): _shaped_name


# -- numbers ------------------------------------------------------------------------------------------------
def _grad_text(frame: _Frame, n: Any, gr: Any) -> str:
    """The gradient shown; "·" while it is not shown yet; "—" if the loss does not depend on ``n``."""
    return _value(gr) if gr is not None else ("·" if frame.has_grad(n) else "—")


def _sum_lines(m: _Model, frame: _Frame, n: Any, kind: str) -> list[_Piece]:
    """A shared parameter: Σ_t ∂L/∂W_t over its shown copies, and how many copies there are."""
    copies = m.params[id(n)]
    count, have = len(copies), sum(1 for c in copies if frame.shown(c))
    lines = []
    if m.grads:
        sym = _printable(n.label or "W")
        lines.append(_line([*_math("Σ_t"), _plain(" ∂L/∂"), *_math(f"{sym}_t" if "_" not in sym else sym),
                            _plain(f" = {_grad_text(frame, n, frame.grad(n))}")]))
    lines.append(_plain(f"{count} per-step cop{'y' if count == 1 else 'ies'}" if have == count
                        else f"Σ over {have} of {count} copies"))
    return lines


def _value_lines(m: _Model, frame: _Frame, n: Any, kind: str) -> list[_Piece]:
    """Any other node: its data (a copy shares its parameter's, so it shows its gradient only), its gradient."""
    lines = []
    if kind != "copy" and n._op != "copy":
        lines.append(_plain(f"data {_value(n.data)}"))
    if m.grads:
        lines.append(_plain("grad " + _grad_text(frame, n, frame.grad(n))))
    if m.overlay is not None and kind == "copy":  # view="contributions": what each loss sends into W_k
        lines.append(bar(m.overlay.get(id(n), [])))
    return lines


def _fold_lines(m: _Model, frame: _Frame) -> list[_Piece]:
    """The fold node's lines: how many steps, which, and the range of |∂L/∂H_t| over them."""
    lines = [_plain(f"… {len(m.hidden)} steps …", 11), _plain(f"t = {m.hidden[0]}–{m.hidden[-1]}", 11)]
    if m.grads and m.fold_states:
        norms = [_magnitude(frame.grad(n)) for n in m.fold_states if frame.grad(n) is not None]
        what = [_plain("|∂L/∂", 11), *_math("H_t", 11), _plain("|", 11)]
        if len(norms) == len(m.fold_states):
            lines.append(_line([*what, _plain(f" from {_fmt(min(norms))} to {_fmt(max(norms))}", 11)]))
        else:
            lines.append(_line([*what, _plain(" ·", 11)]))
    return lines


# -- frames that share a layout --------------------------------------------------------------------------------
_FIXED = re.compile(r'FIXEDSIZE="TRUE" WIDTH="(\d+)"')


def _tables(text: _Text) -> list[int]:
    """The widths of the fixed-size tables (lines of several runs) in a label, in order."""
    return [int(w) for line in text.lines for w in _FIXED.findall(line)]


def _pinned(text: _Text, widths: list[int], size: _Text) -> _Text:
    """``text`` in a box of ``size``, its fixed-size tables ``widths`` wide (the layout's: nothing moves)."""
    left = iter(widths)
    lines = [_FIXED.sub(lambda m: f'FIXEDSIZE="TRUE" WIDTH="{next(left)}"', line) for line in text.lines]
    return _Text(lines, size.width, size.height)
