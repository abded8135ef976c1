"""Scribner ZPlot/ZView files (.z): the ``ZPLOT2 ASCII`` layout and the older quoted one.

Two layouts share the same columns, ``Freq(Hz) Ampl Bias Time(Sec) Z'(a) Z''(b) GD Err
Range``, with Z' and Z'' in Ohm and Z'' already in ssbkit's sign (negative on a
capacitive arc):

- ``ZPLOT2 ASCII``: ``key: value`` comment lines, the column names, ``End Comments``,
  then tab-separated rows;
- ``"ZPlotW Data File"`` / ``"Z60W Data File"`` (no comment block): quoted header lines,
  a sweep line, the number of points, the quoted column names, then comma-separated rows.
  impedance.py's ``exampleDataAutolab.txt`` is in this layout.

Both state how many points the sweep was to have (``Data Points:`` or the count line).
Files that hold fewer rows (a stopped run, or a sample cut short) are read as they are;
``declared_points`` and ``incomplete`` in the metadata say so. A last row cut in the middle
is an ``InputError`` naming its line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.io._build import build_spectra, check_options
from ssbkit.io._text import (
    decode,
    detect_decimal,
    detect_separator,
    parse_table,
    read_text,
    split_fields,
    split_lines,
)

__all__ = ["ZPlotReader"]

_QUOTED = re.compile(r'^"?(ZPlotW|Z60W|ZView\w*|Z\w*W) Data File', re.IGNORECASE)
_COLUMNS = {"freq(hz)": "frequency", "z'(a)": "z_real", "z''(b)": "z_imag", "time(sec)": "time"}


def _layout(text: str) -> str | None:
    first = text.lstrip("\ufeff").lstrip().split("\n", 1)[0].strip()
    if first.startswith("ZPLOT2 ASCII"):
        return "zplot2"
    if _QUOTED.match(first):
        return "quoted"
    return None


class ZPlotReader:
    """Scribner ZPlot/ZView .z files, with or without the comment header."""

    name = "zplot"
    extensions = (".z", ".txt")
    techniques = frozenset({"eis"})
    description = "Scribner ZPlot/ZView (.z) impedance files, both layouts"

    def sniff(self, path: Path, head: bytes) -> bool:
        return _layout(decode(head[:4096])) is not None

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One spectrum per sweep; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        text = read_text(path)
        layout = _layout(text)
        if layout is None:
            raise UnsupportedFormatError("not a ZPlot/ZView file", source=path, location="line 1")
        lines = split_lines(text.lstrip("\ufeff"))
        if layout == "zplot2":
            header_index, data_start, declared, meta = _zplot2(path, lines)
            names = split_fields(lines[header_index], "\t")
        else:
            header_index, data_start, declared, meta = _quoted(path, lines)
            # "  Freq (Hz)    Ampl  ..." in some versions: join a unit to its name first
            names = re.sub(r"\s+\(", "(", lines[header_index].strip().strip('"')).split()
        positions = {}
        for j, name in enumerate(names):
            quantity = _COLUMNS.get(name.strip().lower())
            if quantity and quantity not in positions:
                positions[quantity] = j
        missing = [q for q in ("frequency", "z_real", "z_imag") if q not in positions]
        if missing:
            raise InputError(f"expected columns Freq(Hz), Z'(a), Z''(b); found {', '.join(names)}",
                             source=path, location=f"line {header_index + 1}")
        first = next((ln for ln in lines[data_start:] if ln.strip()), "")
        sep = detect_separator(first)
        table = parse_table(lines, data_start, names=names, sep=sep,
                            decimal=detect_decimal(split_fields(first, sep), sep), source=path,
                            numeric=sorted(positions.values()), allow_extra=True)
        if table.lines.size == 0:
            raise InputError("no data rows", source=path, location=f"line {data_start + 1}")
        metadata = {"format": self.name, "file": path.name, **meta}
        if declared is not None:
            metadata["declared_points"] = declared
            metadata["incomplete"] = bool(table.lines.size < declared)
        f = table.column(positions["frequency"])
        z = table.column(positions["z_real"]) + 1j * table.column(positions["z_imag"])
        time = table.column(positions["time"]) if "time" in positions else None
        return build_spectra(path, f, z, table.lines, metadata=metadata, extra={"time": time},
                             split=opts["split_sweeps"], strict=opts["strict"])


def _zplot2(path: Path, lines: list[str]) -> tuple[int, int, int | None, dict[str, Any]]:
    end = next((i for i, ln in enumerate(lines) if ln.strip() == "End Comments"), None)
    if end is None or end == 0:
        raise InputError("no 'End Comments' line: the header is incomplete", source=path)
    meta: dict[str, Any] = {"instrument": "Scribner ZPlot"}
    declared = None
    date = time = None
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep:
            continue
        if key == "Data Points" and value.isdigit():
            declared = int(value)
        elif key == "Date":
            date = value
        elif key == "Time":
            time = value
        elif key == "Experiment Type":
            meta["technique"] = value
        elif key == "Potential-DC" and "dc_potential_V" not in meta:
            try:
                meta["dc_potential_V"] = float(value)
            except ValueError:
                pass
    if date or time:
        meta["start_time"] = " ".join(v for v in (date, time) if v)
    return end - 1, end + 1, declared, meta


def _quoted(path: Path, lines: list[str]) -> tuple[int, int, int | None, dict[str, Any]]:
    header_index = next((i for i, ln in enumerate(lines[:60]) if ln.strip().startswith('"')
                         and "freq" in ln.lower() and "z'" in ln.lower()), None)
    if header_index is None:
        raise InputError("no quoted column line with Freq(Hz): the header is incomplete",
                         source=path)
    declared = None
    previous = lines[header_index - 1].strip() if header_index else ""
    if previous.isdigit():
        declared = int(previous)
    meta: dict[str, Any] = {"instrument": lines[0].strip().strip('"').split(" Data File")[0]}
    for line in lines[1:header_index]:
        match = re.match(r"^Date:\s*(\S+)\s+Time:\s*(\S+)", line.strip())
        if match:
            meta["start_time"] = f"{match[1]} {match[2]}"
        elif line.strip().strip('"') in ("Frequency", "Sweep Frequency: Control Voltage"):
            meta.setdefault("technique", line.strip().strip('"'))
    return header_index, header_index + 1, declared, meta
