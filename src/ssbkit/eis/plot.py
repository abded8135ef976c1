"""Publication figures of impedance results: Nyquist, Bode, residuals, Arrhenius, DRT.

Every function returns a ``matplotlib.figure.Figure`` drawn on the Agg canvas, or draws
into an ``Axes`` passed as ``ax=`` and returns its figure; nothing is ever shown, and
``pyplot`` (with its global figure registry and interactive backends) is never imported,
so the functions are safe on headless machines, in threads and in batch jobs. matplotlib
is an optional extra (``pip install "ssbkit[plot]"``), imported only when a function is
called, so ``import ssbkit`` and ``ssbkit --help`` stay fast.

Style: axis labels ``name [unit]``; Nyquist plots in mΩ, Ω, kΩ, MΩ or GΩ chosen from the
data, with equal scales on both axes (a semicircle stays round); Bode plots on log axes;
masked points drawn hollow, never dropped. DRTs (γ against τ on a log axis, a 2-D map of a
series over a label such as the state of charge, stacked curves) use the same Ohm prefixes.
``save_figure`` writes atomically (a temporary file in the same folder, then a rename) and
without time stamps, so the same figure gives the same PDF or SVG bytes.

Why written here: the peers' plotting helpers (impedance.py, pyimpspec) call ``pyplot``
and draw their own result types; these draw ssbkit's containers and results.

>>> import numpy as np
>>> from ssbkit.eis import simulate_spectrum
>>> s = simulate_spectrum("R0-p(R1,C1)", {"R0": 2e3, "R1": 5e4, "C1": 1e-9}, np.logspace(6, 0, 25))
>>> fig = plot_nyquist(s)
>>> ax = fig.axes[0]
>>> ax.get_xlabel(), ax.get_ylabel()
("Z' [kΩ]", "−Z'' [kΩ]")
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.plotting import matplotlib_package as _mpl
from ssbkit.core.plotting import new_figure, target_axes
from ssbkit.core.validate import non_negative
from ssbkit.eis.arrhenius import ArrheniusResult
from ssbkit.eis.data import Spectrum
from ssbkit.eis.drt import DRTResult
from ssbkit.eis.drt_series import DRTSeries, check_regions
from ssbkit.eis.fit import FitResult
from ssbkit.eis.kk import KramersKronigResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "plot_arrhenius", "plot_bode", "plot_drt", "plot_drt_map", "plot_drt_stack",
           "plot_fit", "plot_nyquist", "plot_residuals", "save_figure"]

FORMATS = (".png", ".pdf", ".svg")
# Ohm prefixes: the largest whose scale is at most the largest |Z'|, |Z''| of the data.
_OHM_PREFIXES = ((1e9, "GΩ"), (1e6, "MΩ"), (1e3, "kΩ"), (1.0, "Ω"), (1e-3, "mΩ"))
_FIT_POINTS_PER_DECADE = 40
_SINGLE_WIDTH_IN = 3.5  # one journal column
_PNG_DPI = 300
_FIT_COLOUR = "0.1"
_MARGIN = 0.04  # of the span, around the data on a Nyquist plot


# -- matplotlib, lazily ------------------------------------------------------------------------



def _new_figure(width: float = _SINGLE_WIDTH_IN, height: float = 3.0) -> Figure:
    return new_figure(width, height)


def _target(ax: Any, width: float = _SINGLE_WIDTH_IN, height: float = 3.0) -> Axes:
    """``ax`` checked, or the single Axes of a new figure."""
    return target_axes(ax, width, height)


def _style(ax: Axes) -> None:
    ax.tick_params(which="both", direction="in", top=True, right=True)
    ax.minorticks_on()


# -- inputs ------------------------------------------------------------------------------------

def _items(data: Any, name: str) -> list[Spectrum | FitResult]:
    """``data`` as a non-empty list of spectra and fit results."""
    single = isinstance(data, Spectrum | FitResult)
    items = [data] if single else (list(data) if isinstance(data, Sequence) else None)
    if not items:
        raise InputError(f"must be a Spectrum, a FitResult or a list of them, got "
                         f"{type(data).__name__ if items is None else 'an empty list'}", source=name)
    for i, item in enumerate(items):
        if not isinstance(item, Spectrum | FitResult):
            raise InputError(f"item {i} is a {type(item).__name__}, not a Spectrum or FitResult",
                             source=name)
    return items


def _fits(fit: Any, items: list[Any]) -> list[FitResult | None]:
    """One fit (or None) per data item; a FitResult given as data is its own fit."""
    if fit is None:
        given: list[Any] = [None] * len(items)
    elif isinstance(fit, FitResult):
        if len(items) != 1:
            raise InputError(f"one fit for {len(items)} spectra: give a list of fits, one per "
                             "spectrum (None where there is none)", source="fit")
        given = [fit]
    elif isinstance(fit, Sequence) and len(fit) == len(items):
        given = list(fit)
    else:
        raise InputError(f"must be a FitResult, or a list of {len(items)} (one per spectrum), "
                         f"got {type(fit).__name__}", source="fit")
    for i, f in enumerate(given):
        if f is not None and not isinstance(f, FitResult):
            raise InputError(f"item {i} is a {type(f).__name__}, not a FitResult", source="fit")
    return [f if f is not None else (d if isinstance(d, FitResult) else None)
            for f, d in zip(given, items, strict=True)]


def _points(item: Spectrum | FitResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, impedance and mask of what was measured (a fit holds only the points used)."""
    if isinstance(item, Spectrum):
        return item.frequency, item.impedance, item.mask
    return item.frequency, item.impedance, np.ones(item.frequency.shape, bool)


def _labels(label: Any, items: list[Any]) -> list[str | None]:
    if label is None:
        if len(items) == 1:
            return [None]
        return [_temperature_label(item) for item in items]
    if isinstance(label, str):
        if len(items) != 1:
            raise InputError(f"one label for {len(items)} spectra: give a list of labels",
                             source="label")
        return [label]
    labels = list(label) if isinstance(label, Sequence) else []
    if len(labels) != len(items):
        raise InputError(f"must be a string or a list of {len(items)} labels", source="label")
    return [None if x is None else str(x) for x in labels]


def _temperature_label(item: Any) -> str | None:
    t = item.metadata.get("temperature_K")
    return None if t is None else f"{float(t) - 273.15:.0f} °C"


def _colours(n: int) -> list[Any]:
    """One colour for one spectrum; an ordered (viridis) sequence for a series."""
    if n == 1:
        return ["C0"]
    cmap = _mpl().colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 0.85, n)]


def _fit_curve(fit: FitResult) -> tuple[np.ndarray, np.ndarray]:
    """The fitted model on a dense log grid across the fitted frequency range."""
    lo, hi = float(fit.frequency.min()), float(fit.frequency.max())
    n = max(200, int(math.ceil(math.log10(hi / lo) * _FIT_POINTS_PER_DECADE)) + 1)
    f = np.logspace(math.log10(hi), math.log10(lo), n)
    with np.errstate(all="ignore"):
        return f, fit.predict(f)


def _ohm_scale(largest: float) -> tuple[float, str]:
    for scale, unit in _OHM_PREFIXES:
        if largest >= scale:
            return scale, unit
    return _OHM_PREFIXES[-1]


# -- Nyquist -----------------------------------------------------------------------------------

def plot_nyquist(data: Any, *, fit: Any = None, ax: Any = None, label: Any = None) -> Figure:
    """−Z'' against Z' with equal scales, in mΩ, Ω, kΩ, MΩ or GΩ chosen from the data.

    ``data`` is a Spectrum, a FitResult (drawn with its fitted curve) or a list of them
    (overlaid in an ordered colour sequence, labelled by their temperature when the metadata
    has one). ``fit`` adds a fitted curve (a list: one per spectrum); curves are evaluated on
    a dense frequency grid across the fitted range. Masked points are drawn hollow. Lines
    carry gids ``"data"``, ``"masked"`` and ``"fit"``.
    """
    items = _items(data, "data")
    fits = _fits(fit, items)
    labels = _labels(label, items)
    target = _target(ax, _SINGLE_WIDTH_IN, 3.0)
    largest = max(float(np.max(np.abs(np.r_[z.real, z.imag]))) for _, z, _ in map(_points, items))
    scale, unit = _ohm_scale(largest)
    drawn: list[np.ndarray] = []
    for item, f, name, colour in zip(items, fits, labels, _colours(len(items)), strict=True):
        _, z, mask = _points(item)
        if name is None and f is not None and len(items) == 1:
            name = "data"
        _draw_points(target, z.real / scale, -z.imag / scale, mask, colour, name)
        drawn.append(z / scale)
        if f is not None:
            _, z_fit = _fit_curve(f)
            line, = target.plot(z_fit.real / scale, -z_fit.imag / scale, "-", lw=1.2,
                                color=_FIT_COLOUR if len(items) == 1 else colour,
                                label="fit" if len(items) == 1 else None)
            line.set_gid("fit")
            drawn.append(z_fit[np.isfinite(z_fit)] / scale)
    target.set_xlabel(f"Z' [{unit}]")
    target.set_ylabel(f"−Z'' [{unit}]")
    _square_limits(target, np.concatenate(drawn))
    _style(target)
    _legend(target)
    return target.figure


def _square_limits(ax: Axes, z: np.ndarray) -> None:
    """Equal scales, both axes from zero (or below, for inductive tails), one span for both."""
    x, y = z.real, -z.imag
    x0, y0 = min(0.0, float(x.min())), min(0.0, float(y.min()))
    extent = max(float(x.max()) - x0, float(y.max()) - y0, 1e-12)
    span = extent * (1 + 2 * _MARGIN)
    x0 -= _MARGIN * extent
    y0 -= _MARGIN * extent
    ax.set_xlim(x0, x0 + span)
    ax.set_ylim(y0, y0 + span)
    ax.set_aspect("equal", adjustable="box")


def _draw_points(ax: Axes, x: np.ndarray, y: np.ndarray, mask: np.ndarray, colour: Any,
                 name: str | None, *, marker: str = "o") -> None:
    line, = ax.plot(x[mask], y[mask], marker, ms=3.5, color=colour, mec=colour, label=name)
    line.set_gid("data")
    if not mask.all():
        hollow, = ax.plot(x[~mask], y[~mask], marker, ms=3.5, mfc="none", mec=colour,
                          label="masked" if name is None else None)
        hollow.set_gid("masked")


def _legend(ax: Axes, **options: Any) -> None:
    if ax.get_legend_handles_labels()[1]:
        ax.legend(frameon=False, fontsize="small", **options)


# -- Bode --------------------------------------------------------------------------------------

def plot_bode(data: Any, *, fit: Any = None, ax: Any = None) -> Figure:
    """|Z| [Ω] and −phase [°] against frequency, on log frequency and |Z| axes.

    A new figure has two panels sharing the frequency axis, |Z| above; ``ax`` may be one
    Axes (|Z| on it, −phase as squares on a twin axis at the right) or a pair of Axes.
    ``data`` and ``fit`` are as in ``plot_nyquist``.
    """
    items = _items(data, "data")
    fits = _fits(fit, items)
    labels = _labels(None, items)
    mag_ax, phase_ax, twin = _bode_axes(ax)
    marker = "s" if twin else "o"
    for item, f, name, colour in zip(items, fits, labels, _colours(len(items)), strict=True):
        freq, z, mask = _points(item)
        if name is None and f is not None and len(items) == 1:
            name = "data"
        _draw_points(mag_ax, freq, np.abs(z), mask, colour, name)
        _draw_points(phase_ax, freq, -np.degrees(np.angle(z)), mask, colour, None, marker=marker)
        if f is not None:
            f_fit, z_fit = _fit_curve(f)
            for target, y in ((mag_ax, np.abs(z_fit)), (phase_ax, -np.degrees(np.angle(z_fit)))):
                line, = target.plot(f_fit, y, "-" if target is mag_ax or not twin else "--",
                                    color=_FIT_COLOUR if len(items) == 1 else colour, lw=1.2,
                                    label="fit" if len(items) == 1 and target is mag_ax else None)
                line.set_gid("fit")
    for target in (mag_ax, phase_ax):
        target.set_xscale("log")
        target.minorticks_on()
        target.tick_params(which="both", direction="in", top=True, right=not twin)
        target.set_xlabel("frequency [Hz]")
    mag_ax.set_yscale("log")
    mag_ax.set_ylabel("|Z| [Ω]")
    phase_ax.set_ylabel("−phase [°]")
    if ax is None:
        mag_ax.set_xlabel("")  # the panels share the axis; the lower one names it
    _legend(mag_ax)
    return mag_ax.figure


def _bode_axes(ax: Any) -> tuple[Axes, Axes, bool]:
    """(|Z| axes, phase axes, whether the phase is on a twin of the |Z| axes)."""
    mpl = _mpl()
    if ax is None:
        fig = _new_figure(_SINGLE_WIDTH_IN, 4.2)
        mag_ax, phase_ax = fig.subplots(2, 1, sharex=True)
        return mag_ax, phase_ax, False
    if isinstance(ax, mpl.axes.Axes):
        return ax, ax.twinx(), True
    pair = list(ax) if isinstance(ax, Sequence) else []
    if len(pair) != 2 or not all(isinstance(a, mpl.axes.Axes) for a in pair):
        raise InputError(f"must be a matplotlib Axes or a pair of them, got {type(ax).__name__}",
                         source="ax")
    return pair[0], pair[1], False


# -- residuals ---------------------------------------------------------------------------------

def plot_residuals(result: Any, *, ax: Any = None) -> Figure:
    """Relative residuals ΔZ'/|Z| and ΔZ''/|Z| [%] against frequency.

    ``result`` is a FitResult or a KramersKronigResult; for the latter the ±noise band
    (rms residual per part) is shaded (gid ``"noise band"``) and the legend gives M, μ and
    the verdict. The y axis is symmetric about zero.
    """
    if isinstance(result, KramersKronigResult):
        real, imag = result.residual_real, result.residual_imag
        noise = result.noise.value if math.isfinite(result.noise.value) else None
        title = (f"lin-KK, M = {result.m}, μ = {result.mu:.2f}, "
                 f"{'valid' if result.valid else 'not valid'}")
    elif isinstance(result, FitResult):
        real, imag, noise, title = result.residuals_real, result.residuals_imag, None, None
    else:
        raise InputError(f"must be a FitResult or a KramersKronigResult, got {type(result).__name__}",
                         source="result")
    target = _target(ax, _SINGLE_WIDTH_IN, 2.4)
    freq = result.frequency
    target.axhline(0.0, color="0.5", lw=0.8)
    largest = float(np.max(np.abs(np.r_[real, imag]))) * 100.0
    if noise is not None:
        band = target.axhspan(-noise, noise, color="0.85", lw=0, label=f"±{noise:.2g} % noise")
        band.set_gid("noise band")
        largest = max(largest, noise)
    for values, name, marker, colour in ((real, "Z'", "o", "C0"), (imag, "Z''", "s", "C3")):
        line, = target.plot(freq, 100.0 * values, marker + "-", ms=3, lw=0.8, color=colour, label=name)
        line.set_gid(f"residual {name}")
    limit = 1.15 * largest if largest > 0 else 1.0
    target.set_ylim(-limit, limit)
    target.set_xscale("log")
    target.set_xlabel("frequency [Hz]")
    target.set_ylabel("residual [% of |Z|]")
    _style(target)
    _legend(target, ncols=3, title=title, title_fontsize="small")
    return target.figure


# -- Arrhenius ---------------------------------------------------------------------------------

def plot_arrhenius(result: Any, *, ax: Any = None) -> Figure:
    """log₁₀(σT) (or log₁₀ σ, as fitted) against 1000/T [1/K], with the fitted line.

    Error bars show the conductivities' standard errors when the fit had them; the legend
    gives Ea ± its standard error; a top axis reads the temperature in °C. The line's
    slope is −Ea/(k_B·ln 10·1000) per unit of 1000/T.
    """
    if not isinstance(result, ArrheniusResult):
        raise InputError(f"must be an ArrheniusResult, got {type(result).__name__}", source="result")
    target = _target(ax, _SINGLE_WIDTH_IN, 3.0)
    t = np.asarray(result.temperature_K)
    sigma = np.asarray(result.conductivity)
    sigma_t = result.form == "sigmaT"
    y = np.log10(sigma * t if sigma_t else sigma)
    x = 1000.0 / t
    if result.conductivity_stderr is not None:
        # δ log₁₀(σT) = δσ/(σ ln 10): T is taken as exact
        err = np.asarray(result.conductivity_stderr) / (sigma * math.log(10))
        bars = target.errorbar(x, y, yerr=err, fmt="o", ms=4, color="C0", capsize=2, label="data")
        bars.lines[0].set_gid("data")
    else:
        line, = target.plot(x, y, "o", ms=4, color="C0", label="data")
        line.set_gid("data")
    t_line = np.linspace(t.min(), t.max(), 100)
    predicted = result.predict(t_line)
    y_line = np.log10(predicted * t_line if sigma_t else predicted)
    ea = result.activation_energy
    text = (f"Ea = {ea.value:.3f} eV" if not math.isfinite(ea.stderr)
            else f"Ea = {ea.value:.3f} ± {ea.stderr:.3f} eV")
    fitted, = target.plot(1000.0 / t_line, y_line, "-", color="C3", lw=1.2, label=text)
    fitted.set_gid("fit")
    target.set_xlabel("1000/T [1/K]")
    target.set_ylabel("log₁₀(σT [S·K/cm])" if sigma_t else "log₁₀(σ [S/cm])")
    target.tick_params(which="both", direction="in", right=True)
    target.minorticks_on()
    top = target.secondary_xaxis("top", functions=(_inverse_kilo_kelvin_to_celsius,
                                                   _celsius_to_inverse_kilo_kelvin))
    top.set_xlabel("temperature [°C]")
    top.tick_params(which="both", direction="in")
    _legend(target)
    return target.figure


def _inverse_kilo_kelvin_to_celsius(x: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1000.0 / np.asarray(x, dtype=float) - 273.15


def _celsius_to_inverse_kilo_kelvin(c: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1000.0 / (np.asarray(c, dtype=float) + 273.15)


# -- fit summary -------------------------------------------------------------------------------

def plot_fit(fit: Any) -> Figure:
    """Two panels: the Nyquist plot with the fitted curve, and its residuals below."""
    if not isinstance(fit, FitResult):
        raise InputError(f"must be a FitResult, got {type(fit).__name__}", source="fit")
    fig = _new_figure(_SINGLE_WIDTH_IN, 5.2)
    top, bottom = fig.subplots(2, 1, height_ratios=(2.2, 1.0))
    plot_nyquist(fit, ax=top)
    plot_residuals(fit, ax=bottom)
    return fig


# -- DRT ---------------------------------------------------------------------------------------

_MAP_TICKS = 8  # most tick labels on a map whose columns are in measurement order
_LEGEND_ENTRIES = 6  # a longer series names only its first and last curve


def _drt_items(data: Any, name: str) -> tuple[list[DRTResult], DRTSeries | None]:
    """``data`` as a non-empty list of DRTResults, with the series it came from (if any)."""
    if isinstance(data, DRTSeries):
        return list(data.results), data
    if isinstance(data, DRTResult):
        return [data], None
    items = list(data) if isinstance(data, Sequence) and not isinstance(data, str) else None
    if not items:
        raise InputError(f"must be a DRTResult, a DRTSeries or a list of DRTResults, got "
                         f"{type(data).__name__ if items is None else 'an empty list'}", source=name)
    for i, item in enumerate(items):
        if not isinstance(item, DRTResult):
            raise InputError(f"item {i} is a {type(item).__name__}, not a DRTResult", source=name)
    return items, None


def _series_label(series: DRTSeries, label: Any) -> tuple[str, np.ndarray]:
    """The label's name and values: ``None`` is the series' first label, or the spectrum index."""
    if label is None:
        label = next(iter(series.labels), "index")
    if not isinstance(label, str):
        raise InputError(f"must be the name of a label of the series, got {type(label).__name__}",
                         source="label")
    if label in series.labels:
        return label, series.labels[label]
    if label == "index":
        return label, np.arange(len(series))
    names = ", ".join(["index", *series.labels])
    raise InputError(f"the series has no label {label!r}; it has {names}", source="label")


def _value_text(value: Any) -> str:
    return f"{float(value):g}" if isinstance(value, int | float | np.number) else str(value)


def _curve_labels(label: Any, items: list[DRTResult], series: DRTSeries | None) -> list[str | None]:
    """Legend entries: ``name = value`` of a series label, or texts given one per result."""
    if series is not None:
        if label is None and not series.labels:
            return [None] * len(items)
        name, values = _series_label(series, label)
        texts: list[str | None] = [f"{name} = {_value_text(v)}" for v in values]
        if len(texts) > _LEGEND_ENTRIES:  # the ordered colours carry the rest
            texts[1:-1] = [None] * (len(texts) - 2)
        return texts
    if label is None:
        return [None] * len(items)
    texts = [label] if isinstance(label, str) else (list(label) if isinstance(label, Sequence) else [])
    if len(texts) != len(items):
        raise InputError(f"must be a string or a list of {len(items)} labels, one per DRT", source="label")
    return [None if t is None else str(t) for t in texts]


def plot_drt(data: Any, *, ax: Any = None, label: Any = None, peaks: bool = True) -> Figure:
    """γ against τ on a log axis, in Ω (or mΩ, kΩ, … chosen from the data), peaks marked.

    ``data`` is a DRTResult, a list of them, or a DRTSeries (curves in an ordered colour
    sequence). ``label``: for results a text, or a list with one per result; for a series
    the name of the label whose values go in the legend (default: its first label; beyond
    six curves only the first and last are named, the ordered colours tell the rest). Curves
    are the fine-grid γ (gid ``"drt"``); ``peaks`` marks each peak (gid ``"peaks"``).
    """
    items, series = _drt_items(data, "data")
    names = _curve_labels(label, items, series)
    target = _target(ax, _SINGLE_WIDTH_IN, 2.8)
    largest = max(float(np.max(np.abs(r.gamma_fine))) for r in items)
    scale, unit = _ohm_scale(largest if largest > 0 else 1.0)
    lowest = 0.0
    for result, name, colour in zip(items, names, _colours(len(items)), strict=True):
        line, = target.plot(result.tau_fine, result.gamma_fine / scale, "-", lw=1.2, color=colour,
                            label=name)
        line.set_gid("drt")
        lowest = min(lowest, float(result.gamma_fine.min()) / scale)
        if peaks and result.peaks:
            marks, = target.plot([p.tau for p in result.peaks], [p.gamma / scale for p in result.peaks],
                                 "v", ms=4, mfc="none", mec=colour)
            marks.set_gid("peaks")
    target.set_xscale("log")
    target.set_xlabel("τ [s]")
    target.set_ylabel(f"γ [{unit}]")
    target.set_ylim(bottom=lowest)
    _style(target)
    _legend(target)
    return target.figure


def _map_columns(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(column edges on the x axis, the order of the spectra along it, whether x is the value).

    Numbers that rise or fall strictly are drawn at their values, each column reaching half
    way to its neighbours; anything else (a charge then a discharge over the state of
    charge, text labels) becomes equal columns in measurement order.
    """
    n = values.size
    numeric = values.dtype.kind in "iuf"
    if numeric and n >= 2:
        step = np.diff(values)
        if (step > 0).all() or (step < 0).all():
            order = np.argsort(values)
            v = values[order]
            mid = 0.5 * (v[1:] + v[:-1])
            return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]]), order, True
    if numeric and n == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5]), np.arange(1), True
    return np.arange(n + 1) - 0.5, np.arange(n), False


def _log_edges(tau: np.ndarray) -> np.ndarray:
    lt = np.log(tau)
    mid = 0.5 * (lt[1:] + lt[:-1])
    return np.exp(np.concatenate([[lt[0] - (mid[0] - lt[0])], mid, [lt[-1] + (lt[-1] - mid[-1])]]))


def plot_drt_map(series: Any, *, label: str | None = None, ax: Any = None, regions: Any = None) -> Figure:
    """A 2-D intensity map of a DRTSeries: x the label's value, y τ [s] (log), colour γ.

    ``label`` names the label on the x axis (default: the series' first label, or the
    spectrum index). Values that rise or fall strictly are drawn to scale; otherwise (a
    charge then a discharge, text) the columns follow the measurement order and the ticks
    read the values. ``regions`` (name → (τ_min, τ_max) [s]) draws their bounds as dashed
    lines (gid ``"region bound"``) and their names at the right (gid ``"region label"``).
    The mesh has gid ``"map"``; the colour bar reads ``γ [Ω]`` (or a prefixed unit).
    """
    if not isinstance(series, DRTSeries):
        raise InputError(f"must be a DRTSeries, got {type(series).__name__}", source="series")
    name, values = _series_label(series, label)
    bounds = None if regions is None else check_regions(regions)
    target = _target(ax, 4.2, 3.2)
    edges, order, to_scale = _map_columns(values)
    gamma = series.matrix[order]
    largest = float(np.max(np.abs(gamma)))
    scale, unit = _ohm_scale(largest if largest > 0 else 1.0)
    y_edges = _log_edges(series.tau)
    mesh = target.pcolormesh(edges, y_edges, gamma.T / scale, shading="flat", cmap="viridis",
                             vmin=min(0.0, float(gamma.min()) / scale), rasterized=True)
    mesh.set_gid("map")
    target.figure.colorbar(mesh, ax=target, label=f"γ [{unit}]")
    target.set_yscale("log")
    target.set_ylim(y_edges[0], y_edges[-1])
    target.set_xlim(edges[0], edges[-1])
    target.set_ylabel("τ [s]")
    target.tick_params(which="both", direction="out")
    if to_scale:
        target.set_xlabel(name)
    else:
        target.set_xlabel(f"{name} (in measurement order)")
        picked = np.unique(np.linspace(0, values.size - 1, min(values.size, _MAP_TICKS)).round().astype(int))
        target.set_xticks(picked, [_value_text(values[i]) for i in picked])
        target.minorticks_off()
    if bounds:
        _draw_regions(target, bounds, y_edges)
    return target.figure


def _draw_regions(ax: Axes, bounds: dict[str, tuple[float, float]], y_edges: np.ndarray) -> None:
    lo_edge, hi_edge = float(y_edges[0]), float(y_edges[-1])
    for tau in sorted({t for pair in bounds.values() for t in pair}):
        if lo_edge < tau < hi_edge:
            line = ax.axhline(tau, color="white", lw=0.8, ls="--")
            line.set_gid("region bound")
    for name, (lo, hi) in bounds.items():
        lo, hi = max(lo, lo_edge), min(hi, hi_edge)
        if lo >= hi:  # outside the measured τ range
            continue
        text = ax.text(0.98, math.sqrt(lo * hi), name, transform=ax.get_yaxis_transform(), ha="right",
                       va="center", color="white", fontsize="x-small")
        text.set_gid("region label")


def plot_drt_stack(data: Any, *, label: str | None = None, offset: float | None = None,
                   ax: Any = None) -> Figure:
    """DRTs stacked bottom to top in measurement order, each raised by ``offset`` [Ohm].

    ``data`` is a DRTSeries or a list of DRTResults (put on one τ grid). Each curve (gid
    ``"drt"``) sits on its own dotted baseline (gid ``"baseline"``) and is named at the
    right, outside the axes (gid ``"stack label"``), by ``label`` = value (default: the
    series' first label, or the spectrum index). ``offset`` defaults to 0.6 × the largest γ.
    """
    items, series = _drt_items(data, "data")
    if series is None:
        series = DRTSeries(results=tuple(items))
    name, values = _series_label(series, label)
    gamma = series.matrix
    largest = float(np.max(np.abs(gamma)))
    if offset is None:
        step = 0.6 * largest if largest > 0 else 1.0
    else:
        step = non_negative("offset", offset)
    scale, unit = _ohm_scale(largest if largest > 0 else 1.0)
    target = _target(ax, _SINGLE_WIDTH_IN, min(2.2 + 0.3 * len(series), 8.0))
    tau = series.tau
    for k, (row, colour) in enumerate(zip(gamma, _colours(len(series)), strict=True)):
        base = k * step / scale
        baseline = target.axhline(base, color="0.75", lw=0.6, ls=":")
        baseline.set_gid("baseline")
        line, = target.plot(tau, row / scale + base, "-", lw=1.1, color=colour)
        line.set_gid("drt")
        text = target.text(1.02, base, f"{name} = {_value_text(values[k])}", ha="left", va="center",
                           color=colour, fontsize="x-small", transform=target.get_yaxis_transform())
        text.set_gid("stack label")
    target.set_xscale("log")
    target.set_xlim(tau[0], tau[-1])
    target.set_xlabel("τ [s]")
    target.set_ylabel(f"γ + offset [{unit}]")
    _style(target)
    return target.figure


# -- saving ------------------------------------------------------------------------------------

def save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` (.png at 300 dpi, .pdf or .svg, from the suffix), atomically.

    The figure goes to a hidden temporary file in the same folder, renamed over ``path``
    only once complete; on any error the temporary file is removed and an existing file at
    ``path`` is left as it was. PDF and SVG carry no date, so they are reproducible.
    """
    mpl = _mpl()
    target = Path(path)
    if not isinstance(fig, mpl.figure.Figure):
        raise InputError(f"must be a matplotlib Figure, got {type(fig).__name__}", source="fig")
    fmt = target.suffix.lower()
    if fmt not in FORMATS:
        raise InputError(f"unknown figure format {target.suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(FORMATS)}", source=target)
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"folder {str(folder)!r} does not exist", source=target)
    temporary = folder / f".{target.name}.{secrets.token_hex(8)}.tmp"
    metadata = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}}.get(fmt)
    try:
        with mpl.rc_context({"svg.hashsalt": "ssbkit"}), open(temporary, "xb") as handle:
            fig.savefig(handle, format=fmt[1:], dpi=_PNG_DPI, metadata=metadata)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
