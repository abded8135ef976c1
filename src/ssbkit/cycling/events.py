"""Events placed on a cycling record: cycle, step, voltage and state of charge at given times.

Impedance spectra measured during cycling, pressure samples and photographs all carry a
time stamp; to plot them against the state of charge (a DRT map over SOC, pressure
against SOC) each needs the cycler's state at that moment. ``place_events(record,
times)`` gives, for every time:

* ``cycle`` (in the chosen convention, ``ssbkit.cycling.cycle_numbers``) and ``step``
  (the step number of ``ssbkit.cycling.find_steps``, which the step and cycle tables use);
* the step kind from the sign of that step's current: ``charging``, ``discharging`` or
  ``rest`` (|I| at most ``rest_current_a``, by default ``find_steps``'s 1e-4 of the largest
  current), and ``pulse`` for steps that both charge and discharge;
* the voltage, interpolated linearly in time between the rows around the event;
* the state of charge, defined per cycle so that it runs 0 → 1 on charge and 1 → 0 on
  discharge whatever the capacity of that cycle:

  - charging: SOC = charge passed since the cycle began / the cycle's charge capacity;
  - discharging: SOC = 1 − charge discharged since the cycle began / the cycle's
    discharge capacity;
  - rest (and pulse): the SOC the last charge or discharge of the cycle reached (a rest
    before the cycle's first current takes the value of that first step at zero charge
    passed: 0 before a charge, 1 before a discharge);

* ``depth`` [mAh]: the charge passed in the half-cycle the event belongs to (charged so far
  while charging, discharged so far while discharging; a rest keeps it).

The charge passed is built from the same per-row increments that
``ssbkit.cycling.summarize_cycles`` adds up into the per-cycle capacities (the cycler's
counters where the record has them, else the logged current), so the SOC reaches exactly
1 at the end of a cycle's charge and 0 at the end of its discharge. A record that starts
partway through a charge counts what the counter already held. Between two rows the
charge is interpolated linearly in time. A step, and so a cycle, owns the interval that
leads into its first row (the switch happens between two logged rows), as in
``find_steps``; an event exactly at a row's time belongs to that row. (A cycle that starts
with a discharge, as a charge-first cycle 1 may, counts that discharge in its discharged
charge, as the summary does.)

Times outside the record get NaN (``-1`` for cycle and step, ``""`` for the kind) and
``inside = False``; they are kept, in order, so the table lines up with the times given.

Absolute times: ``time_base="unix"`` (seconds since 1970-01-01 UTC, or date-times)
are placed with the record's absolute time, ``absolute_time(record)``: its ``Unix Time /
s`` column where it has one (held flat where the cycler's clock was set back by a few
seconds), else ``metadata["start_time"]`` plus the test time. A start time without a zone
is local time of the instrument: where the reader recorded ``metadata["utc_offset_s"]``
(how far that local time is ahead of UTC: +7200 for UTC+02:00) it is moved to UTC by
it, else it is taken as UTC (``utc_offset(record)`` says which).

Written here rather than taken from a peer: no cycling package places external events on
a record (a SOC column, where a peer has one, counts charge since the start of the test,
which drifts by the irreversible loss of every cycle).

Examples
--------
A 1 mA charge for one hour, then a 1 mA discharge for one hour:

>>> import numpy as np
>>> from ssbkit.cycling.data import CyclingRecord
>>> t = np.array([0.0, 3600, 3600, 7200])
>>> rec = CyclingRecord.from_columns({"Test Time / s": t, "Voltage / V": [2.0, 2.5, 2.5, 1.5],
...                                   "Current / A": [1e-3, 1e-3, -1e-3, -1e-3]})
>>> events = place_events(rec, [900, 3600, 5400, 9000], time_base="test")
>>> events.soc.tolist()[:3], events.kind.tolist()
([0.25, 1.0, 0.5], ['charging', 'charging', 'discharging', ''])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Result, frozen_array, make_provenance, to_json_safe
from ssbkit.core.validate import non_negative, one_of
from ssbkit.cycling.data import CHARGE_CAPACITY, DISCHARGE_CAPACITY, UNIX_TIME, CyclingRecord

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KINDS", "EventTable", "absolute_time", "place_events", "unix_seconds_of", "utc_offset"]

KINDS = ("charging", "discharging", "rest", "pulse")
CONVENTIONS = ("native", "charge-first", "discharge-first")
CLOCK_STEP_S = 60.0  # the largest step back of a cycler's clock taken as a correction
MAX_UTC_OFFSET_S = 18 * 3600.0  # ISO 8601 offsets lie within ±18 h
_REST_FRACTION = 1e-3


@dataclass(frozen=True, kw_only=True)
class EventTable(Result):
    """The cycler's state at each event time; arrays line up with the times given."""

    time: np.ndarray = field(repr=False)  # as given: unix [s] or test time [s]
    time_base: str
    test_time: np.ndarray = field(repr=False)  # [s]
    cycle: np.ndarray = field(repr=False)  # int64, -1 outside
    step: np.ndarray = field(repr=False)  # int64, -1 outside
    kind: np.ndarray = field(repr=False)  # "charging" | "discharging" | "rest" | ""
    voltage: np.ndarray = field(repr=False)  # [V]
    soc: np.ndarray = field(repr=False)  # fraction, 0 discharged .. 1 charged
    depth: np.ndarray = field(repr=False)  # [mAh] passed in the half-cycle
    inside: np.ndarray = field(repr=False)  # bool
    convention: str = "charge-first"

    def __post_init__(self) -> None:
        # frozen all the way down, however the table was built
        for name in ("time", "test_time", "cycle", "step", "kind", "voltage", "soc", "depth",
                     "inside"):
            object.__setattr__(self, name, frozen_array(getattr(self, name)))

    def __len__(self) -> int:
        return int(self.time.size)

    @property
    def outside(self) -> int:
        """How many events fall outside the record."""
        return int((~self.inside).sum())

    def to_frame(self) -> pd.DataFrame:
        """One row per event: time, test time, cycle, step, kind, voltage, SOC, depth, inside."""
        import pandas as pd

        given = "unix time [s]" if self.time_base == "unix" else "test time [s]"
        columns: dict[str, Any] = {given: self.time}
        if self.time_base == "unix":
            columns["test time [s]"] = self.test_time
        columns["cycle"] = pd.array(np.where(self.inside, self.cycle, 0), dtype="Int64")
        columns["step"] = pd.array(np.where(self.inside, self.step, 0), dtype="Int64")
        columns["cycle"][~self.inside] = pd.NA
        columns["step"][~self.inside] = pd.NA
        columns.update({"step kind": self.kind, "voltage [V]": self.voltage,
                        "state of charge": self.soc, "depth [mAh]": self.depth,
                        "inside": self.inside})
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: settings and one object per event (``null`` where outside the record)."""
        events = []
        for k in range(len(self)):
            inside = bool(self.inside[k])
            events.append({
                "time": self.time[k], "test_time": self.test_time[k],
                "cycle": int(self.cycle[k]) if inside else None,
                "step": int(self.step[k]) if inside else None,
                "kind": str(self.kind[k]) if inside else None,
                "voltage": self.voltage[k], "soc": self.soc[k], "depth": self.depth[k],
                "inside": inside})
        return {"success": self.success, "message": self.message, "time_base": self.time_base,
                "convention": self.convention,
                "units": {"time": "s", "test_time": "s", "voltage": "V", "soc": "1", "depth": "mAh"},
                "events": to_json_safe(events),
                "provenance": None if self.provenance is None else self.provenance.to_dict()}

    def labels(self) -> dict[str, list[Any]]:
        """Labels for ``ssbkit.eis.drt_series``: cycle, step kind, SOC [%], depth, voltage."""
        return {"cycle": [int(c) if ok else None for c, ok in zip(self.cycle, self.inside, strict=True)],
                "step kind": self.kind.tolist(),
                "state of charge [%]": (100.0 * self.soc).tolist(),
                "depth [mAh]": self.depth.tolist(),
                "voltage [V]": self.voltage.tolist()}

    def _report_lines(self) -> list[str]:
        lines = [f"  {len(self)} events ({self.time_base} time), {self.outside} outside the record,"
                 f" cycles by {self.convention}"]
        for k in range(min(len(self), 10)):
            if self.inside[k]:
                lines.append(f"  {self.time[k]:.6g} s: cycle {self.cycle[k]}, step {self.step[k]} "
                             f"{self.kind[k]}, {self.voltage[k]:.4g} V, SOC {self.soc[k]:.3f}, "
                             f"{self.depth[k]:.4g} mAh")
            else:
                lines.append(f"  {self.time[k]:.6g} s: outside the record")
        if len(self) > 10:
            lines.append(f"  … {len(self) - 10} more")
        return lines


def unix_seconds_of(value: Any, *, source: str = "start_time") -> float:
    """Seconds since 1970-01-01 UTC of an ISO 8601 text, datetime or number (zone-less = UTC).

    >>> unix_seconds_of("2024-03-01T00:00:00Z"), unix_seconds_of("2024-03-01 01:00:00+01:00")
    (1709251200.0, 1709251200.0)
    """
    import pandas as pd

    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        if not np.isfinite(value):
            raise InputError(f"must be a finite time, got {value!r}", source=source)
        return float(value)
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{value!r} is not a date and time (expected ISO 8601, e.g. "
                         "2024-03-01T09:30:00)", source=source) from None
    if stamp is pd.NaT:
        raise InputError(f"{value!r} is not a date and time", source=source)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return float((stamp - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1))


def absolute_time(record: CyclingRecord) -> np.ndarray:
    """Seconds since 1970-01-01 UTC of every row: ``Unix Time / s``, else start_time + test time.

    A cycler's clock is set now and then by the network, so its ``Unix Time`` can step back
    a second or two (a 700k-row Neware file does so 17 times, by up to 2.2 s); such steps of
    at most ``CLOCK_STEP_S`` are held flat (the time waits for the clock to catch up). A
    larger step back (a clock put back by an hour) is refused unless ``start_time`` is there
    to use instead.
    """
    where = record.source or "cycling record"
    start = record.metadata.get("start_time")
    if record.has(UNIX_TIME) and np.isfinite(record.columns[UNIX_TIME]).all():
        unix = np.asarray(record.columns[UNIX_TIME], float)
        steps = np.diff(unix)
        worst = int(np.argmin(steps)) if steps.size else 0
        if not steps.size or steps[worst] >= -CLOCK_STEP_S:
            return np.maximum.accumulate(unix)
        if not start:
            raise InputError(f"the {UNIX_TIME!r} column goes back {-steps[worst]:.0f} s at row "
                             f"{worst + 1}, more than a clock correction, and the record has no "
                             "start_time to use instead", source=where)
    if start:
        zone_less = _zone_less(start)
        shift = utc_offset(record) if zone_less else None
        base = unix_seconds_of(start, source=f"{where} (start_time)") - (shift or 0.0)
        return base + np.asarray(record.time, float)
    raise InputError(f"the record has no absolute time: no complete {UNIX_TIME!r} column and no "
                     "start_time in its metadata, so times of other instruments cannot be "
                     "placed on it (use time_base='test', or give the record a start_time)",
                     source=where)


def utc_offset(record: CyclingRecord) -> float | None:
    """How far the instrument's local clock is ahead of UTC [s], where the reader recorded it
    (``metadata["utc_offset_s"]``); None where it did not.

    >>> from ssbkit.cycling.data import CyclingRecord
    >>> rec = CyclingRecord.from_columns({"Test Time / s": [0.0, 1.0], "Voltage / V": [3.0, 3.0],
    ...                                   "Current / A": [0.0, 0.0]},
    ...                                  metadata={"start_time": "2024-05-06T08:58:57",
    ...                                            "utc_offset_s": 7200})
    >>> utc_offset(rec), float(absolute_time(rec)[0]) == unix_seconds_of("2024-05-06T06:58:57Z")
    (7200.0, True)
    """
    value = record.metadata.get("utc_offset_s")
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating)
            or not abs(value) <= MAX_UTC_OFFSET_S):
        raise InputError(f"metadata utc_offset_s must be seconds within ±18 h, got {value!r}",
                         source=record.source or "cycling record")
    return float(value)


def _zone_less(value: Any) -> bool:
    """Whether a start time is a date-time without a zone (a number is UTC already)."""
    import pandas as pd

    if isinstance(value, int | float | np.integer | np.floating):
        return False
    try:
        return pd.Timestamp(value).tzinfo is None
    except (TypeError, ValueError, OverflowError):
        return False  # unix_seconds_of says what is wrong with it


def _event_times(times: Any, time_base: str) -> np.ndarray:
    values = times if isinstance(times, list | tuple | np.ndarray) else [times]
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"must be one-dimensional, got {array.ndim} dimensions", source="times")
    if array.dtype.kind in "fiu":
        out = array.astype(float)
    elif time_base == "unix":
        out = np.array([unix_seconds_of(v, source="times") for v in values], float)
    else:
        raise InputError("test times must be numbers of seconds", source="times")
    bad = ~np.isfinite(out)
    if bad.any():
        raise InputError(f"time {int(np.flatnonzero(bad)[0])} is not a finite number", source="times")
    return out


class _RowState:
    """Per-row cycle, step and kind, and the charge passed within the cycle up to each row.

    The charge of row k is what passed in (t[k−1], t[k]], the same per-row increments the
    per-cycle summary adds up (the cycler's counters where the record has both, else the
    logged current as ``find_steps`` integrates it), so a cycle's charge passed reaches
    exactly the summary's capacity at its last row.
    """

    def __init__(self, record: CyclingRecord, convention: str, rest_current_a: float | None) -> None:
        import pandas as pd

        from ssbkit.cycling.cycles import cycle_numbers
        from ssbkit.cycling.steps import find_steps, row_increments
        from ssbkit.cycling.summary import summarize_cycles

        steps = find_steps(record, rest_current_a=rest_current_a)
        n = len(record)
        lengths = steps.stop_row - steps.start_row
        step_of_row = np.repeat(np.arange(len(steps)), lengths)
        self.step = np.asarray(steps.step, np.int64)[step_of_row]
        kind = steps.kind.astype(str)
        self.kind = np.where(kind == "pulse", "pulse", np.where(steps.direction > 0, "charging",
                             np.where(steps.direction < 0, "discharging", "rest")))[step_of_row]
        direction = steps.direction[step_of_row]
        self.cycle = np.asarray(cycle_numbers(record, convention=convention, steps=steps), np.int64)
        if record.has(CHARGE_CAPACITY) and record.has(DISCHARGE_CAPACITY):
            dqc = row_increments(record.column(CHARGE_CAPACITY)) * 1e3
            dqd = row_increments(record.column(DISCHARGE_CAPACITY)) * 1e3
        else:
            dqc, dqd = _current_increments(record, steps.start_row, steps.rest_current_a)
        self.increment_c, self.increment_d = dqc, dqd
        first = np.r_[True, self.cycle[1:] != self.cycle[:-1]] if n else np.zeros(0, bool)
        run = np.cumsum(first) - 1
        qc, qd = np.cumsum(dqc), np.cumsum(dqd)
        starts = np.flatnonzero(first)
        # a cycle's first row already holds the interval that leads into it
        self.charged = qc - (qc[starts] - dqc[starts])[run]
        self.discharged = qd - (qd[starts] - dqd[starts])[run]
        self.first_of_cycle = first
        # the state a rest or pulse keeps: the last charge or discharge of its cycle, else the next
        active = pd.Series(np.where(direction != 0, direction, np.nan))
        grouped = active.groupby(run)
        self.state = active.fillna(grouped.ffill()).fillna(grouped.bfill()).to_numpy()
        table = summarize_cycles(record, convention=convention, steps=steps).table
        capacity = dict(zip(table["cycle"].astype(int), zip(table["charge capacity [mAh]"],
                        table["discharge capacity [mAh]"], strict=True), strict=True))
        per_cycle = [capacity.get(int(c), (np.nan, np.nan)) for c in self.cycle[starts]]
        self.charge_capacity = np.array([c for c, _ in per_cycle], float)[run]
        self.discharge_capacity = np.array([d for _, d in per_cycle], float)[run]

    def soc_and_depth(self, rows: np.ndarray, charged: np.ndarray,
                      discharged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        state = self.state[rows]
        qc, qd = self.charge_capacity[rows], self.discharge_capacity[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            on_charge = np.where(qc > 0, charged / qc, np.nan)
            on_discharge = np.where(qd > 0, 1.0 - discharged / qd, np.nan)
        soc = np.where(state == 1, on_charge, np.where(state == -1, on_discharge, np.nan))
        depth = np.where(state == 1, charged, np.where(state == -1, discharged, np.nan))
        return soc, depth


def _current_increments(record: CyclingRecord, step_starts: np.ndarray,
                        rest_current_a: float) -> tuple[np.ndarray, np.ndarray]:
    """Charge and discharge [mAh] passed in (t[k−1], t[k]] from the logged current, as
    ``find_steps`` takes it: trapezoid where the current runs on smoothly, the value logged
    at the end of the interval where it jumps (a new step, a pulse)."""
    t = np.asarray(record.time, float)
    i = np.nan_to_num(np.asarray(record.current, float))
    regime = np.where(i > rest_current_a, 1, np.where(i < -rest_current_a, -1, 0))
    first = np.zeros(t.size, bool)
    first[step_starts] = True
    dt = np.diff(t, prepend=t[0])
    i_prev = np.r_[i[0], i[:-1]]
    smooth = ~first & (regime == np.r_[regime[0], regime[:-1]]) & (
        np.abs(i - i_prev) <= 0.5 * np.maximum(np.abs(i), np.abs(i_prev)))
    dq = np.where(smooth, 0.5 * (i + i_prev), i) * dt / 3.6  # mAh
    return np.where(dq > 0, dq, 0.0), np.where(dq < 0, -dq, 0.0)


def place_events(record: CyclingRecord, times: Any, *, time_base: str = "unix",
                 convention: str = "charge-first", rest_current_a: float | None = None) -> EventTable:
    """The cycle, step, step kind, voltage, state of charge and depth at each of ``times``.

    ``times``: seconds since 1970-01-01 UTC (or date-times) with ``time_base="unix"``,
    or test time [s] of the record with ``time_base="test"``. ``convention`` numbers the
    cycles (``"native"``, ``"charge-first"``, ``"discharge-first"``). See the module
    docstring for the definitions.
    """
    if not isinstance(record, CyclingRecord):
        raise InputError(f"must be a CyclingRecord, got {type(record).__name__}", source="record")
    time_base = one_of("time_base", time_base, ("unix", "test"))
    convention = one_of("convention", convention, CONVENTIONS)
    if rest_current_a is not None:
        rest_current_a = non_negative("rest_current_a", rest_current_a)
    given = _event_times(times, time_base)
    record_time = np.asarray(record.time, float)
    if time_base == "unix":
        absolute = absolute_time(record)
        inside = (given >= absolute[0]) & (given <= absolute[-1])
        test_time = np.where(inside, np.interp(given, absolute, record_time), np.nan)
    else:
        inside = (given >= record_time[0]) & (given <= record_time[-1])
        test_time = np.where(inside, given, np.nan)
    n, m = record_time.size, given.size
    cycle, step = np.full(m, -1, np.int64), np.full(m, -1, np.int64)
    kind = np.full(m, "", dtype=object)
    voltage, soc, depth = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    if inside.any():
        state = _RowState(record, convention, rest_current_a)
        t = test_time[inside]
        # row r is the first at or after t: the interval (t[r-1], t[r]] holds t, and steps
        # and cycles own the interval that leads into their first row
        rows = np.clip(np.searchsorted(record_time, t, side="left"), 0, n - 1)
        before = np.maximum(rows - 1, 0)
        span = record_time[rows] - record_time[before]
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.where(span > 0, (record_time[rows] - t) / span, 0.0)  # share still to come
        v = np.asarray(record.voltage, float)
        voltage[inside] = v[rows] - left * (v[rows] - v[before])
        charged = state.charged[rows] - left * state.increment_c[rows]
        discharged = state.discharged[rows] - left * state.increment_d[rows]
        soc[inside], depth[inside] = state.soc_and_depth(rows, charged, discharged)
        cycle[inside], step[inside] = state.cycle[rows], state.step[rows]
        kind[inside] = state.kind[rows]
    outside = int((~inside).sum())
    message = f"{outside} of {m} events fall outside the record" if outside else ""
    provenance = make_provenance(
        "ssbkit.cycling.place_events",
        settings={"time_base": time_base, "convention": convention, "rest_current_a": rest_current_a},
        inputs={"times": given, "record": record.source or "cycling record"})
    return EventTable(time=given, time_base=time_base, test_time=test_time, cycle=cycle, step=step,
                      kind=kind.astype(str), voltage=voltage, soc=soc, depth=depth, inside=inside,
                      convention=convention, message=message, provenance=provenance)


