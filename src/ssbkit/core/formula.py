"""Chemical formulas: parsing, composition and molar mass.

The parser reads what battery papers write: fractional subscripts (``Li5.5PS4.5Cl0.8Br0.7``),
parentheses and brackets with counts (``Li7La3Zr2O12``, ``(Li2S)0.75(LiI)0.25``), and
adducts joined by ``·`` or ``*`` with a leading count (``LiCl·H2O``, ``Li2SO4*H2O``).
A ``.`` is a decimal point, never an adduct dot, since subscripts are fractional.
It is written here rather than taken from pymatgen because pymatgen is a heavy optional
extra, and because errors must name the position of what is wrong.

Atomic weights are the IUPAC/CIAAW standard atomic weights 2021 (Prohaska et al., Pure
Appl. Chem. 94 (2022) 573), abridged to five significant figures; for elements whose
standard weight is an interval (H, Li, B, C, N, O, Mg, Si, S, Cl, Br, Tl, Pb) the
conventional value is used. Elements with no standard atomic weight (no stable isotope
of fixed abundance: Tc, Pm, Po, …) are refused by name.

Examples
--------
>>> f = parse_formula("Li5.5PS4.5Cl0.8Br0.7")
>>> f.composition
{'Li': 5.5, 'P': 1.0, 'S': 4.5, 'Cl': 0.8, 'Br': 0.7}
>>> round(f.molar_mass, 3)
297.707
>>> parse_formula("(Li2S)0.75(LiI)0.25").composition
{'Li': 1.75, 'S': 0.75, 'I': 0.25}
>>> parse_formula("CuSO4·5H2O").composition
{'Cu': 1.0, 'S': 1.0, 'O': 9.0, 'H': 10.0}
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ssbkit.core import citations
from ssbkit.core.errors import InputError

__all__ = ["ATOMIC_WEIGHTS", "Formula", "molar_mass", "parse_formula"]

citations.register(
    "ciaaw2021",
    "T. Prohaska et al., Standard atomic weights of the elements 2021 (IUPAC Technical "
    "Report), Pure Appl. Chem. 94 (2022) 573-600.",
    "10.1515/pac-2019-0603",
)

# g/mol; CIAAW 2021 abridged standard atomic weights (conventional values for intervals).
ATOMIC_WEIGHTS: Mapping[str, float] = {
    "H": 1.0080, "He": 4.0026, "Li": 6.94, "Be": 9.0122, "B": 10.81, "C": 12.011,
    "N": 14.007, "O": 15.999, "F": 18.998, "Ne": 20.180, "Na": 22.990, "Mg": 24.305,
    "Al": 26.982, "Si": 28.085, "P": 30.974, "S": 32.06, "Cl": 35.45, "Ar": 39.95,
    "K": 39.098, "Ca": 40.078, "Sc": 44.956, "Ti": 47.867, "V": 50.942, "Cr": 51.996,
    "Mn": 54.938, "Fe": 55.845, "Co": 58.933, "Ni": 58.693, "Cu": 63.546, "Zn": 65.38,
    "Ga": 69.723, "Ge": 72.630, "As": 74.922, "Se": 78.971, "Br": 79.904, "Kr": 83.798,
    "Rb": 85.468, "Sr": 87.62, "Y": 88.906, "Zr": 91.224, "Nb": 92.906, "Mo": 95.95,
    "Ru": 101.07, "Rh": 102.91, "Pd": 106.42, "Ag": 107.87, "Cd": 112.41, "In": 114.82,
    "Sn": 118.71, "Sb": 121.76, "Te": 127.60, "I": 126.90, "Xe": 131.29, "Cs": 132.91,
    "Ba": 137.33, "La": 138.91, "Ce": 140.12, "Pr": 140.91, "Nd": 144.24, "Sm": 150.36,
    "Eu": 151.96, "Gd": 157.25, "Tb": 158.93, "Dy": 162.50, "Ho": 164.93, "Er": 167.26,
    "Tm": 168.93, "Yb": 173.05, "Lu": 174.97, "Hf": 178.49, "Ta": 180.95, "W": 183.84,
    "Re": 186.21, "Os": 190.23, "Ir": 192.22, "Pt": 195.08, "Au": 196.97, "Hg": 200.59,
    "Tl": 204.38, "Pb": 207.2, "Bi": 208.98, "Th": 232.04, "Pa": 231.04, "U": 238.03,
}

# Elements that exist but have no standard atomic weight.
_NO_STANDARD_WEIGHT = frozenset(
    "Tc Pm Po At Rn Fr Ra Ac Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn "
    "Nh Fl Mc Lv Ts Og".split()
)

_TOKEN = re.compile(
    r"(?P<element>[A-Z][a-z]?)"
    r"|(?P<open>[(\[])"
    r"|(?P<close>[)\]])"
    r"|(?P<number>\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<adduct>[·•*])"
    r"|(?P<space>\s+)"
)


@dataclass(frozen=True)
class Formula:
    """A parsed formula: the text as written and its composition (atoms per formula unit)."""

    text: str
    composition: Mapping[str, float] = field(hash=False)

    @cached_property
    def molar_mass(self) -> float:
        """Molar mass [g/mol] from the CIAAW 2021 standard atomic weights."""
        return sum(ATOMIC_WEIGHTS[el] * n for el, n in self.composition.items())

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(self.composition)

    def __str__(self) -> str:
        return self.text


def parse_formula(text: str) -> Formula:
    """Parse ``text`` into a ``Formula``; errors name the formula and the position."""
    if isinstance(text, Formula):
        return text
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"a formula must be a non-empty string, got {text!r}")
    parser = _Parser(text)
    composition = parser.parse()
    if not all(math.isfinite(n) for n in composition.values()):
        raise InputError(f"counts overflow in formula {text!r}")
    # Spaces carry no meaning ("Li 2S" is Li2S); the formula is kept without them.
    return Formula("".join(text.split()), composition)


def molar_mass(formula: str | Formula) -> float:
    """Molar mass [g/mol] of ``formula``.

    >>> round(molar_mass("Li2S"), 3)
    45.94
    """
    return parse_formula(formula).molar_mass


class _Parser:
    """Recursive descent over tokens: adduct := [count] group+ ; group := (el | '(' adduct ')') [count]."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                self.fail(f"unexpected character {text[pos]!r}", pos)
            if match.lastgroup != "space":
                self.tokens.append((match.lastgroup, match.group(), pos))
            pos = match.end()
        self.i = 0

    def fail(self, why: str, pos: int | None = None) -> None:
        where = f" at position {pos + 1}" if pos is not None else ""
        raise InputError(f"{why}{where} in formula {self.text!r}")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> dict[str, float]:
        total = self.adducts(closing=None)
        if not total:
            self.fail("no elements")
        return total

    def adducts(self, closing: str | None) -> dict[str, float]:
        total = self.sequence(allow_leading_count=False)
        while (tok := self.peek()) is not None and tok[0] == "adduct":
            self.i += 1
            _add(total, self.sequence(allow_leading_count=True))
        tok = self.peek()
        if tok is not None and closing is None:
            self.fail(f"unexpected {tok[1]!r}", tok[2])
        return total

    def sequence(self, *, allow_leading_count: bool) -> dict[str, float]:
        factor = 1.0
        tok = self.peek()
        if allow_leading_count and tok is not None and tok[0] == "number":
            factor = self.count()
        part: dict[str, float] = {}
        while (tok := self.peek()) is not None and tok[0] in ("element", "open"):
            kind, value, pos = tok
            self.i += 1
            if kind == "element":
                if value not in ATOMIC_WEIGHTS:
                    if value in _NO_STANDARD_WEIGHT:
                        self.fail(f"element {value!r} has no standard atomic weight", pos)
                    self.fail(f"unknown element {value!r}", pos)
                group = {value: 1.0}
            else:
                group = self.adducts(closing=value)
                close = self.peek()
                want = ")" if value == "(" else "]"
                if close is None or close[1] != want:
                    self.fail(f"{value!r} is not closed", pos)
                self.i += 1
                if not group:
                    self.fail("empty brackets", pos)
            n = self.count() if (t := self.peek()) is not None and t[0] == "number" else 1.0
            _add(part, group, n)
        if not part:
            tok = self.peek()
            if tok is None:
                self.fail("expected an element or '(' at the end")
            self.fail(f"expected an element or '(', got {tok[1]!r}", tok[2])
        return {el: n * factor for el, n in part.items()}

    def count(self) -> float:
        _, value, pos = self.tokens[self.i]
        self.i += 1
        number = float(value)
        if not math.isfinite(number):
            self.fail(f"count {value} is too large", pos)
        if number <= 0:
            self.fail(f"count must be > 0, got {value}", pos)
        return number


def _add(into: dict[str, float], part: Mapping[str, float], times: float = 1.0) -> None:
    for element, n in part.items():
        into[element] = into.get(element, 0.0) + n * times
