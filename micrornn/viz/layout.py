"""The grid of the coarse view: time left to right, one block per step, rows X, copies, gates, C, H, O, L."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import explain
from .labels import _Text
from .model import _Model
from .nodes import _FOLD, _key

_GAP, _STEP_GAP, _ROW_GAP = 0.2, 0.5, 0.45  # inches between boxes in a row, between steps, between rows


def _row_of(m: _Model, n: Any) -> tuple:
    """The row of a node in its step's block, as a sort key from bottom to top: X; then per layer and
    direction its weight copies (and context), gates, C, H; then the head's copies, O, L."""
    role = m.roles.get(id(n))
    if role is None:
        return (3, 0, 0, 9)
    kind, band = role.kind, (role.layer, role.direction)
    if m.roles and role.name.isdigit():  # a hand-built graph: rows by depth within the step
        return {"input": (1,), "copy": (2,)}.get(kind, (3, int(role.name)))
    if kind == "input":
        return (1,) if role.layer == 0 else (2, *band, 0)
    if kind == "copy" and id(n) in m.head:
        return (4,)
    if kind in ("copy", "cut"):
        return (2, *band, 0)
    order = {"gate": 1, "C": 2, "state": 2, "H": 3}
    if kind in order:
        return (2, *band, order[kind])
    return {"output": (5,), "loss": (6,) if role.t is not None else (7,)}.get(kind, (3, 0, 0, 9))


def _per_line(count: int) -> int:
    """Boxes of one row of a step side by side; three or more go in two lines (a step stays narrow)."""
    return count if count <= 2 else math.ceil(count / 2)


class _Hole:
    """An empty slot in a row of gates: the gate this step lacks (an LSTM's f at t = 1, with no C_0 to
    forget), as wide as the same gate at another step, so every column shows i, f, g, o in one place."""

    __slots__ = ("like",)

    def __init__(self, like: Any) -> None:
        self.like = like


_SLOTTED = ("gate", "copy")  # boxes that keep one place per name across the columns (a cut, made only at
# some steps, follows them where it is)


def _box(n: Any) -> str:
    """The key of the box whose size a slot takes: its own, or for a hole the same gate's at another step."""
    return _key(n.like if type(n) is _Hole else n)


Row = tuple  # a row's sort key, from _row_of
Lines = dict[Row, dict[int, list[list[Any]]]]  # row → step → the lines of boxes it holds there


@dataclass
class _Boxes:
    """Box sizes (inches) by node key, and the centre positions placed so far."""

    w: dict[str, float]
    h: dict[str, float]
    pos: dict[str, tuple[float, float]] = field(default_factory=dict)

    def width(self, line: list[Any]) -> float:
        """The width of boxes side by side (a hole as wide as the box it stands for)."""
        return sum(self.w[_box(n)] for n in line) + _GAP * (len(line) - 1)

    def place(self, line: list[Any], left: float, y: float) -> None:
        """Boxes side by side from ``left``, their centres at height ``y``; a hole only takes its room."""
        for n in line:
            if type(n) is not _Hole:
                self.pos[_key(n)] = (left + self.w[_key(n)] / 2, y)
            left += self.w[_box(n)] + _GAP


def _grid(m: _Model, texts: dict[str, _Text]) -> tuple[dict[str, tuple[float, float]], float]:
    """Pinned centre positions (inches) of every drawn node, and the picture's width in inches."""
    boxes = _Boxes({k: (t.width + 6) / 72 for k, t in texts.items()},  # the label, and the box's borders
                   {k: t.height / 72 for k, t in texts.items()})
    # the order the unroller recorded the nodes (i, f, g, o; W^X before W^H …), else topological order
    order = {i: k for k, i in enumerate(m.roles)}
    rank = {id(n): (order.get(id(n), 0), i) for i, n in enumerate(m.drawn)}
    outside = [n for n in m.drawn if id(n) in m.params or n.t is None and _row_of(m, n) < (7,)]
    totals = [n for n in m.drawn if n.t is None and id(n) not in m.params and n not in outside]
    lines = _lines(m, rank)
    row_y, top = _row_heights(lines, boxes.h)
    spans, span = _place_steps(m, lines, row_y, top, boxes)
    for n in totals:  # the total loss L = Σ L_t, above the middle
        boxes.pos[_key(n)] = (span / 2, top + boxes.h[_key(n)] / 2)
    y = _place_params(m, sorted(outside, key=lambda n: rank[id(n)]), spans, span, boxes)
    if m.scale:  # its top a quarter inch under the parameters, however many lines it explains
        boxes.pos["legend"] = (2.6, y - 0.25 - m.scale.legend_height(m.c_path, explain.lines(m)) / 2)
    pos = boxes.pos
    return pos, max(span, max((p[0] + boxes.w.get(k, 0) / 2 for k, p in pos.items()), default=0.0))


def _lines(m: _Model, rank: dict[int, tuple[int, int]]) -> Lines:
    """Each step's boxes by row, in recorded order, cut into lines of ``_per_line``. The rows are shared
    by every step, so a path such as C_{t-1} → C_t is one straight line."""
    blocks: dict[int, dict[Row, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for n in m.drawn:
        if n.t is not None and id(n) not in m.params:
            blocks[n.t][_row_of(m, n)].append(n)
    lines: Lines = defaultdict(dict)
    slots = _slots(m, blocks, rank)
    for t, rows in blocks.items():
        for r, ns in rows.items():
            ns.sort(key=lambda n: rank[id(n)])
            if r in slots:  # gates, copies: one place per name in every column, a hole where a step lacks one
                have = dict(_slotted(m, ns))
                rest = [n for n in ns if not _has_slot(m, n)]
                ns = [have[key] if key in have else _Hole(like) for key, like in slots[r]] + rest
            k = _per_line(len(ns))
            lines[r][t] = [ns[i:i + k] for i in range(0, len(ns), k)]
    return lines


def _slots(m: _Model, blocks: dict[int, dict[Row, list[Any]]],
           rank: dict[int, tuple[int, int]]) -> dict[Row, list[tuple[tuple[str, str, int], Any]]]:
    """Each row of gates or weight copies → the (kind, name) of its boxes in the recorded order (the step
    with the most boxes first, so an LSTM's t = 1 without f and W^H does not decide it), each with one box
    of that name for a hole's size."""
    found: dict[Row, dict[tuple[str, str, int], Any]] = defaultdict(dict)
    for rows in sorted(blocks.values(), key=lambda rows: -sum(len(ns) for ns in rows.values())):
        for r, ns in rows.items():
            for key, n in _slotted(m, sorted(ns, key=lambda n: rank[id(n)])):
                found[r].setdefault(key, n)
    return {r: list(names.items()) for r, names in found.items()}


def _has_slot(m: _Model, n: Any) -> bool:
    role = m.roles.get(id(n))
    return role is not None and role.kind in _SLOTTED


def _slotted(m: _Model, ns: list[Any]) -> list[tuple[tuple[str, str, int], Any]]:
    """The boxes that keep a place, each with its slot: (kind, name, k) for the k-th box of that name in
    the step (a weight on the Value engine is one box per entry; a hand-built graph's names repeat)."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for n in ns:
        if _has_slot(m, n):
            role = m.roles[id(n)]
            k = seen[role.kind, role.name]
            seen[role.kind, role.name] += 1
            out.append(((role.kind, role.name, k), n))
    return out


def _row_heights(lines: Lines, h: dict[str, float]) -> tuple[dict[Row, list[float]], float]:
    """The centre height of each line of each row, bottom to top, and the height of them all."""
    y, row_y = 0.0, {}
    for r in sorted(lines):
        height = max(h[_box(n)] for ls in lines[r].values() for line in ls for n in line)
        count = max(len(ls) for ls in lines[r].values())
        row_y[r] = [y + height / 2 + i * (height + _GAP) for i in range(count)]
        y += count * height + (count - 1) * _GAP + _ROW_GAP
    return row_y, y


def _place_steps(m: _Model, lines: Lines, row_y: dict[Row, list[float]], top: float,
                 boxes: _Boxes) -> tuple[dict[str, list[float]], float]:
    """Place the steps' blocks (and the fold) left to right. Returns the x extent of each part (encoder,
    decoder, or "" for all) and the width of them all."""
    steps = sorted({t for by_step in lines.values() for t in by_step})
    sequence: list[Any] = list(steps)
    if m.hidden:
        sequence.insert(len([t for t in steps if t < m.hidden[0]]), _FOLD)
    spans: dict[str, list[float]] = defaultdict(list)
    x = 0.0
    for item in sequence:
        if item == _FOLD:
            fw = max(2.0, boxes.w[_FOLD])
            boxes.pos[_FOLD] = (x + fw / 2, top / 2)
            x += fw + _STEP_GAP
            continue
        width = _place_block(item, {r: lines[r][item] for r in lines if item in lines[r]}, row_y, x, boxes)
        spans[m.parts.get(item, "")] += [x, x + width]
        x += width + _STEP_GAP
    return spans, max(x - _STEP_GAP, 1.0)


def _place_block(t: int, rows: dict[Row, list[list[Any]]], row_y: dict[Row, list[float]], x: float,
                 boxes: _Boxes) -> float:
    """Place step ``t``'s block from ``x``, each line centred in it; returns the block's width."""
    width = max(boxes.width(line) for ls in rows.values() for line in ls)
    for r, ls in rows.items():
        for line, ly in zip(ls, row_y[r]):
            boxes.place(line, x + (width - boxes.width(line)) / 2, ly)
    # an invisible point above the block's top box: the cluster grows up, so its label ("t = 3",
    # "encoder · t = 3") gets a line of its own instead of lying under the top box
    highest = max(row_y[r][len(ls) - 1] + boxes.h[_box(ls[-1][0])] / 2 for r, ls in rows.items())
    boxes.pos[f"top{t}"] = (x + width / 2, highest + 0.3)
    return width


def _place_params(m: _Model, outside: list[Any], spans: dict[str, list[float]], span: float,
                  boxes: _Boxes) -> float:
    """The shared parameters under the steps that use them (an encoder's under the encoder), in lines
    that wrap at the steps' width; returns the height below them."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for n in outside:
        role = m.roles.get(id(n))
        groups[role.part if role is not None else ""].append(n)
    y = -_ROW_GAP
    for part, ns in groups.items():
        lo, hi = (min(spans[part]), max(spans[part])) if spans.get(part) else (0.0, span)
        for line in _wrapped(ns, max(hi - lo, 6.0), boxes.w):
            lh = max(boxes.h[_key(n)] for n in line)
            boxes.place(line, max(0.0, (lo + hi - boxes.width(line)) / 2), y - lh / 2)
            y -= lh + _GAP
    return y


def _wrapped(ns: list[Any], room: float, w: dict[str, float]) -> list[list[Any]]:
    """Greedy lines of boxes no wider than ``room`` (a box wider than that gets a line of its own)."""
    line: list[Any] = []
    batches = []
    for n in ns:
        if line and sum(w[_key(k)] + _GAP for k in line) + w[_key(n)] > room:
            batches.append(line)
            line = []
        line.append(n)
    batches.append(line)
    return batches


def _layout(m: _Model, texts: dict[str, _Text]) -> tuple[dict[str, tuple[float, float]], float]:
    """Pinned positions and width on the coarse view's grid; an empty layout (dot's own) otherwise."""
    return _grid(m, texts) if m.grid else ({}, 0.0)
