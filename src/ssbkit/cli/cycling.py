"""``ssbkit cycling``: cycler files, per-cycle summaries, rate tables, dQ/dV, voltage profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ssbkit.cli._common import check_outputs, emit, json_option, split_list
from ssbkit.core.errors import InputError

_FILE = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
_PLOT = click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     metavar="PATH", help="Also save a figure (.png, .pdf or .svg).")
_CONVENTION = click.option(
    "--convention", type=click.Choice(["charge-first", "discharge-first", "native"]),
    default="charge-first", show_default=True,
    help="What a cycle is: starts at a charge after a discharge (cathodes), at a discharge after a "
         "charge (anodes), or the instrument's own cycle column.")
_REFERENCE = click.option(
    "--reference", type=click.Choice(["Li-In", "Li"]), default=None,
    help="The counter electrode the voltages were measured against; Li-In voltages are reported "
         "vs Li/Li+ (+0.62 V). Without it, voltages stay as measured.")


def _mass_options(func: Any) -> Any:
    for option in reversed([
        click.option("--active-mass-mg", type=float, default=None, metavar="M",
                     help="Active material mass [mg]."),
        click.option("--composite-mass-mg", type=float, default=None, metavar="M",
                     help="Composite (cathode mix) mass [mg]; needs --active-fraction."),
        click.option("--loading-mg-cm2", type=float, default=None, metavar="L",
                     help="Loading [mg/cm²]; needs --area-cm2 (× --active-fraction if it is the "
                          "composite's loading)."),
        click.option("--area-cm2", type=float, default=None, metavar="A",
                     help="Electrode area [cm²]; also gives areal capacities."),
        click.option("--active-fraction", type=float, default=None, metavar="F",
                     help="Active mass fraction of the composite (0–1)."),
    ]):
        func = option(func)
    return func


def _mass(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in ("active_mass_mg", "composite_mass_mg", "loading_mg_cm2",
                                       "area_cm2", "active_fraction")}


_OPTION_NAMES = {"active_mass_mg": "--active-mass-mg", "composite_mass_mg": "--composite-mass-mg",
                 "loading_mg_cm2": "--loading-mg-cm2", "area_cm2": "--area-cm2",
                 "active_fraction": "--active-fraction", "convention": "--convention",
                 "nominal_capacity_mah": "--nominal-capacity-mah",
                 "specific_capacity_mah_g": "--specific-capacity-mah-g",
                 "tolerance": "--tolerance", "bin_width_v": "--bin-width-mv", "cycles": "--cycles"}


def _renamed(exc: InputError) -> InputError:
    name = _OPTION_NAMES.get(exc.source or "")
    return exc if name is None else type(exc)(exc.detail, source=name, location=exc.location)


def _record(path: Path, reference: str | None) -> Any:
    from ssbkit.io import read_cycling

    record = read_cycling(path)
    if reference == "Li-In":
        from ssbkit.cycling.protocol import convert_reference

        record = convert_reference(record, reference="Li-In")
    return record


def _save(figure: Any, path: Path) -> None:
    from ssbkit.eis.plot import save_figure

    save_figure(figure, path)


@click.group()
def cycling() -> None:
    """Galvanostatic cycling: cycler files, per-cycle summaries, rate tables, dQ/dV.

    Example:

        ssbkit cycling summary examples/data/cycling/lts_cell.bdf.csv --active-mass-mg 4.2
    """


@cycling.command("read")
@_FILE
@click.option("--bdf", "bdf_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help="Also write the record as a Battery Data Format CSV.")
@json_option
def read_command(file: Path, bdf_path: Path | None, as_json: bool) -> None:
    """Read a cycler file: its columns, rows, time span and metadata.

    Every reader gives the same columns (Battery Data Format names and units).

    Example:

        ssbkit cycling read examples/data/cycling/lts_cell.bdf.csv --json
    """
    import json

    from ssbkit.core.results import to_json_safe

    check_outputs(bdf=bdf_path)
    record = _record(file, None)
    if bdf_path is not None:
        record.to_bdf_csv(bdf_path)
    info = {"file": str(file), "rows": len(record), "columns": list(record.columns),
            "test_time_s": [float(record.time[0]), float(record.time[-1])],
            "metadata": to_json_safe(dict(record.metadata))}
    if as_json:
        click.echo(json.dumps(info, indent=2, allow_nan=False))
    else:
        click.echo(f"{file}: {len(record)} rows, {record.time[-1] - record.time[0]:.6g} s")
        click.echo("columns: " + ", ".join(record.columns))
        for key in ("format", "instrument", "start_time", "active_mass_mg"):
            if key in record.metadata:
                click.echo(f"{key}: {record.metadata[key]}")


@cycling.command("summary")
@_FILE
@_mass_options
@_CONVENTION
@_REFERENCE
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help="Also write the per-cycle table as CSV.")
@_PLOT
@json_option
def summary_command(file: Path, convention: str, reference: str | None, csv_path: Path | None,
                    plot_path: Path | None, as_json: bool, **kwargs: Any) -> None:
    """Per-cycle capacities, Coulombic efficiency, energy, voltages and retention.

    A cycle's charge sums all its charge steps (CC and CV); capacities come from the
    cycler's counters, checked against the integral of current. The plot shows capacity
    and CE against cycle.

    Example:

        ssbkit cycling summary examples/data/cycling/lts_cell.bdf.csv --active-mass-mg 4.2 --json
    """
    from ssbkit.cycling.summary import summarize_cycles

    check_outputs(csv=csv_path, plot=plot_path)
    try:
        result = summarize_cycles(_record(file, reference), convention=convention, **_mass(kwargs))
    except InputError as exc:
        raise _renamed(exc) from exc
    if csv_path is not None:
        _write_csv(result.to_frame(), csv_path)
    if plot_path is not None:
        from ssbkit.cycling.plot import plot_capacity

        _save(plot_capacity(result), plot_path)
    emit(result, as_json)


@cycling.command("rate")
@_FILE
@click.option("--nominal-capacity-mah", type=float, default=None, metavar="Q",
              help="Capacity that defines 1C [mAh].")
@click.option("--specific-capacity-mah-g", type=float, default=None, metavar="Q",
              help="Specific capacity that defines 1C [mAh/g] (theoretical or nominal); needs a mass.")
@_mass_options
@click.option("--by", type=click.Choice(["discharge", "charge"]), default="discharge", show_default=True,
              help="Which current defines a cycle's rate.")
@click.option("--tolerance", type=float, default=0.1, show_default=True,
              help="Relative current difference within one block.")
@_CONVENTION
@_PLOT
@json_option
def rate_command(file: Path, nominal_capacity_mah: float | None, specific_capacity_mah_g: float | None,
                 by: str, tolerance: float, convention: str, plot_path: Path | None, as_json: bool,
                 **kwargs: Any) -> None:
    """Rate table: blocks of cycles at one C-rate, their capacity, and recovery.

    Example:

        ssbkit cycling rate examples/data/cycling/lts_rate.bdf.csv --specific-capacity-mah-g 483 --active-mass-mg 4.2 --json
    """
    from ssbkit.cycling.rate import rate_capability

    check_outputs(plot=plot_path)
    try:
        result = rate_capability(_record(file, None), nominal_capacity_mah=nominal_capacity_mah,
                                 specific_capacity_mah_g=specific_capacity_mah_g, by=by,
                                 tolerance=tolerance, convention=convention, **_mass(kwargs))
    except InputError as exc:
        raise _renamed(exc) from exc
    if plot_path is not None:
        from ssbkit.cycling.plot import plot_rate

        _save(plot_rate(result), plot_path)
    emit(result, as_json)


@cycling.command("dqdv")
@_FILE
@click.option("--cycles", default=None, metavar="LIST",
              help="Cycles to differentiate, e.g. 1,10,100 (default: all).")
@click.option("--bin-width-mv", type=float, default=5.0, show_default=True,
              help="Voltage bin width [mV].")
@click.option("--active-mass-mg", type=float, default=None, metavar="M",
              help="Active mass [mg], for dQ/dV in mAh/g/V.")
@_CONVENTION
@_REFERENCE
@click.option("--out", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help="Save the dQ/dV figure (.png, .pdf or .svg).")
@json_option
def dqdv_command(file: Path, cycles: str | None, bin_width_mv: float, active_mass_mg: float | None,
                 convention: str, reference: str | None, plot_path: Path | None, as_json: bool) -> None:
    """Differential capacity dQ/dV per half-cycle, with peaks tracked across cycles.

    Example:

        ssbkit cycling dqdv examples/data/cycling/lts_cell.bdf.csv --cycles 1,10,30 --json
    """
    from ssbkit.cycling.dqdv import dqdv

    check_outputs(out=plot_path)
    if not bin_width_mv > 0:
        raise InputError(f"must be > 0 mV, got {bin_width_mv:g}", source="--bin-width-mv")
    selected = _cycle_list(cycles)
    try:
        result = dqdv(_record(file, reference), cycles=selected, convention=convention,
                      bin_width_v=bin_width_mv / 1e3, active_mass_mg=active_mass_mg)
    except InputError as exc:
        raise _renamed(exc) from exc
    if plot_path is not None:
        from ssbkit.cycling.plot import plot_dqdv

        _save(plot_dqdv(result), plot_path)
    emit(result, as_json)


@cycling.command("profiles")
@_FILE
@click.option("--cycles", default=None, metavar="LIST",
              help="Cycles to draw, e.g. 1,10,100 (default: all).")
@click.option("--active-mass-mg", type=float, default=None, metavar="M",
              help="Active mass [mg], for capacity in mAh/g.")
@_CONVENTION
@_REFERENCE
@click.option("--out", "plot_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              metavar="PATH", help="The figure (.png, .pdf or .svg).")
def profiles_command(file: Path, cycles: str | None, active_mass_mg: float | None, convention: str,
                     reference: str | None, plot_path: Path) -> None:
    """Voltage against capacity for each cycle's charge and discharge, as a figure.

    Example:

        ssbkit cycling profiles examples/data/cycling/lts_cell.bdf.csv --cycles 1,2,30 --active-mass-mg 4.2 --out profiles.png
    """
    from ssbkit.cycling.plot import plot_voltage_profiles

    check_outputs(out=plot_path)
    selected = _cycle_list(cycles)
    try:
        figure = plot_voltage_profiles(_record(file, reference), cycles=selected, convention=convention,
                                       active_mass_mg=active_mass_mg)
    except InputError as exc:
        raise _renamed(exc) from exc
    _save(figure, plot_path)
    click.echo(f"wrote {plot_path}")


def _cycle_list(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(c) for c in split_list(text)]
    except ValueError:
        raise InputError(f"expected whole numbers, got {text!r}", source="--cycles") from None


def _write_csv(frame: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    try:
        frame.to_csv(tmp, index=False)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write: {exc.strerror or exc}", source=path) from None
