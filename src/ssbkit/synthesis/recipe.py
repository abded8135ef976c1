"""Precursor recipes: how much of each precursor makes a batch of a target compound.

The element balance ``A c = b`` (A: atoms of each element per precursor formula unit,
b: atoms per target formula unit, c: moles of precursor per mole of target) is solved by
least squares and then checked to balance exactly; a recipe is refused, naming the
elements, when it does not. Precursors that could be swapped for one another (fewer
independent balances than precursors) make the recipe ambiguous and are refused too.

The batch mass is the mass of target product: with exact balance and no loss the
precursor masses add up to it. A volatile precursor can be given an excess (``excess_pct``,
e.g. 5 % extra S or Li2S, lost to the gas phase or to the jar walls in milling): its
weighed mass is raised by that percentage on top of the stoichiometric amount, so the
weighed total then exceeds the batch mass.

Examples
--------
>>> r = recipe("Li5.5PS4.5Cl0.8Br0.7", ["Li2S", "P2S5", "LiCl", "LiBr"], batch_mass_g=2.0)
>>> [(p.formula, p.coefficient, round(p.mass.value, 4)) for p in r.precursors]
[('Li2S', 2.0, 0.6173), ('P2S5', 0.5, 0.7465), ('LiCl', 0.8, 0.2278), ('LiBr', 0.7, 0.4084)]
>>> recipe("Li6PS5Cl", ["Li2S", "P2S5"], batch_mass_g=1.0)
Traceback (most recent call last):
...
ssbkit.core.errors.InputError: precursors Li2S, P2S5 cannot make Li6PS5Cl: no precursor contains Cl
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.formula import Formula, parse_formula
from ssbkit.core.results import Estimate, Result, make_provenance
from ssbkit.core.units import label
from ssbkit.core.validate import in_range, positive

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ElementBalance", "PrecursorAmount", "Recipe", "recipe"]

# A recipe balances when every element's residual is below this fraction of its count.
BALANCE_RTOL = 1e-9


@dataclass(frozen=True)
class PrecursorAmount:
    """One precursor line of a recipe."""

    formula: str
    molar_mass: float  # g/mol
    coefficient: float  # mol of precursor per mol of target
    moles: float  # mol, for the batch (without excess)
    mass: Estimate  # g to weigh, excess included
    excess_pct: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "formula": self.formula,
            "molar_mass": {"value": self.molar_mass, "unit": "g/mol"},
            "coefficient": self.coefficient,
            "moles": self.moles,
            "mass": self.mass.to_dict(),
            "excess_pct": self.excess_pct,
        }


@dataclass(frozen=True)
class ElementBalance:
    """Atoms of one element per target formula unit: wanted, supplied, and the difference."""

    element: str
    target: float
    supplied: float

    @property
    def difference(self) -> float:
        return self.supplied - self.target

    def to_dict(self) -> dict[str, object]:
        return {"element": self.element, "target": self.target, "supplied": self.supplied,
                "difference": self.difference}


@dataclass(frozen=True, kw_only=True)
class Recipe(Result):
    """Precursor amounts for a batch of ``target``, with the element-balance table."""

    target: str
    target_molar_mass: float = field(metadata={"unit": "g/mol"})
    batch_mass: Estimate
    precursors: tuple[PrecursorAmount, ...]
    balance: tuple[ElementBalance, ...]
    byproducts: tuple[PrecursorAmount, ...] = ()  # released, e.g. CO2; masses leave the batch

    @property
    def total_mass(self) -> Estimate:
        """Mass to weigh in all [g], excess included."""
        return Estimate(sum(p.mass.value for p in self.precursors), unit="g")

    def to_frame(self) -> pd.DataFrame:
        """One row per precursor."""
        import pandas as pd

        return pd.DataFrame(
            {
                "formula": [p.formula for p in self.precursors],
                "coefficient": [p.coefficient for p in self.precursors],
                label("molar mass", "g/mol"): [p.molar_mass for p in self.precursors],
                label("amount", "mol"): [p.moles for p in self.precursors],
                label("excess", "%"): [p.excess_pct for p in self.precursors],
                label("mass", "g"): [p.mass.value for p in self.precursors],
            }
        )

    def balance_frame(self) -> pd.DataFrame:
        """The element balance: atoms per target formula unit."""
        import pandas as pd

        return pd.DataFrame(
            {
                "element": [b.element for b in self.balance],
                "target": [b.target for b in self.balance],
                "supplied": [b.supplied for b in self.balance],
                "difference": [b.difference for b in self.balance],
            }
        )

    def _report_lines(self) -> list[str]:
        lines = [
            f"  target: {self.target} ({self.target_molar_mass:.3f} g/mol), "
            f"batch {self.batch_mass.value:g} g = {self.batch_mass.value / self.target_molar_mass:.6g} mol",
            f"  {'precursor':<14}{'coefficient':>12}{'M [g/mol]':>12}{'amount [mol]':>14}"
            f"{'excess [%]':>12}{'mass [g]':>11}",
        ]
        for p in self.precursors:
            lines.append(
                f"  {p.formula:<14}{p.coefficient:>12.6g}{p.molar_mass:>12.3f}{p.moles:>14.6g}"
                f"{p.excess_pct:>12g}{p.mass.value:>11.4f}"
            )
        lines.append(f"  {'total':<64}{self.total_mass.value:>11.4f}")
        for b in self.byproducts:
            lines.append(f"  released: {b.formula} {b.coefficient:g} per formula unit, "
                         f"{b.mass.value:.4f} g")
        lines.append("  element balance (atoms per formula unit): " + ", ".join(
            f"{b.element} {b.supplied:g}/{b.target:g}" for b in self.balance))
        return lines


def recipe(
    target: str,
    precursors: Sequence[str],
    batch_mass_g: float,
    *,
    excess_pct: Mapping[str, float] | None = None,
    byproducts: Sequence[str] = (),
) -> Recipe:
    """Masses of ``precursors`` that make ``batch_mass_g`` of ``target``.

    Parameters
    ----------
    target
        Formula of the product, e.g. ``"Li5.5PS4.5Cl0.8Br0.7"``.
    precursors
        Formulas of the starting materials, e.g. ``["Li2S", "P2S5", "LiCl", "LiBr"]``.
    batch_mass_g
        Mass of product to make [g] (> 0).
    excess_pct
        Extra percentage of a volatile precursor to weigh on top of stoichiometry,
        e.g. ``{"Li2S": 5}``; keys must be among ``precursors``; 0–100 %.
    byproducts
        Species that leave during synthesis, e.g. ``["CO2"]`` for a carbonate precursor or
        ``["H2O"]`` for a hydroxide; solved in the same balance, their amounts must come
        out ≥ 0. Precursor elements that are in neither the target nor a by-product are
        refused by name.

    Raises
    ------
    InputError
        Unknown element, a precursor that appears twice, precursors that cannot make the
        target (the message names the elements that do not balance) or that can make it
        in more than one way, a batch mass ≤ 0, an excess outside 0–100 %.
    """
    batch = positive("batch_mass_g", batch_mass_g)
    product = parse_formula(target)
    if isinstance(precursors, str):
        precursors = [p for p in precursors.split(",") if p.strip()]
    sources = [parse_formula(p) for p in precursors]
    if not sources:
        raise InputError("at least one precursor is needed", source="precursors")
    names = [s.text for s in sources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"listed more than once: {', '.join(duplicated)}", source="precursors")
    excess = _excess(excess_pct, names)
    if isinstance(byproducts, str):
        byproducts = [b for b in byproducts.split(",") if b.strip()]
    released = [parse_formula(b) for b in byproducts]
    overlap = sorted({r.text for r in released} & set(names))
    if overlap:
        raise InputError(f"listed as precursor and by-product: {', '.join(overlap)}",
                         source="byproducts")

    coefficients, balance = _solve_balance(product, sources, released)
    n_target = batch / product.molar_mass
    lines = [
        _amount(f, float(c), n_target, excess.get(f.text, 0.0))
        for f, c in zip([*sources, *released], coefficients, strict=True)
    ]
    amounts, gone = tuple(lines[: len(sources)]), tuple(lines[len(sources):])
    unused = [a.formula for a in amounts if a.coefficient == 0.0]
    message = f"not needed: {', '.join(unused)}" if unused else ""
    return Recipe(
        success=True,
        message=message,
        target=product.text,
        target_molar_mass=product.molar_mass,
        batch_mass=Estimate(batch, unit="g"),
        precursors=amounts,
        balance=balance,
        byproducts=gone,
        provenance=make_provenance(
            "ssbkit.synthesis.recipe",
            settings={"excess_pct": excess, "balance_rtol": BALANCE_RTOL},
            inputs={"target": product.text, "precursors": names, "batch_mass_g": batch,
                    "byproducts": [r.text for r in released]},
            citations=["ciaaw2021"],
        ),
    )


def _amount(formula: Formula, coefficient: float, n_target: float, excess_pct: float) -> PrecursorAmount:
    """One line of a recipe: ``coefficient`` mol per mol of target, for ``n_target`` mol."""
    moles = coefficient * n_target
    return PrecursorAmount(
        formula=formula.text,
        molar_mass=formula.molar_mass,
        coefficient=coefficient,
        moles=moles,
        mass=Estimate(moles * formula.molar_mass * (1 + excess_pct / 100), unit="g"),
        excess_pct=excess_pct,
    )


def _excess(excess_pct: Mapping[str, float] | None, names: Iterable[str]) -> dict[str, float]:
    excess = dict.fromkeys(names, 0.0)
    for formula, pct in (excess_pct or {}).items():
        key = parse_formula(formula).text
        if key not in excess:
            raise InputError(f"{key!r} is not among the precursors ({', '.join(excess)})",
                             source="excess_pct")
        excess[key] = in_range(f"excess_pct[{key}]", pct, 0.0, 100.0)
    return excess


def _solve_balance(
    product: Formula, sources: Sequence[Formula], released: Sequence[Formula] = ()
) -> tuple[np.ndarray, tuple[ElementBalance, ...]]:
    """Coefficients of the precursors, then of the by-products, per formula unit of target.

    By-products enter the balance with a minus sign: precursors = target + by-products.
    """
    names = ", ".join(s.text for s in sources)
    species = [*sources, *released]
    elements = list(dict.fromkeys([*product.elements, *(e for s in species for e in s.elements)]))
    sign = np.array([1.0] * len(sources) + [-1.0] * len(released))
    matrix = np.array([[s.composition.get(e, 0.0) for s in species] for e in elements]) * sign
    wanted = np.array([product.composition.get(e, 0.0) for e in elements])

    carried = {e for r in released for e in r.composition}
    extra = [e for e in elements if e not in product.composition and e not in carried]
    if extra:
        holders = [s.text for s in sources if any(e in s.composition for e in extra)]
        raise InputError(
            f"precursors {names} cannot make {product.text}: {', '.join(extra)} "
            f"(in {', '.join(holders)}) must leave as a by-product; name it with "
            "byproducts (e.g. CO2, H2O), or choose precursors made of the target's elements"
        )
    missing = [e for e, row in zip(elements, matrix, strict=True) if not row[: len(sources)].any()]
    if missing:
        raise InputError(
            f"precursors {names} cannot make {product.text}: "
            f"no precursor contains {', '.join(missing)}"
        )
    rank = np.linalg.matrix_rank(matrix)
    if rank < len(species):
        raise InputError(
            f"precursors {names} can make {product.text} in more than one way "
            f"({len(species)} precursors and by-products but only {rank} independent element "
            "balances); drop the one(s) that the others can replace"
        )
    coefficients, *_ = np.linalg.lstsq(matrix, wanted, rcond=None)
    supplied = matrix @ coefficients
    scale = np.maximum(np.abs(wanted), 1.0)
    off = [
        f"{e} ({s:.4g} supplied vs {w:g} wanted)"
        for e, s, w, k in zip(elements, supplied, wanted, scale, strict=True)
        if abs(s - w) > BALANCE_RTOL * k
    ]
    if off:
        raise InputError(
            f"precursors {names} cannot make {product.text}: "
            f"the element balance fails for {'; '.join(off)} at best"
        )
    # Clean round-off so exact recipes print as exact numbers (2.0, not 1.9999999999999996).
    coefficients = np.where(np.abs(coefficients) < 1e-12, 0.0, coefficients)
    rounded = np.round(coefficients, 9)
    if np.allclose(matrix @ rounded, wanted, rtol=0, atol=BALANCE_RTOL):
        coefficients = rounded
    negative = [f"{s.text} ({c:.4g})" for s, c in zip(species, coefficients, strict=True) if c < 0]
    if negative:
        raise InputError(
            f"precursors {names} cannot make {product.text}: it would need a negative amount "
            f"of {', '.join(negative)} mol per mol"
        )
    balance = tuple(
        ElementBalance(e, float(w), float(s))
        for e, w, s in zip(elements, wanted, matrix @ coefficients, strict=True)
    )
    return coefficients, balance
