"""Ivium files (.idf: one data set, .ids: a sequence of data sets).

Both are mostly text (Latin-1 with a few binary bytes): ``key=value`` settings
(``Method=Impedance``, ``Title=…``, ``starttime=…``) and, for each data set, a
``primary_data`` block: the number of columns (3), the number of points, then one row per
point ``Z'  Z''  f`` (Z'' already in ssbkit's sign). Data sets whose method is not
impedance are skipped; a file without any impedance data set is an ``InputError``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import build_spectra, check_options
from ssbkit.io._text import read_bytes

__all__ = ["IviumReader"]

_MARK = b"primary_data"


def _looks_like_ivium(head: bytes) -> bool:
    return b"Peaks=" in head[:512] and b"Solarcell=" in head[:1024]


class IviumReader:
    """Ivium .idf/.ids impedance data sets."""

    name = "ivium"
    extensions = (".idf", ".ids")
    techniques = frozenset({"eis"})
    description = "Ivium data files (.idf, .ids): impedance data sets"

    def sniff(self, path: Path, head: bytes) -> bool:
        return _looks_like_ivium(head)

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One spectrum per impedance data set and sweep; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        text = read_bytes(path).decode("latin-1").replace("\x00", "")
        lines = re.split(r"\r\n|\r|\n", text)
        starts = [i for i, ln in enumerate(lines) if ln.strip() == _MARK.decode()]
        if not starts:
            raise InputError("no primary_data block", source=path)
        spectra: list[Any] = []
        for number, start in enumerate(starts):
            settings = _settings(lines, starts[number - 1] if number else 0, start)
            if "impedance" not in settings.get("Method", "impedance").lower():
                continue
            spectra += self._data_set(path, lines, start, settings, number, opts)
        if not spectra:
            raise InputError("no impedance data set (Method=Impedance)", source=path)
        return spectra

    def _data_set(self, path: Path, lines: list[str], start: int, settings: dict[str, str],
                  number: int, opts: dict[str, Any]) -> list[Any]:
        try:
            ncols, npoints = int(lines[start + 1]), int(lines[start + 2])
        except (IndexError, ValueError):
            raise InputError("expected the column and point counts after primary_data",
                             source=path, location=f"line {start + 2}") from None
        first = start + 3
        rows = lines[first:first + npoints]
        if len(rows) < npoints:
            raise InputError(f"primary_data announces {npoints} points, the file ends after "
                             f"{len(rows)}: truncated", source=path, location=f"line {first}")
        try:
            values = np.array(" ".join(rows).replace(",", ".").split(), dtype=float)
        except ValueError:
            bad = next(i for i, row in enumerate(rows) if not _numeric(row))
            raise InputError(f"not a row of numbers: {rows[bad].strip()!r}", source=path,
                             location=f"line {first + bad + 1}") from None
        if ncols < 3 or values.size != ncols * npoints:
            raise InputError(f"expected {npoints} rows of {ncols} numbers (Z', Z'', f)",
                             source=path, location=f"line {first + 1}")
        values = values.reshape(npoints, ncols)
        metadata = {"format": self.name, "file": path.name, "data_set": number,
                    "instrument": "Ivium"}
        for key, label in (("Title", "title"), ("Technique", "technique"),
                           ("starttime", "start_time")):
            if settings.get(key):
                metadata[label] = settings[key]
        return build_spectra(path, values[:, 2], values[:, 0] + 1j * values[:, 1],
                             np.arange(first + 1, first + 1 + npoints), metadata=metadata,
                             split=opts["split_sweeps"], strict=opts["strict"])


def _settings(lines: list[str], begin: int, end: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines[begin:end]:
        key, sep, value = line.partition("=")
        if sep and key.strip() and key.strip() not in out:
            out[key.strip()] = value.strip()
    return out


def _numeric(row: str) -> bool:
    try:
        [float(v) for v in row.replace(",", ".").split()]
    except ValueError:
        return False
    return True
