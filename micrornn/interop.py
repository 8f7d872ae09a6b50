"""A bridge to PyTorch: the same net as ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` plus its output ``nn.Linear``.

The path out of micrornn when a net outgrows it: ``to_torch(model)`` gives a ``torch.nn.Module`` that
computes the same outputs and gradients (float64, to rounding), ``from_torch(module, head)`` brings a
torch net back to be drawn and taken apart. torch is an optional extra (``pip install micrornn[torch]``)
and is imported only when one of these functions is called, so ``import micrornn`` never loads it.

    >>> import pytest; torch = pytest.importorskip("torch")   # the example skips where the extra is missing
    >>> import numpy as np
    >>> from micrornn import nn, unroll
    >>> lstm = nn.LSTM(input_size=3, hidden_size=4, output_size=2, num_layers=2, seed=0)
    >>> model = to_torch(lstm)
    >>> model.rnn, model.head
    (LSTM(3, 4, num_layers=2), Linear(in_features=4, out_features=2, bias=True))
    >>> xs = np.random.default_rng(0).normal(size=(5, 3))                # T = 5 steps, unbatched
    >>> O, (h_n, c_n) = model(torch.from_numpy(xs))                       # O: (T, output_size)
    >>> u = unroll.many_to_many(lstm, xs, np.zeros((5, 2)))
    >>> bool(np.allclose(O.detach().numpy(), np.stack([o.data for o in u.O]), rtol=1e-10))
    True
    >>> torch_names(lstm)["W_x_l1"], torch_names(lstm)["W_o"]
    ('rnn.weight_ih_l1', 'head.weight')
    >>> back = from_torch(model)                                          # the same weights, bit for bit
    >>> all(np.array_equal(a, b) for a, b in zip(back.state_dict().values(), lstm.state_dict().values()))
    True

Names (PyTorch's layout, see ``micrornn.nn``): ``W_x`` ↔ ``weight_ih``, ``W_h`` ↔ ``weight_hh``, ``b_x`` ↔
``bias_ih``, ``b_h`` ↔ ``bias_hh``, suffixes ``_l1`` ↔ ``_l1``, ``_rev`` ↔ ``_reverse``; the head ``W_o``,
``b_o`` ↔ ``weight``, ``bias`` of the ``nn.Linear``. The simple RNN has one bias ``b``: it becomes
``bias_ih`` with ``bias_hh = 0``, and ``from_torch`` sums the two (only the sum enters the net).

The two one-switch initialisations cross as weights, nothing else: ``LSTM(forget_bias=1.0)`` is the
forget quarter ``[H:2H]`` of ``bias_ih`` set to 1 and that of ``bias_hh`` to 0 (torch's gate sees their sum,
so a torch net with any split summing to 1 comes back as the same net); ``RNN(init="identity",
activation="relu")`` is ``nn.RNN(nonlinearity="relu")`` with ``weight_hh = I`` and both biases 0.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .flags import flag
from .nn import GRU, LSTM, RNN, Cell, Elman, Jordan, layer_suffix

__all__ = ["to_torch", "from_torch", "torch_names"]  # and TorchModel, made on first use (it imports torch)

INSTALL = "pip install micrornn[torch]"
_KINDS = {RNN: "RNN", Elman: "RNN", Jordan: "RNN", LSTM: "LSTM", GRU: "GRU"}  # micrornn class → torch.nn class name
_CELLS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}
_TORCH = {"W_x": "weight_ih", "W_h": "weight_hh", "b_x": "bias_ih", "b_h": "bias_hh", "b": "bias_ih"}


def _torch() -> Any:
    """The torch module, or an ImportError that says how to get it."""
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"micrornn.interop needs PyTorch, an optional extra: {INSTALL}") from e
    return torch


@functools.cache
def _model_class() -> type:
    """``TorchModel``, made on first use: subclassing ``torch.nn.Module`` needs torch imported."""
    torch = _torch()

    class TorchModel(torch.nn.Module):
        """A recurrent net and its output head, as a PyTorch user writes it: ``O, h_n = model(x, hx)``.

        ``rnn`` is a ``torch.nn.RNN``/``LSTM``/``GRU`` (batch_first=False), ``head`` the ``nn.Linear``
        that reads its output (``O_t = W^O H_t + b^O``, for every step). ``x`` is (T, I) or (T, B, I) —
        or token ids (T,) / (T, B) when ``token_ids`` is True: they enter as one-hot vectors, which is what
        micrornn's ``token_ids=True`` computes (column x of ``W^X``). ``hx`` and ``h_n`` are the
        module's own: (layers·directions, [B,] H), a pair (h, c) for the LSTM.
        """

        def __init__(self, rnn: Any, head: Any, token_ids: bool = False) -> None:
            super().__init__()
            self.rnn, self.head, self.token_ids = rnn, head, flag(token_ids, "token_ids", "TorchModel")

        def forward(self, x: Any, hx: Any = None) -> tuple[Any, Any]:
            if self.token_ids:
                I = self.rnn.input_size
                if x.is_floating_point() or x.is_complex():
                    raise TypeError(f"TorchModel(x): token ids must be an integer tensor, got {x.dtype}")
                if x.numel() and (int(x.min()) < 0 or int(x.max()) >= I):  # one_hot's own error names no id
                    bad = int(x.max()) if int(x.max()) >= I else int(x.min())
                    raise ValueError(f"TorchModel(x): token id {bad} is out of range for input_size {I} "
                                     f"(ids 0..{I - 1})")
                x = torch.nn.functional.one_hot(x, I).to(self.head.weight.dtype)
            out, h_n = self.rnn(x, hx)
            return self.head(out), h_n

        def extra_repr(self) -> str:
            return "token_ids=True" if self.token_ids else ""

    # pickle finds the class by this name through the module's __getattr__ below
    TorchModel.__module__, TorchModel.__qualname__ = __name__, "TorchModel"
    return TorchModel


def __getattr__(name: str) -> Any:
    """``micrornn.interop.TorchModel`` exists once asked for (it imports torch); nothing else is lazy."""
    if name == "TorchModel":
        return _model_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- micrornn → torch ----------------------------------------------------------------------------------------
def _kind(model: Any) -> str:
    """The torch.nn class name for ``model``, or a ValueError/TypeError saying why torch has none."""
    if not isinstance(model, Cell):
        raise TypeError(f"to_torch: expected a micrornn.nn RNN, LSTM or GRU, got {type(model).__name__}")
    kind = _KINDS.get(type(model))
    if kind is None:
        raise TypeError(f"to_torch: {type(model).__name__} defines its own step, and torch.nn has no module for "
                        f"it; to_torch knows micrornn's RNN, LSTM and GRU")
    if kind == "RNN" and model.feedback == "output":
        raise ValueError("to_torch: feedback='output' (a Jordan net) feeds O_{t-1} back into the cell; "
                         "torch.nn.RNN always feeds back H_{t-1}, so it has no equivalent")
    if kind == "RNN" and model.activation not in ("tanh", "relu"):
        raise ValueError(f"to_torch: torch.nn.RNN has nonlinearity 'tanh' or 'relu' only, so activation="
                         f"{model.activation!r} has no equivalent")
    if model.truncate is not None:
        raise ValueError(f"to_torch: truncate={model.truncate} cuts the graph every {model.truncate} steps, while "
                         f"a torch.nn module backpropagates through the whole sequence it is given; in torch, run "
                         f"chunks of {model.truncate} steps and pass h_n.detach() on (or use truncate=None)")
    return kind


def torch_names(model: Cell) -> dict[str, str]:
    """Each micrornn parameter name → its name in ``to_torch(model).named_parameters()``.

    For the simple RNN ``b`` maps to ``rnn.bias_ih_l…``; its ``rnn.bias_hh_l…`` is zero and has no
    micrornn twin (its gradient equals ``b``'s, as the two are added).

        >>> torch_names(RNN(2, 3, 1, num_layers=2, bidirectional=True))["W_h_l1_rev"]
        'rnn.weight_hh_l1_reverse'
    """
    _kind(model)
    names = {}
    for layer in range(model.num_layers):
        for direction in range(model.directions):
            ours, theirs = layer_suffix(layer, direction), f"_l{layer}" + ("_reverse" if direction else "")
            for name in model.weights(model.input_size, model.hidden_size):
                names[name + ours] = f"rnn.{_TORCH[name]}{theirs}"
    names["W_o"], names["b_o"] = "head.weight", "head.bias"
    return names


def to_torch(model: Cell) -> Any:
    """The equivalent PyTorch net: a ``TorchModel`` with ``.rnn`` and ``.head``, float64, on the CPU.

    ``.rnn`` is a ``torch.nn.RNN`` (nonlinearity = the activation), ``LSTM`` or ``GRU`` with the same
    input/hidden size, ``num_layers`` and ``bidirectional``, ``batch_first=False`` (micrornn's (T, [B,] I)
    layout); ``.head`` is the ``torch.nn.Linear`` ``O_t = W^O H_t + b^O``. ``model(x, hx)`` returns
    ``(O, h_n)`` with O for every step: ``O[-1]`` is many-to-one's output. The weights are copies (train
    either net without touching the other); ``torch_names`` says where each went. Call ``.float()`` or
    ``.to(device)`` on the result as on any module; inputs must then match its dtype.

    Raises ValueError where torch has no equivalent: a Jordan net (feedback="output"), activation
    "sigmoid" or "identity", ``truncate`` not None (so the copy nets ``Elman``/``Jordan``, truncate=1);
    TypeError for a cell of your own.

        >>> import pytest; torch = pytest.importorskip("torch")
        >>> to_torch(GRU(2, 3, 1, bidirectional=True)).rnn
        GRU(2, 3, bidirectional=True)
    """
    torch = _torch()
    kind = _kind(model)
    options = dict(num_layers=model.num_layers, bidirectional=model.bidirectional, dtype=torch.float64)
    if kind == "RNN":
        options["nonlinearity"] = model.activation
    with torch.random.fork_rng(devices=[]):  # the constructors' random init must not move the user's seed
        rnn = getattr(torch.nn, kind)(model.input_size, model.hidden_size, **options)
        head = torch.nn.Linear(model.context_width, model.output_size, dtype=torch.float64)
    out = _model_class()(rnn, head, token_ids=model.token_ids)
    params = dict(out.named_parameters())
    with torch.no_grad():
        for p in params.values():
            p.zero_()  # the simple RNN's bias_hh has no micrornn twin: it stays 0
        for ours, theirs in torch_names(model).items():
            params[theirs].copy_(torch.from_numpy(getattr(model, ours).data))
    return out


# -- torch → micrornn ----------------------------------------------------------------------------------------
def _array(torch: Any, t: Any, where: str) -> np.ndarray:
    """A float64 copy on the CPU; float32/16 values are all exactly representable, so nothing is rounded."""
    if not t.is_floating_point():
        raise TypeError(f"from_torch: {where} must hold real floats, got {t.dtype}")
    if t.device.type == "meta":  # a meta tensor has a shape and no numbers to copy
        raise ValueError(f"from_torch: {where} is on the 'meta' device (shapes only, no values); load or "
                         f"initialise the module's weights first, e.g. module.to_empty(device='cpu') and "
                         f"load_state_dict(...)")
    return t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()


def from_torch(module: Any, head: Any = None, token_ids: bool = False, seed: int = 0) -> Cell:
    """A micrornn RNN, LSTM or GRU with the weights of a ``torch.nn.RNN``/``LSTM``/``GRU`` and its head.

    ``module`` is the recurrent module and ``head`` the ``torch.nn.Linear`` that reads its output
    (in_features = hidden_size · directions): micrornn's nets always have that head. A ``TorchModel``
    from ``to_torch`` is passed alone (``head=None``; its ``token_ids`` is kept). The result is float64
    whatever the torch dtype: float32/float16/bfloat16 weights convert exactly (the same numbers, more bits),
    so ``to_torch`` of it is a float64 module with the same values. Settings:

    - ``batch_first=True`` is accepted (it is only the input layout); micrornn reads (T, [B,] I).
    - ``bias=False`` (on the module or the head) becomes zero biases — which micrornn then trains.
    - nn.RNN's ``bias_ih`` and ``bias_hh`` are added into the one ``b`` (the same net; ``to_torch``
      gives it back as ``bias_ih = b``, ``bias_hh = 0``).
    - ValueError for what micrornn's cells do not compute: ``proj_size > 0`` (LSTM projections), or
      ``dropout > 0`` between layers while the module is in training mode (call ``module.eval()`` to
      take the weights of the deterministic net).
    - ``token_ids=True`` makes the inputs token ids (one-hot columns of ``W_x``, see ``micrornn.nn.RNN``).

        >>> import pytest; torch = pytest.importorskip("torch")
        >>> _ = torch.manual_seed(0)
        >>> gru = from_torch(torch.nn.GRU(3, 5, num_layers=2), torch.nn.Linear(5, 2))
        >>> gru
        GRU(input_size=3, hidden_size=5, output_size=2, num_layers=2, seed=0)
    """
    torch = _torch()
    token_ids = flag(token_ids, "token_ids", "from_torch")
    if isinstance(module, _model_class()):
        if head is not None:
            raise ValueError("from_torch: a TorchModel brings its own head; pass it alone (head=None)")
        module, head, token_ids = module.rnn, module.head, module.token_ids
    kind = type(module).__name__
    if kind not in _CELLS or type(module) is not getattr(torch.nn, kind):
        raise TypeError(f"from_torch: expected a torch.nn.RNN, LSTM or GRU (or a TorchModel), got "
                        f"{type(module).__name__}; a subclass may compute something else, so it is refused")
    if getattr(module, "proj_size", 0) > 0:
        raise ValueError(f"from_torch: proj_size={module.proj_size} projects H_t through weight_hr; micrornn's "
                         f"LSTM has no projection (use proj_size=0)")
    if module.dropout > 0 and module.num_layers > 1 and module.training:
        raise ValueError(f"from_torch: dropout={module.dropout} drops activations between layers in training "
                         f"mode, which micrornn's cells do not do; call module.eval() first for the "
                         f"deterministic net, or use dropout=0")
    if not isinstance(head, torch.nn.Linear):
        raise TypeError(f"from_torch: head must be the torch.nn.Linear that reads the module's output (micrornn's "
                        f"O_t = W^O H_t + b^O), got {type(head).__name__}")
    D = 2 if module.bidirectional else 1
    if head.in_features != module.hidden_size * D:
        raise ValueError(f"from_torch: head.in_features is {head.in_features}, but the module's output is "
                         f"hidden_size·directions = {module.hidden_size * D} wide")
    options = dict(num_layers=module.num_layers, bidirectional=module.bidirectional, token_ids=token_ids, seed=seed)
    if kind == "RNN":
        options["activation"] = module.nonlinearity
    model = _CELLS[kind](module.input_size, module.hidden_size, head.out_features, **options)
    weights = dict(module.named_parameters())
    state = {}
    for ours, theirs in torch_names(model).items():
        place = theirs.split(".")[1]
        if ours in ("W_o", "b_o"):
            t = getattr(head, place)
            state[ours] = np.zeros(getattr(model, ours).shape) if t is None else _array(torch, t, f"head.{place}")
        elif not module.bias and place.startswith("bias"):
            state[ours] = np.zeros(getattr(model, ours).shape)
        elif kind == "RNN" and place.startswith("bias_ih"):  # the simple RNN's one b = bias_ih + bias_hh
            hh = place.replace("bias_ih", "bias_hh")
            state[ours] = _array(torch, weights[place], place) + _array(torch, weights[hh], hh)
        else:
            state[ours] = _array(torch, weights[place], place)
    model.load_state_dict(state)  # checks shapes and finiteness, names the parameter on failure
    return model
