"""BioLogic EC-Lab files: the text export (.mpt) and, through galvani, the binary .mpr.

The .mpt text export starts ``EC-Lab ASCII FILE`` and ``Nb header lines : N``; line N
names the tab-separated columns, and the data follow. Column names differ between EC-Lab
versions (``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``, ``<Ewe>/V``, ``I/mA`` or ``<I>/mA``,
``cycle number``), so columns are found by name (``ssbkit.io._columns``), never by
position, and exports with a decimal comma are read too. ``-Im(Z)`` is negated to reach
Z = Z' + jZ''.

- Impedance files (PEIS, GEIS: a technique line containing "Impedance") give one
  ``Spectrum`` per sweep: rows are grouped by ``cycle number`` and split where the
  frequency turns back (pyimpspec's ``case-multiple-spectra.mpt`` holds three sweeps, all
  with cycle number 0).
- Chronoamperometry files (no frequency column; ``time/s``, ``Ewe/V``, ``I/mA`` or
  ``<I>/mA``) give ``Chronoamperometry`` records with current in A.
- Cycling files (GCPL, CP, Modulo Bat, GITT …; also an export written without its header
  block, recognised by EC-Lab's own column names) give one ``CyclingRecord``, see below.

A header that names fewer columns than the rows hold (impedance.py's
``exampleDataBioLogic_MissingFreq.mpt`` lacks ``freq/Hz`` in its header, so every name
would sit one column off) is refused with an ``InputError`` naming the first data line,
because reading it by position would attach each value to the wrong quantity.

The binary .mpr is read with galvani, which is GPL-3.0 and therefore only an optional
extra (``pip install "ssbkit[gpl]"``); it is imported when an .mpr is read, never before.
An .mpr whose rows are all impedance points gives spectra; one with cycling rows gives a
``CyclingRecord``.

Cycling records. Voltage is ``Ewe`` (else ``Ecell``), current ``I`` or ``<I>`` in A with
BioLogic's sign kept: I > 0 oxidises the working electrode, which charges a cathode half
cell, the BDF convention. Some files (GCPL recorded without ``I``) have no current: it is
then the rate of change of the charge counter and ``metadata["current_derived"]`` says so.
EC-Lab's ``(Q-Qo)`` is the net charge since the start of the run; it is used rather than
``dq``/``dQ`` because ``dq`` is a per-row increment in GCPL files but a running total in
CP files (yadg's ``cp.mpr``), while ``(Q-Qo)`` is cumulative in both (without it: the
integral of the current, else the sum of ``dq``). From it come BDF
charge and discharge counters that restart at every step (its rises are charge, its falls
discharge, ``ssbkit.io._cycling.counters_from_net``). A new step starts where ``Ns``, the
control mode or the half cycle changes; ``Step Type`` is the control mode (``CC``, ``CV``,
``Rest``), ``Cycle Count`` EC-Lab's ``cycle number`` where the file has one (the .mpr
does not store it). ``Unix Time`` is the acquisition start plus ``time/s``, the
instrument's local time taken as UTC (EC-Lab writes no time zone; ``metadata["timezone"]``
says so). Some text exports write ``<Ewe>/V`` as exactly 0 after their first rows while
the counter-electrode columns carry on (yadg's ``cp.mpt`` from row 5 on, where its .mpr
holds the real values); on those rows the voltage is ``<Ece>/V + Ewe-Ece/V``, which is
Ewe, and ``metadata["voltage_derived"]`` counts the rows. Impedance points
recorded during cycling (``freq/Hz`` > 0) are not cycling rows: they are left out of the
record (``metadata["impedance_rows_dropped"]``) and returned as spectra after it.

An export without its header block is known by EC-Lab's own column names:

>>> names = ["mode", "ox/red", "Ns", "time/s", "Ecell/V", "I/mA"]
>>> BioLogicMptReader().sniff(None, "\\t".join(names).encode())
True
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import DependencyError, InputError, UnsupportedFormatError
from ssbkit.core.units import convert, normalize_unit
from ssbkit.io._build import check_options, containers_from_columns
from ssbkit.io._columns import map_columns
from ssbkit.io._text import (
    decode,
    detect_decimal,
    is_number,
    parse_table,
    read_text,
    split_fields,
    split_lines,
)

__all__ = ["BioLogicMprReader", "BioLogicMptReader"]

_MAGIC_MPT = "EC-Lab ASCII FILE"
_MAGIC_MPR = b"BIO-LOGIC MODULAR FILE"

# words of EC-Lab technique names that record galvanostatic or battery cycling
_CYCLING_TECHNIQUES = ("cycling", "chronopotentiometry", "modulo bat", "galvanostatic",
                       "intermittent titration", "battery capacity", "constant current",
                       "constant power", "constant load")


def _kind(header_text: str) -> str | None:
    """'eis', 'dc' or 'cycling' from the technique named in an EC-Lab header; else None."""
    lowered = header_text.lower()
    if "impedance spectroscopy" in lowered:
        return "eis"
    if "chronoamperometry" in lowered or "constant voltage" in lowered:
        return "dc"
    if any(word in lowered for word in _CYCLING_TECHNIQUES):
        return "cycling"
    return None


def _header_kind(header: list[str]) -> str | None:
    """The kind of the technique line (within the first lines), else of the whole header."""
    for line in header[:8]:
        kind = _kind(line)
        if kind is not None:
            return kind
    return _kind("\n".join(header))


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _header_metadata(header: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for line in header[:8]:
        if _kind(line) and "technique" not in meta:
            meta["technique"] = line.strip()
    for line in header:
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if sep and key == "Acquisition started on":
            meta["start_time"] = value
        elif sep and key == "Device" and value:
            meta["instrument"] = f"BioLogic {value}"
        elif sep and key == "Electrode surface area":
            match = re.match(r"([-+\d.,Ee]+)\s*(\S+)", value)
            if match and _number(match[1]):
                try:
                    meta["area_cm2"] = float(convert(_number(match[1]), normalize_unit(match[2]),
                                                     "cm²"))
                except InputError:
                    pass
    for line in header:
        parameter = re.match(r"^(E \(V\)|vs\.)\s{2,}(\S.*)$", line.strip())
        if parameter and parameter[1] == "E (V)" and "dc_potential_V" not in meta:
            value = _number(parameter[2].split()[0])
            if value is not None:
                meta["dc_potential_V"] = value
        elif parameter and parameter[1] == "vs." and "dc_potential_vs" not in meta:
            meta["dc_potential_vs"] = parameter[2].strip()
    return meta


def _cycling_header_metadata(header: list[str]) -> tuple[dict[str, Any], datetime | None]:
    """What a cycling record's metadata takes from an .mpt header (start time as ISO 8601),
    and the start of the acquisition, from which ``time/s`` counts."""
    meta = _header_metadata(header)
    meta.pop("dc_potential_V", None)
    meta.pop("dc_potential_vs", None)
    start = _ec_lab_datetime(meta.get("start_time", ""))
    if start is not None:
        meta["start_time"] = start.isoformat()
    for line in header:
        key, sep, value = (part.strip() for part in line.partition(":"))
        if sep and key == "Characteristic mass":
            match = re.match(r"([-+\d.,Ee]+)\s*(mg|g)\b", value)
            mass = _number(match[1]) if match else None
            if mass:
                meta["active_mass_mg"] = mass * (1e3 if match[2] == "g" else 1.0)
        elif re.match(r"EC-Lab for windows v\S+ \(software\)", line.strip(), re.IGNORECASE):
            meta["software_version"] = line.split()[3]
    return meta, start


def _ec_lab_datetime(text: str) -> datetime | None:
    """EC-Lab's ``MM/DD/YYYY HH:MM:SS[.fff]`` (as written in headers and absolute times)."""
    for fmt in ("%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S", "%m/%d/%y %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


class BioLogicMptReader:
    """BioLogic EC-Lab text export (.mpt): impedance spectra, CA records, cycling records."""

    name = "biologic-mpt"
    extensions = (".mpt",)
    techniques = frozenset({"eis", "chronoamperometry", "cycling"})
    description = ("BioLogic EC-Lab text export (.mpt): PEIS/GEIS spectra, CA records, "
                   "GCPL/CP/Modulo Bat cycling")

    def sniff(self, path: Path, head: bytes) -> bool:
        text = decode(head[:65536])
        lines = split_lines(text)
        if not text.startswith(_MAGIC_MPT):
            return bool(lines) and _is_ec_lab_cycling(split_fields(lines[0], "\t"))
        match = re.match(r"Nb header lines\s*:\s*(\d+)", lines[1] if len(lines) > 1 else "")
        n_header = int(match[1]) if match else 0
        if _header_kind(lines[:max(n_header - 1, 8)]) is not None:
            return True
        return 2 < n_header <= len(lines) and _is_ec_lab_cycling(
            split_fields(lines[n_header - 1], "\t"))

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Spectra (one per sweep), DC records, or a cycling record; options ``strict``,
        ``split_sweeps`` (the latter two for impedance points)."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        lines = split_lines(read_text(path))
        if lines and not lines[0].startswith(_MAGIC_MPT) \
                and _is_ec_lab_cycling(split_fields(lines[0], "\t")):
            return self._cycling(path, lines, 1, [], opts)  # an export without its header block
        if not lines or not lines[0].startswith(_MAGIC_MPT):
            raise UnsupportedFormatError(f"not an EC-Lab text export: the first line is not "
                                         f"{_MAGIC_MPT!r}", source=path, location="line 1")
        match = re.match(r"Nb header lines\s*:\s*(\d+)", lines[1] if len(lines) > 1 else "")
        if match is None:
            raise InputError("expected 'Nb header lines : N'", source=path, location="line 2")
        n_header = int(match[1])
        if n_header < 3 or n_header > len(lines):
            raise InputError(f"the header is said to have {n_header} lines but the file has "
                             f"{len(lines)}: truncated?", source=path, location="line 2")
        header = lines[:n_header - 1]
        kind = _header_kind(header)
        names = split_fields(lines[n_header - 1], "\t")
        if kind == "cycling" or (kind is None and _is_ec_lab_cycling(names)):
            return self._cycling(path, lines, n_header, header, opts)
        if kind is None:
            raise UnsupportedFormatError("not an impedance, chronoamperometry or cycling file "
                                         "(technique not recognised)", source=path)
        data_start, first_row = _first_data_row(path, lines, n_header, names)
        columns = map_columns(names, source=path, location=f"line {n_header}")
        table = parse_table(lines, data_start, names=names, sep="\t",
                            decimal=detect_decimal(first_row, "\t"), source=path,
                            numeric=sorted(columns.index.values()))
        metadata = {"format": self.name, "file": path.name, **_header_metadata(header)}
        if columns.assumed_units:
            metadata["assumed_units"] = list(columns.assumed_units)
        if kind == "eis" and not columns.has_impedance():
            raise InputError("an impedance file without frequency and impedance columns; "
                             f"columns found: {', '.join(names)}", source=path,
                             location=f"line {n_header}")
        return containers_from_columns(path, table.values, table.lines, columns,
                                       metadata=metadata, split=opts["split_sweeps"],
                                       strict=opts["strict"])

    def _cycling(self, path: Path, lines: list[str], n_header: int, header: list[str],
                 opts: dict[str, Any]) -> list[Any]:
        names = split_fields(lines[n_header - 1], "\t")
        data_start, first_row = _first_data_row(path, lines, n_header, names)
        time_is_text = "time/s" in names and not is_number(first_row[names.index("time/s")])
        numeric = [j for j, n in enumerate(names) if not (time_is_text and n == "time/s")]
        table = parse_table(lines, data_start, names=names, sep="\t",
                            decimal=detect_decimal(first_row, "\t"), source=path, numeric=numeric)
        columns = {n: (table.text[j] if j not in numeric else table.values[:, j])
                   for j, n in enumerate(names)}
        from_header, start = _cycling_header_metadata(header)
        metadata = {"format": self.name, "file": path.name, "instrument": "BioLogic",
                    **from_header}
        if not header:
            metadata["header"] = "none (columns only)"
        return _cycling_containers(columns, table.lines, path=path, metadata=metadata,
                                   start=start, known=None, opts=opts, row_label="line")


def _first_data_row(path: Path, lines: list[str], n_header: int,
                    names: list[str]) -> tuple[int, list[str]]:
    data_start = next((i for i in range(n_header, len(lines)) if lines[i].strip()), None)
    if data_start is None:
        raise InputError("no data rows after the column header", source=path,
                         location=f"line {n_header}")
    first_row = split_fields(lines[data_start], "\t")
    if len(first_row) != len(names):
        raise InputError(f"{len(first_row)} values but the column header (line {n_header}) "
                         f"names {len(names)} columns; the header is incomplete, so no value "
                         "can be matched to its quantity", source=path,
                         location=f"line {data_start + 1}")
    return data_start, first_row


# columns only EC-Lab writes; two of them, with time and a voltage, mark an EC-Lab table
_EC_LAB_MARKERS = frozenset({"mode", "ox/red", "error", "control changes", "Ns changes",
                             "counter inc.", "Ns", "I Range", "half cycle", "cycle number",
                             "control/V/mA", "(Q-Qo)/mA.h", "(Q-Qo)/C", "dq/mA.h", "dQ/C"})


def _is_ec_lab_cycling(names: list[str]) -> bool:
    """True for EC-Lab column names of a cycling table (time, voltage, EC-Lab's own columns,
    and no frequency: a header-less impedance export stays with the table reader)."""
    if "time/s" not in names or "freq/Hz" in names:
        return False
    if not any(re.match(r"^<?(Ewe|Ecell)>?/m?V$", n) for n in names):
        return False
    return len(_EC_LAB_MARKERS.intersection(names)) >= 2


class BioLogicMprReader:
    """BioLogic EC-Lab binary file (.mpr), read through the optional GPL extra galvani."""

    name = "biologic-mpr"
    extensions = (".mpr",)
    techniques = frozenset({"eis", "cycling"})
    description = ("BioLogic EC-Lab binary (.mpr): impedance spectra and cycling records, via "
                   "galvani (extra 'gpl')")

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(_MAGIC_MPR)

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Impedance spectra, or a cycling record (then the impedance points recorded during
        cycling as spectra); needs galvani (``pip install "ssbkit[gpl]"``)."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        galvani_biologic = _galvani()
        try:
            handle = path.open("rb")  # galvani leaves a file it opened itself unclosed
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror}", source=path) from None
        with handle:
            try:
                mpr = galvani_biologic.MPRfile(handle)
            except Exception as exc:  # galvani raises bare ValueError/OSError/assertions
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise InputError(f"galvani cannot read this .mpr (truncated or damaged?): "
                                 f"{reason}", source=path) from None
        data = mpr.data
        names = list(data.dtype.names or ())
        start = getattr(mpr, "timestamp", None) or getattr(mpr, "startdate", None)
        metadata: dict[str, Any] = {"format": self.name, "file": path.name,
                                    "instrument": "BioLogic"}
        if start is not None:
            metadata["start_time"] = str(start)
        frequency = np.asarray(data["freq/Hz"], float) if "freq/Hz" in names else None
        n_other = len(data) if frequency is None else int(np.sum(~(frequency > 0)))
        if frequency is not None and n_other < 2:
            return self._spectra(path, data, names, metadata, opts)
        if "time/s" not in names or not any(re.match(r"^<?(Ewe|Ecell)>?/m?V$", n) for n in names):
            raise UnsupportedFormatError("neither impedance nor cycling data in this .mpr "
                                         f"(no time and voltage columns); columns: "
                                         f"{', '.join(names)}", source=path)
        columns = _mpr_columns(mpr, names)
        start = start if isinstance(start, datetime) else None  # a date alone gives no time
        if start is not None:
            metadata["start_time"] = start.isoformat()
        return _cycling_containers(columns, np.arange(1, len(data) + 1), path=path,
                                   metadata=metadata, start=start, known=set(columns), opts=opts,
                                   row_label="row")

    @staticmethod
    def _spectra(path: Path, data: Any, names: list[str], metadata: dict[str, Any],
                 opts: dict[str, Any]) -> list[Any]:
        columns = map_columns(names, source=path)
        if not columns.has_impedance():
            raise UnsupportedFormatError("no impedance columns in this .mpr; columns: "
                                         f"{', '.join(names)}", source=path)
        values = np.column_stack([np.asarray(data[n], dtype=float) if j in columns.index.values()
                                  else np.full(len(data), np.nan) for j, n in enumerate(names)])
        return containers_from_columns(path, values, np.arange(1, len(data) + 1), columns,
                                       metadata=metadata, split=opts["split_sweeps"],
                                       strict=opts["strict"], dc_records=False, row_label="row")


def _mpr_columns(mpr: Any, names: list[str]) -> dict[str, np.ndarray]:
    """galvani's columns by EC-Lab name, with its packed ``flags`` byte unpacked (mode, Ns
    changes …) as the .mpt export writes them."""
    flags = getattr(mpr, "flags_dict", None) or {}
    columns: dict[str, np.ndarray] = {}
    for name in names:
        if name == "flags" and flags:
            for flag in flags:
                columns[flag] = np.asarray(mpr.get_flag(flag)).astype(np.int64)
        else:
            columns[name] = np.asarray(mpr.data[name])
    return columns


# EC-Lab column names ssbkit knows (kept in a record under their own names without a
# warning); characters outside ASCII compare as "?", since exports write °, µ in any code page
_KNOWN = frozenset({
    "mode", "ox/red", "error", "control changes", "Ns changes", "counter inc.", "Ns",
    "I Range", "time/s", "step time/s", "control/V/mA", "control/V", "control/mA", "Ewe/V",
    "<Ewe>/V", "Ecell/V", "<Ecell>/V", "Ece/V", "<Ece>/V", "<Ecv>/V", "Ewe-Ece/V", "I/mA",
    "<I>/mA", "dq/mA.h", "dQ/mA.h", "dQ/C", "(Q-Qo)/mA.h", "(Q-Qo)/C", "|Energy|/W.h",
    "Energy charge/W.h", "Energy discharge/W.h", "Q charge/discharge/mA.h", "Q charge/mA.h",
    "Q discharge/mA.h", "Capacity/mA.h", "Efficiency/%", "half cycle", "cycle number",
    "z cycle", "Temperature/?C", "Capacitance charge/?F", "Capacitance discharge/?F", "x",
    "P/W", "R/Ohm", "Rcmp/Ohm", "Analog IN 1/V", "Analog IN 2/V", "Analog OUT/V", "freq/Hz",
    "Re(Z)/Ohm", "-Im(Z)/Ohm", "|Z|/Ohm", "Phase(Z)/deg", "|Ewe|/V", "|I|/A", "|Ece|/V",
    "Cs/?F", "Cp/?F", "Re(Zce)/Ohm", "-Im(Zce)/Ohm", "|Zce|/Ohm", "Phase(Zce)/deg",
    "Re(Zwe-ce)/Ohm", "-Im(Zwe-ce)/Ohm", "|Zwe-ce|/Ohm", "Phase(Zwe-ce)/deg",
})
_CHARGE_UNITS = {"mA.h": 1e-3, "A.h": 1.0, "?A.h": 1e-6, "uA.h": 1e-6, "C": 1 / 3600,
                 "mC": 1e-3 / 3600}  # to Ah
_MODES = {1: "CC", 2: "CV", 3: "Rest"}


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() else "?" for c in name)


def _find(names: list[str], pattern: str) -> tuple[str, str] | None:
    """The first column whose name matches ``pattern`` and its unit (the pattern's group 1)."""
    for name in names:
        match = re.match(pattern, name)
        if match:
            return name, match[1]
    return None


def _as_float(values: Any) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        import pandas as pd

        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)


def _cycling_containers(columns: dict[str, np.ndarray], rows: np.ndarray, *, path: Path,
                        metadata: dict[str, Any], start: datetime | None,
                        known: set[str] | None, opts: dict[str, Any],
                        row_label: str) -> list[Any]:
    """The cycling record of an EC-Lab table, then spectra of its impedance points."""
    metadata = dict(metadata)
    spectra: list[Any] = []
    keep = np.ones(rows.size, bool)
    if "freq/Hz" in columns:
        frequency = _as_float(columns["freq/Hz"])
        impedance = np.isfinite(frequency) & (frequency > 0)
        if impedance.any():
            spectra = _impedance_points(columns, rows, impedance, path=path, metadata=metadata,
                                        opts=opts, row_label=row_label)
            metadata["impedance_rows_dropped"] = int(impedance.sum())
            keep = ~impedance
    if not keep.any():
        raise InputError("no cycling rows: every row is an impedance point", source=path)
    if not keep.all():
        columns = {name: np.asarray(values)[keep] for name, values in columns.items()}
    return [_cycling_record(columns, path=path, metadata=metadata, start=start, known=known),
            *spectra]


def _impedance_points(columns: dict[str, np.ndarray], rows: np.ndarray, which: np.ndarray, *,
                      path: Path, metadata: dict[str, Any], opts: dict[str, Any],
                      row_label: str) -> list[Any]:
    names = list(columns)
    colmap = map_columns(names, source=path)
    if not colmap.has_impedance():
        return []
    wanted = set(colmap.index.values())
    values = np.column_stack([_as_float(columns[n])[which] if j in wanted
                              else np.full(int(which.sum()), np.nan) for j, n in enumerate(names)])
    meta = {k: metadata[k] for k in ("format", "file", "instrument", "start_time", "technique")
            if k in metadata}
    return containers_from_columns(path, values, rows[which], colmap, metadata=meta,
                                   split=opts["split_sweeps"], strict=opts["strict"],
                                   dc_records=False, row_label=row_label)


def _cycling_record(columns: dict[str, np.ndarray], *, path: Path, metadata: dict[str, Any],
                    start: datetime | None, known: set[str] | None) -> Any:
    import pandas as pd

    from ssbkit.cycling.data import (
        CHARGE_CAPACITY,
        CHARGE_ENERGY,
        CURRENT,
        CYCLE,
        DISCHARGE_CAPACITY,
        DISCHARGE_ENERGY,
        STEP_COUNT,
        STEP_INDEX,
        STEP_TYPE,
        TEMPERATURE,
        TIME,
        UNIX_TIME,
        VOLTAGE,
    )
    from ssbkit.io._cycling import counters_from_net, record_from_frame, step_count_from
    from ssbkit.io.cycler_text import ZONE_UNKNOWN

    names = list(columns)
    frame: dict[str, Any] = dict(columns)
    dialect: dict[str, tuple[str, str]] = {}
    if "time/s" not in columns:
        raise InputError(f"no 'time/s' column; columns: {', '.join(names)}", source=path)
    time = columns["time/s"]
    epoch = datetime(1970, 1, 1)
    if time.dtype.kind not in "fiu":  # "Time format: Absolute" writes dates, not seconds
        from ssbkit.io._cycling import unix_seconds

        unix = unix_seconds(time, source=path, column="time/s", fmt="mixed")  # month first
        origin = (start - epoch).total_seconds() if start is not None else unix[0]
        frame["time/s"], frame[UNIX_TIME] = unix - origin, unix
        metadata.setdefault("start_time", (epoch + pd.Timedelta(seconds=origin)).isoformat())
    elif start is not None:
        frame[UNIX_TIME] = (start - epoch).total_seconds() + _as_float(time)
    time = _as_float(frame["time/s"])
    dialect["time/s"] = (TIME, "s")
    voltage = (_find(names, r"^<?Ewe>?/(m?V)$") or _find(names, r"^<?Ecell>?/(m?V)$"))
    if voltage is None:
        raise InputError(f"no voltage column (Ewe/V, <Ewe>/V or Ecell/V); columns: "
                         f"{', '.join(names)}", source=path)
    dialect[voltage[0]] = (VOLTAGE, voltage[1])
    metadata["voltage_column"] = voltage[0]
    derived = _ewe_from_counter_electrode(columns, names, voltage)
    if derived is not None:
        values, rows, parts = derived
        frame[VOLTAGE], dialect[VOLTAGE] = values, (VOLTAGE, voltage[1])
        del dialect[voltage[0]]
        metadata["voltage_derived"] = {
            "rows": rows, "from": " + ".join(parts),
            "why": f"{voltage[0]} is exactly 0 on those rows while the file goes on "
                   "measuring the counter electrode"}
    current = _find(names, r"^<?I>?/(mA|A|µA|μA|uA)$")
    net, net_from = _net_charge(columns, names, time, current)
    if net is None:
        raise InputError("neither a current column (I/mA, <I>/mA) nor a charge column "
                         "((Q-Qo)/mA.h, dq/mA.h): the charge passed is unknown; columns: "
                         f"{', '.join(names)}", source=path)
    keys = [_as_float(columns[k]) for k in ("Ns", "mode", "half cycle") if k in columns]
    step_count = step_count_from(*keys) if keys else np.ones(time.size, np.int64)
    frame[STEP_COUNT], dialect[STEP_COUNT] = step_count, (STEP_COUNT, "1")
    charge, discharge = counters_from_net(step_count, _per_step(net, step_count))
    frame[CHARGE_CAPACITY], frame[DISCHARGE_CAPACITY] = charge, discharge
    dialect[CHARGE_CAPACITY] = (CHARGE_CAPACITY, "Ah")
    dialect[DISCHARGE_CAPACITY] = (DISCHARGE_CAPACITY, "Ah")
    metadata["capacity_counters"] = f"restart each step; from {net_from}"
    if current is not None:
        dialect[current[0]] = (CURRENT, current[1].replace("μ", "µ"))
    else:
        frame[CURRENT], dialect[CURRENT] = _rate(net, time), (CURRENT, "A")
        metadata["current_derived"], metadata["current_from"] = True, net_from
    if "mode" in columns:
        mode = np.nan_to_num(_as_float(columns["mode"]), nan=-1).astype(np.int64)
        frame[STEP_TYPE] = np.array([_MODES.get(int(m), f"mode {m}") for m in range(mode.max(
            initial=0) + 1)], dtype=object)[np.maximum(mode, 0)]
        dialect[STEP_TYPE] = (STEP_TYPE, "")
    for name, target in (("Ns", (STEP_INDEX, "1")), ("cycle number", (CYCLE, "1")),
                         ("Energy charge/W.h", (CHARGE_ENERGY, "Wh")),
                         ("Energy discharge/W.h", (DISCHARGE_ENERGY, "Wh"))):
        if name in columns:
            dialect[name] = target
    temperature = _find(names, r"^Temperature/(.?C)$")
    if temperature is not None:
        dialect[temperature[0]] = (TEMPERATURE, "degC")
    if UNIX_TIME in frame:
        dialect[UNIX_TIME] = (UNIX_TIME, "s")
    if UNIX_TIME in frame or metadata.get("start_time"):
        metadata["timezone"] = ZONE_UNKNOWN
    keep = set(names) if known is not None else {n for n in names if _ascii(n) in _KNOWN}
    return record_from_frame(pd.DataFrame(frame), dialect, source=path, metadata=metadata,
                             keep=keep)


def _ewe_from_counter_electrode(columns: dict[str, np.ndarray], names: list[str],
                                voltage: tuple[str, str]
                                ) -> tuple[np.ndarray, int, tuple[str, str]] | None:
    """Ewe (in the unit of ``voltage``) with rows where it is exactly 0 replaced by
    Ece + (Ewe - Ece), and the number of such rows; None where nothing needs replacing."""
    if not re.match(r"^<?Ewe>?/", voltage[0]):
        return None
    ece = _find(names, r"^<?Ece>?/(m?V)$")
    difference = _find(names, r"^<?Ewe-Ece>?/(m?V)$")
    if ece is None or difference is None:
        return None
    to_volts = {"V": 1.0, "mV": 1e-3}
    ewe = _as_float(columns[voltage[0]])
    other = (_as_float(columns[ece[0]]) * to_volts[ece[1]]
             + _as_float(columns[difference[0]]) * to_volts[difference[1]]) / to_volts[voltage[1]]
    # both counter-electrode columns at 0 too: a genuine 0 V (or nothing measured at all)
    replace = (ewe == 0) & np.isfinite(other) & (other != 0)
    if not replace.any():
        return None
    return np.where(replace, other, ewe), int(replace.sum()), (ece[0], difference[0])


def _net_charge(columns: dict[str, np.ndarray], names: list[str], time: np.ndarray,
                current: tuple[str, str] | None) -> tuple[np.ndarray | None, str]:
    """Net charge [Ah] since the start: (Q-Qo); else the integral of the current; else the
    sum of dq (a per-row increment in GCPL, but a running total in CP files, so last)."""
    charge = _find(names, r"^\(Q-Qo\)/(.+)$")
    if charge is not None and _ascii(charge[1]) in _CHARGE_UNITS:
        values = _as_float(columns[charge[0]]) * _CHARGE_UNITS[_ascii(charge[1])]
        index = np.where(np.isfinite(values), np.arange(values.size), 0)
        return np.nan_to_num(values[np.maximum.accumulate(index)]), charge[0]  # gaps hold
    if current is not None:
        scale = {"mA": 1e-3, "A": 1.0}.get(current[1], 1e-6)
        amps = np.nan_to_num(_as_float(columns[current[0]])) * scale
        increments = np.r_[0.0, amps[1:] * np.diff(time) / 3600.0]  # value logged at the end
        return np.cumsum(increments), f"{current[0]} (integrated)"
    charge = _find(names, r"^d[qQ]/(.+)$")
    if charge is not None and _ascii(charge[1]) in _CHARGE_UNITS:
        scale = _CHARGE_UNITS[_ascii(charge[1])]
        return np.cumsum(np.nan_to_num(_as_float(columns[charge[0]]))) * scale, charge[0]
    return None, ""


def _per_step(net: np.ndarray, step_count: np.ndarray) -> np.ndarray:
    """A cumulative net charge restarted at each step; a step's first row keeps the charge
    passed since the row before it."""
    first = np.r_[True, step_count[1:] != step_count[:-1]]
    starts = np.flatnonzero(first)
    before = np.r_[net[0], net[:-1]][starts]
    return net - np.repeat(before, np.diff(np.r_[starts, net.size]))


def _rate(net: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Current [A] as the rise of the net charge [Ah] over each logging interval."""
    current = np.zeros(net.size)
    if net.size > 1:
        dt = np.diff(time)
        with np.errstate(divide="ignore", invalid="ignore"):
            current[1:] = np.where(dt > 0, np.diff(net) * 3600.0 / np.where(dt > 0, dt, 1.0), 0.0)
        current[0] = current[1]
    return current


def _galvani() -> Any:
    try:
        from galvani import BioLogic as galvani_biologic
    except ImportError:
        raise DependencyError('reading BioLogic .mpr files needs galvani, a GPL-3.0 package '
                              'that ssbkit installs only on request: pip install "ssbkit[gpl]"'
                              ) from None
    return galvani_biologic
