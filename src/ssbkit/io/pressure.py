"""Stack-pressure logs: CSV/TSV tables of time and pressure (or force) from a load cell.

A pressure logger writes one sample every so often (a minute, say) to a delimited text
file. Layouts differ between loggers, so columns are found by name, never by position:

- **time**, one of: an ISO date-time column (``timestamp``, ``date time``, ``datetime``,
  ``date/time``, or a ``time`` column that holds dates); separate ``Date`` and ``Time``
  columns; seconds since 1970 (``unix time [s]``, ``epoch``); or elapsed time
  (``elapsed time [s]``, ``time [min]``, ``t [h]``, or ``h:mm:ss``) counted from a start
  time given in a header line above the table (``Start time: 2024-03-01T09:30:00``) or
  as the option ``start_time``;
- **pressure** in MPa, kPa, Pa, GPa, bar, mbar, atm, psi or N/mm² (``pressure [MPa]``,
  ``Pressure (bar)``, ``P/psi``), or **force** in N, daN, kN or lbf (``force [kN]``), which
  needs the option ``area_cm2`` (P = F / A) and is an ``InputError`` saying so without it.

The unit sits in the column name (``[unit]``, ``(unit)`` or ``/unit``); a column without
one needs the option ``unit``. Separators: tab, semicolon or comma (from the header
line); a decimal comma is read where the separator is not a comma. Date-times without a
zone are taken as UTC, as the cycling readers take theirs, so that the two line up; a
logger on local time shows as a whole-hour offset, which ``analyze_pressure(offset_s=…)``
removes. Lines above the column header (``key: value`` or ``key,value``) are kept in
``metadata["header"]``; ``#`` lines and blank lines are skipped.

Bad input is an ``InputError`` naming the file and the line: no time column, a pressure
that is empty or not a number, a time that goes backwards, elapsed times with no start.

Sniffing claims a file only when one of its first lines names both a pressure or force
column and a time column, and no column a cycler or impedance file has (voltage,
current, capacity, frequency, impedance, cycle, step): cycler files with an ``Applied
Pressure`` column belong to their cycler's reader.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = folder / "stack.csv"
>>> _ = path.write_text("timestamp,pressure [bar]\\n2024-03-01T10:00:00,50\\n"
...                     "2024-03-01T10:01:00,50.5\\n")
>>> PressureLogReader().sniff(path, path.read_bytes())
True
>>> log = read_pressure(path)
>>> log.pressure.round(6).tolist(), float(log.unix_time[1] - log.unix_time[0])
([5.0, 5.05], 60.0)
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError, UnitError
from ssbkit.core.units import convert, dimension_of, normalize_unit
from ssbkit.core.validate import positive
from ssbkit.io._build import check_options
from ssbkit.io._text import decode, read_text, split_lines
from ssbkit.pressure.data import KN_PER_CM2_IN_MPA, PressureLog

__all__ = ["PressureLogReader", "read_pressure"]

# Units core.units does not hold (no force dimension; psi, atm and mbar are not canonical).
_PRESSURE_EXTRA = {"psi": 6.894757293168e-3, "mbar": 1e-4, "atm": 0.101325, "N/mm²": 1.0,
                   "N/mm2": 1.0, "kN/cm²": 10.0, "kN/cm2": 10.0, "hPa": 1e-4}
_FORCE_KN = {"N": 1e-3, "daN": 1e-2, "kN": 1.0, "mN": 1e-6, "lbf": 4.4482216152605e-3}
_TIME_S = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0}

_UNIT = re.compile(r"^(?P<name>.*?)\s*(?:\[(?P<a>[^\]]*)\]|\((?P<b>[^)]*)\)|/\s*(?P<c>[^/]+))\s*$")
_DATETIME_NAMES = re.compile(r"^(time\s*stamp|timestamp|date\s*time|datetime|date\s*/\s*time|"
                             r"date_time|date and time|absolute time|clock time|real time)$")
_UNIX_NAMES = re.compile(r"unix|epoch|posix")
_ELAPSED_NAMES = re.compile(r"^(t|time|elapsed|elapsed time|elapsed_time|time elapsed|"
                            r"test time|total time|run time|runtime|duration|relative time|"
                            r"time_s|seconds)$")
_FOREIGN = re.compile(r"volt|current|capacit|freq|imped|phase|\bewe\b|\becell\b|cycle|\bstep|"
                      r"z'|re\(z|im\(z|\bohm|charge|energy")
_START_KEY = re.compile(r"start")
_ISO_LIKE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


class _Columns:
    """Which header field holds what, and the unit written with it."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = list(fields)
        self.pressure: tuple[int, str] | None = None
        self.force: tuple[int, str] | None = None
        self.datetime: int | None = None
        self.date: int | None = None
        self.clock: int | None = None
        self.unix: tuple[int, str] | None = None
        self.elapsed: tuple[int, str] | None = None
        self.foreign: list[str] = []
        for j, raw in enumerate(fields):
            name, unit = _split_unit(raw)
            low = name.lower()
            if _FOREIGN.search(raw.lower()):
                self.foreign.append(raw)
            if "pressure" in low and self.pressure is None:
                self.pressure = (j, unit)
            elif "force" in low and self.force is None:
                self.force = (j, unit)
            elif _DATETIME_NAMES.match(raw.strip().lower()) or _DATETIME_NAMES.match(low):
                self.datetime = j if self.datetime is None else self.datetime
            elif low == "date" and self.date is None:
                self.date = j
            elif _UNIX_NAMES.search(low) and self.unix is None:
                self.unix = (j, unit)
            elif _ELAPSED_NAMES.match(low) and self.elapsed is None:
                self.elapsed = (j, unit)
        # A bare "Time" beside a "Date" column is the time of day, not an elapsed time.
        if self.date is not None and self.elapsed is not None and not self.elapsed[1]:
            self.clock, self.elapsed = self.elapsed[0], None

    @property
    def has_value(self) -> bool:
        return self.pressure is not None or self.force is not None

    @property
    def has_time(self) -> bool:
        return any(c is not None for c in (self.datetime, self.date, self.unix, self.elapsed))


def _split_unit(field: str) -> tuple[str, str]:
    text = field.strip().strip('"')
    if _DATETIME_NAMES.match(text.lower()):
        return text, ""
    match = _UNIT.match(text)
    if match is None or not match["name"]:
        return text, ""
    return match["name"].strip(), (match["a"] or match["b"] or match["c"] or "").strip()


def _fields(line: str) -> tuple[list[str], str] | None:
    """The fields of a header line and its separator (tab, semicolon, comma), or None."""
    for sep in ("\t", ";", ","):
        if sep in line:
            fields = [f.strip() for f in next(csv.reader([line], delimiter=sep))]
            while fields and not fields[-1]:
                fields.pop()
            if len(fields) >= 2:
                return fields, sep
    return None


def _find_header(lines: Sequence[str], limit: int = 60) -> tuple[int, list[str], str, _Columns] | None:
    for i, line in enumerate(lines[:limit]):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parsed = _fields(line)
        if parsed is None:
            continue
        columns = _Columns(parsed[0])
        if columns.has_value:
            return i, parsed[0], parsed[1], columns
    return None


class PressureLogReader:
    """Stack-pressure logs: delimited text with a time column and a pressure or force column."""

    name = "pressure-log"
    extensions = (".csv", ".tsv", ".txt", ".log")
    techniques = frozenset({"pressure"})
    description = "stack-pressure logs (CSV/TSV): time stamps and pressure or force"

    def sniff(self, path: Path, head: bytes) -> bool:
        try:
            utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
            if not head or (b"\x00" in head[:4096] and not utf16):
                return False
            found = _find_header(split_lines(decode(head[:16384])))
            if found is None:
                return False
            columns = found[3]
            return columns.has_time and not columns.foreign
        except Exception:  # sniff never raises
            return False

    def read(self, path: Path, **options: Any) -> list[PressureLog]:
        """One ``PressureLog``; options ``start_time``, ``area_cm2``, ``unit``, ``dayfirst``."""
        opts = check_options(self.name, options, start_time=None, area_cm2=None, unit=None,
                             dayfirst=False)
        return [_read(Path(path), **opts)]


def read_pressure(path: str | Path, **options: Any) -> PressureLog:
    """The ``PressureLog`` in ``path``, read as a pressure log whatever the sniffers say.

    ``start_time`` (ISO 8601) starts elapsed times where the file names no start;
    ``area_cm2`` turns a force column into pressure; ``unit`` is the unit of a pressure or
    force column whose name carries none; ``dayfirst`` reads ``01.03.2024`` as 1 March.
    """
    return PressureLogReader().read(Path(path), **options)[0]


def _read(path: Path, *, start_time: Any, area_cm2: Any, unit: str | None, dayfirst: bool) -> PressureLog:
    if not isinstance(dayfirst, bool):
        raise InputError(f"must be True or False, got {dayfirst!r}", source="dayfirst")
    lines = split_lines(read_text(path))
    found = _find_header(lines)
    if found is None:
        raise InputError("no column header naming a pressure or force column (e.g. "
                         "'timestamp,pressure [MPa]') in the first 60 lines", source=path)
    h, fields, sep, columns = found
    location = f"line {h + 1}"
    if not columns.has_time:
        raise InputError(f"no time column: expected a date-time ('timestamp'), 'Date' and 'Time', "
                         f"'unix time [s]' or an elapsed time ('time [s]'); columns found: "
                         f"{', '.join(map(repr, fields))}", source=path, location=location)
    header = _header_block(lines[:h], sep)
    rows = [i for i in range(h + 1, len(lines))
            if lines[i].strip() and not lines[i].lstrip().startswith("#")]
    table = _cells(lines, rows, sep, len(fields))
    if rows and _is_unit_row(table, columns):
        table, rows = {j: cells[1:] for j, cells in table.items()}, rows[1:]
    if not rows:
        raise InputError("no data rows after the column header", source=path, location=location)
    line_numbers = np.asarray(rows) + 1
    metadata: dict[str, Any] = {"format": "pressure-log", "file": path.name}
    if header:
        metadata["header"] = header
    decimal_comma = sep != ","
    if columns.pressure is not None:
        j, written = columns.pressure
        written = written or _option_unit(unit, path, fields[j])
        factor = _pressure_factor(written, path, fields[j])
        values = _numbers(table[j], path, fields[j], line_numbers, decimal_comma)
        pressure, force = values * factor, None
        metadata.update(pressure_column=fields[j], unit=written)
    else:
        j, written = columns.force  # type: ignore[misc]
        if area_cm2 is None:
            raise InputError(f"the file logs force ({fields[j]!r}), not pressure: give area_cm2 (on the "
                             "command line --area-cm2), the electrode area [cm²] the force presses "
                             "on (P = F / A)", source=path)
        area = positive("area_cm2", area_cm2)
        written = written or _option_unit(unit, path, fields[j])
        if written not in _FORCE_KN:
            raise InputError(f"column {fields[j]!r} has unit {written!r}; force units read: "
                             f"{', '.join(_FORCE_KN)}", source=path, location=location)
        force = _numbers(table[j], path, fields[j], line_numbers, decimal_comma) * _FORCE_KN[written]
        pressure = force * KN_PER_CM2_IN_MPA / area
        metadata.update(force_column=fields[j], unit=written, area_cm2=area)
    unix = _times(table, columns, fields, header, path, line_numbers, start_time=start_time,
                  dayfirst=dayfirst, decimal_comma=decimal_comma, metadata=metadata)
    back = np.flatnonzero(np.diff(unix) < 0)
    if back.size:
        k = int(back[0]) + 1
        raise InputError("the time goes backwards here (a logger clock set back, or two logs pasted "
                         "out of order)", source=path, location=f"line {line_numbers[k]}")
    return PressureLog(unix, pressure, metadata, str(path), force=force)


def _header_block(lines: Sequence[str], sep: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        text = line.strip().lstrip("#").strip()
        if not text:
            continue
        for splitter in (":", "=", sep):
            key, found, value = text.partition(splitter)
            if found and key.strip():
                out[key.strip()] = value.strip().strip(sep).strip().strip('"')
                break
    return out


def _cells(lines: Sequence[str], rows: Sequence[int], sep: str, width: int) -> dict[int, Any]:
    """Column index -> the stripped cells of ``rows`` (a short row gives empty cells)."""
    import pandas as pd

    parsed = [next(csv.reader([lines[i]], delimiter=sep)) for i in rows]
    return {j: pd.Series([row[j].strip() if j < len(row) else "" for row in parsed], dtype=object)
            for j in range(width)}


def _is_unit_row(table: dict[int, Any], columns: _Columns) -> bool:
    j = columns.pressure[0] if columns.pressure is not None else columns.force[0]  # type: ignore[index]
    cell = str(table[j].iloc[0]).strip().strip("[]()")
    return bool(cell) and (cell in _FORCE_KN or cell in _PRESSURE_EXTRA or _known_pressure(cell))


def _known_pressure(unit: str) -> bool:
    try:
        return dimension_of(unit) == "pressure"
    except UnitError:
        return False


def _option_unit(unit: str | None, path: Path, column: str) -> str:
    if unit is None:
        raise InputError(f"column {column!r} names no unit; write it in the header "
                         f"('{column} [MPa]') or give the option unit", source=path)
    if not isinstance(unit, str):
        raise InputError(f"must be a unit such as 'MPa' or 'kN', got {unit!r}", source="unit")
    return unit.strip()


def _pressure_factor(unit: str, path: Path, column: str) -> float:
    if unit in _PRESSURE_EXTRA:
        return _PRESSURE_EXTRA[unit]
    try:
        canonical = normalize_unit(unit)
        return float(convert(1.0, canonical, "MPa"))
    except UnitError:
        raise InputError(f"column {column!r} has unit {unit!r}, not a pressure unit ssbkit reads "
                         "(MPa, kPa, Pa, GPa, bar, mbar, atm, psi, N/mm²)", source=path) from None


def _numbers(cells: Any, path: Path, column: str, lines: np.ndarray, decimal_comma: bool) -> np.ndarray:
    import pandas as pd

    text = cells.astype(str).str.strip()
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        cell = str(cells.iloc[k]).strip()
        what = "is empty" if not cell else (f"is {cell!r}, not a finite number")
        raise InputError(f"{column!r} {what} ({int(bad.sum())} such rows in all); a pressure log "
                         "must hold a number in every row", source=path, location=f"line {lines[k]}")
    return values


def _datetimes(cells: Any, path: Path, column: str, lines: np.ndarray, dayfirst: bool) -> np.ndarray:
    import pandas as pd

    text = cells.astype(str).str.strip()
    iso = bool(text.map(lambda s: bool(_ISO_LIKE.match(s))).all())
    stamps = pd.to_datetime(text, errors="coerce", utc=True,
                            format="ISO8601" if iso else "mixed", dayfirst=dayfirst)
    bad = stamps.isna().to_numpy()
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"{column!r} holds {text.iloc[k]!r}, not a date and time", source=path,
                         location=f"line {lines[k]}")
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    return ((stamps - epoch) / pd.Timedelta(seconds=1)).to_numpy(float)


def _times(table: Any, columns: _Columns, fields: list[str], header: dict[str, str], path: Path,
           lines: np.ndarray, *, start_time: Any, dayfirst: bool, decimal_comma: bool,
           metadata: dict[str, Any]) -> np.ndarray:
    if columns.datetime is not None:
        metadata["time_column"] = fields[columns.datetime]
        return _datetimes(table[columns.datetime], path, fields[columns.datetime], lines, dayfirst)
    if columns.date is not None and columns.clock is not None:
        metadata["time_column"] = f"{fields[columns.date]} + {fields[columns.clock]}"
        joined = table[columns.date].astype(str) + " " + table[columns.clock].astype(str)
        return _datetimes(joined, path, metadata["time_column"], lines, dayfirst)
    if columns.unix is not None:
        j, unit = columns.unix
        metadata["time_column"] = fields[j]
        seconds = _numbers(table[j], path, fields[j], lines, decimal_comma)
        return seconds * _time_factor(unit or "s", path, fields[j])
    if columns.elapsed is None:  # a lone Date column
        raise InputError(f"column {fields[columns.date]!r} holds dates but no column holds the time of "
                         "day", source=path)
    j, unit = columns.elapsed
    metadata["time_column"] = fields[j]
    cells = table[j].astype(str).str.strip()
    if cells.str.match(_ISO_LIKE).all():  # a column called "time" that holds date-times
        return _datetimes(cells, path, fields[j], lines, dayfirst)
    if cells.str.contains(":").any():
        from ssbkit.io._cycling import duration_seconds

        elapsed = duration_seconds(cells, source=path, column=fields[j])
    else:
        if not unit:
            metadata["assumed_units"] = [f"{fields[j]}: s"]
        elapsed = _numbers(table[j], path, fields[j], lines, decimal_comma)
        elapsed = elapsed * _time_factor(unit or "s", path, fields[j])
    start, where = _start(start_time, header, path)
    metadata["start_time"] = where
    return start + elapsed


def _time_factor(unit: str, path: Path, column: str) -> float:
    if unit not in _TIME_S:
        raise InputError(f"column {column!r} has unit {unit!r}; time units read: {', '.join(_TIME_S)}",
                         source=path)
    return _TIME_S[unit]


def _start(start_time: Any, header: dict[str, str], path: Path) -> tuple[float, str]:
    from ssbkit.cycling.events import unix_seconds_of

    if start_time is not None:
        return unix_seconds_of(start_time, source="start_time"), str(start_time)
    for key, value in header.items():
        if _START_KEY.search(key.lower()) and value:
            return unix_seconds_of(value, source=f"{path} ({key!r})"), value
    raise InputError("the times are elapsed times and the file names no start time: add a line "
                     "'Start time: 2024-03-01T09:30:00' above the table, or give start_time",
                     source=path)
