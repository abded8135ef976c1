"""Units: one canonical unit per quantity, conversions, and ``name [unit]`` labels.

Numbers inside ssbkit are plain floats and numpy arrays in the canonical unit of their
quantity (``CANONICAL``); units are converted once, at the boundary (readers, CLI options,
manifests). A unit library such as pint would be heavier than the small, closed set of
units this field uses, and would leak its quantity objects into numerical code, so the
table is written here.

Physical constants are the exact SI values (CODATA 2018 / SI 2019): the elementary charge
e = 1.602176634e-19 C and the Avogadro constant N_A = 6.02214076e23 mol⁻¹, so
1 eV per particle = e·N_A = 96.485 332 12… kJ/mol.

Examples
--------
>>> convert(13.3, "mS/cm", "S/m")
1.33
>>> round(convert(25, "°C", "K"), 2)
298.15
>>> round(convert(0.28, "eV", "kJ/mol"), 3)
27.016
>>> convert(1, "mAh", "C")
3.6
>>> label("capacity", "mAh")
'capacity [mAh]'
>>> parse_label("specific capacity [mAh/g]")
('specific capacity', 'mAh/g')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ssbkit.core.errors import UnitError

__all__ = [
    "AVOGADRO",
    "BOLTZMANN_EV",
    "CANONICAL",
    "ELEMENTARY_CHARGE",
    "FARADAY",
    "convert",
    "dimension_of",
    "known_units",
    "label",
    "normalize_unit",
    "parse_label",
    "to_canonical",
]

ELEMENTARY_CHARGE = 1.602176634e-19  # C, exact (SI 2019)
AVOGADRO = 6.02214076e23  # 1/mol, exact (SI 2019)
FARADAY = ELEMENTARY_CHARGE * AVOGADRO  # C/mol
_FARADAY_EXACT = Fraction("1.602176634e-19") * Fraction("6.02214076e23")
BOLTZMANN_EV = 1.380649e-23 / ELEMENTARY_CHARGE  # eV/K, exact ratio of exact constants


@dataclass(frozen=True, slots=True)
class _Unit:
    dimension: str
    factor: Fraction  # multiply by this to reach the dimension's reference unit
    offset: float = 0.0  # then add this (only temperatures have one)

    def __init__(self, dimension: str, factor: Fraction | str, offset: float = 0.0) -> None:
        # Factors are exact fractions ("1e-3", "1/3.6") so that a conversion rounds once:
        # 1 mAh is 3.6 C, not the 3.5999999999999996 of 1 / (1 / 3.6).
        object.__setattr__(self, "dimension", dimension)
        object.__setattr__(self, "factor", _fraction(factor))
        object.__setattr__(self, "offset", offset)


def _fraction(text: Fraction | str) -> Fraction:
    if isinstance(text, Fraction):
        return text
    if "/" in text:
        num, den = text.split("/")
        return Fraction(num) / Fraction(den)
    return Fraction(text)


# Reference unit of each dimension is the one with factor 1.
_UNITS: dict[str, _Unit] = {
    # ionic/electronic conductivity (reference S/cm)
    "S/cm": _Unit("conductivity", "1.0"),
    "mS/cm": _Unit("conductivity", "1e-3"),
    "µS/cm": _Unit("conductivity", "1e-6"),
    "S/m": _Unit("conductivity", "1e-2"),
    "mS/m": _Unit("conductivity", "1e-5"),
    # temperature (reference K)
    "K": _Unit("temperature", "1.0"),
    "°C": _Unit("temperature", "1.0", 273.15),
    # charge / capacity (reference mAh)
    "mAh": _Unit("charge", "1.0"),
    "Ah": _Unit("charge", "1e3"),
    "µAh": _Unit("charge", "1e-3"),
    "C": _Unit("charge", "1/3.6"),
    "mC": _Unit("charge", "1e-3/3.6"),
    # specific capacity (reference mAh/g)
    "mAh/g": _Unit("specific charge", "1.0"),
    "Ah/kg": _Unit("specific charge", "1.0"),
    "C/g": _Unit("specific charge", "1/3.6"),
    # areal capacity (reference mAh/cm²)
    "mAh/cm²": _Unit("areal charge", "1.0"),
    "µAh/cm²": _Unit("areal charge", "1e-3"),
    # areal mass loading (reference mg/cm²)
    "mg/cm²": _Unit("areal mass", "1.0"),
    "g/cm²": _Unit("areal mass", "1e3"),
    "g/m²": _Unit("areal mass", "0.1"),
    "kg/m²": _Unit("areal mass", "1e2"),
    # activation / per-particle energy (reference eV)
    "eV": _Unit("molar energy", "1.0"),
    "meV": _Unit("molar energy", "1e-3"),
    "kJ/mol": _Unit("molar energy", 1000 / _FARADAY_EXACT),
    "J/mol": _Unit("molar energy", 1 / _FARADAY_EXACT),
    "kcal/mol": _Unit("molar energy", 4184 / _FARADAY_EXACT),
    # energy (reference J)
    "J": _Unit("energy", "1.0"),
    "mJ": _Unit("energy", "1e-3"),
    "kJ": _Unit("energy", "1e3"),
    "Wh": _Unit("energy", "3600.0"),
    "mWh": _Unit("energy", "3.6"),
    # specific energy / milling dose (reference J/g)
    "J/g": _Unit("specific energy", "1.0"),
    "kJ/g": _Unit("specific energy", "1e3"),
    "Wh/kg": _Unit("specific energy", "3.6"),
    "mWh/g": _Unit("specific energy", "3.6"),
    # power (reference W)
    "W": _Unit("power", "1.0"),
    "mW": _Unit("power", "1e-3"),
    # mass (reference g)
    "g": _Unit("mass", "1.0"),
    "mg": _Unit("mass", "1e-3"),
    "µg": _Unit("mass", "1e-6"),
    "kg": _Unit("mass", "1e3"),
    # length (reference mm)
    "mm": _Unit("length", "1.0"),
    "µm": _Unit("length", "1e-3"),
    "nm": _Unit("length", "1e-6"),
    "Å": _Unit("length", "1e-7"),
    "cm": _Unit("length", "10.0"),
    "m": _Unit("length", "1e3"),
    # area (reference cm²)
    "cm²": _Unit("area", "1.0"),
    "mm²": _Unit("area", "1e-2"),
    "m²": _Unit("area", "1e4"),
    # volume (reference mL)
    "mL": _Unit("volume", "1.0"),
    "cm³": _Unit("volume", "1.0"),
    "L": _Unit("volume", "1e3"),
    "µL": _Unit("volume", "1e-3"),
    "mm³": _Unit("volume", "1e-3"),
    # density (reference g/cm³)
    "g/cm³": _Unit("density", "1.0"),
    "g/mL": _Unit("density", "1.0"),
    "kg/m³": _Unit("density", "1e-3"),
    # amount (reference mol)
    "mol": _Unit("amount", "1.0"),
    "mmol": _Unit("amount", "1e-3"),
    # molar mass (reference g/mol)
    "g/mol": _Unit("molar mass", "1.0"),
    # time (reference s)
    "s": _Unit("time", "1.0"),
    "ms": _Unit("time", "1e-3"),
    "µs": _Unit("time", "1e-6"),
    "min": _Unit("time", "60.0"),
    "h": _Unit("time", "3600.0"),
    # frequency (reference Hz)
    "Hz": _Unit("frequency", "1.0"),
    "kHz": _Unit("frequency", "1e3"),
    "MHz": _Unit("frequency", "1e6"),
    "mHz": _Unit("frequency", "1e-3"),
    "rpm": _Unit("frequency", "1/60"),
    # resistance (reference Ohm)
    "Ohm": _Unit("resistance", "1.0"),
    "mOhm": _Unit("resistance", "1e-3"),
    "kOhm": _Unit("resistance", "1e3"),
    "MOhm": _Unit("resistance", "1e6"),
    # voltage (reference V)
    "V": _Unit("voltage", "1.0"),
    "mV": _Unit("voltage", "1e-3"),
    # current (reference mA)
    "mA": _Unit("current", "1.0"),
    "A": _Unit("current", "1e3"),
    "µA": _Unit("current", "1e-3"),
    "nA": _Unit("current", "1e-6"),
    # pressure (reference MPa)
    "MPa": _Unit("pressure", "1.0"),
    "kPa": _Unit("pressure", "1e-3"),
    "Pa": _Unit("pressure", "1e-6"),
    "GPa": _Unit("pressure", "1e3"),
    "bar": _Unit("pressure", "0.1"),
    # diffusion coefficient (reference m²/s)
    "m²/s": _Unit("diffusivity", "1.0"),
    "cm²/s": _Unit("diffusivity", "1e-4"),
    # velocity (reference m/s)
    "m/s": _Unit("velocity", "1.0"),
    # dimensionless
    "1": _Unit("dimensionless", "1.0"),
    "%": _Unit("dimensionless", "1e-2"),
    "ppm": _Unit("dimensionless", "1e-6"),
}

# The unit ssbkit stores each quantity in (columns, results, JSON).
CANONICAL: dict[str, str] = {
    "conductivity": "S/cm",
    "temperature": "K",
    "capacity": "mAh",
    "specific capacity": "mAh/g",
    "areal capacity": "mAh/cm²",
    "areal loading": "mg/cm²",
    "activation energy": "eV",
    "energy": "J",
    "milling dose": "J/g",
    "power": "W",
    "mass": "g",
    "length": "mm",
    "area": "cm²",
    "volume": "mL",
    "density": "g/cm³",
    "amount": "mol",
    "molar mass": "g/mol",
    "time": "s",
    "frequency": "Hz",
    "resistance": "Ohm",
    "voltage": "V",
    "current": "mA",
    "pressure": "MPa",
    "diffusion coefficient": "cm²/s",  # as solid-state ionics and NMR papers quote it
    "velocity": "m/s",
}

_SUPERSCRIPTS = str.maketrans({"²": "2", "³": "3"})
_ALIASES: dict[str, str] = {
    "ohm": "Ohm", "Ω": "Ohm", "ohms": "Ohm", "kΩ": "kOhm", "kohm": "kOhm", "MΩ": "MOhm",
    "mΩ": "mOhm", "degC": "°C", "deg C": "°C", "℃": "°C", "celsius": "°C", "kelvin": "K",
    "A h": "Ah", "mA h": "mAh", "A s": "C", "As": "C", "sec": "s", "hr": "h", "hours": "h",
    "ml": "mL", "cc": "mL", "l": "L", "g/ml": "g/mL", "%": "%", "percent": "%",
    "dimensionless": "1", "": "1", "-": "1", "RPM": "rpm", "1/min": "rpm", "A": "A",
}


def _canonical_spelling(unit: str) -> str:
    u = unit.strip()
    u = u.replace("μ", "µ")  # Greek mu -> micro sign
    if u in _UNITS:
        return u
    if u in _ALIASES:
        return _ALIASES[u]
    # "cm^2", "cm2", "cm**2" -> "cm²"; "u" prefix -> "µ"
    v = re.sub(r"(\*\*|\^)", "", u)
    v = re.sub(r"(?<=[a-zA-Z])2(?![0-9])", "²", v)
    v = re.sub(r"(?<=[a-zA-Z])3(?![0-9])", "³", v)
    if v in _UNITS:
        return v
    if v.startswith("u") and "µ" + v[1:] in _UNITS:
        return "µ" + v[1:]
    if v.lower() in _ALIASES:
        return _ALIASES[v.lower()]
    return u


def normalize_unit(unit: str) -> str:
    """Return ssbkit's spelling of ``unit`` (``"ohm"`` → ``"Ohm"``, ``"mg/cm2"`` → ``"mg/cm²"``).

    Raises ``UnitError`` naming the unit and the known ones when it is not known.

    >>> normalize_unit("mg/cm^2"), normalize_unit("uS/cm"), normalize_unit("degC")
    ('mg/cm²', 'µS/cm', '°C')
    """
    if not isinstance(unit, str):
        raise UnitError(f"a unit must be a string, got {type(unit).__name__}")
    spelled = _canonical_spelling(unit)
    if spelled not in _UNITS:
        raise UnitError(f"unknown unit {unit!r}; known units: {', '.join(known_units())}")
    return spelled


def known_units() -> list[str]:
    """All units ssbkit converts, in its own spelling."""
    return list(_UNITS)


def dimension_of(unit: str) -> str:
    """The physical dimension of ``unit`` (``"mS/cm"`` → ``"conductivity"``)."""
    return _UNITS[normalize_unit(unit)].dimension


def convert(value: Any, from_unit: str, to_unit: str) -> Any:
    """Convert ``value`` (a float or a numpy array) from one unit to another.

    Temperatures are affine (°C ↔ K); everything else is a scale factor. Converting
    between different dimensions raises ``UnitError`` naming both units.
    """
    src, dst = _UNITS[normalize_unit(from_unit)], _UNITS[normalize_unit(to_unit)]
    if src.dimension != dst.dimension:
        raise UnitError(
            f"cannot convert {from_unit!r} ({src.dimension}) to {to_unit!r} ({dst.dimension})"
        )
    if src is dst:
        return value
    if src.offset == 0.0 and dst.offset == 0.0:
        ratio = src.factor / dst.factor
        return value * float(ratio.numerator) / float(ratio.denominator)
    reference = value * float(src.factor) + src.offset
    return (reference - dst.offset) / float(dst.factor)


def to_canonical(value: Any, unit: str, quantity: str) -> Any:
    """Convert ``value`` in ``unit`` to the canonical unit of ``quantity`` (see ``CANONICAL``)."""
    if quantity not in CANONICAL:
        raise UnitError(f"unknown quantity {quantity!r}; known: {', '.join(CANONICAL)}")
    return convert(value, unit, CANONICAL[quantity])


def label(name: str, unit: str) -> str:
    """The label a person reads: ``name [unit]``; dimensionless quantities have no brackets."""
    return name if unit in ("", "1") else f"{name} [{unit}]"


_LABEL = re.compile(r"^\s*(?P<name>.*?)\s*\[(?P<unit>[^\[\]]*)\]\s*$")


def parse_label(text: str) -> tuple[str, str]:
    """Split ``"name [unit]"`` into its name and unit; a label without brackets has unit ``"1"``."""
    match = _LABEL.match(text)
    if match is None:
        return text.strip(), "1"
    return match["name"], match["unit"]
