"""Electronic conductivity from DC polarisation with ion-blocking electrodes.

A pellet between electrodes that block ions (stainless steel, gold, carbon) is held at a few
voltages in turn (for instance 0.1–0.5 V). At each step the ionic current decays as the ions
pile up at the electrodes, leaving the electronic current V/R_e. From one or several
``Chronoamperometry`` records this module:

1. splits each record into potentiostatic steps where the voltage jumps by more than
   ``voltage_tolerance_V`` (pieces shorter than ``min_points`` are transitions and dropped);
2. takes the steady-state current of each step as the mean over the last ``tail_fraction`` of
   its duration (default 10 %), with the scatter there (standard deviation, and standard
   error of the mean); a straight line through that window gives the relative change of the
   current across it, and a significant change above ``steady_threshold`` (default 1 %)
   marks the step as still changing, which the result's message says;
3. fits I = V/R_e + I_0 by weighted linear least squares (weights 1/δI²; unweighted when any
   δI is zero), covariance scaled by the residual variance, and reports the intercept I_0
   (an offset current, or a sign that the steps had not settled);
4. gives R_e = 1/slope and σ_e = L/(R_e·A) with standard errors.

Examples
--------
>>> from ssbkit.eis.conductivity import PelletGeometry
>>> from ssbkit.eis.simulate import simulate_polarisation
>>> rec = simulate_polarisation([0.1, 0.2, 0.3, 0.4, 0.5], electronic_resistance=1e8,
...                             ionic_resistance=1e3, time_constant_s=20.0)
>>> r = electronic_conductivity(rec, PelletGeometry.from_diameter(10.0, 1.0))
>>> len(r.steps), f"{r.electronic_resistance.value:.4g}", f"{r.electronic_conductivity.value:.3e}"
(5, '1e+08', '1.273e-09')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, make_provenance
from ssbkit.core.units import label
from ssbkit.core.validate import in_range, non_negative, positive, positive_int
from ssbkit.eis.conductivity import PelletGeometry
from ssbkit.eis.data import Chronoamperometry

__all__ = ["DCPolarisationResult", "PolarisationStep", "electronic_conductivity", "split_steps"]


@dataclass(frozen=True)
class PolarisationStep:
    """One potentiostatic step and its steady-state current (SI: s, V, A)."""

    record: int
    start_s: float
    end_s: float
    voltage: float
    current: Estimate  # mean over the averaging window, stderr = std/√n
    current_std: float
    window_points: int
    relative_change: float  # (fitted current change across the window) / |mean|
    steady: bool


@dataclass(frozen=True, kw_only=True)
class DCPolarisationResult(Result):
    """R_e and σ_e from the I–V line of the steady-state currents."""

    electronic_conductivity: Estimate
    electronic_resistance: Estimate
    slope: Estimate
    intercept: Estimate
    geometry: PelletGeometry
    steps: tuple[PolarisationStep, ...]
    weighted: bool
    tail_fraction: float
    temperature_K: float | None = None

    def to_frame(self) -> Any:
        """One row per step: voltage, steady-state current, scatter, fitted current, flags."""
        import pandas as pd

        rows = []
        for i, s in enumerate(self.steps):
            fitted = self.slope.value * s.voltage + self.intercept.value
            rows.append({
                "step": i, "record": s.record, label("start", "s"): s.start_s, label("end", "s"): s.end_s,
                label("voltage", "V"): s.voltage, label("current", "A"): s.current.value,
                label("current stderr", "A"): s.current.stderr, label("current std", "A"): s.current_std,
                "window points": s.window_points, "relative change": s.relative_change,
                "steady": s.steady, label("fitted current", "A"): fitted,
                label("residual", "A"): s.current.value - fitted,
            })
        return pd.DataFrame(rows)

    def _report_lines(self) -> list[str]:
        lines = [f"  σ_e = {self.electronic_conductivity}",
                 f"  R_e = {self.electronic_resistance}",
                 f"  I = V/R_e + I_0: slope {self.slope}, intercept I_0 = {self.intercept} "
                 f"({'weighted' if self.weighted else 'unweighted'})",
                 f"  geometry: {self.geometry.describe()}"]
        lines += [f"    {s.voltage:.4g} V: {s.current.value:.4g} A ± {s.current.stderr:.2g}"
                  + ("" if s.steady else f" (still changing, {100 * s.relative_change:+.2g} %)")
                  for s in self.steps]
        return lines


def split_steps(record: Chronoamperometry, *, voltage_tolerance_V: float = 0.005,
                min_points: int = 5) -> list[slice]:
    """Index ranges of the potentiostatic steps of ``record``.

    A step ends where the voltage jumps by more than ``voltage_tolerance_V`` from one point to
    the next; pieces of fewer than ``min_points`` points (ramps, transitions) are dropped.

    >>> rec = Chronoamperometry(np.arange(12.0), np.ones(12), [0.1] * 6 + [0.2] * 6)
    >>> split_steps(rec)
    [slice(0, 6, None), slice(6, 12, None)]
    """
    if not isinstance(record, Chronoamperometry):
        raise InputError(f"expected a Chronoamperometry record, got {type(record).__name__}",
                         source="records")
    tolerance = positive("voltage_tolerance_V", voltage_tolerance_V)
    shortest = positive_int("min_points", min_points)
    jumps = np.flatnonzero(np.abs(np.diff(record.voltage)) > tolerance) + 1
    edges = [0, *map(int, jumps), len(record)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b - a >= shortest]


def _steady_state(record: Chronoamperometry, where: slice, index: int, tail_fraction: float,
                  threshold: float) -> PolarisationStep:
    t = record.time[where]
    i = record.current[where]
    v = record.voltage[where]
    start = t[-1] - tail_fraction * (t[-1] - t[0])
    window = np.flatnonzero(t >= start)
    if window.size < 3:  # a mean, a scatter and a slope need three points
        window = np.arange(max(t.size - 3, 0), t.size)
    tw, iw = t[window], i[window]
    mean = float(np.mean(iw))
    std = float(np.std(iw, ddof=1)) if iw.size > 1 else math.nan
    change, steady = math.nan, True
    if iw.size >= 3 and tw[-1] > tw[0]:
        centred = tw - tw.mean()
        rate = float(np.sum(centred * (iw - mean)) / np.sum(centred**2))
        scatter = iw - mean - rate * centred
        rate_se = math.sqrt(float(np.sum(scatter**2)) / (iw.size - 2) / float(np.sum(centred**2)))
        if mean != 0:
            change = float(rate * (tw[-1] - tw[0]) / abs(mean))
            # Only a change above the threshold *and* beyond the noise counts as unsettled.
            steady = not (abs(change) > threshold and abs(rate) > 3 * rate_se)
    return PolarisationStep(
        record=index, start_s=float(t[0]), end_s=float(t[-1]), voltage=float(np.mean(v[window])),
        current=Estimate(mean, std / math.sqrt(iw.size), "A"), current_std=std,
        window_points=int(iw.size), relative_change=change, steady=steady)


def electronic_conductivity(
    records: Chronoamperometry | Sequence[Chronoamperometry],
    geometry: PelletGeometry,
    *,
    tail_fraction: float = 0.1,
    voltage_tolerance_V: float = 0.005,
    min_points: int = 5,
    steady_threshold: float = 0.01,
    temperature_K: float | None = None,
) -> DCPolarisationResult:
    """σ_e [S/cm] of a pellet from DC polarisation steps (see the module docstring)."""
    items = [records] if isinstance(records, Chronoamperometry) else list(records)
    if not items:
        raise InputError("no DC records given", source="records")
    if not isinstance(geometry, PelletGeometry):
        raise InputError(f"must be a PelletGeometry, got {type(geometry).__name__}", source="geometry")
    fraction = in_range("tail_fraction", tail_fraction, 0.0, 1.0, low_inclusive=False)
    threshold = non_negative("steady_threshold", steady_threshold)
    temperature = None if temperature_K is None else positive("temperature_K", temperature_K)
    steps = [_steady_state(record, where, k, fraction, threshold)
             for k, record in enumerate(items)
             for where in split_steps(record, voltage_tolerance_V=voltage_tolerance_V,
                                      min_points=min_points)]
    voltages = np.array([s.voltage for s in steps])
    if np.unique(np.round(voltages / voltage_tolerance_V)).size < 2:
        raise InputError(f"the I–V line needs steps at 2 or more voltages; found {len(steps)} step(s) at "
                         f"{', '.join(f'{v:.4g} V' for v in voltages) or 'none'}", source="records")

    current = np.array([s.current.value for s in steps])
    stderr = np.array([s.current.stderr for s in steps])
    weighted = bool(np.all(np.isfinite(stderr)) and np.all(stderr > 0))
    w = 1.0 / stderr**2 if weighted else np.ones_like(current)
    design = np.column_stack([voltages, np.ones_like(voltages)])
    unscaled = np.linalg.inv(design.T @ (design * w[:, None]))
    slope, intercept = unscaled @ (design.T @ (w * current))
    dof = len(steps) - 2
    residual = current - (slope * voltages + intercept)
    cov = unscaled * float(np.sum(w * residual**2)) / dof if dof > 0 else np.full((2, 2), math.nan)
    slope_e = Estimate(float(slope), math.sqrt(cov[0, 0]), "S")
    intercept_e = Estimate(float(intercept), math.sqrt(cov[1, 1]), "A")
    resistance = Estimate(1.0 / slope, slope_e.stderr / slope**2, "Ohm")
    k = geometry.cell_constant
    sigma = float(slope) * k.value
    sigma_se = abs(sigma) * math.sqrt(slope_e.relative_stderr**2 + k.relative_stderr**2)

    notes, success = [], True
    if slope <= 0:
        success = False
        notes.append(f"the I–V slope is not positive ({slope:.3g} S): no electronic conductivity")
    unsettled = [(n, s) for n, s in enumerate(steps) if not s.steady]
    if unsettled:
        notes.append("current still changing in step(s) "
                     + ", ".join(f"{n} at {s.voltage:.3g} V ({100 * s.relative_change:+.2g} %)"
                                 for n, s in unsettled)
                     + " over the averaging window: hold each voltage longer")
    if dof == 0:
        notes.append("two steps fit the line exactly: no standard errors")
    return DCPolarisationResult(
        success=success, message="; ".join(notes),
        electronic_conductivity=Estimate(sigma, sigma_se, "S/cm"), electronic_resistance=resistance,
        slope=slope_e, intercept=intercept_e, geometry=geometry, steps=tuple(steps),
        weighted=weighted, tail_fraction=fraction, temperature_K=temperature,
        provenance=make_provenance(
            "ssbkit.eis.electronic_conductivity",
            settings={"tail_fraction": fraction, "voltage_tolerance_V": voltage_tolerance_V,
                      "min_points": min_points, "steady_threshold": threshold},
            inputs={"records": [{"time": r.time, "current": r.current, "voltage": r.voltage}
                                for r in items], "geometry": geometry, "temperature_K": temperature}),
    )
