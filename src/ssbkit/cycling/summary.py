"""Per-cycle summary: capacities, Coulombic efficiency, energy, voltages, retention.

A cycle's charge is the sum over *all* its charge steps (CC and CV, or several CC steps),
likewise its discharge; a pulse step adds its charge to the charge and its discharge to
the discharge. Capacities come from the cycler's counters (``ssbkit.cycling.steps``),
checked against the integral of current.

Definitions (stated because tools differ):

- **Coulombic efficiency** follows the convention: ``charge-first`` and ``native`` give
  discharge / charge (a cathode charged first); ``discharge-first`` gives charge /
  discharge (an anode lithiated first). It is NaN for a cycle without both halves.
- **Mean voltage** of a half-cycle is ∫V dQ / Q (energy over capacity); **polarisation**
  is mean charge voltage − mean discharge voltage of the same cycle.
- **Specific capacity** divides by the active mass: given directly, or composite mass ×
  active fraction, or loading [mg/cm²] × area [cm²] (× active fraction when the loading is
  of the composite). **Areal capacity** divides by the area.
- **Retention** is the discharge capacity against a reference cycle's: the first cycle
  with a discharge (``retention vs first``) and the cycle of largest discharge capacity
  (``retention vs peak``; that cycle is ``peak_cycle``). **Cycles to 80 % / 90 %** is the
  first cycle after the peak whose retention vs peak falls below 80 % / 90 % (None when
  it never does).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Result, frozen_array, frozen_table, make_provenance
from ssbkit.core.validate import fraction, one_of, positive
from ssbkit.cycling.cycles import CONVENTIONS, step_cycles
from ssbkit.cycling.data import CYCLE, CyclingRecord
from ssbkit.cycling.steps import StepTable, find_steps

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CycleSummary", "active_mass", "summarize_cycles"]

# per-cycle quantity -> (column label, unit, JSON name)
_COLUMNS = {
    "cycle": ("cycle", "", "cycle"),
    "start_time": ("start time [s]", "s", "start_time"),
    "end_time": ("end time [s]", "s", "end_time"),
    "charge": ("charge capacity [mAh]", "mAh", "charge_capacity"),
    "discharge": ("discharge capacity [mAh]", "mAh", "discharge_capacity"),
    "specific_charge": ("specific charge capacity [mAh/g]", "mAh/g", "specific_charge_capacity"),
    "specific_discharge": ("specific discharge capacity [mAh/g]", "mAh/g",
                           "specific_discharge_capacity"),
    "areal_charge": ("areal charge capacity [mAh/cm²]", "mAh/cm²", "areal_charge_capacity"),
    "areal_discharge": ("areal discharge capacity [mAh/cm²]", "mAh/cm²",
                        "areal_discharge_capacity"),
    "ce": ("coulombic efficiency [%]", "%", "coulombic_efficiency"),
    "charge_energy": ("charge energy [mWh]", "mWh", "charge_energy"),
    "discharge_energy": ("discharge energy [mWh]", "mWh", "discharge_energy"),
    "mean_charge_voltage": ("mean charge voltage [V]", "V", "mean_charge_voltage"),
    "mean_discharge_voltage": ("mean discharge voltage [V]", "V", "mean_discharge_voltage"),
    "polarisation": ("polarisation [V]", "V", "polarisation"),
    "retention_first": ("retention vs first [%]", "%", "retention_vs_first"),
    "retention_peak": ("retention vs peak [%]", "%", "retention_vs_peak"),
    "charge_integral": ("charge from current [mAh]", "mAh", "charge_from_current"),
    "discharge_integral": ("discharge from current [mAh]", "mAh", "discharge_from_current"),
    "complete": ("complete", "", "complete"),
}


@dataclass(frozen=True, kw_only=True)
class CycleSummary(Result):
    """Per-cycle capacities and the figures of merit of a cycling record.

    ``cycles`` maps each quantity of ``_COLUMNS`` to a per-cycle array; ``to_frame()``
    gives the table with ``name [unit]`` columns and ``to_dict()["cycles"]`` one object
    per cycle with ``{value, unit}`` quantities.
    """

    convention: str
    ce_definition: str
    cycles: Mapping[str, np.ndarray] = field(repr=False)
    active_mass_mg: float | None
    mass_source: str | None
    area_cm2: float | None
    n_cycles: int
    first_cycle: int | None
    peak_cycle: int | None
    peak_discharge_capacity_mah: float
    final_retention_vs_peak_pct: float
    final_retention_vs_first_pct: float
    cycles_to_90: int | None
    cycles_to_80: int | None
    capacity_source: str
    counter_deviation: float
    steps: StepTable | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cycles", frozen_table(self.cycles))
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                object.__setattr__(self, name, frozen_array(value))

    @property
    def table(self) -> pd.DataFrame:
        """The per-cycle table (same as ``to_frame()``)."""
        return self.to_frame()

    def column(self, name: str) -> np.ndarray:
        """One per-cycle quantity by its key (``"discharge"``) or label."""
        for key, (label, _, json_name) in _COLUMNS.items():
            if name in (key, label, json_name):
                return self.cycles[key]
        raise InputError(f"no per-cycle quantity {name!r}; known: {', '.join(_COLUMNS)}",
                         source="column")

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({_COLUMNS[k][0]: v for k, v in self.cycles.items()})

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("steps", None)
        rows = []
        keys = list(self.cycles)
        for j in range(self.n_cycles):
            row: dict[str, Any] = {}
            for key in keys:
                _, unit, json_name = _COLUMNS[key]
                value = self.cycles[key][j]
                if key == "cycle":
                    row["cycle"] = int(value)
                elif key == "complete":
                    row["complete"] = bool(value)
                else:
                    value = float(value)
                    row[json_name] = {"value": value if math.isfinite(value) else None,
                                      "unit": unit}
            rows.append(row)
        out["cycles"] = rows
        return out

    def _report_lines(self) -> list[str]:
        lines = [f"  {self.n_cycles} cycles ({self.convention}; CE = {self.ce_definition}); "
                 f"capacities from {self.capacity_source}"]
        if self.active_mass_mg:
            lines.append(f"  active mass: {self.active_mass_mg:g} mg ({self.mass_source})")
        specific = self.active_mass_mg is not None
        unit = "mAh/g" if specific else "mAh"
        ch = self.cycles["specific_charge" if specific else "charge"]
        dis = self.cycles["specific_discharge" if specific else "discharge"]
        shown = list(range(min(self.n_cycles, 5)))
        if self.n_cycles > 6:
            shown += [self.n_cycles - 1]
        lines.append(f"  {'cycle':>6} {'charge':>10} {'discharge':>10} {'CE':>8} {'ΔV':>7}"
                     f"   [{unit}, %, V]")
        for j in shown:
            lines.append(f"  {int(self.cycles['cycle'][j]):>6} {ch[j]:>10.6g} {dis[j]:>10.6g} "
                         f"{self.cycles['ce'][j]:>8.3f} {self.cycles['polarisation'][j]:>7.4f}")
        if self.n_cycles > 6:
            lines.insert(-1, "     …")
        if self.peak_cycle is not None:
            peak = f"{self.peak_discharge_capacity_mah:.6g} mAh"
            if specific:
                peak += f" ({self.peak_discharge_capacity_mah / self.active_mass_mg * 1e3:.6g} mAh/g)"
            lines.append(f"  peak discharge {peak} at cycle {self.peak_cycle}; the last discharge "
                         f"retains {self.final_retention_vs_peak_pct:.2f} % of it")
        return lines


def _ends_cut_short(steps: StepTable, per_step: np.ndarray) -> bool:
    """True when the record stops inside a half-cycle: its last step still passes current
    and ends more than 20 mV away from where the same kind of step ended before (a
    half-cycle normally stops at its cut-off voltage)."""
    active = np.flatnonzero(steps.direction != 0)
    if active.size == 0 or steps.kind[-1] == "rest" or active[-1] != len(steps) - 1:
        return False
    last = active[-1]
    same = active[(steps.direction[active] == steps.direction[last])
                  & (per_step[active] < per_step[last])]
    if same.size == 0:
        return False
    return bool(abs(steps.end_voltage[last] - steps.end_voltage[same[-1]]) > 0.02)


def _native_starts_with_discharge(steps: StepTable) -> bool:
    """True when the instrument's cycles open with a discharge (an anode or a full cell
    built discharged): in the first native cycle with both halves, discharge comes first."""
    direction = steps.direction
    for cycle in np.unique(steps.native_cycle):
        d = direction[(steps.native_cycle == cycle) & (direction != 0)]
        if (d == 1).any() and (d == -1).any():
            return bool(d[0] == -1)
    return False


def active_mass(*, active_mass_mg: float | None = None, composite_mass_mg: float | None = None,
                active_fraction: float | None = None, loading_mg_cm2: float | None = None,
                area_cm2: float | None = None) -> float | None:
    """The active mass [mg] from one of the three ways of giving it (None if none given).

    >>> active_mass(composite_mass_mg=10, active_fraction=0.6)
    6.0
    >>> active_mass(loading_mg_cm2=4.0, area_cm2=0.785, active_fraction=0.5)
    1.57
    """
    ways = [active_mass_mg is not None, composite_mass_mg is not None, loading_mg_cm2 is not None]
    if sum(ways) > 1:
        raise InputError("give the active mass one way: active_mass_mg, or composite_mass_mg "
                         "with active_fraction, or loading_mg_cm2 with area_cm2",
                         source="active_mass_mg")
    f = 1.0 if active_fraction is None else fraction("active_fraction", active_fraction)
    if active_fraction is not None and f == 0:
        raise InputError("must be > 0", source="active_fraction")
    if active_mass_mg is not None:
        if active_fraction is not None:
            raise InputError("active_fraction applies to a composite mass or loading, not to "
                             "an active mass", source="active_fraction")
        return positive("active_mass_mg", active_mass_mg)
    if composite_mass_mg is not None:
        if active_fraction is None:
            raise InputError("a composite mass needs active_fraction", source="active_fraction")
        return positive("composite_mass_mg", composite_mass_mg) * f
    if loading_mg_cm2 is not None:
        if area_cm2 is None:
            raise InputError("a loading needs area_cm2", source="area_cm2")
        return round(positive("loading_mg_cm2", loading_mg_cm2) * positive("area_cm2", area_cm2)
                     * f, 12)
    if active_fraction is not None:
        raise InputError("active_fraction needs composite_mass_mg or loading_mg_cm2",
                         source="active_fraction")
    return None


def summarize_cycles(record: CyclingRecord, *, convention: str = "charge-first",
                     active_mass_mg: float | None = None, composite_mass_mg: float | None = None,
                     active_fraction: float | None = None, loading_mg_cm2: float | None = None,
                     area_cm2: float | None = None, rest_current_a: float | None = None,
                     steps: StepTable | None = None) -> CycleSummary:
    """Summarise ``record`` cycle by cycle (see the module docstring for definitions).

    Without a mass argument the active mass the cycler stored (``metadata
    ["active_mass_mg"]``) is used and ``mass_source`` says "file"; with none at all there
    are no specific capacities (never a default mass).
    """
    if not isinstance(record, CyclingRecord):
        raise InputError(f"expected a CyclingRecord, got {type(record).__name__}", source="record")
    convention = one_of("convention", convention, CONVENTIONS)
    if convention == "native" and not record.has(CYCLE):
        raise InputError(f"the 'native' convention needs the instrument's cycle column "
                         f"({CYCLE!r}), which this file lacks; use charge-first or "
                         "discharge-first", source=record.source or "convention")
    mass = active_mass(active_mass_mg=active_mass_mg, composite_mass_mg=composite_mass_mg,
                       active_fraction=active_fraction, loading_mg_cm2=loading_mg_cm2,
                       area_cm2=area_cm2)
    mass_source = "argument" if mass is not None else None
    file_mass = record.metadata.get("active_mass_mg")
    notes = []
    if mass is None and isinstance(file_mass, int | float) and math.isfinite(file_mass) and file_mass > 0:
        if file_mass == 1.0:  # EC-Lab's and Neware's placeholder, not a weighed mass
            notes.append("the file's active mass is 1 mg, the cycler software's placeholder: "
                         "not used; give the mass to get specific capacities")
        else:
            mass, mass_source = float(file_mass), "file"
    area = None if area_cm2 is None else positive("area_cm2", area_cm2)
    steps = find_steps(record, rest_current_a=rest_current_a) if steps is None else steps

    per_step = step_cycles(steps, convention)
    numbers, owner = np.unique(per_step, return_inverse=True)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(owner, weights=values, minlength=numbers.size)

    charge = total(steps.charge_ah) * 1e3
    discharge = total(steps.discharge_ah) * 1e3
    cyc: dict[str, np.ndarray] = {"cycle": numbers.astype(np.int64)}
    start = np.full(numbers.size, np.inf)
    np.minimum.at(start, owner, steps.start_time)
    end = np.full(numbers.size, -np.inf)
    np.maximum.at(end, owner, steps.end_time)
    cyc["start_time"], cyc["end_time"] = start, end
    cyc["charge"], cyc["discharge"] = charge, discharge
    if mass is not None:
        cyc["specific_charge"] = charge / (mass * 1e-3)
        cyc["specific_discharge"] = discharge / (mass * 1e-3)
    if area is not None:
        cyc["areal_charge"] = charge / area
        cyc["areal_discharge"] = discharge / area
    # a half-cycle counts only above 1e-3 of the median half-cycle of its direction: a
    # transition row's picoampere-hours are not a charge
    floor_c = 1e-3 * float(np.median(charge[charge > 0])) if (charge > 0).any() else 0.0
    floor_d = 1e-3 * float(np.median(discharge[discharge > 0])) if (discharge > 0).any() else 0.0
    both = (charge > floor_c) & (discharge > floor_d)
    complete = both.copy()
    if complete.size and _ends_cut_short(steps, per_step):
        complete[-1] = False
    discharge_first = convention == "discharge-first" or (
        convention == "native" and _native_starts_with_discharge(steps))
    numerator, denominator = (charge, discharge) if discharge_first else (discharge, charge)
    cyc["ce"] = np.where(both, 100.0 * numerator / np.where(both, denominator, 1.0), np.nan)
    cyc["charge_energy"] = total(steps.charge_wh) * 1e3
    cyc["discharge_energy"] = total(steps.discharge_wh) * 1e3
    with np.errstate(divide="ignore", invalid="ignore"):
        q_ch, q_dis = total(steps.charge_vq_q), total(steps.discharge_vq_q)
        v_ch = np.where((charge > floor_c) & (q_ch > 0), total(steps.charge_vq) / q_ch, np.nan)
        v_dis = np.where((discharge > floor_d) & (q_dis > 0), total(steps.discharge_vq) / q_dis,
                         np.nan)
    cyc["mean_charge_voltage"], cyc["mean_discharge_voltage"] = v_ch, v_dis
    cyc["polarisation"] = v_ch - v_dis

    # retention and its figures use complete cycles only: a leading half-cycle, a record
    # that ends mid-discharge or a noise "discharge" is no reference and no end point
    full = np.flatnonzero(complete)
    first = int(full[0]) if full.size else None
    peak = int(full[np.argmax(discharge[full])]) if full.size else None
    nan = np.full(numbers.size, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        cyc["retention_first"] = (np.where(complete, 100.0 * discharge / discharge[first], np.nan)
                                  if first is not None else nan)
        cyc["retention_peak"] = (np.where(complete, 100.0 * discharge / discharge[peak], np.nan)
                                 if peak is not None else nan)
    cyc["complete"] = complete
    cyc["charge_integral"] = total(steps.charge_integral_ah) * 1e3
    cyc["discharge_integral"] = total(steps.discharge_integral_ah) * 1e3

    def cycles_to(threshold: float) -> int | None:
        if peak is None:
            return None
        after = np.flatnonzero(cyc["retention_peak"][peak:] < threshold)  # NaN never is
        return int(numbers[peak + after[0]]) if after.size else None

    last = int(full[-1]) if full.size else None
    message = "" if numbers.size else "no cycles"
    if numbers.size and not complete.all():
        open_cycles = ", ".join(str(int(c)) for c in numbers[~complete][:5])
        notes.append(f"incomplete cycles (left out of retention): {open_cycles}"
                     + (" …" if (~complete).sum() > 5 else ""))
    if steps.starts_mid_step:
        notes.append("the file starts partway through a step: the first cycle's capacities "
                     "include charge counted before the first row")
    if steps.capacity_source == "counters" and steps.counter_deviation > 0.01:
        notes.append(f"the cycler's counters and the integral of the logged current differ by up "
                     f"to {100 * steps.counter_deviation:.2g} % in a step (sparse logging or a "
                     "counter the reader misread)")
    if notes:
        message = "; ".join(notes)
    return CycleSummary(
        success=bool(numbers.size), message=message,
        convention=convention,
        ce_definition="charge / discharge" if discharge_first else "discharge / charge",
        cycles=cyc, active_mass_mg=mass, mass_source=mass_source, area_cm2=area,
        n_cycles=int(numbers.size),
        first_cycle=None if first is None else int(numbers[first]),
        peak_cycle=None if peak is None else int(numbers[peak]),
        peak_discharge_capacity_mah=float(discharge[peak]) if peak is not None else math.nan,
        final_retention_vs_peak_pct=float(cyc["retention_peak"][last]) if last is not None else math.nan,
        final_retention_vs_first_pct=float(cyc["retention_first"][last]) if last is not None else math.nan,
        cycles_to_90=cycles_to(90.0), cycles_to_80=cycles_to(80.0),
        capacity_source=steps.capacity_source, counter_deviation=steps.counter_deviation,
        steps=steps,
        provenance=make_provenance(
            "ssbkit.cycling.summarize_cycles",
            settings={"convention": convention, "active_mass_mg": mass, "mass_source": mass_source,
                      "area_cm2": area, "rest_current_a": steps.rest_current_a},
            inputs={"record": record.fingerprint()}),
    )
