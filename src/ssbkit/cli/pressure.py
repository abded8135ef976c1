"""``ssbkit pressure``: stack-pressure logs aligned with the cycling record."""

from __future__ import annotations

from pathlib import Path

import click

from ssbkit.cli._common import emit, json_option, names_options


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
    not used.

    Example:

        ssbkit pressure analyze examples/data/pressure/stack_pressure_high.csv --cycling examples/data/pressure/cell_high.bdf.csv --json

        ssbkit pressure analyze examples/data/pressure/stack_force_normal.tsv --cycling examples/data/pressure/cell_normal.bdf.csv --area-cm2 0.785 --offset-s 30
    """
    from ssbkit.io import read_cycling
    from ssbkit.io.pressure import read_pressure
    from ssbkit.pressure.analysis import analyze_pressure

    if plot_path is not None:
        _check_figure_path(plot_path)
    options = {k: v for k, v in {"area_cm2": area_cm2, "start_time": start_time, "unit": unit}.items()
               if v is not None}
    log = read_pressure(pressure_file, **options)
    record = read_cycling(cycling_file)
    result = analyze_pressure(log, record, offset_s=offset_s, convention=convention, baseline=baseline)
    if plot_path is not None:
        from ssbkit.eis.plot import save_figure
        from ssbkit.pressure.plot import plot_pressure_analysis

        save_figure(plot_pressure_analysis(log, record, result), plot_path)
    emit(result, as_json)


def _check_figure_path(path: Path) -> None:
    """Refuse a figure path that cannot be written before any work is done."""
    from ssbkit.core.errors import InputError
    from ssbkit.eis.plot import FORMATS

    if path.suffix.lower() not in FORMATS:
        raise InputError(f"unknown figure format {path.suffix or '(no suffix)'!r}; use one of "
                         f"{', '.join(FORMATS)}", source="--plot")
    if not path.parent.is_dir():
        raise InputError(f"folder {str(path.parent)!r} does not exist", source="--plot")
