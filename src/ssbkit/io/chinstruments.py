"""CH Instruments text exports of A.C. Impedance runs (.txt).

The export starts with the date, ``A.C. Impedance``, ``Instrument Model:`` and the run
parameters (``Init E (V) = …``), then the column line ``Freq/Hz, Z'/ohm, Z"/ohm, Z/ohm,
Phase/deg`` and comma-separated rows. ``Z"`` is already Z'' in ssbkit's sign (negative on a
capacitive arc). Exports of other CHI techniques are not claimed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.io._build import check_options, containers_from_columns
from ssbkit.io._columns import map_columns
from ssbkit.io._text import decode, detect_decimal, parse_table, read_text, split_fields, split_lines

__all__ = ["CHInstrumentsReader"]

_TECHNIQUE = "A.C. Impedance"


def _column_line(lines: list[str]) -> int | None:
    return next((i for i, ln in enumerate(lines[:80])
                 if ln.lower().replace(" ", "").startswith("freq/hz,")), None)


class CHInstrumentsReader:
    """CH Instruments A.C. Impedance text export."""

    name = "chi-txt"
    extensions = (".txt",)
    techniques = frozenset({"eis"})
    description = "CH Instruments A.C. Impedance text export"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = split_lines(decode(head[:8192]))
        return any(ln.strip() == _TECHNIQUE for ln in lines[:5]) and _column_line(lines) is not None

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One spectrum per sweep; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        lines = split_lines(read_text(path))
        if not any(ln.strip() == _TECHNIQUE for ln in lines[:5]):
            raise UnsupportedFormatError(f"not a CHI {_TECHNIQUE} export", source=path)
        header = _column_line(lines)
        if header is None:
            raise InputError("no 'Freq/Hz, Z'/ohm, …' column line", source=path)
        names = split_fields(lines[header], ",")
        columns = map_columns(names, source=path, location=f"line {header + 1}")
        first = next((ln for ln in lines[header + 1:] if ln.strip()), None)
        if first is None:
            raise InputError("no data rows", source=path, location=f"line {header + 1}")
        table = parse_table(lines, header + 1, names=names, sep=",",
                            decimal=detect_decimal(split_fields(first, ","), ","), source=path,
                            numeric=sorted(columns.index.values()))
        metadata: dict[str, Any] = {"format": self.name, "file": path.name,
                                    "technique": _TECHNIQUE, "start_time": lines[0].strip()}
        for line in lines[:header]:
            key, sep, value = line.partition(":") if ":" in line else line.partition("=")
            key, value = key.strip(), value.strip()
            if key == "Instrument Model" and value:
                metadata["instrument"] = f"CH Instruments {value}"
            elif key == "Init E (V)":
                try:
                    metadata["dc_potential_V"] = float(value)
                except ValueError:
                    pass
        return containers_from_columns(path, table.values, table.lines, columns,
                                       metadata=metadata, split=opts["split_sweeps"],
                                       strict=opts["strict"], dc_records=False)
