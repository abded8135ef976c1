"""Text helpers every reader shares: decoding, delimiters, and numeric tables parsed by pandas.

Instrument exports are small headers followed by one large numeric table. The header is
read line by line (it is short); the table is handed to pandas' C parser in one call, so
a file of a million rows costs what pandas costs. Errors name the file and the line as a
person sees it in a text editor (1-based).

Policies shared by the readers:

- encodings: a byte-order mark wins (UTF-8, UTF-16); otherwise UTF-8, and Latin-1 when the
  bytes are not UTF-8 (EC-Lab and Gamry write ``cm²`` and ``µF`` in Windows-1252);
- a numeric cell that is not a number (``1.2.3``, ``abc``) is an ``InputError`` naming its
  line and column; an empty cell is NaN and the reader decides what it means;
- a last line with fewer values than the first data line is a truncated file, and an
  ``InputError`` names that line; a line with more values than the header names is one too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssbkit.core.errors import InputError

__all__ = [
    "Table",
    "decode",
    "detect_decimal",
    "detect_separator",
    "is_number",
    "parse_table",
    "read_bytes",
    "read_text",
    "split_fields",
    "split_lines",
]

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$",
                     re.IGNORECASE)
WHITESPACE = "whitespace"


def decode(raw: bytes) -> str:
    """Text of ``raw``: a byte-order mark decides, else UTF-8, else Latin-1 (never fails)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace").lstrip("\ufeff")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``; an unreadable or empty file is an ``InputError``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", source=path) from None
    if not raw.strip():
        raise InputError("the file is empty", source=path)
    return raw


def read_text(path: Path) -> str:
    """The decoded text of ``path``; an unreadable or empty file is an ``InputError``."""
    return decode(read_bytes(path))


def is_number(text: str) -> bool:
    """True for a decimal number with a point or a comma (``1.5``, ``-2,5E-3``, ``nan``)."""
    return bool(_NUMBER.match(text.strip()))


def detect_separator(line: str) -> str:
    """The field separator of a data line: tab, semicolon, comma, else runs of whitespace."""
    for sep in ("\t", ";", ","):
        if sep in line:
            return sep
    return WHITESPACE


def split_fields(line: str, sep: str) -> list[str]:
    """The stripped fields of ``line``; trailing empty fields (a closing separator) are dropped."""
    fields = line.split() if sep == WHITESPACE else [f.strip() for f in line.split(sep)]
    while fields and fields[-1] == "":
        fields.pop()
    return fields


def detect_decimal(fields: Sequence[str], sep: str) -> str:
    """``","`` when numbers use a decimal comma (possible only when the separator is not a comma)."""
    if sep == ",":
        return "."
    return "," if any(re.search(r"\d,\d", f) for f in fields) else "."


@dataclass(frozen=True)
class Table:
    """Numeric columns of a text table: ``values[:, j]`` is column ``names[j]``, NaN where empty.

    ``lines`` holds the 1-based line number of each row; ``text`` the raw cells of columns
    that are not numbers (kept for step names, timestamps), by column index.
    """

    names: tuple[str, ...]
    values: np.ndarray
    lines: np.ndarray
    text: dict[int, np.ndarray]

    def column(self, index: int) -> np.ndarray:
        return self.values[:, index]


def parse_table(
    lines: Sequence[str],
    start: int,
    *,
    names: Sequence[str],
    sep: str,
    decimal: str,
    source: Path,
    numeric: Sequence[int] | None = None,
    stop: int | None = None,
    allow_extra: bool = False,
) -> Table:
    """Parse ``lines[start:stop]`` (one row per line, 0-based indices) into a ``Table``.

    The rows go to pandas' C parser in one call. Blank lines are skipped; ``Table.lines``
    keeps each row's 1-based line number. ``numeric`` are the column indices that must hold
    numbers (all when None); a cell there that is not a number is an ``InputError`` naming
    its line. ``allow_extra`` lets rows carry more values than ``names`` (ignored).
    """
    import pandas as pd

    width = len(names)
    stop = len(lines) if stop is None else stop
    kept = [i for i in range(start, stop) if lines[i].strip()]
    if not kept:
        return Table(tuple(names), np.empty((0, width)), np.empty(0, int), {})
    rows = [lines[i] for i in kept]
    line_numbers = np.asarray(kept) + 1
    _check_truncated(rows, sep, source, line_numbers)
    ncols = max(width, len(split_fields(rows[0], sep))) if allow_extra else width
    kwargs = {"sep": r"\s+"} if sep == WHITESPACE else {"sep": sep, "skipinitialspace": True}
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(rows)), header=None, names=list(range(ncols)),
            index_col=False, decimal=decimal, engine="c", low_memory=False, **kwargs,
        )
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            line = line_numbers[min(int(match[2]), len(rows)) - 1]
            raise InputError(f"{match[3]} values where the header names {match[1]} columns",
                             source=source, location=f"line {line}") from None
        raise InputError(f"cannot parse the table: {exc}", source=source,
                         location=f"line {line_numbers[0]}") from None
    if len(frame) != len(rows):
        raise InputError("a quoted field spans several lines; cannot number the rows",
                         source=source, location=f"line {line_numbers[0]}")
    wanted = set(range(width) if numeric is None else numeric)
    values = np.full((len(frame), width), np.nan)
    text_columns: dict[int, np.ndarray] = {}
    for j in range(width):
        column = frame[j]
        if j not in wanted:
            text_columns[j] = column.to_numpy(dtype=object)
        elif column.dtype.kind in "fiub":  # pandas already parsed it as numbers
            values[:, j] = column.to_numpy(dtype=float)
        else:
            values[:, j] = _to_float(column.to_numpy(dtype=object), decimal, names[j], source,
                                     line_numbers)
    return Table(tuple(names), values, line_numbers, text_columns)


def _check_truncated(lines: list[str], sep: str, source: Path, numbers: np.ndarray) -> None:
    if len(lines) < 2:
        return
    first = len(split_fields(lines[0], sep)) if sep == WHITESPACE else lines[0].count(sep)
    last = len(split_fields(lines[-1], sep)) if sep == WHITESPACE else lines[-1].count(sep)
    if last < first:
        raise InputError(f"the last line has fewer values than the first data line ({last} "
                         f"vs {first} {'fields' if sep == WHITESPACE else 'separators'}): "
                         "the file looks truncated", source=source, location=f"line {numbers[-1]}")


def _to_float(column: np.ndarray, decimal: str, name: str, source: Path,
              lines: np.ndarray) -> np.ndarray:
    import pandas as pd

    series = pd.Series(column, dtype=object).fillna("").astype(str).str.strip()
    if decimal == ",":
        series = series.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(series.where(series != "", None), errors="coerce")
    missing = series.str.lower().isin(["", "nan", "-nan", "+nan", "na", "n/a", "null"])
    bad = numbers.isna().to_numpy() & ~missing.to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {name!r}: {column[i]!r} is not a number", source=source,
                         location=f"line {lines[i]}")
    return numbers.to_numpy(dtype=float)


_NEWLINE = re.compile(r"\r\n|\r|\n")
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` split at CR, LF or CRLF only (as pandas counts them, unlike
    ``str.splitlines``, which also splits at form feeds and other control characters)."""
    if not _OTHER_BREAKS.search(text):
        return text.splitlines()  # the same result, several times faster
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines
