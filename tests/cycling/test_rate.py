"""Rate capability: blocks from the discharge current, C-rates, recovery (analytic truth)."""

import json

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.cycling.rate import c_rate_label, rate_capability

NOMINAL = 1.0  # mAh


def rate_record(schedule, *, rows=36):
    """Cycles at the given C-rates (nominal 1 mAh): charge at 0.1 C, discharge at the rate,
    each discharge delivering ``fraction`` of nominal."""
    steps = []
    for c_rate, fraction in schedule:
        i_dis = c_rate * NOMINAL * 1e-3  # A
        dt = fraction * NOMINAL * 3.6 / i_dis / rows  # s per row to deliver `fraction` [mAh]
        dt_ch = NOMINAL * 3.6 / 0.1e-3 / rows
        steps.append((0.1e-3, rows, 3.0, 4.0, dt_ch))
        steps.append((-i_dis, rows, 4.0, 3.0, dt))
    return steps


def build_timed(steps):
    # build() takes one dt for the record; glue records of different dt into one by
    # rescaling time per step
    from ssbkit.cycling import CyclingRecord
    from ssbkit.cycling.data import CURRENT, STEP_COUNT, TIME, VOLTAGE

    t, i, v, sc = [], [], [], []
    now = 0.0
    for k, (current, n, v0, v1, dt) in enumerate(steps, start=1):
        for j in range(n):
            now += dt
            t.append(now)
            i.append(current)
            v.append(v0 + (v1 - v0) * (j + 1) / n)
            sc.append(k)
    return CyclingRecord.from_columns({TIME: t, VOLTAGE: v, CURRENT: i, STEP_COUNT: sc})


SCHEDULE = ([(0.1, 0.96)] * 3 + [(0.5, 0.85)] * 3 + [(1.0, 0.55)] * 3 + [(2.0, 0.30)] * 3
            + [(0.1, 0.94)] * 3)


def test_blocks_rates_capacities_and_recovery():
    rec = build_timed(rate_record(SCHEDULE))
    r = rate_capability(rec, nominal_capacity_mah=NOMINAL)
    assert r.n_blocks == 5
    assert r.labels() == ["0.1C", "0.5C", "1C", "2C", "0.1C"]
    assert np.allclose(r.blocks["c_rate"], [0.1, 0.5, 1.0, 2.0, 0.1], rtol=1e-9)
    # a step's first row counts the interval before it: each discharge delivers exactly
    # fraction × nominal
    assert np.allclose(r.blocks["capacity_mah"], [0.96, 0.85, 0.55, 0.30, 0.94], rtol=1e-9)
    assert r.blocks["n_cycles"].tolist() == [3, 3, 3, 3, 3]
    assert r.blocks["first_cycle"].tolist() == [1, 4, 7, 10, 13]
    assert r.blocks["recovery_of"].tolist() == [-1, -1, -1, -1, 1]
    assert r.blocks["recovery"][4] == pytest.approx(100 * 0.94 / 0.96)
    doc = json.loads(r.to_json())
    assert doc["blocks"][4]["rate"] == "0.1C"
    assert doc["blocks"][4]["recovery"]["unit"] == "%"
    assert doc["blocks"][0]["recovery_of"] is None


def test_specific_reference_and_no_reference():
    rec = build_timed(rate_record(SCHEDULE[:6]))
    # 1 mAh nominal = 500 mAh/g × 2 mg
    r = rate_capability(rec, specific_capacity_mah_g=500, active_mass_mg=2.0)
    assert np.allclose(r.blocks["c_rate"], [0.1, 0.5])
    assert np.allclose(r.blocks["specific_capacity"], [480, 425])
    bare = rate_capability(rec)
    assert np.isnan(bare.blocks["c_rate"]).all()
    assert bare.labels() == ["0.1 mA", "0.5 mA"]


def test_negative_control_one_rate_is_one_block():
    rec = build_timed(rate_record([(0.5, 0.8)] * 6))
    assert rate_capability(rec, nominal_capacity_mah=1).n_blocks == 1


def test_bad_arguments():
    rec = build_timed(rate_record(SCHEDULE[:2]))
    with pytest.raises(InputError, match="specific_capacity_mah_g"):
        rate_capability(rec, specific_capacity_mah_g=500)
    with pytest.raises(InputError, match="not both"):
        rate_capability(rec, nominal_capacity_mah=1, specific_capacity_mah_g=500, active_mass_mg=1)
    with pytest.raises(InputError, match="tolerance"):
        rate_capability(rec, tolerance=0)
    with pytest.raises(InputError, match="by"):
        rate_capability(rec, by="both")


def test_c_rate_labels():
    assert c_rate_label(1 / 3) == "C/3"
    assert c_rate_label(0.2) == "0.2C"
    assert c_rate_label(float("nan")) == "?"





def test_a_step_down_or_cv_tail_does_not_dilute_the_cycle_current():
    # regression: a 0.25 mA discharge stepping down to 0.1 and 0.05 mA read as 0.21 mA
    from test_steps import build as build_rows

    cycle = [(0.25e-3, 40, 3.0, 4.0), (-0.25e-3, 40, 4.0, 3.0), (-0.1e-3, 10, 3.0, 2.98),
             (-0.05e-3, 10, 2.98, 2.97)]
    r = rate_capability(build_rows(cycle * 3))
    assert r.n_blocks == 1
    assert r.blocks["current_ma"][0] == pytest.approx(0.25)
