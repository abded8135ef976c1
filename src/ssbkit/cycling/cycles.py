"""Which cycle each step belongs to, under an explicit convention.

"Cycle 1" means different things in different tools (``../shared/reference/cycling.md``
§4.3), so the convention is always named, recorded in results, and one of:

- ``native``: the instrument's own cycle column (``Cycle Count / 1``), as written;
- ``charge-first``: a cycle starts at a charge that follows a discharge (Neware's "chg"
  statistic; the usual one for cathodes, which are charged first). Everything before the
  first such charge, a leading discharge included, is cycle 1;
- ``discharge-first``: a cycle starts at a discharge that follows a charge (anodes and
  full cells that start discharged); everything before, a leading charge included, is
  cycle 1.

Rests and pulse steps never start a cycle; they belong to the cycle of the step before
them (or cycle 1 at the start of the record).

>>> import numpy as np
>>> cycles_from_directions(np.array([-1, 0, 1, 0, -1, 1, -1]), "charge-first").tolist()
[1, 1, 2, 2, 2, 3, 3]
"""

from __future__ import annotations

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.validate import one_of
from ssbkit.cycling.data import CYCLE, CyclingRecord
from ssbkit.cycling.steps import StepTable, find_steps

__all__ = ["CONVENTIONS", "cycle_numbers", "cycles_from_directions", "step_cycles"]

CONVENTIONS = ("native", "charge-first", "discharge-first")


def cycles_from_directions(direction: np.ndarray, convention: str) -> np.ndarray:
    """Cycle of each step from its direction (+1 charge, −1 discharge, 0 neither)."""
    convention = one_of("convention", convention, CONVENTIONS[1:])
    d = np.asarray(direction, np.int64)
    opener = 1 if convention == "charge-first" else -1
    nz = np.flatnonzero(d)
    cycle = np.ones(d.size, np.int64)
    if nz.size == 0:
        return cycle
    dn = d[nz]
    prev = np.r_[0, dn[:-1]]
    starts = (dn == opener) & (prev == -opener)
    cycle_nz = 1 + np.cumsum(starts)
    # forward-fill to the steps in between (rests and pulses)
    owner = np.maximum.accumulate(np.where(d != 0, np.arange(d.size), -1))
    where_known = owner >= 0
    position = np.searchsorted(nz, owner[where_known])
    cycle[where_known] = cycle_nz[position]
    return cycle


def step_cycles(steps: StepTable, convention: str) -> np.ndarray:
    """The cycle of each step of ``steps`` under ``convention``."""
    convention = one_of("convention", convention, CONVENTIONS)
    if convention == "native":
        return steps.native_cycle.copy()
    return cycles_from_directions(steps.direction, convention)


def cycle_numbers(record: CyclingRecord, *, convention: str = "charge-first",
                  steps: StepTable | None = None) -> np.ndarray:
    """The cycle of every row of ``record`` (int64) under ``convention``."""
    convention = one_of("convention", convention, CONVENTIONS)
    if convention == "native" and not record.has(CYCLE):
        raise InputError(f"the 'native' convention needs the instrument's cycle column "
                         f"({CYCLE!r}), which this file lacks; use charge-first or "
                         "discharge-first", source=record.source or "convention")
    steps = find_steps(record) if steps is None else steps
    per_step = step_cycles(steps, convention)
    return np.repeat(per_step, steps.stop_row - steps.start_row)
