"""Figures of powder diffraction: a pattern, a refinement (observed, calculated, difference and
reflection ticks), a Williamson–Hall plot and a phase identification.

Every function returns a ``matplotlib.figure.Figure`` on the Agg canvas; ``pyplot`` is never
imported and nothing is shown, so the functions run on headless machines, in threads and in
batch jobs. matplotlib is the optional extra ``plot``, imported when a function is called.
Save a figure atomically with ``ssbkit.eis.plot.save_figure`` or with ``fig.savefig``.

Style: 2θ [deg] on the x axis, intensity [counts]; the observed pattern as small points, the
calculated one as a line, the difference (observed − calculated) in a panel below on the same
scale, and one row of tick marks per phase between them, in the phase's colour, labelled with
its weight fraction. Lines and collections carry gids (``"observed"``, ``"calculated"``,
``"background"``, ``"difference"``, ``"ticks:<phase>"``, ``"fit"``, ``"peaks"``,
``"unexplained"``) so tests and downstream code can find them.

>>> import numpy as np
>>> from ssbkit.xrd.data import Pattern
>>> x = np.arange(10.0, 80.0, 0.02)
>>> fig = plot_pattern(Pattern(x, 100 + 1000 * np.exp(-((x - 30) / 0.1) ** 2), wavelengths="CuKa"))
>>> ax = fig.axes[0]
>>> ax.get_xlabel(), ax.get_ylabel()
('2θ [deg]', 'intensity [counts]')
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.plotting import matplotlib_package as _mpl
from ssbkit.core.plotting import new_figure, target_axes
from ssbkit.xrd.data import Pattern

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_identification", "plot_pattern", "plot_refinement", "plot_williamson_hall"]

_SINGLE_WIDTH_IN = 3.5  # one journal column
_DOUBLE_WIDTH_IN = 7.0  # two columns: patterns need the width
_OBSERVED = "0.15"
_CALCULATED = "tab:red"
_DIFFERENCE = "tab:blue"
_BACKGROUND = "0.55"
_TWO_THETA = "2θ [deg]"
_INTENSITY = "intensity [counts]"




def _new_figure(width: float, height: float) -> Figure:
    return new_figure(width, height)


def _target(ax: Any, width: float, height: float) -> Axes:
    return target_axes(ax, width, height)


def _style(ax: Axes) -> None:
    ax.tick_params(which="both", direction="in", top=True, right=True)
    ax.minorticks_on()


_PHASE_COLOURS = ("tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink", "tab:olive", "tab:cyan",
                  "tab:gray")


def _colours(n: int) -> list[Any]:
    # never the observed (black), calculated (red) or difference (blue) colours
    return [_PHASE_COLOURS[i % len(_PHASE_COLOURS)] for i in range(n)]


# -- a pattern -------------------------------------------------------------------------------------

def plot_pattern(pattern: Pattern | Any, *, ax: Any = None, label: str | None = None, log: bool = False,
                 offset: float = 0.0) -> Figure:
    """Intensity against 2θ of one ``Pattern`` (or a list of them, stacked by ``offset`` counts).

    ``log`` draws the intensity on a log axis (weak impurity lines next to strong ones).
    """
    items = pattern if isinstance(pattern, list | tuple) else [pattern]
    if not items or not all(isinstance(p, Pattern) for p in items):
        raise InputError("must be a Pattern or a list of Patterns", source="pattern")
    ax = _target(ax, _DOUBLE_WIDTH_IN, 3.0)
    labels = [label] if isinstance(label, str) or label is None else list(label)
    for i, p in enumerate(items):
        name = labels[i] if i < len(labels) and labels[i] is not None else (p.source or None)
        shown = name if len(items) > 1 or label else None
        ax.plot(p.two_theta, p.intensity + i * offset, lw=0.8, label=shown, gid="observed")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(_TWO_THETA)
    ax.set_ylabel(_INTENSITY)
    ax.set_xlim(min(float(p.two_theta[0]) for p in items), max(float(p.two_theta[-1]) for p in items))
    if len(items) > 1 or label:
        ax.legend(frameon=False, fontsize="small")
    _style(ax)
    return ax.figure


# -- observed / calculated / difference with ticks -------------------------------------------------

def _three_panels(n_tick_rows: int) -> tuple[Figure, Axes, Axes, Axes]:
    fig = _new_figure(_DOUBLE_WIDTH_IN, 4.5)
    rows = max(n_tick_rows, 1)
    grid = fig.add_gridspec(3, 1, height_ratios=[4.0, 0.25 * rows + 0.1, 1.3], hspace=0.0)
    main = fig.add_subplot(grid[0])
    ticks = fig.add_subplot(grid[1], sharex=main)
    diff = fig.add_subplot(grid[2], sharex=main)
    for ax in (main, ticks):
        ax.tick_params(labelbottom=False)
    ticks.set_yticks([])
    for side in ("top", "bottom"):
        ticks.spines[side].set_visible(False)
    ticks.tick_params(which="both", bottom=False, top=False)
    return fig, main, ticks, diff


def _obs_calc(main: Axes, diff: Axes, x: np.ndarray, observed: np.ndarray, calculated: np.ndarray,
              background: np.ndarray | None) -> None:
    main.plot(x, observed, ls="none", marker=".", ms=1.5, color=_OBSERVED, label="observed", gid="observed")
    main.plot(x, calculated, lw=0.8, color=_CALCULATED, label="calculated", gid="calculated", zorder=3)
    if background is not None:
        main.plot(x, background, lw=0.6, color=_BACKGROUND, label="background", gid="background")
    diff.plot(x, observed - calculated, lw=0.6, color=_DIFFERENCE, gid="difference")
    diff.axhline(0.0, color="0.6", lw=0.5)
    # the difference on the same counts scale as the pattern, centred on zero
    span = float(np.ptp(observed - calculated)) or 1.0
    diff.set_ylim(-0.6 * span, 0.6 * span)
    main.set_ylabel(_INTENSITY)
    diff.set_ylabel("obs − calc")
    diff.set_xlabel(_TWO_THETA)
    main.set_xlim(float(x[0]), float(x[-1]))
    for ax in (main, diff):
        _style(ax)


def _tick_rows(ax: Axes, rows: list[tuple[str, str, np.ndarray, str]], lo: float, hi: float) -> list[Any]:
    """One row of ticks per phase (name, legend label, 2θ, colour), the first phase on top."""
    handles = []
    for i, (name, label, positions, colour) in enumerate(rows):
        inside = positions[(positions >= lo) & (positions <= hi)]
        y = len(rows) - 1 - i
        ax.vlines(inside, y + 0.15, y + 0.85, color=colour, lw=0.8, gid=f"ticks:{name}")
        handles.append(_mpl().lines.Line2D([], [], color=colour, marker="|", ls="none", ms=8, label=label))
    ax.set_ylim(0, max(len(rows), 1))
    return handles


def _fraction_label(name: str, fraction: Any) -> str:
    value = getattr(fraction, "value", math.nan)
    if not math.isfinite(value):
        return name
    stderr = getattr(fraction, "stderr", math.nan)
    return f"{name} {value:.1f}" + (f" ± {stderr:.1f}" if math.isfinite(stderr) else "") + " wt %"


def plot_refinement(result: Any) -> Figure:
    """Observed points, calculated line and background, reflection ticks of each phase (one row
    each, legend with its weight fraction) and the difference below; Rwp and GOF in the title.

    ``result`` is a refinement result (``ssbkit.xrd.refine.refine``): it needs ``two_theta``,
    ``observed``, ``calculated``, ``background``, ``phases`` (each with ``name``,
    ``weight_fraction`` and ``reflections["two_theta [deg]"]``), ``Rwp`` and ``GOF``.
    """
    needed = ("two_theta", "observed", "calculated", "phases", "Rwp")
    missing = [n for n in needed if not hasattr(result, n)]
    if missing:
        raise InputError(f"must be a refinement result; {type(result).__name__} has no {', '.join(missing)}",
                         source="result")
    x = np.asarray(result.two_theta, float)
    fig, main, tick_ax, diff = _three_panels(len(result.phases))
    _obs_calc(main, diff, x, np.asarray(result.observed, float), np.asarray(result.calculated, float),
              getattr(result, "background", None))
    rows = []
    for phase, colour in zip(result.phases, _colours(len(result.phases)), strict=True):
        table = phase.reflections
        positions = table["two_theta [deg]"] if "two_theta [deg]" in table else table["two_theta"]
        rows.append((phase.name, _fraction_label(phase.name, getattr(phase, "weight_fraction", None)),
                     np.asarray(positions, float), colour))
    handles = _tick_rows(tick_ax, rows, float(x[0]), float(x[-1]))
    main.legend(handles=[*main.get_legend_handles_labels()[0], *handles], frameon=False, fontsize="small",
                markerscale=1.0)
    gof = getattr(result, "GOF", math.nan)
    mode = getattr(result, "mode", "")
    main.set_title(f"{mode.capitalize() + ': ' if mode else ''}Rwp = {result.Rwp:.2f} %"
                   + (f", GOF = {gof:.2f}" if math.isfinite(gof) else ""), fontsize="medium")
    return fig


def plot_identification(result: Any) -> Figure:
    """The identification's fit: observed, calculated, each detected phase's own contribution
    (on the background), tick rows of the detected phases labelled with their weight
    fractions, picked peaks no phase explains marked with "?", and the difference below."""
    from ssbkit.xrd.identify import Identification

    if not isinstance(result, Identification):
        raise InputError(f"must be an Identification, got {type(result).__name__}", source="result")
    x = result.two_theta
    fig, main, tick_ax, diff = _three_panels(len(result.phases))
    _obs_calc(main, diff, x, result.observed, result.calculated, result.background)
    colours = _colours(len(result.phases))
    rows = []
    for match, colour in zip(result.phases, colours, strict=True):
        component = result.components.get(match.name)
        if component is not None:
            main.plot(x, result.background + component, lw=0.6, color=colour, alpha=0.8, zorder=2,
                      gid=f"component:{match.name}")
        positions = np.asarray(result.ticks.get(match.name, np.zeros(0)), float)
        rows.append((match.name, _fraction_label(match.name, match.weight_fraction), positions, colour))
    handles = _tick_rows(tick_ax, rows, float(x[0]), float(x[-1]))
    if result.unexplained_peaks.size:
        heights = np.interp(result.unexplained_peaks, x, result.observed)
        main.plot(result.unexplained_peaks, heights * 1.05, ls="none", marker="v", ms=4, color="k",
                  label="unexplained", gid="unexplained")
    main.legend(handles=[*main.get_legend_handles_labels()[0], *handles], frameon=False, fontsize="small")
    limits = [f"{m.name} < {m.detection_limit:.2g} %" for m in result.candidates
              if not m.detected and math.isfinite(m.detection_limit)]
    title = f"Rwp = {result.Rwp:.2f} %" + ("" if result.phases else "; no phase identified")
    main.set_title(title, fontsize="medium")
    if limits:
        main.text(0.99, 0.97, "not detected: " + ", ".join(limits[:6]), transform=main.transAxes, ha="right",
                  va="top", fontsize="x-small", color="0.3")
    return fig


# -- Williamson–Hall -------------------------------------------------------------------------------

def plot_williamson_hall(result: Any, *, ax: Any = None) -> Figure:
    """β·cosθ [10⁻³ rad] against 4·sinθ with error bars and the fitted line; size and strain in
    the legend. ``result`` is a ``SizeStrainResult`` or a ``WilliamsonHallResult``."""
    from ssbkit.xrd.sizestrain import SizeStrainResult, WilliamsonHallResult

    wh = result.williamson_hall if isinstance(result, SizeStrainResult) else result
    if not isinstance(wh, WilliamsonHallResult):
        what = "a SizeStrainResult without a Williamson–Hall line (fewer than 2 peaks)" if isinstance(
            result, SizeStrainResult) else type(result).__name__
        raise InputError(f"must be a SizeStrainResult or a WilliamsonHallResult, got {what}", source="result")
    ax = _target(ax, _SINGLE_WIDTH_IN, 2.8)
    scale = 1e3
    err = np.where(np.isfinite(wh.y_stderr), wh.y_stderr, 0.0) * scale
    ax.errorbar(wh.x, wh.y * scale, yerr=err, ls="none", marker="o", ms=3.5, color="k", capsize=2,
                gid="peaks")
    grid = np.linspace(0.0, max(float(wh.x.max()) * 1.05, 1e-6), 50)
    size = wh.size
    size_text = f"L = {size.value:.1f} ± {size.stderr:.1f} nm" if math.isfinite(size.value) else \
        f"L > {wh.size_lower_limit:.0f} nm"
    strain_text = f"ε = {wh.strain.value:.3f} ± {wh.strain.stderr:.3f} %"
    ax.plot(grid, (wh.intercept.value + wh.slope.value * grid) * scale, color=_CALCULATED, lw=1.0, gid="fit",
            label=f"{size_text}\n{strain_text}\nR² = {wh.r_squared:.3f}")
    ax.set_xlim(0.0, float(grid[-1]))
    ax.set_ylim(bottom=min(0.0, float(np.min(wh.y * scale - err)), wh.intercept.value * scale))
    ax.set_xlabel("4 sin θ")
    ax.set_ylabel("β cos θ [10⁻³ rad]")
    ax.legend(frameon=False, fontsize="small", loc="upper left",
              title=f"{'FWHM' if wh.breadth == 'fwhm' else 'integral breadth'}, K = {wh.K:g}",
              title_fontsize="small")
    _style(ax)
    return ax.figure
