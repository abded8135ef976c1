"""Powder patterns as text columns (.xy, .xye, .csv, .txt, .dat), and what every XRD reader shares.

A column file holds 2θ [deg] and intensity, and optionally a standard error, one point a
line, separated by whitespace, commas, semicolons or tabs. Header lines before the numbers
and ``#``/``;``/``!`` comment lines are skipped; a header line that gives a wavelength
(``# wavelength = 1.5406``, ``Lambda: 0.41391 A``) sets the pattern's radiation, else it has
none (``()``) and a refinement needs ``wavelength=``. Intensities are taken as counts per
step, as stored (``metadata["intensity"]`` says so), unless the header calls them a rate
(``cps``, ``counts/s``, ``counts per second``): then a step time in the header (``step time
2 s``, ``time per step: 0.5``) turns them into counts (and a σ column with them); without one
they stay count rates, ``metadata["intensity"]`` says so and σ is only relative (√rate,
``metadata["sigma"]``): fitted values hold, but χ² and GOF are off by √t.

Choices (they hold for every XRD reader, through ``build_pattern``):

- a file with 2θ only, a cell that is not a number, or a 2θ that does not increase is an
  ``InputError`` naming the line;
- negative intensities (background-subtracted data) are kept only when the file gives a
  standard error for every point: counting statistics cannot give one for a negative count,
  so without a σ column such a file is refused;
- a point whose standard error is 0 or negative carries no weight (GSAS's convention for
  "no data"); a ``Pattern`` cannot hold it, so it is dropped and listed in
  ``metadata["dropped"]`` as ``{"line": n, "reason": ...}``; ``strict=True`` raises instead.

Content decides, not the extension: ``looks_like_powder_scan`` claims a table whose first
column rises in even steps inside (0, 180)° (or that a header names as 2θ, or any rising
first column in a .xy/.xye file). The impedance ``table`` reader asks it too, so that a bare
three-column 2θ, I, σ file is not taken for frequency, Z', Z''.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "scan.xy"
>>> _ = path.write_text("# wavelength = 1.5406\\n10.00 412\\n10.02 422\\n10.04 393\\n")
>>> (p,) = XyReader().read(path)
>>> p.two_theta.tolist(), p.intensity.tolist(), p.wavelength, p.metadata["step_deg"]
([10.0, 10.02, 10.04], [412.0, 422.0, 393.0], 1.5406, 0.02)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import check_options
from ssbkit.io._text import (
    WHITESPACE,
    decode,
    detect_decimal,
    detect_separator,
    is_number,
    parse_table,
    read_text,
    split_fields,
    split_lines,
)

__all__ = ["XyReader", "build_pattern", "looks_like_powder_scan", "wavelength_in_text"]

_COMMENT = ("#", ";", "!", "%", "'", "//")
_XY_SUFFIXES = (".xy", ".xye", ".xyd", ".xys")
_ANGLE_WORDS = re.compile(r"2\s*-?\s*th|2θ|two.?theta|angle|°\s*2", re.IGNORECASE)
_WAVELENGTH = re.compile(r"(?:wave\s*-?\s*length|lambda|λ)\b[^0-9=:]{0,20}[=:]?\s*"
                         r"(\d*\.\d+|\d+)", re.IGNORECASE)
_CHECKED_ROWS = 200
_RATE = re.compile(r"\bcps\b|counts?\s*/\s*s(?:ec)?\b|counts?\s+per\s+s(?:ec(?:ond)?)?\b", re.IGNORECASE)
_STEP_TIME = re.compile(r"(?:step\s*-?\s*time|time\s*(?:per|/)\s*step|count(?:ing)?\s*time)\b[^0-9=:]{0,10}"
                        r"[=:]?\s*(\d*\.\d+|\d+)\s*(ms|s|sec)?\b", re.IGNORECASE)


def wavelength_in_text(text: str) -> float | None:
    """A wavelength [Å] a header or comment line states, if any (0.05–5 Å, else ignored).

    >>> wavelength_in_text("# Calibrated wavelength = 0.413909")
    0.413909
    >>> wavelength_in_text("Lambda: 1.5406 A"), wavelength_in_text("# 2theta  counts") is None
    (1.5406, True)
    """
    match = _WAVELENGTH.search(text)
    if match is None:
        return None
    value = float(match[1])
    return value if 0.05 <= value <= 5.0 else None


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith(_COMMENT)


def _fields(line: str, sep: str) -> list[str]:
    return split_fields(line, sep)


def _first_data_line(lines: Sequence[str], limit: int = 400) -> int | None:
    """Index of the first line that is a row of numbers (blank and comment lines skipped)."""
    for i, line in enumerate(lines[:limit]):
        if not line.strip() or _is_comment(line):
            continue
        sep = detect_separator(line)
        fields = _fields(line, sep)
        if fields and all(is_number(f) for f in fields):
            return i
    return None


def looks_like_powder_scan(path: Path | None, lines: Sequence[str]) -> bool:
    """True when ``lines`` (the head of a text file) hold a 2θ scan: 2 or 3 numeric columns
    whose first rises inside (0, 180) — in even steps, or under a header that names an angle,
    or in a file whose extension is .xy/.xye. Never raises.

    >>> looks_like_powder_scan(None, ["# 2theta counts", "10.00 5", "10.02 7", "10.04 6"])
    True
    >>> looks_like_powder_scan(None, [f"{10 + 0.02 * i:.2f} {100 + i}" for i in range(20)])
    True
    >>> looks_like_powder_scan(None, ["1e5 10 -1", "1e4 12 -5", "1e3 30 -20", "1e2 80 -40"])
    False
    """
    try:
        first = _first_data_line(lines)
        if first is None or any(ln.startswith("BANK") for ln in lines[:first]):
            return False  # nothing numeric, or a GSAS file (its 2θ is in centidegrees)
        sep = detect_separator(lines[first])
        rows = [ln for ln in lines[first:first + _CHECKED_ROWS + 1] if ln.strip()]
        if len(rows) > _CHECKED_ROWS:
            rows = rows[:-1]  # the last line of a cut head may be partial
        values = []
        for row in rows:
            fields = _fields(row, sep)
            if len(fields) not in (2, 3) or not all(is_number(f) for f in fields):
                return False
            values.append([float(f.replace(",", ".")) if sep != "," else float(f) for f in fields])
        if len(values) < 3 or len({len(v) for v in values}) != 1:
            return False
        table = np.asarray(values)
        x = table[:, 0]
        step = np.diff(x)
        if not (np.isfinite(table).all() and (step > 0).all() and x[0] > 0 and x[-1] < 180):
            return False
        header = next((ln for ln in reversed(lines[:first]) if ln.strip()), "")
        if _ANGLE_WORDS.search(header):
            return True
        if path is not None and Path(path).suffix.lower() in _XY_SUFFIXES:
            return True
        even = float(np.ptp(step)) <= 0.05 * float(np.median(step))
        return bool(even and len(values) >= 10 and (table[:, 1] >= 0).all())
    except Exception:  # a sniff helper never raises
        return False


def build_pattern(
    path: Path,
    two_theta: Any,
    intensity: Any,
    sigma: Any = None,
    *,
    lines: Any = None,
    wavelengths: Any = (),
    metadata: Mapping[str, Any],
    strict: bool = False,
    row_label: str = "line",
) -> Any:
    """A ``Pattern`` from per-point arrays, under the rules in the module docstring.

    ``lines`` are the points' 1-based line numbers (or record numbers, ``row_label``) for the
    messages; ``sigma`` None means counting statistics. Raises ``InputError`` naming the file.
    """
    from ssbkit.xrd.data import Pattern

    x = np.asarray(two_theta, dtype=float)
    y = np.asarray(intensity, dtype=float)
    rows = np.arange(1, x.size + 1) if lines is None else np.asarray(lines)
    where = f"{row_label} {{}}"
    if x.size != y.size:
        raise InputError(f"{x.size} 2θ values but {y.size} intensities", source=path)
    for name, values in (("2θ", x), ("intensity", y)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InputError(f"{name} is missing or not a number", source=path,
                             location=where.format(rows[bad[0]]))
    falls = np.flatnonzero(np.diff(x) <= 0)
    if falls.size:
        i = int(falls[0]) + 1
        raise InputError(f"2θ must increase: {x[i]:g}° follows {x[i - 1]:g}°", source=path,
                         location=where.format(rows[i]))
    meta = dict(metadata)
    if sigma is None:
        negative = np.flatnonzero(y < 0)
        if negative.size:
            raise InputError(f"negative intensity {y[negative[0]]:g} without a standard error: "
                             "counting statistics cannot weigh it; give σ as a third column",
                             source=path, location=where.format(rows[negative[0]]))
        s = None
    else:
        s = np.asarray(sigma, dtype=float)
        if s.size != y.size:
            raise InputError(f"{s.size} standard errors for {y.size} intensities", source=path)
        unusable = ~(np.isfinite(s) & (s > 0))
        if unusable.any():
            dropped = [{row_label: int(rows[i]), "reason": f"standard error {s[i]:g} is not > 0 "
                        "(a point without weight)"} for i in np.flatnonzero(unusable)]
            if strict:
                raise InputError(dropped[0]["reason"], source=path,
                                 location=where.format(dropped[0][row_label]))
            keep = ~unusable
            x, y, s = x[keep], y[keep], s[keep]
            meta["dropped"] = [*meta.get("dropped", []), *dropped]
    if x.size < 2:
        raise InputError(f"a pattern needs at least 2 points with weight, found {x.size}", source=path)
    if x[0] <= 0 or x[-1] >= 180:
        raise InputError(f"2θ must lie in (0, 180)°; this scan runs {x[0]:g}–{x[-1]:g}°: is the "
                         "first column 2θ in degrees?", source=path)
    meta.setdefault("step_deg", _step(x))
    return Pattern(x, y, s, wavelengths=wavelengths, metadata=meta, source=str(path))


def _step(x: np.ndarray) -> float:
    """The median step [deg], rounded to 10 significant digits (text angles carry rounding)."""
    return float(f"{float(np.median(np.diff(x))):.10g}")


def attenuated_sigma(counts: np.ndarray, factors: np.ndarray) -> np.ndarray | None:
    """σ of intensities corrected by attenuator ``factors`` (corrected = counted × factor):
    the counted number carries the Poisson error, so σ = factor·√(counted), with a floor of
    one count; None when no factor differs from 1 (plain counting statistics apply).

    >>> attenuated_sigma(np.array([100.0, 1000.0]), np.array([1.0, 10.0])).tolist()
    [10.0, 100.0]
    """
    if np.all(factors == 1):
        return None
    counted = counts / factors
    return factors * np.sqrt(np.maximum(counted, 1.0))


def _check_widths(path: Path, lines: Sequence[str], first: int, sep: str, width: int) -> None:
    """Name a line with more values than the first data line, or another separator (the table
    parser would call it truncated)."""
    names = {"\t": "tabs", ";": "semicolons", ",": "commas"}
    for i in range(first + 1, len(lines)):
        line = lines[i]
        if not line.strip() or _is_comment(line):
            continue
        if sep != WHITESPACE and sep not in line and len(line.split()) > 1:
            raise InputError(f"{len(line.split())} values separated by spaces where the first data line "
                             f"(line {first + 1}) uses {names[sep]}", source=path, location=f"line {i + 1}")
        count = len(_fields(line, sep))
        if count > width:
            raise InputError(f"{count} values where the first data line (line {first + 1}) has {width} "
                             "(2θ, intensity and an optional σ)", source=path, location=f"line {i + 1}")


def _rates(header: str, y: np.ndarray, sigma: np.ndarray | None, metadata: dict[str, Any]
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """Count rates (the header says cps) to counts per step, or marked relative without a time."""
    match = _STEP_TIME.search(header)
    time = float(match.group(1)) * (1e-3 if (match.group(2) or "").lower() == "ms" else 1.0) if match else 0.0
    if time > 0:
        metadata["intensity"] = f"counts per step (count rate × {time:g} s step time from the header)"
        metadata["time_per_step_s"] = time
        return y * time, None if sigma is None else sigma * time
    metadata["intensity"] = "count rates [counts/s] as stored: the header gives no step time"
    if sigma is not None:
        return y, sigma
    metadata["sigma"] = ("relative: √(count rate), the counting time is not in the file; fitted values "
                         "hold, χ² and GOF do not")
    positive = y[y > 0]
    floor = float(positive.min()) if positive.size else 1.0
    return y, np.sqrt(np.maximum(y, floor))


class XyReader:
    """Two or three numeric columns: 2θ [deg], intensity [counts] and optionally σ [counts]."""

    name = "xrd-xy"
    extensions = (".xy", ".xye", ".xyd", ".csv", ".txt", ".dat")
    techniques = frozenset({"xrd"})
    description = "powder pattern as text columns: 2θ, intensity, optional σ (.xy/.xye/.csv)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if b"\x00" in head[:4096]:
            return False
        return looks_like_powder_scan(path, split_lines(decode(head)))

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``Pattern``; option ``strict`` (raise on a point with σ ≤ 0 instead of dropping it)."""
        opts = check_options(self.name, options, strict=False)
        path = Path(path)
        lines = split_lines(read_text(path))
        first = _first_data_line(lines, limit=len(lines))
        if first is None:
            raise InputError("no row of numbers: expected columns 2θ, intensity[, σ]", source=path)
        sep = detect_separator(lines[first])
        width = len(_fields(lines[first], sep))
        if width == 1:
            raise InputError("the file holds one column (2θ only?) and no intensities",
                             source=path, location=f"line {first + 1}")
        if width > 3:
            raise InputError(f"{width} columns where 2θ, intensity and an optional σ were "
                             "expected", source=path, location=f"line {first + 1}")
        _check_widths(path, lines, first, sep, width)
        decimal = detect_decimal(_fields(lines[first], sep), sep)
        names = ["2theta", "intensity", "sigma"][:width]
        table = parse_table(lines, first, names=names, sep=sep, decimal=decimal, source=path)
        missing = np.flatnonzero(~np.isfinite(table.values).all(axis=1))
        if missing.size:
            raise InputError(f"a row with fewer than {width} values", source=path,
                             location=f"line {table.lines[missing[0]]}")
        header = "\n".join(lines[:first])
        wavelength = wavelength_in_text(header)
        metadata: dict[str, Any] = {"format": self.name, "file": path.name,
                                    "intensity": "as stored, taken as counts per step"}
        if wavelength is not None:
            metadata["wavelength_from"] = "header"
        y = table.values[:, 1]
        sigma = table.values[:, 2] if width == 3 else None
        if _RATE.search(header):
            y, sigma = _rates(header, y, sigma, metadata)
        return [build_pattern(path, table.values[:, 0], y, sigma, lines=table.lines,
                              wavelengths=() if wavelength is None else ((wavelength, 1.0),),
                              metadata=metadata, strict=opts["strict"])]
