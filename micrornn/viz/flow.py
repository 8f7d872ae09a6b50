"""Where each step's gradient comes from, read from the recorded roles: the captions of the backward frames."""

from __future__ import annotations

import bisect
from collections import defaultdict

from ..record import Role


class _Flow:
    """Where the gradient of each step's state comes from, read from the recorded roles, never from the
    cell's class. dL/dH_k = Σ dL_j/dH_k over the losses L_j that H_k reaches: step k's own and those of
    the steps after it, up to the next ``cut``. A cut is a ``detach()``-ed copy of a state (the
    Elman/Jordan context, or truncated BPTT every k steps): the next step starts from it, and no
    gradient flows back through it. In a bidirectional net's reverse direction "after" is earlier."""

    def __init__(self, roles: dict[int, Role], first: int, last: int) -> None:
        self.first, self.last = first, last
        self.losses = sorted({r.t for r in roles.values() if r.kind == "loss" and r.t is not None})
        self.states: dict[int, list[str]] = defaultdict(list)  # t → the forward state's names, H first
        self.cuts: dict[tuple[int, int], list[str]] = defaultdict(list)  # (direction, t) → what was copied
        for r in roles.values():
            if r.kind in ("H", "C", "state") and r.direction == 0 and r.t is not None:
                name = r.name if r.kind == "state" else r.kind
                if name not in self.states[r.t]:
                    self.states[r.t].append(name)
            elif r.kind == "cut" and r.t is not None and r.name not in self.cuts[r.direction, r.t]:
                self.cuts[r.direction, r.t].append(r.name)
        self.cut_at = {d: sorted(t for e, t in self.cuts if e == d) for d in (0, 1)}
        self.bidirectional = any(r.direction == 1 for r in roles.values())

    def window(self, k: int, direction: int = 0) -> tuple[int, int]:
        """The steps (lo, hi) whose losses step k's state reaches: k to the step before the next cut."""
        cuts = self.cut_at[direction]
        if direction == 0:
            i = bisect.bisect_right(cuts, k)
            return k, cuts[i] - 1 if i < len(cuts) else self.last
        i = bisect.bisect_left(cuts, k)
        return cuts[i - 1] + 1 if i > 0 else self.first, k

    def sources(self, k: int, direction: int = 0) -> list[int]:
        """The steps whose loss reaches step k's state."""
        lo, hi = self.window(k, direction)
        return self.losses[bisect.bisect_left(self.losses, lo):bisect.bisect_right(self.losses, hi)]

    def losses_text(self, k: int, steps: list[int], direction: int) -> str:
        """Whose losses reach step k's state, in words (a range when they are consecutive)."""
        if steps == [k]:
            return f"step {k}'s loss only"
        end = self.last if direction == 0 else self.first
        if k in steps and len(steps) == abs(end - k) + 1:  # every step from k on has a loss
            return f"the losses of step {k} and every {'later' if direction == 0 else 'earlier'} step"
        if len(steps) == 1:
            return f"step {steps[0]}'s loss" + ("" if k in steps else f" (step {k} has none)")
        if len(steps) == abs(steps[-1] - steps[0]) + 1:
            return f"the losses of steps {steps[0]}–{steps[-1]}"
        return "the losses of steps " + ", ".join(map(str, steps[:-1])) + f" and {steps[-1]}"

    def caption(self, k: int) -> str:
        """The caption of the backward frame that reaches step k (before the last)."""
        names = self.states.get(k) or ["H"]
        sources = self.sources(k)
        if sources:
            verb = "collect" if len(names) > 1 else "collects"
            text = (" and ".join(f"dL/d{x}_{k}" for x in names) + f" {verb} the gradient of "
                    + self.losses_text(k, sources, 0))
        else:
            hi = self.window(k)[1]
            text = "no gradient reaches " + " or ".join(f"{x}_{k}" for x in names) + (
                f": step {k} has no loss" if hi == k else f": no step from {k} to {hi} has a loss")
        cut = self.window(k)[1] + 1
        if cut <= self.last and self.cuts.get((0, cut)):
            copied = " and ".join(f"{x}_{cut - 1}" for x in self.cuts[0, cut])
            text += f"; step {cut} starts from a detached copy of {copied}, which passes no gradient back"
        back = self.sources(k, direction=1) if self.bidirectional else []
        if back:
            text += f"; the reverse direction's dL/dH_{k} collects the gradient of {self.losses_text(k, back, 1)}"
        elif self.bidirectional:
            text += f"; the reverse direction's H_{k} gets no gradient"
        share = "now hold their share" if sources or back else "get none"
        return f"Backward reaches t = {k}: {text}; the copies at t = {k} {share}."
