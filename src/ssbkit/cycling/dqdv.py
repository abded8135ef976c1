"""Differential capacity (dQ/dV) per half-cycle, its peaks, and their drift over cycling.

**Which rows.** A half-cycle is one cycle's charge (or discharge) steps under the named
cycle convention; rests and pulses take no part. Constant-voltage parts are left out of
dQ/dV and their charge is reported apart (``cv_capacity_mah``): at constant voltage
dV ≈ 0, so their charge would pile into one voltage bin at the cut-off as a spike that
is not a property of the electrode. A ``cv_`` step is left out whole; in a step that is
CC then CV (``cccv_``) so are the rows from where the voltage reached the value it then
held while the current decayed. Each row's charge is the one ``ssbkit.cycling.steps``
counts: the rise of the cycler's counter (``row_increments``), or the integral of the
current where there are no counters.

**Binning (method "bin").** The charge each row passed is spread evenly over the voltage
span the cell crossed in that interval (from the previous row's voltage to this one's;
the first row of a step, after an IR jump, is a point at its own voltage), and summed
into bins of ``bin_width_v`` on a grid aligned to whole multiples of the width (so the
curves of all cycles share their bins) that spans the voltages the half-cycle crossed.
The binned dQ/dV (``binned``) of a bin is its charge over the bin width.
This needs neither a monotonic voltage nor sorted data (the voltage may step back with
noise), and it conserves charge exactly: the integral of the binned dQ/dV over V is
the half-cycle's capacity. Spreading over the span instead of dropping each row into the
bin of its own voltage keeps sparse logging (rows further apart than a bin) from
aliasing into empty and double bins.

**Smoothing** (``dqdv``) works on the voltages the half-cycle covered only, so the curve
does not droop towards zero at the cut-offs, where there is no data beyond:
``smooth="gaussian"`` (default) gives each bin the Gaussian-weighted mean (standard
deviation ``smooth_width_v``) of the binned dQ/dV over the covered voltages (a
normalised convolution); ``"savgol"`` applies a Savitzky–Golay filter (quadratic, window
``smooth_width_v`` rounded to an odd number of bins, polynomial fits at the ends);
``"none"`` keeps the binned values (the two end bins, partly covered, as their charge
over the part covered). Away from the ends the smoothed curve keeps the integral too; at
the ends, where the mean is one-sided, it may differ by a few per mille of the
half-cycle's capacity (a percent or two where the curve is steep at a cut-off). Method
``"spline"`` instead fits a smoothing spline (SciPy's ``make_smoothing_spline``, penalty
chosen so its equivalent kernel is about ``smooth_width_v`` wide) to the binned
cumulative charge Q(V) — monotone by construction, however noisy the voltage — and
differentiates it.

**Peaks** are local maxima found by ``scipy.signal.find_peaks`` whose prominence is at
least ``peak_prominence`` × the curve's maximum, measured over the curve without its ends:
``2 σ + one bin`` (Gaussian or spline), half the Savitzky–Golay window + one bin, or one
bin (no smoothing) at each end of the half-cycle's voltage range, where the curve is
shaped by the IR jump, the cut-off and the one-sided mean more than by the electrode; a
peak there is not reported. A peak's potential and height come from a parabola through
the three bins around its maximum (sub-bin precision). **Tracking** follows
each direction's peaks from cycle to cycle: a peak joins the track whose latest peak is
nearest in potential within ``track_window_v``, taller peaks choosing first, one peak
per track and cycle; a peak with no such track starts one. Each track's drift is the
least-squares slope of its potential against cycle number [V/cycle].

Voltages are shifted by ``reference_offset_v`` before anything else (e.g. +0.62 V puts
a Li–In cell on the Li/Li⁺ scale). With an active mass dQ/dV is specific [mAh/g/V].

Written here rather than taken from a peer: the navani/cellpy family resamples Q(V) onto
a uniform grid and takes a Savitzky–Golay derivative, which needs a monotonic voltage
(navani silently scrambles non-monotonic data, navani#15) and does not conserve charge;
here the method and its settings are also recorded in the result's provenance.

>>> import numpy as np
>>> from ssbkit.cycling.data import CyclingRecord
>>> q = np.linspace(0, 1.0, 2001)                  # mAh, charged at 1 mA
>>> v = 3.0 + 0.5 * q                              # 0.5 V/mAh: dQ/dV = 2 mAh/V
>>> rec = CyclingRecord.from_columns({"Test Time / s": q * 3600, "Voltage / V": v,
...                                   "Current / A": np.full(q.size, 1e-3)})
>>> r = dqdv(rec, smooth="none", bin_width_v=0.01)
>>> c = r.curves[0]
>>> c.cycle, c.direction, round(float(np.median(c.dqdv[c.dqdv > 0])), 6)
(1, 'charge', 2.0)
>>> round(float(c.binned.sum() * r.bin_width_v), 9) == round(c.capacity_mah, 9)
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_array, make_provenance, to_json_safe
from ssbkit.core.validate import finite, in_range, non_negative, one_of, positive
from ssbkit.cycling.cycles import CONVENTIONS, step_cycles
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CYCLE,
    DISCHARGE_CAPACITY,
    CyclingRecord,
)
from ssbkit.cycling.steps import StepTable, find_steps, row_increments

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DQDVCurve", "DQDVPeak", "DQDVResult", "PeakTrack", "dqdv"]

citations.register(
    "savitzky1964",
    "A. Savitzky, M. J. E. Golay, Smoothing and differentiation of data by simplified least "
    "squares procedures, Anal. Chem. 36 (1964) 1627–1639.",
    "10.1021/ac60214a047",
)

DIRECTIONS = ("both", "charge", "discharge")
METHODS = ("bin", "spline")
SMOOTHERS = ("gaussian", "savgol", "none")
_TRUNCATE = 4.0  # Gaussian kernel reaches ±4 σ (its mass beyond: 6e-5)
_CV_CURRENT = 0.95  # in a CC–CV step, CV starts where |I| falls below this × the CC current
_POINT_SPAN = 1e-3  # spans narrower than this fraction of a bin are deposited as points
# Limits that turn a mistyped width or a glitch in the voltage column into an error instead
# of hours of work and gigabytes: 100 000 bins hold 10 V at 0.1 mV (finer than a cycler
# resolves), and a smoothing kernel 1000 bins wide costs that many operations per bin.
_MAX_BINS = 100_000
_MAX_KERNEL_BINS = 1_000
_GLITCH_SPAN_V = 20.0  # a half-cycle wider than this is a glitch in the file, not narrow bins


@dataclass(frozen=True)
class DQDVCurve:
    """One half-cycle's dQ/dV on bin centres ``voltage`` [V] (after the reference offset).

    ``dqdv`` is the smoothed curve, ``binned`` the charge per bin over the bin width
    before smoothing, whose integral is exactly ``capacity_mah`` (both in ``unit``, ≥ 0
    for charge and discharge alike: the charge passed per volt). ``capacity_mah`` is the
    charge that went into the bins, ``cv_capacity_mah`` the charge of constant-voltage parts left out;
    ``voltage_min``/``voltage_max`` the range the half-cycle's rows crossed.
    """

    cycle: int
    direction: str
    voltage: np.ndarray = field(repr=False)
    dqdv: np.ndarray = field(repr=False)
    binned: np.ndarray = field(repr=False)
    unit: str
    capacity_mah: float
    cv_capacity_mah: float
    voltage_min: float
    voltage_max: float

    def __post_init__(self) -> None:
        for name in ("voltage", "dqdv", "binned"):
            object.__setattr__(self, name, frozen_array(getattr(self, name), float))

    def to_dict(self) -> dict[str, Any]:
        return {"cycle": self.cycle, "direction": self.direction,
                "voltage": to_json_safe(self.voltage), "dqdv": to_json_safe(self.dqdv),
                "unit": self.unit,
                "capacity": {"value": self.capacity_mah, "unit": "mAh"},
                "cv_capacity": {"value": self.cv_capacity_mah, "unit": "mAh"}}


@dataclass(frozen=True)
class DQDVPeak:
    """A peak of one half-cycle: potential [V], height (curve unit), prominence, its track."""

    cycle: int
    direction: str
    potential: Estimate
    height: Estimate
    prominence: float
    track: int

    def to_dict(self) -> dict[str, Any]:
        return {"cycle": self.cycle, "direction": self.direction,
                "potential": {"value": self.potential.value, "unit": "V"},
                "height": {"value": self.height.value, "unit": self.height.unit},
                "prominence": to_json_safe(self.prominence), "track": self.track}


@dataclass(frozen=True)
class PeakTrack:
    """One peak followed across cycles: its potential and height per cycle, and its drift."""

    track: int
    direction: str
    cycles: np.ndarray = field(repr=False)
    potential_v: np.ndarray = field(repr=False)
    height: np.ndarray = field(repr=False)
    unit: str
    shift: Estimate  # least-squares slope of the potential against cycle [V/cycle]

    def __post_init__(self) -> None:
        object.__setattr__(self, "cycles", frozen_array(self.cycles, np.int64))
        for name in ("potential_v", "height"):
            object.__setattr__(self, name, frozen_array(getattr(self, name), float))

    def to_dict(self) -> dict[str, Any]:
        return {"track": self.track, "direction": self.direction,
                "cycles": [int(c) for c in self.cycles],
                "potential": {"values": to_json_safe(self.potential_v), "unit": "V"},
                "height": {"values": to_json_safe(self.height), "unit": self.unit},
                "shift": self.shift.to_dict()}


@dataclass(frozen=True, kw_only=True)
class DQDVResult(Result):
    """dQ/dV curves per half-cycle, their peaks, and the peaks tracked across cycles."""

    convention: str
    method: str
    smooth: str
    smooth_width_v: float
    bin_width_v: float
    reference_offset_v: float
    active_mass_mg: float | None
    mass_source: str | None
    unit: str
    curves: tuple[DQDVCurve, ...] = field(repr=False)
    peaks: tuple[DQDVPeak, ...] = field(repr=False)
    tracks: tuple[PeakTrack, ...] = field(repr=False)
    cv_excluded_mah: float

    def __post_init__(self) -> None:
        for name in ("curves", "peaks", "tracks"):  # a list given would stay open to appends
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def curve(self, cycle: int, direction: str) -> DQDVCurve:
        """The curve of one half-cycle; ``InputError`` naming those there are."""
        for c in self.curves:
            if c.cycle == cycle and c.direction == direction:
                return c
        there = ", ".join(f"{c.cycle} {c.direction}" for c in self.curves) or "none"
        raise InputError(f"no {direction} curve of cycle {cycle}; there are: {there}",
                         source="cycle")

    def to_frame(self) -> pd.DataFrame:
        """The curves as one long table: cycle, direction, voltage, dQ/dV, binned dQ/dV."""
        import pandas as pd

        frames = [pd.DataFrame({
            "cycle": np.full(c.voltage.size, c.cycle), "direction": c.direction,
            "voltage [V]": c.voltage, f"dQ/dV [{self.unit}]": c.dqdv,
            f"binned dQ/dV [{self.unit}]": c.binned}) for c in self.curves]
        if not frames:
            return pd.DataFrame(columns=["cycle", "direction", "voltage [V]",
                                         f"dQ/dV [{self.unit}]", f"binned dQ/dV [{self.unit}]"])
        return pd.concat(frames, ignore_index=True)

    def peak_frame(self) -> pd.DataFrame:
        """One row per peak: cycle, direction, track, potential, height, prominence."""
        import pandas as pd

        return pd.DataFrame({
            "cycle": [p.cycle for p in self.peaks],
            "direction": [p.direction for p in self.peaks],
            "track": [p.track for p in self.peaks],
            "potential [V]": [p.potential.value for p in self.peaks],
            f"height [{self.unit}]": [p.height.value for p in self.peaks],
            f"prominence [{self.unit}]": [p.prominence for p in self.peaks]})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name not in ("curves", "peaks", "tracks", "provenance"):
                out[f.name] = to_json_safe(getattr(self, f.name))
        out["curves"] = [c.to_dict() for c in self.curves]
        out["peaks"] = [p.to_dict() for p in self.peaks]
        out["tracks"] = [t.to_dict() for t in self.tracks]
        out["provenance"] = None if self.provenance is None else self.provenance.to_dict()
        return out

    def _report_lines(self) -> list[str]:
        smoothing = ("none" if self.smooth == "none" and self.method == "bin"
                     else f"{self.smooth if self.method == 'bin' else 'spline'} "
                          f"{1e3 * self.smooth_width_v:g} mV")
        lines = [f"  {len(self.curves)} half-cycles ({self.convention}); bins of "
                 f"{1e3 * self.bin_width_v:g} mV, smoothing {smoothing}; dQ/dV in {self.unit}"]
        if self.reference_offset_v:
            lines.append(f"  voltages shifted by {self.reference_offset_v:+g} V")
        if self.cv_excluded_mah > 0:
            lines.append(f"  constant-voltage charge left out: {self.cv_excluded_mah:.6g} mAh")
        for t in self.tracks:
            span = (f"{t.potential_v[0]:.4f} V (cycle {int(t.cycles[0])}) -> "
                    f"{t.potential_v[-1]:.4f} V (cycle {int(t.cycles[-1])})")
            drift = (f", {1e3 * t.shift.value:+.3g} mV/cycle" if math.isfinite(t.shift.value)
                     else "")
            lines.append(f"  track {t.track} ({t.direction}): {span}{drift}")
        return lines


# -- rows of each half-cycle -------------------------------------------------------------------

@dataclass(frozen=True)
class _HalfCycle:
    """Rows of one half-cycle in order, each row's charge [Ah], and which rows are CV or points."""

    cycle: int
    direction: int
    rows: np.ndarray
    charge_ah: np.ndarray
    point: np.ndarray  # the interval before the row is not spread (first row of a step)
    cv: np.ndarray


def _row_charge(record: CyclingRecord, steps: StepTable) -> tuple[np.ndarray, np.ndarray]:
    """Each row's charge and discharge [Ah], counted as ``find_steps`` counts them."""
    if steps.capacity_source == "counters":
        return (row_increments(record.column(CHARGE_CAPACITY)),
                row_increments(record.column(DISCHARGE_CAPACITY)))
    t = record.time.astype(float)
    i = np.nan_to_num(record.current.astype(float))
    rest = steps.rest_current_a
    regime = np.where(i > rest, 1, np.where(i < -rest, -1, 0))
    first = np.zeros(t.size, bool)
    first[steps.start_row] = True
    i_prev = np.r_[i[0], i[:-1]]
    smooth = ~first & (regime == np.r_[regime[0], regime[:-1]]) & (
        np.abs(i - i_prev) <= 0.5 * np.maximum(np.abs(i), np.abs(i_prev)))
    dq = np.where(smooth, 0.5 * (i + i_prev), i) * np.diff(t, prepend=t[0]) / 3600.0
    return np.where(dq > 0, dq, 0.0), np.where(dq < 0, -dq, 0.0)


def _half_cycles(record: CyclingRecord, steps: StepTable, convention: str) -> list[_HalfCycle]:
    """Every half-cycle of ``record`` (cycle ascending, charge before discharge)."""
    per_step = step_cycles(steps, convention)
    direction = steps.direction
    kind = steps.kind.astype(str)
    charge, discharge = _row_charge(record, steps)
    current = np.abs(np.nan_to_num(record.current.astype(float)))
    voltage = record.voltage.astype(float)
    out = []
    for cycle in np.unique(per_step[direction != 0]):
        for sign in (1, -1):
            chosen = np.flatnonzero((per_step == cycle) & (direction == sign))
            if not chosen.size:
                continue
            rows, point, cv = [], [], []
            for s in chosen:
                r = np.arange(steps.start_row[s], steps.stop_row[s])
                p = np.zeros(r.size, bool)
                p[0] = True
                c = np.full(r.size, kind[s].startswith("cv_"))
                if kind[s].startswith("cccv_"):
                    c[_cv_onset(current[r], voltage[r]):] = True
                rows.append(r)
                point.append(p)
                cv.append(c)
            r = np.concatenate(rows)
            out.append(_HalfCycle(int(cycle), sign, r, (charge if sign > 0 else discharge)[r],
                                  np.concatenate(point), np.concatenate(cv)))
    return out


def _cv_onset(current: np.ndarray, voltage: np.ndarray) -> int:
    """First row of the CV part of a CC–CV step (its length when there is none).

    The current first falls below ``_CV_CURRENT`` × its largest value some rows into the
    CV part (it starts to decay from the CC value); the CV part began where the voltage
    reached the held value, within 1 mV or three robust standard deviations of the
    voltage while held, whichever is larger.
    """
    top = int(np.argmax(current))
    below = np.flatnonzero(current[top:] < _CV_CURRENT * current[top])
    if not below.size:
        return current.size
    drop = top + int(below[0])
    held = voltage[drop:][np.isfinite(voltage[drop:])]
    if not held.size:
        return drop
    level = float(np.median(held))
    tolerance = max(1e-3, 3 * 1.4826 * float(np.median(np.abs(held - level))))
    away = np.flatnonzero(~(np.abs(voltage[:drop] - level) <= tolerance))
    return int(away[-1]) + 1 if away.size else 0


# -- binning, smoothing, peaks -----------------------------------------------------------------

def _ramp_sums(starts: np.ndarray, slopes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Σ_i slopes_i · max(x − starts_i, 0) at each x (sorted prefix sums, no loop)."""
    order = np.argsort(starts, kind="stable")
    a, d = starts[order], slopes[order]
    slope_sum = np.r_[0.0, np.cumsum(d)]
    moment = np.r_[0.0, np.cumsum(d * a)]
    k = np.searchsorted(a, x, side="left")
    return x * slope_sum[k] - moment[k]


def _bin_charge(lo: np.ndarray, hi: np.ndarray, charge: np.ndarray,
                width: float) -> tuple[int, np.ndarray, np.ndarray]:
    """(index of the first bin edge in units of ``width``, charge per bin, coverage per bin).

    Each charge is spread evenly over [lo, hi]; spans under ``_POINT_SPAN`` of a bin go
    whole into the bin of their midpoint. The bins cover the range the data crossed; the
    coverage is the share of each bin inside that range (below 1 only at the two ends).
    """
    v_min, v_max = float(lo.min()), float(hi.max())
    k0 = math.floor(v_min / width)
    n = max(math.ceil(v_max / width) - k0, 1)
    u_lo, u_hi = lo / width - k0, hi / width - k0
    span = u_hi - u_lo
    point = span < _POINT_SPAN
    mid = np.clip(np.floor(0.5 * (u_lo + u_hi)[point]).astype(np.int64), 0, n - 1)
    out = np.bincount(mid, weights=charge[point], minlength=n).astype(float)
    spread = ~point
    if spread.any():
        slope = charge[spread] / span[spread]
        edges = np.arange(n + 1, dtype=float)
        cumulative = (_ramp_sums(u_lo[spread], slope, edges)
                      - _ramp_sums(u_hi[spread], slope, edges))
        # rounding in the prefix sums leaves about 1e-16 of the total in empty bins,
        # sometimes below zero; a charge passed is never negative
        out += np.maximum(np.diff(cumulative), 0.0)
    edges = np.arange(n + 1, dtype=float)
    u_min, u_max = v_min / width - k0, v_max / width - k0
    coverage = np.clip(np.minimum(edges[1:], u_max) - np.maximum(edges[:-1], u_min), 0.0, 1.0)
    coverage[coverage <= 0] = 1.0  # all the data at one voltage: one full bin
    return k0, out, coverage


def _check_bins(v_min: float, v_max: float, width: float, what: str, where: str) -> None:
    """Refuse a half-cycle that would need more than ``_MAX_BINS`` bins (see the limits)."""
    n = math.ceil(v_max / width) - math.floor(v_min / width)
    if n <= _MAX_BINS:
        return
    span = f"{what} crosses {v_min:.6g} V to {v_max:.6g} V: {n:.3g} bins of {1e3 * width:g} mV"
    if v_max - v_min > _GLITCH_SPAN_V:
        raise InputError(f"{span}; a voltage that far off is a glitch in the voltage column",
                         source=where)
    raise InputError(f"{span}, more than {_MAX_BINS}; use wider bins", source="bin_width_v")


def _savgol_window(width_bins: float) -> int:
    window = max(5, int(round(width_bins)))
    return window if window % 2 else window + 1


def _smoothed(binned: np.ndarray, coverage: np.ndarray, edges_v: np.ndarray,
              centres_v: np.ndarray, method: str, smooth: str, width_v: float,
              bin_width: float) -> np.ndarray:
    """The smoothed curve on the bin centres (see the module docstring)."""
    density = binned / coverage  # a partly covered end bin: its charge over the part covered
    sigma_bins = width_v / bin_width
    if method == "spline":
        if binned.size < 4:
            return density
        from scipy.interpolate import make_smoothing_spline

        # the penalised cubic spline's equivalent kernel has a width of about
        # (λ · point spacing)^(1/4); choosing λ = σ⁴ / spacing matches the Gaussian's σ
        cumulative = np.r_[0.0, np.cumsum(binned)] * bin_width
        spline = make_smoothing_spline(edges_v, cumulative, lam=width_v ** 4 / bin_width)
        return spline.derivative()(centres_v)
    if smooth == "gaussian" and sigma_bins > 0:
        from scipy.ndimage import gaussian_filter1d

        # the weighted mean over the covered voltages only: no droop at the cut-offs
        def blur(x: np.ndarray) -> np.ndarray:
            return gaussian_filter1d(x, sigma_bins, mode="constant", cval=0.0, truncate=_TRUNCATE)

        return blur(binned) / blur(coverage)
    if smooth == "savgol":
        window = _savgol_window(sigma_bins)
        if window > density.size:
            return density
        from scipy.signal import savgol_filter

        return savgol_filter(density, window, 2, mode="interp")
    return density


def _edge_margin(method: str, smooth: str, width_v: float, bin_width: float) -> float:
    """How far from the ends of a half-cycle's voltage range a peak must lie."""
    if method == "spline" or (smooth == "gaussian" and width_v > 0):
        return 2.0 * width_v + bin_width
    if smooth == "savgol":
        return (_savgol_window(width_v / bin_width) // 2 + 1) * bin_width
    return bin_width


def _peaks(curve: DQDVCurve, prominence: float, margin: float) -> list[tuple[float, float, float]]:
    """(potential, height, prominence) of each peak of ``curve`` (see the module docstring)."""
    from scipy.signal import find_peaks

    v, y = curve.voltage, curve.dqdv
    top = float(np.max(y)) if y.size else 0.0
    inside = np.flatnonzero((v >= curve.voltage_min + margin) & (v <= curve.voltage_max - margin))
    if top <= 0 or inside.size < 3:
        return []
    first = int(inside[0])
    found, props = find_peaks(y[first:int(inside[-1]) + 1], prominence=prominence * top)
    out = []
    step = float(v[1] - v[0])
    for k, prom in zip(found + first, props["prominences"], strict=True):
        left, mid, right = y[k - 1], y[k], y[k + 1]
        curvature = left - 2 * mid + right
        delta = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
        delta = min(max(delta, -0.5), 0.5)
        out.append((float(v[k] + delta * step), float(mid - 0.25 * (left - right) * delta),
                    float(prom)))
    return out


def _track(found: list[tuple[int, str, float, float, float]], window: float,
           unit: str) -> tuple[list[DQDVPeak], list[PeakTrack]]:
    """Number the peaks into tracks per direction (see the module docstring)."""
    members: dict[tuple[str, int], list[tuple[int, float, float]]] = {}
    assigned: list[tuple[str, int, int, float, float, float]] = []
    for direction in ("charge", "discharge"):
        latest: list[float] = []
        mine = [p for p in found if p[1] == direction]
        for cycle in sorted({p[0] for p in mine}):
            taken: set[int] = set()
            for _, _, potential, height, prom in sorted(
                    (p for p in mine if p[0] == cycle), key=lambda p: -p[3]):
                near = [(abs(potential - t), j) for j, t in enumerate(latest)
                        if j not in taken and abs(potential - t) <= window]
                j = min(near)[1] if near else len(latest)
                if j == len(latest):
                    latest.append(potential)
                latest[j] = potential
                taken.add(j)
                members.setdefault((direction, j), []).append((cycle, potential, height))
                assigned.append((direction, j, cycle, potential, height, prom))
    # number the tracks: charge before discharge, each by its median potential
    order = sorted(members, key=lambda key: (key[0] != "charge",
                                             float(np.median([m[1] for m in members[key]]))))
    number = {key: n for n, key in enumerate(order, start=1)}
    peaks = [DQDVPeak(cycle, direction, Estimate(potential, math.nan, "V"),
                      Estimate(height, math.nan, unit), prom, number[(direction, j)])
             for direction, j, cycle, potential, height, prom in assigned]
    peaks.sort(key=lambda p: (p.cycle, p.direction != "charge", p.potential.value))
    tracks = []
    for key in order:
        rows = sorted(members[key])
        cycles = np.array([r[0] for r in rows], np.int64)
        potential = np.array([r[1] for r in rows])
        tracks.append(PeakTrack(number[key], key[0], cycles, potential,
                                np.array([r[2] for r in rows]), unit,
                                _slope(cycles.astype(float), potential)))
    return peaks, tracks


def _slope(x: np.ndarray, y: np.ndarray) -> Estimate:
    """Least-squares slope of y against x with its standard error (NaN below 3 points)."""
    if x.size < 2 or np.ptp(x) == 0:
        return Estimate(math.nan, math.nan, "V/cycle")
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float(xc @ (y - y.mean())) / sxx
    if x.size < 3:
        return Estimate(slope, math.nan, "V/cycle")
    resid = y - y.mean() - slope * xc
    return Estimate(slope, math.sqrt(float(resid @ resid) / (x.size - 2) / sxx), "V/cycle")


# -- the public function -----------------------------------------------------------------------

def _ranges(numbers: Iterable[int]) -> str:
    """``[1, 2, 3, 5, 7, 8]`` -> ``"1–3, 5, 7–8"`` (so a 400-cycle list stays one line)."""
    values = sorted(set(int(n) for n in numbers))
    parts: list[str] = []
    start = prev = None
    for n in [*values, None]:
        if start is not None and (n is None or n != prev + 1):
            parts.append(str(start) if start == prev else f"{start}–{prev}")
            start = None
        if n is not None and start is None:
            start = n
        prev = n
    return ", ".join(parts) or "none"


def _chosen_cycles(cycles: Any, there: np.ndarray, source: str) -> set[int]:
    if cycles is None:
        return {int(c) for c in there}
    given = [cycles] if isinstance(cycles, int | np.integer) else cycles
    if isinstance(given, str) or not isinstance(given, Iterable):
        raise InputError(f"must be a cycle number or a list of them, got {cycles!r}",
                         source="cycles")
    wanted = set()
    for c in given:
        if isinstance(c, bool) or not isinstance(c, int | np.integer):
            raise InputError(f"must be whole cycle numbers, got {c!r}", source="cycles")
        wanted.add(int(c))
    missing = sorted(wanted - {int(c) for c in there})
    if missing:
        raise InputError(f"no cycle {_ranges(missing)} in {source}; its cycles are "
                         f"{_ranges(there)}", source="cycles")
    if not wanted:
        raise InputError("no cycle given", source="cycles")
    return wanted


def dqdv(record: CyclingRecord, *, cycles: int | Iterable[int] | None = None,
         convention: str = "charge-first", direction: str = "both", method: str = "bin",
         bin_width_v: float = 0.005, smooth: str = "gaussian", smooth_width_v: float = 0.01,
         active_mass_mg: float | None = None, reference_offset_v: float = 0.0,
         peak_prominence: float = 0.05, track_window_v: float = 0.05,
         steps: StepTable | None = None) -> DQDVResult:
    """dQ/dV of each half-cycle of ``record``, with peaks tracked across cycles.

    ``cycles``: a cycle number or a list (default: all) under ``convention``;
    ``direction``: "both", "charge" or "discharge"; ``method``: "bin" or "spline";
    ``bin_width_v`` [V]; ``smooth``: "gaussian", "savgol" or "none" with
    ``smooth_width_v`` [V] (σ of the Gaussian, window of the Savitzky–Golay filter, kernel
    width of the spline); ``active_mass_mg`` for specific dQ/dV (default: the mass the
    file stores, if any); ``reference_offset_v`` added to every voltage;
    ``peak_prominence`` relative to each curve's maximum; ``track_window_v`` the largest
    shift of a tracked peak from one of its cycles to the next. See the module docstring.
    """
    if not isinstance(record, CyclingRecord):
        raise InputError(f"expected a CyclingRecord, got {type(record).__name__}", source="record")
    where = record.source or "the record"
    convention = one_of("convention", convention, CONVENTIONS)
    direction = one_of("direction", direction, DIRECTIONS)
    method = one_of("method", method, METHODS)
    smooth = one_of("smooth", smooth, SMOOTHERS)
    bin_width = positive("bin_width_v", bin_width_v)
    width = non_negative("smooth_width_v", smooth_width_v)
    if method == "spline" and width == 0:
        raise InputError("the spline method needs a kernel width > 0", source="smooth_width_v")
    offset = finite("reference_offset_v", reference_offset_v)
    prominence = in_range("peak_prominence", peak_prominence, 0.0, 1.0, low_inclusive=False)
    window = positive("track_window_v", track_window_v)
    mass, mass_source = None, None
    if active_mass_mg is not None:
        mass, mass_source = positive("active_mass_mg", active_mass_mg), "argument"
    else:
        stored = record.metadata.get("active_mass_mg")
        if isinstance(stored, int | float) and math.isfinite(stored) and stored > 0:
            mass, mass_source = float(stored), "file"
    if convention == "native" and not record.has(CYCLE):
        raise InputError(f"the 'native' convention needs the instrument's cycle column "
                         f"({CYCLE!r}), which this file lacks; use charge-first or "
                         "discharge-first", source=where)
    if steps is None:
        steps = find_steps(record)
    elif not isinstance(steps, StepTable) or steps.stop_row.size == 0 or \
            int(steps.stop_row[-1]) != len(record):
        raise InputError("must be the StepTable of this record (find_steps(record))",
                         source="steps")
    halves = _half_cycles(record, steps, convention)
    wanted = _chosen_cycles(cycles, np.array(sorted({h.cycle for h in halves}), np.int64), where)
    signs = {"both": (1, -1), "charge": (1,), "discharge": (-1,)}[direction]
    unit = "mAh/g/V" if mass is not None else "mAh/V"
    scale = 1e3 / bin_width / (mass * 1e-3 if mass is not None else 1.0)  # Ah per bin -> unit
    voltage = record.voltage.astype(float) + offset
    margin = _edge_margin(method, smooth, width, bin_width)
    if method == "bin" and smooth != "none" and width / bin_width > _MAX_KERNEL_BINS:
        raise InputError(f"bins of {1e3 * bin_width:g} mV make the smoothing width "
                         f"({1e3 * width:g} mV) {width / bin_width:.3g} bins wide, more than "
                         f"{_MAX_KERNEL_BINS}; use wider bins or a narrower smooth_width_v",
                         source="bin_width_v")

    curves: list[DQDVCurve] = []
    found: list[tuple[int, str, float, float, float]] = []
    cv_total = 0.0
    for half in halves:
        if half.cycle not in wanted or half.direction not in signs:
            continue
        name = "charge" if half.direction > 0 else "discharge"
        v = voltage[half.rows]
        prev = voltage[np.maximum(half.rows - 1, 0)]
        use = ~half.cv & np.isfinite(v)
        cv_mah = float(half.charge_ah[half.cv].sum()) * 1e3
        cv_total += cv_mah
        if not use.any() or half.charge_ah[use].sum() <= 0:
            continue
        point = half.point | ~np.isfinite(prev)
        start = np.where(point, v, prev)[use]
        v, q = v[use], half.charge_ah[use]
        lo, hi = np.minimum(start, v), np.maximum(start, v)
        _check_bins(float(lo.min()), float(hi.max()), bin_width, f"cycle {half.cycle} {name}",
                    where)
        k0, charge, coverage = _bin_charge(lo, hi, q, bin_width)
        binned = charge * scale
        edges = (k0 + np.arange(charge.size + 1)) * bin_width
        centres = (k0 + 0.5 + np.arange(charge.size)) * bin_width
        curve = DQDVCurve(
            cycle=half.cycle, direction=name, voltage=centres,
            dqdv=_smoothed(binned, coverage, edges, centres, method, smooth, width, bin_width),
            binned=binned, unit=unit, capacity_mah=float(q.sum()) * 1e3, cv_capacity_mah=cv_mah,
            voltage_min=float(lo.min()), voltage_max=float(hi.max()))
        curves.append(curve)
        found += [(half.cycle, name, *p) for p in _peaks(curve, prominence, margin)]
    peaks, tracks = _track(found, window, unit)

    message = "" if curves else f"no charge or discharge rows in the chosen cycles of {where}"
    if cv_total > 0:
        message = (f"{cv_total:.6g} mAh passed at constant voltage was left out of dQ/dV "
                   "(dV ≈ 0 there)")
    settings = {"convention": convention, "direction": direction, "method": method,
                "bin_width_v": bin_width, "smooth": smooth, "smooth_width_v": width,
                "active_mass_mg": mass, "reference_offset_v": offset,
                "peak_prominence": prominence, "track_window_v": window,
                "cycles": sorted(wanted), "rest_current_a": steps.rest_current_a}
    return DQDVResult(
        success=bool(curves), message=message, convention=convention, method=method,
        smooth=smooth if method == "bin" else "spline", smooth_width_v=width,
        bin_width_v=bin_width, reference_offset_v=offset, active_mass_mg=mass,
        mass_source=mass_source, unit=unit, curves=tuple(curves), peaks=tuple(peaks),
        tracks=tuple(tracks), cv_excluded_mah=cv_total,
        provenance=make_provenance(
            "ssbkit.cycling.dqdv", settings=settings, inputs={"record": record.fingerprint()},
            citations=("savitzky1964",) if method == "bin" and smooth == "savgol" else ()),
    )

