"""Modules: parameters with names, `Linear`, and the recurrent cells — the net of the notes, LSTM, GRU,
and the user's own (a ``Cell``: named parameters + one step).

    H_t = f(W^H H_{t-1} + W^X X_t + b)        O_t = W^O H_t + b^O

Shapes follow PyTorch's ``nn.RNN``: ``W_h`` is hidden×hidden, ``W_x`` hidden×input, ``W_o``
output×hidden; a batch is a leading dimension. The graph itself is built by ``micrornn.unroll``.

    >>> rnn = RNN(input_size=2, hidden_size=3, output_size=1, seed=0)
    >>> [(name, p.shape) for name, p in rnn.named_parameters()]
    [('W_h', (3, 3)), ('W_x', (3, 2)), ('b', (3,)), ('W_o', (1, 3)), ('b_o', (1,))]
"""

from .cells import FEEDBACKS, GRU, LSTM, RNN, Cell, Elman, Jordan, layer_suffix
from .module import Linear, Module

__all__ = ["Module", "Linear", "Cell", "RNN", "Elman", "Jordan", "LSTM", "GRU", "FEEDBACKS", "layer_suffix"]
