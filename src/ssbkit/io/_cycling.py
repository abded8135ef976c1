"""Shared machinery of the cycler readers: vendor columns to a ``CyclingRecord``.

Each cycler format is a *dialect*: a table from the vendor's column names to a canonical
BDF column and the unit the vendor writes. ``record_from_frame`` applies it: converts
units, turns clock strings and dates into seconds, keeps columns it was told to keep
under their own names, and warns once (``UnknownColumnWarning``) about columns nobody
declared, keeping those too: a new software version that adds a column must never stop
a file from being read. Text parsing itself stays with each reader (header blocks,
separators and decimal commas differ too much to share).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    DISCHARGE_CAPACITY,
    DISCHARGE_ENERGY,
    STEP_COUNT,
    CyclingRecord,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "UnknownColumnWarning",
    "counters_from_net",
    "duration_seconds",
    "record_from_frame",
    "scale",
    "step_count_from",
    "unix_seconds",
]


class UnknownColumnWarning(UserWarning):
    """A cycler file has columns its reader does not know; they are kept under their names."""


# Factor from the vendor's unit to the BDF unit of the same quantity.
_SCALE = {
    "s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0, "d": 86400.0,
    "V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6,
    "A": 1.0, "mA": 1e-3, "uA": 1e-6, "µA": 1e-6, "nA": 1e-9,
    "Ah": 1.0, "mAh": 1e-3, "uAh": 1e-6, "µAh": 1e-6, "As": 1 / 3600, "C": 1 / 3600,
    "mAs": 1e-3 / 3600,
    "Wh": 1.0, "mWh": 1e-3, "uWh": 1e-6, "µWh": 1e-6, "J": 1 / 3600, "kWh": 1e3,
    "degC": 1.0, "°C": 1.0,
    "Pa": 1.0, "kPa": 1e3, "MPa": 1e6, "bar": 1e5, "psi": 6894.757293168,
    "1": 1.0,
}


def scale(unit: str, *, source: str | Path = "", column: str = "") -> float:
    """The factor from ``unit`` to the BDF unit of its quantity (``InputError`` if unknown)."""
    key = unit.strip().replace("μ", "µ")
    if key not in _SCALE:
        raise InputError(f"column {column!r} has unit {unit!r}, which ssbkit does not know "
                         f"(known: {', '.join(sorted(_SCALE))})", source=str(source) or None)
    return _SCALE[key]


_CLOCK = re.compile(r"^\s*(?:(\d+)\s*[d.-]\s*)?(\d+):(\d{1,2}):(\d{1,2}(?:[.,]\d*)?)\s*$")


def duration_seconds(values: Iterable[Any], *, source: str | Path = "", column: str = "") -> np.ndarray:
    """Seconds from clock strings (``"1:02:03.5"``, ``"2-01:00:00"`` for days) or numbers."""
    import pandas as pd

    series = pd.Series(list(values) if not isinstance(values, pd.Series) else values)
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(float)
    text = series.astype(str)
    parts = text.str.extract(_CLOCK)
    bad = parts[1].isna() & series.notna() & numeric.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"column {column!r} holds {text.iloc[row]!r} at row {row}, not a "
                         "duration (h:mm:ss)", source=str(source) or None)
    days = pd.to_numeric(parts[0], errors="coerce").fillna(0.0)
    seconds = (days * 86400 + pd.to_numeric(parts[1]) * 3600 + pd.to_numeric(parts[2]) * 60
               + pd.to_numeric(parts[3].str.replace(",", ".", regex=False)))
    return np.where(numeric.notna(), numeric, seconds).astype(float)


def unix_seconds(values: Iterable[Any], *, source: str | Path = "", column: str = "",
                 dayfirst: bool = False, fmt: str | None = None) -> np.ndarray:
    """Seconds since 1970-01-01 from date-time strings (times without a zone taken as UTC)."""
    import pandas as pd

    series = pd.Series(list(values) if not isinstance(values, pd.Series) else values)
    stamps = pd.to_datetime(series, errors="coerce", dayfirst=dayfirst, format=fmt)
    bad = stamps.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"column {column!r} holds {series.iloc[row]!r} at row {row}, not a "
                         "date and time", source=str(source) or None)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return (stamps - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(float)


def step_count_from(step_index: np.ndarray, *others: np.ndarray) -> np.ndarray:
    """A sequential step number (1, 2, …) that increments where any given column changes."""
    n = len(step_index)
    change = np.zeros(n, bool)
    for column in (step_index, *others):
        values = np.asarray(column)
        if n > 1:
            change[1:] |= values[1:] != values[:-1]
    return np.cumsum(change).astype(np.int64) + 1


def counters_from_net(step_count: np.ndarray, net: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Charge and discharge counters (≥ 0, restarting each step) from a signed net counter.

    Some cyclers (fastnda's Neware output, Basytec) keep one signed capacity per step. Its
    rises are charge and its falls discharge, so a pulse step that does both gets both,
    each positive: splitting by the sign of the net value instead would make a pulse step's
    discharge negative, the bug NewareNDA's pulse files show.
    """
    net = np.nan_to_num(np.asarray(net, float))
    step_count = np.asarray(step_count)
    first = np.ones(len(net), bool)
    first[1:] = step_count[1:] != step_count[:-1]
    increment = np.diff(net, prepend=0.0)
    increment[first] = net[first]  # a step's first row counts from zero
    rise, fall = np.where(increment > 0, increment, 0.0), np.where(increment < 0, -increment, 0.0)
    starts = np.flatnonzero(first)
    charge = np.cumsum(rise)
    discharge = np.cumsum(fall)
    # restart both sums at each step
    offset_c = np.repeat(np.r_[0.0, charge[starts[1:] - 1]], np.diff(np.r_[starts, len(net)]))
    offset_d = np.repeat(np.r_[0.0, discharge[starts[1:] - 1]], np.diff(np.r_[starts, len(net)]))
    return charge - offset_c, discharge - offset_d


def record_from_frame(frame: pd.DataFrame, dialect: Mapping[str, tuple[str, str]], *,
                      source: str | Path, metadata: Mapping[str, Any] | None = None,
                      keep: Iterable[str] = (), durations: Iterable[str] = (),
                      dates: Mapping[str, dict[str, Any]] | None = None) -> CyclingRecord:
    """A ``CyclingRecord`` from a vendor table.

    ``dialect`` maps a vendor column to ``(canonical BDF column, vendor unit)``; columns in
    ``durations`` are clock strings (h:mm:ss) and those in ``dates`` date-times (their
    value: options for ``unix_seconds``). Columns in ``keep`` are known and kept as they
    are; any other column is kept too, and named in one ``UnknownColumnWarning`` and in
    ``metadata["unknown_columns"]``. Capacity and energy counters are made non-negative
    (some exports write discharge as negative numbers).
    """
    import pandas as pd

    out: dict[str, Any] = {}
    durations, dates = set(durations), dict(dates or {})
    keep = set(keep)
    unknown: list[str] = []
    for name in frame.columns:
        if name in dialect:
            canonical, unit = dialect[name]
            if canonical in out:
                continue  # the first declared spelling wins
            if name in dates:
                values = unix_seconds(frame[name], source=source, column=name, **dates[name])
            elif name in durations:
                values = duration_seconds(frame[name], source=source, column=name) * scale(
                    unit, source=source, column=name)
            elif canonical == "Step Type":
                values = frame[name].astype(str).to_numpy()
            else:
                numeric = pd.to_numeric(frame[name], errors="coerce")
                suspect = numeric.isna() & frame[name].notna()
                # only cells that failed to parse are looked at again (blank text is a gap)
                bad = suspect.copy()
                if suspect.any():
                    bad[suspect] = frame[name][suspect].astype(str).str.strip() != ""
                if bad.any():
                    row = int(np.flatnonzero(bad.to_numpy())[0])
                    raise InputError(f"column {name!r} holds {frame[name].iloc[row]!r} at row "
                                     f"{row}, not a number", source=str(source))
                values = numeric.to_numpy(float) * scale(unit, source=source, column=name)
            if canonical in (CHARGE_CAPACITY, DISCHARGE_CAPACITY, CHARGE_ENERGY, DISCHARGE_ENERGY):
                values = np.abs(values)
            out[canonical] = values
        else:
            out[str(name)] = frame[name].to_numpy()
            if name not in keep:
                unknown.append(str(name))
    meta = dict(metadata or {})
    if unknown:
        meta["unknown_columns"] = unknown
        warnings.warn(f"{Path(source).name}: columns ssbkit does not know were kept as they "
                      f"are: {', '.join(unknown)}", UnknownColumnWarning, stacklevel=3)
    if STEP_COUNT not in out and "Step Index / 1" in out:
        out[STEP_COUNT] = step_count_from(np.asarray(out["Step Index / 1"]))
    return CyclingRecord.from_columns(out, metadata=meta, source=source)
