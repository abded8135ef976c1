"""Arbin cycler files: the .res database (MS Access) and the CSV and Excel exports.

A .res file is an MS Access (Jet) database; its rows sit in ``Channel_Normal_Table``
(``Test_Time``, ``Step_Time``, ``DateTime``, ``Step_Index``, ``Cycle_Index``, ``Current``,
``Voltage``, ``Charge_Capacity``, ``Discharge_Capacity``, energies; A, V, Ah, Wh, s) and the
test's start, channel and schedule in ``Global_Table``. Written here on top of mdbtools'
``mdb-export`` (Debian/Ubuntu package ``mdbtools``), which prints a table as CSV, rather
than through galvani's ``res2sqlite``: it is the same system tool underneath, without the
GPL package and its SQLite round trip (14–40× faster on the shared files). ``mdb-export``
is run without a shell and with a time limit; without it, reading a .res is a
``DependencyError`` that says how to install it.

Arbin's own exports carry the same columns, with units in the names in newer software
(``Test_Time(s)``, ``Current(A)``, ``Charge_Capacity(Ah)``, ``Date_Time``) and without
in older CSVs (``Test_Time``, ``Current``, ``DateTime`` in Unix seconds). The Excel export
holds one ``Channel_<n>_<k>`` sheet per block of rows (read in order and joined) and a
``Global_Info`` sheet with the start time, schedule and software version; it is parsed
with the standard-library zip/XML reader of ``ssbkit.io.spreadsheet``. The
``…_Metadata.csv`` file that some exports write beside the data is not data: reading it
is an ``InputError`` naming the data file to read instead; reading the data file takes the
start time and schedule from it.

Arbin's capacity and energy counters run from the start of each cycle (they fall back to
zero where ``Cycle_Index`` changes) and are kept as they are; ``metadata
["capacity_counters"]`` says so. ``DateTime`` is an OLE date (days since 1899-12-30) in a
.res file and in the Excel export, seconds since 1970 in the CSV; both become ``Unix Time
/ s``, the instrument's local time taken as UTC since the files carry no time zone
(``metadata["timezone"]`` says so; ``start_time`` is ISO 8601 without a zone).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import DependencyError, InputError
from ssbkit.io._build import check_options
from ssbkit.io._text import decode, read_bytes, split_lines

__all__ = ["ArbinExportReader", "ArbinResReader"]

_ACCESS_MAGIC = (b"\x00\x01\x00\x00Standard Jet DB", b"\x00\x01\x00\x00Standard ACE DB")
_OLE_EPOCH_DAYS = 25569.0  # 1970-01-01 as an OLE/Excel date
_COUNTERS = "cumulative within each cycle (Arbin resets them when Cycle_Index changes)"

# normalised Arbin column name -> (BDF column, unit when the name carries none)
_COLUMNS = {
    "test_time": ("Test Time / s", "s"),
    "step_time": ("Step Time / s", "s"),
    "step_index": ("Step Index / 1", "1"),
    "cycle_index": ("Cycle Count / 1", "1"),
    "current": ("Current / A", "A"),
    "voltage": ("Voltage / V", "V"),
    "charge_capacity": ("Charging Capacity / Ah", "Ah"),
    "discharge_capacity": ("Discharging Capacity / Ah", "Ah"),
    "charge_energy": ("Charging Energy / Wh", "Wh"),
    "discharge_energy": ("Discharging Energy / Wh", "Wh"),
    "temperature": ("Ambient Temperature / degC", "degC"),
    "aux_temperature_1": ("Ambient Temperature / degC", "degC"),
}
_DATES = ("datetime", "date_time")
_KNOWN = {"data_point", "test_id", "is_fc_data", "dv/dt", "internal_resistance",
          "ac_impedance", "aci_phase_angle"}


def _split_name(header: str) -> tuple[str, str]:
    """(normalised name, unit) of an Arbin header.

    >>> _split_name("Charge_Capacity (Ah)"), _split_name("Internal Resistance(Ohm)")
    (('charge_capacity', 'Ah'), ('internal_resistance', 'Ohm'))
    """
    match = re.match(r"^\s*(.*?)\s*(?:\(([^()]*)\))?\s*$", str(header))
    name = re.sub(r"\s+", "_", match[1].strip().lower()) if match else str(header).lower()
    return name, (match[2] or "").strip() if match else ""


def _is_arbin_header(names: list[str]) -> bool:
    if any(re.match(r"^\s*(Test Time|Voltage) / ", n) for n in names):
        return False  # a Battery Data Format table made from Arbin data: the BDF reader's
    found = {_split_name(n)[0] for n in names}
    return {"test_time", "voltage", "current"} <= found and bool(
        found & {"step_index", "cycle_index", "data_point"})


def _csv_names(line: str) -> list[str]:
    return [name.strip().strip('"') for name in line.split(",")]


def _is_sidecar_header(names: list[str]) -> bool:
    found = {n.strip().lower() for n in names}
    return {"test_id", "iv_ch_id", "schedule_file_name"} <= found


def _unix_from_dates(values: Any, *, source: Path, column: str) -> np.ndarray:
    """Unix seconds from Arbin date cells: OLE days, Unix seconds, or date-time text."""
    import pandas as pd

    from ssbkit.io._cycling import unix_seconds

    series = pd.Series(values)
    numbers = pd.to_numeric(series, errors="coerce")
    if (numbers.notna() | series.isna()).all():
        numbers = numbers.to_numpy(float)
        if np.nanmedian(numbers) > 1e8:  # seconds since 1970, not days since 1899
            return numbers
        return (numbers - _OLE_EPOCH_DAYS) * 86400.0
    return unix_seconds(values, source=source, column=column)


def _record(frame: Any, *, source: Path, metadata: dict[str, Any]) -> Any:
    """A ``CyclingRecord`` from one test's rows with Arbin column names."""
    import pandas as pd

    from ssbkit.io._cycling import record_from_frame, step_count_from
    from ssbkit.io.cycler_text import ZONE_UNKNOWN

    names = {header: _split_name(header) for header in frame.columns}
    found = {name for name, _ in names.values()}
    missing = [c for c in ("test_time", "voltage") if c not in found]
    if missing:
        raise InputError(f"no {' or '.join(missing)} column; columns: "
                         f"{', '.join(map(str, frame.columns))}", source=source)
    dialect: dict[str, tuple[str, str]] = {}
    keep: list[str] = []
    columns: dict[str, Any] = {}
    for header, (name, unit) in names.items():
        if name in _DATES:
            columns["Unix Time / s"] = _unix_from_dates(frame[header], source=source,
                                                        column=str(header))
            dialect["Unix Time / s"] = ("Unix Time / s", "s")
            continue
        columns[header] = frame[header].to_numpy()
        if name in _COLUMNS:
            canonical, default = _COLUMNS[name]
            if canonical.endswith("degC") or not unit:
                unit = default  # "(C)" after a temperature is °C, not coulomb
            dialect[header] = (canonical, unit)
        elif name in _KNOWN:
            keep.append(header)
    # a new step where the step index or the cycle changes (a one-step loop repeats the
    # same index in consecutive cycles)
    keys = [pd.to_numeric(frame[h], errors="coerce").fillna(-1).to_numpy()
            for h, (name, _) in names.items() if name in ("step_index", "cycle_index")]
    if "step_index" in found:
        columns["Step Count / 1"] = step_count_from(*keys)
        dialect["Step Count / 1"] = ("Step Count / 1", "1")
    meta = {**metadata, "capacity_counters": _COUNTERS}
    if "Unix Time / s" in columns or meta.get("start_time"):
        meta["timezone"] = ZONE_UNKNOWN  # Arbin writes local time without a zone
    return record_from_frame(pd.DataFrame(columns), dialect, source=source, metadata=meta,
                             keep=keep)


class ArbinResReader:
    """Arbin .res result files (MS Access), read with mdbtools' ``mdb-export``."""

    name = "arbin-res"
    extensions = (".res",)
    techniques = frozenset({"cycling"})
    description = "Arbin .res result database (MS Access), via mdb-export (mdbtools)"

    def sniff(self, path: Path, head: bytes) -> bool:
        suffix_ok = path is None or Path(path).suffix.lower() == ".res"
        return head.startswith(_ACCESS_MAGIC) and suffix_ok

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``CyclingRecord`` per test in the file (``Test_ID``); no options."""
        import pandas as pd

        check_options(self.name, options)
        path = Path(path)
        raw = read_bytes(path)[:4096]
        if not raw.startswith(_ACCESS_MAGIC):
            raise InputError("not an Arbin .res file: no MS Access (Jet) signature at the start",
                             source=path)
        page = 2048 if raw[0x14:0x15] == b"\x00" else 4096  # Jet 3 pages are 2 KiB, later 4
        size = path.stat().st_size
        if size % page:
            raise InputError(f"the database is truncated: {size} bytes is not a whole number of "
                             f"{page}-byte pages", source=path)
        frame = pd.read_csv(io.BytesIO(_mdb_export(path, "Channel_Normal_Table")))
        if "Data_Point" in frame.columns:
            frame = frame.sort_values("Data_Point", kind="stable")
        tests, version = _global_table(path)
        records = []
        groups = frame.groupby("Test_ID", sort=True) if "Test_ID" in frame.columns \
            else [(None, frame)]
        for test_id, rows in groups:
            meta = {"format": self.name, "file": path.name, "instrument": "Arbin",
                    **tests.get(test_id, {}), **({"file_version": version} if version else {})}
            records.append(_record(rows.drop(columns=["Test_ID"], errors="ignore")
                                   .reset_index(drop=True), source=path, metadata=meta))
        if not records:
            raise InputError("Channel_Normal_Table holds no rows", source=path)
        return records


def _mdb_export(path: Path, table: str) -> bytes:
    """The CSV text of one table of an Access database, from ``mdb-export``."""
    exe = shutil.which("mdb-export")
    if exe is None:
        raise DependencyError("reading Arbin .res files needs mdb-export from mdbtools, which "
                              "is not on PATH: install it with 'apt-get install mdbtools' "
                              "(Debian/Ubuntu), 'brew install mdbtools' (macOS) or "
                              "'conda install -c conda-forge mdbtools'")
    limit = 60 + 10 * path.stat().st_size / 1e6
    try:
        done = subprocess.run([exe, str(path), table], capture_output=True, timeout=limit,
                              check=False, env={**os.environ, "LC_NUMERIC": "C"})
    except subprocess.TimeoutExpired:
        raise InputError(f"mdb-export did not finish reading {table} within {limit:.0f} s",
                         source=path) from None
    except OSError as exc:
        raise DependencyError(f"mdb-export could not be run: {exc.strerror}") from None
    problem = decode(done.stderr).strip()
    if done.returncode != 0 or re.search(r"beyond EOF|error|unable", problem, re.IGNORECASE):
        first = " ".join(problem.splitlines()[-1:]) or f"exit status {done.returncode}"
        raise InputError(f"mdb-export cannot read table {table} (a truncated or damaged "
                         f"database, or not an Arbin file): {first}", source=path)
    if not done.stdout.strip():
        raise InputError(f"table {table} is empty", source=path)
    return done.stdout


def _global_table(path: Path) -> tuple[dict[Any, dict[str, Any]], str]:
    """Per test: start time, channel, schedule, software; and the file version. Best effort:
    a .res whose rows read but whose Global_Table does not still gives its data."""
    import pandas as pd

    out: dict[Any, dict[str, Any]] = {}
    try:
        table = pd.read_csv(io.BytesIO(_mdb_export(path, "Global_Table")))
        versions = pd.read_csv(io.BytesIO(_mdb_export(path, "Version_Table")))
    except (InputError, pd.errors.ParserError):
        return out, ""
    version = (str(versions["Version_Schema_Field"].iloc[0])
               if "Version_Schema_Field" in versions.columns and len(versions) else "")
    for _, row in table.iterrows():
        meta: dict[str, Any] = {}
        start = pd.to_numeric(row.get("Start_DateTime"), errors="coerce")
        if pd.notna(start):
            meta["start_time"] = (pd.Timestamp("1970-01-01") + pd.Timedelta(
                days=float(start) - _OLE_EPOCH_DAYS)).round("ms").isoformat()
        for key, column in (("channel", "Channel_Index"), ("test_name", "Test_Name"),
                            ("schedule", "Schedule_File_Name"),
                            ("software_version", "Software_Version")):
            value = row.get(column)
            if value is not None and pd.notna(value):
                meta[key] = int(value) if key == "channel" else str(value)
        out[row.get("Test_ID")] = meta
    return out, version


class ArbinExportReader:
    """Arbin's CSV and Excel exports (named columns, with or without units)."""

    name = "arbin-export"
    extensions = (".csv", ".xlsx")
    techniques = frozenset({"cycling"})
    description = "Arbin CSV and Excel (.xlsx, Channel sheets) exports"

    def sniff(self, path: Path, head: bytes) -> bool:
        if head.startswith(b"PK\x03\x04"):
            return path is not None and _is_arbin_workbook(Path(path))
        if b"\x00" in head[:4096]:
            return False
        lines = split_lines(decode(head[:8192]))
        if not lines:
            return False
        names = _csv_names(lines[0])
        return _is_arbin_header(names) or _is_sidecar_header(names)

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``CyclingRecord`` (one per channel in a workbook with several); no options."""
        check_options(self.name, options)
        path = Path(path)
        raw = read_bytes(path)
        if raw.startswith(b"PK\x03\x04"):
            return _read_workbook(path, self.name)
        return [_read_csv(path, raw, self.name)]


def _read_csv(path: Path, raw: bytes, reader: str) -> Any:
    import pandas as pd

    text = decode(raw)
    lines = [ln for ln in split_lines(text) if ln.strip()]
    names = _csv_names(lines[0])
    if _is_sidecar_header(names):
        data = path.with_name(re.sub(r"_Metadata(\.csv)$", r"\1", path.name, flags=re.I))
        raise InputError("this is the metadata file an Arbin export writes beside its data "
                         "(test_id, schedule_file_name, …), not cycling data; read "
                         f"{data.name} instead", source=path)
    if not _is_arbin_header(names):
        raise InputError("not an Arbin export: the header needs Test_Time, Voltage, Current "
                         f"and Step_Index or Cycle_Index; found {lines[0][:200]!r}", source=path)
    if len(lines) > 2 and lines[-1].count(",") < lines[1].count(","):
        raise InputError("the last line has fewer values than the first data line: the file "
                         "looks truncated", source=path, location=f"line {len(lines)}")
    try:
        frame = pd.read_csv(io.StringIO(text), low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot parse the table: {exc}", source=path) from None
    if frame.empty:
        raise InputError("no data rows under the header", source=path)
    index = [c for c in frame.columns if _split_name(c)[0] == "data_point"]
    if index and not frame[index[0]].is_monotonic_increasing:
        frame = frame.sort_values(index[0], kind="stable").reset_index(drop=True)
    metadata = {"format": reader, "file": path.name, "instrument": "Arbin",
                **_sidecar_metadata(path)}
    return _record(frame, source=path, metadata=metadata)


def _sidecar_metadata(path: Path) -> dict[str, Any]:
    """Start time and schedule from ``<name>_Metadata.csv`` beside an export, if there is one."""
    import pandas as pd

    sidecar = path.with_name(f"{path.stem}_Metadata{path.suffix}")
    if not sidecar.is_file():
        return {}
    try:
        table = pd.read_csv(sidecar)
        row = table.iloc[0]
    except (OSError, ValueError, IndexError, pd.errors.ParserError):
        return {}
    meta: dict[str, Any] = {"metadata_file": sidecar.name}
    start = pd.to_numeric(row.get("first_start_datetime"), errors="coerce")
    if pd.notna(start) and start > 0:
        meta["start_time"] = pd.Timestamp(float(start), unit="s").isoformat()
    if isinstance(row.get("schedule_file_name"), str):
        meta["schedule"] = row["schedule_file_name"]
    return meta


def _is_arbin_workbook(path: Path) -> bool:
    """An .xlsx with ``Channel_…`` sheets whose strings name Arbin's columns (never raises)."""
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = archive.read("xl/workbook.xml")
            strings = (archive.read("xl/sharedStrings.xml")
                       if "xl/sharedStrings.xml" in archive.namelist() else b"")
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError):
        return False
    return (re.search(rb'<sheet [^>]*name="Channel_?\d', workbook) is not None
            and b"Test_Time" in strings and b"Voltage" in strings)


def _read_workbook(path: Path, reader: str) -> list[Any]:
    import pandas as pd

    from ssbkit.io.spreadsheet import _xlsx_sheets

    try:
        with zipfile.ZipFile(path) as archive:
            sheets = _xlsx_sheets(archive)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"the workbook is damaged or truncated: {exc}", source=path) from None
    channels: dict[str, list[tuple[str, list[Any]]]] = {}
    info: dict[str, Any] = {}
    for name, rows in sheets:
        match = re.match(r"^Channel_?(\d+)", name)
        if match:
            channels.setdefault(match[1], []).append((name, rows))
        elif name.lower().startswith("global_info"):
            info = _global_info(rows)
    if not channels:
        raise InputError("no Channel_… sheet: not an Arbin Excel export; sheets: "
                         f"{', '.join(n for n, _ in sheets)}", source=path)
    records = []
    for channel, parts in channels.items():
        frames = []
        for _, rows in parts:
            rows = [cells for _, cells in rows if any(c is not None for c in cells)]
            if len(rows) < 2:
                continue
            header = [str(c) if c is not None else f"column {j + 1}" for j, c in
                      enumerate(rows[0])]
            width = len(header)
            body = [cells[:width] + [None] * (width - len(cells)) for cells in rows[1:]]
            frames.append(pd.DataFrame(body, columns=header))
        if not frames:
            continue
        frame = pd.concat(frames, ignore_index=True)
        meta = {"format": reader, "file": path.name, "instrument": "Arbin",
                "sheets": [n for n, _ in parts], **info}
        meta["channel"] = int(channel)
        records.append(_record(frame, source=path, metadata=meta))
    if not records:
        raise InputError("the Channel sheets hold no rows", source=path)
    return records


def _global_info(rows: list[tuple[int, list[Any]]]) -> dict[str, Any]:
    """Start time, schedule and software version from the Global_Info sheet."""
    import pandas as pd

    for k, (_, cells) in enumerate(rows[:-1]):
        names = [str(c).strip() if c is not None else "" for c in cells]
        if "Start DateTime" not in names:
            continue
        values = rows[k + 1][1]
        row = {n: (values[j] if j < len(values) else None) for j, n in enumerate(names) if n}
        meta: dict[str, Any] = {}
        if isinstance(row.get("Start DateTime"), float):
            meta["start_time"] = (pd.Timestamp("1970-01-01") + pd.Timedelta(
                days=row["Start DateTime"] - _OLE_EPOCH_DAYS)).round("ms").isoformat()
        for key, column in (("schedule", "Schedule File Name"),
                            ("software_version", "Software Version")):
            if row.get(column) is not None:
                meta[key] = str(row[column])
        return meta
    return {}
