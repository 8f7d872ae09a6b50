"""The record of an unrolled graph: its nodes by time step, the per-step copies, and each node's role.

``Unrolled`` is what every topology of ``micrornn.unroll`` returns; ``Role`` says what a node is (input,
state H or C, gate, output, loss, per-step weight copy, parameter, context cut) with its t, layer and
direction, so the pictures never parse labels. ``Recorder`` is how the unroller writes the record: one
call at each named point of its loop (``input``, ``state``, ``gate``, ``cut``, ``output``, ``loss``; the
per-step copies are appended to ``u.copies`` as they are made), never inside a step's arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .backends import Node, ParamValue, _flat, _is_ids, _t_of, data_of, grad_of
from .cells import RNN, Cell, layer_suffix
from .contributions import Contributions, contributions
from .graph import stale_error, topological_order
from .tensor import Tensor

__all__ = ["Unrolled", "Role", "ROLE_KINDS", "Recorder"]

ROLE_KINDS = ("input", "H", "C", "state", "gate", "output", "loss", "copy", "param", "cut")


class Role(NamedTuple):
    """What a node of an unrolled graph is — recorded when it is built, so nobody parses labels.

    ``kind``: "input" (X_t), "H" (hidden state; t = 0 for H_0), "C" (LSTM cell state), "state" (another
    state of a user cell, named in ``name``), "gate" (``name`` i, f, g, o, r, z, n …), "output" (O_t),
    "loss" (L_t; the total L has t None), "copy" (the per-step weight copy W_t of parameter ``name``),
    "param" (the shared parameter ``name`` itself), "cut" (the Elman/Jordan/truncation context: a
    ``detach()``-ed copy of state ``name``, no gradient flows through it).
    ``t``: time step (None for parameters and the total loss). ``layer``: 0 is the input layer.
    ``direction``: 0 forward, 1 reverse (bidirectional). ``part``: "" , or "encoder"/"decoder" (seq2seq).
    (A NamedTuple: one is made per recorded node, and a tuple is the cheapest immutable record.)
    """

    kind: str
    t: int | None = None
    layer: int = 0
    direction: int = 0
    name: str = ""
    part: str = ""


@dataclass
class Unrolled:
    """An unrolled graph: the nodes of every step in time order, the loss, the per-step copies, the roles.

    ``X``, ``H``, ``C`` (LSTM), ``O`` and ``L`` are lists in time order; ``H`` and ``C`` are the states
    of the top layer, forward direction — all layers and directions are in ``states[(layer, direction)]``
    (a dict of such lists, by state name). ``H[0]`` is ``H_0`` when an initial state was given (``O[0]``
    is ``O_0`` for a Jordan net); ``steps`` has the t of each entry. ``copies[name]`` lists the per-step
    copies of a parameter, in time order; ``cuts`` lists the places where the context was copied with
    ``detach()`` (copy nets, truncation) as ``(t, source, copy)``; ``gates`` lists ``(node, name, layer,
    direction)``. ``roles`` maps ``id(node)`` to its ``Role`` (read it with ``u.role(node)``); it is
    derived from the lists on first use, so building a graph pays nothing for it. A ``seq2seq`` record
    holds the decoder; ``encoder`` is the encoder's record (its roles are in ``roles`` too).
    """

    topology: str
    rnn: Cell
    scalar: bool
    T: int
    loss: Node
    X: list[Any] = field(default_factory=list)
    H: list[Node] = field(default_factory=list)
    C: list[Node] = field(default_factory=list)
    O: list[Node] = field(default_factory=list)
    L: list[Node] = field(default_factory=list)
    steps: dict[str, list[int]] = field(default_factory=dict)
    copies: dict[str, list[Node]] = field(default_factory=dict)
    leaves: dict[str, Node] = field(default_factory=dict)
    cuts: list[tuple[int, Node, Node]] = field(default_factory=list)
    states: dict[tuple[int, int], dict[str, list[Node]]] = field(default_factory=dict)
    gates: list[tuple[Node, str, int, int]] = field(default_factory=list)
    encoder: Unrolled | None = None
    part: str = ""  # "encoder" / "decoder" in a seq2seq
    cut_of: list[tuple[int, int, str]] = field(default_factory=list, repr=False)  # (layer, direction, state) per cut
    extra_inputs: list[tuple[Node, int]] = field(default_factory=list, repr=False)  # zero X_t(rev), (node, layer)
    _roles: dict[int, Role] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """One line (the lists hold every node of the graph: printing them would run to pages)."""
        loss = "not built" if self.loss is None else f"{float(np.sum(data_of(self.loss))):.6g}"
        engine = "Values" if self.scalar else "Tensors"
        cell = f"{type(self.rnn).__name__}({self.rnn.input_size}→{self.rnn.hidden_size}→{self.rnn.output_size})"
        return (f"Unrolled({self.topology}, {cell}, T={self.T}, {engine}, loss={loss}; see u.H, u.O, u.L, "
                f"u.copies, u.roles, viz.draw(u))")

    @property
    def roles(self) -> dict[int, Role]:
        """``id(node) → Role`` for every node the unroller made (one entry per Value for ``scalar=True``)."""
        if self._roles is None:
            self._roles = _collect_roles(self)
        return self._roles

    def role(self, node: Any) -> Role | None:
        """The role of a node (a Tensor or one Value), or None for the ops between the recorded nodes."""
        return self.roles.get(id(node))

    def backward(self) -> None:
        """Backprop from the loss; parameters accumulate, so two calls give twice the gradient (as PyTorch).

        For ``scalar=True`` the parameters' leaves are Values (``ParamValue``): what this call adds to
        each of them is added into its Tensor parameter — for every leaf the loss reaches, so an encoder
        whose ``H[-1]`` was this graph's ``h0`` gets its gradient too.
        """
        if self.scalar:
            return _scalar_backward(self)
        self.loss.backward()
        # nodes the loss does not reach (cut off by a copy, or after the last loss) got no gradient: 0
        for record in (self, self.encoder) if self.encoder is not None else (self,):
            lists = [record.X, record.O, record.L, *record.copies.values(),
                     *(nodes for states in record.states.values() for nodes in states.values()),
                     [g[0] for g in record.gates], [c for _, _, c in record.cuts]]
            for nodes in lists:
                for node in nodes:
                    if isinstance(node, Tensor) and node._grad is None:  # FactoredCopy too
                        node._grad = np.zeros_like(node.data)

    def at(self, t: int) -> dict[str, Any]:
        """The nodes of time step t by kind, e.g. ``u.at(3)["H"]`` is H_3."""
        out = {}
        for kind in ("X", "H", "C", "O", "L"):
            ts = self.steps.get(kind, [])
            if t in ts:
                out[kind] = getattr(self, kind)[ts.index(t)]
        return out

    def param_grad(self, name: str) -> np.ndarray:
        """dL/d(parameter) from this graph alone, its last backward: the sum of its per-step copies' grads.

        Not the parameter's ``.grad``, which accumulates over backward calls and graphs (PyTorch's leaves).

            >>> from micrornn.nn import RNN; from micrornn.unroll import many_to_one
            >>> rnn = RNN(2, 3, 2); u = many_to_one(rnn, [[1., 0.], [0., 1.]], 1); u.backward(); u.backward()
            >>> bool(np.allclose(2 * u.param_grad("W_h"), rnn.W_h.grad))
            True
        """
        if name not in self.leaves:
            raise KeyError(f"param_grad({name!r}): this graph's parameters are {', '.join(self.leaves)}")
        grads = self.copy_grads(name)
        return sum(grads[1:], grads[0].copy()) if grads else np.zeros(np.shape(data_of(self.leaves[name])))

    def loss_grads(self, i: int) -> list[np.ndarray]:
        """dL_i/dH_t for every entry of ``H`` (zeros where L_i does not reach: after its step, across a cut),
        from a backward of ``L[i]`` alone that leaves the weights' ``.grad`` as they were — so the per-loss
        decomposition dL/dH_t = Σ_i dL_i/dH_t can be looked at without training on L_i twice. Afterwards the
        graph's inner nodes hold L_i's gradients (``u.H[t].grad``); the weights do not.

            >>> from micrornn.nn import RNN; from micrornn.unroll import many_to_many
            >>> u = many_to_many(RNN(2, 3, 2), [[1., 0.], [0., 1.]], [[1., 0.], [0., 1.]])
            >>> [float(np.abs(g).sum()) > 0 for g in u.loss_grads(0)]   # L_1 reaches H_1 only
            [True, False]
        """
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -len(self.L) <= i < len(self.L):
            raise IndexError(f"loss_grads(i): i indexes u.L, which has {len(self.L)} losses; got {i!r}")
        params = self.rnn.parameters()
        saved = [p.grad.copy() for p in params]
        # leaves among the states (H_0 when given or zeros) accumulate like weights: start them at 0
        starts = [(v, v.grad) for h in self.H for v in _flat(h) if not v._op]
        for v, _ in starts:
            v.grad = np.zeros_like(v.data) if isinstance(v, Tensor) else 0.0
        try:
            self.L[i].backward()
            reached = {id(node) for node in topological_order(self.L[i])}
            return [grad_of(h).copy() if all(id(v) in reached for v in _flat(h)) else np.zeros(np.shape(data_of(h)))
                    for h in self.H]
        finally:
            for p, g in zip(params, saved):
                p.grad = g
            for v, g in starts:
                v.grad = g

    def contributions(self, name: str, part: str | None = None) -> Contributions:
        """C[i, j] = ∂L_i/∂W_j: what loss ``L[i]`` alone sends into copy j of weight ``name`` — signed,
        parameter-shaped, from one stacked reverse sweep that leaves every ``.grad`` as it was. Σ over the
        losses is ``copy_grads(name)``; ``.norms()`` is the lower-triangular heat. See ``micrornn.contributions``.

            >>> from micrornn.nn import RNN; from micrornn.unroll import many_to_many
            >>> u = many_to_many(RNN(2, 3, 2), [[1., 0.], [0., 1.]], [[1., 0.], [0., 1.]])
            >>> float(u.contributions("W_x").norms()[0, 1])   # L_1 cannot reach W^X_2
            0.0

        For a seq2seq record, ``part="encoder"`` gives the decoder's losses into the encoder's copies.
        """
        return contributions(self, name, part)

    def copy_grads(self, name: str) -> list[np.ndarray]:
        """The per-step contributions dL/dW_t, in time order."""
        return [grad_of(c) for c in self.copies[name]]


def _scalar_backward(u: Unrolled) -> None:
    """``u.backward()`` for ``scalar=True``, with the Tensor path's rule: a weight assigned after this graph
    read it is stale. Each ParamValue adds what it receives into its Tensor parameter."""
    for v in topological_order(u.loss):
        if isinstance(v, ParamValue) and v.param._stamp > v._stamp:
            raise stale_error(v, v.param)
    u.loss.backward()


def _owners(cell: Cell) -> dict[str, tuple[int, int]]:
    """Parameter name → (layer, direction) it belongs to; the head W_o, b_o reads the top layer."""
    owner = {name: (cell.num_layers - 1, 0) for name in ("W_o", "b_o")}
    for layer in range(cell.num_layers):
        for direction in range(cell.directions):
            for name in cell.weights(cell.input_size if layer == 0 else cell.context_width, cell.hidden_size):
                owner[name + layer_suffix(layer, direction)] = (layer, direction)
    return owner


def _recorded(u: Unrolled) -> Iterator[tuple[Any, tuple]]:
    """Every node the unroller recorded with its role's fields (kind, t, layer, direction, name); later
    entries win, so an O_{t-1} fed back as X_t stays an output."""
    top = u.rnn.num_layers - 1
    owner = _owners(u.rnn)
    for name, leaf in u.leaves.items():
        yield leaf, ("param", None, *owner[name], name)
    for x, t in zip(u.X, u.steps.get("X", [])):
        if not _is_ids(x):
            yield x, ("input", t, 0, 0, "")
    for x, layer in u.extra_inputs:
        yield x, ("input", _t_of(x), layer, 1, "")
    for name, copies in u.copies.items():
        for c in copies:
            yield c, ("copy", _t_of(c), *owner[name], name)
    for (layer, direction), lists in u.states.items():
        for name, nodes in lists.items():
            kind = name if name in ("H", "C") else "state"
            for n in nodes:
                yield n, (kind, _t_of(n), layer, direction, name)
    for node, name, layer, direction in u.gates:
        yield node, ("gate", _t_of(node), layer, direction, name)
    for (t, _, copy), (layer, direction, name) in zip(u.cuts, u.cut_of):
        yield copy, ("cut", t, layer, direction, name)
    for o, t in zip(u.O, u.steps.get("O", [])):
        yield o, ("output", t, top, 0, "O")
    for loss, t in zip(u.L, u.steps.get("L", [])):
        yield loss, ("loss", t, 0, 0, "")
    if len(u.L) > 1:
        yield u.loss, ("loss", None, 0, 0, "")


def _collect_roles(u: Unrolled) -> dict[int, Role]:
    roles = {} if u.encoder is None else dict(u.encoder.roles)
    for node, fields in _recorded(u):
        role = Role(*fields, u.part)
        for v in _flat(node):
            roles[id(v)] = role
    return roles


class Recorder:
    """Writes one cell's part of an unrolled graph into the record ``u`` as the unroller builds it: every
    node goes into one of u's lists (X, the states per layer and direction, copies, gates, cuts, O, L),
    labelled in the notes' notation, and ``u.roles`` is derived from those lists when first read.

        >>> from micrornn.backends import TensorBackend
        >>> from micrornn.nn import RNN
        >>> u = Unrolled("many_to_many", RNN(2, 3, 2), False, 1, loss=None)
        >>> rec = Recorder(u, TensorBackend(), batch=None)
        >>> X = rec.input(1, Tensor([1.0, 0.0], label="X_1"))
        >>> u.X[0] is X, u.steps["X"]
        (True, [1])
    """

    def __init__(self, u: Unrolled, be: Any, batch: int | None, part: str = "") -> None:
        self.u, self.be, self.batch, u.part = u, be, batch, part
        cell = self.cell = u.rnn
        self.leaves = {name: be.leaf(getattr(cell, name)) for name in cell._param_names}
        u.leaves, u.copies = self.leaves, {name: [] for name in self.leaves}
        u.steps = {k: [] for k in "XHCOL"}
        u.states = {where: {s: [] for s in cell.state_names} for where in cell._suffixes}  # (layer, direction)
        # parameter name → (its leaf, its label W^H, the list its per-step copies are appended to)
        self.copy_info = {name: (leaf, cell._labels[name], u.copies[name]) for name, leaf in self.leaves.items()}
        self.suffix = cell._suffixes  # (layer, direction) → (W_h_l1, W^H(l1)): the suffixes of names, labels
        self.jordan = isinstance(cell, RNN) and cell.feedback == "output"
        self.where = (0, 0, 0)  # (t, layer, direction) of the step being built: the loop sets it, gate reads it
        be.on_gate = self.gate
        self.losses: list[Node] = []

    def _add(self, kind: str, t: int, node: Any) -> Any:
        getattr(self.u, kind).append(node)
        self.u.steps[kind].append(t)
        return node

    def input(self, t: int, X: Any) -> Any:
        """X_t: a node (a constant, or O_{t-1} fed back), token ids, or None (no input)."""
        return self._add("X", t, X)

    def start(self, node: Any, t: int, layer: int, direction: int, name: str) -> Any:
        """A state before the first step (H_0, C_0, or O_0 for a Jordan net)."""
        if self.jordan:
            return self._add("O", t, node)
        self.u.states[(layer, direction)][name].append(node)
        if layer == self.cell.num_layers - 1 and direction == 0 and name in ("H", "C"):
            self._add(name, t, node)
        return node

    def state(self, state: Any, t: int, layer: int, direction: int) -> Any:
        """A new state (H_t, or (H_t, C_t) …) of one layer and direction, labelled."""
        parts = state if isinstance(state, tuple) else (state,)
        top = layer == self.cell.num_layers - 1 and direction == 0
        for name, node in zip(self.cell.state_names, parts):
            self.be.label(node, f"{name}_{t}{self.suffix[layer, direction][1]}")
            self.u.states[(layer, direction)][name].append(node)
            if top and name in ("H", "C"):
                self._add(name, t, node)
        return state

    def gate(self, name: str, node: Any) -> None:
        """A gate the step marked with ``be.gate`` (i, f, g, o, r, z …), labelled with the step it is in."""
        t, layer, direction = self.where
        self.be.label(node, f"{name}_{t}{self.suffix[layer, direction][1]}")
        self.u.gates.append((node, name, layer, direction))

    def cut(self, state: Any, t: int, layer: int, direction: int) -> Any:
        """The Elman/Jordan context (and truncated BPTT): a ``detach()``-ed copy of the state, through
        which no gradient flows back."""
        multi = isinstance(state, tuple)
        names = ("O",) if self.jordan else self.cell.state_names
        out = []
        for name, node in zip(names, state if multi else (state,)):
            context = self.be.detach(node, f"{f'{name}^ctx' if multi else 'C'}_{t}{self.suffix[layer, direction][1]}")
            self.u.cuts.append((t, node, context))
            self.u.cut_of.append((layer, direction, name))
            out.append(context)
        return tuple(out) if multi else out[0]

    def output(self, t: int, O: Node) -> Node:
        """O_t, labelled."""
        return self._add("O", t, self.be.label(O, f"O_{t}"))

    def loss(self, t: int, L: Node) -> Node:
        """L_t, labelled; ``finish`` sums them into L."""
        self.losses.append(self._add("L", t, self.be.label(L, f"L_{t}")))
        return L

    def finish(self) -> None:
        """L = L_1 + … + L_T; the reverse direction's lists put in time order.

        Also drops the links backend → recorder: without them a graph is freed by reference counting the
        moment it is dropped, not at the next cyclic collection.
        """
        self.be.on_gate = None
        if self.cell.bidirectional:  # one direction builds in time order already
            _time_order(self.u)
        if self.losses:
            total = sum(self.losses[1:], start=self.losses[0])  # L_1 + L_2 + …, left to right
            if len(self.losses) > 1:
                self.be.label(total, "L")
            self.u.loss = total


def _time_order(u: Unrolled) -> None:
    """Sort the states and copies of a bidirectional record by t (the reverse direction built them last
    step first)."""
    for lists in u.states.values():
        for nodes in lists.values():
            nodes.sort(key=_t_of)
    for nodes in u.copies.values():
        nodes.sort(key=_t_of)
