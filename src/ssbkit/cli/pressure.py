"""``ssbkit pressure``: stack-pressure logs aligned with the cycling record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ssbkit.cli._common import check_outputs, emit, json_option, names_options


@click.group()
def pressure() -> None:
    """Stack pressure: per-cycle pressure, growth per cycle, drift, correlation with capacity.

    Example:

        ssbkit pressure analyze examples/data/pressure/stack_pressure_normal.csv --cycling examples/data/pressure/cell_normal.bdf.csv --json
    """


@pressure.command("analyze")
@click.argument("pressure_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cycling", "cycling_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="CYCLING_FILE", help="The cycler file of the same cell (any format ssbkit reads).")
@click.option("--offset-s", type=float, default=0.0, show_default=True, metavar="S",
              help="Seconds added to the pressure log's times (its clock behind the cycler's: > 0).")
@click.option("--area-cm2", type=float, default=None, metavar="A",
              help="Electrode area [cm²], to turn a force column into pressure.")
@click.option("--start-time", default=None, metavar="ISO",
              help="Start of a log whose times are elapsed seconds and whose header names no start.")
@click.option("--unit", default=None, metavar="UNIT",
              help="Unit of the pressure or force column where its name carries none (MPa, bar, kN …).")
@click.option("--convention", type=click.Choice(["charge-first", "discharge-first", "native"]),
              default="charge-first", show_default=True, help="What a cycle is (as in 'ssbkit cycling').")
@click.option("--baseline", type=click.Choice(["start", "min"]), default="start", show_default=True,
              help="Per-cycle pressure the growth is fitted to: at the start of each cycle, or the minimum.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help="Also save a figure (.png, .pdf or .svg): pressure and voltage against "
                                   "time, per-cycle max/min against cycle.")
@json_option
@names_options()
def analyze_command(pressure_file: Path, cycling_file: Path, offset_s: float, area_cm2: float | None,
                    start_time: str | None, unit: str | None, convention: str, baseline: str,
                    plot_path: Path | None, as_json: bool) -> None:
    """Per-cycle stack pressure of PRESSURE_FILE on the cycling record of CYCLING_FILE.

    The two files are aligned by absolute time; the growth per cycle is the slope of the
    per-cycle baseline (the pressure at the start of each cycle) over the initial pressure,
    in % per cycle, with its standard error. Samples outside the cycling record are counted,
    not used; a log whole hours off the record (local time read as UTC) is said to be, with
    the --offset-s that would align it. Every option given is checked, and one the file
    makes moot (--unit where the column names its unit, --area-cm2 for a pressure column,
    --start-time for absolute times) is refused rather than ignored.

    Example:

        ssbkit pressure analyze examples/data/pressure/stack_pressure_high.csv --cycling examples/data/pressure/cell_high.bdf.csv --json

        ssbkit pressure analyze examples/data/pressure/stack_force_normal.tsv --cycling examples/data/pressure/cell_normal.bdf.csv --area-cm2 0.785 --offset-s 30
    """
    from ssbkit.io import read_cycling
    from ssbkit.io.pressure import read_pressure
    from ssbkit.pressure.analysis import analyze_pressure

    check_outputs(plot=plot_path)
    options = _checked_options(area_cm2=area_cm2, start_time=start_time, unit=unit)
    log = read_pressure(pressure_file, **options)
    _check_options_used(log, options)
    record = read_cycling(cycling_file)
    result = analyze_pressure(log, record, offset_s=offset_s, convention=convention, baseline=baseline)
    if plot_path is not None:
        from ssbkit.eis.plot import save_figure
        from ssbkit.pressure.plot import plot_pressure_analysis

        save_figure(plot_pressure_analysis(log, record, result), plot_path)
    emit(result, as_json)


def _checked_options(*, area_cm2: float | None, start_time: str | None,
                     unit: str | None) -> dict[str, Any]:
    """Every reading option given, checked whether or not the file will need it."""
    from ssbkit.core.errors import InputError
    from ssbkit.core.validate import positive
    from ssbkit.cycling.events import unix_seconds_of
    from ssbkit.io.pressure import _FORCE_KN, _PRESSURE_EXTRA, _known_pressure  # the reader's own

    options: dict[str, Any] = {}
    if area_cm2 is not None:
        options["area_cm2"] = positive("area_cm2", area_cm2)
    if start_time is not None:
        unix_seconds_of(start_time, source="start_time")
        options["start_time"] = start_time
    if unit is not None:
        written = unit.strip()
        if not (written in _FORCE_KN or written in _PRESSURE_EXTRA or _known_pressure(written)):
            raise InputError(f"{unit!r} is not a pressure or force unit ssbkit reads (MPa, kPa, "
                             "Pa, GPa, bar, mbar, atm, psi, N/mm²; N, daN, kN, lbf)", source="unit")
        options["unit"] = written
    return options


def _check_options_used(log: Any, options: dict[str, Any]) -> None:
    """Refuse an option the file made moot: it would be ignored without a word."""
    from ssbkit.core.errors import InputError

    meta = log.metadata
    column = meta.get("pressure_column") or meta.get("force_column")
    if "unit" in options and meta.get("unit") != options["unit"]:
        raise InputError(f"column {column!r} of {log.source} names its own unit "
                         f"({meta.get('unit')}); leave --unit out, or correct the file",
                         source="unit")
    if "area_cm2" in options and "force_column" not in meta:
        raise InputError(f"{log.source} logs pressure (column {column!r}), not force; an area "
                         "is not used, leave --area-cm2 out", source="area_cm2")
    if "start_time" in options and meta.get("start_time") != options["start_time"]:
        raise InputError(f"the times of {log.source} are absolute (column "
                         f"{meta.get('time_column')!r}), not elapsed times, so a start time is not "
                         "used; to shift the log's clock use --offset-s", source="start_time")
