"""Spreadsheets (.xlsx, .ods) with impedance tables, one table per sheet.

Each sheet's first non-empty row names the columns, and columns are found by name exactly
as in CSV files (``ssbkit.io._columns``: ``f, Z', Z''``; ``freq, Zre, -Zim``; ``frequency,
real, imaginary``; ``frequency, |Z|, -phase`` …). Every sheet with impedance columns gives
its spectra (``metadata["sheet"]``); sheets without are skipped; a workbook with none is an
``InputError``.

Why not pandas.read_excel: it needs openpyxl for .xlsx and odfpy for .ods, two extra
dependencies for reading a few columns of numbers. Both formats are zip archives of XML,
and the cells needed here (numbers and strings) take a few dozen lines with the standard
library: sheet order and names from the workbook, shared strings, cell references (A1,
AB12) and repeated empty cells and rows (ODS writes ``number-columns-repeated`` for the
blank end of each row).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import check_options, containers_from_columns
from ssbkit.io._columns import classify_header, map_columns
from ssbkit.io._text import read_bytes

__all__ = ["SpreadsheetReader"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"

Sheet = tuple[str, list[tuple[int, list[Any]]]]  # name, [(row number, cells)]


def _kind(head: bytes) -> str | None:
    if not head.startswith(b"PK\x03\x04"):
        return None
    if b"mimetype" + _ODS_MIME in head[:200] or _ODS_MIME in head[:200]:
        return "ods"
    if b"xl/" in head or b"[Content_Types].xml" in head:
        return "xlsx"
    return None


class SpreadsheetReader:
    """Impedance tables in .xlsx and .ods workbooks, one per sheet."""

    name = "spreadsheet"
    extensions = (".xlsx", ".ods")
    techniques = frozenset({"eis"})
    description = "spreadsheets (.xlsx, .ods): one impedance table per sheet"

    def sniff(self, path: Path, head: bytes) -> bool:
        kind = _kind(head)
        if kind == "xlsx" and path is not None:
            from ssbkit.io.table import looks_like_cycler_table

            headers = _xlsx_headers(Path(path))
            if any(looks_like_cycler_table(h) for h in headers) and not any(
                    classify_header(n).quantity == "frequency" for h in headers for n in h):
                return False  # a cycler's export (Arbin Channel sheets) and no impedance sheet
        return kind is not None

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Spectra of every impedance sheet; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        kind = _kind(read_bytes(path)[:4096])
        if kind is None:
            raise InputError("not an .xlsx or .ods workbook", source=path)
        try:
            with zipfile.ZipFile(path) as archive:
                sheets = _xlsx_sheets(archive) if kind == "xlsx" else _ods_sheets(archive)
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
            raise InputError(f"the workbook is damaged or truncated: {exc}", source=path) from None
        out: list[Any] = []
        seen: list[str] = []
        for name, rows in sheets:
            rows = [(n, cells) for n, cells in rows if any(_filled(c) for c in cells)]
            if not rows:
                continue
            names = [str(c).strip() if c is not None else "" for c in rows[0][1]]
            seen.append(f"{name!r}: {', '.join(n for n in names if n) or 'no names'}")
            try:
                columns = map_columns(names, source=path, location=f"sheet {name!r}, row "
                                      f"{rows[0][0]}")
                if not columns.has_impedance():
                    continue
                values, numbers = _numbers(path, name, rows[1:], names, columns)
                out += containers_from_columns(path, values, numbers, columns,
                                               metadata={"format": self.name, "file": path.name,
                                                         "sheet": name},
                                               split=opts["split_sweeps"], strict=opts["strict"],
                                               dc_records=False, row_label="row")
            except InputError as exc:
                if f"sheet {name!r}" in str(exc):
                    raise
                raise type(exc)(f"sheet {name!r}: {exc.detail}", source=path,
                                location=exc.location) from None
        if not out:
            raise InputError("no sheet holds impedance columns; sheets: " + ("; ".join(seen)
                             or "none with data"), source=path)
        return out


def _xlsx_headers(path: Path) -> list[list[str]]:
    """The first non-empty row of each sheet, read without parsing the sheets whole (for
    sniffing; [] when the workbook cannot be read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            shared: list[str] = []
            if "xl/sharedStrings.xml" in archive.namelist():
                strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
                shared = ["".join(t.text or "" for t in si.iter(f"{_MAIN}t"))
                          for si in strings.iter(f"{_MAIN}si")]
            headers = []
            for member in sorted(n for n in archive.namelist()
                                 if re.match(r"xl/worksheets/sheet\d+\.xml$", n)):
                with archive.open(member) as stream:
                    for _, element in ElementTree.iterparse(stream):
                        if element.tag != f"{_MAIN}row":
                            continue
                        cells = [_xlsx_value(c, shared) for c in element.iter(f"{_MAIN}c")]
                        if any(_filled(c) for c in cells):
                            headers.append([str(c) if c is not None else "" for c in cells])
                            break
            return headers
    except (OSError, KeyError, IndexError, ValueError, zipfile.BadZipFile,
            ElementTree.ParseError, RuntimeError):
        return []


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _numbers(path: Path, sheet: str, rows: list[tuple[int, list[Any]]], names: list[str],
             columns: Any) -> tuple[np.ndarray, np.ndarray]:
    wanted = sorted(columns.index.values())
    values = np.full((len(rows), len(names)), np.nan)
    for i, (number, cells) in enumerate(rows):
        for j in wanted:
            cell = cells[j] if j < len(cells) else None
            if not _filled(cell):
                continue
            try:
                values[i, j] = float(str(cell).replace(",", ".")) if isinstance(cell, str) \
                    else float(cell)
            except ValueError:
                raise InputError(f"column {names[j]!r}: {cell!r} is not a number", source=path,
                                 location=f"sheet {sheet!r}, row {number}") from None
    return values, np.array([number for number, _ in rows], dtype=int)


def _column_index(reference: str) -> int:
    letters = re.match(r"[A-Z]+", reference.upper())
    index = 0
    for letter in letters[0] if letters else "":
        index = index * 26 + (ord(letter) - 64)
    return index - 1


def _xlsx_sheets(archive: zipfile.ZipFile) -> list[Sheet]:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    shared: list[str] = []
    if "xl/sharedStrings.xml" in archive.namelist():
        strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
        shared = ["".join(t.text or "" for t in si.iter(f"{_MAIN}t"))
                  for si in strings.iter(f"{_MAIN}si")]
    sheets: list[Sheet] = []
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        root = ElementTree.fromstring(archive.read(member))
        rows: list[tuple[int, list[Any]]] = []
        for k, row in enumerate(root.iter(f"{_MAIN}row")):
            number = int(row.get("r", k + 1))
            cells: list[Any] = []
            for position, cell in enumerate(row.iter(f"{_MAIN}c")):
                column = _column_index(cell.get("r", "")) if cell.get("r") else position
                cells += [None] * (column + 1 - len(cells))
                cells[column] = _xlsx_value(cell, shared)
            rows.append((number, cells))
        sheets.append((sheet.get("name", f"sheet {len(sheets) + 1}"), rows))
    return sheets


def _xlsx_value(cell: ElementTree.Element, shared: list[str]) -> Any:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{_MAIN}t"))
    value = cell.find(f"{_MAIN}v")
    if value is None or value.text is None:
        return None
    if kind == "s":
        return shared[int(value.text)]
    if kind in ("str", "e"):
        return value.text
    return float(value.text)  # "n" (number) and "b" (boolean 0/1)


def _ods_sheets(archive: zipfile.ZipFile) -> list[Sheet]:
    root = ElementTree.fromstring(archive.read("content.xml"))
    sheets: list[Sheet] = []
    for table in root.iter(f"{_TABLE}table"):
        rows: list[tuple[int, list[Any]]] = []
        number = 0
        for row in table.iter(f"{_TABLE}table-row"):
            repeat = int(row.get(f"{_TABLE}number-rows-repeated", "1"))
            cells: list[Any] = []
            pending_blanks = 0
            for cell in row:
                if cell.tag not in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"):
                    continue
                count = int(cell.get(f"{_TABLE}number-columns-repeated", "1"))
                value = _ods_value(cell)
                if value is None:
                    pending_blanks += count  # blank runs are only materialised before a value
                    continue
                cells += [None] * pending_blanks + [value] * min(count, 1024)
                pending_blanks = 0
            number += 1
            if cells:
                rows.append((number, cells))
            number += repeat - 1
        sheets.append((table.get(f"{_TABLE}name", f"sheet {len(sheets) + 1}"), rows))
    return sheets


def _ods_value(cell: ElementTree.Element) -> Any:
    kind = cell.get(f"{_OFFICE}value-type")
    if kind in ("float", "percentage", "currency"):
        return float(cell.get(f"{_OFFICE}value", "nan"))
    text = "\n".join("".join(p.itertext()) for p in cell.iter(f"{_TEXT}p"))
    return text if text else None
