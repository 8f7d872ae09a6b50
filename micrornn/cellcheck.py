"""The checks behind ``testing.check_cell``: one problem (a cell, a topology, its data) against the design's
three invariants, a report of what was checked, and a gradient mismatch traced to one weight entry and one
time step's copy.

    >>> from micrornn.nn import GRU
    >>> stats = Stats()
    >>> check_problem(plain_problem(GRU, "many_to_many"), stats)
    >>> stats.problems
    1

Finite differences of a truncated net (``truncate=k``, the Elman/Jordan copy nets) are taken of the
truncated loss's own reference: the states that enter a cut are held at the values of the unperturbed
graph, so a perturbed weight reaches the loss only through the steps that backprop also goes through.
(Differencing the full loss would compare the truncated gradient with the full one, a different number.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cells import layer_suffix
from .gradcheck import GradcheckError
from .graph import current, no_grad
from .record import _owners

__all__ = ["CellProblem", "plain_problem", "check_problem", "Stats", "CellReport"]

RTOL, ATOL = 1e-6, 1e-9  # finite differences, as gradcheck's defaults
VALUE_RTOL = 1e-9  # the Value graph against the Tensor graph: the same sums, in another order
EPS = 1e-6
_ULPS = 8 * np.finfo(np.float64).eps  # rounding of one evaluation of f, as in gradcheck


@dataclass
class CellProblem:
    """A cell, a topology and its data: ``build(scalar)`` unrolls it (Tensors, or one Value per number)."""

    cell: Any
    topology: str
    kwargs: dict

    def build(self, scalar: bool = False, **extra: Any) -> Any:
        from . import unroll

        return getattr(unroll, self.topology)(self.cell, scalar=scalar, **self.kwargs, **extra)

    def __repr__(self) -> str:
        shapes = {k: (tuple(np.shape(x) for x in v) if isinstance(v, tuple) else np.shape(v))
                  for k, v in self.kwargs.items()}
        return f"CellProblem({self.cell!r}, {self.topology}, {shapes})"


def plain_problem(cell_class: type, topology: str, **cell_kwargs: Any) -> CellProblem:
    """The first problem ``check_cell`` runs: fixed, small, one layer, one direction, float inputs and
    regression targets, I = 3, H = 4, O = 2 (three different sizes, so a transposed weight shows), T = 3."""
    cell = cell_class(3, 4, 2, seed=0, **cell_kwargs)  # the defaults: one layer, one direction, vectors in
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, (3, 2))
    kwargs = {"one_to_one": dict(x=xs[0], y=ys[0]), "many_to_one": dict(xs=xs, y=ys[-1]),
              "many_to_many": dict(xs=xs, ys=ys), "one_to_many": dict(x=xs[0], ys=ys)}[topology]
    return CellProblem(cell, topology, kwargs)


@dataclass
class Stats:
    """What the checks saw so far: problems run and the worst error of each invariant."""

    problems: int = 0
    worst_sum: float = 0.0  # max |Σ_t dL/dW_t − dL/dW|
    worst_fd: float = 0.0  # max |analytic − numeric| / (|numeric| + atol/rtol), along random directions
    worst_value: float = 0.0  # max relative |Value − Tensor| (loss and gradients)


# -- holding the cut states, shifting one copy: the cell's step seen through a probe ----------------------
class _Probe:
    """Installs itself as ``cell.step`` / ``cell.output`` (instance attributes, removed on exit) to
    (1) hold every state that enters a cut at its unperturbed value and (2) shift one weight copy at one
    time step by ``delta`` — forward values only, for finite differences."""

    def __init__(self, problem: CellProblem, base: Any) -> None:
        self.cell = problem.cell
        self.held = {}  # (t, layer, direction) → the cut state's data in the unperturbed graph
        for (t, _, copy), (layer, direction, _) in zip(base.cuts, base.cut_of):
            self.held.setdefault((t, layer, direction), []).append(np.array(copy.data))
        self.where = {layer_suffix(layer, d): (layer, d) for layer in range(self.cell.num_layers)
                      for d in range(self.cell.directions)}
        self.shift: tuple[str, int, int, int, np.ndarray] | None = None  # (name, t, layer, direction, delta)

    def __enter__(self) -> _Probe:
        cell, step, output = self.cell, type(self.cell).step, type(self.cell).output

        def held_step(be: Any, p: Any, state: Any, x: Any) -> Any:
            key = (current()[1], *self.where[p._suffix])
            if key in self.held and state is not None:
                parts = [be.constant(d, "held") for d in self.held[key]]
                state = tuple(parts) if isinstance(state, tuple) else parts[0]
            return step(cell, be, self.view(p, key), state, x)

        def shifted_output(be: Any, p: Any, H: Any) -> Any:
            return output(cell, be, self.view(p, (current()[1], cell.num_layers - 1, 0)), H)

        cell.step, cell.output = held_step, shifted_output
        return self

    def __exit__(self, *exc: Any) -> None:
        del self.cell.step, self.cell.output

    def view(self, p: Any, key: tuple[int, int, int]) -> Any:
        if self.shift is None or self.shift[1:4] != key:
            return p
        return _Shifted(p, self.shift[0], self.shift[4])


class _Shifted:
    """A step's parameters with one of them shifted: ``p.W_x`` is ``W_x + delta`` (the rest as they are)."""

    def __init__(self, p: Any, name: str, delta: np.ndarray) -> None:
        self._p, self._name, self._delta = p, name, delta

    def __getattr__(self, name: str) -> Any:
        node = getattr(self._p, name)
        return node + self._delta if name == self._name else node

    def _used(self) -> dict[str, Any]:
        return self._p._used()


def _loss(problem: CellProblem) -> float:
    with no_grad():
        return float(problem.build().loss.data)


# -- the three invariants on one problem ----------------------------------------------------------------------
def check_problem(problem: CellProblem, stats: Stats, directions: int = 3) -> None:
    """Σ copies = grad, finite differences (along ``directions`` random directions, the mismatch traced to
    a weight entry and a step), Value graph = Tensor graph; raises AssertionError/GradcheckError."""
    cell = problem.cell
    params = cell.named_parameters()
    cell.zero_grad()
    u = problem.build()
    u.backward()
    grads = {}
    for name, p in params:
        copies = u.copy_grads(name)
        total = sum(copies) if copies else np.zeros(p.shape)
        err = float(np.max(np.abs(total - p.grad), initial=0.0))
        assert err <= 1e-12 * (1 + float(np.max(np.abs(p.grad), initial=0.0))), (
            f"{name}: Σ of the per-step copies' grads differs from {name}.grad by {err:.3g} in {problem!r}")
        stats.worst_sum = max(stats.worst_sum, err)
        grads[name] = p.grad.copy()
    with _Probe(problem, u) as probe:
        _finite_differences(problem, u, grads, probe, stats, directions)
    cell.zero_grad()
    s = problem.build(scalar=True)
    s.backward()
    loss = float(u.loss.data)
    err = abs(float(s.loss.data) - loss) / (1 + abs(loss))
    assert err <= VALUE_RTOL, f"Value loss {float(s.loss.data)!r} != Tensor loss {loss!r} in {problem!r}"
    for name, p in params:
        diff = float(np.max(np.abs(p.grad - grads[name]) / (1e-3 + np.abs(grads[name])), initial=0.0))
        assert diff <= VALUE_RTOL, f"{name}: the Value graph's grad differs from the Tensor graph's in {problem!r}"
        err = max(err, diff)
    stats.worst_value = max(stats.worst_value, err)
    stats.problems += 1


def _finite_differences(problem: CellProblem, u: Any, grads: dict[str, np.ndarray], probe: _Probe, stats: Stats,
                        directions: int) -> None:
    """The directional check; on a mismatch, ``_locate`` says which entry and which step's copy."""
    params = problem.cell.named_parameters()
    rng = np.random.default_rng(0)
    for k in range(directions):
        vs = {name: rng.normal(size=p.shape) for name, p in params}
        slope = sum(float((grads[name] * v).sum()) for name, v in vs.items())
        numeric, floor = _difference(problem, [(p, vs[name]) for name, p in params])
        excess = abs(slope - numeric) - (ATOL + RTOL * abs(numeric) + floor)
        if excess > 0:
            raise _locate(problem, u, grads, probe) or GradcheckError(
                f"gradient mismatch along random direction {k}: analytic {slope:.10g}, numeric {numeric:.10g} "
                f"in {problem!r}")
        stats.worst_fd = max(stats.worst_fd, abs(slope - numeric) / (abs(numeric) + ATOL / RTOL))


def _difference(problem: CellProblem, moves: list[tuple[Any, np.ndarray]]) -> tuple[float, float]:
    """(f(w + εv) − f(w − εv)) / 2ε, moving each weight w by its v; and the rounding floor of that quotient."""
    fx = []
    for sign in (1.0, -1.0):
        for p, v in moves:
            p.data += sign * EPS * v
        try:
            fx.append(_loss(problem))
        finally:
            for p, v in moves:
                p.data -= sign * EPS * v
    return (fx[0] - fx[1]) / (2 * EPS), _ULPS * (abs(fx[0]) + abs(fx[1])) / (2 * EPS)


def _locate(problem: CellProblem, u: Any, grads: dict[str, np.ndarray], probe: _Probe) -> GradcheckError | None:
    """The worst weight entry by elementwise differences, then the worst step copy of that entry
    (PyTorch-style: "gradient mismatch for W_x[1, 0] (step t=2 copy): analytic …, numeric …")."""
    worst = None
    for name, p in problem.cell.named_parameters():
        for index in np.ndindex(p.shape):
            v = np.zeros(p.shape)
            v[index] = 1.0
            numeric, floor = _difference(problem, [(p, v)])
            excess = abs(grads[name][index] - numeric) - (ATOL + RTOL * abs(numeric) + floor)
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, name, index, numeric)
    if worst is None:
        return None
    _, name, index, numeric = worst
    entry = f"{name}[{', '.join(map(str, index))}]" if index else name
    whole = f"analytic {grads[name][index]:.10g}, numeric {numeric:.10g}"
    step = _worst_step(problem, u, name, index, probe)
    if step is None:
        return GradcheckError(f"gradient mismatch for {entry}: {whole}; every step's copy agrees with its own "
                              f"finite difference, so the copies' sum is what is wrong, in {problem!r}")
    t, analytic_t, numeric_t = step
    return GradcheckError(f"gradient mismatch for {entry} (step t={t} copy): analytic {analytic_t:.10g}, numeric "
                          f"{numeric_t:.10g}; the whole {entry}: {whole}, in {problem!r}")


def _worst_step(problem: CellProblem, u: Any, name: str, index: tuple, probe: _Probe) -> tuple | None:
    """The time step whose copy of ``name`` has the worst gradient at ``index`` (shifting that copy only)."""
    layer, direction = _owners(problem.cell)[name]
    base = name[:len(name) - len(layer_suffix(layer, direction))] if layer or direction else name
    worst = None
    for copy, g in zip(u.copies[name], u.copy_grads(name)):
        fx = []
        for sign in (1.0, -1.0):
            delta = np.zeros(g.shape)
            delta[index] = sign * EPS
            probe.shift = (base, copy.t, layer, direction, delta)
            try:
                fx.append(_loss(problem))
            finally:
                probe.shift = None
        numeric = (fx[0] - fx[1]) / (2 * EPS)
        floor = _ULPS * (abs(fx[0]) + abs(fx[1])) / (2 * EPS)
        excess = abs(g[index] - numeric) - (ATOL + RTOL * abs(numeric) + floor)
        if excess > 0 and (worst is None or excess > worst[0]):
            worst = (excess, copy.t, float(g[index]), numeric)
    return None if worst is None else worst[1:]


# -- the report -------------------------------------------------------------------------------------------------
@dataclass
class CellReport:
    """What ``check_cell`` checked: prints as one line, shows as a table in Jupyter."""

    cell: str
    plain: int
    drawn: int
    stats: Stats
    truncate: int | None = None

    def rows(self) -> list[tuple[str, str]]:
        fd = "finite differences, 3 random directions a problem" + (
            f" (truncate={self.truncate}: of the truncated loss)" if self.truncate else "")
        return [("Σ_t dL/dW_t = dL/dW (every weight)", f"{self.stats.worst_sum:.2g}"),
                (fd, f"{self.stats.worst_fd:.2g} (relative)"),
                ("Value graph = Tensor graph (loss, grads)", f"{self.stats.worst_value:.2g} (relative)")]

    def __str__(self) -> str:
        checks = "; ".join(f"{what}: worst {worst}" for what, worst in self.rows())
        return (f"check_cell({self.cell}): {self.plain + self.drawn} problems passed ({self.plain} plain + "
                f"{self.drawn} drawn) — {checks}")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td>{html.escape(what)}</td><td>{html.escape(worst)}</td></tr>"
                       for what, worst in self.rows())
        return (f"<table><caption>check_cell({html.escape(self.cell)}): {self.plain + self.drawn} problems passed "
                f"({self.plain} plain + {self.drawn} drawn)</caption><tr><th>invariant</th><th>worst error</th></tr>"
                f"{rows}</table>")
