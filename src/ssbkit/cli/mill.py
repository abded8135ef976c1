"""``ssbkit mill``: ball-mill plans, grids and milling dose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ssbkit.cli._common import emit, json_option, names_options, split_list
from ssbkit.core.errors import InputError
from ssbkit.core.validate import fraction, ratio


@click.group()
def mill() -> None:
    """Plan ball milling: balls and powder for a filling rate (FRB) and a ball-to-material ratio (BMR).

    Example:

        ssbkit mill plan --jar-ml 50 --ball-diameter-mm 10 --ball-material WC --frb 10% --bmr 80:1
    """


def _charge_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options that describe the jar and the balls."""
    for decorator in reversed([
        click.option("--jar-ml", type=float, required=True, metavar="V", help="Jar volume [mL]."),
        click.option("--ball-diameter-mm", type=float, required=True, metavar="D",
                     help="Ball diameter [mm]."),
        click.option("--ball-material", metavar="NAME",
                     help="WC, ZrO2, steel, agate or Si3N4 (or give --ball-density-g-cm3)."),
        click.option("--ball-density-g-cm3", type=float, metavar="RHO",
                     help="Ball density [g/cm³], instead of --ball-material."),
        click.option("--convention", type=click.Choice(["solid", "bulk"]), default="solid",
                     show_default=True,
                     help="FRB as the balls' own volume (solid) or the ball bed's (bulk) "
                          "over the jar volume."),
        click.option("--packing", type=float, default=0.60, show_default=True,
                     help="Random packing fraction of the ball bed."),
    ]):
        func = decorator(func)
    return func


def _dose_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options that describe the mill, speed and time (Burgio–Magini dose)."""
    for decorator in reversed([
        click.option("--rpm", type=float, help="Plate (sun-disk) speed [rpm]."),
        click.option("--time-h", type=float, help="Milling time, pauses excluded [h]."),
        click.option("--plate-radius-mm", type=float,
                     help="Plate centre to jar centre, R_p [mm]."),
        click.option("--jar-radius-mm", type=float, help="Inner radius of the jar, r_v [mm]."),
        click.option("--transmission-ratio", type=float, default=-2.0, show_default=True,
                     help="The data sheet's jar-to-plate ratio k of 1:k, measured on the plate "
                          "(−2 for 1:−2 mills)."),
        click.option("--hindering-exponent", type=float,
                     help="ε of the hindering factor 1 − n_v^ε (default: no hindering)."),
    ]):
        func = decorator(func)
    return func


def _charge(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "jar_volume_ml": options["jar_ml"],
        "ball_diameter_mm": options["ball_diameter_mm"],
        "ball_material": options["ball_material"],
        "ball_density_g_cm3": options["ball_density_g_cm3"],
        "convention": options["convention"],
        "packing": options["packing"],
    }


def _dose(options: dict[str, Any], *, required: bool) -> dict[str, Any] | None:
    needed = {"rpm": "--rpm", "time_h": "--time-h", "plate_radius_mm": "--plate-radius-mm",
              "jar_radius_mm": "--jar-radius-mm"}
    given = [k for k in needed if options[k] is not None]
    if not given and not required:
        return None
    missing = [flag for k, flag in needed.items() if options[k] is None]
    if missing:
        raise InputError(f"the milling dose needs {', '.join(missing)} as well")
    dose = {k: options[k] for k in needed}
    dose["transmission_ratio"] = options["transmission_ratio"]
    dose["hindering_exponent"] = options["hindering_exponent"]
    return dose


@mill.command("plan")
@_charge_options
@click.option("--frb", required=True, metavar="F", help="Filling rate of balls: 0.10 or 10%.")
@click.option("--bmr", required=True, metavar="R", help="Ball-to-material mass ratio: 80 or 80:1.")
@json_option
@names_options(jar_volume_ml="jar_ml")
def plan_command(frb: str, bmr: str, as_json: bool, **options: Any) -> None:
    """Number of balls, ball mass and powder mass for one jar.

    Example:

        ssbkit mill plan --jar-ml 50 --ball-diameter-mm 10 --ball-material WC --frb 10% --bmr 80:1 --json
    """
    from ssbkit.synthesis.milling import plan_milling

    emit(plan_milling(frb=fraction("--frb", frb), bmr=ratio("--bmr", bmr), **_charge(options)),
         as_json)


@mill.command("grid")
@_charge_options
@click.option("--frb", "frbs", default="5%,10%,20%", show_default=True, metavar="F,F,…",
              help="Filling rates of balls, comma-separated.")
@click.option("--bmr", "bmrs", default="20,40,80", show_default=True, metavar="R,R,…",
              help="Ball-to-material ratios, comma-separated.")
@_dose_options
@json_option
@names_options(jar_volume_ml="jar_ml", frb="frbs", bmr="bmrs")
def grid_command(frbs: str, bmrs: str, as_json: bool, **options: Any) -> None:
    """A table of plans over FRB × BMR; with the mill geometry, speed and time, also each
    condition's dose and its ratio to the first.

    Example:

        ssbkit mill grid --jar-ml 50 --ball-diameter-mm 10 --ball-material WC --frb 5%,10%,20% --bmr 20,40,80 --rpm 400 --time-h 10 --plate-radius-mm 70 --jar-radius-mm 22.5
    """
    from ssbkit.synthesis.grid import mill_grid

    emit(
        mill_grid(
            frbs=[fraction("--frb", f) for f in split_list(frbs)],
            bmrs=[ratio("--bmr", b) for b in split_list(bmrs)],
            dose=_dose(options, required=False),
            **_charge(options),
        ),
        as_json,
    )


@mill.command("dose")
@_charge_options
@click.option("--frb", required=True, metavar="F", help="Filling rate of balls: 0.10 or 10%.")
@click.option("--bmr", required=True, metavar="R", help="Ball-to-material mass ratio: 80 or 80:1.")
@_dose_options
@json_option
@names_options(jar_volume_ml="jar_ml")
def dose_command(frb: str, bmr: str, as_json: bool, **options: Any) -> None:
    """Burgio–Magini ball velocity, impact energy, power and specific dose [J/g].

    Example:

        ssbkit mill dose --jar-ml 50 --ball-diameter-mm 10 --ball-material WC --frb 10% --bmr 80 --rpm 400 --time-h 10 --plate-radius-mm 70 --jar-radius-mm 22.5
    """
    from ssbkit.synthesis.dose import milling_dose
    from ssbkit.synthesis.milling import plan_milling

    plan = plan_milling(frb=fraction("--frb", frb), bmr=ratio("--bmr", bmr), **_charge(options))
    emit(milling_dose(plan, **_dose(options, required=True)), as_json)
