"""The four topologies as explicit unrolled graphs: BPTT is ordinary backprop on them.

Every step t builds, inside ``with timestep(t):``,

    W^H_t, W^X_t, b_t, …  per-step copies of the shared parameters (identity nodes)
    H_t = f(W^H_t C_t + W^X_t X_t + b_t)     C_t = H_{t-1} (Elman) or O_{t-1} (Jordan)
    O_t = W^O_t H_t + b^O_t,   L_t = loss(O_t, y_t)

so after ``backward()`` each copy's ``.grad`` is that step's contribution and the shared
parameter's ``.grad`` is their sum, dL/dW^H = Σ_t dL/dW^H_t — by ordinary backprop. The step is
``rnn.step`` (and ``rnn.output``): ``sample`` calls the very same functions.

What the arguments mean — the net decides, nothing is guessed from a dtype:

- ``xs``: a net built with ``token_ids=True`` reads integer ids of shape (T,) or (T, batch); any other
  net reads floats of shape (T, I) or (T, batch, I). Ints to a vector net, floats to a token net: TypeError.
- ``h0``: a plain array is a constant start state; a graph node (a Tensor, or for ``scalar=True`` an
  object array of Values — e.g. another unroll's ``H[-1]``) stays in the graph, so chained unrolls
  backpropagate end to end. A Tensor with ``scalar=True`` (or Values without) is a TypeError.
- ``max_memory``: the unroll refuses (MemoryError) when ``memory_estimate`` is above it; default
  ``$MICRORNN_MEMORY_BUDGET`` or ``MEMORY_BUDGET`` (2 GiB).

    >>> import numpy as np
    >>> from micrornn.nn import RNN
    >>> rnn = RNN(input_size=2, hidden_size=3, output_size=2, seed=0)
    >>> u = many_to_one(rnn, np.ones((4, 2)), 1)     # T = 4 steps, class 1
    >>> u.backward()
    >>> len(u.copies["W_h"])                          # no H_0: W^H is used at steps 2..4
    3
    >>> np.allclose(sum(c.grad for c in u.copies["W_h"]), rnn.W_h.grad)
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from . import functional as F
from .graph import no_grad, timestep, topological_order
from .nn import RNN
from .tensor import Tensor
from .value import Value

__all__ = ["Unrolled", "one_to_one", "many_to_one", "many_to_many", "one_to_many", "sample", "grad_of", "data_of",
           "MEMORY_BUDGET", "memory_estimate", "check_memory"]

Node = Union[Tensor, Value, np.ndarray]  # np.ndarray: an object array of Values (scalar=True)
LOSSES = ("cross_entropy", "mse")


# -- two granularities, one cell ------------------------------------------------------------------------
class TensorBackend:
    """One node per array: the parameters themselves are the leaves."""

    scalar = False

    def leaf(self, p: Tensor) -> Tensor:
        return p

    def copy(self, leaf: Tensor, label: str) -> Tensor:
        return _labelled(leaf.identity(), label)

    def constant(self, x: np.ndarray, label: str) -> Tensor:
        return Tensor(x, label=label)

    def detach(self, node: Tensor, label: str) -> Tensor:
        return _labelled(node.detach(), label)

    # shapes, ids and targets were checked for the whole sequence up front: the unchecked ops follow
    def affine(self, W: Tensor, h: Tensor | np.ndarray, b: Tensor | None = None) -> Tensor:
        """``W h + b``; for token ids ``h``, column h of W (the product with a one-hot vector) + b."""
        if _is_ids(h):
            return F._embed(W, h) if b is None else F._embed(W, h) + b
        return F._linear(h, W, b)

    def apply(self, f: Callable[[Any], Any], z: Tensor) -> Tensor:
        """An activation (``Tensor.tanh`` …) applied to a node."""
        return f(z)

    def embed(self, W: Tensor, ids: np.ndarray) -> Tensor:
        return F._embed(W, ids)

    def cross_entropy(self, o: Tensor, y: np.ndarray) -> Tensor:
        return F._cross_entropy(o, y)

    def mse(self, o: Tensor, y: np.ndarray) -> Tensor:
        return F.mse(o, y)

    def label(self, node: Tensor, label: str) -> Tensor:
        return _labelled(node, label)


class ParamValue(Value):
    """A Value leaf standing for one number ``param.data[index]`` of a Tensor parameter (``scalar=True``):
    ``Unrolled.backward()`` adds what it receives into ``param.grad[index]``."""

    __slots__ = ("param", "index")

    def __init__(self, data: float, param: Tensor, index: tuple[int, ...]) -> None:
        super().__init__(data)
        self.param, self.index = param, index


class ValueBackend:
    """One ``Value`` per number: nodes are numpy object arrays of Values (for tiny nets and cross-checks)."""

    scalar = True

    def leaf(self, p: Tensor) -> np.ndarray:
        leaf = np.empty(p.shape, dtype=object)
        for idx, x in np.ndenumerate(p.data):
            leaf[idx] = ParamValue(float(x), p, idx)
        return self.label(leaf, p.label)

    def copy(self, leaf: np.ndarray, label: str) -> np.ndarray:
        return self.label(_map(lambda v: v.identity(), leaf), label)

    def constant(self, x: np.ndarray, label: str) -> np.ndarray:
        return self.label(_map(Value, np.asarray(x, dtype=np.float64)), label)

    def detach(self, node: np.ndarray, label: str) -> np.ndarray:
        return self.label(_map(lambda v: v.detach(), node), label)

    def affine(self, W: np.ndarray, h: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        if _is_ids(h):
            Wh = self.embed(W, h)
        else:
            Wh = W @ h if h.ndim == 1 else h @ W.T  # numpy's object matmul: Σ of Value products
        return Wh if b is None else Wh + b

    def apply(self, f: Callable[[Any], Any], z: np.ndarray) -> np.ndarray:
        """An activation applied to every Value of the array."""
        return _map(f, z)

    def embed(self, W: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return W[:, ids].T  # the very Value nodes of those columns: no new nodes, as a one-hot product

    def cross_entropy(self, o: np.ndarray, y: np.ndarray) -> Value:
        rows, ys = (o[None], np.atleast_1d(y)) if o.ndim == 1 else (o, y)
        losses = []
        for row, k in zip(rows, ys):
            m = max(v.data for v in row)  # a constant shift: exp never overflows, gradients unchanged
            lse = _vsum([(v - m).exp() for v in row]).log() + m
            losses.append(lse - row[k])
        return _vsum(losses) * (1.0 / len(losses))

    def mse(self, o: np.ndarray, y: np.ndarray) -> Value:
        sq = [(v - float(t)) ** 2 for v, t in zip(o.reshape(-1), np.asarray(y).reshape(-1))]
        return _vsum(sq) * (1.0 / len(sq))

    def label(self, node: Any, label: str) -> Any:
        if isinstance(node, Value):
            node.label = label
            return node
        for idx, v in np.ndenumerate(node):  # one number: no index (the univariate pictures of the notes)
            v.label = label if node.size == 1 else f"{label}[{','.join(map(str, idx))}]"
        return node


def _is_ids(x: Any) -> bool:
    """Token ids are integer arrays (or one numpy integer); vectors are Tensors or arrays of Values."""
    return isinstance(x, (np.ndarray, np.integer)) and x.dtype.kind in "iu"


def _labelled(node: Tensor, label: str) -> Tensor:
    node.label = label
    return node


def _map(fn: Callable[[Any], Any], arr: np.ndarray) -> np.ndarray:
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = fn(v)
    return out


def _vsum(values: Sequence[Any]) -> Any:
    """values[0] + values[1] + …, left to right (no 0 + … node in front)."""
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def grad_of(node: Node) -> np.ndarray:
    """The gradient held by a node as an ndarray — for a Tensor, a Value, or an object array of Values."""
    return _as_numbers(node, "grad")


def data_of(node: Node) -> np.ndarray:
    """The value held by a node as an ndarray (see ``grad_of``)."""
    return _as_numbers(node, "data")


def _as_numbers(node: Node, attr: str) -> np.ndarray:
    if isinstance(node, (Tensor, Value)):
        x = getattr(node, attr)
        return np.zeros_like(np.asarray(node.data)) if x is None else np.asarray(x)
    if node.size == 0:
        return np.zeros(node.shape)
    return np.vectorize(lambda v: getattr(v, attr), otypes=[np.float64])(node)


# -- the record -----------------------------------------------------------------------------------------
@dataclass
class Unrolled:
    """An unrolled graph: the nodes of every step in time order, the loss, and the per-step copies.

    ``X``, ``H``, ``O`` and ``L`` are lists in time order. ``H[0]`` is ``H_0`` when an initial state
    was given to an Elman-fed net (``O[0]`` is ``O_0`` for a Jordan net); ``steps`` has the t of each
    entry. ``copies[name]`` lists the per-step copies of a parameter; ``cuts`` lists the places where
    the context was copied with ``detach()`` (copy nets, truncation) as ``(t, source, copy)``.
    """

    topology: str
    rnn: RNN
    scalar: bool
    T: int
    loss: Node
    X: list[Any] = field(default_factory=list)
    H: list[Node] = field(default_factory=list)
    O: list[Node] = field(default_factory=list)
    L: list[Node] = field(default_factory=list)
    steps: dict[str, list[int]] = field(default_factory=dict)
    copies: dict[str, list[Node]] = field(default_factory=dict)
    leaves: dict[str, Node] = field(default_factory=dict)
    cuts: list[tuple[int, Node, Node]] = field(default_factory=list)

    def backward(self) -> None:
        """Backprop from the loss; parameters accumulate, so two calls give twice the gradient (as PyTorch).

        For ``scalar=True`` the parameters' leaves are Values (``ParamValue``): what this call adds to
        each of them is added into its Tensor parameter — for every leaf the loss reaches, so an encoder
        whose ``H[-1]`` was this graph's ``h0`` gets its gradient too.
        """
        if self.scalar:
            # the increment of this call only: a Value leaf holds the sum over all calls so far
            leaves = [v for v in topological_order(self.loss) if isinstance(v, ParamValue)]
            before = [v.grad for v in leaves]
            self.loss.backward()
            for v, old in zip(leaves, before):
                v.param.grad[v.index] += v.grad - old
            return
        self.loss.backward()
        # nodes the loss does not reach (cut off by a copy, or after the last loss) got no gradient: 0
        copies = [c for cs in self.copies.values() for c in cs]
        for node in [*self.H, *self.O, *self.L, *copies, *(x for x in self.X if isinstance(x, Tensor))]:
            if node.grad is None:
                node.grad = np.zeros_like(node.data)

    def at(self, t: int) -> dict[str, Any]:
        """The nodes of time step t by kind, e.g. ``u.at(3)["H"]`` is H_3."""
        out = {}
        for kind in ("X", "H", "O", "L"):
            ts = self.steps.get(kind, [])
            if t in ts:
                out[kind] = getattr(self, kind)[ts.index(t)]
        return out

    def param_grad(self, name: str) -> np.ndarray:
        """dL/d(parameter) from this graph alone (the sum over its per-step copies)."""
        return grad_of(self.leaves[name])

    def copy_grads(self, name: str) -> list[np.ndarray]:
        """The per-step contributions dL/dW_t, in time order."""
        return [grad_of(c) for c in self.copies[name]]


# -- input checking: every message names what was received and what was expected -------------------------
def _inputs(rnn: RNN, xs: Any, where: str) -> tuple[list[Any], bool, int | None]:
    """Per-step inputs, whether they are token ids, and the batch size (None: unbatched).

    The net decides what an input means, never the dtype: an RNN built with ``token_ids=True`` reads
    integer ids of shape (T,) or (T, batch); any other reads float vectors of shape (T, I) or (T, batch, I).
    """
    if isinstance(xs, (Tensor, Value)):
        raise TypeError(f"{where}: pass inputs as a numpy array or nested lists, not a {type(xs).__name__}")
    arr = np.asarray(xs)
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


def _target(rnn: RNN, y: Any, batch: int | None, loss: str | None, where: str) -> tuple[np.ndarray, str]:
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


def _targets(rnn: RNN, ys: Any, T: int, batch: int | None, loss: str | None, where: str) -> list[tuple]:
    if isinstance(ys, (str, bytes)) or not hasattr(ys, "__len__"):
        raise TypeError(f"{where}: ys must be a sequence of T = {T} targets, got {type(ys).__name__}")
    if len(ys) != T:
        raise ValueError(f"{where}: got {len(ys)} targets for T = {T} inputs; xs and ys must have the same length")
    return [_target(rnn, y, batch, loss, f"{where}, step {t}") for t, y in enumerate(ys, start=1)]


def _initial_state(rnn: RNN, h0: Any, batch: int | None, scalar: bool, where: str) -> Any:
    """``h0`` as given when it is a graph node (it stays in the graph), else a float array (a constant)."""
    if h0 is None:
        return None
    C = rnn.context_size
    want = (C,) if batch is None else (batch, C)
    state = f"the {rnn.feedback} state"
    if isinstance(h0, Value) or (isinstance(h0, np.ndarray) and h0.dtype == object):
        if not scalar:
            raise TypeError(f"{where}: h0 holds Values but scalar=False builds Tensors; pass a Tensor (e.g. the "
                            f"H[-1] of a Tensor unroll) to stay in the graph, or a float array for a constant")
        arr = np.asarray(h0, dtype=object)
        if not all(isinstance(v, Value) for v in arr.reshape(-1)):
            raise TypeError(f"{where}: an object-array h0 must hold only Values")
        shape = arr.shape
    elif isinstance(h0, Tensor):
        if scalar:
            raise TypeError(f"{where}: h0 is a Tensor but scalar=True builds Values; pass the H[-1] of a scalar=True "
                            f"unroll (an array of Values) to stay in the graph, or h0.data for a constant")
        arr, shape = h0, h0.shape
    else:
        arr = np.asarray(h0)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{where}: h0 must be numbers of shape {want} ({state}), got dtype {arr.dtype}")
        arr, shape = arr.astype(np.float64), arr.shape
    if shape != want:
        raise ValueError(f"{where}: h0 must be numbers of shape {want} ({state}), got {shape}")
    return arr


# -- memory: say it before building a graph that cannot fit -------------------------------------------------
MEMORY_BUDGET = 2 * 2**30  # bytes; an unroll estimated above this raises MemoryError before it builds anything
_VALUE_BYTES = 140  # one Value with its two floats (sys.getsizeof, measured)
_NODE_BYTES = 250  # one Tensor node's object and array headers


def memory_estimate(rnn: RNN, T: int, batch: int | None = None, scalar: bool = False) -> int:
    """Bytes an unroll of ``T`` steps holds after ``backward()`` — a rough estimate made before building.

    Tensor graphs: every per-step copy W_t gets its own full-shape float64 gradient, so each step
    costs Σ_params size × 8 bytes, plus the step's activations (data and grad). Value graphs: one
    ~140-byte Value per number — the copies, a product and a sum for each use of a weight, the activations.

        >>> memory_estimate(RNN(1, 256, 1), T=10_000) > 5 * 2**30   # 5.7 GB were measured
        True
    """
    b = 1 if batch is None else batch
    n_params = sum(p.size for p in rnn.parameters())
    per_step_act = b * (3 * rnn.hidden_size + 3 * rnn.output_size + rnn.input_size)
    if scalar:
        return int(T * (n_params * (1 + 2 * b) + per_step_act) * _VALUE_BYTES)
    return int(T * (n_params * 8 + per_step_act * 16 + 12 * _NODE_BYTES))


def _budget(max_memory: float | None, where: str) -> float:
    """The budget in bytes: the argument, else $MICRORNN_MEMORY_BUDGET, else MEMORY_BUDGET."""
    if max_memory is None:
        env = os.environ.get("MICRORNN_MEMORY_BUDGET")
        if env is None:
            return MEMORY_BUDGET
        try:
            max_memory = float(env)
        except ValueError:
            raise ValueError(f"{where}: $MICRORNN_MEMORY_BUDGET must be a number of bytes, got {env!r}") from None
    if isinstance(max_memory, bool) or not isinstance(max_memory, (int, float)) or not max_memory > 0:
        raise ValueError(f"{where}: max_memory must be a positive number of bytes (inf: no limit), got {max_memory!r}")
    return max_memory


def check_memory(rnn: RNN, T: int, batch: int | None, scalar: bool, max_memory: float | None = None,
                 where: str = "unroll") -> int:
    """Raise ``MemoryError`` when the estimate (``memory_estimate``) is above the budget; return the estimate."""
    need, budget = memory_estimate(rnn, T, batch, scalar), _budget(max_memory, where)
    if need > budget:
        kind = "Values" if scalar else "Tensors"
        raise MemoryError(
            f"{where}: this unroll (T = {T}, hidden {rnn.hidden_size}, {kind}) needs about {need / 2**30:.2f} GiB, "
            f"above the budget of {budget / 2**30:.2f} GiB (each per-step weight copy holds a full-size gradient). "
            f"Use a shorter T, a smaller net or truncated windows — or raise the budget: max_memory=bytes "
            f"(float('inf'): no limit), $MICRORNN_MEMORY_BUDGET, or micrornn.unroll.MEMORY_BUDGET")
    return need


# -- the builder shared by the four topologies ------------------------------------------------------------
class _StepParams:
    """The parameters as one step sees them: ``p.W_h`` is the per-step copy W^H_t, made on first use.

    Made on demand, so a step that does not use a parameter (no W^H at step 1 without H_0) gets no copy.
    """

    __slots__ = ("_copy", "_made")

    def __init__(self, copy: Callable[[str], Node]) -> None:
        self._copy, self._made = copy, {}

    def __getattr__(self, name: str) -> Node:
        made = self._made
        if name not in made:
            made[name] = self._copy(name)
        return made[name]


def _unroll(
    topology: str,
    rnn: RNN,
    inputs: list[Any],
    ids: bool,
    targets: dict[int, tuple],
    T: int,
    h0: Any,
    scalar: bool,
    feed: str = "input",
    max_memory: float | None = None,
) -> Unrolled:
    if not isinstance(rnn, RNN):
        raise TypeError(f"{topology}: the first argument must be a micrornn.nn.RNN, got {type(rnn).__name__}")
    batch = None if not inputs or np.ndim(inputs[0]) == (0 if ids else 1) else np.shape(inputs[0])[0]
    check_memory(rnn, T, batch, scalar, max_memory, where=topology)
    be = ValueBackend() if scalar else TensorBackend()
    leaves = {name: be.leaf(p) for name, p in rnn.named_parameters()}
    u = Unrolled(topology, rnn, scalar, T, loss=None, leaves=leaves,
                 copies={name: [] for name in leaves}, steps={k: [] for k in "XHOL"})
    notation = {name: p.label for name, p in rnn.named_parameters()}

    def record(kind: str, t: int, node: Node) -> Node:
        getattr(u, kind).append(node)
        u.steps[kind].append(t)
        return node

    hidden_fed = rnn.feedback == "hidden"
    context = None
    if h0 is not None:
        with timestep(0):
            name = "H_0" if hidden_fed else "O_0"
            # a graph node stays in the graph (an identity node labelled H_0): chained unrolls backpropagate
            start = be.constant(h0, name) if isinstance(h0, np.ndarray) and h0.dtype != object else be.copy(h0, name)
            context = record("H" if hidden_fed else "O", 0, start)
    losses = []
    for t in range(1, T + 1):
        with timestep(t):

            def copy(name: str, t: int = t) -> Node:
                node = be.copy(leaves[name], f"{notation[name]}_{t}")
                u.copies[name].append(node)
                return node

            p = _StepParams(copy)
            # the context C_t: H_{t-1} or O_{t-1}; a copy (no gradient) every `truncate` steps
            if context is not None and rnn.truncate and t > 1 and (t - 1) % rnn.truncate == 0:
                source = context
                context = be.detach(source, f"C_{t}")
                u.cuts.append((t, source, context))
            x_t = inputs[t - 1] if t - 1 < len(inputs) else None
            if feed == "output" and t > 1:
                x_t = u.O[-1]  # one-to-many, feed="output": X_t = O_{t-1}, inside the graph
            elif x_t is not None and not ids:
                x_t = be.constant(x_t, f"X_{t}")
            if x_t is not None:
                record("X", t, x_t)
            H_t = record("H", t, be.label(rnn.step(be, p, context, x_t), f"H_{t}"))
            context = H_t
            if t in targets or (not hidden_fed and t < T):
                O_t = record("O", t, be.label(rnn.output(be, p, H_t), f"O_{t}"))
                if not hidden_fed:
                    context = O_t
            if t in targets:
                y, kind = targets[t]
                L_t = be.cross_entropy(O_t, y) if kind == "cross_entropy" else be.mse(O_t, y)
                losses.append(record("L", t, be.label(L_t, f"L_{t}")))
    total = _vsum(losses)  # L = L_1 + … + L_T
    if len(losses) > 1:
        be.label(total, "L")
    u.loss = total
    return u


# -- the four topologies ------------------------------------------------------------------------------------
def one_to_one(rnn: RNN, x: Any, y: Any, loss: str | None = None, scalar: bool = False,
               max_memory: float | None = None) -> Unrolled:
    """One input, one output, no recurrence (an MLP): ``H_1 = f(W^X X + b)``, ``O = W^O H_1 + b^O``."""
    inputs, ids, batch = _inputs(rnn, np.asarray(x)[None], "one_to_one(x)")
    target = _target(rnn, y, batch, loss, "one_to_one(y)")
    return _unroll("one_to_one", rnn, inputs, ids, {1: target}, 1, None, scalar, max_memory=max_memory)


def many_to_one(rnn: RNN, xs: Any, y: Any, h0: Any = None, loss: str | None = None, scalar: bool = False,
                max_memory: float | None = None) -> Unrolled:
    """A sequence in, one output at the last step (sequence classification): ``L = L_T``."""
    inputs, ids, batch = _inputs(rnn, xs, "many_to_one(xs)")
    T = len(inputs)
    target = _target(rnn, y, batch, loss, "many_to_one(y)")
    state = _initial_state(rnn, h0, batch, scalar, "many_to_one")
    return _unroll("many_to_one", rnn, inputs, ids, {T: target}, T, state, scalar, max_memory=max_memory)


def many_to_many(rnn: RNN, xs: Any, ys: Any, h0: Any = None, loss: str | None = None,
                 scalar: bool = False, max_memory: float | None = None) -> Unrolled:
    """An output and a loss at every step: ``L = L_1 + … + L_T``, ``dL/dH_t = Σ_{i≥t} dL_i/dH_t``."""
    inputs, ids, batch = _inputs(rnn, xs, "many_to_many(xs)")
    T = len(inputs)
    targets = _targets(rnn, ys, T, batch, loss, "many_to_many(ys)")
    state = _initial_state(rnn, h0, batch, scalar, "many_to_many")
    return _unroll("many_to_many", rnn, inputs, ids, dict(enumerate(targets, start=1)), T, state, scalar,
                   max_memory=max_memory)


def one_to_many(rnn: RNN, x: Any, ys: Any, feed: str = "zeros", h0: Any = None, loss: str | None = None,
                scalar: bool = False, max_memory: float | None = None) -> Unrolled:
    """One input, a sequence out. After step 1 the input is zero (``feed="zeros"``: no W^X term) or the
    previous output (``feed="output"``: ``X_t = O_{t-1}``, needs ``input_size == output_size``)."""
    if feed not in ("zeros", "output"):
        raise ValueError(f"one_to_many: feed must be 'zeros' or 'output', got {feed!r}")
    inputs, ids, batch = _inputs(rnn, np.asarray(x)[None], "one_to_many(x)")
    if feed == "output" and (ids or rnn.input_size != rnn.output_size):
        raise ValueError(f"one_to_many: feed='output' needs float inputs and input_size == output_size, got "
                         f"input_size {rnn.input_size}, output_size {rnn.output_size}{', token ids' if ids else ''}")
    if isinstance(ys, (str, bytes)) or not hasattr(ys, "__len__") or len(ys) == 0:
        raise ValueError("one_to_many: ys must be a non-empty sequence of targets, one per output step")
    T = len(ys)
    targets = _targets(rnn, ys, T, batch, loss, "one_to_many(ys)")
    state = _initial_state(rnn, h0, batch, scalar, "one_to_many")
    return _unroll("one_to_many", rnn, inputs, ids, dict(enumerate(targets, start=1)), T, state, scalar,
                   feed="output" if feed == "output" else "input", max_memory=max_memory)


# -- generation ---------------------------------------------------------------------------------------------
def sample(rnn: RNN, start: int | Sequence[int], steps: int, temperature: float = 1.0, seed: int = 0) -> list[int]:
    """Generate ``steps`` token ids from a token model, under ``no_grad()``.

    The net must read token ids (``token_ids=True``) and have ``input_size == output_size``. ``start``
    is one id or a list of ids (ints: a float such as 1.7 is a TypeError, never truncated) that primes
    the state; each next id is drawn from ``softmax(O_t / temperature)`` and fed back as the next input.
    Each step is ``rnn.step`` and ``rnn.output`` — the very functions the unroller calls.

        >>> rnn = RNN(5, 8, 5, token_ids=True)
        >>> len(sample(rnn, [1, 2], 10))
        10
    """
    return _generate(rnn, start, steps, temperature, seed)[0]


def _generate(rnn: RNN, start: Any, steps: int, temperature: float = 1.0,
              seed: int = 0) -> tuple[list[int], list[np.ndarray]]:
    """``sample``'s ids and the logits O_t of every step it took (priming steps included)."""
    if not isinstance(rnn, RNN):
        raise TypeError(f"sample: the first argument must be a micrornn.nn.RNN, got {type(rnn).__name__}")
    if not rnn.token_ids or rnn.input_size != rnn.output_size:
        raise ValueError(f"sample: needs a token model, built with token_ids=True and input_size == output_size; "
                         f"got token_ids={rnn.token_ids}, input_size {rnn.input_size}, output_size {rnn.output_size}")
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
    _inputs(rnn, np.asarray(prime, dtype=np.int64), "sample(start)")  # checks the range
    rng = np.random.default_rng(seed)
    be = TensorBackend()
    hidden_fed = rnn.feedback == "hidden"
    out: list[int] = []
    logits: list[np.ndarray] = []
    with no_grad():
        context = None
        for i, tok in enumerate(prime + [None] * (steps - 1)):
            x = np.int64(out[-1] if tok is None else tok)
            H = rnn.step(be, rnn, context, x)  # p = rnn: the parameters themselves, no per-step copies
            O = rnn.output(be, rnn, H)
            context = H if hidden_fed else O
            logits.append(O.data)
            if i >= len(prime) - 1:
                p = F.softmax(O * (1.0 / temperature)).data
                out.append(int(rng.choice(len(p), p=p)))
    return out, logits
