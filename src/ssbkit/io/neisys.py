"""NEISYS text exports (.txt), as in the EISFitpython solid-electrolyte temperature series.

Three header lines, the sample name, ``Fixed value(s) :  AC Volt  [Vrms]=3.5000e-02`` and
the column names ``Freq.[Hz]  Zs'[ohm]  Zs''[ohm]``, then tab-separated rows. ``Zs''`` is
already Z'' in ssbkit's sign.

Temperature. The export does not record it; the series names each file after it
(``s04147-140deg.txt``). When the file name says ``NNNdeg``, ``NNNdegC`` or ``NNNC``, the
number is read as °C and kept as ``metadata["temperature_K"]`` (140 °C → 413.15 K), with
``metadata["temperature_source"] = "file name"``; a name without it leaves the temperature
out. Pass ``temperature_K=`` to set it yourself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ssbkit.core.errors import UnsupportedFormatError
from ssbkit.core.validate import positive
from ssbkit.io._build import check_options, containers_from_columns, temperature_from_name
from ssbkit.io._columns import map_columns
from ssbkit.io._text import (
    decode,
    detect_decimal,
    detect_separator,
    parse_table,
    read_text,
    split_fields,
    split_lines,
)

__all__ = ["NeisysReader"]


def _column_line(lines: list[str]) -> int | None:
    return next((i for i, ln in enumerate(lines[:6])
                 if "freq.[hz]" in ln.lower() and "zs'[ohm]" in ln.lower()), None)


class NeisysReader:
    """NEISYS impedance text export; temperature from the file name (see module docs)."""

    name = "neisys-txt"
    extensions = (".txt",)
    techniques = frozenset({"eis"})
    description = "NEISYS text export (Freq.[Hz] Zs'[ohm] Zs''[ohm]), temperature from name"

    def sniff(self, path: Path, head: bytes) -> bool:
        return _column_line(split_lines(decode(head[:4096]))) is not None

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Options: ``strict``, ``split_sweeps``, ``temperature_K`` (overrides the name)."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True,
                             temperature_K=None)
        path = Path(path)
        lines = split_lines(read_text(path))
        header = _column_line(lines)
        if header is None:
            raise UnsupportedFormatError("no NEISYS column line (Freq.[Hz] Zs'[ohm] Zs''[ohm])",
                                         source=path)
        sep = detect_separator(lines[header])
        names = split_fields(lines[header], sep)
        columns = map_columns(names, source=path, location=f"line {header + 1}")
        first = next((ln for ln in lines[header + 1:] if ln.strip()), "")
        table = parse_table(lines, header + 1, names=names, sep=sep,
                            decimal=detect_decimal(split_fields(first, sep), sep), source=path,
                            numeric=sorted(columns.index.values()))
        metadata: dict[str, Any] = {"format": self.name, "file": path.name,
                                    "instrument": "NEISYS", "sample": lines[0].strip()}
        amplitude = re.search(r"\[Vrms\]\s*=\s*([-+\d.eE]+)", "\n".join(lines[:header]))
        if amplitude:
            metadata["ac_amplitude_Vrms"] = float(amplitude[1])
        if opts["temperature_K"] is not None:
            metadata["temperature_K"] = positive("temperature_K", opts["temperature_K"])
            metadata["temperature_source"] = "argument"
        elif (kelvin := temperature_from_name(path.name)) is not None:
            metadata["temperature_K"] = kelvin
            metadata["temperature_source"] = "file name"
        return containers_from_columns(path, table.values, table.lines, columns,
                                       metadata=metadata, split=opts["split_sweeps"],
                                       strict=opts["strict"], dc_records=False)
