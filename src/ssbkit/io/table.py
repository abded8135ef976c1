"""Delimited impedance tables (CSV, TSV, semicolon or whitespace), with or without a header.

With a header, columns are found by name and unit (``ssbkit.io._columns``): ``freq/Hz,
Re(Z)/Ohm, -Im(Z)/Ohm``; ``frequency [Hz], Z' [Ohm], Z'' [Ohm]``; ``Frequency (kHz)``;
``f, Z', Z''``; ``Freq, Real, Imag``; ``|Z|`` with ``Phase``. Units in headers are converted
(Hz/kHz/MHz, Ohm/kOhm/MOhm; a column without a unit is taken as Hz or Ohm and the metadata
list it under ``assumed_units``); a minus sign in the name (``-Z''``, ``-Im(Z)``,
``-Phase``) is undone. This reader also takes the Parstat (``Frequency (Hz) Zre (ohms) Zim
(ohms)``, whose DC rows at frequency 0 become a DC record), PowerSuite (``Frequency Zre
Zimg``), Autolab NOVA (``Frequency (Hz);Z' (Ω);-Z'' (Ω)``), header-less EC-Lab and pyimpspec
CSV exports. Units may also sit in a row of their own under the names (``Freq  Zre  Zim``
then ``Hz  ohm  ohm``). A table with time, voltage and
current columns (``time [s], voltage [V], current [A]``) is a DC (chronoamperometry)
record. A header whose columns are neither (a DRT table ``tau,gamma``) is an
``InputError`` listing the columns, not a spectrum.

Without a header the first three columns are frequency, Z' and Z'' (impedance.py's
``readCSV`` convention; its ``exampleData.csv`` stores Z'' negative on the capacitive arc).
A file whose third column is mostly positive while |Z| and Z' fall with frequency looks like
a capacitive arc written as −Z''; rather than guess, that is an ``InputError`` asking for
``imaginary="minus_z"`` (the column holds −Z'') or ``imaginary="z"`` (take it as stored).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.validate import one_of
from ssbkit.io._build import build_spectra, check_options, containers_from_columns
from ssbkit.io._columns import classify_header, is_unit, map_columns, with_units
from ssbkit.io._text import (
    WHITESPACE,
    decode,
    detect_decimal,
    detect_separator,
    is_number,
    parse_table,
    read_text,
    split_fields,
    split_lines,
)

__all__ = ["TableReader", "looks_like_cycler_table", "looks_like_minus_z"]

_CHECKED_ROWS = 200


def _fields(line: str, sep: str) -> list[str]:
    if sep == WHITESPACE:
        return line.split()
    fields = [f.strip() for f in next(csv.reader([line], delimiter=sep))]
    while fields and fields[-1] == "":
        fields.pop()
    return fields


def _start(lines: list[str]) -> int:
    """Index of the first line that is neither blank nor a ``#`` comment."""
    return next((i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")),
                len(lines))


def _layout(lines: list[str], checked_rows: int = _CHECKED_ROWS
            ) -> tuple[int, bool, bool, str] | None:
    """(first line, has header, has a unit row, separator) when ``lines`` look like one
    numeric table (a unit row, ``Hz  ohm  ohm`` under the names, is allowed).

    ``checked_rows`` rows must be numbers of a consistent width: many when sniffing, where
    a report with a small table inside must not be claimed; one when reading, so that a bad
    row further down is reported with its line number by the parser.
    """
    first = _start(lines)
    if first >= len(lines):
        return None
    rows = [ln for ln in lines[first:first + checked_rows + 2] if ln.strip()]
    sep = detect_separator(rows[1] if len(rows) > 1 else rows[0])
    head = _fields(rows[0], sep)
    has_header = not all(is_number(f) for f in head if f) or not any(head)
    data = rows[1:] if has_header else rows
    units_row = False
    if has_header and len(data) > 1:
        second = _fields(data[0], sep)
        if not any(is_number(f) for f in second) and any(is_unit(f) for f in second):
            units_row, data = True, data[1:]
    if not data:
        return None
    width = len(_fields(data[0], sep))
    for row in data[:checked_rows]:
        fields = _fields(row, sep)
        if not fields or len(fields) > max(width, len(head)) \
                or not all(is_number(f) for f in fields if f):
            return None
    return first, has_header, units_row, sep


def looks_like_minus_z(frequency: np.ndarray, z_real: np.ndarray, third: np.ndarray) -> bool:
    """True when a third column that should be Z'' looks like −Z'' of a capacitive arc:
    mostly positive, with |Z| and Z' both falling as the frequency rises."""
    ok = np.isfinite(frequency) & (frequency > 0) & np.isfinite(z_real) & np.isfinite(third)
    if ok.sum() < 5 or np.mean(third[ok] > 0) < 0.8:
        return False
    log_f = np.log(frequency[ok])
    modulus = np.abs(z_real[ok] + 1j * third[ok])
    if np.ptp(log_f) == 0 or np.ptp(modulus) == 0 or np.ptp(z_real[ok]) == 0:
        return False
    falling_modulus = np.corrcoef(log_f, np.log(np.maximum(modulus, 1e-300)))[0, 1] < -0.5
    falling_real = np.corrcoef(log_f, z_real[ok])[0, 1] < 0
    return bool(falling_modulus and falling_real)


# words in the column names of cycler exports: capacity counters, cycle and step indices
_CYCLER_WORDS = ("capacity", "q-qo", "dq/", "q charge", "q discharge", "cycle_index",
                 "step_index", "cycle index", "step index", "half cycle")


def looks_like_cycler_table(names: list[str]) -> bool:
    """True for the header of a cycler's table rather than an impedance or DC one: time,
    voltage and a capacity counter or cycle/step index, and no frequency column.

    >>> looks_like_cycler_table(["Test_Time", "Voltage", "Current", "Charge_Capacity"])
    True
    >>> looks_like_cycler_table(["time [s]", "voltage [V]", "current [A]"])
    False
    >>> looks_like_cycler_table(["Test Time / s", "Voltage / V", "Current / A"])
    True
    """
    kinds = {classify_header(n).quantity for n in names}
    lowered = [n.strip().lower() for n in names]
    if "frequency" in kinds:
        return False
    # Battery Data Format names ("Test Time / s", "test_time_second") belong to cycling
    if any(n in ("test time / s", "test_time_second") for n in lowered):
        return True
    has_time = "time" in kinds or any("time" in n for n in lowered)
    has_voltage = "voltage" in kinds or any(w in n for n in lowered
                                            for w in ("voltage", "ecell", "ewe"))
    return has_time and has_voltage and any(w in n for n in lowered for w in _CYCLER_WORDS)


def _looks_like_pressure_log(names: list[str]) -> bool:
    """A header with a pressure or force column and no impedance column.

    >>> _looks_like_pressure_log(["time [s]", "pressure [MPa]"])
    True
    >>> _looks_like_pressure_log(["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm"])
    False
    """
    kinds = {classify_header(n).quantity for n in names}
    if kinds & {"frequency", "z_real", "z_imag", "z_mod", "phase"}:
        return False
    lowered = [n.strip().lower() for n in names]
    return any(w in n for n in lowered for w in ("pressure", "force"))


class TableReader:
    """Delimited text tables of impedance data, with a header or as three bare columns."""

    name = "table"
    extensions = (".csv", ".txt", ".tsv", ".dat")
    techniques = frozenset({"eis"})
    description = "delimited impedance tables (CSV/TSV/…), by column name or as f, Z', Z''"

    def sniff(self, path: Path, head: bytes) -> bool:
        if b"\x00" in head[:4096]:
            return False
        text = decode(head)
        lines = split_lines(text)
        if len(head) >= 64 * 1024 and len(lines) > 1:
            lines = lines[:-1]  # the last line of a cut head may be partial
        layout = _layout(lines)
        if layout is None:
            return False
        first, has_header, _, sep = layout
        if has_header and looks_like_cycler_table(_fields(lines[first], sep)):
            return False  # a cycler export (Arbin, EC-Lab without header …): its reader's
        if has_header and _looks_like_pressure_log(_fields(lines[first], sep)):
            return False  # a stack-pressure log: the pressure-log reader's
        from ssbkit.io.xrd_text import looks_like_powder_scan

        if looks_like_powder_scan(path, lines):
            return False  # 2θ, I[, σ] columns: the xrd-xy reader's
        from ssbkit.io.squidstat import looks_like_squidstat

        return not looks_like_squidstat(lines)

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Options: ``strict``, ``split_sweeps``, ``imaginary`` ("auto", "z", "minus_z";
        header-less files only)."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True,
                             imaginary="auto")
        imaginary = one_of("imaginary", opts["imaginary"], ("auto", "z", "minus_z"))
        path = Path(path)
        lines = split_lines(read_text(path))
        layout = _layout(lines, checked_rows=1)
        if layout is None:
            raise InputError("not a table of numbers: no row of numbers after the first line",
                             source=path)
        first, has_header, units_row, sep = layout
        data_start = first + int(has_header)
        if units_row:
            data_start = next(i for i in range(first + 1, len(lines)) if lines[i].strip()) + 1
        data_first = next(ln for ln in lines[data_start:] if ln.strip())
        decimal = detect_decimal(split_fields(data_first, sep), sep)
        metadata: dict[str, Any] = {"format": self.name, "file": path.name}
        if has_header:
            names = _fields(lines[first], sep)
            if units_row:
                names = with_units(names, _fields(lines[data_start - 1], sep))
            columns = map_columns(names, source=path, location=f"line {first + 1}")
            is_dc = all(name in columns for name in ("time", "voltage", "current"))
            if not columns.has_impedance() and not is_dc:
                found = ", ".join(repr(n) for n in names if n) or "none"
                raise InputError("the columns are neither impedance data (a frequency and Z', "
                                 "Z'', or |Z| and phase) nor a DC record (time, voltage, "
                                 f"current); found {found}", source=path,
                                 location=f"line {first + 1}")
            table = parse_table(lines, data_start, names=names, sep=sep, decimal=decimal,
                                source=path, numeric=sorted(columns.index.values()),
                                allow_extra=True)
            if columns.assumed_units:
                metadata["assumed_units"] = list(columns.assumed_units)
            return containers_from_columns(path, table.values, table.lines, columns,
                                           metadata=metadata, split=opts["split_sweeps"],
                                           strict=opts["strict"])
        width = len(_fields(data_first, sep))
        if width < 3:
            raise InputError(f"a table without a header needs three columns (frequency, Z', "
                             f"Z''); this one has {width}", source=path,
                             location=f"line {data_start + 1}")
        names = [f"column {j + 1}" for j in range(width)]
        table = parse_table(lines, data_start, names=names, sep=sep, decimal=decimal,
                            source=path, numeric=[0, 1, 2], allow_extra=True)
        f, z_real, third = table.column(0), table.column(1), table.column(2)
        if imaginary == "auto" and looks_like_minus_z(f, z_real, third):
            raise InputError("the third column is mostly positive while |Z| and Z' fall with "
                             "frequency: it looks like -Z'' of a capacitive arc, not Z''; pass "
                             "imaginary='minus_z' if the file stores -Z'', or imaginary='z' to "
                             "take it as stored", source=path)
        sign = -1.0 if imaginary == "minus_z" else 1.0
        metadata["columns"] = "frequency [Hz], Z' [Ohm], " + \
            ("-Z'' [Ohm] (negated on reading)" if sign < 0 else "Z'' [Ohm]")
        metadata["assumed_units"] = ["frequency", "z_imag", "z_real"]
        return build_spectra(path, f, z_real + 1j * sign * third, table.lines, metadata=metadata,
                             split=opts["split_sweeps"], strict=opts["strict"])
