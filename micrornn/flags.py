"""A flag is True or False, a name is one of its choices: the checks of one argument that every layer shares
(this module imports nothing of micrornn, so the engine's lowest modules may use it; ``checks.py`` holds what
an unroll's arguments mean).

    >>> flag(True, "scalar")
    True
    >>> flag("yes", "scalar", "many_to_one")
    Traceback (most recent call last):
    TypeError: many_to_one: scalar must be True or False, got 'yes'
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

__all__ = ["flag", "known", "positive_int", "exponent"]


def flag(value: Any, name: str, where: str | None = None) -> bool:
    """``value`` as a bool, or a TypeError naming the argument: a flag is True or False (numpy's bool_ too),
    never a truthy "yes", 1 or "False" that would silently switch it on."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where + ': ' if where else ''}{name} must be True or False, got {value!r}")
    return bool(value)


def known(name: Any, names: tuple[str, ...], what: str, where: str) -> str:
    """``name`` when it is one of ``names``, else a ValueError that lists them (a misspelt switch must not
    read as some default).

        >>> known("copies", ("copies", "fused"), "trick", "fast.off")
        'copies'
    """
    if name not in names:
        raise ValueError(f"{where}: unknown {what} {name!r}; the {what}s are {', '.join(names)}")
    return name


def positive_int(x: Any, name: str) -> int:
    """``x`` as a positive int, or a ValueError naming it (a bool or a float is refused, never rounded)."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
        raise ValueError(f"{name} must be a positive int, got {x!r}")
    return int(x)


def exponent(k: Any, engine: type) -> None:
    """The exponent of ``x ** k`` on either engine (``engine``: the class, Value or Tensor): a plain finite
    number, never a bool, a node of the engine or a subclass (``x ** x`` is not an op here) or inf/nan."""
    name = engine.__name__
    if isinstance(k, bool) or not isinstance(k, Real):
        got = f"a {name}: {name} ** {name} is not supported" if isinstance(k, engine) else type(k).__name__
        raise TypeError(f"{name} ** k needs a plain number k, got {got}")
    if not math.isfinite(k):
        raise ValueError(f"{name} ** {k}: the exponent must be a finite number")
