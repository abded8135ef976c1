"""Basytec and Novonix text exports, and the table helpers the cycler text readers share.

Both formats are a header block followed by one delimited table; they differ in how the
header is marked, in how units are written in the column names and in what the capacity
column counts, so each has its own dialect (a table from the vendor's column name to a
BDF column and the quantity whose unit the name carries):

- **Basytec** (``~Resultfile from Basytec Battery Test System``): ``~Key: value`` header
  lines, then a tab-separated table whose column line also starts with ``~``
  (``~Time[s]``, ``U[V]``, ``I[A]``, ``Ah-Step``, ``T1[°C]``, ``Line``, ``Command``). The
  current is signed (> 0 charges). ``Ah-Step`` is a signed net capacity that restarts
  each step, so the charge and discharge counters are its rises and falls
  (``counters_from_net``); where only the running total ``Ah[Ah]`` is written, the step's
  net is that total less its value when the step began. Absolute time is ``Start of
  Test`` (``19.06.2023 17:56:53``, ``start_time`` ``2023-06-19T17:56:53``) plus the test
  time, since the export has no date column.
- **Novonix** (``[Summary]`` … ``[Data]``): comma-separated with units in parentheses
  (``Run Time (h)``, ``Potential (V)``, ``Capacity (Ah)``). ``Capacity`` counts the
  throughput of the current step whatever its direction, so each row's increment goes
  to charge or discharge by the sign of the current at that row.

Neither format writes a time zone: dates are local time, taken as UTC, ``start_time`` is
ISO 8601 without a zone, and ``metadata["timezone"]`` says the zone is unknown
(``ZONE_UNKNOWN``).

The helpers below (unit factors from a column header, the header's unit split off the
name, a partial last line dropped and noted, lenient numbers for passenger columns) are
also used by ``ssbkit.io.maccor`` and ``ssbkit.io.bdf``. They are written here rather than
taken from pandas because the errors must name the file, the line and the column.

A last line cut short (a file copied while the cycler was still writing) is **dropped**
and listed in ``metadata["dropped"]`` as ``{"line": n, "reason": ...}``: one with fewer
values than the header names, or one whose time, voltage or current cell is empty (a cut
right after a separator, ``2,3.2,``). Every other row must be whole; an empty cell inside
the table is a gap (NaN), as in every ssbkit cycler reader.

>>> from ssbkit.io.cycler_text import split_unit
>>> split_unit("~Time[s]"), split_unit("Run Time (h)"), split_unit("Voltage / V")
(('Time', 's'), ('Run Time', 'h'), ('Voltage', 'V'))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    CURRENT,
    CYCLE,
    DISCHARGE_CAPACITY,
    DISCHARGE_ENERGY,
    STEP_COUNT,
    STEP_INDEX,
    STEP_TIME,
    STEP_TYPE,
    TEMPERATURE,
    TIME,
    UNIX_TIME,
    VOLTAGE,
    CyclingRecord,
)
from ssbkit.io._build import check_options
from ssbkit.io._cycling import counters_from_net, record_from_frame, scale, unix_seconds
from ssbkit.io._text import WHITESPACE, decode, parse_table, read_text, split_fields, split_lines

__all__ = [
    "ZONE_UNKNOWN",
    "BasytecReader",
    "NovonixReader",
    "counters_by_current_sign",
    "split_unit",
    "step_count",
    "unit_factor",
]

#: ``metadata["timezone"]`` of a record whose clock times carry no zone: ssbkit reads them
#: as UTC, so absolute times are off by the instrument's UTC offset, which nobody wrote down
ZONE_UNKNOWN = "unknown, taken as UTC"

# Spellings of units in vendor headers, per quantity, lower-cased -> the unit ``scale`` knows.
_UNITS: dict[str, dict[str, str]] = {
    "time": {"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s", "ms": "ms",
             "min": "min", "mins": "min", "minute": "min", "minutes": "min", "h": "h",
             "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "d": "d", "day": "d",
             "days": "d"},
    "voltage": {"v": "V", "volt": "V", "volts": "V", "mv": "mV", "uv": "µV", "µv": "µV"},
    "current": {"a": "A", "amp": "A", "amps": "A", "ma": "mA", "ua": "µA", "µa": "µA",
                "na": "nA"},
    "charge": {"ah": "Ah", "amp-hr": "Ah", "a.h": "Ah", "mah": "mAh", "ma.h": "mAh",
               "uah": "µAh", "µah": "µAh", "as": "As", "c": "C", "mas": "mAs"},
    "energy": {"wh": "Wh", "watt-hr": "Wh", "w.h": "Wh", "mwh": "mWh", "uwh": "µWh",
               "µwh": "µWh", "j": "J", "kwh": "kWh"},
    "temperature": {"degc": "degC", "°c": "degC", "c": "degC", "celsius": "degC"},
    "pressure": {"pa": "Pa", "kpa": "kPa", "mpa": "MPa", "bar": "bar", "psi": "psi"},
    "count": {"1": "1", "": "1", "-": "1"},
}
# a degree sign lost to a wrong code page: '�C', 'Â°C', '?C'
_MANGLED_CELSIUS = re.compile(r"^\W{0,2}C$")
_UNIT_IN_NAME = re.compile(r"^(?P<base>.*?)\s*(?:\[(?P<sq>[^\]]*)\]|\((?P<par>[^)]*)\)|"
                           r"\s/\s*(?P<sl>\S+))\s*$")


def split_unit(name: str) -> tuple[str, str | None]:
    """``(base name, unit)`` of a column header: ``Name[unit]``, ``Name (unit)`` or
    ``Name / unit``; the unit is None where the header has none. A leading ``~`` (Basytec's
    comment mark) is dropped."""
    text = name.strip().lstrip("~").strip()
    match = _UNIT_IN_NAME.match(text)
    if match is None or not match["base"]:
        return text, None
    unit = match["sq"] if match["sq"] is not None else (
        match["par"] if match["par"] is not None else match["sl"])
    return match["base"].strip(), unit.strip()


def unit_factor(unit: str | None, quantity: str, *, column: str, source: Path | str,
                location: str | None = None, default: str | None = None) -> float:
    """Factor from ``unit`` (as a vendor writes it) to the BDF unit of ``quantity``.

    ``default`` is the unit taken when the header gives none. An unknown unit, or one of
    another quantity, is an ``InputError`` naming the file, the header line and column.

    >>> unit_factor("Min", "time", column="Test (Min)", source="x.001")
    60.0
    >>> unit_factor("kV", "voltage", column="U[kV]", source="x.txt", location="line 13, column 8")
    Traceback (most recent call last):
    ...
    ssbkit.core.errors.InputError: x.txt, line 13, column 8: column 'U[kV]' has unit 'kV', \
which ssbkit does not know for voltage (known: V, mV, µV)
    """
    table = _UNITS[quantity]
    text = (default if unit is None else unit)
    if text is None:
        text = ""
    key = text.strip().replace("μ", "µ").lower()
    if key not in table and quantity == "temperature" and _MANGLED_CELSIUS.match(text.strip()):
        key = "c"
    if key not in table:
        raise InputError(f"column {column!r} has unit {text!r}, which ssbkit does not know "
                         f"for {quantity} (known: {', '.join(dict.fromkeys(table.values()))})",
                         source=str(source), location=location)
    return scale(table[key], source=source, column=column)


def step_count(*keys: np.ndarray, step_time: np.ndarray | None = None) -> np.ndarray:
    """Sequential step number (1, 2, …): a new step where any key changes or the step
    time falls back (a loop that repeats the same program step is still a new step).

    >>> step_count(np.array([1, 1, 2, 2]), step_time=np.array([0., 5., 0., 5.])).tolist()
    [1, 1, 2, 2]
    >>> step_count(np.array([3, 3, 3]), step_time=np.array([0., 5., 0.])).tolist()
    [1, 1, 2]
    """
    n = len(keys[0]) if keys else len(step_time)
    change = np.zeros(n, bool)
    for key in keys:
        values = np.asarray(key)
        change[1:] |= values[1:] != values[:-1]
    if step_time is not None:
        st = np.asarray(step_time, float)
        change[1:] |= st[1:] < st[:-1] - 1e-9
    return np.cumsum(change).astype(np.int64) + 1


def counters_by_current_sign(steps: np.ndarray, throughput: np.ndarray,
                             current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Charge and discharge counters (restarting each step) from an unsigned per-step
    throughput counter: each row's rise goes to charge where the current is > 0 and to
    discharge where it is < 0 (rows at zero current follow the step's net direction).

    >>> q = np.array([0.0, 1.0, 2.0, 0.0, 1.5])
    >>> c, d = counters_by_current_sign(np.array([1, 1, 1, 2, 2]), q, np.array([1, 1, 1, -1, -1.]))
    >>> c.tolist(), d.tolist()
    ([0.0, 1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.5])
    """
    steps = np.asarray(steps)
    q = np.abs(np.nan_to_num(np.asarray(throughput, float)))
    current = np.nan_to_num(np.asarray(current, float))
    first = np.ones(len(q), bool)
    first[1:] = steps[1:] != steps[:-1]
    rise = np.diff(q, prepend=0.0)
    rise[first] = q[first]
    rise = np.maximum(rise, 0.0)
    starts = np.flatnonzero(first)
    lengths = np.diff(np.r_[starts, len(q)])
    net_sign = np.repeat(np.sign(np.add.reduceat(current, starts)), lengths) if len(q) else q
    sign = np.where(current != 0, np.sign(current), net_sign)
    signed = np.where(sign > 0, rise, 0.0), np.where(sign < 0, rise, 0.0)
    out = []
    for part in signed:
        total = np.cumsum(part)
        offset = np.repeat(np.r_[0.0, total[starts[1:] - 1]], lengths)
        out.append(total - offset)
    return out[0], out[1]


def head_lines(text: str, chars: int = 1 << 20) -> list[str]:
    """The whole lines among the first ``chars`` characters of ``text`` (header searches
    need no more, and splitting a 100 MB export into lines costs seconds)."""
    if len(text) <= chars:
        return split_lines(text)
    lines = split_lines(text[:chars])
    return lines[:-1] if len(lines) > 1 else lines


def drop_partial_last_line(lines: Sequence[str], start: int, sep: str,
                           width: int) -> tuple[int, list[dict[str, Any]]]:
    """``(stop, dropped)``: the index after the last whole data line and, when the last
    non-blank line holds fewer than ``width`` fields (a file cut while being written), a
    note ``{"line": n, "reason": ...}`` for it."""
    stop = len(lines)
    while stop > start and not lines[stop - 1].strip():
        stop -= 1
    if stop <= start:
        return stop, []
    fields = lines[stop - 1].count(sep) + 1
    if fields >= width:
        return stop, []
    return stop - 1, [_cut_note(stop, fields, width)]


def _cut_note(line: int, fields: int, width: int) -> dict[str, Any]:
    return {"line": line, "reason": f"the last line holds {fields} of {width} values: "
                                    "the file was cut short"}


def lenient_numbers(values: np.ndarray, decimal: str) -> np.ndarray:
    """A passenger column as floats when every cell is a number or empty ('N/A' counts as
    empty), else as it was (text)."""
    import pandas as pd

    try:  # cells pandas already parsed as numbers
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        pass
    series = pd.Series(values, dtype=object)
    text = series.astype(str).str.strip()
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    missing = series.isna() | text.str.lower().isin(["", "nan", "n/a", "na", "null", "none"])
    numbers = pd.to_numeric(text.where(~missing, None), errors="coerce")
    if (numbers.isna() & ~missing).any():
        return np.asarray(values, dtype=object)
    return numbers.to_numpy(dtype=float)


_BREAK = re.compile(r"\r\n|\r|\n")


def read_table(text: str, header: int, *, sep: str, decimal: str, source: Path,
               names: Sequence[str], numeric: Iterable[int], text_columns: Iterable[int] = (),
               required: Iterable[int] = ()
               ) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict[str, Any]]]:
    """The columns of the table under the column line ``header`` (0-based) of ``text``:
    ``numeric`` ones (indices) as floats, ``text_columns`` as strings, others as numbers
    where they all are, else as text. Returns ``(columns, line numbers, dropped)``; no row
    at all is an ``InputError``. A last line that lacks values, or whose cell in one of
    the ``required`` numeric columns is empty, was cut short: it is dropped and noted.

    A regular table (one row a line, no blank lines inside, every number a number) goes to
    pandas in one piece; anything else takes ``ssbkit.io._text.parse_table``'s line-by-line
    path, whose errors name the line and column.
    """
    numeric, text_columns = sorted(set(numeric)), set(text_columns)
    parsed = _fast_table(text, header, sep=sep, decimal=decimal, names=names, numeric=numeric,
                         text_columns=text_columns)
    if parsed is None:
        lines = split_lines(text)
        stop, dropped = drop_partial_last_line(lines, header + 1, sep, len(names))
        table = parse_table(lines, header + 1, names=names, sep=sep, decimal=decimal,
                            source=source, numeric=numeric, stop=stop)
        raw = {j: table.text[j] if j in table.text else table.values[:, j]
               for j in range(len(names))}
        line_numbers = table.lines
    else:
        raw, line_numbers, dropped = parsed
    empty = [names[j] for j in sorted(set(required)) if len(line_numbers)
             and raw[j].dtype.kind == "f" and np.isnan(raw[j][-1])]
    if empty:
        dropped = [*dropped, {"line": int(line_numbers[-1]),
                              "reason": f"the last line has no value for "
                                        f"{', '.join(map(repr, empty))}: the file was cut short"}]
        raw = {j: values[:-1] for j, values in raw.items()}
        line_numbers = line_numbers[:-1]
    if not len(line_numbers):
        extra = f" (line {dropped[0]['line']} was cut short)" if dropped else ""
        raise InputError(f"no data rows after the column header{extra}", source=source,
                         location=f"line {header + 1}")
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        values = raw[j]
        if j in text_columns:
            columns[name] = np.asarray([str(v).strip() for v in values], dtype=object)
        elif values.dtype.kind == "f":
            columns[name] = values
        else:
            columns[name] = lenient_numbers(values, decimal)
    return columns, line_numbers, dropped


def _fast_table(text: str, header: int, *, sep: str, decimal: str, names: Sequence[str],
                numeric: Sequence[int], text_columns: set[int]
                ) -> tuple[dict[int, np.ndarray], np.ndarray, list[dict[str, Any]]] | None:
    import io

    import pandas as pd

    start = 0
    for count, match in enumerate(_BREAK.finditer(text), 1):
        if count == header + 1:
            start = match.end()
            break
    else:
        return None
    body = text[start:].rstrip("\r\n")
    if "\r" in body and body.count("\r") != body.count("\r\n"):
        return None  # lines ended by a lone CR: counted line by line
    cut = body.rfind("\n") + 1
    last = body[cut:].rstrip("\r")
    if not last.strip():
        return None
    width, dropped = len(names), []
    if last.count(sep) + 1 < width:
        dropped = [_cut_note(header + 2 + body.count("\n", 0, cut), last.count(sep) + 1, width)]
        body = body[:cut].rstrip("\r\n")
    if not body.strip():
        return {}, np.empty(0, int), dropped
    kwargs = {"sep": r"\s+"} if sep == WHITESPACE else {"sep": sep, "skipinitialspace": True}
    try:
        frame = pd.read_csv(io.StringIO(body), header=None, names=list(range(width)),
                            index_col=False, decimal=decimal, engine="c", low_memory=False,
                            **kwargs)
    except (pd.errors.ParserError, ValueError):
        return None
    if len(frame) != body.count("\n") + 1:
        return None  # blank lines inside, or a quoted field across lines
    if any(frame[j].dtype.kind not in "fiu" for j in numeric):
        return None  # a cell that is not a number: the slow path names it
    raw = {j: frame[j].to_numpy(dtype=float)
           if frame[j].dtype.kind in "fiu" and j not in text_columns
           else frame[j].to_numpy(dtype=object) for j in range(width)}
    return raw, header + 2 + np.arange(len(frame)), dropped


def unique_names(names: Sequence[str], source: Path, line: int) -> list[str]:
    """Column names, refusing an empty or repeated one (values could not be told apart)."""
    seen: set[str] = set()
    for j, name in enumerate(names):
        if not name:
            raise InputError("a column has no name", source=source,
                             location=f"line {line}, column {j + 1}")
        if name in seen:
            raise InputError(f"column {name!r} appears twice", source=source,
                             location=f"line {line}, column {j + 1}")
        seen.add(name)
    return list(names)


def build_record(canonical: Mapping[str, np.ndarray], extra: Mapping[str, np.ndarray], *,
                 known: Iterable[str], source: Path, metadata: Mapping[str, Any]
                 ) -> CyclingRecord:
    """A record from columns already in canonical units and passenger columns; columns
    not in ``known`` are named in one ``UnknownColumnWarning``."""
    import pandas as pd

    frame = pd.DataFrame({**canonical, **{k: v for k, v in extra.items() if k not in canonical}},
                         copy=False)
    # the canonical columns are already numbers in BDF units: passed through as known
    # columns, not through a dialect, which would check every cell again as text
    return record_from_frame(frame, {}, source=source, metadata=metadata,
                             keep=set(known) | set(canonical))


def _indices(names: Sequence[str], roles: Mapping[str, tuple[str, Any]],
             wanted: Iterable[str]) -> list[int]:
    """Column indices of the ``wanted`` roles that the file has."""
    return [names.index(roles[role][0]) for role in wanted if role in roles]


def _header_location(line: int, column: int) -> str:
    return f"line {line}, column {column}"


# ----------------------------------------------------------------------------- Basytec

# base name (lower case, without unit) -> (canonical column or a role, quantity of its unit,
# unit when the header gives none)
_BASYTEC = {
    "time": (TIME, "time", "s"),
    "t-step": (STEP_TIME, "time", "s"),
    "line": (STEP_INDEX, "count", None),
    "command": (STEP_TYPE, None, None),
    "u": (VOLTAGE, "voltage", "V"),
    "i": (CURRENT, "current", "A"),
    "ah-step": ("net capacity", "charge", "Ah"),
    "ah": ("total capacity", "charge", "Ah"),
    "wh-step": ("net energy", "energy", "Wh"),
    "wh": ("total energy", "energy", "Wh"),
    "t1": (TEMPERATURE, "temperature", "degC"),
    "cyc-count": (CYCLE, "count", None),
    "date": (UNIX_TIME, None, None),
}
_BASYTEC_KEEP = ("DataSet", "t-Set", "t-Cyc", "P", "Ah-Cyc-Charge", "Ah-Cyc-Discharge",
                 "Ah-Cyc-Charge-0", "Ah-Cyc-Discharge-0", "Wh-Cyc-Charge", "Wh-Cyc-Discharge",
                 "Wh-Cyc-Charge-0", "Wh-Cyc-Discharge-0", "R-AC", "R-DC", "Level", "Count",
                 "State", "T2", "T3", "T4")


def _table_by_role(content: str, lines: list[str], header: int, sep: str,
                   dialect: dict[str, Any], path: Path) -> tuple[list[str], dict[str, tuple[str, float]],
                                                               dict[str, Any], Any,
                                                               dict[str, np.ndarray]]:
    """The column names, the columns found by their role in ``dialect`` (base name -> role,
    quantity, default unit), the parsed table, the dropped-line notes, and the numeric
    roles already scaled."""
    names = unique_names(split_fields(lines[header], sep), path, header + 1)
    roles: dict[str, tuple[str, float]] = {}
    for j, name in enumerate(names):
        base, unit = split_unit(name)
        entry = dialect.get(base.lower())
        if entry is None:
            continue
        role, quantity, default = entry
        factor = 1.0 if quantity is None else unit_factor(
            unit, quantity, column=name, source=path, default=default,
            location=_header_location(header + 1, j + 1))
        roles.setdefault(role, (name, factor))
    for needed in (TIME, VOLTAGE, CURRENT):
        if needed not in roles:
            raise InputError(f"no {needed.split(' /')[0].lower()} column ({', '.join(names)})",
                             source=path, location=f"line {header + 1}")
    text = [names.index(n) for r, (n, _) in roles.items() if r in (STEP_TYPE, UNIX_TIME)]
    numeric = [names.index(n) for n, _ in roles.values() if names.index(n) not in text]
    columns, _, dropped = read_table(content, header, sep=sep, decimal=".", source=path,
                                     names=names, numeric=numeric, text_columns=text,
                                     required=_indices(names, roles, (TIME, VOLTAGE, CURRENT)))
    out: dict[str, np.ndarray] = {}
    for role, (name, factor) in roles.items():
        if role in (TIME, STEP_TIME, VOLTAGE, CURRENT, TEMPERATURE, STEP_INDEX, CYCLE):
            out[role] = columns[name] * factor
    if STEP_TYPE in roles:
        out[STEP_TYPE] = np.asarray(columns[roles[STEP_TYPE][0]]).astype(str)
    return names, roles, columns, dropped, out


class BasytecReader:
    """Basytec Battery Test System text export (``~Resultfile from Basytec …``)."""

    name = "basytec-txt"
    extensions = (".txt",)
    techniques = frozenset({"cycling"})
    description = "Basytec BTS text export (~Time[s], U[V], I[A], Ah-Step, Line, Command)"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = decode(head[:16384])
        if text.lstrip("\ufeff").startswith("~Resultfile from Basytec"):
            return True
        return any(line.startswith("~Time[") and "\tU[" in line and "\tI[" in line
                   for line in text.splitlines()[:60])

    def read(self, path: Path, **options: Any) -> list[CyclingRecord]:
        """One ``CyclingRecord``; no options."""
        check_options(self.name, options)
        path = Path(path)
        content = read_text(path)
        lines = head_lines(content)
        header = next((i for i, line in enumerate(lines[:200])
                       if line.startswith("~") and "\t" in line), None)
        if header is None:
            raise UnsupportedFormatError("not a Basytec export: no '~' column line with tabs "
                                         "in the first 200 lines", source=path)
        meta: dict[str, Any] = {"format": self.name, "file": path.name,
                                "instrument": "Basytec Battery Test System"}
        for line in lines[:header]:
            key, sep, value = line.lstrip("~").partition(":")
            if sep and value.strip():
                meta.setdefault("header", {})[key.strip()] = value.strip()
        names, roles, columns, dropped, out = _table_by_role(content, lines, header, "\t", _BASYTEC,
                                                             path)
        # the cycle counter is not a step boundary: Basytec writes Cyc-Count 0 on the first
        # row only, inside the first step
        keys = [out[STEP_INDEX]] if STEP_INDEX in out else [np.zeros(len(out[TIME]))]
        out[STEP_COUNT] = step_count(*keys, step_time=out.get(STEP_TIME))
        for net_role, total_role, targets in (
                ("net capacity", "total capacity", (CHARGE_CAPACITY, DISCHARGE_CAPACITY)),
                ("net energy", "total energy", (CHARGE_ENERGY, DISCHARGE_ENERGY))):
            net = _step_net(out[STEP_COUNT], columns, roles, net_role, total_role)
            if net is not None:
                out[targets[0]], out[targets[1]] = counters_from_net(out[STEP_COUNT], net)
        start = _basytec_start(meta.get("header", {}).get("Start of Test"))
        if UNIX_TIME in roles:
            out[UNIX_TIME] = unix_seconds(columns[roles[UNIX_TIME][0]], source=path,
                                          column=roles[UNIX_TIME][0])
        elif start is not None:
            out[UNIX_TIME] = (start - _EPOCH).total_seconds() + out[TIME]
            meta["unix_time_from"] = "Start of Test + test time (no zone: taken as UTC)"
        if start is not None:
            meta["start_time"] = start.isoformat()
        if start is not None or UNIX_TIME in out:
            meta["timezone"] = ZONE_UNKNOWN
        if dropped:
            meta["dropped"] = dropped
        used = {name for name, _ in roles.values()}
        extra = {n: v for n, v in columns.items() if n not in used}
        known = set(_BASYTEC_KEEP) | {n for n in names if split_unit(n)[0] in _BASYTEC_KEEP}
        return [build_record(out, extra, known=known, source=path, metadata=meta)]


def _step_net(steps: np.ndarray, columns: Mapping[str, np.ndarray],
              roles: Mapping[str, tuple[str, float]], net_role: str,
              total_role: str) -> np.ndarray | None:
    if net_role in roles:
        name, factor = roles[net_role]
        return np.nan_to_num(columns[name]) * factor
    if total_role in roles:  # a running total: the step's net is its rise since the step began
        name, factor = roles[total_role]
        total = np.nan_to_num(columns[name]) * factor
        first = np.ones(len(total), bool)
        first[1:] = steps[1:] != steps[:-1]
        before = np.r_[0.0, total[:-1]]
        base = before[first]
        return total - np.repeat(base, np.diff(np.r_[np.flatnonzero(first), len(total)]))
    return None


_EPOCH = datetime(1970, 1, 1)


def _basytec_start(text: str | None) -> datetime | None:
    """Basytec's ``Start of Test`` (``19.06.2023 17:56:53``; day first), None if absent or
    unreadable."""
    if not text:
        return None
    for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%y %H:%M:%S", "%d/%m/%Y %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return _iso_datetime(text)


def _iso_datetime(text: str | None) -> datetime | None:
    """An ISO 8601 date-time (``2025-07-19 15:26:20``), None where the text is none."""
    try:
        return datetime.fromisoformat(str(text).strip())
    except ValueError:
        return None


# ----------------------------------------------------------------------------- Novonix

_NOVONIX = {
    "date and time": (UNIX_TIME, None, None),
    "cycle number": (CYCLE, "count", None),
    "step type": (STEP_TYPE, None, None),
    "run time": (TIME, "time", None),
    "step time": (STEP_TIME, "time", None),
    "current": (CURRENT, "current", None),
    "potential": (VOLTAGE, "voltage", None),
    "capacity": ("throughput", "charge", None),
    "energy": ("energy throughput", "energy", None),
    "temperature": (TEMPERATURE, "temperature", None),
    "step number": (STEP_INDEX, "count", None),
}
_NOVONIX_KEEP = ("Circuit Temperature", "dVdt", "dIdt", "Step position", "Power")


class NovonixReader:
    """Novonix UHPC export (``[Summary]`` … ``[Data]`` sections, comma-separated)."""

    name = "novonix-csv"
    extensions = (".csv",)
    techniques = frozenset({"cycling"})
    description = "Novonix UHPC CSV export ([Summary], [Data]; Run Time (h), Potential (V))"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = decode(head)
        lines = text.lstrip("\ufeff").splitlines()
        if lines and lines[0].strip() == "[Summary]" and any(
                "novonix" in line.lower() for line in lines[1:5]):
            return True
        for i, line in enumerate(lines[:-1]):
            if line.strip() == "[Data]":
                following = lines[i + 1]
                return "Run Time (" in following and "Potential (" in following
        return False

    def read(self, path: Path, **options: Any) -> list[CyclingRecord]:
        """One ``CyclingRecord``; no options."""
        check_options(self.name, options)
        path = Path(path)
        content = read_text(path)
        lines = head_lines(content)
        start = next((i for i, line in enumerate(lines) if line.strip() == "[Data]"), None)
        if start is None:
            raise UnsupportedFormatError("not a Novonix export: no '[Data]' line", source=path)
        if start + 1 >= len(lines) or not lines[start + 1].strip():
            raise InputError("no column header after '[Data]'", source=path,
                             location=f"line {start + 2}")
        header = start + 1
        meta: dict[str, Any] = {"format": self.name, "file": path.name, "instrument": "Novonix"}
        for line in lines[:start]:
            key, sep, value = line.partition(":")
            if sep and value.strip() and not line.startswith(("{", "[")):
                meta.setdefault("header", {})[key.strip()] = value.strip()
        head = meta.get("header", {})
        for key, target in (("Version", "software_version"), ("Channel", "channel")):
            if key in head:
                meta[target] = head[key]
        started = _iso_datetime(head.get("Started"))
        if started is not None:
            meta["start_time"] = started.isoformat()
        names, roles, columns, dropped, out = _table_by_role(content, lines, header, ",", _NOVONIX,
                                                             path)
        if UNIX_TIME in roles:
            out[UNIX_TIME] = unix_seconds(columns[roles[UNIX_TIME][0]], source=path,
                                          column=roles[UNIX_TIME][0])
        keys = [out[STEP_INDEX]] if STEP_INDEX in out else [np.zeros(len(out[TIME]))]
        out[STEP_COUNT] = step_count(*keys, step_time=out.get(STEP_TIME))
        for role, targets in (("throughput", (CHARGE_CAPACITY, DISCHARGE_CAPACITY)),
                              ("energy throughput", (CHARGE_ENERGY, DISCHARGE_ENERGY))):
            if role in roles:
                name, factor = roles[role]
                values = np.nan_to_num(columns[name]) * factor
                if (values < 0).any():  # a signed net counter: rises charge, falls discharge
                    out[targets[0]], out[targets[1]] = counters_from_net(out[STEP_COUNT], values)
                else:
                    out[targets[0]], out[targets[1]] = counters_by_current_sign(
                        out[STEP_COUNT], values, out[CURRENT])
        if "start_time" in meta or UNIX_TIME in out:
            meta["timezone"] = ZONE_UNKNOWN
        if dropped:
            meta["dropped"] = dropped
        used = {name for name, _ in roles.values()}
        extra = {n: v for n, v in columns.items() if n not in used}
        known = {n for n in names if split_unit(n)[0] in _NOVONIX_KEEP}
        return [build_record(out, extra, known=known, source=path, metadata=meta)]
