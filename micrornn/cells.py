"""Cells: named parameters + one step ``(state, X_t) → state`` — the simple RNN of the notes (with Elman
/ Jordan feedback), LSTM, GRU, and the user's own. The unroller, ``sample`` and user code call that one step.

    H_t = f(W^H H_{t-1} + W^X X_t + b)        O_t = W^O H_t + b^O

Shapes and gate order follow PyTorch (``nn.RNN``, ``nn.LSTM``: i, f, g, o; ``nn.GRU``: r, z, n).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .flags import flag, positive_int
from .module import Module
from .protocol import check_weights
from .tensor import Tensor

__all__ = ["Cell", "RNN", "Elman", "Jordan", "LSTM", "GRU", "FEEDBACKS", "INITS", "layer_suffix"]

FEEDBACKS = ("hidden", "output")
INITS = ("uniform", "identity")  # RNN(init=…): PyTorch's uniform ±1/√hidden, or IRNN's W^H = I, b = 0

def layer_suffix(layer: int, direction: int) -> str:
    """The name suffix of a parameter of layer ``layer`` and ``direction`` (1: reverse), as PyTorch's
    ``weight_ih_l1_reverse``: ``W_x`` for layer 0 forward, ``W_x_l1``, ``W_x_rev``, ``W_x_l1_rev``."""
    return (f"_l{layer}" if layer else "") + ("_rev" if direction else "")


def _label_suffix(layer: int, direction: int) -> str:
    """The same for pictures: ``W^X``, ``W^X(l1)``, ``W^X(rev)``, ``W^X(l1,rev)``."""
    parts = ([f"l{layer}"] if layer else []) + (["rev"] if direction else [])
    return f"({','.join(parts)})" if parts else ""


class Cell(Module):
    """A recurrent cell: named parameters and one ``step(be, p, state, X_t) -> state``.

    The unroller (every topology, ``scalar=True`` too), ``sample`` and user code all call that one
    step. A subclass gives

    - ``weights(input_size, hidden_size)``: name → shape of one layer's parameters (layer 0 forward
      gets the bare names; other layers and the reverse direction get ``layer_suffix``);
    - ``step(be, p, state, X_t)``: ``p.W_x`` … are that step's parameters (per-step copies when
      unrolled); ``be`` has the ops that run on Tensors and on arrays of Values alike —
      ``be.affine(W, x, b)`` (``W x + b``; a token id x picks column x), ``be.affine2``, ``be.tanh``,
      ``be.sigmoid``, ``be.relu``, ``be.apply(f, z)``, ``be.gate(name, node)`` (marks a gate for the
      pictures), ``be.concat``, ``be.embed`` — and ``+ - *``, ``1 - z``, ``z[..., a:b]`` (README: Cells).
      The state is ``H`` (or a tuple, named by ``state_names``: the LSTM's ``(H, C)``); the unroller
      checks each step's result against ``state_names`` and the shape (batch, hidden) (``protocol``).

    The output head ``O_t = W^O H_t + b^O`` (``W_o``: output × hidden·directions) is added for every
    cell. Parameters are uniform in ±1/√hidden, drawn from ``seed`` in creation order, as PyTorch's.
    ``num_layers``/``bidirectional`` stack layers and directions as PyTorch's; ``truncate=k`` cuts every
    state (H and C) with ``detach()`` every k steps; ``token_ids=True`` makes layer 0 read token ids.

        >>> class MinimalGRU(Cell):    # the minimal gated unit (Zhou et al., 2016)
        ...     def weights(self, I, H):
        ...         return {"W_f": (H, I), "U_f": (H, H), "b_f": (H,), "W_n": (H, I), "U_n": (H, H), "b_n": (H,)}
        ...     def step(self, be, p, h, x):
        ...         f = be.gate("f", be.sigmoid(be.affine(p.W_f, x, p.b_f) + be.affine(p.U_f, h)))
        ...         n = be.tanh(be.affine(p.W_n, x, p.b_n) + be.affine(p.U_n, f * h))
        ...         return (1 - f) * h + f * n
        >>> [name for name, _ in MinimalGRU(2, 3, 1).named_parameters()]
        ['W_f', 'U_f', 'b_f', 'W_n', 'U_n', 'b_n', 'W_o', 'b_o']
    """

    state_names: tuple[str, ...] = ("H",)
    labels: dict[str, str] = {}  # notation for the pictures, e.g. {"W_x": "W^X"}; default: the name
    # True: step() takes None for a missing state (step 1 without H_0) or input (one_to_many after step 1)
    # and leaves that term out, as the notes draw it. False: the unroller passes zeros instead.
    accepts_none: bool = False
    activation: str = "tanh"
    feedback: str = "hidden"
    step_width: int = 24  # activations per step, in units of hidden_size (for unroll.memory_estimate)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        seed: int = 0,
        *,
        truncate: int | None = None,
        token_ids: bool = False,
    ) -> None:
        self.input_size = positive_int(input_size, "input_size")
        self.hidden_size = positive_int(hidden_size, "hidden_size")
        self.output_size = positive_int(output_size, "output_size")
        self.num_layers = positive_int(num_layers, "num_layers")
        self.bidirectional, self.token_ids = flag(bidirectional, "bidirectional"), flag(token_ids, "token_ids")
        self.directions = 2 if self.bidirectional else 1  # fixed with the weights it shapes
        if truncate is not None:
            truncate = positive_int(truncate, "truncate (None for full BPTT, or k ≥ 1)")
        self.truncate = truncate
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int (the same seed draws the same weights), got {seed!r}")
        self.seed = int(seed)
        self._param_names: list[str] = []
        self._labels: dict[str, str] = {}
        # (layer, direction) → the suffix of its parameters' names and of their labels (W_h_l1, W^H(l1))
        self._suffixes = {(layer, direction): (layer_suffix(layer, direction), _label_suffix(layer, direction))
                          for layer in range(self.num_layers) for direction in range(self.directions)}
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(self.hidden_size)
        H, D = self.hidden_size, self.directions
        for layer in range(self.num_layers):
            for direction in range(D):
                shapes = check_weights(type(self).__name__, self.weights(self.input_size if layer == 0 else H * D, H))
                suffix, label_suffix = self._suffixes[layer, direction]
                for name, shape in shapes.items():
                    label = self.labels.get(name, name) + label_suffix
                    self._add(name + suffix, rng.uniform(-bound, bound, shape), label)
        self._add("W_o", rng.uniform(-bound, bound, (self.output_size, self.context_width)), "W^O")
        self._add("b_o", rng.uniform(-bound, bound, self.output_size), "b^O")

    def _add(self, name: str, data: np.ndarray, label: str) -> None:
        if hasattr(self, name) or not name.isidentifier():
            raise ValueError(f"{type(self).__name__}: parameter name {name!r} is taken or not an identifier")
        setattr(self, name, Tensor(data, label=label))
        self._param_names.append(name)
        self._labels[name] = label

    @property
    def context_width(self) -> int:
        """Width of what the output head reads: H_t, or [H_t; H_t^rev] when bidirectional."""
        return self.hidden_size * self.directions

    @property
    def context_size(self) -> int:
        """Width of what is fed back from one step to the next (the hidden state)."""
        return self.hidden_size

    def weights(self, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError(f"{type(self).__name__} must define weights(input_size, hidden_size)")

    def step(self, be: Any, p: Any, state: Any, X_t: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define step(be, p, state, X_t)")

    def output(self, be: Any, p: Any, H_t: Any) -> Any:
        """``O_t = W^O H_t + b^O``."""
        return be.affine(p.W_o, H_t, p.b_o)

    def hidden(self, state: Any) -> Any:
        """H_t from a state: the state itself, or its first part (the LSTM's (H, C))."""
        return state[0] if isinstance(state, tuple) else state

    def __repr__(self) -> str:
        extra = "".join([f", num_layers={self.num_layers}" if self.num_layers > 1 else "",
                         ", bidirectional=True" if self.bidirectional else "",
                         f", truncate={self.truncate}" if self.truncate else "",
                         ", token_ids=True" if self.token_ids else ""])
        return (f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"output_size={self.output_size}{extra}, seed={self.seed})")


class RNN(Cell):
    """The simple recurrent net of the notes; ``micrornn.unroll`` turns it into a graph.

    feedback="hidden" feeds ``H_{t-1}`` back (Elman); "output" feeds ``O_{t-1}`` (Jordan), so ``W_h``
    is then hidden×output. ``truncate=k`` cuts the graph every k steps with ``detach()`` (``None``:
    full BPTT; 1: the copy nets, whose context units hold a copy no gradient flows back through).
    ``token_ids=True`` makes the inputs token ids 0..input_size−1 instead of vectors: ``W^X X_t`` is
    then column ``X_t`` of ``W^X`` (the product with a one-hot vector, as ``nn.Embedding``); without it
    an integer input is an error, never silently read as ids. ``num_layers`` and ``bidirectional``
    stack layers as PyTorch's ``nn.RNN`` (feedback="hidden" only).
    Parameters are uniform in ±1/√hidden, drawn from ``seed``. ``init="identity"`` then sets every
    ``W^H = I`` and ``b = 0`` (the other weights keep their draws): with ``activation="relu"`` that is the
    IRNN of Le, Jaitly & Hinton (2015). At init H_t = relu(H_{t-1} + W^X X_t + 0): while every unit stays
    active (e.g. H_0 > 0 and nonnegative W^X X_t) each step's Jacobian is I, so ∂H_T/∂H_0 = I exactly and
    ‖dL/dH_t‖ is one flat strip — the gradient neither vanishes nor explodes.

        >>> irnn = RNN(2, 3, 1, init="identity", activation="relu")
        >>> irnn.W_h.data.tolist() == np.eye(3).tolist(), irnn.b.data.tolist()
        (True, [0.0, 0.0, 0.0])

    ``step`` is the one recurrence — the unroller, ``sample`` and user code all call it:

        >>> from micrornn.unroll import TensorBackend
        >>> rnn = RNN(2, 3, 1)
        >>> H_1 = rnn.step(TensorBackend(), rnn, None, Tensor([1.0, 0.0]))   # H_1 = f(W^X X_1 + b)
        >>> rnn.step(TensorBackend(), rnn, H_1, Tensor([0.0, 1.0])).shape
        (3,)
    """

    labels = {"W_h": "W^H", "W_x": "W^X", "b": "b"}
    accepts_none = True
    step_width = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        activation: str = "tanh",
        feedback: str = "hidden",
        truncate: int | None = None,
        seed: int = 0,
        token_ids: bool = False,
        num_layers: int = 1,
        bidirectional: bool = False,
        init: str = "uniform",
    ) -> None:
        self.f = F.activation(activation)  # raises for an unknown name
        if not isinstance(init, str):
            raise TypeError(f"RNN: init must be a string, one of {INITS}, got {type(init).__name__}: {init!r}")
        if init not in INITS:
            raise ValueError(f"RNN: init must be one of {INITS} ('identity': W^H = I and b = 0, the IRNN with "
                             f"activation='relu'), got {init!r}")
        if init == "identity" and feedback == "output":
            raise ValueError("RNN: init='identity' sets W^H = I, which needs a square W^H: feedback='hidden' "
                             "(a Jordan net's W^H is hidden × output)")
        self.init = init
        self.activation = activation
        if feedback not in FEEDBACKS:
            raise ValueError(f"feedback must be one of {FEEDBACKS} (Elman / Jordan), got {feedback!r}")
        if feedback == "output" and (num_layers != 1 or bidirectional):
            raise ValueError("feedback='output' (Jordan) feeds O_{t-1} into the one layer: it needs num_layers=1 "
                             "and bidirectional=False")
        self.feedback = feedback
        self.output_size = output_size  # weights() needs it before the parameters are made (Jordan's W^H)
        super().__init__(input_size, hidden_size, output_size, num_layers, bidirectional, seed, truncate=truncate,
                         token_ids=token_ids)
        if init == "identity":  # after the draws: the seed gives the same W^X, W^O as the uniform init
            for layer in range(self.num_layers):
                for direction in range(self.directions):
                    suffix = layer_suffix(layer, direction)
                    getattr(self, "W_h" + suffix).data[...] = np.eye(self.hidden_size)
                    getattr(self, "b" + suffix).data[...] = 0.0

    def weights(self, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        return {"W_h": (hidden_size, self.context_size), "W_x": (hidden_size, input_size), "b": (hidden_size,)}

    def step(self, be: Any, p: Any, context: Any, X_t: Any) -> Any:
        """One step of the recurrence, ``H_t = f(W^H C_t + W^X X_t + b)`` with C_t the context.

        ``be`` is the backend (Tensors or Values), ``p`` holds the parameters by name — the per-step
        copies in an unrolled graph, the parameters themselves (``p = self``) when sampling. No
        context (step 1 without ``h0``) means no W^H term; no input (``one_to_many`` after step 1
        with ``feed="zeros"``) means no W^X term.
        """
        if context is None:
            z = p.b if X_t is None else be.affine(p.W_x, X_t) + p.b
        elif X_t is None:
            z = be.affine(p.W_h, context, p.b)
        else:
            z = be.affine(p.W_h, context) + be.affine(p.W_x, X_t) + p.b  # (fast.rnn_step: one node)
        return be.apply(self.f, z)

    @property
    def context_size(self) -> int:
        """Width of what is fed back: H_{t-1} (Elman) or O_{t-1} (Jordan)."""
        return self.hidden_size if self.feedback == "hidden" else self.output_size

    def __repr__(self) -> str:
        extra = "".join([f", num_layers={self.num_layers}" if self.num_layers > 1 else "",
                         ", bidirectional=True" if self.bidirectional else "",
                         ", token_ids=True" if self.token_ids else ""])
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"output_size={self.output_size}, activation={self.activation!r}, feedback={self.feedback!r}, "
            f"truncate={self.truncate}, seed={self.seed}{extra}"
            + (f", init={self.init!r})" if getattr(self, "init", "uniform") != "uniform" else ")")
        )


class Elman(RNN):
    """The Elman copy net: the hidden state is *copied* into context units (``truncate=1``)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, activation: str = "tanh",
                 seed: int = 0, token_ids: bool = False) -> None:
        super().__init__(input_size, hidden_size, output_size, activation, feedback="hidden", truncate=1, seed=seed,
                         token_ids=token_ids)


class Jordan(RNN):
    """The Jordan copy net: the *output* is copied into the context units (``truncate=1``)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, activation: str = "tanh",
                 seed: int = 0, token_ids: bool = False) -> None:
        super().__init__(input_size, hidden_size, output_size, activation, feedback="output", truncate=1, seed=seed,
                         token_ids=token_ids)


class LSTM(Cell):
    """Long short-term memory, with PyTorch's ``nn.LSTM`` gate order, shapes and numerics.

        i, f, g, o = σ, σ, tanh, σ of  (W^X X_t + b^X + W^H H_{t-1} + b^H)   split in four, in that order
        C_t = f ⊙ C_{t-1} + i ⊙ g        H_t = o ⊙ tanh(C_t)

    ``W_x`` is 4·hidden × input (``weight_ih``), ``W_h`` 4·hidden × hidden (``weight_hh``), ``b_x``
    and ``b_h`` 4·hidden (``bias_ih``, ``bias_hh``). The state is ``(H, C)``; with no initial state,
    step 1 has no W^H H_0 and no f ⊙ C_0 term (the same numbers as PyTorch's zero state).

        >>> lstm = LSTM(3, 4, 2)
        >>> [(n, p.shape) for n, p in lstm.named_parameters()][:4]
        [('W_x', (16, 3)), ('W_h', (16, 4)), ('b_x', (16,)), ('b_h', (16,))]

    ``forget_bias=1.0`` starts the forget gates open (Jozefowicz, Zaremba & Sutskever 2015; Keras's
    ``unit_forget_bias``): the gate sees b^X_f + b^H_f, so that sum is set to ``forget_bias`` — all of it in
    ``b_x`` (``bias_ih``), ``b_h``'s forget quarter (``bias_hh``) 0 — in every layer and direction; the
    other numbers keep their draws. At init f ≈ σ(1) ≈ 0.73 instead of ≈ ½, so the cell-state path
    ∂C_T/∂C_0 = Π f_t keeps σ(1)^50 ≈ 1.6e-7 over 50 steps instead of 0.5^50 ≈ 8.9e-16. ``None``: PyTorch's.

        >>> lstm = LSTM(3, 4, 2, forget_bias=1.0)
        >>> (lstm.b_x.data[4:8] + lstm.b_h.data[4:8]).tolist()
        [1.0, 1.0, 1.0, 1.0]
    """

    state_names = ("H", "C")
    labels = {"W_x": "W^X", "W_h": "W^H", "b_x": "b^X", "b_h": "b^H"}
    accepts_none = True
    step_width = 24

    def __init__(self, input_size: int, hidden_size: int, output_size: int, num_layers: int = 1,
                 bidirectional: bool = False, seed: int = 0, *, truncate: int | None = None, token_ids: bool = False,
                 forget_bias: float | None = None) -> None:
        if forget_bias is not None:
            if isinstance(forget_bias, (bool, np.bool_)) or not isinstance(forget_bias, (int, float, np.number)):
                raise TypeError(f"LSTM: forget_bias must be a number (1.0 opens the forget gates, as Keras's "
                                f"unit_forget_bias) or None, got {type(forget_bias).__name__}: {forget_bias!r}")
            if not np.isfinite(forget_bias):
                raise ValueError(f"LSTM: forget_bias must be finite, got {forget_bias!r}")
            forget_bias = float(forget_bias)
        self.forget_bias = forget_bias
        super().__init__(input_size, hidden_size, output_size, num_layers, bidirectional, seed, truncate=truncate,
                         token_ids=token_ids)
        if forget_bias is not None:  # after the draws: the seed gives the same weights either way
            H = self.hidden_size
            for layer in range(self.num_layers):
                for direction in range(self.directions):
                    suffix = layer_suffix(layer, direction)
                    getattr(self, "b_x" + suffix).data[H:2 * H] = forget_bias
                    getattr(self, "b_h" + suffix).data[H:2 * H] = 0.0

    def __repr__(self) -> str:
        text = super().__repr__()
        return text if self.forget_bias is None else f"{text[:-1]}, forget_bias={self.forget_bias})"

    def weights(self, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        G = 4 * hidden_size
        return {"W_x": (G, input_size), "W_h": (G, hidden_size), "b_x": (G,), "b_h": (G,)}

    def step(self, be: Any, p: Any, state: tuple[Any, Any] | None, X_t: Any) -> tuple[Any, Any]:
        H = self.hidden_size
        z = be.affine(p.W_x, X_t, p.b_x) if X_t is not None else p.b_x
        z = z + (be.affine(p.W_h, state[0], p.b_h) if state is not None else p.b_h)
        i = be.gate("i", be.sigmoid(z[..., :H]))
        f = be.gate("f", be.sigmoid(z[..., H:2 * H]))
        g = be.gate("g", be.tanh(z[..., 2 * H:3 * H]))
        o = be.gate("o", be.sigmoid(z[..., 3 * H:]))
        C = f * state[1] + i * g if state is not None else i * g
        return o * be.tanh(C), C


class GRU(Cell):
    """Gated recurrent unit, with PyTorch's ``nn.GRU`` gate order, shapes and numerics.

        r, z = σ(W^X X_t + b^X + W^H H_{t-1} + b^H)   (the first two thirds)
        n = tanh(W^X_n X_t + b^X_n + r ⊙ (W^H_n H_{t-1} + b^H_n))      H_t = (1 − z) ⊙ n + z ⊙ H_{t-1}

    The hidden bias ``b^H_n`` stays inside the reset product, exactly as PyTorch's. ``W_x`` is
    3·hidden × input (``weight_ih``), ``W_h`` 3·hidden × hidden, ``b_x``, ``b_h`` 3·hidden.
    """

    labels = LSTM.labels
    accepts_none = True
    step_width = 20

    def weights(self, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        G = 3 * hidden_size
        return {"W_x": (G, input_size), "W_h": (G, hidden_size), "b_x": (G,), "b_h": (G,)}

    def step(self, be: Any, p: Any, h: Any, X_t: Any) -> Any:
        H = self.hidden_size
        zx = be.affine(p.W_x, X_t, p.b_x) if X_t is not None else p.b_x
        zh = be.affine(p.W_h, h, p.b_h) if h is not None else p.b_h
        r = be.gate("r", be.sigmoid(zx[..., :H] + zh[..., :H]))
        z = be.gate("z", be.sigmoid(zx[..., H:2 * H] + zh[..., H:2 * H]))
        n = be.gate("n", be.tanh(zx[..., 2 * H:] + r * zh[..., 2 * H:]))
        return (1 - z) * n + z * h if h is not None else (1 - z) * n
