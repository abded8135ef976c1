"""The cell analyses of a study: long-term cycling, rate capability and stack pressure.

Each kind reads its files with ``ssbkit.io`` and hands them to the technique functions the
``ssbkit cycling`` and ``ssbkit pressure`` commands call (``summarize_cycles``, ``dqdv``,
``rate_capability``, ``analyze_pressure``); this module only chooses their arguments from
the manifest, turns their results into the study's JSON-safe dict (``kinds.RESULT_KEYS``)
and draws that dict with the technique plot modules.

**Active mass** comes from the cell's manifest entry (``task.context``), in this order:
``active_mass_mg``; ``composite_mass_mg`` × ``active_fraction``; ``loading_mg_cm2`` ×
``area_cm2`` (the manifest's loading is of active material). With none of them the mass the
cycler stored in the file is used (said in the message), and with no mass at all the
specific (mAh/g) keys are left out and the message says why; the ``*_mah`` keys and the
tables keep the capacities in mAh. ``theoretical_capacity_mAh_g`` × the active mass defines
1 C for the rate table.

**Cycling** (``convention`` charge-first by default: the Li2TiS3 cells start with a charge,
so a cycle is a charge and the discharge after it and CE = discharge / charge). The summary
quantities refer to *complete* cycles (both halves, not cut short): ``first_cycle_ce``,
``first_discharge_capacity`` and ``polarisation_first`` of the first one, ``final_cycle``
and ``polarisation_last`` of the last one, ``retention_vs_peak`` = 100 × Q_dis(last) /
Q_dis(peak), where the peak cycle has the largest discharge capacity, and
``cycles_to_80`` the first cycle after the peak below 80 % of it (None if none).
Polarisation is the mean charge voltage minus the mean discharge voltage (∫V dQ / Q).
dQ/dV is computed for a few cycles (default: the first complete cycle, the one 10 % of the
way to the last, and the last); the voltage profiles drawn are the integral of the same
binned charge, Q(V), with the constant-voltage charge added at the cut-off, so a profile
is a few hundred points however densely the cycler logged.

**Rate**: blocks of cycles at one current (``rate_capability``); ``capacity_<rate>C`` is
the mean specific discharge capacity of the first block at that rate (rate written
``%g`` after rounding to three significant digits), with the standard error of that mean;
``recovery`` is the last block that returns to an earlier rate, as a percentage of that
earlier block's capacity.

**Pressure**: the log (``task.inputs[0]``) on the cycling record
(``task.extra["cycling"]``), shifted by ``offset_s``; growth per cycle [%] of the initial
pressure from the baseline at the start of each complete cycle (``analyze_pressure``).

Series are cut to at most ``max_points`` points per curve: smooth curves by even thinning,
the voltage and pressure traces by keeping the lowest and highest point of each of
``max_points / 2`` consecutive stretches, so the envelope of hundreds of cycles survives.

>>> [kind.name for kind in KINDS]
['cycling', 'rate', 'pressure']
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import to_json_safe
from ssbkit.core.validate import finite, non_negative, one_of, positive, positive_int
from ssbkit.study.kinds import AnalysisKind, AnalysisTask, FigureSpec, TaskInput

__all__ = ["KINDS", "cell_active_mass", "run_cycling", "run_pressure", "run_rate"]

_CONVENTIONS = ("charge-first", "discharge-first", "native")
_REFERENCES = ("Li-In", "Li")

CYCLING_DEFAULTS: dict[str, Any] = {
    "convention": "charge-first",
    "reference": None,  # "Li-In": voltages vs Li/Li+ (+0.62 V); None: as measured
    "dqdv_cycles": [],  # empty: first complete cycle, 10 % of the way, last complete cycle
    "bin_width_mv": 5.0,
    "smooth_width_mv": 10.0,
    "peak_prominence": 0.05,
    "max_points": 400,
}
RATE_DEFAULTS: dict[str, Any] = {
    "convention": "charge-first",
    "by": "discharge",
    "tolerance": 0.1,
    "nominal_capacity_mah": None,  # defines 1 C instead of the cell's theoretical capacity
}
PRESSURE_DEFAULTS: dict[str, Any] = {
    "offset_s": 0.0,  # added to the log's times (its clock behind the cycler's: > 0)
    "convention": "charge-first",
    "baseline": "start",
    "area_cm2": None,  # for a force log; default: the cell's area_cm2
    "start_time": None,  # ISO start of a log of elapsed seconds that names none
    "unit": None,  # unit of a pressure or force column whose name carries none
    "max_points": 400,
}


# -- shared plumbing ------------------------------------------------------------------------------

def _settings(task: AnalysisTask, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The kind's settings: the task's over the defaults (keys of other kinds ignored)."""
    return {key: task.settings.get(key, value) for key, value in defaults.items()}


def _where(kind: str, key: str) -> str:
    return f"[settings.{kind}] {key}"


def _optional(kind: str, key: str, value: Any) -> float | None:
    return None if value is None else positive(_where(kind, key), value)


def _named(exc: InputError, source: TaskInput, renames: Mapping[str, str] | None = None) -> InputError:
    """``exc`` restated so that it names the file as the manifest wrote it (and, through
    ``renames``, a technique argument by the setting that gave it)."""
    detail = exc.detail.replace(source.path, source.name)
    if exc.source and exc.source not in (source.path, source.name):
        where = (renames or {}).get(exc.source, exc.source.replace(source.path, source.name))
        detail = f"{where}: {detail}"
    return InputError(detail, source=source.name, location=exc.location)


def _only_input(task: AnalysisTask) -> TaskInput:
    if len(task.inputs) != 1:
        raise InputError(f"expects one input file, got {len(task.inputs)}", source=task.id)
    return task.inputs[0]


def _read_record(source: TaskInput, notes: list[str]) -> Any:
    """The cycling record of ``source``, its messages naming the manifest's name."""
    from ssbkit.io import read_cycling

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            record = read_cycling(source.path)
        except InputError as exc:
            raise _named(exc, source) from None
    notes += [f"{source.name}: {w.message}" for w in caught]
    return dataclasses.replace(record, source=source.name,
                               metadata={**record.metadata, "file": source.name})


def cell_active_mass(context: Mapping[str, Any]) -> tuple[float | None, str]:
    """The active mass [mg] of a cell from its manifest fields, and how it was found.

    >>> cell_active_mass({"composite_mass_mg": 10.0, "active_fraction": 0.6})
    (6.0, 'composite_mass_mg × active_fraction = 10 mg × 0.6')
    >>> cell_active_mass({"area_cm2": 0.785})[0] is None
    True
    """
    from ssbkit.cycling.summary import active_mass

    if context.get("active_mass_mg") is not None:
        mass = active_mass(active_mass_mg=context["active_mass_mg"])
        return mass, f"active_mass_mg = {mass:g} mg"
    composite, share = context.get("composite_mass_mg"), context.get("active_fraction")
    if composite is not None and share is not None:
        return (active_mass(composite_mass_mg=composite, active_fraction=share),
                f"composite_mass_mg × active_fraction = {composite:g} mg × {share:g}")
    loading, area = context.get("loading_mg_cm2"), context.get("area_cm2")
    if loading is not None and area is not None:
        return (active_mass(loading_mg_cm2=loading, area_cm2=area),
                f"loading_mg_cm2 × area_cm2 = {loading:g} mg/cm² × {area:g} cm²")
    missing = ("composite_mass_mg without active_fraction" if composite is not None
               else "loading_mg_cm2 without area_cm2" if loading is not None
               else "no active_mass_mg, composite_mass_mg with active_fraction, or "
                    "loading_mg_cm2 with area_cm2")
    return None, f"the cell's manifest entry gives {missing}"


def _mass_note(summary: Any, how: str) -> str:
    """What the message says about the mass ('' when the manifest gave it)."""
    if summary.mass_source == "argument":
        return ""
    if summary.mass_source == "file":
        return f"{how}; the active mass {summary.active_mass_mg:g} mg stored in the file is used"
    return f"{how}: no specific capacities (mAh/g), capacities in mAh"


def _entry(value: Any, unit: str, stderr: float = math.nan) -> dict[str, Any]:
    value = math.nan if value is None else float(value)
    return to_json_safe({"value": value, "stderr": float(stderr), "unit": unit})


def _rows(frame: Any) -> list[dict[str, Any]]:
    return to_json_safe(frame)


def _numbers(values: Any) -> list[Any]:
    """A series as a list of floats to 7 significant digits (None for NaN): figures need
    no more, and the series are stored in the database."""
    return [float(f"{x:.7g}") if math.isfinite(x) else None
            for x in np.asarray(values, float).tolist()]


def _array(values: Any) -> np.ndarray:
    """A series list back to floats (None -> NaN)."""
    return np.array([math.nan if v is None else v for v in values], float)


def _provenance(kind: str, settings: Mapping[str, Any], inputs: Sequence[TaskInput],
                results: Sequence[Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The technique results' provenances under the analysis' own settings and inputs."""
    parts = [r.provenance.to_dict() for r in results if r.provenance is not None]
    citations: list[Any] = []
    for part in parts:
        citations += [c for c in part["citations"] if c not in citations]
    return to_json_safe({
        "function": f"ssbkit.study.cell_analyses.{kind}",
        "ssbkit_version": parts[0]["ssbkit_version"] if parts else None,
        "settings": {**settings, **(extra or {})},
        "inputs": {i.name: i.sha256 for i in inputs},
        "steps": parts, "citations": citations})


def _thin(n: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spread rows of ``n``, first and last kept."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))


def _envelope(y: np.ndarray, max_points: int) -> np.ndarray:
    """Indices, in order, of the lowest and highest row of each of ``max_points // 2``
    consecutive stretches of ``y`` (a trace's envelope in a few hundred points)."""
    n = y.size
    if n <= max_points:
        return np.arange(n)
    edges = np.linspace(0, n, max(max_points // 2, 1) + 1).astype(np.int64)
    keep = []
    filled = np.where(np.isfinite(y), y, np.nanmedian(y) if np.isfinite(y).any() else 0.0)
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        if stop > start:
            part = filled[start:stop]
            keep += [start + int(np.argmin(part)), start + int(np.argmax(part))]
    return np.unique(np.array(keep, np.int64))


def _fmt(entry: Mapping[str, Any] | None, digits: int = 4) -> str:
    if not entry or entry.get("value") is None:
        return "n/a"
    unit = entry.get("unit", "")
    text = f"{entry['value']:.{digits}g}"
    return text if unit in ("", "1") else f"{text} {unit}"


# -- cycling ------------------------------------------------------------------------------------

def _cycling_settings(task: AnalysisTask) -> dict[str, Any]:
    s = _settings(task, CYCLING_DEFAULTS)
    s["convention"] = one_of(_where("cycling", "convention"), s["convention"], _CONVENTIONS)
    if s["reference"] is not None:
        s["reference"] = one_of(_where("cycling", "reference"), s["reference"], _REFERENCES)
    cycles = s["dqdv_cycles"]
    if isinstance(cycles, str) or not isinstance(cycles, Sequence):
        raise InputError(f"must be a list of cycle numbers, got {cycles!r}",
                         source=_where("cycling", "dqdv_cycles"))
    s["dqdv_cycles"] = [positive_int(_where("cycling", "dqdv_cycles"), c) for c in cycles]
    for key in ("bin_width_mv", "peak_prominence"):
        s[key] = positive(_where("cycling", key), s[key])
    s["smooth_width_mv"] = non_negative(_where("cycling", "smooth_width_mv"), s["smooth_width_mv"])
    s["max_points"] = positive_int(_where("cycling", "max_points"), s["max_points"])
    return s


def _default_dqdv_cycles(complete: np.ndarray) -> list[int]:
    """The first complete cycle, the one nearest 10 % of the way to the last, the last."""
    if complete.size == 0:
        return []
    first, last = int(complete[0]), int(complete[-1])
    tenth = int(complete[np.argmin(np.abs(complete - (first + 0.1 * (last - first))))])
    return sorted({first, tenth, last})


def run_cycling(task: AnalysisTask) -> dict[str, Any]:
    """Capacity, CE, retention, polarisation and dQ/dV of one cycling record (see the module)."""
    from ssbkit.cycling import dqdv, summarize_cycles

    settings = _cycling_settings(task)
    source = _only_input(task)
    notes: list[str] = []
    mass, how = cell_active_mass(task.context)
    try:
        record = _read_record(source, notes)
        if settings["reference"] is not None:
            from ssbkit.cycling.protocol import convert_reference

            record = convert_reference(record, reference=settings["reference"])
        summary = summarize_cycles(record, convention=settings["convention"], active_mass_mg=mass,
                                   area_cm2=task.context.get("area_cm2"))
        cyc = summary.cycles
        complete_cycles = cyc["cycle"][cyc["complete"]]
        drawn = settings["dqdv_cycles"] or _default_dqdv_cycles(complete_cycles)
        curves = None
        if drawn:
            curves = dqdv(record, cycles=drawn, convention=settings["convention"],
                          bin_width_v=settings["bin_width_mv"] / 1e3,
                          smooth_width_v=settings["smooth_width_mv"] / 1e3,
                          active_mass_mg=summary.active_mass_mg,
                          peak_prominence=settings["peak_prominence"], steps=summary.steps)
    except InputError as exc:
        raise _named(exc, source, {"cycles": _where("cycling", "dqdv_cycles"),
                                   "bin_width_v": _where("cycling", "bin_width_mv"),
                                   "smooth_width_v": _where("cycling", "smooth_width_mv")}) from None

    notes += [n for n in (_mass_note(summary, how), summary.message) if n]
    specific = summary.active_mass_mg is not None
    unit = "mAh/g" if specific else "mAh"
    prefix = "specific_" if specific else ""
    out_summary: dict[str, Any] = {}
    full = np.flatnonzero(cyc["complete"])
    if full.size:
        j0, j1 = int(full[0]), int(full[-1])
        jp = int(np.flatnonzero(cyc["cycle"] == summary.peak_cycle)[0])
        ce_after = cyc["ce"][full[1:]]
        if specific:
            out_summary["first_discharge_capacity"] = _entry(cyc["specific_discharge"][j0], "mAh/g")
            out_summary["first_charge_capacity"] = _entry(cyc["specific_charge"][j0], "mAh/g")
            out_summary["peak_capacity"] = _entry(cyc["specific_discharge"][jp], "mAh/g")
            out_summary["final_capacity"] = _entry(cyc["specific_discharge"][j1], "mAh/g")
        out_summary.update({
            "first_cycle_ce": _entry(cyc["ce"][j0], "%"),
            "peak_cycle": _entry(summary.peak_cycle, "1"),
            "final_cycle": _entry(cyc["cycle"][j1], "1"),
            "retention_vs_peak": _entry(summary.final_retention_vs_peak_pct, "%"),
            "retention_vs_first": _entry(summary.final_retention_vs_first_pct, "%"),
            "polarisation_first": _entry(cyc["polarisation"][j0], "V"),
            "polarisation_last": _entry(cyc["polarisation"][j1], "V"),
            "cycles_to_80": _entry(summary.cycles_to_80, "1"),
            "cycles_to_90": _entry(summary.cycles_to_90, "1"),
            "mean_ce": _entry(np.nanmean(ce_after) if np.isfinite(ce_after).any() else None, "%"),
            "first_discharge_capacity_mah": _entry(cyc["discharge"][j0], "mAh"),
            "peak_capacity_mah": _entry(cyc["discharge"][jp], "mAh"),
        })
    else:
        notes.append("no complete cycle (a charge and a discharge): no figures of merit")
    out_summary["n_cycles"] = _entry(summary.n_cycles, "1")
    if curves is not None and curves.message:
        notes.append(curves.message)

    tables = {"cycles": _rows(summary.to_frame())}
    series: dict[str, Any] = {
        "source": source.name,
        "cell": {"active_mass_mg": summary.active_mass_mg, "mass": how if specific else None,
                 "convention": summary.convention, "ce_definition": summary.ce_definition,
                 "reference": settings["reference"]},
        "capacity": {"unit": unit, "cycle": cyc["cycle"].tolist(),
                     "charge": _numbers(cyc[prefix + "charge"]),
                     "discharge": _numbers(cyc[prefix + "discharge"]), "ce": _numbers(cyc["ce"])},
    }
    if curves is not None:
        tables["dqdv_peaks"] = _rows(curves.peak_frame())
        tables["dqdv_tracks"] = [{
            "track": t.track, "direction": t.direction, "first cycle": int(t.cycles[0]),
            "last cycle": int(t.cycles[-1]), "first potential [V]": float(t.potential_v[0]),
            "last potential [V]": float(t.potential_v[-1]),
            "shift [mV/cycle]": 1e3 * t.shift.value, "shift stderr [mV/cycle]": 1e3 * t.shift.stderr}
            for t in curves.tracks]
        tables["dqdv_tracks"] = to_json_safe(tables["dqdv_tracks"])
        series["dqdv"] = _dqdv_series(curves, settings["max_points"])
        series["profiles"] = _profile_series(curves, settings["max_points"])
    used = {**settings, "dqdv_cycles": drawn, "active_mass_mg": summary.active_mass_mg}
    results = [summary] + ([curves] if curves is not None else [])
    return {"kind": "cycling", "success": bool(summary.success and full.size),
            "message": "; ".join(notes), "summary": out_summary, "tables": tables,
            "series": series, "provenance": _provenance("cycling", used, [source], results)}


def _dqdv_series(result: Any, max_points: int) -> dict[str, Any]:
    curves = []
    for c in result.curves:
        keep = _thin(c.voltage.size, max_points)
        curves.append({"cycle": c.cycle, "direction": c.direction,
                       "voltage": _numbers(c.voltage[keep]), "dqdv": _numbers(c.dqdv[keep])})
    peaks = [{"cycle": p.cycle, "direction": p.direction, "potential": p.potential.value,
              "height": p.height.value, "prominence": p.prominence, "track": p.track}
             for p in result.peaks]
    return to_json_safe({"unit": result.unit, "bin_width_v": result.bin_width_v,
                         "smooth": result.smooth, "smooth_width_v": result.smooth_width_v,
                         "convention": result.convention, "curves": curves, "peaks": peaks})


def _profile_series(result: Any, max_points: int) -> dict[str, Any]:
    """Q(V) of each half-cycle: the running sum of its binned charge, from where it started
    (the bottom of its range for a charge, the top for a discharge), then its
    constant-voltage charge at the voltage it ended on."""
    per_gram = 1e-3 * result.active_mass_mg if result.active_mass_mg is not None else 1.0
    curves = []
    for c in result.curves:
        width = result.bin_width_v
        edges = np.r_[c.voltage - 0.5 * width, c.voltage[-1] + 0.5 * width]
        edges = np.clip(edges, c.voltage_min, c.voltage_max)
        charge = c.binned * width
        if c.direction == "charge":
            q, v = np.r_[0.0, np.cumsum(charge)], edges
        else:
            q, v = np.r_[0.0, np.cumsum(charge[::-1])], edges[::-1]
        if c.cv_capacity_mah > 0:
            q, v = np.r_[q, q[-1] + c.cv_capacity_mah / per_gram], np.r_[v, v[-1]]
        keep = _thin(q.size, max_points)
        curves.append({"cycle": c.cycle, "direction": c.direction,
                       "capacity": _numbers(q[keep]), "voltage": _numbers(v[keep])})
    return {"unit": "mAh/g" if result.active_mass_mg is not None else "mAh", "curves": curves}


def _summary_for_plot(capacity: Mapping[str, Any], cell: Mapping[str, Any]) -> Any:
    """A ``CycleSummary`` holding the per-cycle series ``plot_capacity``/``plot_rate`` draw."""
    from ssbkit.cycling.summary import CycleSummary

    prefix = "specific_" if capacity["unit"] == "mAh/g" else ""
    cycles = {"cycle": np.array(capacity["cycle"], np.int64),
              prefix + "charge": _array(capacity["charge"]),
              prefix + "discharge": _array(capacity["discharge"]), "ce": _array(capacity["ce"])}
    return CycleSummary(
        convention=cell.get("convention", ""), ce_definition=cell.get("ce_definition", ""),
        cycles=cycles, active_mass_mg=cell.get("active_mass_mg"), mass_source=None, area_cm2=None,
        n_cycles=len(capacity["cycle"]), first_cycle=None, peak_cycle=None,
        peak_discharge_capacity_mah=math.nan, final_retention_vs_peak_pct=math.nan,
        final_retention_vs_first_pct=math.nan, cycles_to_90=None, cycles_to_80=None,
        capacity_source="", counter_deviation=math.nan)


def _dqdv_for_plot(series: Mapping[str, Any]) -> Any:
    """A ``DQDVResult`` holding the stored curves and peaks for ``plot_dqdv`` (which draws
    the smoothed curves only, so the binned values are not stored)."""
    from ssbkit.core.results import Estimate
    from ssbkit.cycling.dqdv import DQDVCurve, DQDVPeak, DQDVResult

    unit = series["unit"]
    curves = []
    for c in series["curves"]:
        voltage, values = _array(c["voltage"]), _array(c["dqdv"])
        curves.append(DQDVCurve(c["cycle"], c["direction"], voltage, values, values, unit,
                                math.nan, 0.0, float(np.nanmin(voltage)), float(np.nanmax(voltage))))
    peaks = [DQDVPeak(p["cycle"], p["direction"], Estimate(p["potential"], unit="V"),
                      Estimate(p["height"], unit=unit), p["prominence"] or 0.0, p["track"])
             for p in series["peaks"]]
    return DQDVResult(convention=series["convention"], method="bin", smooth=series["smooth"],
                      smooth_width_v=series["smooth_width_v"], bin_width_v=series["bin_width_v"],
                      reference_offset_v=0.0, active_mass_mg=None, mass_source=None, unit=unit,
                      curves=tuple(curves), peaks=tuple(peaks), tracks=(), cv_excluded_mah=0.0)


def _voltage_label(cell: Mapping[str, Any]) -> str:
    reference = cell.get("reference")
    return "voltage [V vs Li/Li⁺]" if reference else "voltage [V]"


def _plot_profiles(series: Mapping[str, Any], cell: Mapping[str, Any]) -> Any:
    from ssbkit.core.plotting import matplotlib_package, new_figure

    ax = new_figure(3.5, 2.8).add_subplot()
    curves = series["curves"]
    cycles = sorted({c["cycle"] for c in curves})
    cmap = matplotlib_package().colormaps["viridis"]
    colour = {c: cmap(x) for c, x in zip(cycles, np.linspace(0.0, 0.85, max(len(cycles), 1)),
                                          strict=False)}
    named: set[int] = set()
    for c in curves:
        label = None if c["cycle"] in named else f"cycle {c['cycle']}"
        named.add(c["cycle"])
        line, = ax.plot(_array(c["capacity"]), _array(c["voltage"]),
                        "-" if c["direction"] == "charge" else "--", lw=1.0,
                        color=colour[c["cycle"]], label=label)
        line.set_gid(c["direction"])
    ax.set_xlabel(f"{'specific capacity' if series['unit'] == 'mAh/g' else 'capacity'} "
                  f"[{series['unit']}]")
    ax.set_ylabel(_voltage_label(cell))
    ax.set_xlim(left=0)
    ax.tick_params(which="both", direction="in", top=True, right=True)
    if curves:
        ax.legend(frameon=False, fontsize="small")
    return ax.figure


def figures_cycling(result: Mapping[str, Any]) -> list[FigureSpec]:
    """Capacity and CE against cycle, voltage profiles, dQ/dV (those the result has data for)."""
    from ssbkit.cycling.plot import plot_capacity, plot_dqdv

    series, summary = result.get("series") or {}, result.get("summary") or {}
    cell, where = series.get("cell", {}), series.get("source", "the cycling record")
    out = []
    capacity = series.get("capacity")
    if capacity and capacity.get("cycle"):
        per = "per gram of active material" if capacity["unit"] == "mAh/g" else "(no active mass)"
        mass = f" ({cell['mass']})" if cell.get("mass") else ""
        caption = (f"Discharge (filled) and charge (hollow) capacity [{capacity['unit']}] {per}{mass} "
                   f"and Coulombic efficiency ({cell.get('ce_definition', '')}, right axis) of "
                   f"each cycle of {where} ({cell.get('convention', '')} cycles). First-cycle CE "
                   f"{_fmt(summary.get('first_cycle_ce'))}; peak "
                   f"{_fmt(summary.get('peak_capacity') or summary.get('peak_capacity_mah'))} at "
                   f"cycle {_fmt(summary.get('peak_cycle'))}; cycle "
                   f"{_fmt(summary.get('final_cycle'))} retains "
                   f"{_fmt(summary.get('retention_vs_peak'))} of it.")
        out.append(FigureSpec("capacity", plot_capacity(_summary_for_plot(capacity, cell)), caption))
    profiles = series.get("profiles")
    if profiles and profiles.get("curves"):
        drawn = ", ".join(str(c) for c in sorted({c["cycle"] for c in profiles["curves"]}))
        caption = (f"Voltage profiles of cycles {drawn} of {where}: charge solid, discharge "
                   f"dashed, capacity passed since the start of each half-cycle, from the "
                   f"dQ/dV bins (constant-voltage charge drawn at the cut-off). Polarisation "
                   f"(mean charge − mean discharge voltage) {_fmt(summary.get('polarisation_first'))}"
                   f" in the first complete cycle, {_fmt(summary.get('polarisation_last'))} in "
                   f"the last.")
        out.append(FigureSpec("voltage_profiles", _plot_profiles(profiles, cell), caption))
    dq = series.get("dqdv")
    if dq and dq.get("curves"):
        drawn = ", ".join(str(c) for c in sorted({c["cycle"] for c in dq["curves"]}))
        shifts = [f"{t['first potential [V]']:.3f} → {t['last potential [V]']:.3f} V ({t['direction']})"
                  for t in (result.get("tables") or {}).get("dqdv_tracks", [])
                  if t["first cycle"] != t["last cycle"]]
        caption = (f"Differential capacity dQ/dV [{dq['unit']}] of cycles {drawn} of {where}, "
                   f"charge above zero and discharge below, from charge binned in "
                   f"{1e3 * dq['bin_width_v']:g} mV bins and smoothed ({dq['smooth']}, "
                   f"{1e3 * dq['smooth_width_v']:g} mV); peaks marked."
                   + (f" Peaks tracked: {'; '.join(shifts)}." if shifts else ""))
        out.append(FigureSpec("dqdv", plot_dqdv(_dqdv_for_plot(dq)), caption))
    return out


# -- rate ---------------------------------------------------------------------------------------

def _rate_key(c_rate: float) -> str:
    """0.1 -> "0.1", 0.49999 -> "0.5", 2 -> "2" (three significant digits, then %g)."""
    return f"{float(f'{c_rate:.3g}'):g}"


def run_rate(task: AnalysisTask) -> dict[str, Any]:
    """Rate table, capacity per C-rate and recovery of one rate test (see the module)."""
    from ssbkit.cycling import rate_capability, summarize_cycles

    s = _settings(task, RATE_DEFAULTS)
    convention = one_of(_where("rate", "convention"), s["convention"], _CONVENTIONS)
    by = one_of(_where("rate", "by"), s["by"], ("discharge", "charge"))
    tolerance = positive(_where("rate", "tolerance"), s["tolerance"])
    nominal = _optional("rate", "nominal_capacity_mah", s["nominal_capacity_mah"])
    theoretical = task.context.get("theoretical_capacity_mAh_g")
    source = _only_input(task)
    notes: list[str] = []
    mass, how = cell_active_mass(task.context)
    try:
        record = _read_record(source, notes)
        summary = summarize_cycles(record, convention=convention, active_mass_mg=mass,
                                   area_cm2=task.context.get("area_cm2"))
        specific = None
        if nominal is None and theoretical is not None and summary.active_mass_mg is not None:
            specific = theoretical
        result = rate_capability(record, summary=summary, nominal_capacity_mah=nominal,
                                 specific_capacity_mah_g=specific, by=by, tolerance=tolerance)
    except InputError as exc:
        raise _named(exc, source) from None

    notes += [n for n in (_mass_note(summary, how), result.message) if n]
    if nominal is None and specific is None:
        why = ("the cell's manifest entry gives no theoretical_capacity_mAh_g"
               if theoretical is None else "there is no active mass")
        notes.append(f"no C-rates ({why}, and no nominal_capacity_mah setting): blocks are "
                     "labelled by current, no capacity_<rate>C keys")
    blocks = result.blocks
    out_summary: dict[str, Any] = {}
    seen: set[str] = set()
    if summary.active_mass_mg is not None:
        for j in range(result.n_blocks):
            c_rate = float(blocks["c_rate"][j])
            if not math.isfinite(c_rate) or _rate_key(c_rate) in seen:
                continue
            key = _rate_key(c_rate)
            seen.add(key)
            n = int(blocks["n_cycles"][j])
            std = float(blocks["capacity_std_mah"][j]) / (summary.active_mass_mg * 1e-3)
            out_summary[f"capacity_{key}C"] = _entry(blocks["specific_capacity"][j], "mAh/g",
                                                     std / math.sqrt(n) if n > 1 else math.nan)
    returns = np.flatnonzero(np.isfinite(blocks["recovery"]))
    labels = result.labels()
    if returns.size:
        j = int(returns[-1])
        out_summary["recovery"] = _entry(blocks["recovery"][j], "%")
        of = int(blocks["recovery_of"][j])
        notes_recovery = f"recovery: block {j + 1} ({labels[j]}) against block {of}"
    else:
        out_summary["recovery"] = _entry(None, "%")
        notes_recovery = "no block returns to an earlier rate: no recovery"
        notes.append(notes_recovery)
    out_summary["n_blocks"] = _entry(result.n_blocks, "1")

    table = result.to_frame()
    table["recovery of block"] = [None if v < 0 else int(v) for v in table["recovery of block"]]
    cyc = summary.cycles
    specific_cycles = summary.active_mass_mg is not None
    prefix = "specific_" if specific_cycles else ""
    per_cycle = summary.to_frame()[["cycle", "charge capacity [mAh]", "discharge capacity [mAh]",
                                    "coulombic efficiency [%]"]].copy()
    per_cycle.insert(1, "current [mA]", result.cycle_current_ma)
    per_cycle.insert(2, "C-rate [1/h]", result.cycle_c_rate)
    series = {
        "source": source.name,
        "cell": {"active_mass_mg": summary.active_mass_mg, "convention": summary.convention,
                 "ce_definition": summary.ce_definition, "reference_capacity_mah":
                 result.reference_capacity_mah, "theoretical_capacity_mAh_g": specific},
        "capacity": {"unit": "mAh/g" if specific_cycles else "mAh", "cycle": cyc["cycle"].tolist(),
                     "charge": _numbers(cyc[prefix + "charge"]),
                     "discharge": _numbers(cyc[prefix + "discharge"]), "ce": _numbers(cyc["ce"]),
                     "current_ma": _numbers(result.cycle_current_ma),
                     "c_rate": _numbers(result.cycle_c_rate)},
        "blocks": {key: _numbers(blocks[key]) for key in
                   ("block", "first_cycle", "last_cycle", "current_ma", "c_rate")},
        "labels": labels, "recovery": notes_recovery,
    }
    used = {"convention": convention, "by": by, "tolerance": tolerance,
            "nominal_capacity_mah": nominal, "theoretical_capacity_mAh_g": specific,
            "active_mass_mg": summary.active_mass_mg}
    return {"kind": "rate", "success": bool(result.success), "message": "; ".join(notes),
            "summary": out_summary,
            "tables": {"rate": _rows(table), "cycles": _rows(per_cycle)}, "series": series,
            "provenance": _provenance("rate", used, [source], [summary, result])}


def figures_rate(result: Mapping[str, Any]) -> list[FigureSpec]:
    """Discharge capacity of each cycle, coloured and labelled by rate block."""
    from ssbkit.cycling.plot import plot_rate
    from ssbkit.cycling.rate import RateResult

    series, summary = result.get("series") or {}, result.get("summary") or {}
    capacity, blocks = series.get("capacity"), series.get("blocks")
    if not capacity or not capacity.get("cycle") or not blocks or not blocks.get("block"):
        return []
    cell = series.get("cell", {})
    rate = RateResult(
        success=bool(result.get("success")), by="discharge",
        reference_capacity_mah=cell.get("reference_capacity_mah"),
        blocks={key: (_array(v).astype(np.int64) if key in ("block", "first_cycle", "last_cycle")
                      else _array(v)) for key, v in blocks.items()},
        cycle_current_ma=_array(capacity["current_ma"]), cycle_c_rate=_array(capacity["c_rate"]),
        summary=_summary_for_plot(capacity, cell))
    rates = [f"{key.removeprefix('capacity_')} {_fmt(value)}" for key, value in summary.items()
             if key.startswith("capacity_")]
    theoretical = cell.get("theoretical_capacity_mAh_g")
    basis = (f"1 C = {theoretical:g} mAh/g × the active mass" if theoretical
             else f"1 C = {cell['reference_capacity_mah']:g} mAh" if cell.get("reference_capacity_mah")
             else "no C-rate: blocks labelled by current")
    caption = (f"Rate test {series.get('source', '')}: discharge capacity [{capacity['unit']}] of "
               f"each cycle, coloured by rate block ({basis}). "
               + (f"Block means: {', '.join(rates)}. " if rates else "")
               + f"Recovery {_fmt(summary.get('recovery'))} ({series.get('recovery', '')}).")
    return [FigureSpec("rate", plot_rate(rate), caption)]


# -- pressure -----------------------------------------------------------------------------------

def run_pressure(task: AnalysisTask) -> dict[str, Any]:
    """Per-cycle stack pressure and its growth per cycle (see the module)."""
    from ssbkit.io.pressure import read_pressure
    from ssbkit.pressure.analysis import analyze_pressure

    s = _settings(task, PRESSURE_DEFAULTS)
    offset = finite(_where("pressure", "offset_s"), s["offset_s"])
    convention = one_of(_where("pressure", "convention"), s["convention"], _CONVENTIONS)
    baseline = one_of(_where("pressure", "baseline"), s["baseline"], ("start", "min"))
    max_points = positive_int(_where("pressure", "max_points"), s["max_points"])
    area = _optional("pressure", "area_cm2", s["area_cm2"]) or task.context.get("area_cm2")
    options = {key: s[key] for key in ("start_time", "unit") if s[key] is not None}
    if area is not None:
        options["area_cm2"] = area  # used only where the log is of force
    source = _only_input(task)
    cycling = task.extra.get("cycling")
    if not isinstance(cycling, TaskInput):
        raise InputError("no cycling record for this pressure log: name its measurement with "
                         "cycling = \"<measurement id>\" in the manifest", source=source.name)
    notes: list[str] = []
    record = _read_record(cycling, notes)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            log = read_pressure(source.path, **options)
        notes += [f"{source.name}: {w.message}" for w in caught]
        log = dataclasses.replace(log, source=source.name)
        result = analyze_pressure(log, record, offset_s=offset, convention=convention,
                                  baseline=baseline)
    except InputError as exc:
        raise _named(exc, source) from None
    if result.message:
        notes.append(result.message)

    from ssbkit.cycling.events import absolute_time

    absolute = absolute_time(record)
    origin = float(absolute[0])
    p_hours = (log.unix_time + offset - origin) / 3600.0
    keep_p = _envelope(log.pressure, max_points)
    v_hours = (absolute - origin) / 3600.0
    keep_v = _envelope(np.asarray(record.voltage, float), max_points)
    series = {
        "source": source.name, "cycling": cycling.name, "offset_s": offset, "baseline": baseline,
        "growth_rate_mpa_per_cycle": result.growth_rate.value,
        "growth_rate_stderr": result.growth_rate.stderr,
        "pressure": {"time_h": _numbers(p_hours[keep_p]), "pressure": _numbers(log.pressure[keep_p])},
        "voltage": {"time_h": _numbers(v_hours[keep_v]),
                    "voltage": _numbers(np.asarray(record.voltage, float)[keep_v])},
    }
    summary = {
        "growth_per_cycle": result.growth_per_cycle.to_dict(),
        "initial_pressure": result.initial_pressure.to_dict(),
        "drift": result.drift.to_dict(),
        "drift_percent": result.drift_percent.to_dict(),
        "cycles_fitted": _entry(result.cycles_fitted, "1"),
    }
    used = {"offset_s": offset, "convention": convention, "baseline": baseline,
            "area_cm2": area, "start_time": s["start_time"], "unit": s["unit"]}
    return {"kind": "pressure", "success": bool(result.success), "message": "; ".join(notes),
            "summary": to_json_safe(summary), "tables": {"cycles": _rows(result.cycles)},
            "series": series,
            "provenance": _provenance("pressure", used, [source, cycling], [result])}


def figures_pressure(result: Mapping[str, Any]) -> list[FigureSpec]:
    """Pressure and voltage against time over per-cycle pressure with the fitted baseline."""
    from ssbkit.core.results import Estimate
    from ssbkit.cycling.data import CURRENT, TIME, UNIX_TIME, VOLTAGE, CyclingRecord
    from ssbkit.pressure.analysis import PressureResult
    from ssbkit.pressure.data import PressureLog
    from ssbkit.pressure.plot import plot_pressure_analysis

    series, summary = result.get("series") or {}, result.get("summary") or {}
    pressure, voltage = series.get("pressure"), series.get("voltage")
    if not pressure or not pressure.get("time_h") or not voltage or not voltage.get("time_h"):
        return []
    offset = float(series.get("offset_s") or 0.0)
    seconds = 3600.0 * _array(voltage["time_h"])
    # times since the record began stand in for absolute ones: the plot draws differences
    record = CyclingRecord.from_columns({TIME: seconds, UNIX_TIME: seconds,
                                         VOLTAGE: _array(voltage["voltage"]),
                                         CURRENT: np.zeros(seconds.size)})
    log = PressureLog(3600.0 * _array(pressure["time_h"]) - offset, _array(pressure["pressure"]))
    rows = (result.get("tables") or {}).get("cycles") or []
    columns = {}
    for key in rows[0] if rows else ():
        values = [row[key] for row in rows]
        columns[key] = np.array(values, bool) if key == "complete" else _array(values)

    def estimate(key: str, unit: str) -> Estimate:
        entry = summary.get(key) or {}
        value, stderr = entry.get("value"), entry.get("stderr")
        return Estimate(math.nan if value is None else value,
                        math.nan if stderr is None else stderr, unit)

    rate = series.get("growth_rate_mpa_per_cycle")
    fitted = PressureResult(
        success=bool(result.get("success")), per_cycle=columns,
        baseline=series.get("baseline", "start"),
        growth_per_cycle=estimate("growth_per_cycle", "%"),
        growth_rate=Estimate(math.nan if rate is None else rate, unit="MPa/cycle"),
        initial_pressure=estimate("initial_pressure", "MPa"), drift=estimate("drift", "MPa"),
        drift_percent=estimate("drift_percent", "%"), offset_s=offset)
    if rows:
        figure = plot_pressure_analysis(log, record, fitted)
    else:
        from ssbkit.pressure.plot import plot_pressure

        figure = plot_pressure(log, record, offset_s=offset)
    growth = summary.get("growth_per_cycle") or {}
    stderr = growth.get("stderr")
    caption = (f"Stack pressure of {series.get('source', '')} (red, left axis) and cell voltage of "
               f"{series.get('cycling', '')} (blue, right axis) against time since the cycling "
               f"began (log shifted by {offset:g} s); below, each cycle's highest and lowest "
               f"pressure (hollow: not covered from start to end, not fitted) and the straight "
               f"line through the pressure at the {series.get('baseline', 'start')} of each "
               f"complete cycle. Growth {_fmt(growth)}"
               + (f" ± {stderr:.2g} %" if stderr is not None else "")
               + f" per cycle of the initial {_fmt(summary.get('initial_pressure'))}"
               + (f"; {result.get('message')}" if not result.get("success") and result.get("message")
                  else "") + ".")
    return [FigureSpec("pressure", figure, caption)]


KINDS: list[AnalysisKind] = [
    AnalysisKind(name="cycling", technique="cycling", target="cell",
                 title="Cycling: capacity, Coulombic efficiency, retention, polarisation, dQ/dV",
                 defaults=CYCLING_DEFAULTS, run=run_cycling, figures=figures_cycling),
    AnalysisKind(name="rate", technique="cycling", target="cell",
                 title="Rate capability: capacity per C-rate and recovery",
                 defaults=RATE_DEFAULTS, run=run_rate, figures=figures_rate),
    AnalysisKind(name="pressure", technique="pressure", target="cell",
                 title="Stack pressure: growth per cycle and breathing",
                 defaults=PRESSURE_DEFAULTS, run=run_pressure, figures=figures_pressure),
]
