"""``ssbkit nmr``: Bruker spectra, 1D deconvolution, EXSY build-up and exchange-rate fits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ssbkit.cli._common import check_outputs, emit, json_option, names_options, split_list

_BRUKER_PATH = click.Path(exists=False, path_type=Path)


@click.group()
def nmr() -> None:
    """Solid-state NMR: Bruker data, deconvolution, 2D-EXSY build-up and exchange kinetics.

    Example:

        ssbkit nmr deconvolve examples/data/nmr/li6_mixture/1 --peaks 2.31,1.29,-4.56 --names Li2S,LPSC,LiI --json
    """


def _spectrum(path: Path, *, processed: bool, lb_hz: float, phase: str, baseline: int | None) -> Any:
    """A 1D or 2D spectrum from a Bruker path: TopSpin's own processing, or ssbkit's from the FID."""
    from ssbkit.io import read_nmr
    from ssbkit.nmr.data import FID
    from ssbkit.nmr.process import process, process_2d

    # These commands read Bruker data only: naming the reader skips sniffing, so a folder
    # without acqus is told what it lacks instead of that no reader recognises it.
    options = {"processed": True} if processed else {}
    data = read_nmr(path, format="bruker-nmr", **options)
    if not isinstance(data, FID):
        return data
    choice = _phase_option(phase)
    if data.ndim == 2:
        return process_2d(data, line_broadening_Hz=lb_hz, phase=choice)
    return process(data, line_broadening_Hz=lb_hz, phase=choice, baseline=baseline)


def _phase_option(text: str) -> Any:
    from ssbkit.core.errors import InputError

    if text in ("auto", "none"):
        return None if text == "none" else "auto"
    parts = split_list(text)
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 2:
        raise InputError(f"give auto, none or P0,P1 in degrees, got {text!r}", source="--phase")
    return values


def _processing_options(func: Any) -> Any:
    for option in reversed([
        click.option("--processed", is_flag=True,
                     help="Use TopSpin's processed spectrum (pdata/1) instead of processing the FID."),
        click.option("--lb-hz", type=float, default=0.0, show_default=True, metavar="HZ",
                     help="Exponential line broadening [Hz] (2D: cos² windows, this added)."),
        click.option("--phase", default="auto", show_default=True, metavar="auto|none|P0,P1",
                     help="Phase correction: automatic (ACME), none, or zero- and first-order [deg]."),
        click.option("--baseline", type=int, default=None, metavar="ORDER",
                     help="Subtract a polynomial baseline of this order fitted to signal-free points."),
    ]):
        func = option(func)
    return func


@nmr.command("read")
@click.argument("path", type=_BRUKER_PATH)
@_processing_options
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help="Also write the spectrum as CSV (shift [ppm], intensity).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help="Also save a figure of the spectrum (.png, .pdf or .svg).")
@json_option
@names_options(line_broadening_Hz="lb_hz", order="baseline")
def read_command(path: Path, processed: bool, lb_hz: float, phase: str, baseline: int | None,
                 csv_path: Path | None, plot_path: Path | None, as_json: bool) -> None:
    """Read a Bruker experiment (folder, fid/ser or pdata/N) and process it to a spectrum.

    The FID is processed by ssbkit (digital filter removed, window, zero filling, FFT,
    phase, optional baseline; 2D by the quadrature scheme in acqu2s) unless --processed
    asks for TopSpin's own pdata/1. With --json: the ppm axis (one per dimension) and the
    intensities, with the metadata and every processing step.

    Example:

        ssbkit nmr read examples/data/nmr/li6_mixture/1 --json

        ssbkit nmr read examples/data/nmr/li6_mixture/1 --lb-hz 5 --csv li6.csv
    """
    check_outputs(csv=csv_path, plot=plot_path)
    spectrum = _spectrum(path, processed=processed, lb_hz=lb_hz, phase=phase, baseline=baseline)
    _write_outputs(table=(spectrum.to_frame, csv_path),
                   figure=("ssbkit.nmr.plot:plot_spectrum", spectrum, plot_path))
    if as_json:
        import json

        click.echo(json.dumps(spectrum.to_dict(), allow_nan=False))
    else:
        click.echo(spectrum.report())


def _write_outputs(*, table: tuple[Any, Path | None] | None = None,
                   figure: tuple[str, Any, Path | None] | None = None) -> None:
    """Write a command's table and figure, both or neither. ``table`` is (make, path), where
    ``make()`` returns the DataFrame; ``figure`` is ("module:function", argument, path), the
    plotting function imported only when a figure is asked for; a None path skips either.
    The table goes to a hidden temporary file beside its path (opened like any new file, so it
    gets the user's umask, not mkstemp's 0600), renamed into place only once the figure is
    saved (``save_figure`` is atomic itself); a file system error names the output."""
    import os
    import secrets

    from ssbkit.core.errors import InputError

    table_path = None if table is None else table[1]
    figure_path = None if figure is None else figure[2]
    temporary = None
    if table_path is not None:
        temporary = table_path.parent / f".{table_path.name}.{secrets.token_hex(8)}.tmp"
    current = table_path
    try:
        if table is not None and temporary is not None:
            with open(temporary, "x", newline="", encoding="utf-8") as handle:
                table[0]().to_csv(handle, index=False)
        if figure is not None and figure_path is not None:
            import importlib

            from ssbkit.eis.plot import save_figure

            module, _, name = figure[0].partition(":")
            current = figure_path
            save_figure(getattr(importlib.import_module(module), name)(figure[1]), figure_path)
        if temporary is not None and table_path is not None:
            current = table_path
            os.replace(temporary, table_path)
    except OSError as exc:  # a folder that vanished, filled up or turned read-only since the check
        raise InputError(f"cannot write: {exc.strerror or exc}", source=current) from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


@nmr.command("deconvolve")
@click.argument("path", type=_BRUKER_PATH)
@click.option("--peaks", default=None, metavar="PPM,…",
              help="Starting positions [ppm], one per line; default: picked from the spectrum.")
@click.option("--names", default=None, metavar="NAME,…", help="One name per line (e.g. Li2S,LPSC,LiI).")
@click.option("--shape", type=click.Choice(["pseudo-voigt", "lorentzian", "gaussian"]),
              default="pseudo-voigt", show_default=True, help="Line shape.")
@click.option("--shared-width", is_flag=True, help="One width for all lines.")
@click.option("--region", default=None, metavar="HIGH,LOW", help="Fit only this ppm range.")
@click.option("--spinning-rate-hz", type=float, default=None, metavar="HZ",
              help="Fit spinning sidebands at ± this rate (±2 orders), tied to their centre lines.")
@_processing_options
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help="Also save a figure: data, lines, their sum and the residual.")
@json_option
@names_options(line_broadening_Hz="lb_hz", order="baseline")
def deconvolve_command(path: Path, peaks: str | None, names: str | None, shape: str, shared_width: bool,
                       region: str | None, spinning_rate_hz: float | None, processed: bool, lb_hz: float,
                       phase: str, baseline: int | None, plot_path: Path | None, as_json: bool) -> None:
    """Fit pseudo-Voigt lines to a 1D spectrum: positions, widths, areas and site fractions.

    Areas carry standard errors from the fit and the fractions (area over the sum of all
    areas) propagate them with the covariance; spinning sidebands, when fitted, count in
    their centre line's area.

    Example:

        ssbkit nmr deconvolve examples/data/nmr/li6_mixture/1 --peaks 2.31,1.29,-4.56 --names Li2S,LPSC,LiI --phase none --json
    """
    from ssbkit.nmr.deconvolve import deconvolve

    check_outputs(plot=plot_path)
    spectrum = _spectrum(path, processed=processed, lb_hz=lb_hz, phase=phase, baseline=baseline)
    result = deconvolve(
        spectrum,
        peaks=None if peaks is None else _floats(peaks, "--peaks"),
        names=None if names is None else split_list(names),
        shape=shape, shared_width=shared_width,
        region=None if region is None else _floats(region, "--region"),
        sidebands=None if spinning_rate_hz is None else {"spinning_rate_Hz": spinning_rate_hz, "orders": 2},
    )
    _write_outputs(figure=("ssbkit.nmr.plot:plot_deconvolution", result, plot_path))
    emit(result, as_json)


def _floats(text: str, option: str) -> list[float]:
    from ssbkit.core.errors import InputError

    try:
        return [float(p) for p in split_list(text)]
    except ValueError:
        raise InputError(f"give numbers separated by commas, got {text!r}", source=option) from None


@nmr.command("exsy-fit")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", type=click.Choice(["sphere", "cube", "gaussian", "sqrt", "first-order"]),
              default="sphere", show_default=True,
              help="Build-up model: diffusion out of a sphere (radius) or cube (edge), 3D Gaussian "
                   "escape beyond a length, the short-time √t law, or first-order exchange.")
@click.option("--length-um", type=float, default=None, metavar="UM",
              help="The model's length [µm] (sphere radius, cube edge, escape distance; not first-order).")
@click.option("--plateau", default="free", show_default=True, metavar="free|VALUE",
              help="The long-time plateau A: fitted, or fixed (needed by the √t law).")
@click.option("--arrhenius", "global_fit", is_flag=True,
              help="Also fit all temperatures at once with D(T) constrained to the Arrhenius law.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help="Also save a figure: build-up curves with fits (and D(T) when "
                                   "several temperatures).")
@json_option
@names_options()
def exsy_fit_command(table: Path, model: str, length_um: float | None, plateau: str, global_fit: bool,
                     plot_path: Path | None, as_json: bool) -> None:
    """Fit cross-peak build-up against mixing time: D (or k) per temperature and Arrhenius Ea.

    TABLE is a CSV with columns 'mixing_time [s]' and 'intensity' (normalised, e.g.
    cross/(cross + diagonal)), optionally 'intensity stderr' and 'temperature [K]'. With
    several temperatures there is one fit per temperature under 'fits' and an Arrhenius Ea
    from ln D against 1/T (weighted by the fits' standard errors), or from the global fit
    with --arrhenius.

    Example:

        ssbkit nmr exsy-fit examples/data/nmr/exsy_buildup.csv --model sphere --length-um 1 --json
    """
    from ssbkit.core.errors import InputError
    from ssbkit.nmr.buildup import fit_buildup_series, read_buildup_table
    from ssbkit.nmr.models import get_model

    if length_um is not None and not get_model(model).needs_length:
        raise InputError(f"the {model!r} model has no length; leave the option out", source="--length-um")
    check_outputs(plot=plot_path)
    frame = read_buildup_table(table)
    result = fit_buildup_series(frame, model=model, length_um=length_um, plateau=_plateau(plateau),
                                arrhenius=global_fit, source=str(table))
    _write_outputs(figure=("ssbkit.nmr.plot:plot_buildup", result, plot_path))
    emit(result, as_json)


def _plateau(text: str) -> Any:
    from ssbkit.core.errors import InputError

    if text == "free":
        return "free"
    try:
        return float(text)
    except ValueError:
        raise InputError(f"give free or a number, got {text!r}", source="--plateau") from None


@nmr.command("exchange-fit")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--populations", default=None, metavar="SITE=P,…",
              help="Site populations (from the 1D fractions), e.g. Li2S=0.3,LPSC=0.5,LiI=0.2; "
                   "default: each site's peaks (diagonal and cross) summed at the shortest mixing time.")
@click.option("--t1-s", "t1", default="fit", show_default=True, metavar="SITE=T1,…|T1|fit|none",
              help="Longitudinal relaxation [s] during mixing: per site, one for all, fitted per site, "
                   "or none (volumes already corrected or normalised).")
@click.option("--pairs", default=None, metavar="A-B,…",
              help="Only these pairs exchange (e.g. Li2S-LiI,LiI-LPSC); default: all.")
@json_option
@names_options(T1_s="t1", sites="populations")
def exchange_fit_command(table: Path, populations: str | None, t1: str | None, pairs: str | None,
                         as_json: bool) -> None:
    """Fit the kinetic-matrix (Bloch–McConnell) model to every EXSY peak volume at once.

    TABLE is long form: 'mixing_time [s]', 'from', 'to', 'volume' (from == to for diagonal
    peaks). One rate per pair is free, the reverse one follows from detailed balance with
    the populations; both are listed under 'rates' with standard errors.

    Example:

        ssbkit nmr exchange-fit examples/data/nmr/exsy_volumes.csv --json

        ssbkit nmr exchange-fit examples/data/nmr/exsy_volumes.csv --populations Li2S=0.3,LPSC=0.5,LiI=0.2 --t1-s Li2S=20,LPSC=5,LiI=10
    """
    from ssbkit.nmr.exchange import fit_exchange, read_exchange_table

    frame = read_exchange_table(table)
    result = fit_exchange(frame, populations=_populations(populations, frame), T1_s=_t1(t1),
                          pairs=None if pairs is None else _pairs(pairs), source=str(table))
    emit(result, as_json)


def _mapping(text: str, option: str) -> dict[str, float]:
    from ssbkit.core.errors import InputError

    out: dict[str, float] = {}
    for part in split_list(text):
        name, sep, value = part.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"give SITE=NUMBER pairs separated by commas, got {part!r}",
                             source=option) from None
    return out


def _populations(text: str | None, frame: Any) -> Any:
    if text is not None:
        return _mapping(text, "--populations")
    from ssbkit.nmr.exchange import populations_from_diagonal

    return populations_from_diagonal(frame)


def _t1(text: str | None) -> Any:
    if text is None or text == "none":
        return None
    if text == "fit":
        return text
    if "=" in text:
        return _mapping(text, "--t1-s")
    values = _floats(text, "--t1-s")
    if len(values) != 1:
        from ssbkit.core.errors import InputError

        # a bare list would be matched to the sites in an order the user cannot see
        raise InputError(f"give one T1 for all sites, SITE=T1 pairs, fit or none, got {text!r}",
                         source="--t1-s")
    return values[0]


def _pairs(text: str) -> list[tuple[str, str]]:
    from ssbkit.core.errors import InputError

    out = []
    for part in split_list(text):
        a, sep, b = part.partition("-")
        if not sep or not a.strip() or not b.strip():
            raise InputError(f"give pairs as A-B separated by commas, got {part!r}", source="--pairs")
        out.append((a.strip(), b.strip()))
    return out
