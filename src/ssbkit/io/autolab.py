"""Eco Chemie / Autolab FRA data files (.dfr).

The layout, as in pyimpspec's test fixture: ``VERSION8.0``, the number of points N, one
more line, then nine numbers per point, one per line: frequency [Hz], Z' [Ohm], −Z''
[Ohm] and six further values (DC potential, DC current, time and three unnamed ones in
that fixture, all zero), then a few trailer lines. Only frequency and impedance are read;
−Z'' is negated to reach Z = Z' + jZ''. The meaning of the six extra values is not
documented publicly, so they are not interpreted. Autolab NOVA text exports are read by
the ``table`` reader, by column name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import build_spectra, check_options
from ssbkit.io._text import decode, read_text, split_lines

__all__ = ["AutolabDfrReader"]

_VALUES_PER_POINT = 9
_VERSION = re.compile(r"^VERSION\d+(\.\d+)?$", re.IGNORECASE)


class AutolabDfrReader:
    """Eco Chemie / Autolab FRA .dfr impedance files."""

    name = "autolab-dfr"
    extensions = (".dfr",)
    techniques = frozenset({"eis"})
    description = "Eco Chemie / Autolab FRA data file (.dfr)"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = split_lines(decode(head[:256]))
        return len(lines) > 2 and bool(_VERSION.match(lines[0].strip())) \
            and lines[1].strip().isdigit()

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One spectrum per sweep; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        lines = split_lines(read_text(path))
        if not lines or not _VERSION.match(lines[0].strip()):
            raise InputError("expected 'VERSION…' on the first line", source=path,
                             location="line 1")
        try:
            npoints = int(lines[1])
        except (IndexError, ValueError):
            raise InputError("expected the number of points", source=path,
                             location="line 2") from None
        first = 3
        stop = first + npoints * _VALUES_PER_POINT
        block = lines[first:stop]
        if len(block) < stop - first:
            raise InputError(f"{npoints} points need {stop - first} value lines; the file ends "
                             f"after {len(block)}: truncated", source=path,
                             location=f"line {len(lines)}")
        try:
            values = np.array([float(v) for v in block], dtype=float)
        except ValueError:
            bad = next(i for i, v in enumerate(block) if not _is_float(v))
            raise InputError(f"{block[bad].strip()!r} is not a number", source=path,
                             location=f"line {first + bad + 1}") from None
        table = values.reshape(npoints, _VALUES_PER_POINT)
        lines_of_points = first + 1 + _VALUES_PER_POINT * np.arange(npoints)
        metadata = {"format": self.name, "file": path.name, "instrument": "Autolab FRA",
                    "version": lines[0].strip()}
        return build_spectra(path, table[:, 0], table[:, 1] - 1j * table[:, 2], lines_of_points,
                             metadata=metadata, split=opts["split_sweeps"],
                             strict=opts["strict"])


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
