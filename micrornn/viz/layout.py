"""The grid of the coarse view: time left to right, one block per step, rows X, copies, gates, C, H, O, L."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

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


def _grid(m: _Model, texts: dict[str, _Text]) -> tuple[dict[str, tuple[float, float]], float]:
    """Pinned centre positions (inches) of every drawn node, and the picture's width in inches."""
    # the order the unroller recorded the nodes (i, f, g, o; W^X before W^H …), else topological order
    order = {i: k for k, i in enumerate(m.roles)}
    rank = {id(n): (order.get(id(n), 0), i) for i, n in enumerate(m.drawn)}
    w = {k: (t.width + 6) / 72 for k, t in texts.items()}  # the label, and the box's borders
    h = {k: t.height / 72 for k, t in texts.items()}
    outside = [n for n in m.drawn if id(n) in m.params or n.t is None and _row_of(m, n) < (7,)]
    blocks: dict[int, dict[tuple, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for n in m.drawn:
        if n.t is not None and id(n) not in m.params:
            blocks[n.t][_row_of(m, n)].append(n)
    totals = [n for n in m.drawn if n.t is None and id(n) not in m.params and n not in outside]
    # rows: shared by every step, so a path such as C_{t-1} → C_t is one straight line
    lines: dict[tuple, dict[int, list[list[Any]]]] = defaultdict(dict)
    for t, rows in blocks.items():
        for r, ns in rows.items():
            ns.sort(key=lambda n: rank[id(n)])
            k = _per_line(len(ns))
            lines[r][t] = [ns[i:i + k] for i in range(0, len(ns), k)]
    y, row_y = 0.0, {}
    for r in sorted(lines):
        height = max(h[_key(n)] for ls in lines[r].values() for line in ls for n in line)
        count = max(len(ls) for ls in lines[r].values())
        row_y[r] = [y + height / 2 + i * (height + _GAP) for i in range(count)]
        y += count * height + (count - 1) * _GAP + _ROW_GAP
    top = y
    pos: dict[str, tuple[float, float]] = {}
    x = 0.0
    steps = sorted(blocks)
    sequence: list[Any] = list(steps)
    if m.hidden:
        sequence.insert(len([t for t in steps if t < m.hidden[0]]), _FOLD)
    spans: dict[str, list[float]] = defaultdict(list)
    for item in sequence:
        if item == _FOLD:
            fw = max(2.0, w[_FOLD])
            pos[_FOLD] = (x + fw / 2, top / 2)
            x += fw + _STEP_GAP
            continue
        rows = {r: lines[r][item] for r in lines if item in lines[r]}
        width = max(sum(w[_key(n)] for n in line) + _GAP * (len(line) - 1) for ls in rows.values() for line in ls)
        for r, ls in rows.items():
            for line, ly in zip(ls, row_y[r]):
                lw = sum(w[_key(n)] for n in line) + _GAP * (len(line) - 1)
                cx = x + (width - lw) / 2
                for n in line:
                    pos[_key(n)] = (cx + w[_key(n)] / 2, ly)
                    cx += w[_key(n)] + _GAP
        spans[m.parts.get(item, "")] += [x, x + width]
        # an invisible point above the block's top box: the cluster grows up, so its label ("t = 3",
        # "encoder · t = 3") gets a line of its own instead of lying under the top box
        highest = max(row_y[r][len(ls) - 1] + h[_key(ls[-1][0])] / 2 for r, ls in rows.items())
        pos[f"top{item}"] = (x + width / 2, highest + 0.3)
        x += width + _STEP_GAP
    span = max(x - _STEP_GAP, 1.0)
    for n in totals:  # the total loss L = Σ L_t, above the middle
        pos[_key(n)] = (span / 2, top + h[_key(n)] / 2)
    # the shared parameters, under the steps that use them (an encoder's under the encoder), in lines
    groups: dict[str, list[Any]] = defaultdict(list)
    for n in sorted(outside, key=lambda n: rank[id(n)]):
        role = m.roles.get(id(n))
        groups[role.part if role is not None else ""].append(n)
    y = -_ROW_GAP
    for part, ns in groups.items():
        lo, hi = (min(spans[part]), max(spans[part])) if spans.get(part) else (0.0, span)
        room = max(hi - lo, 6.0)
        line: list[Any] = []
        batches = []
        for n in ns:
            if line and sum(w[_key(k)] + _GAP for k in line) + w[_key(n)] > room:
                batches.append(line)
                line = []
            line.append(n)
        batches.append(line)
        for line in batches:
            lh = max(h[_key(n)] for n in line)
            lw = sum(w[_key(n)] for n in line) + _GAP * (len(line) - 1)
            cx = max(0.0, (lo + hi - lw) / 2)
            for n in line:
                pos[_key(n)] = (cx + w[_key(n)] / 2, y - lh / 2)
                cx += w[_key(n)] + _GAP
            y -= lh + _GAP
    if m.scale:
        pos["legend"] = (2.6, y - 0.6)
    return pos, max(span, max((p[0] + w.get(k, 0) / 2 for k, p in pos.items()), default=0.0))


def _layout(m: _Model, texts: dict[str, _Text]) -> tuple[dict[str, tuple[float, float]], float]:
    return _grid(m, texts) if m.grid else ({}, 0.0)
