"""Figures of NMR data and results: spectra (1D lines, 2D contours with integration boxes),
deconvolutions, EXSY build-up curves with their fits, and the Arrhenius plot of D(T).

Every function returns a ``matplotlib.figure.Figure`` drawn on the Agg canvas, or draws into an
``Axes`` passed as ``ax=`` and returns its figure; nothing is shown and ``pyplot`` is never
imported, so the functions work on headless machines and in batch jobs. matplotlib is imported
only when a function is called. Chemical-shift axes run from high to low ppm, as chemists draw
them; 2D spectra put F2 (direct) across and F1 (indirect) up, so a cross peak from site i to
site j sits at (x = δ_j, y = δ_i). Axis labels read ``name [unit]``; lines, contours and boxes
carry gids (``"data"``, ``"fit"``, ``"line <name>"``, ``"box <from>-><to>"`` …) so programs
and tests can find them. Save a figure atomically with ``ssbkit.eis.plot.save_figure`` or with
``fig.savefig``.

Why written here: nmrglue and the peers leave plotting to the user, and draw no ssbkit results.

>>> import numpy as np
>>> from ssbkit.nmr.data import NMRSpectrum
>>> ppm = np.linspace(10, -10, 401)
>>> fig = plot_spectrum(NMRSpectrum(np.exp(-((ppm - 1.29) / 0.5) ** 2), (ppm,)))
>>> ax = fig.axes[0]
>>> ax.get_xlabel(), bool(ax.xaxis_inverted())
('chemical shift [ppm]', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.plotting import matplotlib_package as _mpl
from ssbkit.core.plotting import new_figure, target_axes
from ssbkit.core.units import BOLTZMANN_EV
from ssbkit.core.validate import in_range, positive, positive_int
from ssbkit.nmr.data import NMRSpectrum
from ssbkit.nmr.deconvolve import Deconvolution
from ssbkit.nmr.volumes import VolumeTable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_arrhenius_D", "plot_buildup", "plot_deconvolution", "plot_spectrum"]

_WIDTH_IN = 3.5  # one journal column
_CURVE_POINTS = 200
_POSITIVE, _NEGATIVE = "tab:blue", "tab:red"




def _new_figure(width: float, height: float) -> Figure:
    return new_figure(width, height)


def _target(ax: Any, width: float = _WIDTH_IN, height: float = 2.8) -> Axes:
    return target_axes(ax, width, height)


def _style(ax: Axes) -> None:
    ax.tick_params(which="both", direction="in", top=True, right=True)
    ax.minorticks_on()


def _legend(ax: Axes) -> None:
    if ax.get_legend_handles_labels()[1]:
        ax.legend(frameon=False, fontsize="small")


def _ppm_axis(ax: Axes, values: np.ndarray, which: str = "x") -> None:
    """Limits from high to low ppm."""
    hi, lo = float(np.max(values)), float(np.min(values))
    (ax.set_xlim if which == "x" else ax.set_ylim)(hi, lo)


# -- spectra -------------------------------------------------------------------------------------

def plot_spectrum(spectrum: NMRSpectrum, *, boxes: VolumeTable | Mapping[str, Any] | None = None,
                  box_ppm: float = 0.5, levels: int = 12, lowest: float = 0.03,
                  ax: Axes | None = None) -> Figure:
    """A 1D spectrum as a line, or a 2D spectrum as contours with its integration boxes.

    2D: ``levels`` contour levels spaced geometrically from ``lowest`` × the largest |intensity| to
    the largest, positive in blue and negative (mirrored) in red. ``boxes`` draws a rectangle for
    every diagonal and cross peak: a ``VolumeTable`` (its sites and half-widths), ``{site: ppm}``
    (with ``box_ppm`` half-widths) or ``{site: (ppm, half-width)}``.
    """
    if not isinstance(spectrum, NMRSpectrum):
        raise InputError(f"must be an NMRSpectrum, got {type(spectrum).__name__}", source="spectrum")
    if spectrum.ndim == 1:
        if boxes is not None:
            raise InputError("integration boxes belong on a 2D spectrum", source="boxes")
        target = _target(ax)
        line, = target.plot(spectrum.ppm[0], spectrum.data, color="0.1", lw=0.8)
        line.set_gid("data")
        _ppm_axis(target, spectrum.ppm[0])
        target.set_xlabel("chemical shift [ppm]")
        target.set_ylabel("intensity [a.u.]")
        _style(target)
        return target.figure
    levels = positive_int("levels", levels)
    lowest = in_range("lowest", lowest, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    target = _target(ax, _WIDTH_IN, _WIDTH_IN)
    f1, f2 = spectrum.ppm
    top = float(np.abs(spectrum.data).max())
    steps = top * np.geomspace(lowest, 1.0, levels) if top > 0 else np.array([])
    for sign, colour, gid in ((1.0, _POSITIVE, "positive"), (-1.0, _NEGATIVE, "negative")):
        if steps.size and (sign * spectrum.data >= steps[0]).any():
            drawn = target.contour(f2, f1, sign * spectrum.data, levels=steps, colors=colour, linewidths=0.6)
            drawn.set_gid(gid)
    if boxes is not None:
        _draw_boxes(target, _boxes(boxes, box_ppm))
    _ppm_axis(target, f2, "x")
    _ppm_axis(target, f1, "y")
    target.set_xlabel("F2 shift [ppm]")
    target.set_ylabel("F1 shift [ppm]")
    _style(target)
    return target.figure


def _boxes(boxes: Any, box_ppm: float) -> dict[str, tuple[float, float]]:
    if isinstance(boxes, VolumeTable):
        return {name: (float(p), float(boxes.half_widths[name])) for name, p in boxes.sites.items()}
    if not isinstance(boxes, Mapping) or not boxes:
        raise InputError(f"must be a VolumeTable or a mapping of site -> ppm or (ppm, half-width), got "
                         f"{type(boxes).__name__}", source="boxes")
    out = {}
    for name, value in boxes.items():
        if isinstance(value, Sequence) and not isinstance(value, str):
            if len(value) != 2:
                raise InputError(f"site {name}: give (ppm, half-width), got {value!r}", source="boxes")
            centre, half = value
        else:
            centre, half = value, box_ppm
        try:
            centre = float(centre)
        except (TypeError, ValueError):
            raise InputError(f"site {name}: the shift must be a number, got {centre!r}",
                             source="boxes") from None
        if not math.isfinite(centre):
            raise InputError(f"site {name}: the shift must be finite", source="boxes")
        out[str(name)] = (centre, positive(f"boxes: {name} half-width", half))
    return out


def _draw_boxes(ax: Axes, boxes: dict[str, tuple[float, float]]) -> None:
    mpl = _mpl()
    for origin, (p1, h1) in boxes.items():
        for target, (p2, h2) in boxes.items():
            patch = mpl.patches.Rectangle((p2 - h2, p1 - h1), 2 * h2, 2 * h1, fill=False, lw=0.7,
                                          ls="-" if origin == target else "--", edgecolor="0.3")
            patch.set_gid(f"box {origin}->{target}")
            ax.add_patch(patch)
        ax.annotate(origin, (p1 + h1, p1 + h1), fontsize="x-small", color="0.3", ha="right", va="bottom")


# -- deconvolution -------------------------------------------------------------------------------

def plot_deconvolution(result: Deconvolution) -> Figure:
    """The fitted region: data, each line (with its sidebands) on the baseline, their sum, and the
    residual in a panel below."""
    if not isinstance(result, Deconvolution):
        raise InputError(f"must be a Deconvolution, got {type(result).__name__}", source="result")
    fig = _new_figure(_WIDTH_IN * 1.3, 4.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3.0, 1.0))
    x = np.asarray(result.ppm)
    data, = top.plot(x, result.data, color="0.1", lw=0.9, label="data")
    data.set_gid("data")
    for k, line in enumerate(result.lines):
        drawn, = top.plot(x, result.components[k] + result.background, lw=0.8, color=f"C{k % 10}",
                          label=f"{line.name} ({100 * line.fraction.value:.1f} %)")
        drawn.set_gid(f"line {line.name}")
    if result.baseline is not None:
        base, = top.plot(x, result.background, color="0.6", lw=0.6, ls=":", label="baseline")
        base.set_gid("baseline")
    fit, = top.plot(x, result.fit, color="tab:red", lw=0.8, ls="--",
                    label=f"sum, R² = {result.r_squared:.4f}")
    fit.set_gid("fit")
    top.set_ylabel("intensity [a.u.]")
    _legend(top)
    residual, = bottom.plot(x, result.residual, color="0.2", lw=0.6)
    residual.set_gid("residual")
    bottom.axhline(0.0, color="0.6", lw=0.6)
    bottom.set_ylabel("residual [a.u.]")
    bottom.set_xlabel("chemical shift [ppm]")
    _ppm_axis(bottom, x)
    for ax in (top, bottom):
        _style(ax)
    return fig


# -- build-up and Arrhenius ----------------------------------------------------------------------

def _buildup_fits(data: Any) -> list[Any]:
    from ssbkit.nmr.buildup import BuildupFit, BuildupSeriesFit

    if isinstance(data, BuildupSeriesFit):
        return list(data.fits)
    items = [data] if isinstance(data, BuildupFit) else (list(data) if isinstance(data, Sequence) else None)
    if not items or not all(isinstance(item, BuildupFit) for item in items):
        raise InputError("must be a BuildupFit, a BuildupSeriesFit or a list of BuildupFit, got "
                         f"{type(data).__name__}", source="fit_or_fits")
    return items


def plot_buildup(fit_or_fits: Any, *, log_time: bool = False, ax: Axes | None = None) -> Figure:
    """Build-up points (with error bars when the fit had them) and the fitted curve per temperature.

    ``log_time`` puts mixing time on a log axis (useful for 10 ms … 10 s series).
    """
    fits = _buildup_fits(fit_or_fits)
    target = _target(ax)
    mpl = _mpl()
    temperatures = [f.temperature_K for f in fits if f.temperature_K is not None]
    span = (min(temperatures), max(temperatures)) if temperatures else (0.0, 0.0)
    colours = mpl.colormaps["coolwarm"]
    for k, fit in enumerate(fits):
        if fit.temperature_K is not None and span[1] > span[0]:
            colour = colours((fit.temperature_K - span[0]) / (span[1] - span[0]))
        else:
            colour = f"C{k % 10}"
        t, y = np.asarray(fit.mixing_time_s), np.asarray(fit.intensity)
        where = f"{fit.temperature_K:g} K" if fit.temperature_K is not None else f"curve {k + 1}"
        if fit.stderr is not None:
            points = target.errorbar(t, y, yerr=np.asarray(fit.stderr), fmt="o", ms=3.5, color=colour,
                                     capsize=2)
            points.lines[0].set_gid(f"data {where}")
        else:
            line, = target.plot(t, y, "o", ms=3.5, color=colour)
            line.set_gid(f"data {where}")
        lo, hi = float(t.min()), float(t.max())
        grid = (np.geomspace(max(lo, hi * 1e-4), hi, _CURVE_POINTS) if log_time and hi > 0
                else np.linspace(0.0, hi, _CURVE_POINTS))
        rate = fit.rate
        name = "D" if fit.D is not None else "k"
        curve, = target.plot(grid, fit.predict(grid), "-", lw=1.0, color=colour,
                             label=f"{where}: {name} = {rate.value:.3g} {rate.unit}")
        curve.set_gid(f"fit {where}")
    if log_time:
        target.set_xscale("log")
    target.set_xlabel("mixing time [s]")
    target.set_ylabel("normalised intensity")
    _style(target)
    _legend(target)
    return target.figure


def plot_arrhenius_D(series_fit: Any, *, ax: Axes | None = None) -> Figure:
    """ln D (or ln k) against 1000/T [1/K] with the Arrhenius line and Ea in the legend.

    Error bars are δ(ln D) = δD/D of the per-temperature fits. With a global fit (D(T)
    constrained to the Arrhenius law across every curve), its line is drawn dashed beside the
    line through the per-temperature values. A top axis reads the temperature in °C.
    """
    from ssbkit.nmr.buildup import BuildupSeriesFit

    if not isinstance(series_fit, BuildupSeriesFit):
        raise InputError(f"must be a BuildupSeriesFit, got {type(series_fit).__name__}", source="series_fit")
    line = series_fit.arrhenius
    if line is None:
        raise InputError("the series has no Arrhenius fit (it needs at least two temperatures)",
                         source="series_fit")
    target = _target(ax)
    t = np.asarray(line.temperature_K, dtype=float)
    values = np.asarray(line.values, dtype=float)
    x, y = 1000.0 / t, np.log(values)
    if line.stderr is not None:
        points = target.errorbar(x, y, yerr=np.asarray(line.stderr, dtype=float) / values, fmt="o", ms=4,
                                 color="C0", capsize=2)
        points.lines[0].set_gid("data")
    else:
        drawn, = target.plot(x, y, "o", ms=4, color="C0")
        drawn.set_gid("data")
    grid = np.linspace(t.min(), t.max(), 100)
    fitted, = target.plot(1000.0 / grid, np.log(line.predict(grid)), "-", color="C3", lw=1.2,
                          label=_ea_text(line.activation_energy))
    fitted.set_gid("fit")
    glob = series_fit.global_fit
    if glob is not None:
        curve = glob.prefactor.value * np.exp(-glob.activation_energy.value / (BOLTZMANN_EV * grid))
        dashed, = target.plot(1000.0 / grid, np.log(curve), "--", color="0.3", lw=1.0,
                              label="global: " + _ea_text(glob.activation_energy))
        dashed.set_gid("global fit")
    quantity = line.quantity
    unit = "cm²/s" if quantity == "D" else "1/s"
    target.set_xlabel("1000/T [1/K]")
    target.set_ylabel(f"ln({quantity} [{unit}])")
    target.tick_params(which="both", direction="in", right=True)
    target.minorticks_on()
    top = target.secondary_xaxis("top", functions=(_to_celsius, _from_celsius))
    top.set_xlabel("temperature [°C]")
    top.tick_params(which="both", direction="in")
    _legend(target)
    return target.figure


def _ea_text(ea: Any) -> str:
    return (f"Ea = {ea.value:.3f} eV" if not math.isfinite(ea.stderr)
            else f"Ea = {ea.value:.3f} ± {ea.stderr:.3f} eV")


def _to_celsius(x: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1000.0 / np.asarray(x, dtype=float) - 273.15


def _from_celsius(c: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1000.0 / (np.asarray(c, dtype=float) + 273.15)
