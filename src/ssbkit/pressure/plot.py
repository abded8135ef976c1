"""Figures of stack pressure: pressure and voltage against time, per-cycle pressure against cycle.

Every function returns a ``matplotlib.figure.Figure`` on the Agg canvas (or draws into an
``Axes`` given as ``ax=`` and returns its figure); ``pyplot`` is never imported and
nothing is shown, so the functions run on headless machines and in batch jobs. matplotlib
is the optional extra ``plot``, imported when a function is called.

>>> import numpy as np
>>> from ssbkit.cycling.data import CyclingRecord
>>> from ssbkit.pressure.data import PressureLog
>>> t = np.array([0.0, 3600, 3600, 7200])
>>> rec = CyclingRecord.from_columns({"Test Time / s": t, "Voltage / V": [2.0, 2.5, 2.5, 1.5],
...     "Current / A": [1e-3, 1e-3, -1e-3, -1e-3], "Unix Time / s": 1.7e9 + t})
>>> log = PressureLog(1.7e9 + np.arange(0, 7201, 600.0), np.linspace(10, 10.2, 13))
>>> fig = plot_pressure(log, rec)
>>> [ax.get_ylabel() for ax in fig.axes]
['pressure [MPa]', 'voltage [V]']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.plotting import new_figure, target_axes
from ssbkit.core.validate import finite
from ssbkit.cycling.data import CyclingRecord
from ssbkit.pressure.analysis import PressureResult
from ssbkit.pressure.data import PressureLog

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_cycle_pressure", "plot_pressure", "plot_pressure_analysis"]

_WIDTH_IN = 3.5  # one journal column
_PRESSURE_COLOUR = "tab:red"
_VOLTAGE_COLOUR = "tab:blue"




def _new_figure(width: float, height: float) -> Figure:
    return new_figure(width, height)


def _target(ax: Any, width: float = _WIDTH_IN, height: float = 2.8) -> Axes:
    return target_axes(ax, width, height)


def plot_pressure(log: PressureLog, record: CyclingRecord, *, offset_s: float = 0.0,
                  ax: Axes | None = None) -> Figure:
    """Pressure (left axis) and cell voltage (right axis) against hours since the record began.

    The log's times are shifted by ``offset_s`` as in ``analyze_pressure``; samples outside
    the record are drawn too (the voltage trace shows where the record is).
    """
    from ssbkit.cycling.events import absolute_time

    if not isinstance(log, PressureLog):
        raise InputError(f"must be a PressureLog, got {type(log).__name__}", source="log")
    if not isinstance(record, CyclingRecord):
        raise InputError(f"must be a CyclingRecord, got {type(record).__name__}", source="record")
    offset_s = finite("offset_s", offset_s)
    absolute = absolute_time(record)
    origin = absolute[0]
    axes = _target(ax)
    axes.plot((log.unix_time + offset_s - origin) / 3600.0, log.pressure, color=_PRESSURE_COLOUR,
              lw=0.8, label="pressure")
    axes.set_xlabel("time [h]")
    axes.set_ylabel("pressure [MPa]", color=_PRESSURE_COLOUR)
    axes.tick_params(axis="y", colors=_PRESSURE_COLOUR)
    twin = axes.twinx()
    twin.plot((absolute - origin) / 3600.0, record.voltage, color=_VOLTAGE_COLOUR, lw=0.6,
              label="voltage")
    twin.set_ylabel("voltage [V]", color=_VOLTAGE_COLOUR)
    twin.tick_params(axis="y", colors=_VOLTAGE_COLOUR)
    return axes.figure


def plot_cycle_pressure(result: PressureResult, *, ax: Axes | None = None) -> Figure:
    """Per-cycle maximum and minimum pressure against cycle, with the fitted baseline line.

    Cycles the log does not cover from start to end are drawn hollow (they are not fitted).
    """
    if not isinstance(result, PressureResult):
        raise InputError(f"must be a PressureResult, got {type(result).__name__}", source="result")
    axes = _target(ax)
    table = result.cycles
    cycle = table["cycle"].to_numpy(float)
    complete = table["complete"].to_numpy(bool)
    for column, marker, name in (("max pressure [MPa]", "^", "max"), ("min pressure [MPa]", "v", "min")):
        values = table[column].to_numpy(float)
        line = axes.plot(cycle[complete], values[complete], marker=marker, ls="-", lw=0.8, ms=4,
                         label=name)[0]
        if (~complete).any():
            axes.plot(cycle[~complete], values[~complete], marker=marker, ls="none", ms=4,
                      mfc="none", color=line.get_color())
    rate, initial = result.growth_rate.value, result.initial_pressure.value
    if np.isfinite(rate) and np.isfinite(initial) and complete.any():
        first = cycle[complete][0]
        x = np.array([first, cycle[complete][-1]])
        axes.plot(x, initial + rate * (x - first), color="0.3", ls="--", lw=0.8,
                  label=f"{result.baseline}: {result.growth_per_cycle.value:.2f} %/cycle")
    axes.set_xlabel("cycle")
    axes.set_ylabel("pressure [MPa]")
    axes.legend(frameon=False, fontsize="small")
    return axes.figure


def plot_pressure_analysis(log: PressureLog, record: CyclingRecord, result: PressureResult) -> Figure:
    """Both figures stacked: pressure and voltage against time, per-cycle pressure against cycle."""
    fig = _new_figure(_WIDTH_IN * 1.6, 5.2)
    top, bottom = fig.subplots(2, 1)
    plot_pressure(log, record, offset_s=result.offset_s, ax=top)
    plot_cycle_pressure(result, ax=bottom)
    return fig
