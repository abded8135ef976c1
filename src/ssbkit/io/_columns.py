"""Column headers of impedance tables: what a column holds, in which unit, with which sign.

Instruments spell the same quantity many ways: ``freq/Hz`` (EC-Lab), ``Frequency (Hz)``
(Squidstat, Parstat), ``Freq.[Hz]`` (NEISYS), ``f`` (pyimpspec), ``Freq`` (pyDRTtools);
``-Im(Z)/Ohm``, ``-Z'' (Ohms)``, ``-Z" (Ohms)``, ``Zs''[ohm]``, ``Zimag``. A header is split
into a name and a unit (``name/unit``, ``name [unit]``, ``name (unit)``), the name is
matched against the spellings below, and a leading minus sign (``-Z''``, ``-Phase``) marks
a column that must be negated to reach ssbkit's convention Z = Z' + jZ'' (a capacitive arc
has Z'' < 0). A column without a unit is taken in the canonical unit (Hz, Ohm, s, V) and
``assumed_units`` says so; a unit ssbkit does not know is a ``UnitError`` naming the column.

>>> classify_header("-Im(Z)/Ohm")
Column(header='-Im(Z)/Ohm', quantity='z_imag', unit='Ohm', negated=True)
>>> classify_header("Frequency (kHz)").unit, classify_header("Zs''[ohm]").quantity
('kHz', 'z_imag')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssbkit.core.errors import UnitError
from ssbkit.core.units import convert, dimension_of, normalize_unit

__all__ = ["Column", "ColumnMap", "classify_header", "is_unit", "map_columns", "with_units"]

# name spellings (lower case, quotes unified to ' and '', spaces collapsed) -> quantity
_NAMES: dict[str, str] = {}
for _quantity, _spellings in {
    "frequency": ["f", "freq", "freq.", "frequency"],
    "z_real": ["z'", "zre", "z_re", "zreal", "z_real", "z real", "re(z)", "re z", "rez", "real",
               "re", "zs'", "real(z)", "z'(a)"],
    "z_imag": ["z''", "zim", "z_im", "zimag", "zimg", "z_imag", "z imag", "im(z)", "im z", "imz",
               "imag", "imaginary", "zs''", "imag(z)", "z''(b)"],
    "z_mod": ["|z|", "z", "zmod", "mod(z)", "abs(z)", "modulus", "impedance", "|z|(z)",
              "impedance magnitude", "z magnitude"],
    "phase": ["phase", "phase(z)", "zphz", "phz", "phi", "phase angle", "theta", "impedance phase",
              "phase z"],
    "time": ["time", "t", "elapsed time", "elapsed_time", "time(s)"],
    "voltage": ["ewe", "e", "potential", "voltage", "working electrode", "vf", "e_we", "u",
                "dc working electrode", "edc", "e dc", "dc potential"],
    "current": ["i", "current", "idc", "i_we", "i dc"],
    "cycle": ["cycle number", "cycle", "repeats", "repeat", "sweep", "cycle no", "cycle index"],
    "step": ["step number", "step", "ns", "step no"],
    "temperature": ["temperature", "temp", "sample temperature"],
}.items():
    for _spelling in _spellings:
        _NAMES[_spelling] = _quantity

# the dimension (core.units) each quantity's unit must have, and its canonical unit here
_DIMENSION = {"frequency": ("frequency", "Hz"), "z_real": ("resistance", "Ohm"),
              "z_imag": ("resistance", "Ohm"), "z_mod": ("resistance", "Ohm"),
              "time": ("time", "s"), "voltage": ("voltage", "V"), "current": ("current", "A"),
              "temperature": ("temperature", "K")}
_ANGLES = {"deg": 1.0, "°": 1.0, "degree": 1.0, "degrees": 1.0, "degs": 1.0,
           "rad": 180.0 / math.pi, "radian": 180.0 / math.pi, "radians": 180.0 / math.pi}
_UNITLESS = {"cycle", "step"}
# unit spellings core.units does not list but instrument headers use
# (only case-insensitively unambiguous ones: "mohm" could be milli or mega, so it is absent)
_UNIT_ALIASES = {"sec": "s", "secs": "s", "ohms": "Ohm", "ohm": "Ohm", "kohms": "kOhm",
                 "kohm": "kOhm", "hz": "Hz", "khz": "kHz", "deg c": "°C", "degc": "°C",
                 "°c": "°C", "c": "°C", "k": "K"}


@dataclass(frozen=True)
class Column:
    """What one header means: a quantity (or None), its unit ('' when the header has none)."""

    header: str
    quantity: str | None
    unit: str
    negated: bool = False


def _normalise_name(name: str) -> str:
    text = name.strip().lower()
    for double in ('"', "″", "”", "“", "''"):
        text = text.replace(double, "''")
    for single in ("’", "′", "‘", "`", "´"):
        text = text.replace(single, "'")
    text = re.sub(r"\s+", " ", text)
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    return text


def _split(header: str) -> list[tuple[str, str]]:
    """Candidate (name, unit) splits of ``header``: the whole header first (``Re(Z)`` is a name,
    not ``Re`` in unit ``Z``), then ``name [unit]``, ``name/unit``, ``name (unit)``."""
    text = header.strip()
    candidates = [(text, "")]
    match = re.match(r"^(?P<name>.+?)\s*\[(?P<unit>[^\[\]]*)\]\s*$", text)
    if match:
        candidates.append((match["name"], match["unit"]))
    if "/" in text:
        name, _, unit = text.rpartition("/")
        if name and unit and " " not in unit.strip():
            candidates.append((name, unit))
    match = re.match(r"^(?P<name>.+?)\s*\((?P<unit>[^()]*)\)\s*$", text)
    if match:
        candidates.append((match["name"], match["unit"]))
    return candidates


def _lookup(name: str) -> tuple[str | None, bool]:
    text = _normalise_name(name)
    negated = False
    if text.startswith("-") and len(text) > 1:
        negated, text = True, text[1:].strip()
    quantity = _NAMES.get(text)
    if quantity is None and text.endswith("."):
        quantity = _NAMES.get(text[:-1])
    return quantity, negated


def classify_header(header: str) -> Column:
    """The quantity, unit and sign of one column header (quantity None when not recognised)."""
    for name, unit in _split(header):
        quantity, negated = _lookup(name)
        if quantity is not None:
            if negated and quantity not in ("z_imag", "phase"):
                continue
            return Column(header, quantity, unit.strip(), negated)
    return Column(header, None, "")


def _unit_factor(column: Column, source: Path, location: str | None) -> float:
    """Multiply by this to reach the canonical unit (temperatures are handled apart)."""
    quantity, unit = column.quantity, column.unit
    if quantity in _UNITLESS or not unit:
        return 1.0
    if quantity == "phase":
        key = unit.strip().lower()
        if key in _ANGLES:
            return _ANGLES[key]
        raise UnitError(f"column {column.header!r}: unknown angle unit {unit!r}; expected deg "
                        "or rad", source=source, location=location)
    dimension, canonical = _DIMENSION[quantity]
    try:
        spelled = _spell(unit)
        if dimension_of(spelled) != dimension:
            raise UnitError("wrong dimension")
    except UnitError:
        raise UnitError(f"column {column.header!r}: unknown {dimension} unit {unit!r}",
                        source=source, location=location) from None
    return float(convert(1.0, spelled, canonical))


def _spell(unit: str) -> str:
    text = unit.strip()
    try:
        return normalize_unit(text)
    except UnitError:
        if text.lower() in _UNIT_ALIASES:
            return _UNIT_ALIASES[text.lower()]
        raise


def is_unit(text: str) -> bool:
    """True for a unit ssbkit knows (``Hz``, ``ohm``, ``kOhm``, ``deg``, ``s`` …)."""
    text = text.strip().strip("[]()")
    if not text:
        return False
    if text.lower() in _ANGLES:
        return True
    try:
        _spell(text)
    except UnitError:
        return False
    return True


def with_units(names: Sequence[str], units: Sequence[str]) -> list[str]:
    """Headers from a name row and a separate unit row: ``Freq`` + ``Hz`` -> ``Freq [Hz]``."""
    out = []
    for j, name in enumerate(names):
        unit = units[j].strip().strip("[]()") if j < len(units) else ""
        out.append(f"{name} [{unit}]" if unit else name)
    return out


@dataclass(frozen=True)
class ColumnMap:
    """Which column index holds each quantity, with the factor to canonical units and sign."""

    index: Mapping[str, int]
    factor: Mapping[str, float]
    columns: tuple[Column, ...]
    assumed_units: tuple[str, ...]

    def __contains__(self, quantity: str) -> bool:
        return quantity in self.index

    def get(self, values: np.ndarray, quantity: str) -> np.ndarray | None:
        """Column ``quantity`` of ``values`` in canonical units with ssbkit's sign (None if absent)."""
        if quantity not in self.index:
            return None
        column = self.columns[self.index[quantity]]
        data = values[:, self.index[quantity]]
        if quantity == "temperature":
            return np.asarray(convert(data, _spell(column.unit or "K"), "K"), dtype=float)
        data = data * self.factor[quantity]
        return -data if column.negated else data

    def has_impedance(self) -> bool:
        return "frequency" in self and (("z_real" in self and "z_imag" in self)
                                        or ("z_mod" in self and "phase" in self))

    def impedance(self, values: np.ndarray) -> np.ndarray:
        """Complex Z [Ohm] from (Z', Z'') or, failing those, from (|Z|, phase)."""
        if "z_real" in self and "z_imag" in self:
            return self.get(values, "z_real") + 1j * self.get(values, "z_imag")
        modulus, phase = self.get(values, "z_mod"), self.get(values, "phase")
        return modulus * np.exp(1j * np.deg2rad(phase))


def map_columns(headers: Sequence[str], *, source: Path, location: str | None = None) -> ColumnMap:
    """Classify ``headers``; the first column of each quantity wins; units are checked here
    (``location`` is the header's place in the file, for the error message)."""
    columns = tuple(classify_header(h) for h in headers)
    index: dict[str, int] = {}
    for j, column in enumerate(columns):
        if column.quantity is not None and column.quantity not in index:
            index[column.quantity] = j
    factor = {q: _unit_factor(columns[j], source, location) for q, j in index.items()}
    assumed = tuple(sorted(q for q, j in index.items()
                           if not columns[j].unit and q not in _UNITLESS))
    return ColumnMap(index, factor, columns, assumed)
