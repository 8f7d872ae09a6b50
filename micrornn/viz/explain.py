"""The legend's explaining lines: what a mark in this picture means, said only where the picture shows it.

- ``|x|``: a box of a vector or matrix shows the length (Euclidean norm) of its data and gradient;
- twin biases ``b^X`` and ``b^H``: PyTorch's ``bias_ih`` and ``bias_hh``, added into one sum (a GRU gates
  the candidate's part of ``b^H``);
- a first step without the terms that read the state: no ``h0`` was given, so t = 1 has no ``W^H`` copy
  (and an LSTM no forget gate f, a GRU no reset gate r: there is no C_0 or H_0 for them to act on).

    >>> import numpy as np
    >>> from micrornn.nn import LSTM; from micrornn.unroll import many_to_one
    >>> from micrornn.viz.model import _model; from micrornn.viz.source import _source
    >>> u = many_to_one(LSTM(2, 3, 2, seed=0), np.ones((3, 2)), np.zeros(2)); u.backward()
    >>> for line in lines(_model(u, _source(u, None))): print(line)
    |x|: the length of a vector or matrix x, √(Σ x²), for its data and its gradient
    b^X, b^H: two biases, as PyTorch's bias_ih and bias_hh: added into one sum, so their gradients are equal
    t = 1 has no W^H, f: no h0 was given, so there is no H_0 or C_0 for them to act on (the notes' first step)
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .model import _Model

__all__ = ["lines"]

# the pairs of biases a cell adds into one pre-activation, as PyTorch's bias_ih and bias_hh
_TWINS = (("b_x", "b_h"),)


def lines(m: _Model) -> list[str]:
    """The explaining lines that apply to the picture ``m`` (plain text; the legend escapes it), worked out
    once per model: the layout sizes the legend by them, and every frame's legend shows them."""
    if m.explained is None:
        m.explained = [line for line in (_norms(m), _twin_biases(m), _first_step(m)) if line]
    return m.explained


def _norms(m: _Model) -> str:
    """A box that holds more than one number shows |x|."""
    if any(np.size(getattr(n, "data", 0.0)) > 1 for n in m.drawn):
        return "|x|: the length of a vector or matrix x, √(Σ x²), for its data and its gradient"
    return ""


def _twin_biases(m: _Model) -> str:
    """Two biases in one pre-activation: equal gradients where they only add. A GRU's candidate n (its
    gate "n") multiplies b^H's part by r, so there they differ. (Read from the structure, never from the
    numbers: a repainted frame keeps its legend's lines.)"""
    shown = {m.roles[id(n)].name for n in m.drawn if id(n) in m.roles and m.roles[id(n)].kind == "param"}
    for a, b in _TWINS:
        if a in shown and b in shown:
            pair = f"{_label(m, a)}, {_label(m, b)}: two biases, as PyTorch's bias_ih and bias_hh"
            if any(r.kind == "gate" and r.name == "n" for r in m.roles.values()):
                return (pair + ": equal gradients where they only add; the candidate n gates b^H's part, "
                        "r ⊙ (W^H H + b^H), so that part differs")
            return pair + ": added into one sum, so their gradients are equal"
    return ""


def _first_step(m: _Model) -> str:
    """The copies and gates the later steps have and the first step lacks (it reads no state)."""
    per_step: dict[int, dict[tuple[str, str], str]] = defaultdict(dict)
    for n in m.drawn:
        role = m.roles.get(id(n))
        if role is None or role.t is None or id(n) in m.head or role.kind not in ("copy", "gate"):
            continue
        if role.part == "decoder":  # a decoder starts from the encoder's state: nothing is missing there
            continue
        shown = role.name if role.kind == "gate" else _label(m, role.name)
        per_step[role.t][(role.kind, role.name)] = shown
    if len(per_step) < 2:
        return ""
    first = min(per_step)
    later: dict[tuple[str, str], str] = {}
    for t in sorted(per_step)[1:]:
        later.update(per_step[t])
    missing = [shown for key, shown in later.items() if key not in per_step[first]]
    if not missing:
        return ""
    state = "H_0 or C_0" if any(r.kind == "C" for r in m.roles.values()) else "H_0"
    them = "them" if len(missing) > 1 else "it"
    return (f"t = {first} has no {', '.join(missing)}: no h0 was given, so there is no {state} for {them} to act "
            "on (the notes' first step)")


def _label(m: _Model, name: str) -> str:
    """A parameter's label as the notes write it (W^H, b^X …), read from its drawn leaf."""
    for n in m.drawn:
        role = m.roles.get(id(n))
        if role is not None and role.kind == "param" and role.name == name and getattr(n, "label", None):
            return str(n.label)
    return name
