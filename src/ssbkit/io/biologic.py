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
- Other techniques (galvanostatic cycling, CV) are not claimed: they belong to cycling.

A header that names fewer columns than the rows hold (impedance.py's
``exampleDataBioLogic_MissingFreq.mpt`` lacks ``freq/Hz`` in its header, so every name
would sit one column off) is refused with an ``InputError`` naming the first data line,
because reading it by position would attach each value to the wrong quantity.

The binary .mpr is read with galvani, which is GPL-3.0 and therefore only an optional
extra (``pip install "ssbkit[gpl]"``); it is imported when an .mpr is read, never before.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import DependencyError, InputError, UnsupportedFormatError
from ssbkit.core.units import convert, normalize_unit
from ssbkit.io._build import check_options, containers_from_columns
from ssbkit.io._columns import map_columns
from ssbkit.io._text import decode, detect_decimal, parse_table, read_text, split_fields, split_lines

__all__ = ["BioLogicMprReader", "BioLogicMptReader"]

_MAGIC_MPT = "EC-Lab ASCII FILE"
_MAGIC_MPR = b"BIO-LOGIC MODULAR FILE"


def _kind(header_text: str) -> str | None:
    """'eis' or 'dc' from the technique named in an EC-Lab header; None for other techniques."""
    lowered = header_text.lower()
    if "impedance spectroscopy" in lowered:
        return "eis"
    if "chronoamperometry" in lowered or "constant voltage" in lowered:
        return "dc"
    return None


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


class BioLogicMptReader:
    """BioLogic EC-Lab text export (.mpt): impedance spectra and chronoamperometry records."""

    name = "biologic-mpt"
    extensions = (".mpt",)
    techniques = frozenset({"eis", "chronoamperometry"})
    description = "BioLogic EC-Lab text export (.mpt): PEIS/GEIS spectra, CA records"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = decode(head[:8192])
        return text.startswith(_MAGIC_MPT) and _kind(text) is not None

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Spectra (one per sweep) or DC records; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        lines = split_lines(read_text(path))
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
        kind = _kind("\n".join(header))
        if kind is None:
            raise UnsupportedFormatError("not an impedance or chronoamperometry file (technique "
                                         "not recognised)", source=path)
        names = split_fields(lines[n_header - 1], "\t")
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
        columns = map_columns(names, source=path, location=f"line {n_header}")
        table = parse_table(lines, n_header, names=names, sep="\t",
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


class BioLogicMprReader:
    """BioLogic EC-Lab binary file (.mpr), read through the optional GPL extra galvani."""

    name = "biologic-mpr"
    extensions = (".mpr",)
    techniques = frozenset({"eis"})
    description = "BioLogic EC-Lab binary (.mpr) impedance files, via galvani (extra 'gpl')"

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(_MAGIC_MPR)

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Impedance spectra from an .mpr; needs galvani (``pip install "ssbkit[gpl]"``)."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        galvani_biologic = _galvani()
        try:
            mpr = galvani_biologic.MPRfile(str(path))
        except Exception as exc:  # galvani raises bare ValueError/NotImplementedError/struct errors
            raise InputError(f"galvani cannot read this .mpr: {exc}", source=path) from None
        data = mpr.data
        names = list(data.dtype.names or ())
        columns = map_columns(names, source=path)
        if not columns.has_impedance():
            raise UnsupportedFormatError("no impedance columns in this .mpr (only impedance "
                                         f"files are read); columns: {', '.join(names)}",
                                         source=path)
        values = np.column_stack([np.asarray(data[n], dtype=float) if j in columns.index.values()
                                  else np.full(len(data), np.nan) for j, n in enumerate(names)])
        metadata: dict[str, Any] = {"format": self.name, "file": path.name,
                                    "instrument": "BioLogic"}
        for attribute in ("timestamp", "startdate"):
            value = getattr(mpr, attribute, None)
            if value is not None:
                metadata["start_time"] = str(value)
                break
        return containers_from_columns(path, values, np.arange(1, len(data) + 1), columns,
                                       metadata=metadata, split=opts["split_sweeps"],
                                       strict=opts["strict"], dc_records=False, row_label="row")


def _galvani() -> Any:
    try:
        from galvani import BioLogic as galvani_biologic
    except ImportError:
        raise DependencyError('reading BioLogic .mpr files needs galvani, a GPL-3.0 package '
                              'that ssbkit installs only on request: pip install "ssbkit[gpl]"'
                              ) from None
    return galvani_biologic
