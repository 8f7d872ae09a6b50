"""Checks of public arguments that many modules share, one helper per kind (imports nothing of micrornn,
so every layer may use it).

    >>> flag(True, "scalar")
    True
    >>> flag("yes", "scalar", "many_to_one")
    Traceback (most recent call last):
    TypeError: many_to_one: scalar must be True or False, got 'yes'
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["flag"]


def flag(value: Any, name: str, where: str | None = None) -> bool:
    """``value`` as a bool, or a TypeError naming the argument: a flag is True or False (numpy's bool_ too),
    never a truthy "yes", 1 or "False" that would silently switch it on."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where + ': ' if where else ''}{name} must be True or False, got {value!r}")
    return bool(value)
