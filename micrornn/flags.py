"""A flag is True or False: the one check of a public argument that every layer shares (it imports nothing
of micrornn, so the engine's lowest modules may use it; ``checks.py`` holds what an unroll's arguments mean).

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
