"""The core every technique stands on: errors, units, results, validation, registries.

It holds no science and imports nothing else from ssbkit.
"""

from ssbkit.core.errors import (
    AmbiguousFormatError,
    DependencyError,
    FitError,
    InputError,
    SSBKitError,
    UnitError,
    UnsupportedFormatError,
)
from ssbkit.core.results import Estimate, Provenance, Result, make_provenance
from ssbkit.core.units import convert, label, parse_label

__all__ = [
    "AmbiguousFormatError",
    "DependencyError",
    "Estimate",
    "FitError",
    "InputError",
    "Provenance",
    "Result",
    "SSBKitError",
    "UnitError",
    "UnsupportedFormatError",
    "convert",
    "label",
    "make_provenance",
    "parse_label",
]
