"""Reference electrodes, the first-charge activation plateau, and fixed-capacity protocols.

Solid-state cells are often built against Li–In, whose potential is 0.62 V above Li/Li⁺
(the two-phase Li–In plateau), so a voltage "vs Li–In" plus 0.62 V is "vs Li/Li⁺".
``convert_reference`` shifts a record's voltages and says so in its metadata.

``activation_plateau`` measures the plateau of a first charge (an activation step, such
as the LiI-coating study's 1.7 V vs In–Li about 100 mV above equilibrium): the charge
passed is histogrammed over voltage (5 mV bins); the plateau is the window of ±``window_v``
around the most populated bin, its potential is the charge-weighted median voltage inside
the window, and its overpotential is that minus the given equilibrium potential.

``fixed_capacity`` checks a protocol that charges to a set capacity and discharges to a
voltage cut-off: which cycles reached the set capacity (within ``tolerance``), and the
first that fell short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, make_provenance
from ssbkit.core.validate import finite, positive
from ssbkit.cycling.cycles import cycle_numbers
from ssbkit.cycling.data import VOLTAGE, CyclingRecord
from ssbkit.cycling.steps import find_steps
from ssbkit.cycling.summary import CycleSummary

__all__ = [
    "LI_IN_VS_LI",
    "REFERENCE_POTENTIALS",
    "ActivationResult",
    "FixedCapacityResult",
    "activation_plateau",
    "convert_reference",
    "fixed_capacity",
]

LI_IN_VS_LI = 0.62  # V: the Li–In two-phase potential against Li/Li⁺
# counter/reference electrode -> its potential vs Li/Li⁺ [V]
REFERENCE_POTENTIALS = {"Li": 0.0, "Li/Li+": 0.0, "Li-In": LI_IN_VS_LI, "In-Li": LI_IN_VS_LI}


def convert_reference(record: CyclingRecord, *, reference: str | None = "Li-In",
                      offset_v: float | None = None) -> CyclingRecord:
    """The record with voltages vs Li/Li⁺: measured voltage + the reference's potential.

    ``reference`` names the counter/reference electrode (``REFERENCE_POTENTIALS``);
    ``offset_v`` gives the shift directly instead.

    >>> from ssbkit.cycling.data import TIME, CURRENT
    >>> rec = CyclingRecord.from_columns({TIME: [0, 1], VOLTAGE: [1.0, 1.1], CURRENT: [0, 0]})
    >>> convert_reference(rec).voltage.round(2).tolist()
    [1.62, 1.72]
    """
    if offset_v is not None:
        offset, name = finite("offset_v", offset_v), f"{offset_v:+g} V"
    else:
        if reference not in REFERENCE_POTENTIALS:
            raise InputError(f"unknown reference {reference!r}; known: "
                             f"{', '.join(REFERENCE_POTENTIALS)} (or give offset_v)", source="reference")
        offset, name = REFERENCE_POTENTIALS[reference], str(reference)
    columns = dict(record.columns)
    columns[VOLTAGE] = record.voltage + offset
    metadata = {**record.metadata, "voltage_reference": "Li/Li+",
                "voltage_shift_v": offset, "measured_against": name}
    return replace(record, columns=columns, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class ActivationResult(Result):
    """The plateau of one charge: potential, overpotential and the charge it holds."""

    cycle: int
    plateau_voltage: Estimate
    equilibrium_voltage: float
    overpotential: Estimate = field(metadata={"unit": "mV"})
    plateau_capacity_mah: float
    plateau_fraction: float
    charge_capacity_mah: float

    def _report_lines(self) -> list[str]:
        return [f"  cycle {self.cycle} charge plateau at {self.plateau_voltage} "
                f"(overpotential {self.overpotential} vs {self.equilibrium_voltage:g} V)",
                f"  {self.plateau_capacity_mah:.4g} mAh on the plateau, "
                f"{100 * self.plateau_fraction:.1f} % of the charge"]


def activation_plateau(record: CyclingRecord, *, equilibrium_v: float, cycle: int = 1,
                       convention: str = "charge-first", window_v: float = 0.025,
                       bin_v: float = 0.005) -> ActivationResult:
    """The plateau of the charge of ``cycle`` and its overpotential (module docstring)."""
    equilibrium = finite("equilibrium_v", equilibrium_v)
    window = positive("window_v", window_v)
    width = positive("bin_v", bin_v)
    steps = find_steps(record)
    cycles = cycle_numbers(record, convention=convention, steps=steps)
    if cycle not in set(np.unique(cycles).tolist()):
        raise InputError(f"no cycle {cycle}; the record has cycles {int(cycles.min())}–"
                         f"{int(cycles.max())}", source="cycle")
    # per-row charge passed, charge steps of that cycle only
    from ssbkit.cycling.steps import row_increments

    rows = np.zeros(len(record), bool)
    for j in np.flatnonzero(steps.direction == 1):
        rows[steps.start_row[j]:steps.stop_row[j]] = True
    rows &= cycles == cycle
    if record.has("Charging Capacity / Ah"):
        dq = row_increments(record.column("Charging Capacity / Ah")) * 1e3
    else:
        dt = np.diff(record.time, prepend=record.time[0])
        dq = np.clip(record.current, 0, None) * dt / 3.6
    v = record.voltage
    use = rows & np.isfinite(v) & (dq > 0)
    if not use.any():
        raise InputError(f"cycle {cycle} has no charge", source="cycle")
    v, dq = v[use], dq[use]
    edges = np.arange(v.min() - width, v.max() + 2 * width, width)
    hist, _ = np.histogram(v, bins=edges, weights=dq)
    centre = 0.5 * (edges[:-1] + edges[1:])[int(np.argmax(hist))]
    inside = np.abs(v - centre) <= window
    order = np.argsort(v[inside])
    cum = np.cumsum(dq[inside][order])
    median = float(v[inside][order][np.searchsorted(cum, 0.5 * cum[-1])])
    q_plateau, total = float(dq[inside].sum()), float(dq.sum())
    # spread of the plateau voltage: charge-weighted std inside the window
    spread = float(np.sqrt(np.average((v[inside] - median) ** 2, weights=dq[inside])))
    return ActivationResult(
        cycle=int(cycle), plateau_voltage=Estimate(median, spread, "V"),
        equilibrium_voltage=equilibrium,
        overpotential=Estimate(1e3 * (median - equilibrium), 1e3 * spread, "mV"),
        plateau_capacity_mah=q_plateau, plateau_fraction=q_plateau / total,
        charge_capacity_mah=total,
        provenance=make_provenance("ssbkit.cycling.activation_plateau",
                                   settings={"equilibrium_v": equilibrium, "cycle": cycle,
                                             "convention": convention, "window_v": window,
                                             "bin_v": width},
                                   inputs={"record": record.fingerprint()}),
    )


@dataclass(frozen=True, kw_only=True)
class FixedCapacityResult(Result):
    """Which cycles reached the set charge capacity, and the first that fell short."""

    limit_mah: float
    reached: np.ndarray = field(repr=False)
    cycles: np.ndarray = field(repr=False)
    first_short_cycle: int | None
    n_reached: int

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["reached_cycles"] = [int(c) for c in self.cycles[self.reached]]
        out.pop("reached")
        out.pop("cycles")
        return out

    def _report_lines(self) -> list[str]:
        tail = ("every cycle reached it" if self.first_short_cycle is None
                else f"first short: cycle {self.first_short_cycle}")
        return [f"  {self.n_reached} of {self.cycles.size} charges reached {self.limit_mah:.4g} mAh; "
                + tail]


def fixed_capacity(summary: CycleSummary, *, limit_mah: float | None = None,
                   limit_mah_g: float | None = None, tolerance: float = 0.01) -> FixedCapacityResult:
    """Check a charge-to-set-capacity protocol against a cycle summary."""
    if (limit_mah is None) == (limit_mah_g is None):
        raise InputError("give exactly one of limit_mah and limit_mah_g", source="limit_mah")
    if limit_mah_g is not None:
        if summary.active_mass_mg is None:
            raise InputError("a limit in mAh/g needs the active mass in the summary",
                             source="limit_mah_g")
        limit = positive("limit_mah_g", limit_mah_g) * summary.active_mass_mg * 1e-3
    else:
        limit = positive("limit_mah", limit_mah)
    tol = positive("tolerance", tolerance)
    charge = summary.cycles["charge"]
    has = charge > 0
    reached = has & (charge >= limit * (1 - tol))
    short = np.flatnonzero(has & ~reached)
    # a charge that is short only because the record ends mid-charge is not a failure
    if short.size and short[-1] == charge.size - 1 and summary.cycles["discharge"][-1] == 0:
        short = short[:-1]
    return FixedCapacityResult(
        limit_mah=limit, reached=reached, cycles=summary.cycles["cycle"],
        first_short_cycle=int(summary.cycles["cycle"][short[0]]) if short.size else None,
        n_reached=int(reached.sum()),
        message="" if math.isfinite(limit) else "no limit",
        provenance=make_provenance("ssbkit.cycling.fixed_capacity",
                                   settings={"limit_mah": limit, "tolerance": tol}),
    )
