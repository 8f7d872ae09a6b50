"""The boxes of a picture and their names in the DOT source: graph nodes, token inputs, the fold."""

from __future__ import annotations

from typing import Any

import numpy as np

from .text import _printable


class _Token:
    """X_t of a token-id net. The id is no graph node (W^X X_t is column X_t of W^X), so the picture
    adds this one to show which token entered, with an edge to where its column goes."""

    __slots__ = ("t", "label", "text", "data", "grad", "_parents", "_op")

    def __init__(self, t: int, ids: Any, tokens: Any) -> None:
        self.t, self.label, self._parents, self._op = t, f"X_{t}", (), ""
        self.data, self.grad = None, None
        ids = np.asarray(ids).reshape(-1)
        shown = [f"{_token_text(int(i), tokens)}" for i in ids[:4]]
        self.text = ", ".join(shown) + (", …" if len(ids) > 4 else "")


def _token_text(i: int, tokens: Any) -> str:
    """How token ``i`` is shown: its text and id from ``tokens``, else just its id."""
    if tokens is None:
        return f"id {i}"
    try:
        tok = tokens[i]
    except (KeyError, IndexError):
        return f"id {i}"
    return f"‘{_printable(str(tok))}’ ({i})"


def _key(n: Any) -> str:
    """The DOT name of a node's box."""
    return f"n{id(n)}"


def _op_key(n: Any) -> str:
    """The DOT name of the op circle beside a node's box (ops view)."""
    return f"op{id(n)}"


_FOLD = "fold"  # the DOT name of the "… k steps …" node
