"""Figures of cycling results: capacity and CE per cycle, voltage profiles, dQ/dV, rates.

Every function returns a ``matplotlib.figure.Figure`` drawn on the Agg canvas, or draws
into an ``Axes`` passed as ``ax=`` and returns its figure; nothing is shown and ``pyplot``
is never imported, so the functions work on headless machines, in threads and in batch
jobs. matplotlib is imported only when a function is called. Axis labels read
``name [unit]``; a series of cycles is coloured in cycle order (viridis), and beyond six
cycles the legend names only the first and the last (the colours tell the rest). Lines
carry gids (``"charge"``, ``"discharge"``, ``"ce"``, ``"peaks"`` …) so programs and tests
can find them. Save a figure atomically with ``ssbkit.eis.plot.save_figure`` or with
``fig.savefig``.

Why written here: the peers' plotting helpers (navani, cellpy) call ``pyplot`` and draw
their own data frames; these draw ssbkit's records and results.

>>> from ssbkit.cycling.simulate import simulate_cycling
>>> from ssbkit.cycling.summary import summarize_cycles
>>> fig = plot_capacity(summarize_cycles(simulate_cycling(n_cycles=3, capacity_mah=4.8)))
>>> [ax.get_ylabel() for ax in fig.axes]
['capacity [mAh]', 'coulombic efficiency [%]']
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.plotting import matplotlib_package as _mpl
from ssbkit.core.plotting import target_axes
from ssbkit.core.validate import finite, one_of, positive
from ssbkit.cycling.cycles import CONVENTIONS
from ssbkit.cycling.data import CYCLE, CyclingRecord
from ssbkit.cycling.dqdv import DQDVResult, _chosen_cycles, _half_cycles
from ssbkit.cycling.rate import RateResult
from ssbkit.cycling.steps import StepTable, find_steps
from ssbkit.cycling.summary import CycleSummary

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_capacity", "plot_dqdv", "plot_peak_tracks", "plot_rate",
           "plot_voltage_profiles"]

_WIDTH_IN = 3.5  # one journal column
_LEGEND_ENTRIES = 6
_DEFAULT_PROFILES = 6  # cycles drawn when none are named and the record has more




def _target(ax: Any, height: float = 2.8) -> Axes:
    return target_axes(ax, _WIDTH_IN, height)


def _style(ax: Axes, right: bool = True) -> None:
    ax.tick_params(which="both", direction="in", top=True, right=right)
    ax.minorticks_on()


def _legend(ax: Axes, **options: Any) -> None:
    if ax.get_legend_handles_labels()[1]:
        ax.legend(frameon=False, fontsize="small", **options)


def _cycle_colours(cycles: Iterable[int]) -> dict[int, Any]:
    ordered = sorted(set(int(c) for c in cycles))
    if len(ordered) == 1:
        return {ordered[0]: "C0"}
    cmap = _mpl().colormaps["viridis"]
    return {c: cmap(x) for c, x in zip(ordered, np.linspace(0.0, 0.85, len(ordered)), strict=True)}


def _cycle_names(cycles: Iterable[int]) -> dict[int, str | None]:
    ordered = sorted(set(int(c) for c in cycles))
    named = ordered if len(ordered) <= _LEGEND_ENTRIES else [ordered[0], ordered[-1]]
    return {c: (f"cycle {c}" if c in named else None) for c in ordered}


# -- capacity and CE ---------------------------------------------------------------------------

def plot_capacity(summary: Any, *, specific: bool | None = None, ax: Any = None) -> Figure:
    """Discharge (filled) and charge (hollow) capacity against cycle; CE on a twin axis.

    ``specific``: capacities per gram of active mass (default: when the summary has a
    mass); absolute [mAh] otherwise. Lines have gids ``"discharge"``, ``"charge"`` and
    ``"ce"``; the CE is on the right-hand axis (the figure's second Axes).
    """
    if not isinstance(summary, CycleSummary):
        raise InputError(f"must be a CycleSummary, got {type(summary).__name__}", source="summary")
    has_mass = "specific_discharge" in summary.cycles
    if specific is None:
        specific = has_mass
    elif specific and not has_mass:
        raise InputError("the summary has no active mass, so no specific capacity; summarise "
                         "with active_mass_mg", source="specific")
    target = _target(ax)
    cycle = summary.cycles["cycle"]
    prefix = "specific_" if specific else ""
    for key, style, gid in (("discharge", dict(mfc="C0"), "discharge"),
                            ("charge", dict(mfc="none"), "charge")):
        values = summary.cycles[prefix + key]
        shown = values > 0
        line, = target.plot(cycle[shown], values[shown], "o", ms=3.5, mec="C0", color="C0",
                            label=key, **style)
        line.set_gid(gid)
    target.set_xlabel("cycle")
    target.set_ylabel("specific capacity [mAh/g]" if specific else "capacity [mAh]")
    target.set_ylim(bottom=0)
    _style(target, right=False)
    twin = target.twinx()
    ce = summary.cycles["ce"]
    line, = twin.plot(cycle, ce, "s", ms=2.5, color="C3", label="CE")
    line.set_gid("ce")
    twin.set_ylabel("coulombic efficiency [%]")
    twin.tick_params(which="both", direction="in", colors="C3")
    twin.yaxis.label.set_color("C3")
    finite_ce = ce[np.isfinite(ce)]
    if finite_ce.size:
        low, high = float(finite_ce.min()), float(finite_ce.max())
        twin.set_ylim(min(low, 90.0) - 1.0, max(high, 100.0) + 1.0)
    handles = [h for a in (target, twin) for h in a.get_legend_handles_labels()[0]]
    target.legend(handles=handles, frameon=False, fontsize="small", loc="lower left")
    return target.figure


# -- voltage profiles --------------------------------------------------------------------------

def plot_voltage_profiles(record: Any, *, cycles: int | Iterable[int] | None = None,
                          convention: str = "charge-first", active_mass_mg: float | None = None,
                          reference_offset_v: float = 0.0, steps: StepTable | None = None,
                          ax: Any = None) -> Figure:
    """Voltage against the capacity passed since the start of each half-cycle.

    One line per half-cycle (gid ``"charge"`` solid or ``"discharge"`` dashed), both in the
    cycle's colour; CV parts included (they run vertical at the cut-off). ``cycles``
    defaults to all of them up to six, else six spread from the first to the last.
    ``active_mass_mg`` gives specific capacity [mAh/g] (default: the mass the file
    stores); ``reference_offset_v`` is added to the voltage (e.g. +0.62 V for Li–In cells
    on the Li/Li⁺ scale).
    """
    if not isinstance(record, CyclingRecord):
        raise InputError(f"must be a CyclingRecord, got {type(record).__name__}", source="record")
    convention = one_of("convention", convention, CONVENTIONS)
    if convention == "native" and not record.has(CYCLE):
        raise InputError(f"the 'native' convention needs the instrument's cycle column "
                         f"({CYCLE!r}), which this file lacks", source=record.source or "convention")
    offset = finite("reference_offset_v", reference_offset_v)
    mass = None
    if active_mass_mg is not None:
        mass = positive("active_mass_mg", active_mass_mg)
    else:
        stored = record.metadata.get("active_mass_mg")
        if isinstance(stored, int | float) and math.isfinite(stored) and stored > 0:
            mass = float(stored)
    steps = find_steps(record) if steps is None else steps
    halves = _half_cycles(record, steps, convention)
    there = np.array(sorted({h.cycle for h in halves}), np.int64)
    if cycles is None and there.size > _DEFAULT_PROFILES:
        picks = np.unique(np.round(np.linspace(0, there.size - 1, _DEFAULT_PROFILES)).astype(int))
        wanted = {int(there[k]) for k in picks}
    else:
        wanted = _chosen_cycles(cycles, there, record.source or "the record")
    target = _target(ax)
    colours, names = _cycle_colours(wanted), _cycle_names(wanted)
    voltage = record.voltage.astype(float) + offset
    scale = 1e3 / (mass * 1e-3) if mass is not None else 1e3
    for half in halves:
        if half.cycle not in wanted:
            continue
        charge = half.direction > 0
        q = np.cumsum(half.charge_ah) * scale
        line, = target.plot(q, voltage[half.rows], "-" if charge else "--", lw=1.0,
                            color=colours[half.cycle], label=names[half.cycle] if charge else None)
        line.set_gid("charge" if charge else "discharge")
        if not charge and not any(h.cycle == half.cycle and h.direction > 0 for h in halves):
            line.set_label(names[half.cycle])
    target.set_xlabel("specific capacity [mAh/g]" if mass is not None else "capacity [mAh]")
    target.set_ylabel("voltage [V]")
    target.set_xlim(left=0)
    _style(target)
    _legend(target)
    return target.figure


# -- dQ/dV -------------------------------------------------------------------------------------

def plot_dqdv(result: Any, *, signed: bool = True, peaks: bool = True, ax: Any = None) -> Figure:
    """dQ/dV against voltage, one line per half-cycle coloured by cycle, peaks marked.

    With ``signed`` (default) discharge curves are drawn below zero, as dQ/dV plots
    usually show them (the charge leaves the cell); the result itself holds magnitudes.
    Lines have gids ``"charge"``/``"discharge"``, peak markers ``"peaks"``.
    """
    if not isinstance(result, DQDVResult):
        raise InputError(f"must be a DQDVResult, got {type(result).__name__}", source="result")
    target = _target(ax)
    cycles = {c.cycle for c in result.curves}
    colours, names = _cycle_colours(cycles or {1}), _cycle_names(cycles or {1})
    labelled: set[int] = set()
    for curve in result.curves:
        sign = -1.0 if signed and curve.direction == "discharge" else 1.0
        name = names[curve.cycle] if curve.cycle not in labelled else None
        labelled.add(curve.cycle)
        line, = target.plot(curve.voltage, sign * curve.dqdv, "-", lw=1.0,
                            color=colours[curve.cycle], label=name)
        line.set_gid(curve.direction)
        mine = [p for p in result.peaks if p.cycle == curve.cycle and p.direction == curve.direction]
        if peaks and mine:
            marks, = target.plot([p.potential.value for p in mine],
                                 [sign * p.height.value for p in mine], "v" if sign > 0 else "^",
                                 ms=4, mfc="none", mec=colours[curve.cycle])
            marks.set_gid("peaks")
    if signed and any(c.direction == "discharge" for c in result.curves):
        target.axhline(0.0, color="0.6", lw=0.6)
    target.set_xlabel("voltage [V]")
    target.set_ylabel(f"dQ/dV [{result.unit}]")
    _style(target)
    _legend(target)
    return target.figure


def plot_peak_tracks(result: Any, *, ax: Any = None) -> Figure:
    """Each tracked dQ/dV peak's potential against cycle (gid ``"track <n>"``)."""
    if not isinstance(result, DQDVResult):
        raise InputError(f"must be a DQDVResult, got {type(result).__name__}", source="result")
    target = _target(ax)
    for k, track in enumerate(result.tracks):
        line, = target.plot(track.cycles, track.potential_v, "o-" if track.direction == "charge"
                            else "s--", ms=3.5, lw=0.8, color=f"C{k % 10}",
                            label=f"{track.track} ({track.direction})")
        line.set_gid(f"track {track.track}")
    target.set_xlabel("cycle")
    target.set_ylabel("peak potential [V]")
    _style(target)
    _legend(target)
    return target.figure


# -- rate capability ---------------------------------------------------------------------------

def plot_rate(rate_result: Any, *, specific: bool | None = None, ax: Any = None) -> Figure:
    """Discharge capacity of each cycle, coloured by rate block, each block labelled by rate.

    Cycles come from the result's summary (gid ``"block <n>"`` per block); each block's
    rate ("0.1C", or its current without a C-rate) is written above it. The y axis is
    ``capacity [mAh]``, or ``specific capacity [mAh/g]`` with ``specific`` (default: when
    the summary has a mass).
    """
    if not isinstance(rate_result, RateResult):
        raise InputError(f"must be a RateResult, got {type(rate_result).__name__}",
                         source="rate_result")
    summary = rate_result.summary
    if summary is None:
        raise InputError("the rate result carries no summary to draw cycles from",
                         source="rate_result")
    has_mass = "specific_discharge" in summary.cycles
    if specific is None:
        specific = has_mass
    elif specific and not has_mass:
        raise InputError("the summary has no active mass, so no specific capacity",
                         source="specific")
    target = _target(ax)
    cycle = summary.cycles["cycle"]
    capacity = summary.cycles["specific_discharge" if specific else "discharge"]
    blocks = rate_result.blocks
    top = float(np.max(capacity)) if capacity.size else 1.0
    for j, text in enumerate(rate_result.labels()):
        first, last = int(blocks["first_cycle"][j]), int(blocks["last_cycle"][j])
        members = (cycle >= first) & (cycle <= last)
        line, = target.plot(cycle[members], capacity[members], "o", ms=3.5, color=f"C{j % 10}")
        line.set_gid(f"block {j + 1}")
        middle = 0.5 * (first + last)
        height = float(np.max(capacity[members])) if members.any() else 0.0
        target.annotate(text, (middle, height), xytext=(0, 4), textcoords="offset points",
                        ha="center", va="bottom", fontsize="small")
    target.set_xlabel("cycle")
    target.set_ylabel("specific capacity [mAh/g]" if specific else "capacity [mAh]")
    target.set_ylim(0, 1.15 * top if top > 0 else 1.0)
    _style(target)
    return target.figure
