"""``ssbkit synth``: precursor recipes."""

from __future__ import annotations

import click

from ssbkit.cli._common import emit, json_option, names_options, split_list
from ssbkit.core.errors import InputError


@click.group()
def synth() -> None:
    """Plan a synthesis: precursor masses for a target composition.

    Example:

        ssbkit synth recipe Li5.5PS4.5Cl0.8Br0.7 --precursors Li2S,P2S5,LiCl,LiBr --batch-g 2
    """


@synth.command("recipe")
@click.argument("target")
@click.option("--precursors", required=True, metavar="A,B,C",
              help="Precursor formulas, comma-separated.")
@click.option("--batch-g", type=float, required=True, metavar="M",
              help="Mass of product to make [g].")
@click.option("--excess-pct", multiple=True, metavar="FORMULA=PCT",
              help="Extra percent of a volatile precursor, e.g. Li2S=5 or Li2S=5% (repeatable).")
@click.option("--byproducts", default="", metavar="A,B",
              help="Species released during synthesis, e.g. CO2 from a carbonate.")
@json_option
@names_options(batch_mass_g="batch_g")
def recipe_command(
    target: str,
    precursors: str,
    batch_g: float,
    excess_pct: tuple[str, ...],
    byproducts: str,
    as_json: bool,
) -> None:
    """Masses of PRECURSORS that make BATCH-G grams of TARGET, with the element balance.

    Example:

        ssbkit synth recipe Li5.5PS4.5Cl0.8Br0.7 --precursors Li2S,P2S5,LiCl,LiBr --batch-g 2 --json
    """
    from ssbkit.synthesis.recipe import recipe

    excess: dict[str, str] = {}
    for item in excess_pct:
        formula, sep, pct = item.partition("=")
        if not sep or not formula.strip():
            raise InputError(f"expected FORMULA=PCT, got {item!r}", source="--excess-pct")
        key = formula.strip()
        if key in excess:
            raise InputError(f"{key} is given more than once", source="--excess-pct")
        excess[key] = pct.strip().removesuffix("%")
    emit(
        recipe(target, split_list(precursors), batch_g, excess_pct=excess,
               byproducts=split_list(byproducts)),
        as_json,
    )
