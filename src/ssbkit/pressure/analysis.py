"""Stack pressure against the cycling record: per-cycle pressure, growth per cycle, drift.

``analyze_pressure(log, record)`` puts every pressure sample on the cycling record by
absolute time (the log's clock plus ``offset_s``; ``ssbkit.cycling.events``), assigns it
to a cycle, and gives one row per cycle: the pressure at the start and at the end of the
cycle, the minimum, maximum and mean, the swing (max − min, the reversible "breathing")
and the rise (end − start, the irreversible growth during that cycle), beside the cycle's
capacities. The pressure at a cycle boundary is a straight line through the last samples
(up to five) of the step that ends there, evaluated at the boundary (for the start of the
record, the first samples of its first step): the boundary is usually the turn from
discharge (or the rest after it) to charge, a V-shaped minimum of the pressure, and
interpolating between the samples on either side would put it above the minimum by up to
half a sampling interval's change (on the 700k-row Neware file's short cycles, sampled
once a minute, that lifted the growth from 2.1 % to 2.104 % without any noise).

A cycle is *complete* when the log covers it from start to end (within 1.5 sampling
intervals) and it has both a charge and a discharge (the record's last cycle, cut off
during its charge, does not).

**Growth per cycle.** "Pressure grows 2.1 % per cycle" reads, to a battery scientist, as
the rise of the per-cycle pressure relative to the initial stack pressure, per cycle. The
per-cycle pressure used here is the **pressure at the start of each cycle**: the cell is
then at the same state of charge every cycle (discharged; with a charge-first convention
a cycle starts at its first charge, after any rest), so the reversible breathing, which
follows the state of charge, drops out and what remains is the irreversible baseline. The
per-cycle minimum is the usual stand-in, and is the same number when the minimum falls at
the discharged state; it is not when the breathing changes shape (the minimum moving to
mid-charge mixes a change of breathing into the growth), and it is biased low by the
noise (the least of many noisy samples), which biases the growth high through the initial
pressure it is divided by. On 30 seeded simulations (20 cycles, 2.1 % per cycle, noise
0.05 MPa on 10 MPa) the start of each cycle gives 2.097 ± 0.004 % (mean ± its standard
error; scatter 0.023 %), the minimum 2.119 ± 0.003 % (scatter 0.015 %): less scatter,
but off by more than it. So the minimum is offered as ``baseline="min"`` but is not the
default. A straight line p_k = p_1 + b·(k − k_1) is fitted by least squares to the
baseline of every complete cycle k (partial cycles at the ends of the log or of the
record would bias it), and

    growth per cycle [%] = 100 · b / p_1

where p_1, the fitted baseline at the record's first cycle k_1, is the initial stack
pressure (the fitted value, not one noisy sample; extrapolated when the log starts
later). Its standard error comes from the covariances of b and p_1 (first-order
propagation); it is NaN with two cycles, and the result is not a success with fewer.
Growth is linear in the cycle number (a fixed fraction of the *initial* pressure each
cycle), as the study reports it, not compound.

**Irreversible drift**: the baseline at the end of the last complete cycle minus that at
the start of the first complete one [MPa], and as a percentage of the latter.

**Correlations** (Pearson r and its two-sided p-value, over complete cycles, NaN with
fewer than three cycles or a constant series): per-cycle swing against discharge
capacity, per-cycle rise against discharge capacity, and baseline against discharge
capacity (pressure building up as capacity fades gives r < 0).

Samples before or after the cycling record are counted and reported in the result
(``samples_before``, ``samples_after``), never used; a log that does not overlap the
record at all is an ``InputError`` naming both time spans.

**Time zones.** The two clocks meet in UTC, and a date-time written without a zone is
read as UTC. A logger on local time, beside a cycler whose times are UTC (a Neware file's
Unix time column), therefore shows up shifted by whole hours.
When the log's first sample lies a whole number of hours (1 to 14, within
``ZONE_TOLERANCE_S``) from the record's start, or as far as the record's
``metadata["utc_offset_s"]`` (the cycler's local time ahead of UTC) where its reader
recorded one, the result's message (or the error, where nothing overlaps) says so and
names the ``offset_s`` that would remove it. It is a hint, never applied: a logger
started an hour before the cycler looks the same.

Written here rather than taken from a peer: none of the cycling packages reads or aligns
stack-pressure logs. The p-value of r is computed here too (Student's t with n − 2 degrees
of freedom, from its closed forms for whole degrees of freedom; the tests check it against
``scipy.stats.pearsonr``) because importing ``scipy.stats`` takes 1.3–1.5 s, five times
the whole analysis of a 700k-row record.

Examples
--------
>>> import numpy as np
>>> from ssbkit.cycling.data import CyclingRecord
>>> from ssbkit.pressure.data import PressureLog
>>> t = np.repeat(np.arange(0, 6 * 7200 + 1, 3600.0), 2)[1:-1]  # 6 cycles: 1 h charge, 1 h discharge
>>> current = np.tile([1e-3, 1e-3, -1e-3, -1e-3], 6)
>>> rec = CyclingRecord.from_columns({"Test Time / s": t, "Voltage / V": 2 + 500 * current,
...     "Current / A": current, "Unix Time / s": 1.7e9 + t})
>>> minutes = np.arange(0, 6 * 7200 + 1, 60.0)
>>> cycle_progress = minutes / 7200  # the baseline rises 2 % of 10 MPa every cycle
>>> log = PressureLog(1.7e9 + minutes, 10 * (1 + 0.02 * cycle_progress))
>>> result = analyze_pressure(log, rec)
>>> round(result.growth_per_cycle.value, 6), result.growth_per_cycle.unit, result.cycles_fitted
(2.0, '%', 6)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_table, make_provenance, to_json_safe
from ssbkit.core.validate import finite, one_of
from ssbkit.cycling.data import CyclingRecord
from ssbkit.pressure.data import PressureLog

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BASELINES", "Correlation", "PressureResult", "analyze_pressure", "correlation_p_value"]

BASELINES = ("start", "min")
_CONVENTIONS = ("native", "charge-first", "discharge-first")
_COVERAGE_INTERVALS = 1.5  # a cycle is complete when the log reaches this close to its ends
_EDGE_SAMPLES = 5  # samples of the step ending at a cycle boundary that estimate its pressure
ZONE_TOLERANCE_S = 600.0  # a start misfit this close to whole hours looks like a time zone
_MAX_ZONE_HOURS = 14


@dataclass(frozen=True)
class Correlation:
    """Pearson's r between two per-cycle series, its two-sided p-value and the cycles used."""

    x: str
    y: str
    r: float
    p_value: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return to_json_safe({"x": self.x, "y": self.y, "r": self.r, "p_value": self.p_value,
                             "n": self.n})

    def __str__(self) -> str:
        if math.isnan(self.r):
            return f"{self.y} vs {self.x}: r undefined (n = {self.n})"
        return f"{self.y} vs {self.x}: r = {self.r:.3f}, p = {self.p_value:.3g} (n = {self.n})"


@dataclass(frozen=True, kw_only=True)
class PressureResult(Result):
    """Per-cycle stack pressure and its growth.

    ``cycles`` is the per-cycle table as a DataFrame, a fresh copy at every access: the
    result is frozen, so editing that table (or ``to_frame()``) changes neither the result
    nor what it reports later. ``per_cycle`` holds the same columns as read-only arrays.
    """

    per_cycle: Mapping[str, np.ndarray] = field(repr=False)  # column label -> read-only array
    baseline: str = "start"
    growth_per_cycle: Estimate  # [%] of the initial pressure, per cycle
    growth_rate: Estimate  # [MPa/cycle]
    initial_pressure: Estimate  # [MPa], the fitted baseline at the first fitted cycle
    drift: Estimate  # [MPa]
    drift_percent: Estimate  # [%]
    correlations: Mapping[str, Correlation] = field(default_factory=dict)
    cycles_fitted: int = 0
    samples_used: int = 0
    samples_before: int = 0
    samples_after: int = 0
    offset_s: float = 0.0
    convention: str = "charge-first"

    def __post_init__(self) -> None:
        columns = self.per_cycle
        if type(columns).__module__.startswith("pandas"):  # a DataFrame
            columns = {str(name): columns[name].to_numpy() for name in columns.columns}
        object.__setattr__(self, "per_cycle", frozen_table(columns))
        object.__setattr__(self, "correlations", MappingProxyType(dict(self.correlations)))

    @property
    def cycles(self) -> pd.DataFrame:
        """The per-cycle table (one row per cycle of the record), a copy."""
        return self.to_frame()

    def to_frame(self) -> pd.DataFrame:
        """The per-cycle table (one row per cycle of the record), a copy."""
        import pandas as pd

        return pd.DataFrame({name: np.array(values) for name, values in self.per_cycle.items()})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe; ``cycles`` holds one object per cycle, keyed by the table's columns."""
        rows = to_json_safe(self.to_frame())
        return {("cycles" if key == "per_cycle" else key): (rows if key == "per_cycle" else value)
                for key, value in super().to_dict().items()}

    def _report_lines(self) -> list[str]:
        lines = [f"  growth per cycle: {self.growth_per_cycle} ({self.baseline} of each cycle, "
                 f"{self.cycles_fitted} complete cycles)",
                 f"  growth rate: {self.growth_rate}",
                 f"  initial pressure: {self.initial_pressure}",
                 f"  irreversible drift: {self.drift} ({self.drift_percent})",
                 f"  samples: {self.samples_used} used, {self.samples_before} before and "
                 f"{self.samples_after} after the cycling record (offset {self.offset_s:g} s)"]
        lines += [f"  {c}" for c in self.correlations.values()]
        return lines


def analyze_pressure(log: PressureLog, record: CyclingRecord, *, offset_s: float = 0.0,
                     convention: str = "charge-first", baseline: str = "start") -> PressureResult:
    """Per-cycle pressure, growth per cycle, drift and correlations (see the module docstring).

    ``offset_s`` is added to the log's times (a logger clock 30 s behind the cycler's needs
    ``offset_s=30``); ``convention`` numbers the cycles as ``ssbkit.cycling`` does;
    ``baseline`` is the per-cycle value the growth is fitted to: ``"start"`` (the pressure
    at the start of each cycle, default) or ``"min"`` (the per-cycle minimum).
    """
    from ssbkit.cycling import summarize_cycles
    from ssbkit.cycling.events import absolute_time, place_events

    if not isinstance(log, PressureLog):
        raise InputError(f"must be a PressureLog, got {type(log).__name__}", source="log")
    if not isinstance(record, CyclingRecord):
        raise InputError(f"must be a CyclingRecord, got {type(record).__name__}", source="record")
    offset_s = finite("offset_s", offset_s)
    convention = one_of("convention", convention, _CONVENTIONS)
    baseline = one_of("baseline", baseline, BASELINES)
    absolute = absolute_time(record)
    times = log.unix_time + offset_s
    before = int((times < absolute[0]).sum())
    after = int((times > absolute[-1]).sum())
    used = ~((times < absolute[0]) | (times > absolute[-1]))
    zone = _zone_hint(float(times[0] - absolute[0]), offset_s, record)
    if not used.any():
        raise InputError(f"the pressure log ({_span(times)}, offset {offset_s:g} s) does not overlap "
                         f"the cycling record {record.source or ''} ({_span(absolute)}); "
                         + (zone or "check both clocks, or give offset_s"),
                         source=log.source or "pressure log")
    record_time = np.asarray(record.time, float)
    summary = summarize_cycles(record, convention=convention).table
    ends = summary["end time [s]"].to_numpy(float)
    boundaries = np.r_[summary["start time [s]"].to_numpy(float), ends[-1:]]
    sample_time = np.interp(times[used], absolute, record_time)
    # one placement for the samples and the cycle boundaries (the boundaries' steps are needed)
    events = place_events(record, np.r_[sample_time, boundaries], time_base="test", convention=convention)
    interval = float(np.median(np.diff(log.unix_time))) if len(log) > 1 else math.inf
    cycles = _per_cycle(summary, events, log.pressure[used], boundaries, interval)
    fitted = cycles[cycles["complete"]]
    column = "start pressure [MPa]" if baseline == "start" else "min pressure [MPa]"
    level = fitted[column].to_numpy(float)
    ok = np.isfinite(level)
    first_cycle = float(cycles["cycle"].iloc[0]) if len(cycles) else 1.0
    rate, initial, covariance = _line(fitted["cycle"].to_numpy(float)[ok], level[ok], first_cycle)
    growth = _relative(rate, initial, covariance)
    drift, drift_percent = _drift(fitted, baseline)
    correlations = _correlations(fitted, column)
    success = int(ok.sum()) >= 2
    notes = [zone] if zone else []
    if not success:
        notes.append(f"the log covers {int(ok.sum())} complete cycle(s); growth per cycle needs two")
    if before or after:
        notes.append(f"{before} samples before and {after} after the cycling record were not used")
    partial = int((~cycles["complete"]).sum())
    if partial:
        notes.append(f"{partial} incomplete cycle(s) (the log does not cover them from start to end, "
                     "or the record cuts them off) were left out of the fit")
    provenance = make_provenance(
        "ssbkit.pressure.analyze_pressure",
        settings={"offset_s": offset_s, "convention": convention, "baseline": baseline},
        inputs={"pressure_log": _digest(log.unix_time, log.pressure),
                "record": _digest(record.time, record.current, record.voltage)})
    return PressureResult(
        success=success, message="; ".join(notes), provenance=provenance, per_cycle=cycles,
        baseline=baseline, growth_per_cycle=growth, growth_rate=Estimate(rate.value, rate.stderr,
                                                                         "MPa/cycle"),
        initial_pressure=Estimate(initial.value, initial.stderr, "MPa"), drift=drift,
        drift_percent=drift_percent, correlations=correlations, cycles_fitted=int(ok.sum()),
        samples_used=int(used.sum()), samples_before=before, samples_after=after,
        offset_s=offset_s, convention=convention)


def _per_cycle(summary: pd.DataFrame, events: Any, pressure: np.ndarray, boundaries: np.ndarray,
               interval: float) -> pd.DataFrame:
    """One row per cycle of ``summary``; ``events`` places the samples, then the boundaries."""
    import pandas as pd

    m = pressure.size
    sample_time, sample_cycle, sample_step = events.test_time[:m], events.cycle[:m], events.step[:m]
    reach = _COVERAGE_INTERVALS * interval
    at_boundary = np.array([_pressure_at_boundary(j, float(t), int(events.step[m + j]), sample_time,
                                                  sample_step, pressure, reach)
                            for j, t in enumerate(boundaries)])
    grouped = pd.DataFrame({"cycle": sample_cycle, "p": pressure, "t": sample_time}).groupby("cycle")
    stats = grouped.agg(samples=("p", "size"), low=("p", "min"), high=("p", "max"), mean=("p", "mean"),
                        first=("t", "min"), last=("t", "max"))
    table = pd.DataFrame({"cycle": summary["cycle"].astype(int).to_numpy(),
                          "start time [s]": boundaries[:-1], "end time [s]": summary["end time [s]"]
                          .to_numpy(float)})
    stats = stats.reindex(table["cycle"])
    count = stats["samples"].fillna(0).to_numpy(int)
    start_p, end_p = at_boundary[:-1], at_boundary[1:]
    both_halves = ((summary["charge capacity [mAh]"].to_numpy(float) > 0)
                   & (summary["discharge capacity [mAh]"].to_numpy(float) > 0))
    with np.errstate(invalid="ignore"):
        complete = (both_halves & (count > 0) & np.isfinite(start_p) & np.isfinite(end_p)
                    & (stats["first"].to_numpy(float) - table["start time [s]"].to_numpy() <= reach)
                    & (table["end time [s]"].to_numpy() - stats["last"].to_numpy(float) <= reach))
    table["samples"] = count
    table["complete"] = complete
    table["start pressure [MPa]"], table["end pressure [MPa]"] = start_p, end_p
    table["min pressure [MPa]"] = stats["low"].to_numpy(float)
    table["max pressure [MPa]"] = stats["high"].to_numpy(float)
    table["mean pressure [MPa]"] = stats["mean"].to_numpy(float)
    table["swing [MPa]"] = table["max pressure [MPa]"] - table["min pressure [MPa]"]
    table["rise [MPa]"] = end_p - start_p
    table["charge capacity [mAh]"] = summary["charge capacity [mAh]"].to_numpy(float)
    table["discharge capacity [mAh]"] = summary["discharge capacity [mAh]"].to_numpy(float)
    return table.reset_index(drop=True)


def _pressure_at_boundary(j: int, t: float, step: int, sample_time: np.ndarray, sample_step: np.ndarray,
                          pressure: np.ndarray, reach: float) -> float:
    """The pressure at a cycle boundary from the samples of the step that ends there (the
    record's first step, for the start of the record): a line through up to
    ``_EDGE_SAMPLES`` of them nearest the boundary, evaluated at it. NaN where the log does
    not reach the boundary."""
    if j == 0:
        lo = int(np.searchsorted(sample_time, t, side="left"))
        rows = np.arange(lo, min(lo + _EDGE_SAMPLES, sample_time.size))
    else:
        hi = int(np.searchsorted(sample_time, t, side="right"))
        rows = np.arange(max(hi - _EDGE_SAMPLES, 0), hi)
    rows = rows[sample_step[rows] == step]
    if rows.size == 0:  # a step shorter than the sampling interval: interpolate across it
        if sample_time.size == 0 or not sample_time[0] <= t <= sample_time[-1]:
            return math.nan
        nearest = np.min(np.abs(sample_time - t))
        return float(np.interp(t, sample_time, pressure)) if nearest <= reach else math.nan
    if np.min(np.abs(sample_time[rows] - t)) > reach:
        return math.nan
    x, y = sample_time[rows], pressure[rows]
    if rows.size == 1 or np.ptp(x) == 0:
        return float(y.mean())
    _, at_t = np.polyfit(x - t, y, 1)
    return float(at_t)


def _zone_hint(misfit: float, offset_s: float, record: CyclingRecord) -> str:
    """What a start misfit of whole hours (or of the record's UTC offset) suggests; "" if none."""
    from ssbkit.cycling.events import utc_offset

    where = "after" if misfit > 0 else "before"
    head = f"the pressure log starts {abs(misfit) / 3600:.2f} h {where} the cycling record"
    why = "a date-time without a zone is read as UTC"
    if str(record.metadata.get("timezone", "")).startswith("unknown"):
        why += ", and so were the cycler's, whose zone is unknown"
    local = utc_offset(record)
    if local and abs(misfit - local) <= ZONE_TOLERANCE_S:
        fix = offset_s - local
        return (f"{head}, about the {local / 3600:+g} h by which the cycler's local time is ahead "
                f"of UTC (utc_offset_s of the record): is the log in local time? ({why}); if "
                f"so, give offset_s={fix:g} (--offset-s {fix:g})")
    hours = round(misfit / 3600)
    if 1 <= abs(hours) <= _MAX_ZONE_HOURS and abs(misfit - 3600 * hours) <= ZONE_TOLERANCE_S:
        fix = offset_s - 3600 * hours
        return (f"{head}, close to {hours:+d} h: a time-zone mistake? ({why}); if the clocks "
                f"differ by {hours:+d} h, give offset_s={fix:g} (--offset-s {fix:g})")
    return ""


def _line(x: np.ndarray, y: np.ndarray, x1: float) -> tuple[Estimate, Estimate, float]:
    """Ordinary least squares y = p_1 + b·(x − x_1): b and p_1 with their stderrs, and cov(b, p_1)."""
    n = x.size
    if n < 2:
        return Estimate(math.nan), Estimate(math.nan), math.nan
    u = x - x1
    ubar, ybar = u.mean(), y.mean()
    sxx = float(((u - ubar) ** 2).sum())
    slope = float(((u - ubar) * (y - ybar)).sum() / sxx)
    intercept = float(ybar - slope * ubar)
    if n == 2:
        return Estimate(slope), Estimate(intercept), math.nan
    s2 = float(((y - intercept - slope * u) ** 2).sum() / (n - 2))
    return (Estimate(slope, math.sqrt(s2 / sxx)),
            Estimate(intercept, math.sqrt(s2 * (1.0 / n + ubar**2 / sxx))),
            -s2 * ubar / sxx)


def _relative(rate: Estimate, initial: Estimate, covariance: float) -> Estimate:
    """100 · b / p_1 [%] with first-order error propagation (including cov(b, p_1))."""
    b, a = rate.value, initial.value
    if not (math.isfinite(b) and math.isfinite(a)) or a == 0:
        return Estimate(math.nan, math.nan, "%")
    value = 100.0 * b / a
    if not (math.isfinite(rate.stderr) and math.isfinite(initial.stderr)):
        return Estimate(value, math.nan, "%")
    variance = (rate.stderr**2 / a**2 + b**2 * initial.stderr**2 / a**4
                - 2 * b * covariance / a**3)
    return Estimate(value, 100.0 * math.sqrt(max(variance, 0.0)), "%")


def _drift(fitted: pd.DataFrame, baseline: str) -> tuple[Estimate, Estimate]:
    if fitted.empty:
        return Estimate(math.nan, unit="MPa"), Estimate(math.nan, unit="%")
    if baseline == "start":
        first, last = fitted["start pressure [MPa]"].iloc[0], fitted["end pressure [MPa]"].iloc[-1]
    else:
        first, last = fitted["min pressure [MPa]"].iloc[0], fitted["min pressure [MPa]"].iloc[-1]
    change = float(last - first)
    percent = 100.0 * change / float(first) if first else math.nan
    return Estimate(change, unit="MPa"), Estimate(percent, unit="%")


def _correlations(fitted: pd.DataFrame, level: str) -> dict[str, Correlation]:
    capacity = fitted["discharge capacity [mAh]"].to_numpy(float)
    pairs = {"swing": ("swing [MPa]", "swing [MPa]"),
             "rise": ("rise [MPa]", "rise [MPa]"),
             "baseline": (level, "baseline [MPa]")}
    return {name: _pearson(capacity, fitted[column].to_numpy(float), "discharge capacity [mAh]", label)
            for name, (column, label) in pairs.items()}


def _pearson(x: np.ndarray, y: np.ndarray, x_name: str, y_name: str) -> Correlation:
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:  # r is undefined, not 0
        return Correlation(x_name, y_name, math.nan, math.nan, n)
    dx, dy = x - x.mean(), y - y.mean()
    r = float(np.clip((dx @ dy) / math.sqrt((dx @ dx) * (dy @ dy)), -1.0, 1.0))
    return Correlation(x_name, y_name, r, correlation_p_value(r, n), n)


def correlation_p_value(r: float, n: int) -> float:
    """Two-sided p-value of Pearson's r from n pairs: P(|T| ≥ |t|), t = r·√((n−2)/(1−r²)),
    T Student's t with ν = n − 2 degrees of freedom (Abramowitz & Stegun 26.7.3–4).

    >>> round(correlation_p_value(0.5, 10), 6)  # as scipy.stats.pearsonr
    0.141113
    """
    nu = n - 2
    if nu < 1 or not math.isfinite(r):
        return math.nan
    if abs(r) >= 1.0:
        return 0.0
    # θ = atan(|t|/√ν), so sin θ = |r| and cos²θ = 1 − r². With u = cos²θ the two-sided p is
    #   ν even: sin θ · Σ_{k ≥ ν/2} a_k u^k,             a_k = (2k − 1)!!/(2k)!!
    #   ν odd:  (2/π) sin θ cos θ · Σ_{k ≥ (ν−1)/2} a_k u^k, a_k = (2k)!!/(2k + 1)!!
    # (the full sums are 1/sin θ and (π/2 − θ)/(sin θ cos θ)). The finite head gives p as a
    # complement, exact enough unless p is small; then the tail is summed instead.
    even = nu % 2 == 0
    u, sin = 1.0 - r * r, abs(r)
    cos = math.sqrt(u)

    def ratio(k: int) -> float:  # a_k / a_{k−1}
        return (2 * k - 1) / (2 * k) if even else (2 * k) / (2 * k + 1)

    head, term = 0.0, 1.0
    m = nu // 2 if even else (nu - 1) // 2
    for k in range(1, m + 1):
        head += term
        term *= ratio(k) * u
    if even:
        complement, scale = 1.0 - sin * head, sin
    else:
        complement = 1.0 - 2.0 / math.pi * (math.atan2(sin, cos) + sin * cos * head)
        scale = 2.0 / math.pi * sin * cos
    if complement > 0.1:
        return complement
    tail, k = 0.0, m
    while term > 1e-17 * (1.0 - u) * tail and k < m + 1_000_000:
        tail += term
        k += 1
        term *= ratio(k) * u
    return scale * tail


def _span(times: np.ndarray) -> str:
    import pandas as pd

    first, last = (pd.Timestamp(float(t), unit="s").isoformat() for t in (times[0], times[-1]))
    return f"{first} to {last} UTC"


def _digest(*arrays: Any) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    return "sha256:" + digest.hexdigest()
