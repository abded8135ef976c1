"""Steps: boundaries, kinds, and capacities from counters that restart at any row."""

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.cycling import CyclingRecord, cycle_numbers, find_steps
from ssbkit.cycling.cycles import cycles_from_directions
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CURRENT,
    CYCLE,
    DISCHARGE_CAPACITY,
    STEP_COUNT,
    STEP_TYPE,
    TIME,
    VOLTAGE,
)
from ssbkit.cycling.steps import row_increments


def build(steps, *, dt=10.0, reset="step", counters=True, step_count=True):
    """A record from (current [A], n rows, V start, V end[, name]) per step.

    Counters count exactly the rectangle integral of each row's current over the interval
    before it, as a cycler does; ``reset`` is "step", "cycle" (charge-first) or "never".
    """
    t, i, v, ch, dis, sc, names, cyc = [], [], [], [], [], [], [], []
    now, qc, qd, cycle, last_dir = 0.0, 0.0, 0.0, 1, 0
    for k, step in enumerate(steps, start=1):
        current, n, v0, v1, *name = step
        direction = int(np.sign(current))
        if direction == 1 and last_dir == -1:
            cycle += 1
            if reset == "cycle":
                qc = qd = 0.0
        if direction:
            last_dir = direction
        if reset == "step":
            qc = qd = 0.0
        for j in range(n):
            now += dt
            if current > 0:
                qc += current * dt / 3600
            else:
                qd += -current * dt / 3600
            t.append(now)
            i.append(current)
            v.append(v0 + (v1 - v0) * (j + 1) / n)
            ch.append(qc)
            dis.append(qd)
            sc.append(k)
            names.append(name[0] if name else "")
            cyc.append(cycle)
    cols = {TIME: t, VOLTAGE: v, CURRENT: i, CYCLE: cyc}
    if counters:
        cols[CHARGE_CAPACITY], cols[DISCHARGE_CAPACITY] = ch, dis
    if step_count:
        cols[STEP_COUNT] = sc
        cols[STEP_TYPE] = names
    return CyclingRecord.from_columns(cols, source="built")


CCCV = [(0.0, 5, 3.0, 3.0), (0.002, 50, 3.0, 4.2), (0.0, 5, 4.2, 4.1),
        (-0.002, 48, 4.1, 3.0), (0.0, 5, 3.0, 3.05)]


def test_row_increments_handles_every_reset_layout():
    # the same increments whether the counter restarts each step, each cycle or never
    inc = np.array([0.1, 0.2, 0.3, 0.05, 0.25])
    never = np.cumsum(inc)
    per_step = np.array([0.1, 0.3, 0.6, 0.05, 0.3])
    assert np.allclose(row_increments(never), inc)
    assert np.allclose(row_increments(per_step), inc)


@pytest.mark.parametrize("reset", ["step", "cycle", "never"])
def test_capacities_do_not_depend_on_where_counters_restart(reset):
    rec = build(CCCV * 3, reset=reset)
    steps = find_steps(rec)
    assert steps.capacity_source == "counters"
    # 50 rows × 10 s × 2 mA = 1000 mA·s = 0.27778 mAh, exactly, for every charge step
    charge = steps.charge_ah[steps.direction == 1] * 1e3
    assert np.allclose(charge, 0.002 * 500 / 3.6, rtol=1e-12)
    discharge = steps.discharge_ah[steps.direction == -1] * 1e3
    assert np.allclose(discharge, 0.002 * 480 / 3.6, rtol=1e-12)
    # counters and the current integral agree exactly for constant current
    assert steps.counter_deviation < 1e-9


def test_kinds_from_current_and_voltage():
    n = 40
    cv_current = list(np.geomspace(0.002, 0.0002, n))
    rows = [(0.002, 30, 3.0, 4.2), *[(c, 1, 4.2, 4.2) for c in cv_current]]
    # a CV step: constant voltage, falling current, written as one step
    t = np.arange(1, 30 + n + 1) * 10.0
    i = np.r_[np.full(30, 0.002), cv_current]
    v = np.r_[np.linspace(3.0, 4.2, 30), np.full(n, 4.2)]
    sc = np.r_[np.ones(30), np.full(n, 2)]
    rec = CyclingRecord.from_columns({TIME: t, VOLTAGE: v, CURRENT: i, STEP_COUNT: sc})
    kinds = find_steps(rec).kind.tolist()
    assert kinds == ["cc_charge", "cv_charge"]
    # the same rows as one step: CC then CV
    rec1 = CyclingRecord.from_columns({TIME: t, VOLTAGE: v, CURRENT: i, STEP_COUNT: np.ones(t.size)})
    assert find_steps(rec1).kind.tolist() == ["cccv_charge"]
    del rows


def test_pulse_step_counts_both_directions_positive():
    t = np.arange(1, 201) * 1.0
    i = np.where(np.arange(200) % 2 == 0, 0.5, -1.0)
    rec = CyclingRecord.from_columns({TIME: t, VOLTAGE: np.full(200, 3.7), CURRENT: i,
                                      STEP_COUNT: np.ones(200)})
    steps = find_steps(rec)
    assert steps.kind.tolist() == ["pulse"]
    assert steps.charge_ah[0] > 0 and steps.discharge_ah[0] > 0
    assert steps.direction.tolist() == [0]


def test_boundaries_from_current_when_the_file_has_no_step_column():
    rec = build(CCCV * 2, step_count=False)
    steps = find_steps(rec)
    assert steps.kind.tolist() == ["rest", "cc_charge", "rest", "cc_discharge",
                                   "rest", "cc_charge", "rest", "cc_discharge", "rest"]


def test_conventions():
    lead_discharge = [(-0.002, 20, 3.5, 3.0), (0.0, 3, 3.0, 3.0)] + CCCV * 2
    rec = build(lead_discharge)
    steps = find_steps(rec)
    charge_first = cycle_numbers(rec, convention="charge-first", steps=steps)
    discharge_first = cycle_numbers(rec, convention="discharge-first", steps=steps)
    # charge-first: the leading discharge is cycle 1 on its own, then C+D cycles
    per_step_cf = charge_first[steps.start_row]
    assert per_step_cf.tolist() == [1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3]
    per_step_df = discharge_first[steps.start_row]
    assert per_step_df.tolist() == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3]
    native = cycle_numbers(rec, convention="native", steps=steps)
    assert np.array_equal(native, rec.column(CYCLE))


def test_cycles_from_directions_ignores_rests_and_pulses():
    d = np.array([0, 1, 0, 0, -1, 0, 1, -1])
    assert cycles_from_directions(d, "charge-first").tolist() == [1, 1, 1, 1, 1, 1, 2, 2]
    assert cycles_from_directions(d, "discharge-first").tolist() == [1, 1, 1, 1, 2, 2, 2, 3]


def test_bad_convention_and_missing_native_cycle():
    rec = CyclingRecord.from_columns({TIME: [1, 2], VOLTAGE: [3, 3], CURRENT: [0.1, 0.1]})
    with pytest.raises(InputError, match="convention"):
        cycle_numbers(rec, convention="anode")
    with pytest.raises(InputError, match="native"):
        cycle_numbers(rec, convention="native")
    with pytest.raises(InputError, match="rest_current_a"):
        find_steps(rec, rest_current_a=-1)
