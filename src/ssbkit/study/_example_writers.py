"""Instrument-format writers for the bundled example study (``ssbkit.study.example``).

Each writer lays simulated data out the way the instrument's software exports it, in the
layout the matching ``ssbkit.io`` reader documents, so that the example study exercises the
same reading path as measured files:

- ``write_squidstat_eis`` / ``write_squidstat_dc``: Admiral Squidstat CSV exports (the
  argyrodite study's potentiostat): a header row, then one row per point of every step
  (``Timestamp``, ``Elapsed Time (s)``, ``Step Name``, ``Step number``, ``Repeats``,
  ``Working Electrode (V)``, ``Current (A)``, and on impedance rows ``Frequency (Hz)``,
  ``|Z| (Ohms)``, ``Phase (deg)``, ``Z' (Ohms)``, ``-Z" (Ohms)``); a looped EIS step writes
  its sweeps as repeats 1, 2, ...; −Z'' is written, as Squidstat does.
- ``write_neware_csv``: a Neware BTSDA CSV export (``DataPoint, Cycle Index, Step Index, Step
  Type, Time, Cumulative Time, Current(mA), Voltage(V), ... Date``), the export with its
  units chosen as mA/mAh/mWh (BTSDA lets the user pick them), clocks as ``h:mm:ss.mmm``,
  dates without a zone.
- ``write_pressure_csv``: a load-cell logger's table, ISO time stamps and ``pressure [MPa]``.
- ``write_xy``: a powder scan as ``2θ counts σ`` columns under ``#`` comment lines.
- ``write_buildup_csv``: an EXSY build-up table (``mixing_time [s]``, ``intensity``,
  ``temperature [K]``), the layout ``ssbkit.nmr.buildup.read_buildup_table`` reads.
- ``write_manifest``: the study's ``study.toml``. The standard library reads TOML but does not
  write it, and the manifest needs only strings, numbers, booleans, lists and small tables, so
  a few lines here write it rather than a dependency.

Numbers are written with fixed formats, so the same data give byte-identical files; the
digits kept are at least what the instruments log (Neware: 0.1 mV, 1 ms, 1 nAh), so that
reading a file back gives the simulated values to that resolution.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_buildup_csv", "write_manifest", "write_neware_csv", "write_pressure_csv",
           "write_squidstat_dc", "write_squidstat_eis", "write_xy"]

_SQUIDSTAT_HEADER = ["Timestamp", "Elapsed Time (s)", "Step Name", "Step number", "Repeats",
                     "Working Electrode (V)", "Current (A)", "Frequency (Hz)", "|Z| (Ohms)",
                     "Phase (deg)", "Z' (Ohms)", '-Z" (Ohms)', "Cumulative Charge (mAh)"]


def _stamp(unix_s: float, *, sep: str = " ", milliseconds: bool = False) -> str:
    moment = datetime.fromtimestamp(round(unix_s, 3), UTC)
    text = moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    return text + f".{moment.microsecond // 1000:03d}" if milliseconds else text


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _ocv_rows(start_unix_s: float, voltage_v: float, points: int, step: int) -> tuple[list[list[str]], float]:
    """A short open-circuit step, as a Squidstat sequence usually opens: ``points`` rows 1 s apart."""
    rows = []
    for k in range(points):
        rows.append([_stamp(start_unix_s + k), f"{float(k):.3f}", "Open Circuit Potential", str(step), "1",
                     f"{voltage_v:.6f}", f"{0.0:.6E}", "", "", "", "", "", f"{0.0:.6E}"])
    return rows, float(points)


def write_squidstat_eis(path: Path, sweeps: Sequence[Any], *, start_unix_s: float,
                        dc_potentials_v: Sequence[float] | None = None,
                        sweep_starts_s: Sequence[float] | None = None, ocv_points: int = 5) -> Path:
    """Impedance sweeps (``ssbkit.eis.Spectrum``) as one Squidstat export: an open-circuit
    step, then one EIS step looped ``len(sweeps)`` times (``Repeats`` 1, 2, ...).

    Each frequency point takes two periods or 0.5 s, whichever is longer. A repeat starts
    when the one before ends, or at its ``sweep_starts_s`` [s after the start] where that is
    later (sweeps spread over a charge); ``dc_potentials_v`` is the cell's voltage during each
    sweep (default 0 V, a pellet between blocking electrodes).
    """
    potentials = [0.0] * len(sweeps) if dc_potentials_v is None else [float(v) for v in dc_potentials_v]
    starts = [0.0] * len(sweeps) if sweep_starts_s is None else [float(t) for t in sweep_starts_s]
    rows, elapsed = _ocv_rows(start_unix_s, potentials[0] if potentials else 0.0, ocv_points, 1)
    for repeat, (spectrum, potential, begin) in enumerate(zip(sweeps, potentials, starts, strict=True),
                                                          start=1):
        elapsed = max(elapsed, begin)
        for f, z in zip(spectrum.frequency, spectrum.impedance, strict=True):
            elapsed += max(2.0 / float(f), 0.5)
            rows.append([_stamp(start_unix_s + elapsed), f"{elapsed:.3f}", "Potentiostatic EIS", "2",
                         str(repeat), f"{potential:.6f}", f"{0.0:.6E}", f"{f:.6E}", f"{abs(z):.7E}",
                         f"{math.degrees(math.atan2(z.imag, z.real)):.5f}", f"{z.real:.7E}",
                         f"{-z.imag:.7E}", f"{0.0:.6E}"])
    path.write_text(_csv_text(_SQUIDSTAT_HEADER, rows), encoding="utf-8")
    return path


def write_squidstat_dc(path: Path, record: Any, *, start_unix_s: float, ocv_points: int = 0,
                       voltage_tolerance_v: float = 1e-9) -> Path:
    """A DC polarisation record (``ssbkit.eis.Chronoamperometry``) as a Squidstat export: one
    ``Constant Potential`` step per voltage level (steps 2, 3, ...), with the cumulative charge
    passed; ``ocv_points`` > 0 writes an open-circuit step first (off by default: its zero
    current would be one more point on the I–V line)."""
    rows, offset = _ocv_rows(start_unix_s, 0.0, ocv_points, 1)
    time = np.asarray(record.time, float)
    current = np.asarray(record.current, float)
    voltage = np.asarray(record.voltage, float)
    step = 2 + np.concatenate([[0], np.cumsum(np.abs(np.diff(voltage)) > voltage_tolerance_v)])
    charge_mah = np.concatenate([[0.0], np.cumsum(0.5 * (current[1:] + current[:-1]) * np.diff(time))]) / 3.6
    for t, i, v, s, q in zip(time, current, voltage, step, charge_mah, strict=True):
        elapsed = offset + float(t)
        rows.append([_stamp(start_unix_s + elapsed), f"{elapsed:.3f}", "Constant Potential", str(int(s)), "1",
                     f"{v:.6f}", f"{i:.6E}", "", "", "", "", "", f"{q:.6E}"])
    path.write_text(_csv_text(_SQUIDSTAT_HEADER, rows), encoding="utf-8")
    return path


def _clock(seconds: np.ndarray) -> list[str]:
    """Durations as Neware writes them, ``h:mm:ss.mmm`` (hours unbounded)."""
    ms = np.round(np.asarray(seconds, float) * 1000.0).astype(np.int64)
    hours, rest = np.divmod(ms, 3_600_000)
    minutes, rest = np.divmod(rest, 60_000)
    secs, millis = np.divmod(rest, 1000)
    return [f"{h:02d}:{m:02d}:{s:02d}.{x:03d}"
            for h, m, s, x in zip(hours, minutes, secs, millis, strict=True)]


_NEWARE_STEP_NAMES = {"CC_Chg": "CC Chg", "CC_DChg": "CC DChg", "CV_Chg": "CV Chg", "Rest": "Rest"}


def write_neware_csv(path: Path, record: Any, *, active_mass_mg: float) -> Path:
    """A cycling record (BDF columns, as ``ssbkit.cycling.simulate_cycling`` gives) as a Neware
    BTSDA CSV export with capacities in mAh and the specific ones in mAh/g."""
    from ssbkit.cycling.data import (
        CHARGE_CAPACITY,
        CHARGE_ENERGY,
        CURRENT,
        CYCLE,
        DISCHARGE_CAPACITY,
        DISCHARGE_ENERGY,
        STEP_INDEX,
        STEP_TIME,
        STEP_TYPE,
        TIME,
        UNIX_TIME,
        VOLTAGE,
    )

    c = record.columns
    grams = active_mass_mg / 1000.0
    charge = np.asarray(c[CHARGE_CAPACITY], float) * 1e3  # mAh
    discharge = np.asarray(c[DISCHARGE_CAPACITY], float) * 1e3
    charge_e = np.asarray(c[CHARGE_ENERGY], float) * 1e3  # mWh
    discharge_e = np.asarray(c[DISCHARGE_ENERGY], float) * 1e3
    current = np.asarray(c[CURRENT], float) * 1e3  # mA
    voltage = np.asarray(c[VOLTAGE], float)
    capacity, energy = charge + discharge, charge_e + discharge_e
    step_time, total = _clock(c[STEP_TIME]), _clock(c[TIME])
    dates = [_stamp(u) for u in np.floor(np.asarray(c[UNIX_TIME], float))]
    names = [_NEWARE_STEP_NAMES[str(s)] for s in c[STEP_TYPE]]
    header = ["DataPoint", "Cycle Index", "Step Index", "Step Type", "Time", "Cumulative Time",
              "Current(mA)", "Voltage(V)", "Capacity(mAh)", "Spec. Cap.(mAh/g)", "Chg. Cap.(mAh)",
              "DChg. Cap.(mAh)", "Energy(mWh)", "Chg. Energy(mWh)", "DChg. Energy(mWh)", "Date",
              "Power(mW)"]
    lines = [",".join(header)]
    for k in range(voltage.size):
        lines.append(
            f"{k + 1},{int(c[CYCLE][k])},{int(c[STEP_INDEX][k])},{names[k]},{step_time[k]},{total[k]},"
            f"{current[k]:.6f},{voltage[k]:.4f},{capacity[k]:.6f},{capacity[k] / grams:.3f},"
            f"{charge[k]:.6f},{discharge[k]:.6f},{energy[k]:.6f},{charge_e[k]:.6f},"
            f"{discharge_e[k]:.6f},{dates[k]},{current[k] * voltage[k]:.6f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_pressure_csv(path: Path, log: Any) -> Path:
    """A stack-pressure log (``ssbkit.pressure.PressureLog``): ISO time stamps and MPa."""
    lines = ["timestamp,pressure [MPa]"]
    lines += [f"{_stamp(t, sep='T')},{p:.4f}" for t, p in zip(log.unix_time, log.pressure, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xy(path: Path, pattern: Any, *, comments: Sequence[str]) -> Path:
    """A powder pattern as ``2θ counts σ`` columns under ``#`` comment lines."""
    lines = [f"# {line}" for line in comments]
    lines.append("# 2theta [deg]  counts  sigma [counts]")
    lines += [f"{x:.4f} {y:.0f} {s:.4f}"
              for x, y, s in zip(pattern.two_theta, pattern.intensity, pattern.sigma, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_buildup_csv(path: Path, table: Any) -> Path:
    """An EXSY build-up table (``ssbkit.nmr.simulate.simulate_buildup``) with fixed decimals."""
    lines = ["mixing_time [s],intensity,temperature [K]"]
    lines += [f"{t:.6g},{y:.6f},{temperature:.2f}" for t, y, temperature in
              zip(table["mixing_time [s]"], table["intensity"], table["temperature [K]"], strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the manifest -----------------------------------------------------------------------------

_SUB_TABLES = ("milling", "sintering")  # written as [samples.milling]; other tables inline
_SECTION_NOTES = {
    "materials": "what the samples are made of",
    "samples": "powders: the 3 × 3 milling grid (FRB × BMR), the Nat. Commun. powders and the EXSY mixture",
    "pellets": "pressed pellets; the low-conductivity ones fit a bulk arc (their own circuit)",
    "cells": "Li2TiS3 | argyrodite | Li–In cells",
    "measurements": "raw files: impedance, DC polarisation, XRD, cycling, pressure, EXSY",
    "headline": "the studies' numbers that the analyses must give back from the raw files",
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise ValueError(f"TOML has no {value!r} here")
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key} = {_toml_value(v)}" for key, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def write_manifest(path: Path, *, header: str, study: Mapping[str, Any],
                   tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> Path:
    """``study.toml``: ``header`` comment lines, ``[study]``, ``[settings.<kind>]`` (from
    ``study["settings"]``) and one ``[[name]]`` entry per row of each of ``tables``."""
    lines = [header.rstrip("\n"), "", "[study]"]
    lines += [f"{key} = {_toml_value(v)}" for key, v in study.items() if key != "settings"]
    for kind, settings in study.get("settings", {}).items():
        lines += ["", f"[settings.{kind}]"] + [f"{key} = {_toml_value(v)}" for key, v in settings.items()]
    for name, rows in tables.items():
        lines += ["", f"# --- {name}: {_SECTION_NOTES.get(name, '')}".rstrip(": ")]
        for row in rows:
            lines += ["", f"[[{name}]]"]
            lines += [f"{key} = {_toml_value(v)}" for key, v in row.items() if key not in _SUB_TABLES]
            for key in _SUB_TABLES:
                if key in row:
                    lines += [f"[{name}.{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in row[key].items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
