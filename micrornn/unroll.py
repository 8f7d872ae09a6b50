"""The topologies as explicit unrolled graphs, for every cell: BPTT is ordinary backprop on them.

Every step t builds, inside ``with timestep(t):``,

    W^H_t, W^X_t, b_t, …  per-step copies of the shared parameters (identity nodes)
    H_t = cell.step(…)     e.g. f(W^H_t C_t + W^X_t X_t + b_t), C_t = H_{t-1} (Elman) or O_{t-1} (Jordan)
    O_t = W^O_t H_t + b^O_t,   L_t = loss(O_t, y_t)

so after ``backward()`` each copy's ``.grad`` is that step's contribution and the shared
parameter's ``.grad`` is their sum, dL/dW^H = Σ_t dL/dW^H_t — by ordinary backprop. The step is
``cell.step`` (and ``cell.output``) of a ``micrornn.nn.Cell`` — the simple RNN, LSTM, GRU or the
user's own: ``sample`` calls the very same functions. Stacked layers (``num_layers``) and
``bidirectional=True`` cells unroll as PyTorch's; ``seq2seq`` chains an encoder and a decoder.

What the arguments mean — the net decides, nothing is guessed from a dtype:

- ``xs``: a net built with ``token_ids=True`` reads integer ids of shape (T,) or (T, batch); any other
  net reads floats of shape (T, I) or (T, batch, I). Ints to a vector net, floats to a token net: TypeError.
- ``h0``: a plain array is a constant start state; a graph node (a Tensor, or for ``scalar=True`` an
  object array of Values — e.g. another unroll's ``H[-1]``) stays in the graph, so chained unrolls
  backpropagate end to end. A Tensor with ``scalar=True`` (or Values without) is a TypeError. An LSTM
  takes a pair ``(h0, c0)``; stacked or bidirectional cells take PyTorch's (layers·directions, [batch,] H).
- ``max_memory``: the unroll refuses (MemoryError) when ``memory_estimate`` is above it; default
  ``$MICRORNN_MEMORY_BUDGET`` or ``MEMORY_BUDGET`` (2 GiB).

Every node the unroller makes has a ``Role`` in ``u.roles`` (keyed by ``id(node)``; for ``scalar=True``
one entry per Value): what it is, its time step, layer and direction — pictures read it, not labels.

    >>> import numpy as np
    >>> from micrornn.nn import RNN
    >>> rnn = RNN(input_size=2, hidden_size=3, output_size=2, seed=0)
    >>> u = many_to_one(rnn, np.ones((4, 2)), 1)     # T = 4 steps, class 1
    >>> u.backward()
    >>> len(u.copies["W_h"])                          # no H_0: W^H is used at steps 2..4
    3
    >>> np.allclose(sum(c.grad for c in u.copies["W_h"]), rnn.W_h.grad)
    True
    >>> u.role(u.H[2])
    Role(kind='H', t=3, layer=0, direction=0, name='H', part='')
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import checks, fast
from . import functional as F
from .backends import Node, TensorBackend, ValueBackend, data_of, grad_of
from .cells import RNN, Cell, layer_suffix
from .flags import flag, positive_int
from .graph import is_grad_enabled, no_grad, timestep
from .protocol import CellError, affine_error, check_state
from .record import ROLE_KINDS, Recorder, Role, Unrolled
from .tensor import Tensor

__all__ = ["Unrolled", "Role", "ROLE_KINDS", "one_to_one", "many_to_one", "many_to_many", "one_to_many", "seq2seq",
           "sample", "grad_of", "data_of", "MEMORY_BUDGET", "memory_estimate", "check_memory", "TensorBackend",
           "ValueBackend"]

# -- memory: say it before building a graph that cannot fit -------------------------------------------------
MEMORY_BUDGET = 2 * 2**30  # bytes; an unroll estimated above this raises MemoryError before it builds anything


def memory_estimate(rnn: Cell, T: int, batch: int | None = None, scalar: bool = False) -> int:
    """Bytes an unroll of ``T`` steps takes at its peak (building it, then ``backward()``), before building it.

    Measured, not guessed: a 2-step and a 4-step many-to-many unroll of this very cell are built and run
    backward once (per cell, batch and engine; ``tracemalloc`` counts the bytes), and the difference is one
    step's cost, scaled to ``T``. So a user's own cell is counted as it builds, however many nodes its step
    makes. A net whose 4-step probe would itself be big (above a quarter of the budget) gets the rough
    formula instead (``checks.rough_estimate``), as does a call under ``no_grad()`` (no graph is kept there).

        >>> memory_estimate(RNN(65, 256, 65), T=10_000) < 500e6   # [H]: a 10,000-step char-RNN in under 500 MB
        True
    """
    T = positive_int(T, "memory_estimate: T")
    scalar = flag(scalar, "scalar", "memory_estimate")
    b = 1 if batch is None else positive_int(batch, "memory_estimate: batch")
    quarter = checks.budget(None, "memory_estimate", MEMORY_BUDGET) / 4
    if not is_grad_enabled() or checks.rough_estimate(rnn, 4, b, scalar) > quarter:
        return checks.rough_estimate(rnn, T, b, scalar)
    peak, held_two, held_four = _footprint(rnn, batch, scalar)
    # one step's cost from what the graphs hold (the weights' dense grads and backward's temporaries are
    # the same for both, and only add noise to peaks), on top of the 2-step build's peak
    # +10%: the probes' numbers are a few percent short of a cold build's (the free lists again)
    return int(1.1 * (peak + max(T - 2, 0) * max(held_four - held_two, 0) / 2))


_PROBE_LOCK = threading.Lock()  # tracemalloc is one per process: one probe at a time


def _footprint(rnn: Cell, batch: int | None, scalar: bool) -> tuple[int, int, int]:
    """The peak bytes of a 2-step unroll of ``rnn`` (zeros in, zeros as regression targets, then backward)
    and the bytes a 2-step and a 4-step graph hold after backward; cached on the cell, and the weights'
    gradients put back as they were."""
    key = (batch, scalar, getattr(rnn, "truncate", None), fast.enabled("copies"))  # plain copies cost more
    cache = rnn.__dict__.setdefault("_footprints", {})
    if key not in cache:
        bshape = () if batch is None else (batch,)
        grads = [p.grad.copy() for p in rnn.parameters()]
        sizes = []
        with _PROBE_LOCK:
            # a first 2-step build fills CPython's free lists (floats, tuples, …), whose reuse tracemalloc
            # does not see: measured cold then warm, the difference of the two would be short of one step
            for T in (2, 2, 4):
                xs = (np.zeros((T, *bshape), dtype=int) if rnn.token_ids
                      else np.zeros((T, *bshape, rnn.input_size)))
                ys = np.zeros((T, *bshape, rnn.output_size))
                sizes.append(_bytes(lambda: many_to_many(rnn, xs, ys, scalar=scalar, max_memory=float("inf"))))
        for p, g in zip(rnn.parameters(), grads):
            p.grad = g
        (held_two, peak), (held_four, _) = sizes[1], sizes[2]
        cache[key] = (peak, held_two, held_four)
    return cache[key]


def _bytes(build: Callable[[], Unrolled]) -> tuple[int, int]:
    """(bytes the graph holds after its backward, peak bytes while ``build()`` and ``backward()`` ran), as
    tracemalloc counts them. When the caller traces already (a test measuring us), their peak is left alone
    and the first number stands for both."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        u = build()
        u.backward()
        held, peak = tracemalloc.get_traced_memory()
        return held - before, (peak if not tracing else held - before)
    finally:
        if not tracing:
            tracemalloc.stop()


def check_memory(rnn: Cell, T: int, batch: int | None, scalar: bool, max_memory: float | None = None,
                 where: str = "unroll") -> int:
    """Raise ``MemoryError`` when the estimate (``memory_estimate``) is above the budget; return the estimate."""
    limit = checks.budget(max_memory, where, MEMORY_BUDGET)
    return checks.fits(rnn, T, batch, flag(scalar, "scalar", where), limit, where, memory_estimate)


# -- the builder shared by the topologies --------------------------------------------------------------------
_PREV_OUTPUT = object()  # an input slot meaning X_t = O_{t-1}, inside the graph (one_to_many feed, free running)


class _StepParams:
    """The parameters as one step of one layer sees them: ``p.W_h`` is the per-step copy W^H_t, made on
    first use — so a step that does not use a parameter (no W^H at step 1 without H_0) gets no copy.
    The copy is made and recorded right here (``be.copy``, labelled W^H_t, appended to ``u.copies``):
    a few copies a step, so every call saved on the way counts."""

    __slots__ = ("_info", "_be", "_t", "_suffix", "_made", "_cell")

    def __init__(self, info: dict[str, tuple[Node, str, list[Node]]], be: Any, t: int, suffix: str,
                 cell: Cell) -> None:
        self._info, self._be, self._t, self._suffix, self._made, self._cell = info, be, t, suffix, {}, cell

    def __getattr__(self, name: str) -> Node:
        made = self._made
        node = made.get(name)
        if node is None:
            entry = self._info.get(name + self._suffix)
            if entry is None:  # an AttributeError, so getattr(p, "b_extra", None) and hasattr work in a step
                raise AttributeError(_no_weight(self._cell, name))
            leaf, label, copies = entry
            node = made[name] = self._be.copy(leaf, f"{label}_{self._t}")
            copies.append(node)
        return node

    def _used(self) -> dict[str, Node]:
        """The weights this step has read so far, by the name it used."""
        return self._made


class _Direct:
    """The parameters themselves under the names a step uses (``sample``: no per-step copies)."""

    __slots__ = ("_cell", "_suffix")

    def __init__(self, cell: Cell, suffix: str) -> None:
        self._cell, self._suffix = cell, suffix

    def __getattr__(self, name: str) -> Tensor:
        node = getattr(self._cell, name + self._suffix, None)
        if not isinstance(node, Tensor):
            raise AttributeError(_no_weight(self._cell, name))
        return node

    def _used(self) -> dict[str, Node]:
        cell, suffix = self._cell, self._suffix
        return {name: getattr(cell, name + suffix) for name in _weight_names(cell)}


def _weight_names(cell: Cell) -> list[str]:
    """The names a step reads its weights by: those of ``weights()`` and the output head's."""
    return [*cell.weights(cell.input_size, cell.hidden_size), "W_o", "b_o"]


def _no_weight(cell: Cell, name: str) -> str:
    return (f"{type(cell).__name__} has no weight {name!r}: its weights are "
            f"{', '.join(_weight_names(cell))} (declared by weights(), read in step as p.<name>)")


def _where(cell: Cell, t: int, layer: int, direction: int) -> str:
    return (f"{type(cell).__name__}.step at t={t}" + (f", layer {layer}" if cell.num_layers > 1 else "")
            + (", reverse direction" if direction else ""))


def _step(cell: Cell, be: Any, p: Any, state: Any, x: Any, t: int, layer: int, direction: int,
          batch: int | None) -> Any:
    """``cell.step(be, p, state, x)``, its result checked against the cell's protocol (``protocol``): a
    wrong arity, type or shape — or an error inside the step — is a CellError naming the cell, the time
    step, and the weight or state part at fault, before anything else uses it."""
    try:
        if be.fused and type(cell).step is RNN.step and "step" not in cell.__dict__:  # RNN's own step
            new = fast.rnn_step(cell, be, p, state, x)  # the same sum as one node
        else:
            new = cell.step(be, p, state, x)
    except (AttributeError, TypeError, ValueError, IndexError) as e:
        raise _step_error(cell, p, e, t, layer, direction) from (None if isinstance(e, CellError) else e)
    problem = check_state(cell, new, be.scalar, batch)
    if problem is not None:
        raise CellError(f"{_where(cell, t, layer, direction)}: {problem}{_read(p)}")
    return new


def _step_error(cell: Cell, p: Any, e: Exception, t: int, layer: int, direction: int) -> CellError:
    """An error raised inside a step, with the step in front; an ``affine`` error names W as the step did."""
    message = str(e) if isinstance(e, CellError) else f"{type(e).__name__}: {e}"
    operands = getattr(e, "operands", None)
    if operands is not None:
        for name, node in p._used().items():
            if node is operands[0]:
                message = str(affine_error(*operands, name=f"p.{name}"))
    return CellError(f"{_where(cell, t, layer, direction)}: {message}{_read(p)}")


def _read(p: Any) -> str:
    used = p._used()
    shapes = ", ".join(f"p.{name} {np.shape(node)}" for name, node in used.items())
    return f" (this step read {shapes})" if used else ""


def _layers_step(cell: Cell, be: Any, views: Sequence[Any], states: list[Any], x: Any, t: int,
                 batch: int | None, on_layer: Callable[[int], None] | None = None) -> list[Any]:
    """One time step up through the layers of a unidirectional cell (layer l reads layer l−1's H_t).
    The unroller and ``sample`` both call it: one step function, used everywhere."""
    new = []
    for layer, (p, state) in enumerate(zip(views, states)):
        if on_layer is not None:
            on_layer(layer)
        state = _step(cell, be, p, state, x, t, layer, 0, batch)
        new.append(state)
        x = cell.hidden(state)
    return new


# -- the loop shared by the topologies ---------------------------------------------------------------------
def _unroll(topology: str, rnn: Cell, inputs: list[Any], targets: dict[int, tuple], h0: list[list[Any]] | None,
            batch: int | None, scalar: bool, max_memory: float | None) -> Unrolled:
    checks.fits(rnn, len(inputs), batch, scalar, checks.budget(max_memory, topology, MEMORY_BUDGET), topology,
                memory_estimate)  # the memory budget (check_memory)
    be = ValueBackend() if scalar else TensorBackend()
    u = Unrolled(topology, rnn, scalar, len(inputs), loss=None)
    rec = Recorder(u, be, batch)
    with be.building():  # the cyclic collector paused while it builds, when fast.py's "collector" trick is on
        _run(rec, inputs, targets, _start(rec, h0))
        rec.finish()
    return u


def _run(rec: Recorder, inputs: list[Any], targets: dict[int, tuple], states: list[list[Any]],
         t0: int = 0) -> list[Any]:
    """Steps t0+1 … t0+T, each inside ``timestep(t)``: the input X_t; the context, cut every ``truncate``
    steps; H_t = cell.step(…) up through the layers, whose per-step copies W_t are made as the step reads
    them; O_t and L_t. Returns the last state of each layer (a bidirectional cell: ``_run_both``)."""
    cell, be, T = rec.cell, rec.be, len(inputs)
    if cell.bidirectional:
        return _run_both(rec, inputs, targets, states, t0)
    states = [row[0] for row in states]
    on_layer = _on_layer(rec) if cell.num_layers > 1 else None
    suffixes = [rec.suffix[layer, 0][0] for layer in range(cell.num_layers)]
    for s in range(1, T + 1):
        t = t0 + s
        with timestep(t):
            x = _input(rec, inputs[s - 1], t)
            if _cut_due(cell, s):  # the context is a copy (Elman, Jordan) or truncation starts a window
                states = [None if st is None else rec.cut(st, t, layer, 0) for layer, st in enumerate(states)]
            views = [_StepParams(rec.copy_info, be, t, suffix, cell) for suffix in suffixes]
            rec.where = (t, 0, 0)  # where the gates the step marks are
            states = _layers_step(cell, be, views, states, x, t, rec.batch, on_layer)
            for layer, st in enumerate(states):
                rec.state(st, t, layer, 0)
            fed = s < T and inputs[s] is _PREV_OUTPUT  # the next input is this O_t
            if s in targets or (rec.jordan and s < T) or fed:
                O = rec.output(t, cell.output(be, views[0], cell.hidden(states[-1])))
                if rec.jordan:
                    states[0] = O  # Jordan: the context is O_t
                if s in targets:
                    y, kind = targets[s]
                    rec.loss(t, getattr(be, kind)(O, y))  # be.mse or be.cross_entropy
    return states


def _start(rec: Recorder, init: list[list[Any]] | None, t: int = 0) -> list[list[Any]]:
    """The states before the first step, ``[layer][direction]``: None for a cell that takes none when no
    h0 is given (step 1 then has no W^H term, as in the notes), else the given h0 or zeros as nodes."""
    cell = rec.cell
    return [[None if (init is None or init[layer][direction] is None) and cell.accepts_none
             else _start_state(rec, None if init is None else init[layer][direction], t, layer, direction)
             for direction in range(cell.directions)] for layer in range(cell.num_layers)]


def _start_state(rec: Recorder, given: Any, t: int, layer: int, direction: int) -> Any:
    """One start state as nodes labelled H_0 … (O_0 for Jordan): zeros when not given; a given graph node
    stays in the graph (an identity node), so chained unrolls backpropagate end to end."""
    cell, be = rec.cell, rec.be
    names = ("O",) if rec.jordan else cell.state_names
    if given is None:
        shape = (cell.hidden_size,) if rec.batch is None else (rec.batch, cell.hidden_size)
        given = tuple(np.zeros(shape) for _ in names) if len(names) > 1 else np.zeros(shape)
    nodes = []
    with timestep(t):
        for name, part in zip(names, given if isinstance(given, tuple) else (given,)):
            label = f"{name}_{t}{rec.suffix[layer, direction][1]}"
            const = isinstance(part, np.ndarray) and part.dtype != object
            node = be.constant(part, label) if const else be.copy(part, label)
            nodes.append(rec.start(node, t, layer, direction, name))
    return tuple(nodes) if len(nodes) > 1 else nodes[0]


def _input(rec: Recorder, x: Any, t: int) -> Any:
    """X_t for one entry of the inputs, recorded: a constant, token ids as they are, O_{t-1} (fed back) or
    zeros (no input: one_to_many after step 1); None, not recorded, for a cell that takes no input."""
    if x is None:
        if rec.cell.accepts_none:
            return None
        x = np.zeros((rec.cell.input_size,) if rec.batch is None else (rec.batch, rec.cell.input_size))
    if x is _PREV_OUTPUT:
        x = rec.u.O[-1]  # X_t = O_{t-1}, inside the graph
    elif x.dtype.kind not in "iu":  # token ids stay ids (checks.inputs made every input an array)
        x = rec.be.constant(x, f"X_{t}")
    return rec.input(t, x)


def _cut_due(cell: Cell, k: int) -> bool:
    """Cut before the k-th step of a direction every ``truncate`` steps (never before the first)."""
    return bool(cell.truncate) and k > 1 and (k - 1) % cell.truncate == 0


def _on_layer(rec: Recorder) -> Callable[[int], None]:
    """Tell the recorder which layer a stacked step is in (where its gates are)."""
    def now_in(layer: int) -> None:
        rec.where = (rec.where[0], layer, 0)
    return now_in


def _run_both(rec: Recorder, inputs: list[Any], targets: dict[int, tuple], states: list[list[Any]],
              t0: int) -> list[Any]:
    """``_run`` for a bidirectional cell: each layer runs forward, then backward over the sequence, and the
    next layer reads [H_t; H_t^rev]; the outputs and losses come after the top layer."""
    cell, be, T = rec.cell, rec.be, len(inputs)
    views: dict[tuple[int, int, int], _StepParams] = {}

    def params(t: int, layer: int, direction: int) -> _StepParams:
        if (t, layer, direction) not in views:
            suffix = rec.suffix[layer, direction][0]
            views[t, layer, direction] = _StepParams(rec.copy_info, be, t, suffix, cell)
        return views[t, layer, direction]

    layer_in = []
    for s in range(1, T + 1):
        with timestep(t0 + s):
            layer_in.append(_input(rec, inputs[s - 1], t0 + s))
    for layer in range(cell.num_layers):
        H_of = {}
        for direction in (0, 1):
            state = states[layer][direction]
            order = range(1, T + 1) if direction == 0 else range(T, 0, -1)
            for k, s in enumerate(order, start=1):
                t = t0 + s
                with timestep(t):
                    if _cut_due(cell, k) and state is not None:
                        state = rec.cut(state, t, layer, direction)
                    x = layer_in[s - 1]
                    if x is None and state is None:  # the reverse direction's first step, with no input
                        x = be.constant(np.zeros((*(() if rec.batch is None else (rec.batch,)),
                                                  cell.input_size)), f"X_{t}(rev)")  # carries the batch shape
                        rec.u.extra_inputs.append((x, layer))
                    rec.where = (t, layer, direction)
                    new = _step(cell, be, params(t, layer, direction), state, x, t, layer, direction, rec.batch)
                    state = rec.state(new, t, layer, direction)
                    H_of[direction, s] = cell.hidden(state)
            states[layer][direction] = state
        layer_in = []
        for s in range(1, T + 1):
            with timestep(t0 + s):
                layer_in.append(be.concat([H_of[0, s], H_of[1, s]]))  # [H_t; H_t^rev]
    for s in range(1, T + 1):
        if s in targets:
            t = t0 + s
            with timestep(t):
                O = rec.output(t, cell.output(be, params(t, 0, 0), layer_in[s - 1]))
                y, kind = targets[s]
                rec.loss(t, getattr(be, kind)(O, y))  # be.mse or be.cross_entropy
    views.clear()
    return [row[0] for row in states]


# -- the topologies ------------------------------------------------------------------------------------------
def one_to_one(rnn: Cell, x: Any, y: Any, loss: str | None = None, scalar: bool = False,
               max_memory: float | None = None) -> Unrolled:
    """One input, one output, no recurrence (an MLP): ``H_1 = f(W^X X + b)``, ``O = W^O H_1 + b^O``."""
    checks.cell(rnn, "one_to_one")
    scalar = flag(scalar, "scalar", "one_to_one")
    inputs, ids, batch = checks.inputs(rnn, np.asarray(x)[None], "one_to_one(x)")
    target = checks.target(rnn, y, batch, loss, "one_to_one(y)")
    return _unroll("one_to_one", rnn, inputs, {1: target}, None, batch, scalar, max_memory)


def many_to_one(rnn: Cell, xs: Any, y: Any, h0: Any = None, loss: str | None = None, scalar: bool = False,
                max_memory: float | None = None) -> Unrolled:
    """A sequence in, one output at the last step (sequence classification): ``L = L_T``."""
    checks.cell(rnn, "many_to_one")
    scalar = flag(scalar, "scalar", "many_to_one")
    inputs, ids, batch = checks.inputs(rnn, xs, "many_to_one(xs)")
    T = len(inputs)
    target = checks.target(rnn, y, batch, loss, "many_to_one(y)")
    state = checks.initial_states(rnn, h0, batch, scalar, "many_to_one")
    return _unroll("many_to_one", rnn, inputs, {T: target}, state, batch, scalar, max_memory)


def many_to_many(rnn: Cell, xs: Any, ys: Any, h0: Any = None, loss: str | None = None,
                 scalar: bool = False, max_memory: float | None = None) -> Unrolled:
    """An output and a loss at every step: ``L = L_1 + … + L_T``, ``dL/dH_t = Σ_{i≥t} dL_i/dH_t``."""
    checks.cell(rnn, "many_to_many")
    scalar = flag(scalar, "scalar", "many_to_many")
    inputs, ids, batch = checks.inputs(rnn, xs, "many_to_many(xs)")
    T = len(inputs)
    targets = checks.targets(rnn, ys, T, batch, loss, "many_to_many(ys)")
    state = checks.initial_states(rnn, h0, batch, scalar, "many_to_many")
    return _unroll("many_to_many", rnn, inputs, dict(enumerate(targets, start=1)), state, batch, scalar, max_memory)


def one_to_many(rnn: Cell, x: Any, ys: Any, feed: str = "zeros", h0: Any = None, loss: str | None = None,
                scalar: bool = False, max_memory: float | None = None) -> Unrolled:
    """One input, a sequence out. After step 1 the input is zero (``feed="zeros"``: no W^X term) or the
    previous output (``feed="output"``: ``X_t = O_{t-1}``, needs ``input_size == output_size``)."""
    if feed not in ("zeros", "output"):
        raise ValueError(f"one_to_many: feed must be 'zeros' or 'output', got {feed!r}")
    checks.cell(rnn, "one_to_many")
    scalar = flag(scalar, "scalar", "one_to_many")
    inputs, ids, batch = checks.inputs(rnn, np.asarray(x)[None], "one_to_many(x)")
    if feed == "output" and (ids or rnn.input_size != rnn.output_size or rnn.bidirectional):
        raise ValueError(f"one_to_many: feed='output' needs float inputs, input_size == output_size and one "
                         f"direction, got input_size {rnn.input_size}, output_size {rnn.output_size}"
                         f"{', token ids' if ids else ''}{', bidirectional' if rnn.bidirectional else ''}")
    if isinstance(ys, (str, bytes)) or not hasattr(ys, "__len__") or len(ys) == 0:
        raise ValueError("one_to_many: ys must be a non-empty sequence of targets, one per output step")
    T = len(ys)
    targets = checks.targets(rnn, ys, T, batch, loss, "one_to_many(ys)")
    state = checks.initial_states(rnn, h0, batch, scalar, "one_to_many")
    later = _PREV_OUTPUT if feed == "output" else None
    return _unroll("one_to_many", rnn, inputs + [later] * (T - 1), dict(enumerate(targets, start=1)), state, batch,
                   scalar, max_memory)


def seq2seq(encoder: Cell, decoder: Cell, xs: Any, ys: Any, teacher_forcing: bool = True, start: Any = None,
            loss: str | None = None, scalar: bool = False, max_memory: float | None = None) -> Unrolled:
    """Encoder → decoder: the encoder reads ``xs`` (no loss); its last state is the decoder's first, inside
    the graph, so the decoder's loss backpropagates into the encoder.

    The decoder's input at its step 1 is ``start`` (default: zeros, or token id 0); after that it is the
    previous target (``teacher_forcing=True``; a class target enters as its one-hot vector, or as its id
    for a ``token_ids`` decoder) or the previous output O_{t-1} (``teacher_forcing=False``, free running:
    inside the graph, so the gradient flows through the feedback; needs a float-input decoder with
    ``input_size == output_size``). Encoder and decoder must be the same kind of cell with the same
    hidden size and layers, one direction. Time steps continue: the decoder's first step is T_enc + 1.
    Returns the decoder's record; ``u.encoder`` is the encoder's.

        >>> from micrornn.nn import GRU
        >>> enc, dec = GRU(2, 3, 2, seed=0), GRU(2, 3, 2, seed=1)
        >>> u = seq2seq(enc, dec, np.ones((4, 2)), np.zeros((3, 2)))
        >>> u.backward(); bool(enc.W_h.grad.any()), u.steps["H"][0]
        (True, 5)
    """
    where = "seq2seq"
    checks.cell(encoder, "seq2seq(encoder)"), checks.cell(decoder, "seq2seq(decoder)")
    for name, cell in (("encoder", encoder), ("decoder", decoder)):
        if cell.bidirectional or cell.feedback != "hidden":
            raise ValueError(f"{where}: the {name} must run one direction with feedback='hidden'")
    if (type(encoder).state_names, encoder.hidden_size, encoder.num_layers) != (
            type(decoder).state_names, decoder.hidden_size, decoder.num_layers):
        raise ValueError(f"{where}: the encoder's last state starts the decoder, so they need the same state "
                         f"{encoder.state_names} / {decoder.state_names}, hidden size {encoder.hidden_size} / "
                         f"{decoder.hidden_size} and layers {encoder.num_layers} / {decoder.num_layers}")
    teacher_forcing, scalar = flag(teacher_forcing, "teacher_forcing", where), flag(scalar, "scalar", where)
    x_in, _, batch = checks.inputs(encoder, xs, "seq2seq(xs)")
    if isinstance(ys, (str, bytes)) or not hasattr(ys, "__len__") or len(ys) == 0:
        raise ValueError(f"{where}: ys must be a non-empty sequence of decoder targets")
    T_dec = len(ys)
    targets = checks.targets(decoder, ys, T_dec, batch, loss, "seq2seq(ys)")
    y_in = _decoder_inputs(decoder, targets, teacher_forcing, start, batch, where)
    T_enc = len(x_in)
    budget = checks.budget(max_memory, where, MEMORY_BUDGET)  # one budget for both halves: they live in one graph
    need = check_memory(encoder, T_enc, batch, scalar, budget, where=f"{where} (encoder)")
    check_memory(decoder, T_dec, batch, scalar, budget - need,
                 where=f"{where} (decoder; the encoder's {checks.size(need)} counted in)")
    be = ValueBackend() if scalar else TensorBackend()
    enc = Unrolled("seq2seq encoder", encoder, scalar, T_enc, loss=None)
    rec_enc = Recorder(enc, be, batch, part="encoder")
    with be.building():  # as in _unroll
        last = _run(rec_enc, x_in, {}, _start(rec_enc, None))
        rec_enc.finish()
        u = Unrolled("seq2seq", decoder, scalar, T_dec, loss=None, encoder=enc)
        rec_dec = Recorder(u, be, batch, part="decoder")
        _run(rec_dec, y_in, dict(enumerate(targets, start=1)), [[state] for state in last], t0=T_enc)
        rec_dec.finish()
    return u


def _decoder_inputs(decoder: Cell, targets: list[tuple], teacher_forcing: bool, start: Any, batch: int | None,
                    where: str) -> list[Any]:
    """The decoder's input at each of its steps: start, then the previous target or the previous output."""
    T = len(targets)
    bshape = () if batch is None else (batch,)
    if decoder.token_ids:
        if not teacher_forcing:
            raise ValueError(f"{where}: free running feeds O_{{t-1}} back, which is not a token id (an argmax "
                             f"would cut the gradient): use a float-input decoder or teacher_forcing=True")
        if any(kind != "cross_entropy" for _, kind in targets):
            raise ValueError(f"{where}: a token_ids decoder is fed its previous target, so targets must be class ids")
        first = np.zeros(bshape, dtype=np.int64) if start is None else np.asarray(start)
        ids = np.stack([first, *(y for y, _ in targets[:-1])])
        return checks.inputs(decoder, ids, f"{where}(start, ys)")[0]
    if decoder.input_size != decoder.output_size:
        raise ValueError(f"{where}: the decoder is fed its previous target or output, so it needs input_size == "
                         f"output_size, got {decoder.input_size} and {decoder.output_size}")
    want = (*bshape, decoder.input_size)
    first = np.zeros(want) if start is None else checks.rectangular(start, f"{where}: start", str(want))
    if first.dtype.kind not in "biuf" or first.shape != want:
        raise ValueError(f"{where}: start must be numbers of shape {want}, got {first.dtype} of shape {first.shape}")
    if not np.isfinite(first).all():
        raise ValueError(f"{where}: start holds inf/nan values; it must be finite numbers of shape {want}")
    first = first.astype(np.float64)
    if not teacher_forcing:
        return [first] + [_PREV_OUTPUT] * (T - 1)
    onehot = np.eye(decoder.output_size)
    return [first] + [onehot[y] if kind == "cross_entropy" else y for y, kind in targets[:-1]]


# -- generation ---------------------------------------------------------------------------------------------
def sample(rnn: Cell, start: int | Sequence[int], steps: int, temperature: float = 1.0, seed: int = 0) -> list[int]:
    """Generate ``steps`` token ids from a token model, under ``no_grad()``.

    The net must read token ids (``token_ids=True``), have ``input_size == output_size`` and one
    direction. ``start`` is one id or a list of ids (ints: a float such as 1.7 is a TypeError, never
    truncated) that primes the state; each next id is drawn from ``softmax(O_t / temperature)`` and fed
    back as the next input. Each step is ``cell.step`` (through the layers) and ``cell.output`` — the
    very functions the unroller calls — for every cell.

        >>> rnn = RNN(5, 8, 5, token_ids=True)
        >>> len(sample(rnn, [1, 2], 10))
        10
    """
    return _generate(rnn, start, steps, temperature, seed)[0]


def _generate(rnn: Cell, start: Any, steps: int, temperature: float = 1.0,
              seed: int = 0) -> tuple[list[int], list[np.ndarray]]:
    """``sample``'s ids and the logits O_t of every step it took (priming steps included)."""
    prime = checks.sample(rnn, start, steps, temperature)
    rng = np.random.default_rng(seed)
    be = TensorBackend()
    views = [_Direct(rnn, layer_suffix(layer, 0)) for layer in range(rnn.num_layers)]  # no per-step copies
    jordan = isinstance(rnn, RNN) and rnn.feedback == "output"
    zero = None if rnn.accepts_none else tuple(Tensor(np.zeros(rnn.hidden_size)) for _ in rnn.state_names)
    states = [zero if zero is None or len(zero) > 1 else zero[0] for _ in views]
    out: list[int] = []
    logits: list[np.ndarray] = []
    with no_grad():
        for i, tok in enumerate(prime + [None] * (steps - 1)):
            x = np.int64(out[-1] if tok is None else tok)
            states = _layers_step(rnn, be, views, states, x, i + 1, None)
            O = rnn.output(be, views[0], rnn.hidden(states[-1]))
            if jordan:
                states[0] = O
            logits.append(O.data)
            if i >= len(prime) - 1:
                p = F.softmax(O * (1.0 / temperature)).data
                out.append(int(rng.choice(len(p), p=p)))
    return out, logits
