"""Maccor text exports: the classic ``Rec# Cyc# Step Test (Sec) …`` table and its variants.

Maccor's software writes the same quantities under different names from one version or
export template to the next: ``Test (Sec)`` or ``Test (Min)`` or a bare ``TestTime``,
``Amp-hr`` or ``Cap. [Ah]``, ``Amps`` or ``Current [A]``, ``State`` or ``Md``, ``Cyc#`` or
``Cycle P``. Columns are therefore found by a table of base names with the unit taken
from the header (``_COLUMNS``), never by position; a new column is kept and named in an
``UnknownColumnWarning``, never an error. Files with a decimal comma are read too.

What the columns mean, and what this reader does about it:

- **Current.** Some exports write ``Amps`` unsigned, with the direction only in
  ``State`` (``C`` charge, ``D`` discharge, ``R`` rest, ``O``/``S`` other); others sign
  it. The current is taken as ``+|Amps|`` on ``C`` rows and ``−|Amps|`` on ``D`` rows,
  which is right for both; other rows keep the value as written.
- **Capacity and energy.** ``Amp-hr`` and ``Watt-hr`` are one unsigned counter each,
  whose direction is again the ``State``. Maccor restarts them at each step (BEEP's
  Maccor structuring, and the files here: BEEP's ``.052`` starts 14.25 s into a 4.84 A
  discharge step with 0.019158 Ah = 4.84 A × 14.25 s on the counter). Some set-ups let
  the counter run on through consecutive steps of the same direction (a CC step then a
  CV step); that is recognised where a step's first value does not fall below the
  previous same-direction step's last one, and the counter is then restarted there.
  The result is a charge and a discharge counter that both restart at every step;
  ``metadata["capacity_counter"]`` says which behaviour the file showed.
- **Time.** The header's unit is used (``Sec``, ``Min``, ``Hr``). A bare ``TestTime``
  has no unit; it is found by comparing the test time with the ``DPt Time`` stamps (the
  cellpy SIMBA export writes minutes) and recorded in ``metadata["time_unit"]``.
- **Date stamps** (``DPt Time``) are local time without a zone, taken as UTC
  (``metadata["timezone"]`` says so). Maccor writes a bare date on rows at midnight
  (``10/22/2019``); that is 00:00:00. Month/day order is found from the stamps and the
  header's start where a day exceeds 12, else day-first for files with a decimal comma
  and month-first otherwise (``dayfirst=`` overrides).
- **Start time.** The header's ``Date of Test`` or ``Started``, read in the same day
  order as the stamps, becomes ``start_time`` in ISO 8601 (``2021-05-06T11:23:46``,
  without a zone). Where the header gives a date alone (``03/31/2016``) and the first
  stamp less its test time falls on that date, that moment is the start; otherwise the
  date alone (``2019-10-10``: BEEP's ``.052`` resumes days later). A start the reader
  cannot parse stays only in ``metadata["header"]``.
- A file that starts partway through a step says so in ``metadata["starts_mid_step"]``
  (step time and counters on its first row), so no one mistakes the counters of the
  first step for what the file itself logged.
"""

from __future__ import annotations

import re
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
from ssbkit.io._text import decode, detect_decimal, read_text, split_fields
from ssbkit.io.cycler_text import (
    ZONE_UNKNOWN,
    build_record,
    head_lines,
    read_table,
    split_unit,
    step_count,
    unique_names,
    unit_factor,
)

__all__ = ["MaccorReader", "per_step_counters"]

# base name (lower case, unit split off) -> (role, quantity of its unit, unit when none given)
_COLUMNS: dict[str, tuple[str, str | None, str | None]] = {
    "cyc#": (CYCLE, "count", None),
    "cycle p": (CYCLE, "count", None),
    "cycle": (CYCLE, "count", None),
    "step": (STEP_INDEX, "count", None),  # "Step (Sec)" with a unit is the step time
    "step time": (STEP_TIME, "time", None),
    "steptime": (STEP_TIME, "time", None),
    "test": (TIME, "time", None),
    "test time": (TIME, "time", None),
    "testtime": (TIME, "time", None),
    "amp-hr": ("capacity", "charge", "Ah"),
    "cap.": ("capacity", "charge", "Ah"),
    "capacity": ("capacity", "charge", "Ah"),
    "watt-hr": ("energy", "energy", "Wh"),
    "ener.": ("energy", "energy", "Wh"),
    "energy": ("energy", "energy", "Wh"),
    "amps": (CURRENT, "current", "A"),
    "current": (CURRENT, "current", "A"),
    "volts": (VOLTAGE, "voltage", "V"),
    "voltage": (VOLTAGE, "voltage", "V"),
    "state": ("state", None, None),
    "md": ("state", None, None),
    "mode": ("state", None, None),
    "dpt time": ("date", None, None),
    "temp 1": (TEMPERATURE, "temperature", "degC"),
    "temp1": (TEMPERATURE, "temperature", "degC"),
}
_KEEP = {"rec#", "rec", "cycle c", "es", "loop1", "loop2", "loop3", "loop4", "acimp/ohms",
         "dcir/ohms", "wf chg cap", "wf dis cap", "wf chg e", "wf dis e", "range",
         *(f"var{i}" for i in range(1, 16))}
_TEXT_ROLES = ("state", "date")
_TIME_UNITS = (("s", 1.0), ("min", 60.0), ("h", 3600.0))


def _role(name: str) -> tuple[str, str | None, str | None, str | None] | None:
    base, unit = split_unit(name)
    key = re.sub(r"\s+", " ", base.lower())
    if key == "step" and unit is not None:
        return STEP_TIME, "time", None, unit
    entry = _COLUMNS.get(key)
    return None if entry is None else (*entry, unit)


def _find_header(lines: list[str], limit: int = 100) -> int | None:
    for i, line in enumerate(lines[:limit]):
        if "\t" not in line:
            continue
        roles = {r[0] for r in map(_role, split_fields(line, "\t")) if r}
        if {TIME, VOLTAGE, "state"} <= roles and ({"capacity", CURRENT} & roles):
            return i
    return None


class MaccorReader:
    """Maccor tab-separated text export (classic ``Rec#``/``Amp-hr`` and its variants)."""

    name = "maccor-txt"
    extensions = (".txt",)
    techniques = frozenset({"cycling"})
    description = "Maccor text export (Rec#, Cyc#, Test (Sec), Amp-hr, Amps, Volts, State)"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = decode(head).splitlines()
        return _find_header(lines[:-1] if len(lines) > 1 else lines, 60) is not None

    def read(self, path: Path, **options: Any) -> list[CyclingRecord]:
        """One ``CyclingRecord``. Options: ``dayfirst`` (None: from the stamps),
        ``time_unit`` ("s", "min", "h") for a time column whose header has no unit."""
        opts = check_options(self.name, options, dayfirst=None, time_unit=None)
        if opts["dayfirst"] not in (None, True, False):
            raise InputError(f"must be True, False or None, got {opts['dayfirst']!r}",
                             source="dayfirst")
        path = Path(path)
        content = read_text(path)
        lines = head_lines(content)
        header = _find_header(lines)
        if header is None:
            raise UnsupportedFormatError("not a Maccor export: no tab-separated column line "
                                         "with test time, voltage, state and current or "
                                         "capacity in the first 100 lines", source=path)
        names = unique_names(split_fields(lines[header], "\t"), path, header + 1)
        meta = {"format": self.name, "file": path.name, "instrument": "Maccor",
                **_header_metadata(lines[:header], path)}
        roles: dict[str, tuple[str, float | None]] = {}
        for j, name in enumerate(names):
            found = _role(name)
            if found is None or found[0] in roles:
                continue
            role, quantity, default, unit = found
            if quantity is None or (quantity == "time" and unit is None):
                factor = None  # text, or a time whose unit is found below
            else:
                factor = unit_factor(unit, quantity, column=name, source=path, default=default,
                                     location=f"line {header + 1}, column {j + 1}")
            roles[role] = (name, factor)
        first = next((lines[i] for i in range(header + 1, len(lines)) if lines[i].strip()), "")
        decimal = detect_decimal(split_fields(first, "\t"), "\t")
        text = [names.index(roles[r][0]) for r in _TEXT_ROLES if r in roles]
        numeric = [names.index(n) for n, _ in roles.values() if names.index(n) not in text]
        required = [names.index(roles[r][0]) for r in (TIME, VOLTAGE, CURRENT) if r in roles]
        columns, line_numbers, dropped = read_table(
            content, header, sep="\t", decimal=decimal, source=path, names=names,
            numeric=numeric, text_columns=text, required=required)
        out: dict[str, np.ndarray] = {}
        start = meta.pop("start_time", None)
        stamps = (np.asarray([str(v).strip() for v in columns[roles["date"][0]]], dtype=object)
                  if "date" in roles else np.empty(0, dtype=object))
        dayfirst = _date_order(stamps, start, opts["dayfirst"], decimal == ",", meta)
        if "date" in roles:
            out[UNIX_TIME] = _dates(stamps, line_numbers, path, roles["date"][0], dayfirst)
        time_factor = _time_factor(columns[roles[TIME][0]], out.get(UNIX_TIME), roles[TIME],
                                   opts["time_unit"], meta)
        for role in (TIME, STEP_TIME):
            if role in roles:
                name, factor = roles[role]
                out[role] = columns[name] * (time_factor if factor is None else factor)
        for role in (VOLTAGE, TEMPERATURE, CYCLE, STEP_INDEX):
            if role in roles:
                out[role] = columns[roles[role][0]] * roles[role][1]
        state = (np.char.upper(np.asarray(columns[roles["state"][0]], dtype=str))
                 if "state" in roles else None)
        if state is not None:
            out[STEP_TYPE] = state
        if CURRENT in roles:
            amps = columns[roles[CURRENT][0]] * roles[CURRENT][1]
            if state is not None:
                amps = np.where(state == "C", np.abs(amps),
                                np.where(state == "D", -np.abs(amps), amps))
                meta["current_sign"] = "from the State column (C charge, D discharge)"
            out[CURRENT] = amps
        keys = [out[STEP_INDEX]] if STEP_INDEX in out else [np.zeros(len(out[TIME]))]
        out[STEP_COUNT] = step_count(*keys, step_time=out.get(STEP_TIME))
        if state is not None:
            for role, targets in (("capacity", (CHARGE_CAPACITY, DISCHARGE_CAPACITY)),
                                  ("energy", (CHARGE_ENERGY, DISCHARGE_ENERGY))):
                if role in roles:
                    raw = columns[roles[role][0]] * roles[role][1]
                    charge, discharge, behaviour = per_step_counters(out[STEP_COUNT], state, raw)
                    out[targets[0]], out[targets[1]] = charge, discharge
                    if role == "capacity":
                        meta["capacity_counter"] = behaviour
        if STEP_TIME in out and len(out[STEP_TIME]) > 1:
            interval = np.nanmedian(np.diff(out[TIME])) if len(out[TIME]) > 1 else 0.0
            if out[STEP_TIME][0] > max(interval, 0.0) * 1.5:
                meta["starts_mid_step"] = {
                    "line": int(line_numbers[0]), "step_time_s": float(out[STEP_TIME][0]),
                    **{key: float(out[col][0]) for key, col in (
                        ("charge_ah", CHARGE_CAPACITY), ("discharge_ah", DISCHARGE_CAPACITY))
                       if col in out}}
        first = float(out[UNIX_TIME][0] - out[TIME][0]) if UNIX_TIME in out else None
        start = _start_time(start, dayfirst, first)
        if start is not None:
            meta["start_time"] = start
        if start is not None or UNIX_TIME in out:
            meta["timezone"] = ZONE_UNKNOWN
        if dropped:
            meta["dropped"] = dropped
        used = {name for name, _ in roles.values()}
        extra = {n: v for n, v in columns.items() if n not in used}
        known = {n for n in names if re.sub(r"\s+", " ", n.lower()) in _KEEP}
        return [build_record(out, extra, known=known, source=path, metadata=meta)]


def per_step_counters(steps: np.ndarray, state: np.ndarray,
                      counter: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Charge and discharge counters that restart at each step, from Maccor's unsigned
    counter and the ``State`` column, and a phrase for what the counter did.

    A step of the same direction as the previous one (no step of the other direction in
    between) whose first value is not below that step's last value continued it; it is
    restarted by subtracting that value.

    >>> steps = np.array([1, 1, 2, 2, 3, 3])
    >>> state = np.array(["C", "C", "C", "C", "D", "D"])
    >>> c, d, how = per_step_counters(steps, state, np.array([1., 2., 2.5, 3., 1., 2.]))
    >>> c.tolist(), d.tolist(), how
    ([1.0, 2.0, 0.5, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 2.0], 'runs on through \
consecutive steps of the same direction')
    """
    raw = np.abs(np.nan_to_num(np.asarray(counter, float)))
    steps = np.asarray(steps)
    n = len(raw)
    starts = np.flatnonzero(np.r_[True, steps[1:] != steps[:-1]]) if n else np.empty(0, int)
    ends = np.r_[starts[1:] - 1, n - 1] if n else starts
    offsets = np.zeros(len(starts))
    last: dict[str, float | None] = {"C": None, "D": None}
    restarted = continued = 0
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        mode = state[a]
        if mode not in last:
            continue
        previous = last[mode]
        if previous is not None and previous > 0:
            if raw[a] >= previous * (1 - 1e-9):
                offsets[k] = previous
                continued += 1
            else:
                restarted += 1
        last[mode] = raw[b]
        last["D" if mode == "C" else "C"] = None
    per_step = raw - np.repeat(offsets, np.diff(np.r_[starts, n])) if n else raw
    charge = np.where(state == "C", per_step, 0.0)
    discharge = np.where(state == "D", per_step, 0.0)
    if restarted and continued:
        how = "restarts at some steps and runs on at others"
    elif continued:
        how = "runs on through consecutive steps of the same direction"
    elif restarted:
        how = "restarts at each step"
    else:
        how = "not determined (no two steps of the same direction in a row)"
    return charge, discharge, how


_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d+)")


def _date_order(stamps: np.ndarray, start: str | None, dayfirst: bool | None,
                decimal_comma: bool, meta: dict[str, Any]) -> bool:
    """Whether the dates put the day first: given, else from a day above 12 among the
    stamps and the header's start, else from the decimal mark (said in ``date_order``)."""
    if dayfirst is not None:
        return dayfirst
    texts = [*np.unique(stamps.astype(str)), *([start] if start else [])]
    pairs = [(int(m[1]), int(m[2])) for m in map(_DATE.match, texts) if m]
    if any(a > 12 for a, _ in pairs):
        dayfirst, why = True, "a day above 12 comes first"
    elif any(b > 12 for _, b in pairs):
        dayfirst, why = False, "a day above 12 comes second"
    else:
        dayfirst = decimal_comma
        why = "assumed from the decimal " + ("comma" if decimal_comma else "point")
    meta["date_order"] = f"{'day' if dayfirst else 'month'} first ({why})"
    return dayfirst


def _start_time(text: str | None, dayfirst: bool, first: float | None) -> str | None:
    """The header's start in ISO 8601 (no zone), or None where it is not a Maccor date.

    >>> _start_time("06/05/2021 11:23:46", True, None), _start_time("03/31/2016", False, None)
    ('2021-05-06T11:23:46', '2016-03-31')
    >>> _start_time("03/31/2016", False, 1459440331.0)  # the first stamp less its test time
    '2016-03-31T16:05:31'
    """
    from datetime import UTC, datetime

    if not text:
        return None
    day_month = "%d/%m" if dayfirst else "%m/%d"
    for fmt in (f"{day_month}/%Y %H:%M:%S", f"{day_month}/%y %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), fmt).isoformat()
        except ValueError:
            continue
    for fmt in (f"{day_month}/%Y", f"{day_month}/%y"):
        try:
            date = datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
        if first is not None and np.isfinite(first):
            moment = datetime.fromtimestamp(round(first), UTC).replace(tzinfo=None)
            if moment.date() == date:
                return moment.isoformat()
        return date.isoformat()
    return None


def _dates(values: np.ndarray, lines: np.ndarray, path: Path, column: str,
           dayfirst: bool) -> np.ndarray:
    """Seconds since 1970 from Maccor's stamps (no zone: taken as UTC)."""
    import pandas as pd

    # stamps repeat (one a second at most): parse each distinct one once
    distinct, inverse = np.unique(np.asarray(values, dtype=object).astype(str),
                                  return_inverse=True)
    text = pd.Series(distinct, dtype=object)
    text = text.where(text != "", None)
    bare = text.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", na=False)
    text = text.where(~bare, text + " 00:00:00")  # Maccor drops the clock at midnight
    parts = text.str.extract(_DATE.pattern)
    fmt = None
    if parts[0].notna().all():
        fmt = "%d/%m/%Y %H:%M:%S" if dayfirst else "%m/%d/%Y %H:%M:%S"
        if (parts[2].str.len() == 2).all():
            fmt = fmt.replace("%Y", "%y")
    stamps = pd.to_datetime(text, errors="coerce", format=fmt, dayfirst=dayfirst)
    if fmt is not None and (stamps.isna() & text.notna()).any():
        stamps = pd.to_datetime(text, errors="coerce", dayfirst=dayfirst)
    bad = (stamps.isna() & text.notna()).to_numpy()[inverse.ravel()]
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {column!r}: {values[row]!r} is not a date and time",
                         source=path, location=f"line {lines[row]}")
    seconds = (stamps - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(float)
    return seconds[inverse.ravel()]


def _time_factor(test_time: np.ndarray, unix: np.ndarray | None, role: tuple[str, float | None],
                 forced: str | None, meta: dict[str, Any]) -> float:
    name, factor = role
    if factor is not None:
        return factor
    if forced is not None:
        factor = dict(_TIME_UNITS).get(forced)
        if factor is None:
            raise InputError(f"must be one of s, min, h; got {forced!r}", source="time_unit")
        meta["time_unit"] = f"{forced} (given)"
        return factor
    if unix is not None and len(test_time) > 1:
        span_t = float(np.nanmax(test_time) - np.nanmin(test_time))
        span_u = float(np.nanmax(unix) - np.nanmin(unix))
        if span_t > 0 and span_u >= 10:  # the stamps resolve seconds only
            ratio = span_u / span_t
            for unit, candidate in _TIME_UNITS:
                if abs(ratio / candidate - 1) < 0.25:
                    meta["time_unit"] = f"{unit} (from the date stamps: the header gives none)"
                    return candidate
    meta["time_unit"] = "s (assumed: the header gives none and the date stamps cannot tell)"
    meta.setdefault("assumed_units", []).append(name)
    return 1.0


_CLASSIC_KEYS = ("Today's Date", "Date of Test:", "Filename:", "Procedure:", "Comment/Barcode:")


def _header_metadata(lines: list[str], path: Path) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    header: dict[str, str] = {}
    for line in lines:
        if line.startswith("Today's Date"):
            marks = sorted((line.find(k), k) for k in _CLASSIC_KEYS if k in line)
            for (at, key), (nxt, _) in zip(marks, [*marks[1:], (len(line), "")], strict=True):
                header[key.rstrip(":")] = line[at + len(key):nxt].strip(" \t:")
            continue
        key, sep, value = line.partition("\t")
        if sep and key.strip():
            header[key.strip().rstrip(":")] = value.strip()
    if header:
        meta["header"] = header
    start = header.get("Date of Test") or header.get("Started")
    if start:
        meta["start_time"] = start
    if header.get("Tester"):
        meta["instrument"] = f"Maccor ({header['Tester']})"
    channel = header.get("Channel")
    if channel is None and path.suffix[1:].isdigit():
        channel = path.suffix[1:]  # Maccor names each channel's data file NAME.<channel>
    if channel:
        meta["channel"] = channel
    if header.get("Procedure"):
        meta["procedure"] = header["Procedure"]
    return meta
