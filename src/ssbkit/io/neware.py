"""Neware cycler files: the binaries .nda/.ndax (fastnda, NewareNDA as fallback) and BTSDA CSV.

Binaries. Neware changes its binary layout with nearly every BTS release (nda v29, v130;
ndax with ndc 2 to 17), and the offsets and current-range multipliers that decode them
are reverse-engineered knowledge kept up to date by two BSD-3 projects. ssbkit therefore
writes no binary parser of its own: ``fastnda`` (polars, the fast one) reads the file,
and where it raises, ``NewareNDA`` gets a go; the error then names both failures.

What this module adds is the meaning of the columns:

- ``Test Time / s`` is fastnda's ``total_time_s``. NewareNDA's ``Time`` is step time in
  nda v29 and .ndax but already total time in BTS 9.1 nda v130 files; on that path the
  column is read as step time wherever it falls back at a step boundary, and summed
  over steps into test time, as fastnda does.
- ``Cycle Count / 1`` is the instrument's own cycle number (fastnda ``cycle_mode="raw"``),
  not a regenerated "charge first" count; files that store none (BTS 9.0 nda, such as
  NewareNDA's pulse example) get no cycle column, and ``metadata["native_cycle"]`` says so.
- The capacity and energy counters restart at each step. fastnda gives one signed net
  counter per step; its rises are charge and its falls discharge
  (``ssbkit.io._cycling.counters_from_net``), so a pulse step gets positive counters
  (NewareNDA writes BTS 9.0 pulse discharge as negative numbers; its counters are taken
  as magnitudes).
- Current in A (> 0 charges), auxiliary temperatures as ``Ambient Temperature / degC``,
  ``Temperature T2 / degC`` …, auxiliary voltages as ``Auxiliary Voltage 1 / V`` …,
  the record number as ``Record Index / 1``. Which probe is which follows the library's
  labels; an aux channel of a kind it cannot name is kept under its own name, with an
  ``UnknownColumnWarning``.
- ``Unix Time / s`` is kept as the file has it, jumps included (two of the sample .ndax
  files and the BTS 9.1 file step back or forward in wall-clock time within a step):
  test time, not clock time, is the axis to compute on.
- Clocks. The binaries store each record's time as true Unix time (UTC), but the test's
  start time (TestInfo.xml, the .nda header) as the cycler PC's local wall-clock time,
  without a zone: on the 700k-row BTS 8.5 file the two differ by 7198 s, two hours of
  summer time in central Europe and 2 s of logging delay. The zone is therefore found as
  the local start less the Unix time of the first row (less its test time), rounded to
  a quarter of an hour; ``start_time`` is written with that offset
  (``2024-05-06T08:58:57+02:00``) and ``metadata["utc_offset_s"]`` holds it. Where the
  two disagree by more than five minutes after rounding, or the Unix time is only the
  start time plus test time (fastnda's reading of nda versions 1, 3 and 4), the offset
  is unknown and ``metadata["timezone"]`` says so; where the library already gives the
  start in UTC (BTS 9 .nda) it is kept, with the local offset unknown.

Metadata: ``format``, ``file``, ``instrument``, ``engine`` (library and version),
``file_version`` ("nda 29", "ndax, ndc 14"), ``software_version``, ``start_time`` (ISO
8601, with its UTC offset where known), ``utc_offset_s``, ``timezone``, ``channel`` and
``barcode`` (.ndax), ``active_mass_mg`` (.nda, where set), ``native_cycle``,
``reader_notes``, ``unknown_columns``.

Both libraries print or log notes ("negative jumps in the 'unix_time_s' column") and
raise warnings about unverified format versions. None of that may reach stdout (the CLI
prints one JSON document there) or escape as a warning: it is caught and kept in
``metadata["reader_notes"]``. The table goes from polars to numpy column by column,
without a pandas DataFrame, so reading costs little more than fastnda itself.

BTSDA CSV. The text export (``DataPoint, Cycle Index, Step Index, Step Type, Time,
Cumulative Time, Current(A), Voltage(V), … Chg. Cap.(Ah), DChg. Cap.(Ah) …``, and the
spelling other BTSDA versions write, ``Record ID, Cycle ID, Step ID, Time(h:min:s.ms),
Realtime, Current(mA), Capacitance_Chg(mAh) …``, which has no running total, so test
time is counted from ``Realtime``) is read through ``record_from_frame``; units come from
the parentheses of each name, clock strings (``144:02:18``) become seconds, step types
are spelled as in the binaries (``CC DChg`` -> ``CC_DChg``), and the active mass is
recovered from ``Capacity`` and ``Spec. Cap.(mAh/g)`` where both exist. Its dates are
local time without a zone and the export has no true Unix time to find the zone from:
they are taken as UTC, ``start_time`` is the first date less its test time, and
``metadata["timezone"]`` says the zone is unknown.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import DependencyError, InputError
from ssbkit.core.validate import one_of
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
from ssbkit.io._cycling import UnknownColumnWarning, counters_from_net, record_from_frame
from ssbkit.io.cycler_text import ZONE_UNKNOWN

__all__ = ["NewareCsvReader", "NewareNdaReader"]

RECORD_INDEX = "Record Index / 1"
_NDA_MAGIC = b"NEWARE"
_ZIP_MAGIC = b"PK\x03\x04"
# data.ndc holds the main channel in every .ndax; the XML members name the test.
_NDAX_DATA = "data.ndc"
_NDAX_XML = frozenset({"Step.xml", "TestInfo.xml", "VersionInfo.xml"})
_ENGINES = ("auto", "fastnda", "newarenda")
# fastnda columns handled explicitly (anything else is an unknown column)
# nda versions whose Unix time fastnda makes from the local start time plus test time
_DERIVED_UNIX = frozenset({"nda 1", "nda 3", "nda 4"})
_QUARTER_HOUR_S = 900
_CLOCK_TOLERANCE_S = 300.0  # logging delay and clock drift between start and first record
_FASTNDA_KNOWN = frozenset({"index", "voltage_V", "current_mA", "unix_time_s", "step_time_s",
                            "total_time_s", "cycle_count", "step_count", "step_index",
                            "step_type", "capacity_mAh", "energy_mWh"})


def _temperature_name(n: int) -> str:
    return TEMPERATURE if n == 1 else f"Temperature T{n} / degC"


# ----------------------------------------------------------------------------- binaries

def _binary_kind(path: Path, head: bytes) -> str | None:
    """'.nda' or '.ndax' from the content, None for anything else (never raises)."""
    if head.startswith(_NDA_MAGIC):
        return ".nda"
    if not head.startswith(_ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())  # the members sit at the top of the archive
    except Exception:  # a damaged zip, an unreadable file: not ours to judge here
        return None
    return ".ndax" if _NDAX_DATA in names and names & _NDAX_XML else None


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(64)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", source=path) from None


class _Notes(logging.Handler):
    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append(f"{record.name}: {record.getMessage()}")


@contextlib.contextmanager
def _quiet(notes: list[str]) -> Iterator[None]:
    """Collect what the Neware libraries print, log and warn into ``notes``."""
    handler = _Notes(notes)
    loggers = [logging.getLogger(name) for name in ("fastnda", "newarenda")]
    propagate = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
    printed = io.StringIO()
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
            warnings.simplefilter("always")
            yield
    finally:
        for logger, flag in zip(loggers, propagate, strict=True):
            logger.removeHandler(handler)
            logger.propagate = flag
        # deprecations concern the libraries' own code, not the file
        notes.extend(f"{w.category.__name__}: {w.message}" for w in caught
                     if not issubclass(w.category, DeprecationWarning | FutureWarning))
        notes.extend(line.strip() for line in printed.getvalue().splitlines() if line.strip())


@contextlib.contextmanager
def _with_suffix(path: Path, suffix: str) -> Iterator[Path]:
    """``path`` under a name ending in ``suffix``: both libraries choose the format by suffix."""
    if path.suffix == suffix:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="ssbkit-neware-") as folder:
        alias = Path(folder) / f"data{suffix}"
        try:
            alias.symlink_to(path.resolve())
        except OSError:  # no symlinks (Windows without privilege): a copy does
            alias.write_bytes(path.read_bytes())
        yield alias


def _ndax_metadata(path: Path) -> dict[str, Any]:
    """Channel, start time and versions from TestInfo.xml and the header of data.ndc.

    Read here rather than through the libraries' ``read_metadata``, which parses every XML
    member into nested dictionaries: a tenth of the reading time of a large file, for
    four fields.
    """
    from xml.etree import ElementTree

    meta: dict[str, Any] = {"file_version": "ndax"}
    with zipfile.ZipFile(path) as archive:
        with archive.open(_NDAX_DATA) as member:
            head = member.read(3)
        if len(head) == 3:  # byte 2 of every .ndc is its format version
            meta["file_version"] = f"ndax, ndc {head[2]}"
        if "TestInfo.xml" not in archive.namelist() or \
                archive.getinfo("TestInfo.xml").file_size > 2**20:
            return meta
        raw = archive.read("TestInfo.xml")
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", raw.decode("gb18030", errors="replace"))
    root = ElementTree.fromstring(text)
    config = root.find("config")
    test = config.find("TestInfo") if config is not None else None
    if config is not None and config.get("SortVersion"):
        meta["software_version"] = config.get("SortVersion")
    if test is None:
        return meta
    if all(test.get(k) is not None for k in ("DevID", "UnitID", "ChlID")):
        meta["channel"] = f"{test.get('DevID')}-{test.get('UnitID')}-{test.get('ChlID')}"
    if test.get("Barcode"):
        meta["barcode"] = test.get("Barcode")
    start = _iso(test.get("StartTime"))
    if start:
        meta["start_time"] = start
    return meta


def _iso(text: Any) -> str | None:
    """'2024-05-06 08:58:57' -> '2024-05-06T08:58:57' (a zone only where the file gives one)."""
    if not isinstance(text, str) or not re.match(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", text.strip()):
        return None
    return text.strip().replace(" ", "T", 1)


def _nda_metadata(raw: dict[str, Any]) -> dict[str, Any]:
    """The few fields ssbkit names, from fastnda's or NewareNDA's ``read_metadata``."""
    meta: dict[str, Any] = {}
    if "nda_version" in raw:
        meta["file_version"] = f"nda {raw['nda_version']}"
    for key in ("bts_version", "client_version", "server_version"):
        if raw.get(key):
            meta["software_version"] = str(raw[key])
            break
    start = _iso(raw.get("start_time"))
    if start:
        meta["start_time"] = start
    mass = raw.get("active_mass_mg")
    if isinstance(mass, int | float) and mass > 0:
        meta["active_mass_mg"] = float(mass)
    return meta


def _metadata(path: Path, kind: str, read_metadata: Any, notes: list[str]) -> dict[str, Any]:
    try:
        if kind == ".ndax":
            return _ndax_metadata(path)
        return _nda_metadata(read_metadata(path))
    except Exception as exc:  # metadata is a courtesy: the data are read all the same
        notes.append(f"metadata not read: {_short(exc)}")
        return {}


def _aux_columns(names: list[tuple[str, np.ndarray, str]]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Canonical names for auxiliary channels given as (name, values, kind) in file order."""
    out: dict[str, np.ndarray] = {}
    unknown: list[str] = []
    temperatures = voltages = 0
    for name, values, kind in names:
        values = np.asarray(values, dtype=float)
        if not np.isfinite(values).any():
            continue  # a declared channel that never logged
        if kind == "temperature":
            temperatures += 1
            out[_temperature_name(temperatures)] = values
        elif kind == "voltage":
            voltages += 1
            out[f"Auxiliary Voltage {voltages} / V"] = values
        else:
            out[name] = values
            if kind == "unknown":
                unknown.append(name)
    return out, unknown


def _columns_from_fastnda(frame: Any, step_types: dict[int, str],
                          native_cycle: bool) -> tuple[dict[str, np.ndarray], list[str]]:
    def col(name: str) -> np.ndarray:
        return frame.get_column(name).to_numpy()

    step_count = col("step_count")
    charge, discharge = counters_from_net(step_count, col("capacity_mAh").astype(float))
    e_charge, e_discharge = counters_from_net(step_count, col("energy_mWh").astype(float))
    codes = col("step_type").astype(np.intp)
    present = np.flatnonzero(np.bincount(codes))
    names = [step_types.get(int(code), f"Unknown {code}") for code in present]
    lookup = np.zeros(present[-1] + 1, dtype=f"<U{max(map(len, names))}")
    lookup[present] = names
    columns: dict[str, np.ndarray] = {
        TIME: col("total_time_s"),
        STEP_TIME: col("step_time_s"),
        VOLTAGE: col("voltage_V"),
        CURRENT: col("current_mA").astype(float) * 1e-3,
        STEP_INDEX: col("step_index"),
        STEP_COUNT: step_count,
        STEP_TYPE: lookup[codes],
        CHARGE_CAPACITY: charge * 1e-3,
        DISCHARGE_CAPACITY: discharge * 1e-3,
        CHARGE_ENERGY: e_charge * 1e-3,
        DISCHARGE_ENERGY: e_discharge * 1e-3,
        RECORD_INDEX: col("index"),
    }
    if "unix_time_s" in frame.columns:  # absent from nda versions without a start time
        columns[UNIX_TIME] = col("unix_time_s")
    if native_cycle:
        columns[CYCLE] = col("cycle_count")
    aux = []
    unknown: list[str] = []
    for name in frame.columns:
        if name in _FASTNDA_KNOWN:
            continue
        if name.startswith("aux"):
            kind = ("temperature" if name.endswith("_temperature_degC")
                    else "voltage" if name.endswith("_voltage_V")
                    else "unknown" if name.endswith("?") else "other")
            aux.append((name, col(name), kind))
        else:
            columns[name] = col(name)
            unknown.append(name)
    extra, unknown_aux = _aux_columns(aux)
    columns.update(extra)
    return columns, unknown + unknown_aux


def _columns_from_newarenda(frame: Any) -> tuple[dict[str, np.ndarray], list[str], bool]:
    step_count = frame["Step"].to_numpy(np.int64)
    time = frame["Time"].to_numpy(float)
    first = np.r_[True, step_count[1:] != step_count[:-1]]
    starts = np.flatnonzero(first)
    # Step time falls back at a step boundary; BTS 9.1 total time does not.
    restarts = bool(starts.size > 1 and (time[starts[1:]] < time[starts[1:] - 1]).any())
    lengths = np.diff(np.r_[starts, time.size])
    if restarts or starts.size == 1:
        step_time = time
        ends = np.maximum.reduceat(time, starts)
        total = time + np.repeat(np.r_[0.0, np.cumsum(ends)[:-1]], lengths)
    else:
        total = time
        step_time = time - np.repeat(time[starts], lengths)
    stamps = frame["Timestamp"]
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    unix = (stamps - np.datetime64("1970-01-01")).dt.total_seconds().to_numpy(float)
    cycle = frame["Cycle"].to_numpy(np.int64)
    native_cycle = bool((cycle != 0).any())
    columns: dict[str, np.ndarray] = {
        TIME: total,
        UNIX_TIME: unix,
        STEP_TIME: step_time,
        VOLTAGE: frame["Voltage"].to_numpy(float),
        CURRENT: frame["Current(mA)"].to_numpy(float) * 1e-3,
        STEP_INDEX: frame["Step_Index"].to_numpy(np.int64),
        STEP_COUNT: step_count,
        STEP_TYPE: frame["Status"].astype(str).to_numpy(str),
        CHARGE_CAPACITY: np.abs(frame["Charge_Capacity(mAh)"].to_numpy(float)) * 1e-3,
        DISCHARGE_CAPACITY: np.abs(frame["Discharge_Capacity(mAh)"].to_numpy(float)) * 1e-3,
        CHARGE_ENERGY: np.abs(frame["Charge_Energy(mWh)"].to_numpy(float)) * 1e-3,
        DISCHARGE_ENERGY: np.abs(frame["Discharge_Energy(mWh)"].to_numpy(float)) * 1e-3,
        RECORD_INDEX: frame["Index"].to_numpy(np.int64),
    }
    if native_cycle:
        columns[CYCLE] = cycle
    known = {"Index", "Cycle", "Step", "Step_Index", "Status", "Time", "Voltage", "Current(mA)",
             "Charge_Capacity(mAh)", "Discharge_Capacity(mAh)", "Charge_Energy(mWh)",
             "Discharge_Energy(mWh)", "Timestamp"}
    aux = [(str(name), frame[name].to_numpy(float),
            "temperature" if re.fullmatch(r"T\d+", str(name))
            else "voltage" if re.fullmatch(r"V\d+", str(name)) else "unknown")
           for name in frame.columns if name not in known]
    extra, unknown = _aux_columns(aux)
    columns.update(extra)
    return columns, unknown, native_cycle


class NewareNdaReader:
    """Neware binaries (.nda, .ndax), read by fastnda with NewareNDA as fallback.

    >>> reader = NewareNdaReader()
    >>> reader.sniff(Path("x.nda"), b"NEWARE20200325"), reader.sniff(Path("x.nda"), b"PK")
    (True, False)
    """

    name = "neware-nda"
    extensions = (".nda", ".ndax")
    techniques = frozenset({"cycling"})
    description = "Neware BTS binaries (.nda, .ndax), via fastnda (NewareNDA as fallback)"

    def sniff(self, path: Path, head: bytes) -> bool:
        try:
            return _binary_kind(Path(path), head) is not None
        except Exception:  # sniff never raises
            return False

    def read(self, path: Path, **options: Any) -> list[CyclingRecord]:
        """One ``CyclingRecord``; option ``engine`` ("auto", "fastnda" or "newarenda").

        "auto" tries fastnda and falls back to NewareNDA when fastnda fails.
        """
        opts = check_options(self.name, options, engine="auto")
        engine = one_of("engine", opts["engine"], _ENGINES)
        path = Path(path)
        head = _head(path)
        if not head:
            raise InputError("the file is empty", source=path)
        kind = _binary_kind(path, head)
        if kind is None:
            raise InputError(_not_neware(path, head), source=path)
        failures: list[str] = []
        attempts = {"fastnda": _read_fastnda, "newarenda": _read_newarenda}
        for name in (("fastnda", "newarenda") if engine == "auto" else (engine,)):
            try:
                return [attempts[name](path, kind, [f"not read by {f}" for f in failures])]
            except _Missing as exc:
                failures.append(str(exc))
            except InputError as exc:
                failures.append(f"{name}: {exc.detail}")
            except Exception as exc:  # the libraries raise anything from struct errors to KeyError
                failures.append(f"{name}: {type(exc).__name__}: {_short(exc)}")
        if all(f.startswith("not installed") for f in failures):
            raise DependencyError("reading Neware .nda/.ndax files needs fastnda or NewareNDA: "
                                  'pip install "ssbkit[cycling]"')
        size = path.stat().st_size
        raise InputError(f"cannot read this Neware {kind} file of {size} bytes ("
                         + "; ".join(failures) + ")", source=path)


def _not_neware(path: Path, head: bytes) -> str:
    """Why ``path`` is no Neware binary, as precisely as its first bytes allow."""
    expected = (f"an .nda starts with 'NEWARE'; an .ndax is a zip holding {_NDAX_DATA} and the "
                "test's XML files")
    if not head.startswith(_ZIP_MAGIC):
        return f"not a Neware binary ({expected})"
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(Path(n).name for n in archive.namelist())
    except Exception as exc:
        return f"a zip archive that cannot be opened, truncated or damaged? ({_short(exc)})"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"a zip archive without Neware members (it holds {shown or 'nothing'}; {expected})"


class _Missing(Exception):
    """The library for one engine is not installed."""


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


def _read_fastnda(path: Path, kind: str, notes: list[str]) -> CyclingRecord:
    try:
        import fastnda
    except ImportError:
        raise _Missing("not installed: fastnda") from None
    with _with_suffix(path, kind) as readable, _quiet(notes):
        frame = fastnda.read(readable, cycle_mode="raw", raw_categories=True)
        file_meta = _metadata(readable, kind, fastnda.read_metadata, notes)
    if frame.height == 0:
        raise InputError("the file holds no data records", source=path)
    # fastnda says so (and numbers cycles itself) when the file stores no cycle number
    native_cycle = not any(n.startswith("fastnda") and "cycle column missing" in n.lower()
                           for n in notes)
    columns, unknown = _columns_from_fastnda(frame, dict(fastnda.step_type_map), native_cycle)
    meta = {"engine": f"fastnda {fastnda.__version__}", **file_meta}
    return _record(columns, meta, notes, unknown, native_cycle, path)


def _read_newarenda(path: Path, kind: str, notes: list[str]) -> CyclingRecord:
    try:
        import NewareNDA
    except ImportError:
        raise _Missing("not installed: NewareNDA") from None
    with _with_suffix(path, kind) as readable, _quiet(notes):
        frame = NewareNDA.read(str(readable), software_cycle_number=False, log_level="WARNING")
        file_meta = _metadata(readable, kind, NewareNDA.read_metadata, notes)
    if len(frame) == 0:
        raise InputError("the file holds no data records", source=path)
    columns, unknown, native_cycle = _columns_from_newarenda(frame)
    meta = {"engine": f"NewareNDA {NewareNDA.__version__}", **file_meta}
    return _record(columns, meta, notes, unknown, native_cycle, path)


def _record(columns: dict[str, np.ndarray], meta: dict[str, Any], notes: list[str],
            unknown: list[str], native_cycle: bool, path: Path) -> CyclingRecord:
    meta = {"format": "neware-nda", "file": path.name, "instrument": "Neware", **meta,
            "native_cycle": native_cycle}
    if not native_cycle:
        notes.append("the file stores no cycle number: no 'Cycle Count / 1' column")
    if notes:
        meta["reader_notes"] = list(dict.fromkeys(notes))
    if unknown:
        meta["unknown_columns"] = unknown
    meta.update(_clock(meta, columns))
    record = CyclingRecord.from_columns(columns, metadata=meta, source=path)
    if unknown:
        warnings.warn(f"{path.name}: columns ssbkit does not know were kept as they are: "
                      f"{', '.join(unknown)}", UnknownColumnWarning, stacklevel=4)
    return record


def _clock(meta: dict[str, Any], columns: dict[str, np.ndarray]) -> dict[str, Any]:
    """``start_time`` with its UTC offset, ``utc_offset_s`` and ``timezone`` (module doc).

    >>> cols = {UNIX_TIME: np.array([1714978738.797]), TIME: np.array([0.0])}
    >>> _clock({"start_time": "2024-05-06T08:58:57"}, cols)
    {'start_time': '2024-05-06T08:58:57+02:00', 'utc_offset_s': 7200, 'timezone': 'UTC+02:00'}
    """
    start, unix = meta.get("start_time"), columns.get(UNIX_TIME)
    derived = (str(meta.get("engine", "")).startswith("fastnda")
               and meta.get("file_version") in _DERIVED_UNIX)
    if unix is None or not unix.size or not np.isfinite(unix[0]) or derived:
        return {"timezone": ZONE_UNKNOWN} if start else {}
    utc_start = float(unix[0] - columns[TIME][0])
    if not start:
        return {"start_time": datetime.fromtimestamp(round(utc_start), UTC).isoformat(),
                "timezone": "UTC (the first record's Unix time); the local offset is unknown"}
    local = datetime.fromisoformat(start)
    if local.tzinfo is not None:
        return {"timezone": "UTC (as the file stores its start); the local offset is unknown"}
    difference = local.replace(tzinfo=UTC).timestamp() - utc_start
    offset = round(difference / _QUARTER_HOUR_S) * _QUARTER_HOUR_S
    if abs(difference - offset) > _CLOCK_TOLERANCE_S or abs(offset) > 14 * 3600:
        return {"timezone": f"{ZONE_UNKNOWN} (the local start time is {difference:.0f} s from "
                            "the first record's Unix time, not a whole time zone)"}
    zone = timezone(timedelta(seconds=offset))
    return {"start_time": local.replace(tzinfo=zone).isoformat(), "utc_offset_s": int(offset),
            "timezone": zone.tzname(None)}


# ----------------------------------------------------------------------------- BTSDA CSV

_UNIT = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
# base name (before the unit in parentheses) -> canonical column
_CSV_COLUMNS = {
    "Cycle Index": CYCLE, "Cycle ID": CYCLE,
    "Step Index": STEP_INDEX, "Step ID": STEP_INDEX,
    "Step Type": STEP_TYPE,
    "Time": STEP_TIME,
    "Cumulative Time": TIME, "Total Time": TIME,
    "Current": CURRENT, "Voltage": VOLTAGE,
    "Chg. Cap.": CHARGE_CAPACITY, "Capacitance_Chg": CHARGE_CAPACITY,
    "DChg. Cap.": DISCHARGE_CAPACITY, "Capacitance_DChg": DISCHARGE_CAPACITY,
    "Chg. Energy": CHARGE_ENERGY, "Engy_Chg": CHARGE_ENERGY,
    "DChg. Energy": DISCHARGE_ENERGY, "Engy_DChg": DISCHARGE_ENERGY,
    "Date": UNIX_TIME, "Realtime": UNIX_TIME,
}
_CLOCKS = frozenset({STEP_TIME, TIME})
_DEFAULT_UNIT = {CYCLE: "1", STEP_INDEX: "1", STEP_TIME: "s", TIME: "s", UNIX_TIME: "s"}
# exported but not needed: kept under their own names, without a warning
_CSV_KEEP = frozenset({
    "DataPoint", "Record ID", "Record Index", "Capacity", "Spec. Cap.", "Chg. Spec. Cap.",
    "DChg. Spec. Cap.", "Energy", "Spec. Energy", "Chg. Spec. Energy", "DChg. Spec. Energy",
    "Power", "dQ/dV", "dQm/dV", "Contact resistance", "Module start-stop switch",
    "Capacity Density", "CmpEng", "Min-T", "Max-T", "Avg-T", "DCIR", "Temperature",
})
_CSV_RECORD = ("DataPoint", "Record ID", "Record Index")
_CSV_CHARGE = ("Chg. Cap.", "Capacitance_Chg")
_CSV_STEP = ("Step Index", "Step ID", "Step Type")


def _split_unit(name: str) -> tuple[str, str | None]:
    match = _UNIT.match(name.strip())
    return (match[1].strip(), match[2].strip()) if match else (name.strip(), None)


def _csv_header(text: str) -> list[str] | None:
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    sep = "\t" if first.count("\t") > first.count(",") else ","
    names = [n.strip().strip('"') for n in first.split(sep)]
    bases = {_split_unit(n)[0] for n in names}
    if bases & set(_CSV_RECORD) and bases & set(_CSV_CHARGE) and bases & set(_CSV_STEP):
        return names
    return None


class NewareCsvReader:
    """Neware BTSDA CSV export (one row per record, capacities per step).

    >>> NewareCsvReader().sniff(Path("x.csv"),
    ...     b"DataPoint,Cycle Index,Step Index,Step Type,Time,Chg. Cap.(Ah)\\n1,1,1,Rest,0,0\\n")
    True
    """

    name = "neware-csv"
    extensions = (".csv",)
    techniques = frozenset({"cycling"})
    description = "Neware BTSDA CSV export (DataPoint, Step Type, Chg. Cap.(Ah), ...)"

    def sniff(self, path: Path, head: bytes) -> bool:
        try:
            if b"\x00" in head[:4096]:
                return False
            from ssbkit.io._text import decode

            return _csv_header(decode(head[:8192])) is not None
        except Exception:  # sniff never raises
            return False

    def read(self, path: Path, **options: Any) -> list[CyclingRecord]:
        """One ``CyclingRecord`` from the export (no options)."""
        import pandas as pd

        from ssbkit.io._text import read_text

        check_options(self.name, options)
        path = Path(path)
        text = read_text(path)
        names = _csv_header(text)
        if names is None:
            raise InputError("not a Neware BTSDA export: the first line lacks the DataPoint, "
                             "Step and Chg. Cap. columns", source=path, location="line 1")
        sep = "\t" if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",") else ","
        try:
            frame = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=sep,
                                skipinitialspace=True, keep_default_na=False, na_values=[""])
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"cannot parse the table: {_short(exc)}", source=path) from None
        if frame.empty:
            raise InputError("no data rows after the column header", source=path)
        frame.columns = [str(c).strip() for c in frame.columns]
        dialect: dict[str, tuple[str, str]] = {}
        keep: list[str] = []
        durations: list[str] = []
        dates: dict[str, dict[str, Any]] = {}
        for name in frame.columns:
            base, unit = _split_unit(name)
            canonical = _CSV_COLUMNS.get(base)
            if canonical is None:
                if base in _CSV_KEEP:
                    keep.append(name)
                continue
            if canonical in _CLOCKS and unit is not None and ":" in unit:
                unit = None  # "Time(h:min:s.ms)" names a clock format, not a unit
            dialect[name] = (canonical, unit or _DEFAULT_UNIT.get(canonical, "1"))
            if canonical in _CLOCKS:
                durations.append(name)
            elif canonical == UNIX_TIME:
                # one format for the column: the first row may lack the milliseconds others have
                first = frame[name].dropna().astype(str).str.strip()
                iso = first.empty or bool(re.match(r"\d{4}-\d\d-\d\d", first.iloc[0]))
                dates[name] = {"fmt": "ISO8601" if iso else "mixed"}
            elif canonical == STEP_TYPE:
                frame[name] = frame[name].str.strip().str.replace(" ", "_", regex=False)
        found = {c for c, _ in dialect.values()}
        if TIME not in found and UNIX_TIME in found:
            # BTSDA 8 exports carry the record's date but no running total: time since the first
            clock = next(n for n, (c, _) in dialect.items() if c == UNIX_TIME)
            from ssbkit.io._cycling import unix_seconds

            stamps = unix_seconds(frame[clock], source=path, column=clock, **dates[clock])
            frame["Test Time"] = stamps - stamps[0]
            dialect["Test Time"] = (TIME, "s")
        meta: dict[str, Any] = {"format": self.name, "file": path.name, "instrument": "Neware"}
        mass = _active_mass_mg(frame)
        if mass is not None:
            meta["active_mass_mg"] = mass
        record = record_from_frame(frame, dialect, source=path, metadata=meta, keep=keep,
                                   durations=durations, dates=dates)
        if record.has(UNIX_TIME):
            # local dates taken as UTC: the start is written without a zone, and said so
            first = datetime.fromtimestamp(float(record.columns[UNIX_TIME][0] - record.time[0]),
                                           UTC)
            record = CyclingRecord(record.columns, {
                **record.metadata, "start_time": first.replace(tzinfo=None).isoformat(),
                "timezone": ZONE_UNKNOWN}, record.source)
        return [record]


def _active_mass_mg(frame: Any) -> float | None:
    """Mass [mg] from the export's capacity and its specific capacity, at the largest value."""
    import pandas as pd

    pairs = {}
    for name in frame.columns:
        base, unit = _split_unit(name)
        pairs[base] = (name, unit)
    if "Capacity" not in pairs or "Spec. Cap." not in pairs or pairs["Spec. Cap."][1] != "mAh/g":
        return None
    capacity = pd.to_numeric(frame[pairs["Capacity"][0]], errors="coerce").abs().to_numpy(float)
    specific = pd.to_numeric(frame[pairs["Spec. Cap."][0]], errors="coerce").abs().to_numpy(float)
    unit = {"Ah": 1e3, "mAh": 1.0, "uAh": 1e-3, "µAh": 1e-3}.get(pairs["Capacity"][1] or "")
    ok = np.isfinite(capacity) & np.isfinite(specific) & (specific > 0)
    if unit is None or not ok.any():
        return None
    best = int(np.flatnonzero(ok)[np.argmax(capacity[ok])])
    return float(capacity[best] * unit / specific[best] * 1e3)
