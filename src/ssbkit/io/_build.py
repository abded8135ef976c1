"""From parsed columns to ``Spectrum`` and ``Chronoamperometry`` containers.

Shared by every reader, so that all formats treat sweeps, bad points and metadata alike.

Sweeps. A file can hold several frequency sweeps: rows are first grouped by a cycle or
repeat column where the file has one (consecutive runs of the same value), and each group
is split where the frequency turns back (a sweep from 10 kHz down to 1 Hz followed by
another from 10 kHz starts a new spectrum at the jump). ``split_sweeps=False`` keeps each
group whole.

Bad points. ``Spectrum`` holds finite values at unique positive frequencies only, so a row
whose frequency is missing, NaN, ≤ 0 or repeats an earlier one in the same sweep, or whose
impedance is not finite, cannot be kept, even masked. Such rows are dropped and listed in
``metadata["dropped"]`` as ``{"line": n, "reason": ...}``, so that nothing disappears
silently; ``strict=True`` raises an ``InputError`` naming the first such line instead.
DC records drop rows whose time does not increase, under the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._columns import ColumnMap

if TYPE_CHECKING:  # imported where used: a cycler file needs none of the impedance package
    from ssbkit.eis.data import Chronoamperometry, Spectrum

__all__ = [
    "build_records",
    "build_spectra",
    "check_options",
    "containers_from_columns",
    "runs",
    "split_sweeps",
    "temperature_from_name",
]


def check_options(reader: str, options: Mapping[str, Any], **defaults: Any) -> dict[str, Any]:
    """``defaults`` updated by ``options``; an option the reader does not take is an InputError."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise InputError(f"the {reader} reader takes no option {', '.join(map(repr, unknown))}; "
                         f"it takes {', '.join(sorted(defaults)) or 'none'}", source="options")
    merged = {**defaults, **options}
    for flag in ("strict", "split_sweeps"):
        if flag in merged and not isinstance(merged[flag], bool):
            raise InputError(f"must be True or False, got {merged[flag]!r}", source=flag)
    return merged


def runs(groups: Mapping[str, np.ndarray] | None, n: int) -> list[np.ndarray]:
    """Index arrays of consecutive rows whose group keys (step, cycle, …) are all the same."""
    if not groups or n == 0:
        return [np.arange(n)]
    change = np.zeros(max(n - 1, 0), bool)
    for keys in groups.values():
        keys = np.asarray(keys, dtype=float)
        same = (keys[1:] == keys[:-1]) | (np.isnan(keys[1:]) & np.isnan(keys[:-1]))
        change |= ~same
    starts = np.concatenate([[0], np.flatnonzero(change) + 1, [n]])
    return [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:], strict=True)]


def _group_values(groups: Mapping[str, np.ndarray] | None, row: int,
                  labels: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, keys in (groups or {}).items():
        value = float(keys[row])
        if np.isfinite(value):
            out[name] = int(value) if value.is_integer() else value
    for name, texts in (labels or {}).items():
        text = texts[row]
        if isinstance(text, str) and text.strip():
            out[name] = text.strip()
    return out


def split_sweeps(frequency: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Split ``rows`` where the frequency turns back against the sweep's direction.

    Rows with an unusable frequency stay with the sweep they sit in. Each sweep's
    direction is that of its first change of frequency; repeated values do not split.
    """
    f = frequency[rows]
    usable = np.flatnonzero(np.isfinite(f) & (f > 0))
    if usable.size < 3:
        return [rows]
    step = np.sign(np.diff(f[usable]))
    up, down = np.flatnonzero(step > 0), np.flatnonzero(step < 0)

    def first_at_or_after(indices: np.ndarray, k: int) -> int:
        at = np.searchsorted(indices, k)
        return int(indices[at]) if at < indices.size else step.size

    starts, position = [0], 0
    while True:
        # the first real move from here sets the direction; the next opposite move ends it
        next_up, next_down = first_at_or_after(up, position), first_at_or_after(down, position)
        first_move = min(next_up, next_down)
        turn = first_at_or_after(down if next_up < next_down else up, first_move)
        if first_move >= step.size or turn >= step.size:
            break
        position = turn + 1
        starts.append(int(usable[position]))
    bounds = starts + [rows.size]
    return [rows[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _problems(f: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Mask of rows to keep and, for the others, why not."""
    reasons: list[str | None] = [None] * f.size
    keep = np.ones(f.size, bool)
    for i in np.flatnonzero(~np.isfinite(f)):
        keep[i], reasons[i] = False, "frequency is missing or not a number"
    for i in np.flatnonzero(np.isfinite(f) & (f <= 0)):
        keep[i], reasons[i] = False, f"frequency {f[i]:g} Hz is not > 0"
    for i in np.flatnonzero(keep & ~np.isfinite(z)):
        keep[i], reasons[i] = False, "impedance is missing or not a number"
    candidates = np.flatnonzero(keep)
    _, first = np.unique(f[candidates], return_index=True)
    repeated = np.setdiff1d(np.arange(candidates.size), first)
    for k in repeated:
        i = candidates[k]
        keep[i], reasons[i] = False, f"frequency {f[i]:g} Hz repeats an earlier point"
    return keep, reasons


def build_spectra(
    path: Path,
    frequency: np.ndarray,
    impedance: np.ndarray,
    lines: np.ndarray,
    *,
    metadata: Mapping[str, Any],
    groups: Mapping[str, np.ndarray] | None = None,
    labels: Mapping[str, np.ndarray] | None = None,
    extra: Mapping[str, np.ndarray | None] | None = None,
    split: bool = True,
    strict: bool = False,
    row_label: str = "line",
) -> list[Spectrum]:
    """Spectra from per-row arrays (frequency [Hz], impedance [Ohm], 1-based line numbers).

    ``groups`` (step, cycle or repeat numbers per row) separate measurements; ``extra`` holds
    optional per-row ``time`` [s], ``voltage`` [V] and ``temperature`` [K], summarised into
    each spectrum's metadata (time span, mean DC voltage, mean temperature); ``labels``
    are text per row (a step name) copied into the metadata of the run they start.
    """
    frequency = np.asarray(frequency, dtype=float)
    impedance = np.asarray(impedance, dtype=complex)
    extra = {k: v for k, v in (extra or {}).items() if v is not None}
    from ssbkit.eis.data import Spectrum

    spectra: list[Spectrum] = []
    first_problem: tuple[int, str] | None = None
    for run in runs(groups, frequency.size):
        for rows in (split_sweeps(frequency, run) if split else [run]):
            keep, reasons = _problems(frequency[rows], impedance[rows])
            dropped = [{"line": int(lines[rows[i]]), "reason": reasons[i]}
                       for i in np.flatnonzero(~keep)]
            if dropped and (first_problem is None or dropped[0]["line"] < first_problem[0]):
                first_problem = (dropped[0]["line"], dropped[0]["reason"])
            if strict and dropped:
                raise InputError(dropped[0]["reason"], source=path,
                                 location=f"{row_label} {dropped[0]['line']}")
            used = rows[keep]
            if used.size == 0:
                continue
            meta = dict(metadata)
            meta["sweep"] = len(spectra)
            meta[f"first_{row_label}"] = int(lines[rows[0]])
            meta[f"last_{row_label}"] = int(lines[rows[-1]])
            meta.update(_group_values(groups, rows[0], labels))
            meta.update(_summaries(extra, used))
            if dropped:
                meta["dropped"] = dropped
            spectra.append(Spectrum(frequency[used], impedance[used], metadata=meta,
                                    source=str(path)))
    if not spectra:
        detail = (f"; first problem at {row_label} {first_problem[0]}: {first_problem[1]}"
                  if first_problem else "")
        raise InputError(f"no usable impedance points{detail}", source=path)
    return spectra


def _summaries(extra: Mapping[str, np.ndarray], used: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    time = extra.get("time")
    if time is not None and np.isfinite(time[used]).any():
        out["time_s"] = [float(np.nanmin(time[used])), float(np.nanmax(time[used]))]
    voltage = extra.get("voltage")
    if voltage is not None and np.isfinite(voltage[used]).any():
        out["mean_voltage_V"] = float(np.nanmean(voltage[used]))
    temperature = extra.get("temperature")
    if temperature is not None and np.isfinite(temperature[used]).any():
        out["temperature_K"] = float(np.nanmean(temperature[used]))
    return out


def build_records(
    path: Path,
    time: np.ndarray,
    current: np.ndarray,
    voltage: np.ndarray,
    lines: np.ndarray,
    *,
    metadata: Mapping[str, Any],
    groups: Mapping[str, np.ndarray] | None = None,
    labels: Mapping[str, np.ndarray] | None = None,
    strict: bool = False,
) -> list[Chronoamperometry]:
    """DC records (time [s], current [A], voltage [V]), one per run of ``groups``."""
    from ssbkit.eis.data import Chronoamperometry

    records: list[Chronoamperometry] = []
    for rows in runs(groups, np.asarray(time).size):
        t, i, v = time[rows], current[rows], voltage[rows]
        finite = np.isfinite(t) & np.isfinite(i) & np.isfinite(v)
        kept_t = np.where(finite, t, -np.inf)
        before = np.concatenate([[-np.inf], np.maximum.accumulate(kept_t)[:-1]])
        increasing = t > before
        keep = finite & increasing
        dropped = [{"line": int(lines[rows[k]]),
                    "reason": "a value is missing or not a number" if not finite[k]
                    else f"time {t[k]:g} s does not increase"} for k in np.flatnonzero(~keep)]
        if strict and dropped:
            raise InputError(dropped[0]["reason"], source=path,
                             location=f"line {dropped[0]['line']}")
        if keep.sum() < 2:
            continue
        meta = dict(metadata)
        meta["record"] = len(records)
        meta["first_line"], meta["last_line"] = int(lines[rows[0]]), int(lines[rows[-1]])
        meta.update(_group_values(groups, rows[0], labels))
        if dropped:
            meta["dropped"] = dropped
        records.append(Chronoamperometry(t[keep], i[keep], v[keep], metadata=meta,
                                         source=str(path)))
    return records


_TEMPERATURE_IN_NAME = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:deg\s*C|degC|deg|°C|C)"
                                  r"(?![A-Za-z])")


def temperature_from_name(name: str) -> float | None:
    """Temperature [K] from a file name that says ``140deg``, ``140degC``, ``140C`` (°C).

    >>> temperature_from_name("s04147-140deg.txt")
    413.15
    >>> temperature_from_name("LIB_data.txt") is None
    True
    """
    stem = Path(name).stem
    match = _TEMPERATURE_IN_NAME.search(stem)
    return None if match is None else round(float(match[1]) + 273.15, 10)


def containers_from_columns(
    path: Path,
    values: np.ndarray,
    lines: np.ndarray,
    columns: ColumnMap,
    *,
    metadata: Mapping[str, Any],
    split: bool = True,
    strict: bool = False,
    dc_records: bool = True,
    row_label: str = "line",
    labels: Mapping[str, np.ndarray] | None = None,
) -> list[Any]:
    """Spectra (and DC records) from a table whose columns ``map_columns`` has classified.

    Rows without an impedance point (no frequency, or frequency 0 with Z' = Z'' = 0, as
    Parstat and Squidstat write the DC steps of a sequence) become DC records when the
    table has time, voltage and current columns and ``dc_records`` is True; otherwise the
    bad-point rules of ``build_spectra`` apply to them.
    """
    groups = {name: columns.get(values, name) for name in ("step", "cycle") if name in columns}
    extra = {name: columns.get(values, name) for name in ("time", "voltage", "temperature")}
    has_dc = all(name in columns for name in ("time", "voltage", "current"))
    out: list[Any] = []
    spectrum_rows = np.ones(len(values), bool)
    if columns.has_impedance():
        frequency = columns.get(values, "frequency")
        impedance = columns.impedance(values)
        if has_dc and dc_records:
            absent = ~np.isfinite(frequency) | (frequency == 0)
            no_z = ~np.isfinite(impedance) | (impedance == 0)
            spectrum_rows = ~(absent & no_z)
            # a lone such row cannot make a DC record: it stays a (bad) impedance point,
            # so that it is listed under "dropped" rather than lost
            for run in runs({**groups, "dc": (~spectrum_rows).astype(float)}, len(values)):
                if not spectrum_rows[run[0]] and run.size < 2:
                    spectrum_rows[run] = True
        rows = np.flatnonzero(spectrum_rows)
        if rows.size:
            out += build_spectra(
                path, frequency[rows], impedance[rows], lines[rows], metadata=metadata,
                groups={k: v[rows] for k, v in groups.items()},
                labels={k: v[rows] for k, v in (labels or {}).items()},
                extra={k: (None if v is None else v[rows]) for k, v in extra.items()},
                split=split, strict=strict, row_label=row_label)
    elif not (has_dc and dc_records):
        found = ", ".join(repr(c.header) for c in columns.columns if c.header) or "none"
        raise InputError("no impedance columns: expected a frequency and Z', Z'' (or |Z| and "
                         f"phase); columns found: {found}", source=path)
    else:
        spectrum_rows[:] = False
    dc_rows = np.flatnonzero(~spectrum_rows)
    if dc_rows.size and has_dc and dc_records:
        out += build_records(
            path, columns.get(values, "time")[dc_rows], columns.get(values, "current")[dc_rows],
            columns.get(values, "voltage")[dc_rows], lines[dc_rows],
            metadata={**metadata, "technique": metadata.get("technique", "DC")},
            groups={k: v[dc_rows] for k, v in groups.items()},
            labels={k: v[dc_rows] for k, v in (labels or {}).items()}, strict=strict)
    return out
