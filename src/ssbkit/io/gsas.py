"""GSAS powder data files (.gsa, .gsas, .xra, .fxye, .raw of GSAS): constant-wavelength banks.

Layout (GSAS manual, "GSAS Standard Powder Data File"): a title line; optionally
``Instrument parameter file: NAME`` as the second line; ``#`` comment lines; then per bank a
line ``BANK ibank nchan nrec BINTYP BCOEF1 BCOEF2 BCOEF3 BCOEF4 [TYPE]`` followed by its
records. For constant-wavelength data (BINTYP ``CONST`` or ``CONS``) BCOEF1 is the first 2θ
and BCOEF2 the step, both in centidegrees. TYPE says how the records hold the points:

- ``STD`` (the default when absent): 10 fields of 8 characters a line, each an I2 number of
  counters NCTR (blank = 1) and an F6 intensity; σ² = I / NCTR;
- ``ESD``: 5 pairs of F8 intensity and F8 standard error a line;
- ``FXY`` / ``FXYE``: one point a line, 2θ [centideg], intensity (and σ) in free format.

Only the first ``nchan`` values of STD/ESD records are points (the last record is padded
with zeros). GSAS gives points with I ≤ 0 (STD/ESD/FXY) or σ ≤ 0 zero weight: they are
"no data" and are dropped here, listed in ``metadata["dropped"]`` (``strict=True`` raises).
Time-of-flight (``RALF``, ``SLOG``, ``TIME_MAP``) and energy-dispersive banks are refused.

The file rarely states the wavelength (it lives in the instrument parameter file, read with
``ssbkit.io.xrd_instrument.read_instrument``); a comment line that gives one (11-BM's
``# Calibrated wavelength = 0.413909``) sets it, else the pattern has none. Comment lines
``key = value`` about the sample and the time per step fill the metadata; the title is kept
as ``metadata["title"]``. Written here rather than taken from GSAS-II because GSAS-II is not
installable from PyPI; its reader keeps nchan − 1 STD points, this one keeps nchan.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "p.gsa"
>>> _ = path.write_text("title\\nBANK 1 3 1 CONST 1000 2 0 0 STD\\n     179 3   147     165\\n")
>>> (p,) = GsasPowderReader().read(path)
>>> p.two_theta.tolist(), p.intensity.tolist(), p.sigma.round(2).tolist()
([10.0, 10.02, 10.04], [179.0, 147.0, 165.0], [13.38, 7.0, 12.85])
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import check_options
from ssbkit.io._text import decode, read_text, split_lines
from ssbkit.io.xrd_text import build_pattern, wavelength_in_text

__all__ = ["GsasPowderReader"]

_BANK = re.compile(r"^BANK\s+(\d+)\s+(\d+)\s+(\d+)\s+([A-Z_]+)\s*(.*)$")
_TYPES = ("FXYE", "FXY", "ESD", "STD", "ALT")
_CW = ("CONST", "CONS")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?")


def _bank_lines(lines: list[str], limit: int | None = None) -> list[int]:
    stop = len(lines) if limit is None else min(limit, len(lines))
    return [i for i in range(1, stop) if _BANK.match(lines[i])]


def _std_fields(line: str) -> list[tuple[int, float]] | None:
    """(NCTR, I) of a fixed-width STD line, or None when the line is not in that layout."""
    out = []
    text = line.rstrip()
    for i in range(0, len(text), 8):
        field = text[i:i + 8]
        if not field.strip():
            continue
        counters, value = field[:2].strip(), field[2:].strip()
        try:
            out.append((int(counters) if counters else 1, float(value)))
        except ValueError:
            return None
    return out


def _free_numbers(line: str, where: str, path: Path) -> list[float]:
    fields = line.split()
    try:
        return [float(f) for f in fields]
    except ValueError:
        bad = next(f for f in fields if not _NUMBER.fullmatch(f))
        raise InputError(f"{bad!r} is not a number", source=path, location=where) from None


class GsasPowderReader:
    """GSAS standard powder data: constant-wavelength banks in STD, ESD, FXY or FXYE records."""

    name = "gsas-powder"
    extensions = (".gsa", ".gsas", ".gss", ".xra", ".fxye", ".fxy", ".gda", ".raw")
    techniques = frozenset({"xrd"})
    description = "GSAS powder data (BANK … CONST, STD/ESD/FXYE records; .gsa/.xra/.fxye)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if b"\x00" in head[:4096]:
            return False
        lines = split_lines(decode(head[:16384]))
        return bool(_bank_lines(lines, limit=200))

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``Pattern`` per bank; option ``strict`` (raise on a point without weight)."""
        opts = check_options(self.name, options, strict=False)
        path = Path(path)
        lines = split_lines(read_text(path))
        banks = _bank_lines(lines)
        if not banks:
            raise InputError("no 'BANK ibank nchan nrec CONST start step …' line", source=path)
        common = self._header(lines, banks[0])
        patterns = []
        for k, start in enumerate(banks):
            stop = banks[k + 1] if k + 1 < len(banks) else len(lines)
            comments = [ln for ln in lines[start + 1:stop] if ln.startswith("#")]
            end = next((i for i in range(start + 1, stop) if lines[i].startswith("#")), stop)
            match = _BANK.match(lines[start])
            patterns.append(self._bank(path, lines, match, start, end, common, opts["strict"]))
            if comments:  # comments after a bank's records describe the next one
                common = {**common, **self._comments(comments)}
        return patterns

    def _header(self, lines: list[str], first_bank: int) -> dict[str, Any]:
        meta: dict[str, Any] = {"title": lines[0].strip()}
        if len(lines) > 1 and lines[1].lower().startswith("inst") and ":" in lines[1]:
            meta["instrument_file"] = lines[1].split(":", 1)[1].strip(" []")
        meta.update(self._comments([ln for ln in lines[1:first_bank] if ln.startswith("#")]))
        return meta

    @staticmethod
    def _comments(comments: list[str]) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for line in comments:
            wavelength = wavelength_in_text(line)
            if wavelength is not None:
                meta["wavelength_A"] = wavelength
            key, sep, value = line.lstrip("#").partition("=")
            key, value = key.strip().lower(), value.strip()
            if not sep or not value:
                continue
            if "sample" in key and "sample" not in meta:
                meta["sample"] = value
            elif "time per step" in key:
                try:
                    meta["time_per_step_s"] = float(value.split()[0])
                except ValueError:
                    pass
        return meta

    def _bank(self, path: Path, lines: list[str], match: Any, at: int, end: int,
              common: dict[str, Any], strict: bool) -> Any:
        where = f"line {at + 1}"
        ibank, nchan, bintyp = int(match[1]), int(match[2]), match[4]
        rest = match[5].split()
        kind = rest[-1] if rest and rest[-1] in _TYPES else "STD"
        coefficients = [float(c) for c in rest if _NUMBER.fullmatch(c)]
        if bintyp in ("RALF", "SLOG", "TIME_MAP") or "EDS" in bintyp:
            what = "energy-dispersive" if "EDS" in bintyp else "time-of-flight"
            raise InputError(f"bank {ibank} is {what} data ({bintyp}); only constant-wavelength "
                             "2θ banks (CONST) are read", source=path, location=where)
        if bintyp not in _CW:
            raise InputError(f"unknown BINTYP {bintyp!r}; expected CONST", source=path, location=where)
        if kind == "ALT":
            raise InputError("ALT records are time-of-flight data; only STD, ESD, FXY and FXYE "
                             "are read", source=path, location=where)
        if kind in ("STD", "ESD") and len(coefficients) < 2:
            raise InputError("a CONST bank needs the start and step (centidegrees)", source=path,
                             location=where)
        body = range(at + 1, end)
        if kind == "STD":
            x, y, sigma, rows, weightless = self._std(path, lines, body, nchan, coefficients)
        elif kind == "ESD":
            x, y, sigma, rows, weightless = self._esd(path, lines, body, nchan, coefficients)
        else:
            x, y, sigma, rows, weightless = self._fxy(path, lines, body, nchan, kind == "FXYE")
        meta: dict[str, Any] = {"format": self.name, "file": path.name, "bank": ibank,
                                "records": kind, **common,
                                "intensity": "as stored (counts per step for lab data)"}
        wavelength = meta.pop("wavelength_A", None)
        if coefficients and kind in ("STD", "ESD"):
            meta["step_deg"] = coefficients[1] / 100.0
        if weightless.any():
            dropped = [{"line": int(rows[i]), "reason": "no data: GSAS gives zero weight to "
                        f"I = {y[i]:g}" + ("" if sigma is None else f", σ = {sigma[i]:g}")}
                       for i in np.flatnonzero(weightless)]
            if strict:
                raise InputError(dropped[0]["reason"], source=path, location=f"line {dropped[0]['line']}")
            meta["dropped"] = dropped
            keep = ~weightless
            x, y, rows = x[keep], y[keep], rows[keep]
            sigma = None if sigma is None else sigma[keep]
        return build_pattern(path, x, y, sigma, lines=rows, metadata=meta, strict=strict,
                             wavelengths=() if wavelength is None else ((wavelength, 1.0),))

    @staticmethod
    def _grid(coefficients: list[float], n: int) -> np.ndarray:
        start, step = coefficients[0] / 100.0, coefficients[1] / 100.0
        return start + step * np.arange(n)

    def _std(self, path: Path, lines: list[str], body: range, nchan: int,
             coefficients: list[float]) -> tuple[np.ndarray, ...]:
        values: list[tuple[int, float]] = []
        rows: list[int] = []
        for i in body:
            if not lines[i].strip():
                continue
            fields = _std_fields(lines[i])
            if fields is None:  # not fixed-width: free-format intensities, one counter each
                fields = [(1, v) for v in _free_numbers(lines[i], f"line {i + 1}", path)]
            values += fields
            rows += [i + 1] * len(fields)
            if len(values) >= nchan:
                break
        self._check_count(path, len(values), nchan, body)
        counters = np.array([c for c, _ in values[:nchan]], dtype=float)
        y = np.array([v for _, v in values[:nchan]])
        if (counters < 1).any():
            i = int(np.flatnonzero(counters < 1)[0])
            raise InputError(f"number of counters {counters[i]:g} is not ≥ 1", source=path,
                             location=f"line {rows[i]}")
        sigma = np.sqrt(np.maximum(y, 0.0) / counters) if (counters > 1).any() else None
        return (self._grid(coefficients, nchan), y, sigma, np.array(rows[:nchan]), y <= 0)

    def _esd(self, path: Path, lines: list[str], body: range, nchan: int,
             coefficients: list[float]) -> tuple[np.ndarray, ...]:
        pairs: list[float] = []
        rows: list[int] = []
        for i in body:
            text = lines[i].rstrip()
            if not text.strip():
                continue
            try:
                numbers = [float(text[j:j + 8]) for j in range(0, len(text), 8) if text[j:j + 8].strip()]
            except ValueError:
                numbers = _free_numbers(text, f"line {i + 1}", path)
            if len(numbers) % 2:
                raise InputError("ESD records hold (intensity, σ) pairs; this line has an odd "
                                 "count of values", source=path, location=f"line {i + 1}")
            pairs += numbers
            rows += [i + 1] * (len(numbers) // 2)
            if len(rows) >= nchan:
                break
        self._check_count(path, len(rows), nchan, body)
        y, sigma = np.array(pairs[0:2 * nchan:2]), np.array(pairs[1:2 * nchan:2])
        return (self._grid(coefficients, nchan), y, sigma, np.array(rows[:nchan]),
                (y <= 0) | (sigma <= 0))

    def _fxy(self, path: Path, lines: list[str], body: range, nchan: int,
             with_sigma: bool) -> tuple[np.ndarray, ...]:
        width = 3 if with_sigma else 2
        points: list[list[float]] = []
        rows: list[int] = []
        for i in body:
            if not lines[i].strip():
                continue
            numbers = _free_numbers(lines[i], f"line {i + 1}", path)
            if len(numbers) < width:
                raise InputError(f"{len(numbers)} values where {'2θ, I, σ' if with_sigma else '2θ, I'} "
                                 "were expected", source=path, location=f"line {i + 1}")
            points.append(numbers[:width])
            rows.append(i + 1)
        # 11-BM's files hold one row more than nchan announces: read every row, refuse fewer
        self._check_count(path, len(points), nchan, body)
        table = np.array(points)
        x, y = table[:, 0] / 100.0, table[:, 1]
        sigma = table[:, 2] if with_sigma else None
        weightless = (y <= 0) if sigma is None else (y <= 0) | (sigma <= 0)
        return x, y, sigma, np.array(rows), weightless

    @staticmethod
    def _check_count(path: Path, found: int, nchan: int, body: range) -> None:
        if found < nchan:
            raise InputError(f"the bank announces {nchan} points but holds {found}: truncated",
                             source=path, location=f"line {body.start}")
