"""Rate capability: blocks of cycles at one C-rate, their capacity, and recovery.

A rate test cycles a cell a few times at each of a series of currents (0.1, 0.2, 0.5,
1, 2 C …) and often returns to the first rate at the end. Here each cycle's current is that of
its largest discharge step (``by="charge"``: charge step), the charge it passed over the
time it took, which is the set current of a CC step and is not diluted by a CV tail or a
step-down; consecutive complete cycles whose currents agree within ``tolerance``
(relative) form a block, and incomplete cycles (a record cut mid-discharge) none.

The C-rate is the current over a reference capacity: ``nominal_capacity_mah``, or a
theoretical/specific capacity [mAh/g] × the active mass. Without either the C-rate is
left out (NaN) rather than guessed from a measured capacity, and blocks are labelled by
current. A block whose rate matches an earlier block's has a **recovery**: its mean
capacity as a percentage of that earlier block's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Result, frozen_array, frozen_table, make_provenance
from ssbkit.core.validate import one_of, positive
from ssbkit.cycling.cycles import step_cycles
from ssbkit.cycling.data import CyclingRecord
from ssbkit.cycling.summary import CycleSummary, summarize_cycles

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RateResult", "c_rate_label", "rate_capability"]

_BLOCK_COLUMNS = {
    "block": ("block", ""),
    "first_cycle": ("first cycle", ""),
    "last_cycle": ("last cycle", ""),
    "n_cycles": ("cycles", ""),
    "current_ma": ("current [mA]", "mA"),
    "c_rate": ("C-rate [1/h]", "1/h"),
    "capacity_mah": ("discharge capacity [mAh]", "mAh"),
    "capacity_std_mah": ("discharge capacity std [mAh]", "mAh"),
    "specific_capacity": ("specific discharge capacity [mAh/g]", "mAh/g"),
    "last_capacity_mah": ("last discharge capacity [mAh]", "mAh"),
    "ce": ("coulombic efficiency [%]", "%"),
    "recovery": ("recovery [%]", "%"),
    "recovery_of": ("recovery of block", ""),
}


def c_rate_label(c_rate: float) -> str:
    """A C-rate as people write it: 0.1 -> "0.1C", 2 -> "2C", 0.333 -> "C/3".

    >>> [c_rate_label(x) for x in (0.1, 0.5, 1.0, 2.0, 1 / 3, 0.05)]
    ['0.1C', '0.5C', '1C', '2C', 'C/3', '0.05C']
    """
    if not math.isfinite(c_rate) or c_rate <= 0:
        return "?"
    if c_rate < 1:
        inverse = 1 / c_rate
        if abs(inverse - round(inverse)) < 0.02 * inverse and round(inverse) in (3, 6, 7, 15):
            return f"C/{round(inverse)}"
    return f"{c_rate:.3g}C"


@dataclass(frozen=True, kw_only=True)
class RateResult(Result):
    """Blocks of constant rate (``blocks``: key -> per-block array) and the per-cycle rates."""

    by: str
    reference_capacity_mah: float | None
    blocks: Mapping[str, np.ndarray] = field(repr=False)
    cycle_current_ma: np.ndarray = field(repr=False)
    cycle_c_rate: np.ndarray = field(repr=False)
    summary: CycleSummary | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", frozen_table(self.blocks))
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                object.__setattr__(self, name, frozen_array(value))

    @property
    def n_blocks(self) -> int:
        return int(self.blocks["block"].size)

    def labels(self) -> list[str]:
        """Each block's rate as written in a paper ("0.1C"), or its current without a C-rate."""
        return [c_rate_label(c) if math.isfinite(c) else f"{i:.3g} mA"
                for c, i in zip(self.blocks["c_rate"], self.blocks["current_ma"], strict=True)]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame({_BLOCK_COLUMNS[k][0]: v for k, v in self.blocks.items()})
        frame.insert(1, "rate", self.labels())
        return frame

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("summary", None)
        rows = []
        for j, text in enumerate(self.labels()):
            row: dict[str, Any] = {"block": j + 1, "rate": text}
            for key, (_, unit) in _BLOCK_COLUMNS.items():
                if key == "block":
                    continue
                value = self.blocks[key][j]
                if key in ("first_cycle", "last_cycle", "n_cycles", "recovery_of"):
                    row[key] = None if value < 0 else int(value)
                else:
                    value = float(value)
                    row[key] = {"value": value if math.isfinite(value) else None, "unit": unit}
            rows.append(row)
        out["blocks"] = rows
        return out

    def _report_lines(self) -> list[str]:
        lines = [f"  {self.n_blocks} rate blocks (by {self.by} current)"]
        specific = np.isfinite(self.blocks["specific_capacity"]).any()
        unit = "mAh/g" if specific else "mAh"
        capacity = self.blocks["specific_capacity" if specific else "capacity_mah"]
        for j, text in enumerate(self.labels()):
            rec = self.blocks["recovery"][j]
            tail = f"  recovery {rec:.1f} %" if math.isfinite(rec) else ""
            lines.append(f"  {text:>9}: cycles {int(self.blocks['first_cycle'][j])}–"
                         f"{int(self.blocks['last_cycle'][j])}, {capacity[j]:.4g} {unit}{tail}")
        return lines


def rate_capability(record: CyclingRecord, *, nominal_capacity_mah: float | None = None,
                    specific_capacity_mah_g: float | None = None, by: str = "discharge",
                    tolerance: float = 0.1, convention: str = "charge-first",
                    summary: CycleSummary | None = None, **mass: Any) -> RateResult:
    """Group the cycles of ``record`` into rate blocks (see the module docstring).

    ``mass`` takes the keyword arguments of ``summarize_cycles`` that give the active mass
    (``active_mass_mg``, ``composite_mass_mg`` + ``active_fraction``, ``loading_mg_cm2`` +
    ``area_cm2``); ``specific_capacity_mah_g`` needs one of them.
    """
    by = one_of("by", by, ("discharge", "charge"))
    tolerance = positive("tolerance", tolerance)
    if summary is None:
        summary = summarize_cycles(record, convention=convention, **mass)
    elif mass:
        raise InputError("give the mass to summarize_cycles when passing a summary", source="summary")
    steps = summary.steps
    if steps is None:
        raise InputError("the summary carries no steps", source="summary")
    reference = None
    if nominal_capacity_mah is not None and specific_capacity_mah_g is not None:
        raise InputError("give nominal_capacity_mah or specific_capacity_mah_g, not both",
                         source="nominal_capacity_mah")
    if nominal_capacity_mah is not None:
        reference = positive("nominal_capacity_mah", nominal_capacity_mah)
    elif specific_capacity_mah_g is not None:
        if summary.active_mass_mg is None:
            raise InputError("a specific capacity needs the active mass (active_mass_mg, or "
                             "composite mass/loading)", source="specific_capacity_mah_g")
        reference = positive("specific_capacity_mah_g", specific_capacity_mah_g) * \
            summary.active_mass_mg * 1e-3

    # each cycle's current: that of its largest step in the chosen direction (charge
    # passed over time spent), so a CV tail, a step-down or a one-row transition step
    # does not dilute or replace the set current
    per_step = step_cycles(steps, summary.convention)
    cycles = summary.cycles["cycle"]
    position = np.searchsorted(cycles, per_step)
    direction = -1 if by == "discharge" else 1
    passed = steps.discharge_ah if by == "discharge" else steps.charge_ah
    duration = steps.end_time - steps.start_time
    candidates = np.flatnonzero((steps.direction == direction) & (duration > 0))
    order = candidates[np.lexsort((passed[candidates], position[candidates]))]
    current_ma = np.full(cycles.size, np.nan)
    # the last of each cycle's candidates in that order is its largest step
    current_ma[position[order]] = passed[order] * 3.6e6 / duration[order]
    c_rate = current_ma / reference if reference else np.full(cycles.size, np.nan)

    # blocks: consecutive cycles within tolerance of the block's first cycle
    capacity = summary.cycles["discharge"]
    # incomplete cycles (a record cut mid-discharge) belong to no block
    valid = np.isfinite(current_ma) & (capacity > 0) & summary.cycles["complete"]
    block_of = np.full(cycles.size, -1)
    block, anchor = -1, math.nan
    for j in np.flatnonzero(valid):  # per cycle (hundreds), not per row
        if not (abs(current_ma[j] - anchor) <= tolerance * anchor):
            block, anchor = block + 1, current_ma[j]
        block_of[j] = block
    n = block + 1
    out: dict[str, np.ndarray] = {k: np.full(n, np.nan) for k in _BLOCK_COLUMNS}
    specific = summary.cycles.get("specific_discharge")
    ce = summary.cycles["ce"]
    for b in range(n):
        members = np.flatnonzero(block_of == b)
        out["block"][b] = b + 1
        out["first_cycle"][b], out["last_cycle"][b] = cycles[members[0]], cycles[members[-1]]
        out["n_cycles"][b] = members.size
        out["current_ma"][b] = float(np.median(current_ma[members]))
        out["c_rate"][b] = float(np.median(c_rate[members]))
        out["capacity_mah"][b] = float(np.mean(capacity[members]))
        if members.size > 1:
            out["capacity_std_mah"][b] = float(np.std(capacity[members], ddof=1))
        out["specific_capacity"][b] = float(np.mean(specific[members])) if specific is not None else math.nan
        out["last_capacity_mah"][b] = float(capacity[members[-1]])
        out["ce"][b] = float(np.nanmean(ce[members])) if np.isfinite(ce[members]).any() else math.nan
        out["recovery_of"][b] = -1
        for earlier in range(b - 1):  # the adjacent block differs by construction
            i0 = out["current_ma"][earlier]
            if abs(out["current_ma"][b] - i0) <= tolerance * i0:
                out["recovery"][b] = 100.0 * out["capacity_mah"][b] / out["capacity_mah"][earlier]
                out["recovery_of"][b] = earlier + 1
                break
    for key in ("block", "first_cycle", "last_cycle", "n_cycles", "recovery_of"):
        out[key] = out[key].astype(np.int64)
    return RateResult(
        success=n > 0, message="" if n else "no cycle with a discharge",
        by=by, reference_capacity_mah=reference, blocks=out,
        cycle_current_ma=current_ma, cycle_c_rate=c_rate, summary=summary,
        provenance=make_provenance(
            "ssbkit.cycling.rate_capability",
            settings={"by": by, "tolerance": tolerance, "reference_capacity_mah": reference,
                      "convention": summary.convention, "active_mass_mg": summary.active_mass_mg},
            inputs={"record": record.fingerprint()}),
    )
