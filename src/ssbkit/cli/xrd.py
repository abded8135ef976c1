"""``ssbkit xrd``: powder patterns, phase identification, refinement, size and strain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ssbkit.cli._common import check_outputs, emit, json_option, names_options, split_list
from ssbkit.cli.nmr import _write_outputs

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group()
def xrd() -> None:
    """Powder X-ray diffraction: read scans, identify phases, refine (Rietveld, Le Bail, Pawley),
    crystallite size and microstrain.

    Example:

        ssbkit xrd refine examples/data/xrd/argyrodite_licl_li2s.xy --phases argyrodite,LiCl,Li2S --wavelength CuKa --json
    """


def _radiation_options(func: Any) -> Any:
    func = click.option("--instrument", "instrument_path", type=_FILE, default=None, metavar="PRM",
                        help="Instrument file (GSAS-II .instprm or GSAS .prm): profile, zero, "
                             "polarisation and radiation.")(func)
    return click.option("--wavelength", default=None, metavar="ANODE|Å",
                        help="Radiation when the file does not name it: CuKa, CuKa1, CoKa, MoKa, … "
                             "or a wavelength in Å.")(func)


def _pattern(path: Path) -> Any:
    from ssbkit.io import read_pattern

    return read_pattern(path)


def _instrument(path: Path | None) -> Any:
    if path is None:
        return None
    from ssbkit.io import read_instrument

    return read_instrument(path)


@xrd.command("read")
@click.argument("file", type=_FILE)
@click.option("--csv", "csv_path", type=_FILE, default=None, metavar="PATH",
              help="Also write the pattern as CSV (2theta [deg], intensity [counts], sigma [counts]).")
@json_option
def read_command(file: Path, csv_path: Path | None, as_json: bool) -> None:
    """Read a powder pattern (.xy/.xye/.csv, .xrdml, .ras/.rasx, .brml, .raw, GSAS .gsa/.XRA/.fxye).

    With --json: 2θ [deg], counts and σ per point, the radiation lines (wavelength [Å],
    weight) where the file names them, and the file's metadata.

    Example:

        ssbkit xrd read examples/data/xrd/argyrodite_licl_li2s.xy --json
    """
    check_outputs(csv=csv_path)
    pattern = _pattern(file)
    _write_outputs(table=(pattern.to_frame, csv_path))
    if as_json:
        import json

        click.echo(json.dumps(pattern.to_dict(), allow_nan=False))
    else:
        click.echo(pattern.report())


@xrd.command("identify")
@click.argument("file", type=_FILE)
@_radiation_options
@click.option("--max-phases", type=int, default=4, show_default=True, help="Most phases reported.")
@click.option("--plot", "plot_path", type=_FILE, default=None, metavar="PATH",
              help="Also save a figure of the pattern with the identified phases.")
@json_option
@names_options(instrument="instrument_path")
def identify_command(file: Path, wavelength: str | None, instrument_path: Path | None, max_phases: int,
                     plot_path: Path | None, as_json: bool) -> None:
    """Find the phases of ssbkit's library in a pattern, with weight fractions (Hill–Howard).

    The library holds what this field meets: argyrodites, Li2S, LiCl, LiBr, LiI, TiS2,
    Li2TiS3 and more; phases not found are reported with a detection limit.

    Example:

        ssbkit xrd identify examples/data/xrd/argyrodite_licl_li2s.xy --wavelength CuKa --json
    """
    from ssbkit.xrd.identify import identify

    check_outputs(plot=plot_path)
    result = identify(_pattern(file), wavelength=wavelength, instrument=_instrument(instrument_path),
                      max_phases=max_phases)
    _write_outputs(figure=("ssbkit.xrd.plot:plot_identification", result, plot_path))
    emit(result, as_json)


def _phases(text: str) -> list[Any]:
    """CIF paths or built-in names, in the order given."""
    from ssbkit.core.errors import InputError
    from ssbkit.xrd.structures import builtin_phase

    items = split_list(text)
    if not items:
        raise InputError("give at least one CIF file or built-in phase name", source="--phases")
    phases: list[Any] = []
    for item in items:
        path = Path(item)
        if path.is_file():
            phases.append(path)
        elif path.suffix.lower() == ".cif":
            raise InputError(f"no such CIF file {item!r}", source="--phases")
        else:
            try:
                phases.append(builtin_phase(item))
            except InputError as exc:
                raise InputError(exc.detail, source="--phases") from exc
    return phases


@xrd.command("refine")
@click.argument("file", type=_FILE)
@click.option("--phases", required=True, metavar="CIF_OR_NAME,…",
              help="CIF files or built-in phases (argyrodite, Li6PS5Cl, Li2S, LiCl, LiBr, LiI, TiS2, "
                   "Li2TiS3), comma separated.")
@_radiation_options
@click.option("--mode", type=click.Choice(["rietveld", "lebail", "pawley"]), default="rietveld",
              show_default=True, help="Rietveld (structure), Le Bail or Pawley (free intensities).")
@click.option("--range", "two_theta_range", default=None, metavar="MIN,MAX",
              help="Fit only this 2θ range [deg].")
@click.option("--background-terms", type=int, default=6, show_default=True,
              help="Chebyshev background coefficients.")
@click.option("--plot", "plot_path", type=_FILE, default=None, metavar="PATH",
              help="Also save the observed/calculated/difference plot with tick marks.")
@click.option("--csv", "csv_path", type=_FILE, default=None, metavar="PATH",
              help="Also write the observed, calculated, background and difference curves as CSV.")
@json_option
@names_options(instrument="instrument_path")
def refine_command(file: Path, phases: str, wavelength: str | None, instrument_path: Path | None, mode: str,
                   two_theta_range: str | None, background_terms: int, plot_path: Path | None,
                   csv_path: Path | None, as_json: bool) -> None:
    """Refine a powder pattern: lattice parameters, weight fractions, size and strain, R factors.

    The default strategy is staged: scales and background, then cells, then profile, then
    positions and displacement parameters (Rietveld only). Each phase reports a, b, c,
    volume, weight fraction (Hill–Howard), crystallite size and microstrain with standard
    errors; the fit reports Rwp, Rp, Rexp and GOF.

    Example:

        ssbkit xrd refine examples/data/xrd/argyrodite_licl_li2s.xy --phases argyrodite,LiCl,Li2S --wavelength CuKa --json

        ssbkit xrd refine examples/data/xrd/argyrodite_licl_li2s.xy --phases argyrodite,LiCl,Li2S --wavelength CuKa --mode lebail --plot refinement.png
    """
    from ssbkit.xrd.refine import refine

    check_outputs(plot=plot_path, csv=csv_path)
    window = None
    if two_theta_range is not None:
        from ssbkit.cli.nmr import _floats

        values = _floats(two_theta_range, "--range")
        if len(values) != 2:
            from ssbkit.core.errors import InputError

            raise InputError(f"give MIN,MAX in degrees, got {two_theta_range!r}", source="--range")
        window = (values[0], values[1])
    result = refine(_pattern(file), _phases(phases), mode=mode, instrument=_instrument(instrument_path),
                    wavelength=wavelength, background_terms=background_terms, two_theta_range=window)
    _write_outputs(table=(result.curves, csv_path),
                   figure=("ssbkit.xrd.plot:plot_refinement", result, plot_path))
    emit(result, as_json)


@xrd.command("sizestrain")
@click.argument("file", type=_FILE)
@click.option("--peaks", default=None, metavar="2θ,…", help="Peaks to fit [deg]; default: picked.")
@_radiation_options
@click.option("--breadth", type=click.Choice(["fwhm", "integral"]), default="fwhm", show_default=True,
              help="Peak breadth used by Scherrer and Williamson–Hall.")
@click.option("--plot", "plot_path", type=_FILE, default=None, metavar="PATH",
              help="Also save the Williamson–Hall plot.")
@json_option
@names_options(instrument="instrument_path")
def sizestrain_command(file: Path, peaks: str | None, wavelength: str | None, instrument_path: Path | None,
                       breadth: str, plot_path: Path | None, as_json: bool) -> None:
    """Crystallite size and microstrain from single-peak fits: Scherrer and Williamson–Hall.

    Each peak is a pseudo-Voigt (Kα1/Kα2 doublet); the instrument's broadening, from
    --instrument, is removed first (without one the sizes are lower bounds).

    Example:

        ssbkit xrd sizestrain examples/data/xrd/argyrodite_licl_li2s.xy --wavelength CuKa --json
    """
    from ssbkit.xrd.sizestrain import sizestrain

    check_outputs(plot=plot_path)
    positions = None
    if peaks is not None:
        from ssbkit.cli.nmr import _floats

        positions = _floats(peaks, "--peaks")
    result = sizestrain(_pattern(file), peaks=positions, instrument=_instrument(instrument_path),
                        wavelength=wavelength, breadth=breadth)
    _write_outputs(figure=("ssbkit.xrd.plot:plot_williamson_hall", result, plot_path))
    emit(result, as_json)
