"""``ssbkit eis``: impedance files, circuit fits, Kramers–Kronig, conductivity, Arrhenius, DC polarisation, DRT."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import click

from ssbkit.cli._common import emit, json_option, names_options, split_list
from ssbkit.core.errors import InputError
from ssbkit.core.validate import positive

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
    """Impedance: read instrument files, fit circuits, check Kramers–Kronig, conductivity, DRT.

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


# -- DRT ---------------------------------------------------------------------------------------

def _drt_options(func: Any) -> Any:
    for option in reversed([
        click.option("--lambda", "lam", default="mgcv", show_default=True, metavar="METHOD|VALUE",
                     help="Regularisation λ: gcv, mgcv, rgcv, lcurve, reim, kfold, or a number."),
        click.option("--rbf", default="gaussian", show_default=True, metavar="NAME",
                     help="Basis function: gaussian, c0-matern, c2-matern, c4-matern, c6-matern, "
                          "inverse-quadratic, inverse-quadric, cauchy or pwl."),
        click.option("--fwhm-coeff", type=float, default=0.5, show_default=True, metavar="C",
                     help="Shape of the basis functions: each is 1/C times the mean spacing of ln f "
                          "wide at half maximum."),
        click.option("--shape-factor", type=float, default=None, metavar="EPS",
                     help="The shape factor ε itself, instead of --fwhm-coeff."),
        click.option("--order", type=click.Choice(["1", "2"]), default="1", show_default=True,
                     help="Derivative of γ that is penalised."),
        click.option("--inductance", type=click.Choice(["fit", "none", "discard"]), default="fit",
                     show_default=True,
                     help="Fit a series inductance, leave it out, or drop the inductive points."),
        click.option("--data", "data_part", type=click.Choice(["combined", "re", "im"]), default="combined",
                     show_default=True, help="Fit both parts of Z, or only Z' or only Z''."),
        click.option("--tau-grid", default=None, metavar="MIN:MAX:N",
                     help="N collocation times log-spaced from MIN to MAX [s] (default: τ = 1/f)."),
    ]):
        func = option(func)
    return func


def _tau_grid(text: str | None) -> Any:
    if text is None:
        return None
    import numpy as np

    parts = text.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise InputError(f"expected MIN:MAX:N (e.g. 1e-6:100:81), got {text!r}", source="--tau-grid") from None
    if not (0 < lo < hi < float("inf")) or n < 3:
        raise InputError(f"needs 0 < MIN < MAX and N ≥ 3, got {text!r}", source="--tau-grid")
    return np.geomspace(lo, hi, n)


def _drt_settings(lam: str, rbf: str, fwhm_coeff: float, shape_factor: float | None, order: str,
                  inductance: str, data_part: str, tau_grid: str | None) -> dict[str, Any]:
    return {"lam": lam, "rbf": rbf, "fwhm_coeff": fwhm_coeff, "shape_factor": shape_factor,
            "order": int(order), "inductance": inductance, "data": data_part, "tau": _tau_grid(tau_grid)}


def _outputs(figure: Path | None, table: Path | None) -> None:
    """Refuse outputs that cannot be written before any work is done (nothing half-written)."""
    from ssbkit.eis.plot import FORMATS

    for path, option in ((figure, "--out"), (table, "--csv")):
        if path is not None and not path.parent.is_dir():
            raise InputError(f"folder {str(path.parent)!r} does not exist", source=option)
    if figure is not None and figure.suffix.lower() not in FORMATS:
        raise InputError(f"unknown figure format {figure.suffix or '(no suffix)'!r}; use one of "
                         f"{', '.join(FORMATS)}", source="--out")
    if figure is not None and table is not None and figure.resolve() == table.resolve():
        raise InputError("the figure and the table would overwrite each other", source="--csv")


def _write_outputs(figure: Any, figure_path: Path | None, frame: Any, table_path: Path | None) -> None:
    """The table and the figure, both or neither: the table goes to a temporary file in its
    folder, renamed into place only once the figure is saved (``save_figure`` is atomic)."""
    import os
    import secrets

    temporary = None
    if table_path is not None:
        temporary = table_path.parent / f".{table_path.name}.{secrets.token_hex(8)}.tmp"
    try:
        if temporary is not None:
            frame.to_csv(temporary, index=False)
        _save(figure, figure_path)
        if temporary is not None and table_path is not None:
            os.replace(temporary, table_path)
    except OSError as exc:  # a folder that exists but cannot be written
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        names = " and ".join(repr(str(p)) for p in (figure_path, table_path) if p is not None)
        raise InputError(f"cannot write {names}: {exc.strerror or exc}", source="output") from exc
    except BaseException:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise


@eis.command("drt")
@_FILES
@_drt_options
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FIGURE",
              help="Save a figure of the DRTs (.png, .pdf or .svg).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="TABLE",
              help="Save γ on the fine τ grid as a CSV table: index, source, tau [s], gamma [Ohm].")
@json_option
@names_options(lam="lam", tau="tau_grid", data="data_part")
def drt_command(files: tuple[Path, ...], lam: str, rbf: str, fwhm_coeff: float, shape_factor: float | None,
                order: str, inductance: str, data_part: str, tau_grid: str | None, out: Path | None,
                csv_path: Path | None, as_json: bool) -> None:
    """Distribution of relaxation times of every spectrum in FILES (Tikhonov, as DRTtools).

    The JSON of a spectrum holds tau [s] and gamma [Ohm] on the collocation grid, lambda,
    R_inf, L0, R_pol and the peaks (tau, gamma, resistance); several spectra (several
    files, or the sweeps of one file) give a list, in order. All spectra are solved in one
    batch.

    Example:

        ssbkit eis drt examples/data/drt_series/charge.csv --lambda 1e-3 --order 2 --json

        ssbkit eis drt examples/data/drt_series/charge.csv --lambda mgcv --tau-grid 1e-7:1e3:101
    """
    from ssbkit.eis.drt import drt_batch

    _outputs(out, csv_path)
    settings = _drt_settings(lam, rbf, fwhm_coeff, shape_factor, order, inductance, data_part, tau_grid)
    results = drt_batch(_spectra(files), **settings)
    if out is not None or csv_path is not None:
        from ssbkit.eis.drt_series import DRTSeries

        series = DRTSeries(results=tuple(results), labels={"source": [r.source for r in results]})
        figure = None
        if out is not None:
            from ssbkit.eis.plot import plot_drt

            figure = plot_drt(results)
        _write_outputs(figure, out, series.to_frame() if csv_path is not None else None, csv_path)
    _emit_many(results, as_json)


def _labels(texts: tuple[str, ...]) -> dict[str, list[Any]]:
    """``--labels NAME=V1,V2,…`` (repeatable) and ``--labels TABLE.csv`` into name → values."""
    out: dict[str, list[Any]] = {}
    for text in texts:
        if "=" in text and not Path(text).is_file():
            name, _, values = text.partition("=")
            items = split_list(values)
            if not name.strip() or not items:
                raise InputError(f"expected NAME=V1,V2,… or a CSV table, got {text!r}", source="--labels")
            try:
                parsed: list[Any] = [float(v) for v in items]
            except ValueError:
                parsed = items
            found = {name.strip(): parsed}
        else:
            found = _label_table(Path(text))
        for name, values in found.items():
            if name in out:
                raise InputError(f"label {name!r} is given more than once", source="--labels")
            out[name] = values
    return out


def _label_table(path: Path) -> dict[str, list[Any]]:
    import pandas as pd

    if not path.is_file():
        raise InputError(f"expected NAME=V1,V2,… or an existing CSV table, got {str(path)!r}",
                         source="--labels")
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            header = handle.readline()
        sep = next((c for c in ",;\t" if c in header), ",")
        frame = pd.read_csv(path, sep=sep, skipinitialspace=True, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise InputError(f"cannot read the label table: {exc}", source=path) from None
    if frame.empty or frame.shape[1] == 0:
        raise InputError("the label table has no rows", source=path)
    out = {}
    for column in frame.columns:
        values = frame[column]
        if values.isna().any():
            raise InputError(f"column {column!r} has an empty cell at row {int(values.isna().argmax()) + 1}",
                             source=path)
        out[str(column).strip()] = values.tolist()
    return out


def _regions(texts: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """``--regions NAME=MIN:MAX,…`` (repeatable) into name → (τ_min, τ_max) [s]."""
    out: dict[str, tuple[float, float]] = {}
    for item in (part for text in texts for part in split_list(text)):
        name, sep, bounds = item.partition("=")
        parts = bounds.split(":")
        try:
            if not sep or not name.strip() or len(parts) != 2:
                raise ValueError
            pair = (float(parts[0]), float(parts[1]))
        except ValueError:
            raise InputError(f"expected NAME=MIN:MAX in seconds (e.g. ct=1e-2:1), got {item!r}",
                             source="--regions") from None
        if name.strip() in out:
            raise InputError(f"region {name.strip()!r} is given more than once", source="--regions")
        out[name.strip()] = pair
    return out


@eis.command("drt-map")
@_FILES
@click.option("--labels", "labels", multiple=True, metavar="NAME=V1,V2,…|TABLE.csv",
              help="What each spectrum was measured at, one value per spectrum in order: NAME=V1,V2,… "
                   "(repeat for more labels), or a CSV table with one row per spectrum and one column "
                   "per label (its header names them, e.g. 'soc [%],voltage [V]'). Default: the index.")
@click.option("--label-name", default=None, metavar="NAME",
              help="The label on the map's x axis (default: the first label).")
@click.option("--regions", "regions", multiple=True, metavar="NAME=MIN:MAX,…",
              help="τ regions [s] to integrate γ over, e.g. 'bulk=1e-7:1e-5,ct=1e-2:1' (repeatable).")
@click.option("--max-shift-decades", type=float, default=0.3, show_default=True,
              help="How far a peak may move in log τ from one spectrum to the next and stay on its track.")
@_drt_options
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FIGURE",
              help="Save the map (.png, .pdf or .svg): x the label, y τ, colour γ.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="TABLE", help="Save the region table as CSV.")
@json_option
@names_options(lam="lam", tau="tau_grid", data="data_part", label="label_name")
def drt_map_command(files: tuple[Path, ...], labels: tuple[str, ...], label_name: str | None,
                    regions: tuple[str, ...], max_shift_decades: float, lam: str, rbf: str, fwhm_coeff: float,
                    shape_factor: float | None, order: str, inductance: str, data_part: str,
                    tau_grid: str | None, out: Path | None, csv_path: Path | None, as_json: bool) -> None:
    """DRTs of a series (spectra in FILES, in order) as a map, with resistances per τ region.

    Prints (or writes with --csv) one row per spectrum: its labels, ∫γ d ln τ [Ohm] over
    each region, R_inf and R_pol; --json adds γ(τ, label), the tracked peaks and the
    settings. Add --out map.png to save the map.

    Example:

        ssbkit eis drt-map examples/data/drt_series/charge.csv --labels examples/data/drt_series/labels.csv --regions bulk=1e-7:1e-5,interface=1e-5:1e-2,ct=1e-2:1,diffusion=1:1e3

        ssbkit eis drt-map examples/data/drt_series/charge.csv --labels "soc [%]=0,10,20,30,40,50,60,70,80,90,100" --lambda 1e-3 --json
    """
    from ssbkit.core.results import to_json_safe
    from ssbkit.eis.drt_series import check_regions, drt_series

    _outputs(out, csv_path)
    positive("max_shift_decades", max_shift_decades)
    given = _labels(labels)
    bounds = check_regions(_regions(regions)) if regions else {}
    if label_name is not None and label_name not in given and label_name != "index":
        raise InputError(f"no label {label_name!r}; the labels are {', '.join(['index', *given])}",
                         source="--label-name")
    settings = _drt_settings(lam, rbf, fwhm_coeff, shape_factor, order, inductance, data_part, tau_grid)
    series = drt_series(_spectra(files), labels=given, **settings)
    table = series.region_resistances(bounds)
    tracks = series.track_peaks(max_shift_decades)
    figure = None
    if out is not None:
        from ssbkit.eis.plot import plot_drt_map

        figure = plot_drt_map(series, label=label_name, regions=bounds or None)
    _write_outputs(figure, out, table if csv_path is not None else None, csv_path)
    if as_json:
        doc = series.to_dict()
        doc["regions"] = {name: list(pair) for name, pair in bounds.items()}
        doc["region_resistances"] = to_json_safe(table)
        doc["peak_tracks"] = to_json_safe(tracks)
        click.echo(json.dumps(doc, allow_nan=False, indent=2))
    else:
        click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.5g}"))
