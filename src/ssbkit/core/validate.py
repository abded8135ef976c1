"""Checks made once, at the boundary, that name the argument they reject.

Each helper returns the cleaned value (a float, an array, a choice) or raises
``InputError`` with the argument's name and what was expected, so the CLI can print one
clear line. No ``assert``: ``python -O`` strips those.

>>> positive("batch_mass_g", "2")
2.0
>>> positive("batch_mass_g", -1)
Traceback (most recent call last):
...
ssbkit.core.errors.InputError: batch_mass_g: must be > 0, got -1
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ssbkit.core.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "finite",
    "fraction",
    "finite_array",
    "in_range",
    "non_negative",
    "one_of",
    "positive",
    "positive_int",
    "ratio",
    "require_columns",
    "require_finite_outputs",
]


def finite(name: str, value: Any) -> float:
    """``value`` as a finite float."""
    if isinstance(value, bool):
        raise InputError(f"must be a number, got {value!r}", source=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {value!r}", source=name) from None
    if not math.isfinite(number):
        raise InputError(f"must be a finite number, got {value!r}", source=name)
    return number


def positive(name: str, value: Any) -> float:
    """``value`` as a finite float > 0."""
    number = finite(name, value)
    if number <= 0:
        raise InputError(f"must be > 0, got {value!r}", source=name)
    return number


def non_negative(name: str, value: Any) -> float:
    """``value`` as a finite float ≥ 0."""
    number = finite(name, value)
    if number < 0:
        raise InputError(f"must be ≥ 0, got {value!r}", source=name)
    return number


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int ≥ 1 (a float must be whole)."""
    number = finite(name, value)
    if number != int(number) or number < 1:
        raise InputError(f"must be a whole number ≥ 1, got {value!r}", source=name)
    return int(number)


def in_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    why: str = "",
) -> float:
    """``value`` as a finite float within [low, high] (ends open or closed as asked)."""
    number = finite(name, value)
    above = number >= low if low_inclusive else number > low
    below = number <= high if high_inclusive else number < high
    if not (above and below):
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        reason = f" ({why})" if why else ""
        raise InputError(
            f"must be in {left}{low:g}, {high:g}{right}{reason}, got {value!r}", source=name
        )
    return number


def one_of(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` as one of ``choices`` (case-insensitive); the error lists them."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if not isinstance(value, str) or value.lower() not in lowered:
        raise InputError(f"must be one of {', '.join(options)}; got {value!r}", source=name)
    return lowered[value.lower()]


def finite_array(name: str, values: Any, *, ndim: int = 1, dtype: Any = float) -> np.ndarray:
    """``values`` as a new numpy array of ``ndim`` dimensions with no NaN or infinity."""
    import numpy as np

    try:
        array = np.array(values, dtype=dtype)
    except (TypeError, ValueError):
        raise InputError(f"must be an array of numbers, got {type(values).__name__}",
                         source=name) from None
    if array.ndim != ndim:
        raise InputError(f"must have {ndim} dimension(s), got {array.ndim}", source=name)
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(
            f"holds {int(bad.sum())} NaN or infinite value(s), first at index {first}",
            source=name,
        )
    return array


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, source: str) -> None:
    """Raise naming the missing columns (and the ones present) unless ``frame`` has all."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(map(repr, missing))}; "
            f"found {', '.join(map(repr, map(str, frame.columns)))}",
            source=source,
        )


def fraction(name: str, value: Any) -> float:
    """A fraction given as ``0.1``, ``"0.1"`` or ``"10%"``; a bare number above 1 is refused
    as ambiguous (10 could mean 10 % or 10-fold).

    >>> fraction("frb", "10%"), fraction("frb", "0.2")
    (0.1, 0.2)
    """
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.endswith("%"):
        percent = finite(name, text[:-1])
        if percent < 0:
            raise InputError(f"must be ≥ 0, got {value!r}", source=name)
        return percent / 100.0
    number = finite(name, text)
    if number < 0:
        raise InputError(f"must be ≥ 0, got {value!r}", source=name)
    if number > 1:
        raise InputError(f"{number:g} is above 1: give a fraction ({number / 100:g}) "
                         f"or a percentage ({number:g}%)", source=name)
    return number


def ratio(name: str, value: Any) -> float:
    """A ratio given as ``80``, ``"80"`` or ``"80:1"`` (``"a:b"`` is a/b).

    >>> ratio("bmr", "80:1"), ratio("bmr", 40)
    (80.0, 40.0)
    """
    if isinstance(value, str) and ":" in value:
        left, _, right = value.partition(":")
        return finite(name, left) / positive(name, right)
    return finite(name, value)


def require_finite_outputs(**values: float) -> None:
    """Refuse inputs whose results overflow: every derived value must be a finite number.

    >>> require_finite_outputs(power=1.0, dose=float("inf"))
    Traceback (most recent call last):
    ...
    ssbkit.core.errors.InputError: the inputs give a non-finite dose (inf); check their magnitudes
    """
    for name, value in values.items():
        if not math.isfinite(value):
            raise InputError(f"the inputs give a non-finite {name} ({value}); "
                             "check their magnitudes")
