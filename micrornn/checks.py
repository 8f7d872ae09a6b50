"""What an unroll's arguments mean, and whether it fits in memory: every check the topologies make before
they build anything, one function per argument, each message naming what was received and what was
expected (the reading path counts a call in here as one line: "the arguments are checked").

    >>> from micrornn.nn import RNN
    >>> xs, ids, batch = inputs(RNN(2, 3, 2), [[0.0, 1.0], [1.0, 0.0]], "many_to_many(xs)")
    >>> len(xs), ids, batch
    (2, False, None)
    >>> inputs(RNN(2, 3, 2), [[0.0, 1.0, 2.0]], "many_to_many(xs)")
    Traceback (most recent call last):
    ValueError: many_to_many(xs): inputs have shape (1, 3), expected (T, 2) or (T, batch, 2) floats
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import fast
from .cells import RNN, Cell
from .tensor import Tensor
from .value import Value

LOSSES = ("cross_entropy", "mse")


def cell(rnn: Any, where: str) -> Cell:
    """``rnn`` if it is a Cell whose layers and directions are still the ones its weights were made for."""
    if not isinstance(rnn, Cell):
        raise TypeError(f"{where}: the first argument must be a micrornn.nn.Cell (RNN, LSTM, GRU, or your own), "
                        f"got {type(rnn).__name__}")
    name = type(rnn).__name__
    if "_suffixes" not in vars(rnn):
        raise TypeError(f"{where}: this {name} has no weights: its __init__ must call super().__init__(input_size, "
                        "hidden_size, output_size, ...), which makes them")
    layers = len({layer for layer, _ in rnn._suffixes})  # what the weights were made for
    directions = len({direction for _, direction in rnn._suffixes})
    if (rnn.num_layers, rnn.directions, 2 if rnn.bidirectional else 1) != (layers, directions, directions):
        raise ValueError(f"{where}: this {name} was made with num_layers={layers}, bidirectional="
                         f"{directions == 2} and its weights have those shapes, but it now says num_layers="
                         f"{rnn.num_layers}, bidirectional={rnn.bidirectional}. They are fixed when a cell is made: "
                         "make a new one with the layers and directions you want")
    return rnn


# -- the inputs, the targets and the start state ----------------------------------------------------------
def inputs(rnn: Cell, xs: Any, where: str) -> tuple[list[Any], bool, int | None]:
    """Per-step inputs, whether they are token ids, and the batch size (None: unbatched).

    The net decides what an input means, never the dtype: a net built with ``token_ids=True`` reads
    integer ids of shape (T,) or (T, batch); any other reads float vectors of shape (T, I) or (T, batch, I).
    """
    if isinstance(xs, (Tensor, Value)):
        raise TypeError(f"{where}: pass inputs as a numpy array or nested lists, not a {type(xs).__name__}")
    arr = rectangular(xs, f"{where}: inputs", f"(T, {rnn.input_size}) or (T, batch, {rnn.input_size})")
    I = rnn.input_size
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}: inputs must be numbers, got dtype {arr.dtype}")
    if arr.ndim == 0 or len(arr) == 0:
        raise ValueError(f"{where}: T = 0 — a sequence needs at least one time step")
    if rnn.token_ids:
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{where}: this net reads token ids (token_ids=True): expected integers 0..{I - 1} of "
                            f"shape (T,) or (T, batch), got {arr.dtype} of shape {arr.shape}")
        if arr.ndim > 2:
            raise ValueError(f"{where}: token ids must have shape (T,) or (T, batch), got {arr.shape}")
        if arr.min() < 0 or arr.max() >= I:
            raise ValueError(f"{where}: token id {arr.max() if arr.max() >= I else arr.min()} is out of range "
                             f"for input_size {I} (ids 0..{I - 1})")
        return list(arr), True, (arr.shape[1] if arr.ndim == 2 else None)
    expected = f"(T, {I}) or (T, batch, {I}) floats"
    if arr.dtype.kind in "iu":  # ids or vectors written as ints? the net says which; never guess
        raise TypeError(f"{where}: got integers ({arr.dtype}, shape {arr.shape}) but this net reads vectors of "
                        f"input_size {I}: pass floats (np.asarray(xs, dtype=float)) for vectors, or build the net "
                        f"with token_ids=True to read token ids")
    if arr.ndim not in (2, 3) or arr.shape[-1] != I:
        raise ValueError(f"{where}: inputs have shape {arr.shape}, expected {expected}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: inputs hold inf/nan values")
    return list(arr.astype(np.float64)), False, (arr.shape[1] if arr.ndim == 3 else None)


def rectangular(x: Any, what: str, expected: str) -> np.ndarray:
    """``np.asarray(x)``, or a ValueError naming the first row whose length differs (numpy says "inhomogeneous")."""
    try:
        return np.asarray(x)
    except ValueError:
        pass
    rows = list(x)
    first = np.shape(rows[0]) if rows else ()
    for i, row in enumerate(rows):
        try:
            shape = np.shape(row)
        except ValueError:
            shape = None
        if shape != first:
            got = "ragged itself" if shape is None else f"shape {shape}"
            raise ValueError(f"{what} are ragged: entry 0 has shape {first} but entry {i} has {got}; every time step "
                             f"needs the same shape, {expected}") from None
    raise ValueError(f"{what} are ragged: every time step needs the same shape, {expected}") from None


def target(rnn: Cell, y: Any, batch: int | None, loss: str | None, where: str) -> tuple[np.ndarray, str]:
    """One step's target and its loss: integer classes → cross-entropy, floats → MSE (unless `loss` says)."""
    if loss is not None and loss not in LOSSES:
        raise ValueError(f"{where}: loss must be one of {LOSSES} or None (chosen from the targets), got {loss!r}")
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{where}: targets must be numbers, got dtype {y.dtype}")
    kind = loss or ("cross_entropy" if y.dtype.kind in "iu" else "mse")
    O = rnn.output_size
    if kind == "cross_entropy":
        want = () if batch is None else (batch,)
        if y.dtype.kind not in "iu" or y.shape != want:
            raise ValueError(f"{where}: a class target must be {'an int' if batch is None else f'ints of shape {want}'}"
                             f", got {y.dtype} of shape {y.shape}")
        if y.min() < 0 or y.max() >= O:
            bad = y.max() if y.max() >= O else y.min()
            raise ValueError(f"{where}: class index {bad} is out of range for output_size {O} (classes 0..{O - 1})")
    else:
        want = (O,) if batch is None else (batch, O)
        if y.shape != want:
            raise ValueError(f"{where}: a regression target must have shape {want}, got {y.shape}")
        if not np.isfinite(y.astype(np.float64)).all():
            raise ValueError(f"{where}: targets hold inf/nan values")
        y = y.astype(np.float64)
    return y, kind


def targets(rnn: Cell, ys: Any, T: int, batch: int | None, loss: str | None, where: str) -> list[tuple]:
    if isinstance(ys, (str, bytes)) or not hasattr(ys, "__len__"):
        raise TypeError(f"{where}: ys must be a sequence of T = {T} targets, got {type(ys).__name__}")
    if len(ys) != T:
        raise ValueError(f"{where}: got {len(ys)} targets for T = {T} inputs; xs and ys must have the same length")
    if _class_ids(rnn, ys, T, batch, loss):  # the common case, checked for the whole sequence at once
        return [(y, "cross_entropy") for y in ys]
    return [target(rnn, y, batch, loss, f"{where}, step {t}") for t, y in enumerate(ys, start=1)]


def _class_ids(rnn: Cell, ys: Any, T: int, batch: int | None, loss: str | None) -> bool:
    """Whether ``ys`` is an integer array of T valid class targets (what ``_target`` would accept at every
    step); anything else goes through ``_target`` step by step, which names the step that is wrong."""
    return (isinstance(ys, np.ndarray) and ys.dtype.kind in "iu" and loss in (None, "cross_entropy")
            and ys.shape == ((T,) if batch is None else (T, batch))
            and 0 <= ys.min() and ys.max() < rnn.output_size)


def initial_states(rnn: Cell, h0: Any, batch: int | None, scalar: bool, where: str) -> list[list[Any]] | None:
    """``h0`` split per layer and direction: ``[layer][direction]`` → a state (a node or a tuple of nodes,
    kept in the graph) or a float array (a constant). None: no initial state."""
    if h0 is None:
        return None
    n_states = len(rnn.state_names)
    parts = h0 if n_states > 1 else (h0,)
    names = ", ".join(f"{s.lower()}0" for s in rnn.state_names)
    if n_states > 1 and (not isinstance(h0, tuple) or len(h0) != n_states):
        raise TypeError(f"{where}: a {type(rnn).__name__} starts from the pair h0=({names}), got {type(h0).__name__}")
    stacked = rnn.num_layers * rnn.directions
    C = rnn.context_size
    want = (() if stacked == 1 else (stacked,)) + (() if batch is None else (batch,)) + (C,)
    state = f"the {rnn.feedback} state" if isinstance(rnn, RNN) else f"{names}: (layers·directions, [batch,] hidden)"
    where_of = [f"{where}: h0" if n_states == 1 else f"{where}: h0[{i}] ({s.lower()}0)"
                for i, s in enumerate(rnn.state_names)]
    checked = [_state_array(part, want, scalar, w, state, stacked == 1) for w, part in zip(where_of, parts)]
    out = []
    for layer in range(rnn.num_layers):
        row = []
        for direction in range(rnn.directions):
            k = layer * rnn.directions + direction
            per = [part if stacked == 1 else part[k] for part in checked]  # a Tensor's [k] stays in the graph
            row.append(tuple(per) if n_states > 1 else per[0])
        out.append(row)
    return out


def _state_array(h0: Any, want: tuple[int, ...], scalar: bool, where: str, state: str, one_row: bool) -> Any:
    """One initial state as given when it is a graph node (it stays in the graph), else a float array."""
    if isinstance(h0, Value) or (isinstance(h0, np.ndarray) and h0.dtype == object):
        if not scalar:
            raise TypeError(f"{where} holds Values but scalar=False builds Tensors; pass a Tensor (e.g. the "
                            f"H[-1] of a Tensor unroll) to stay in the graph, or a float array for a constant")
        arr = np.asarray(h0, dtype=object)
        if not all(isinstance(v, Value) for v in arr.reshape(-1)):
            raise TypeError(f"{where}: an object array must hold only Values")
        shape = arr.shape
    elif isinstance(h0, Tensor):
        if scalar:
            raise TypeError(f"{where} is a Tensor but scalar=True builds Values; pass the H[-1] of a scalar=True "
                            f"unroll (an array of Values) to stay in the graph, or its .data for a constant")
        arr, shape = h0, h0.shape
    else:
        arr = rectangular(h0, where, str(want))
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{where} must be numbers of shape {want} ({state}), got dtype {arr.dtype}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{where} holds inf/nan values; a start state must be finite numbers of shape {want}")
        arr, shape = arr.astype(np.float64), arr.shape
    if one_row and shape == (1, *want):  # PyTorch's (layers·directions = 1, [batch,] H): take the one row
        return arr[0]
    if shape != want:
        raise ValueError(f"{where} must be numbers of shape {want} ({state}), got {shape}")
    return arr


def sample(rnn: Cell, start: Any, steps: int, temperature: float) -> list[Any]:
    """``sample``'s arguments: a one-direction token model, a positive int of steps, a temperature > 0,
    and ``start`` as a non-empty list of valid token ids (a float such as 1.7 is refused, never truncated)."""
    cell(rnn, "sample")
    if not rnn.token_ids or rnn.input_size != rnn.output_size or rnn.bidirectional:
        raise ValueError(f"sample: needs a token model, built with token_ids=True and input_size == output_size, "
                         f"one direction; got token_ids={rnn.token_ids}, input_size {rnn.input_size}, output_size "
                         f"{rnn.output_size}{', bidirectional' if rnn.bidirectional else ''}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"sample: steps must be a positive int, got {steps!r}")
    if not temperature > 0:
        raise ValueError(f"sample: temperature must be > 0, got {temperature!r}")
    prime = [start] if np.ndim(start) == 0 else list(start)
    for tok in prime:
        if isinstance(tok, (bool, np.bool_)) or not isinstance(tok, (int, np.integer)):
            raise TypeError(f"sample: start must be token ids (ints), got {tok!r} ({type(tok).__name__})")
    if not prime:
        raise ValueError("sample: start must hold at least one token id")
    inputs(rnn, np.asarray(prime, dtype=np.int64), "sample(start)")  # the range
    return prime


# -- memory: say it before building a graph that cannot fit -------------------------------------------------
_VALUE_BYTES = 140  # one Value with its two floats (sys.getsizeof, measured)
_NODE_BYTES = 250  # one Tensor node's object and array headers


def budget(max_memory: float | None, where: str, default: float) -> float:
    """The budget in bytes: the argument, else $MICRORNN_MEMORY_BUDGET, else ``default`` (the caller's
    ``unroll.MEMORY_BUDGET``, read at the call so that setting it takes effect)."""
    if max_memory is None:
        env = os.environ.get("MICRORNN_MEMORY_BUDGET")
        if env is None:
            return default
        try:
            max_memory = float(env)
        except ValueError:
            raise ValueError(f"{where}: $MICRORNN_MEMORY_BUDGET must be a number of bytes, got {env!r}") from None
    if isinstance(max_memory, bool) or not isinstance(max_memory, (int, float)) or not max_memory > 0:
        raise ValueError(f"{where}: max_memory must be a positive number of bytes (inf: no limit), got {max_memory!r}")
    return max_memory


def rough_estimate(rnn: Cell, T: int, b: int, scalar: bool) -> int:
    """A formula for the bytes of a ``T``-step unroll. Tensor graphs: each step holds its activations (data and
    grad, 16 bytes a number, ``Cell.step_width`` · hidden of them) and its nodes; a per-step copy of a weight
    matrix keeps its gradient as factors that other nodes hold anyway (``fast.FactoredCopy``), so it costs a node;
    a bias copy's gradient is a vector (with fast's "copies" trick off, every copy's is dense). Value graphs:
    one ~140-byte Value per number."""
    params = rnn.parameters()
    n_params = sum(p.size for p in params)
    cells = rnn.num_layers * rnn.directions
    per_step_act = b * (rnn.step_width * rnn.hidden_size * cells + 3 * rnn.output_size + rnn.input_size)
    if scalar:
        return int(T * (n_params * (1 + 2 * b) + per_step_act) * _VALUE_BYTES)
    # copies whose gradient is dense: the biases; with fast's "copies" trick off, every copy (the spine's)
    dense = sum(p.size for p in params if p.ndim == 1 or not fast.enabled("copies"))
    return int(T * (dense * 8 + per_step_act * 16 + (len(params) + 7 * cells) * _NODE_BYTES))


def size(n: float) -> str:
    """Bytes as a person reads them: GiB when large."""
    return f"{n / 2**30:.2f} GiB" if n >= 2**24 else f"{n:,.0f} bytes"




def fits(rnn: Cell, T: int, batch: int | None, scalar: bool, limit: float, where: str,
         measure: Callable[[Cell, int, int | None, bool], int]) -> int:
    """The bytes a ``T``-step unroll needs, or a MemoryError when that is above ``limit``. The formula
    (``rough_estimate``) is within a few times of the truth: only near the limit is the cell measured
    (``measure``: ``unroll.memory_estimate``, which builds two small unrolls of it)."""
    rough = rough_estimate(rnn, T, 1 if batch is None else batch, scalar)
    need = measure(rnn, T, batch, scalar) if rough > limit / 16 else rough
    if need > limit:
        copies = ("weight copies keep factored gradients" if fast.enabled("copies") else
                  "each weight copy holds a dense gradient: mr.fast.off('copies') is on")
        kind, why = (("Values", "one ~140-byte Value per number") if scalar else
                     ("Tensors", f"each step's activations and nodes; {copies}"))
        raise MemoryError(
            f"{where}: this unroll (T = {T}, hidden {rnn.hidden_size}, {kind}) needs about {size(need)}, "
            f"above the budget of {size(limit)} ({why}). "
            f"Use a shorter T, a smaller net or truncated windows — or raise the budget: max_memory=bytes "
            f"(float('inf'): no limit), $MICRORNN_MEMORY_BUDGET, or micrornn.unroll.MEMORY_BUDGET")
    return need
