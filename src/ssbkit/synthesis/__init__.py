"""Synthesis planning: formulas, precursor recipes, ball-mill plans and milling dose."""

from ssbkit.core.formula import ATOMIC_WEIGHTS, Formula, molar_mass, parse_formula
from ssbkit.synthesis.dose import MillingDose, milling_dose
from ssbkit.synthesis.grid import MillingGrid, mill_grid
from ssbkit.synthesis.milling import (
    BALL_MATERIALS,
    BallMaterial,
    MillingPlan,
    find_ball_material,
    plan_milling,
)
from ssbkit.synthesis.recipe import ElementBalance, PrecursorAmount, Recipe, recipe

__all__ = [
    "ATOMIC_WEIGHTS",
    "BALL_MATERIALS",
    "BallMaterial",
    "ElementBalance",
    "Formula",
    "MillingDose",
    "MillingGrid",
    "MillingPlan",
    "PrecursorAmount",
    "Recipe",
    "find_ball_material",
    "mill_grid",
    "milling_dose",
    "molar_mass",
    "parse_formula",
    "plan_milling",
    "recipe",
]
