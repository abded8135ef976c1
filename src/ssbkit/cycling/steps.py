"""Steps of a cycler record: where each starts and ends, what it did, what it passed.

Written here rather than taken from a peer because every peer we measured gets one of
these wrong on real files (``../shared/reference/cycling.md`` §4): a CC–CV charge stored
as two steps is counted as its largest or its last step, a pulse step comes out with a
negative capacity, and counters that reset per step, per cycle or never are confused.

**Step boundaries** come from the instrument's ``Step Count`` (else changes of ``Step
Index``, else changes between rest, charge and discharge as seen in the current).

**Capacities** come from the cycler's own counters wherever the file has them, because
the cycler integrates at its internal rate, far faster than it logs. A counter may restart
at every step, at every cycle, or never; rather than guess which, each row's increment is
taken as the rise of the counter since the previous row, and where the counter fell it
restarted, so the increment is its new value. One rule serves all three layouts. The same
quantities are also integrated from the logged current (trapezoid where the current varies
smoothly; where it jumps, at a step's start or in pulses, the value logged at the end of
the interval), and ``counter_deviation`` compares them.

**Kinds** come from what the current and voltage did, with the instrument's step name as
a tie-breaker: ``rest`` (|I| below ``rest_current_a`` throughout, or a step that passes
less than 1e-3 of the median active step, such as a one-row transition step or a rest with
an offset current, or one the instrument calls Rest/OCV), ``pulse`` (charge and
discharge both above 5 % of the step's throughput), otherwise charge or discharge and the
control: ``cc_`` (current constant within 2 %), ``cv_`` (voltage within 10 mV while the
current falls), ``cccv_`` (CC then CV in one step), or plain ``charge``/``discharge``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    CYCLE,
    DISCHARGE_CAPACITY,
    DISCHARGE_ENERGY,
    STEP_COUNT,
    STEP_INDEX,
    STEP_TYPE,
    CyclingRecord,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KINDS", "StepTable", "find_steps", "row_increments"]

KINDS = ("rest", "cc_charge", "cv_charge", "cccv_charge", "charge", "cc_discharge",
         "cv_discharge", "cccv_discharge", "discharge", "pulse")

_FIELDS = {
    # name: (column label, dtype)
    "step": ("step", np.int64),
    "start_row": ("start row", np.int64),
    "stop_row": ("stop row", np.int64),
    "native_cycle": ("native cycle", np.int64),
    "step_index": ("step index", np.int64),
    "kind": ("kind", object),
    "instrument_type": ("instrument step type", object),
    "start_time": ("start time [s]", float),
    "end_time": ("end time [s]", float),
    "charge_ah": ("charge [Ah]", float),
    "discharge_ah": ("discharge [Ah]", float),
    "charge_integral_ah": ("charge from current [Ah]", float),
    "discharge_integral_ah": ("discharge from current [Ah]", float),
    "charge_wh": ("charge energy [Wh]", float),
    "discharge_wh": ("discharge energy [Wh]", float),
    "mean_current_a": ("mean current [A]", float),
    "start_voltage": ("start voltage [V]", float),
    "end_voltage": ("end voltage [V]", float),
}


@dataclass(frozen=True, eq=False)
class StepTable:
    """One entry per step (numpy arrays of equal length; see ``_FIELDS`` for the columns).

    A step starts when the previous one ends (the time of its last row: the switch happens
    between two logged rows, and the cycler counts that interval in the new step), so
    steps and cycles tile the record without gaps.

    ``capacity_source`` says where ``charge_ah``/``discharge_ah`` came from ("counters"
    or "current"); ``counter_deviation`` is the largest relative difference between the
    counters and the current integral over steps that pass at least 1 % of the largest
    step's charge (NaN without counters). ``starts_mid_step`` is True when the counters are
    already above zero on the first row: the file starts partway through a step (or a
    cycle, for counters that run over a cycle), so its first step holds charge passed
    before the file began and is left out of the check.
    """

    step: np.ndarray
    start_row: np.ndarray
    stop_row: np.ndarray
    native_cycle: np.ndarray
    step_index: np.ndarray
    kind: np.ndarray
    instrument_type: np.ndarray
    start_time: np.ndarray
    end_time: np.ndarray
    charge_ah: np.ndarray
    discharge_ah: np.ndarray
    charge_integral_ah: np.ndarray
    discharge_integral_ah: np.ndarray
    charge_wh: np.ndarray
    discharge_wh: np.ndarray
    mean_current_a: np.ndarray
    start_voltage: np.ndarray
    end_voltage: np.ndarray
    # per-step sums of V·dQ over charge and discharge rows [V·Ah], and of the dQ they
    # weigh (rows with a voltage), for mean voltages
    charge_vq: np.ndarray
    discharge_vq: np.ndarray
    charge_vq_q: np.ndarray
    discharge_vq_q: np.ndarray
    capacity_source: str
    counter_deviation: float
    rest_current_a: float
    starts_mid_step: bool = False

    def __post_init__(self) -> None:
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def __len__(self) -> int:
        return self.step.size

    @property
    def direction(self) -> np.ndarray:
        """+1 for charge steps, −1 for discharge steps, 0 for rests and pulses."""
        kind = self.kind.astype(str)
        out = np.zeros(kind.size, np.int64)
        out[np.char.endswith(kind, "_charge") | (kind == "charge")] = 1
        out[np.char.endswith(kind, "_discharge") | (kind == "discharge")] = -1
        return out

    def to_frame(self) -> pd.DataFrame:
        """The steps as a DataFrame with ``name [unit]`` columns."""
        import pandas as pd

        return pd.DataFrame({label: getattr(self, name) for name, (label, _) in _FIELDS.items()})


def row_increments(counter: np.ndarray) -> np.ndarray:
    """Each row's share of a cumulative counter that may restart at any row.

    A rise is the increment; a fall means the counter restarted, so the increment is the
    new value. Falls smaller than 1e-9 of the counter's scale are rounding and count 0.

    >>> row_increments(np.array([0.1, 0.3, 0.6, 0.05, 0.25])).round(2).tolist()
    [0.1, 0.2, 0.3, 0.05, 0.2]
    """
    c = np.nan_to_num(np.asarray(counter, float))
    inc = np.empty_like(c)
    if c.size == 0:
        return inc
    inc[0] = c[0]
    d = np.diff(c)
    tol = 1e-9 * max(float(np.abs(c).max()), 1e-300)
    inc[1:] = np.where(d >= -tol, np.maximum(d, 0.0), c[1:])
    return inc


def _boundaries(record: CyclingRecord, regime: np.ndarray) -> np.ndarray:
    """Row indices where a new step starts (always includes 0)."""
    n = len(record)
    change = np.zeros(n, bool)
    change[0] = True
    if record.has(STEP_COUNT):
        s = record.column(STEP_COUNT)
        change[1:] |= s[1:] != s[:-1]
    elif record.has(STEP_INDEX):
        s = record.column(STEP_INDEX)
        change[1:] |= s[1:] != s[:-1]
        if record.has(CYCLE):  # the same program step in the next loop is a new step
            c = record.column(CYCLE)
            change[1:] |= c[1:] != c[:-1]
    else:
        change[1:] |= regime[1:] != regime[:-1]
    return np.flatnonzero(change)


def find_steps(record: CyclingRecord, *, rest_current_a: float | None = None) -> StepTable:
    """Split ``record`` into steps and measure each (see the module docstring).

    ``rest_current_a``: currents at or below this magnitude count as zero; by default
    1e-4 of the 99th percentile of |current| over the rows with current (and at least
    1e-12 A), so that one glitch row does not raise it.
    """
    t = record.time.astype(float)
    v = record.voltage.astype(float)
    i = np.nan_to_num(record.current.astype(float))
    n = t.size
    moving = np.abs(i[i != 0])
    # a high percentile, not the maximum: one glitch row must not turn every step into a rest
    imax = float(np.percentile(moving, 99)) if moving.size else 0.0
    if rest_current_a is None:
        rest_current_a = max(1e-4 * imax, 1e-12)
    elif not np.isfinite(rest_current_a) or rest_current_a < 0:
        raise InputError(f"must be a current >= 0 A, got {rest_current_a!r}", source="rest_current_a")
    regime = np.where(i > rest_current_a, 1, np.where(i < -rest_current_a, -1, 0))
    starts = _boundaries(record, regime)
    stops = np.r_[starts[1:], n]
    first = np.zeros(n, bool)
    first[starts] = True

    # charge passed in (t[k-1], t[k]] from the logged current
    dt = np.diff(t, prepend=t[0])
    i_prev = np.r_[i[0], i[:-1]]
    # where the current jumps (pulses, a new regime) the logged value is the one the
    # interval ended with, as the cycler logs it; a trapezoid would average across the jump
    smooth = ~first & (regime == np.r_[regime[0], regime[:-1]]) & (
        np.abs(i - i_prev) <= 0.5 * np.maximum(np.abs(i), np.abs(i_prev)))
    i_mid = np.where(smooth, 0.5 * (i + i_prev), i)
    dq = i_mid * dt / 3600.0  # Ah, signed
    step_of_row = np.repeat(np.arange(starts.size), stops - starts)

    def per_step(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts) if n else np.zeros(0)

    q_in = per_step(np.where(dq > 0, dq, 0.0))
    q_out = per_step(np.where(dq < 0, -dq, 0.0))
    has_counters = record.has(CHARGE_CAPACITY) and record.has(DISCHARGE_CAPACITY)
    if has_counters:
        inc_c = row_increments(record.column(CHARGE_CAPACITY))
        inc_d = row_increments(record.column(DISCHARGE_CAPACITY))
        charge, discharge = per_step(inc_c), per_step(inc_d)
        source = "counters"
        # a file that starts partway through a step holds counters that already count
        # charge passed before its first row: that step cannot be checked against the current
        # (a first row normally carries one logging interval's worth; ten times the
        # step's median increment is more than that)
        first_rows = slice(1, stops[0])
        typical = max(float(np.median(inc_c[first_rows] + inc_d[first_rows]))
                      if stops[0] > 1 else 0.0, 1e-300)
        mid_step = bool(inc_c[0] + inc_d[0] > 10 * typical)
        throughput = charge + discharge
        big = throughput >= 0.01 * max(float(throughput.max()), 1e-300)
        big[0] &= not mid_step
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.abs((charge - discharge) - (q_in - q_out))[big] / throughput[big]
        deviation = float(dev.max()) if dev.size else float("nan")
        row_c, row_d = inc_c, inc_d
    else:
        charge, discharge, source, deviation = q_in, q_out, "current", float("nan")
        mid_step = False
        row_c, row_d = np.where(dq > 0, dq, 0.0), np.where(dq < 0, -dq, 0.0)
    v_mid = np.where(first, v, 0.5 * (v + np.r_[v[0], v[:-1]]))
    v_mid = np.where(np.isfinite(v_mid), v_mid, v)  # a missing neighbour: the row's own V
    known = np.isfinite(v_mid)  # rows without a voltage are left out of V·dQ and its weight
    v_known = np.where(known, v_mid, 0.0)
    charge_vq, discharge_vq = per_step(v_known * row_c), per_step(v_known * row_d)
    charge_vq_q, discharge_vq_q = per_step(row_c * known), per_step(row_d * known)
    if record.has(CHARGE_ENERGY) and record.has(DISCHARGE_ENERGY):
        charge_wh = per_step(row_increments(record.column(CHARGE_ENERGY)))
        discharge_wh = per_step(row_increments(record.column(DISCHARGE_ENERGY)))
    else:  # ∫V dQ, the rows without a voltage taken at the step's mean voltage
        with np.errstate(divide="ignore", invalid="ignore"):
            charge_wh = np.where(charge_vq_q > 0, charge_vq * charge / charge_vq_q, 0.0)
            discharge_wh = np.where(discharge_vq_q > 0, discharge_vq * discharge / discharge_vq_q, 0.0)

    duration = per_step(dt * (~first)) + 0.0
    mean_current = np.divide((q_in - q_out) * 3600.0, duration,
                             out=np.zeros_like(duration), where=duration > 0)
    kinds = _classify(i, v, starts, stops, step_of_row, charge, discharge, rest_current_a,
                      record.column(STEP_TYPE)[starts] if record.has(STEP_TYPE) else None)
    native = record.column(CYCLE)[starts] if record.has(CYCLE) else np.zeros(starts.size, np.int64)
    index = (record.column(STEP_INDEX)[starts] if record.has(STEP_INDEX)
             else np.zeros(starts.size, np.int64))
    names = (record.column(STEP_TYPE)[starts].astype(object) if record.has(STEP_TYPE)
             else np.full(starts.size, "", object))
    return StepTable(
        step=np.arange(1, starts.size + 1), start_row=starts, stop_row=stops,
        native_cycle=np.asarray(native, np.int64), step_index=np.asarray(index, np.int64),
        kind=kinds, instrument_type=names, start_time=t[np.maximum(starts - 1, 0)],
        end_time=t[stops - 1],
        charge_ah=charge, discharge_ah=discharge, charge_integral_ah=q_in,
        discharge_integral_ah=q_out, charge_wh=charge_wh, discharge_wh=discharge_wh,
        mean_current_a=mean_current, start_voltage=v[starts], end_voltage=v[stops - 1],
        charge_vq=charge_vq, discharge_vq=discharge_vq, charge_vq_q=charge_vq_q,
        discharge_vq_q=discharge_vq_q, capacity_source=source,
        counter_deviation=deviation, rest_current_a=float(rest_current_a),
        starts_mid_step=mid_step,
    )


def _classify(i: np.ndarray, v: np.ndarray, starts: np.ndarray, stops: np.ndarray,
              step_of_row: np.ndarray, charge: np.ndarray, discharge: np.ndarray,
              rest_current: float, names: np.ndarray | None) -> np.ndarray:
    """The kind of each step (vectorised over rows; see the module docstring)."""
    n_steps = starts.size
    abs_i = np.abs(i)
    active = abs_i > rest_current
    n_active = np.bincount(step_of_row, weights=active, minlength=n_steps)
    through = charge + discharge
    with np.errstate(divide="ignore", invalid="ignore"):
        minority = np.minimum(charge, discharge) / through
    kinds = np.full(n_steps, "rest", dtype=object)
    pulse = (n_active > 0) & (minority > 0.05)
    sign = np.where(charge >= discharge, 1, -1)
    # spread of |I| and of V over each step's active rows
    big = np.float64(np.inf)
    v_act = np.where(active & np.isfinite(v), v, np.nan)
    i_hi = _reduce(np.fmax, np.where(active, abs_i, -big), starts)
    i_lo = _reduce(np.fmin, np.where(active, abs_i, big), starts)
    v_hi = _reduce(np.fmax, np.where(np.isfinite(v_act), v_act, -big), starts)
    v_lo = _reduce(np.fmin, np.where(np.isfinite(v_act), v_act, big), starts)
    # the current at the start and end of each step's active rows, for CV and CC–CV
    row = np.arange(i.size)
    first_active = _reduce(np.fmin, np.where(active, row, i.size), starts).astype(int)
    last_active = _reduce(np.fmax, np.where(active, row, -1), starts).astype(int)
    ok = (first_active < i.size) & (last_active >= 0)
    fa, la = np.clip(first_active, 0, i.size - 1), np.clip(last_active, 0, i.size - 1)
    i_first, i_last = np.abs(i[fa]), np.abs(i[la])
    with np.errstate(divide="ignore", invalid="ignore"):
        constant_i = (i_hi - i_lo) <= 0.02 * i_hi
        constant_v = (v_hi - v_lo) <= 0.010
        falling = i_last < 0.7 * i_first
        # CC then CV: the current was constant at first (|I| near its maximum) and fell later
        cccv = falling & (i_first >= 0.98 * i_hi)
    label = np.where(constant_i, "cc_", np.where(constant_v & falling, "cv_",
                                                  np.where(cccv, "cccv_", "")))
    word = np.where(sign > 0, "charge", "discharge")
    active_kind = np.char.add(label.astype(str), word.astype(str)).astype(object)
    # a step that passes almost nothing (an offset current in a rest, a one-row transition
    # step) is a rest: it must not open or split a cycle
    moving = through[(n_active > 0) & (through > 0)]
    floor = 1e-3 * float(np.median(moving)) if moving.size else 0.0
    negligible = through <= floor
    kinds = np.where(ok & (n_active > 0) & ~negligible, active_kind, kinds)
    kinds = np.where(pulse & ~negligible, "pulse", kinds)
    if names is not None:
        lower = np.char.lower(np.asarray(names).astype(str))
        kinds = np.where(np.char.find(lower, "pulse") >= 0, "pulse", kinds)
        named_rest = np.isin(lower, ["rest", "ocv", "pause", "open circuit", "r"])
        kinds = np.where(named_rest & (minority <= 0.05), "rest", kinds)
        is_cv = (np.char.find(lower, "cv") >= 0) & (np.char.find(lower, "cc") < 0)
        kinds = np.where(is_cv & (n_active > 0) & ~pulse & ~negligible,
                         np.char.add("cv_", word.astype(str)).astype(object), kinds)
    return kinds.astype(object)


def _reduce(ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return ufunc.reduceat(values, starts) if values.size else np.zeros(0)
