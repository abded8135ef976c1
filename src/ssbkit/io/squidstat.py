"""Admiral Instruments Squidstat CSV exports (the potentiostat of the argyrodite study).

The Squidstat software exports one CSV per experiment: a header line, then one row per
point of every step of the sequence, with columns such as ``Timestamp``, ``Elapsed Time
(s)``, ``Step Name``, ``Step number``, ``Repeats``, ``Working Electrode (V)``, ``Current
(A)`` and, on impedance rows, ``Frequency (Hz)``, ``|Z| (Ohms)``, ``Phase (deg)``, ``Z'
(Ohms)``, ``-Z" (Ohms)`` (also spelled ``-Z'' (Ohms)``). The layout was taken from scripts
that read these exports (column names only; no sample file ships with ssbkit), so columns
are found by name and unit, never by position, and the reader tolerates extra columns.

- Impedance rows give one ``Spectrum`` per step and repeat (a sequence that loops an EIS
  step five times gives five spectra, ``metadata["cycle"]`` = the repeat number); within
  one repeat, sweeps are also split where the frequency turns back.
- Rows without a frequency (DC steps: constant potential, OCV) give one
  ``Chronoamperometry`` record per step and repeat, with the step name in the metadata.
``-Z"`` is negated to reach Z = Z' + jZ''.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.io._build import check_options, containers_from_columns
from ssbkit.io._columns import map_columns
from ssbkit.io._text import decode, detect_decimal, parse_table, read_text, split_lines

__all__ = ["SquidstatReader", "looks_like_squidstat"]

_HEADER_LINES = 10


def _header_index(lines: list[str]) -> int | None:
    for i, line in enumerate(lines[:_HEADER_LINES]):
        lowered = line.lower()
        if "elapsed time (s)" in lowered and any(
                key in lowered for key in ("repeats", "step number", "working electrode (v)")):
            return i
    return None


def looks_like_squidstat(lines: list[str]) -> bool:
    """True when one of the first lines is a Squidstat export header."""
    return _header_index(lines) is not None


def _names(line: str) -> list[str]:
    fields = [f.strip() for f in next(csv.reader([line]))]
    while fields and not fields[-1]:
        fields.pop()
    return fields


class SquidstatReader:
    """Admiral Squidstat CSV export: spectra per step and repeat, DC steps as records."""

    name = "squidstat-csv"
    extensions = (".csv",)
    techniques = frozenset({"eis", "chronoamperometry"})
    description = "Admiral Instruments Squidstat CSV export (EIS repeats, DC steps)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return looks_like_squidstat(split_lines(decode(head[:16384])))

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Options: ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        lines = split_lines(read_text(path))
        header = _header_index(lines)
        if header is None:
            raise UnsupportedFormatError("no Squidstat header (Elapsed Time (s), Step number, "
                                         "Repeats, …) in the first lines", source=path)
        names = _names(lines[header])
        columns = map_columns(names, source=path, location=f"line {header + 1}")
        first = next((ln for ln in lines[header + 1:] if ln.strip()), None)
        if first is None:
            raise InputError("no data rows after the header", source=path,
                             location=f"line {header + 1}")
        table = parse_table(lines, header + 1, names=names, sep=",",
                            decimal=detect_decimal(_names(first), ","), source=path,
                            numeric=sorted(columns.index.values()), allow_extra=True)
        step_name = next((j for j, n in enumerate(names) if n.strip().lower() == "step name"),
                         None)
        labels = {} if step_name is None else {"step_name": table.text[step_name]}
        metadata: dict[str, Any] = {"format": self.name, "file": path.name,
                                    "instrument": "Admiral Squidstat"}
        if columns.assumed_units:
            metadata["assumed_units"] = list(columns.assumed_units)
        return containers_from_columns(path, table.values, table.lines, columns,
                                       metadata=metadata, split=opts["split_sweeps"],
                                       strict=opts["strict"], labels=labels)
