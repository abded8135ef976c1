"""Impedance text files with the extension .P00 (as in pyimpspec's test fixtures).

Four header lines (``Procedure : …``, a date line with initial and final currents, a
description, ``t = … s``), a tab-separated column line ``f/Hz  Z'/Ohm  -Z''/Ohm  time/s
Edc/V  Idc/A``, the number of points, then the rows. Columns are found by name
(``ssbkit.io._columns``), so ``-Z''`` is negated to reach Z = Z' + jZ''. The instrument
that writes this layout is not named in the file or in the fixture's documentation, so the
reader is named after the extension.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError
from ssbkit.io._build import check_options, containers_from_columns
from ssbkit.io._columns import map_columns
from ssbkit.io._text import decode, detect_decimal, parse_table, read_text, split_fields, split_lines

__all__ = ["P00Reader"]


def _column_line(lines: list[str]) -> int | None:
    for i, line in enumerate(lines[:20]):
        if line.strip().lower().startswith("f/hz") and "/ohm" in line.lower() \
                and i + 1 < len(lines) and lines[i + 1].strip().isdigit():
            return i
    return None


class P00Reader:
    """.P00 impedance text files (``f/Hz  Z'/Ohm  -Z''/Ohm …`` after a short header)."""

    name = "p00"
    extensions = (".p00",)
    techniques = frozenset({"eis"})
    description = ".P00 impedance text (f/Hz, Z'/Ohm, -Z''/Ohm after a point count)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return _column_line(split_lines(decode(head[:8192]))) is not None

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One spectrum per sweep; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        lines = split_lines(read_text(path))
        header = _column_line(lines)
        if header is None:
            raise InputError("no 'f/Hz  Z'/Ohm …' column line followed by a point count",
                             source=path)
        names = split_fields(lines[header], "\t")
        columns = map_columns(names, source=path, location=f"line {header + 1}")
        npoints = int(lines[header + 1])
        first = next((ln for ln in lines[header + 2:] if ln.strip()), "")
        table = parse_table(lines, header + 2, names=names, sep="\t",
                            decimal=detect_decimal(split_fields(first, "\t"), "\t"), source=path,
                            numeric=sorted(columns.index.values()))
        if table.lines.size != npoints:
            raise InputError(f"the file announces {npoints} points but holds {table.lines.size}"
                             f"{': truncated' if table.lines.size < npoints else ''}",
                             source=path, location=f"line {header + 2}")
        metadata: dict[str, Any] = {"format": self.name, "file": path.name}
        if lines[0].strip().lower().startswith("procedure"):
            metadata["title"] = lines[0].partition(":")[2].strip()
        return containers_from_columns(path, table.values, table.lines, columns,
                                       metadata=metadata, split=opts["split_sweeps"],
                                       strict=opts["strict"], dc_records=False)
