"""Gamry Framework data files (.DTA): impedance (ZCURVE) and chronoamperometry (CURVE).

A .DTA file is tab-separated text: ``EXPLAIN``, then ``TAG <experiment>``, then one object
per line (``NAME  TYPE  value …``); a ``TABLE`` object is followed by a line of column
names, a line of units and one tab-indented row per point, and ends at the first line
that is not indented. Columns are found by their Gamry names (``Freq``, ``Zreal``,
``Zimag`` for impedance; ``T``, ``Vf``, ``Im`` for chronoamperometry), and ``Zimag`` is
already Z'' in ssbkit's convention. Files written with a decimal comma are read too.

- ``EISPOT``/``EISGALV`` files give one ``Spectrum`` per sweep of their ZCURVE table. An
  aborted run (``EXPERIMENTABORTED``) gives the points measured before the abort; the
  metadata say ``aborted``. Files measured with drift correction carry ``ZrealDrCor`` and
  ``ZimagDrCor``; those are used unless ``drift_corrected=False`` (metadata
  ``drift_corrected`` says which).
- ``CHRONOA`` files give one ``Chronoamperometry`` record from their CURVE table (time,
  ``Vf`` [V], ``Im`` [A]).

Metadata: title, date and time (as written), potentiostat, DC potential (``VDC``), area
(``AREA``, cm²), open-circuit potential (``EOC``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError, UnitError, UnsupportedFormatError
from ssbkit.core.units import convert, normalize_unit
from ssbkit.io._build import build_records, build_spectra, check_options
from ssbkit.io._text import decode, detect_decimal, parse_table, read_text, split_lines

__all__ = ["GamryReader"]

_DC_TAGS = ("CHRONOA",)


@dataclass(frozen=True)
class _TableBlock:
    name: str
    header_line: int  # 0-based index of the column-name line
    start: int  # first data row (0-based)
    stop: int  # one past the last data row
    names: list[str]
    units: list[str]


def _tag(text: str) -> str | None:
    lines = text.lstrip("\ufeff").splitlines()[:2]
    if len(lines) < 2 or lines[0].strip() != "EXPLAIN":
        return None
    fields = lines[1].split("\t")
    return fields[1].strip() if len(fields) > 1 and fields[0].strip() == "TAG" else None


def _wanted(tag: str | None) -> bool:
    return tag is not None and ("EIS" in tag.upper() or tag.upper() in _DC_TAGS)


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


class GamryReader:
    """Gamry .DTA: EIS (ZCURVE) spectra and chronoamperometry (CURVE) records."""

    name = "gamry-dta"
    extensions = (".dta",)
    techniques = frozenset({"eis", "chronoamperometry"})
    description = "Gamry Framework .DTA: EISPOT/EISGALV spectra, CHRONOA records"

    def sniff(self, path: Path, head: bytes) -> bool:
        return _wanted(_tag(decode(head[:4096])))

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Options: ``strict``, ``split_sweeps``, ``drift_corrected`` (None: use if present)."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True,
                             drift_corrected=None)
        path = Path(path)
        text = read_text(path)
        tag = _tag(text)
        if not _wanted(tag):
            raise UnsupportedFormatError(f"Gamry experiment {tag!r} is neither impedance nor "
                                         "chronoamperometry" if tag else
                                         "not a Gamry EXPLAIN file", source=path, location="line 2")
        lines = split_lines(text)
        objects, tables = _scan(lines)
        metadata = _metadata(path, tag, objects)
        if tag.upper() in _DC_TAGS:
            return self._records(path, lines, tables, metadata, opts)
        curves = [t for t in tables if t.name.upper().startswith("ZCURVE")]
        if not curves:
            raise InputError("no ZCURVE table: the run stopped before its first point?",
                             source=path)
        spectra = []
        for table in curves:
            spectra += self._spectra(path, lines, table, metadata, opts)
        return spectra

    def _spectra(self, path: Path, lines: list[str], table: _TableBlock,
                 metadata: dict[str, Any], opts: dict[str, Any]) -> list[Any]:
        names = table.names
        corrected = "ZrealDrCor" in names and "ZimagDrCor" in names
        choice = opts["drift_corrected"]
        use_corrected = corrected if choice is None else bool(choice)
        if use_corrected and not corrected:
            raise InputError("drift_corrected=True but the file has no ZrealDrCor/ZimagDrCor "
                             "columns", source=path, location=f"line {table.header_line + 1}")
        wanted = ["Freq", "ZrealDrCor" if use_corrected else "Zreal",
                  "ZimagDrCor" if use_corrected else "Zimag"]
        missing = [n for n in wanted if n not in names]
        if missing:
            raise InputError(f"ZCURVE lacks column(s) {', '.join(missing)}; found "
                             f"{', '.join(n for n in names if n)}", source=path,
                             location=f"line {table.header_line + 1}")
        for column, unit in (("Freq", "hz"), (wanted[1], "ohm"), (wanted[2], "ohm")):
            found = table.units[names.index(column)].strip().lower()
            if found != unit:
                raise UnitError(f"ZCURVE column {column!r} is in {found!r}, expected {unit!r}",
                                source=path, location=f"line {table.header_line + 2}")
        optional = [n for n in ("Time", "Vdc") if n in names]
        indices = [names.index(n) for n in wanted + optional]
        parsed = self._parse(path, lines, table, indices)
        f = parsed.column(indices[0])
        z = parsed.column(indices[1]) + 1j * parsed.column(indices[2])
        extra = {"time": parsed.column(names.index("Time")) if "Time" in names else None,
                 "voltage": parsed.column(names.index("Vdc")) if "Vdc" in names else None}
        meta = {**metadata, "drift_corrected": use_corrected}
        if parsed.lines.size == 0:
            raise InputError("the ZCURVE table has no points", source=path,
                             location=f"line {table.header_line + 1}")
        return build_spectra(path, f, z, parsed.lines, metadata=meta, extra=extra,
                             split=opts["split_sweeps"], strict=opts["strict"])

    def _records(self, path: Path, lines: list[str], tables: list[_TableBlock],
                 metadata: dict[str, Any], opts: dict[str, Any]) -> list[Any]:
        records = []
        for table in tables:
            if not table.name.upper().startswith("CURVE"):
                continue
            missing = [n for n in ("T", "Vf", "Im") if n not in table.names]
            if missing:
                raise InputError(f"table {table.name} lacks column(s) {', '.join(missing)}",
                                 source=path, location=f"line {table.header_line + 1}")
            idx = [table.names.index(n) for n in ("T", "Vf", "Im")]
            parsed = self._parse(path, lines, table, idx)
            current_unit = table.units[idx[2]].strip() or "A"
            try:
                to_ampere = float(convert(1.0, normalize_unit(current_unit), "A"))
            except InputError:
                raise UnitError(f"column 'Im' is in {current_unit!r}, not a current unit",
                                source=path, location=f"line {table.header_line + 2}") from None
            records += build_records(path, parsed.column(idx[0]), parsed.column(idx[2]) * to_ampere,
                                     parsed.column(idx[1]), parsed.lines,
                                     metadata={**metadata, "table": table.name},
                                     strict=opts["strict"])
        if not records:
            raise InputError("no CURVE table with at least two points", source=path)
        return records

    @staticmethod
    def _parse(path: Path, lines: list[str], table: _TableBlock, indices: list[int]) -> Any:
        first = lines[table.start].split("\t") if table.start < table.stop else []
        return parse_table(lines, table.start, stop=table.stop, names=table.names, sep="\t",
                           decimal=detect_decimal(first, "\t"), source=path, numeric=indices,
                           allow_extra=True)


def _scan(lines: list[str]) -> tuple[dict[str, list[str]], list[_TableBlock]]:
    """Every non-indented object (name -> fields) and every TABLE with its row range."""
    objects: dict[str, list[str]] = {}
    tables: list[_TableBlock] = []
    i = 2
    while i < len(lines):
        line = lines[i]
        if not line or line[0] in "\t ":
            i += 1
            continue
        fields = line.split("\t")
        name = fields[0].strip()
        objects.setdefault(name, fields[1:])
        if len(fields) > 1 and fields[1].strip() == "TABLE" and i + 2 < len(lines):
            stop = i + 3
            while stop < len(lines) and lines[stop][:1] == "\t":
                stop += 1
            names = [f.strip() for f in lines[i + 1].split("\t")]
            units = [f.strip() for f in lines[i + 2].split("\t")]
            units += [""] * (len(names) - len(units))
            tables.append(_TableBlock(name, i + 1, i + 3, stop, names, units))
            i = stop
            continue
        i += 1
    return objects, tables


def _metadata(path: Path, tag: str, objects: dict[str, list[str]]) -> dict[str, Any]:
    def value(key: str, position: int = 1) -> str | None:
        fields = objects.get(key)
        return fields[position].strip() if fields and len(fields) > position else None

    meta: dict[str, Any] = {"format": "gamry-dta", "file": path.name, "technique": tag}
    if value("TITLE"):
        meta["title"] = value("TITLE")
    if value("DATE") or value("TIME"):
        meta["start_time"] = " ".join(v for v in (value("DATE"), value("TIME")) if v)
    if value("PSTAT"):
        meta["instrument"] = f"Gamry {value('PSTAT')}"
    for key, label in (("VDC", "dc_potential_V"), ("AREA", "area_cm2"),
                       ("EOC", "open_circuit_V")):
        number = _number(value(key) or "")
        if number is not None:
            meta[label] = number
    if "EXPERIMENTABORTED" in objects:
        meta["aborted"] = (value("EXPERIMENTABORTED") or "T").upper().startswith("T")
    return meta

