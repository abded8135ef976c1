"""Elchemea Analytical impedance files (.i2b).

A few free-text lines, a blank line, the number of points N, then N rows ``f Z' Z''``
separated by spaces (frequency in Hz, Z' and Z'' in Ohm, Z'' already in ssbkit's sign).
The free text is kept as ``metadata["comment"]``. The layout has no signature of its own,
so the reader claims a file only when it ends in .i2b and has this shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError
from ssbkit.io._build import build_spectra, check_options
from ssbkit.io._text import WHITESPACE, decode, is_number, parse_table, read_text, split_lines

__all__ = ["ElchemeaReader"]


def _count_line(lines: list[str]) -> int | None:
    """Index of the point-count line: an integer followed by a row of three numbers."""
    for i, line in enumerate(lines[:40]):
        text = line.strip()
        if text.isdigit() and i + 1 < len(lines):
            fields = lines[i + 1].split()
            if len(fields) == 3 and all(is_number(f) for f in fields):
                return i
    return None


class ElchemeaReader:
    """Elchemea Analytical .i2b impedance files."""

    name = "elchemea-i2b"
    extensions = (".i2b",)
    techniques = frozenset({"eis"})
    description = "Elchemea Analytical impedance file (.i2b)"

    def sniff(self, path: Path, head: bytes) -> bool:
        suffix = getattr(path, "suffix", "").lower()
        return suffix == ".i2b" and _count_line(split_lines(decode(head))) is not None

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One spectrum per sweep; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        lines = split_lines(read_text(path))
        count = _count_line(lines)
        if count is None:
            raise InputError("no point count followed by rows of f, Z', Z''", source=path)
        npoints = int(lines[count])
        table = parse_table(lines, count + 1, names=["frequency", "Z'", "Z''"], sep=WHITESPACE,
                            decimal=".", source=path)
        if table.lines.size != npoints:
            raise InputError(f"the file announces {npoints} points but holds {table.lines.size}"
                             f"{': truncated' if table.lines.size < npoints else ''}",
                             source=path, location=f"line {count + 1}")
        comment = " / ".join(ln.strip() for ln in lines[:count] if ln.strip())
        metadata = {"format": self.name, "file": path.name, "comment": comment}
        return build_spectra(path, table.column(0), table.column(1) + 1j * table.column(2),
                             table.lines, metadata=metadata, split=opts["split_sweeps"],
                             strict=opts["strict"])
