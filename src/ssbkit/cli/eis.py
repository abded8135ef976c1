"""``ssbkit eis``: impedance files, circuit fits, Kramers–Kronig, conductivity, Arrhenius, DC polarisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ssbkit.cli._common import emit, json_option, split_list
from ssbkit.core.errors import InputError

_FILES = click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
_PLOT = click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     metavar="PATH", help="Also save a figure (.png, .pdf or .svg).")


def _geometry_options(func: Any) -> Any:
    for option in reversed([
        click.option("--diameter-mm", type=float, default=None, metavar="D",
                     help="Electrode (pellet) diameter [mm]."),
        click.option("--area-cm2", type=float, default=None, metavar="A",
                     help="Electrode area [cm²], instead of --diameter-mm."),
        click.option("--thickness-mm", type=float, required=True, metavar="L", help="Pellet thickness [mm]."),
        click.option("--diameter-stderr-mm", type=float, default=0.0, metavar="δD",
                     help="Standard error of the diameter [mm]."),
        click.option("--thickness-stderr-mm", type=float, default=0.0, metavar="δL",
                     help="Standard error of the thickness [mm]."),
    ]):
        func = option(func)
    return func


def _geometry(diameter_mm: float | None, area_cm2: float | None, thickness_mm: float,
              diameter_stderr_mm: float, thickness_stderr_mm: float) -> Any:
    from ssbkit.eis.conductivity import PelletGeometry

    if (diameter_mm is None) == (area_cm2 is None):
        raise InputError("give exactly one of --diameter-mm and --area-cm2", source="--diameter-mm")
    if diameter_mm is not None:
        return PelletGeometry.from_diameter(diameter_mm, thickness_mm, diameter_stderr_mm=diameter_stderr_mm,
                                            thickness_stderr_mm=thickness_stderr_mm)
    return PelletGeometry.from_area(area_cm2, thickness_mm, thickness_stderr_mm=thickness_stderr_mm)


def _assignments(text: str, option: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in split_list(text):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"expected NAME=VALUE, got {item!r}", source=option)
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"{name.strip()}: {value!r} is not a number", source=option) from None
    return out


def _spectra(files: tuple[Path, ...]) -> list[Any]:
    from ssbkit.io import read_spectra

    return [s for path in files for s in read_spectra(path)]


def _emit_many(results: list[Any], as_json: bool) -> None:
    if len(results) == 1:
        emit(results[0], as_json)
    elif as_json:
        click.echo(json.dumps([r.to_dict() for r in results], allow_nan=False, indent=2))
    else:
        click.echo("\n\n".join(r.report() for r in results))


def _save(figure: Any, path: Path | None) -> None:
    if path is not None:
        from ssbkit.eis.plot import save_figure

        save_figure(figure, path)


@click.group()
def eis() -> None:
    """Impedance: read instrument files, fit circuits, check Kramers–Kronig, conductivity.

    Example:

        ssbkit eis fit examples/data/argyrodite_25C.csv --circuit "R0-CPE1" --json
    """


@eis.command("read")
@_FILES
@json_option
def read_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Read impedance FILES: every spectrum, its points and metadata.

    Example:

        ssbkit eis read examples/data/argyrodite_25C.csv --json
    """
    spectra = _spectra(files)
    documents = [{
        "source": s.source, "points": len(s), "metadata": s.metadata,
        "frequency": {"values": s.frequency, "unit": "Hz"},
        "impedance": {"real": s.impedance.real, "imag": s.impedance.imag, "unit": "Ohm"},
        "mask": s.mask,
    } for s in spectra]
    if as_json:
        from ssbkit.core.results import to_json_safe

        click.echo(json.dumps(to_json_safe(documents if len(documents) > 1 else documents[0]),
                              allow_nan=False, indent=2))
        return
    for s in spectra:
        f = s.frequency
        meta = ", ".join(f"{k}={v}" for k, v in s.metadata.items() if k not in ("columns",))
        click.echo(f"{s.source}: {len(s)} points, {f.min():.4g}–{f.max():.4g} Hz, "
                   f"|Z| {abs(s.impedance).min():.4g}–{abs(s.impedance).max():.4g} Ohm"
                   + (f"; {meta}" if meta else ""))


@eis.command("fit")
@_FILES
@click.option("--circuit", required=True, metavar="STR",
              help="Circuit, e.g. 'R0-p(R1,CPE1)-CPE2' or CDC 'R(RQ)Q'.")
@click.option("--initial", default="", metavar="NAME=V,…", help="Starting values (others are guessed).")
@click.option("--fix", default="", metavar="NAME=V,…", help="Parameters held at these values.")
@click.option("--weights", type=click.Choice(["modulus", "unit", "proportional"]), default="modulus",
              show_default=True, help="Residual weighting.")
@_PLOT
@json_option
def fit_command(files: tuple[Path, ...], circuit: str, initial: str, fix: str, weights: str,
                plot_path: Path | None, as_json: bool) -> None:
    """Fit CIRCUIT to every spectrum in FILES: one result per spectrum, in order.

    Parameters are named as impedance.py names them (R1, CPE1_0 = Q, CPE1_1 = n).

    Example:

        ssbkit eis fit examples/data/argyrodite_0C.csv examples/data/argyrodite_25C.csv --circuit "R0-CPE1" --json
    """
    from ssbkit.eis.fit import fit_circuits

    fits = fit_circuits(_spectra(files), circuit, initial=_assignments(initial, "--initial"),
                        fixed=_assignments(fix, "--fix"), weights=weights)
    if plot_path is not None:
        from ssbkit.eis.plot import plot_fit, plot_nyquist

        _save(plot_fit(fits[0]) if len(fits) == 1 else plot_nyquist(fits), plot_path)
    _emit_many(fits, as_json)


@eis.command("kk")
@_FILES
@click.option("--c", "c", type=float, default=0.85, show_default=True,
              help="Schönleber's μ threshold for choosing the number of RC elements.")
@click.option("--max-m", type=int, default=50, show_default=True, help="Largest number of RC elements.")
@click.option("--fit-type", type=click.Choice(["real", "imag", "complex"]), default="real",
              show_default=True, help="Which part of Z the RC elements are fitted to.")
@click.option("--add-capacitance", is_flag=True, help="Add a series capacitance (blocking electrodes).")
@_PLOT
@json_option
def kk_command(files: tuple[Path, ...], c: float, max_m: int, fit_type: str, add_capacitance: bool,
               plot_path: Path | None, as_json: bool) -> None:
    """Lin-KK test (Schönleber 2014) of every spectrum in FILES, with a verdict.

    Example:

        ssbkit eis kk examples/data/argyrodite_25C.csv --c 0.5 --fit-type complex --add-capacitance --json
    """
    from ssbkit.eis.kk import linkk

    results = [linkk(s, c=c, max_m=max_m, fit_type=fit_type, add_capacitance=add_capacitance)
               for s in _spectra(files)]
    if plot_path is not None:
        from ssbkit.eis.plot import plot_residuals

        _save(plot_residuals(results[0]), plot_path)
    _emit_many(results, as_json)


@eis.command("conductivity")
@_FILES
@_geometry_options
@click.option("--circuit", default="R0-p(R1,CPE1)-CPE2", show_default=True, metavar="STR",
              help="Circuit fitted to find the resistance.")
@click.option("--process", type=click.Choice(["auto", "bulk", "grain_boundary", "total", "intercept"]),
              default="auto", show_default=True,
              help="Which resistance: arcs are assigned by their capacitance; auto = bulk when a bulk "
                   "arc is seen, else the high-frequency intercept.")
@click.option("--weights", type=click.Choice(["modulus", "unit", "proportional"]), default="modulus",
              show_default=True, help="Residual weighting of the fit.")
@json_option
def conductivity_command(files: tuple[Path, ...], diameter_mm: float | None, area_cm2: float | None,
                         thickness_mm: float, diameter_stderr_mm: float, thickness_stderr_mm: float,
                         circuit: str, process: str, weights: str, as_json: bool) -> None:
    """Ionic conductivity σ = L/(R·A) of the pellet measured in FILES.

    Example:

        ssbkit eis conductivity examples/data/argyrodite_25C.csv --diameter-mm 10 --thickness-mm 0.85 --circuit "R0-CPE1" --json
    """
    from ssbkit.eis.conductivity import conductivity_from_fit
    from ssbkit.eis.fit import fit_circuits

    geometry = _geometry(diameter_mm, area_cm2, thickness_mm, diameter_stderr_mm, thickness_stderr_mm)
    fits = fit_circuits(_spectra(files), circuit, weights=weights)
    _emit_many([conductivity_from_fit(fit, geometry, process=process) for fit in fits], as_json)


@eis.command("arrhenius")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--table", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="CSV",
              help="A table with columns 'temperature [K]' (or '[°C]'), 'conductivity [S/cm]' and optionally "
                   "'conductivity stderr [S/cm]', instead of FILES.")
@click.option("--form", type=click.Choice(["sigmaT", "sigma"]), default="sigmaT", show_default=True,
              help="Fit ln(σT) (Nernst–Einstein) or ln(σ) against 1/T.")
@click.option("--temperatures-c", default="", metavar="T1,T2,…",
              help="Temperatures [°C] of FILES, in order, where the files do not record them.")
@click.option("--diameter-mm", type=float, default=None, metavar="D", help="Electrode diameter [mm].")
@click.option("--area-cm2", type=float, default=None, metavar="A", help="Electrode area [cm²].")
@click.option("--thickness-mm", type=float, default=None, metavar="L", help="Pellet thickness [mm].")
@click.option("--circuit", default="R0-p(R1,CPE1)-CPE2", show_default=True, metavar="STR",
              help="Circuit fitted to every spectrum.")
@click.option("--process", type=click.Choice(["auto", "bulk", "grain_boundary", "total", "intercept"]),
              default="auto", show_default=True, help="Which resistance gives σ.")
@_PLOT
@json_option
def arrhenius_command(files: tuple[Path, ...], table: Path | None, form: str, temperatures_c: str,
                      diameter_mm: float | None, area_cm2: float | None, thickness_mm: float | None,
                      circuit: str, process: str, plot_path: Path | None, as_json: bool) -> None:
    """Activation energy from a temperature series: spectra in FILES or a --table.

    Example:

        ssbkit eis arrhenius examples/data/argyrodite_-20C.csv examples/data/argyrodite_0C.csv examples/data/argyrodite_25C.csv examples/data/argyrodite_50C.csv examples/data/argyrodite_80C.csv --temperatures-c -20,0,25,50,80 --circuit "R0-CPE1" --diameter-mm 10 --thickness-mm 0.85 --json
    """
    from ssbkit.eis.arrhenius import arrhenius_from_conductivities

    if (table is None) == (not files):
        raise InputError("give either FILES or --table", source="--table")
    if table is not None:
        from ssbkit.eis.arrhenius import arrhenius_from_table

        result = arrhenius_from_table(table, form=form)
    else:
        if thickness_mm is None:
            raise InputError("--thickness-mm is needed to turn resistances into conductivities",
                             source="--thickness-mm")
        from ssbkit.eis.conductivity import conductivity_from_fit
        from ssbkit.eis.fit import fit_circuits

        geometry = _geometry(diameter_mm, area_cm2, thickness_mm, 0.0, 0.0)
        spectra = _spectra(files)
        temperatures = _temperatures(spectra, temperatures_c)
        fits = fit_circuits(spectra, circuit)
        failed = [f.source or str(i) for i, f in enumerate(fits) if not f.success]
        if failed:
            raise InputError(f"the fit did not converge for {', '.join(failed)}", source="--circuit")
        sigmas = [conductivity_from_fit(fit, geometry, process=process, temperature_K=t)
                  for fit, t in zip(fits, temperatures, strict=True)]
        result = arrhenius_from_conductivities(sigmas, form=form)
    if plot_path is not None:
        from ssbkit.eis.plot import plot_arrhenius

        _save(plot_arrhenius(result), plot_path)
    emit(result, as_json)


def _temperatures(spectra: list[Any], temperatures_c: str) -> list[float]:
    given = [float(t) + 273.15 for t in split_list(temperatures_c)] if temperatures_c else []
    if given:
        if len(given) != len(spectra):
            raise InputError(f"{len(given)} temperatures for {len(spectra)} spectra", source="--temperatures-c")
        return given
    missing = [s.source for s in spectra if "temperature_K" not in s.metadata]
    if missing:
        raise InputError(f"no temperature recorded in {', '.join(missing)}; give --temperatures-c",
                         source="--temperatures-c")
    return [float(s.metadata["temperature_K"]) for s in spectra]


@eis.command("dcpol")
@_FILES
@_geometry_options
@click.option("--tail-fraction", type=float, default=0.1, show_default=True,
              help="Fraction at the end of each step averaged for the steady-state current.")
@json_option
def dcpol_command(files: tuple[Path, ...], diameter_mm: float | None, area_cm2: float | None,
                  thickness_mm: float, diameter_stderr_mm: float, thickness_stderr_mm: float,
                  tail_fraction: float, as_json: bool) -> None:
    """Electronic conductivity from DC polarisation (chronoamperometry at several voltages).

    Example:

        ssbkit eis dcpol examples/data/dcpol.csv --diameter-mm 10 --thickness-mm 0.85 --json
    """
    from ssbkit.eis.dcpol import electronic_conductivity
    from ssbkit.io import read_chronoamperometry

    geometry = _geometry(diameter_mm, area_cm2, thickness_mm, diameter_stderr_mm, thickness_stderr_mm)
    records = [r for path in files for r in read_chronoamperometry(path)]
    emit(electronic_conductivity(records, geometry, tail_fraction=tail_fraction), as_json)
