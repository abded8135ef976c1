"""Per-cycle summary: sums over steps, CE conventions, masses, retention (analytic truth)."""

import json
import math

import numpy as np
import pytest
from test_steps import CCCV, build

from ssbkit.core.errors import InputError
from ssbkit.cycling import CyclingRecord, active_mass, summarize_cycles
from ssbkit.cycling.data import CURRENT, STEP_COUNT, TIME, VOLTAGE

MAH_PER_CHARGE = 0.002 * 500 / 3.6  # 50 rows × 10 s × 2 mA
MAH_PER_DISCHARGE = 0.002 * 480 / 3.6


def cccv_record(cv_rows=20):
    """Charge as CC then a separate CV step (Neware's layout), rest, discharge, rest."""
    steps = [(0.0, 5, 3.0, 3.0), (0.002, 50, 3.0, 4.2, "CC_Chg"),
             (0.0005, cv_rows, 4.2, 4.2, "CV_Chg"), (0.0, 5, 4.2, 4.1),
             (-0.002, 48, 4.1, 3.0, "CC_DChg"), (0.0, 5, 3.0, 3.0)]
    return build(steps * 2)


def test_cccv_charge_is_the_sum_of_its_cc_and_cv_steps():
    s = summarize_cycles(cccv_record())
    cv = 0.0005 * 200 / 3.6
    assert s.n_cycles == 2
    assert np.allclose(s.column("charge"), MAH_PER_CHARGE + cv, rtol=1e-12)
    assert np.allclose(s.column("discharge"), MAH_PER_DISCHARGE, rtol=1e-12)
    assert np.allclose(s.column("ce"), 100 * MAH_PER_DISCHARGE / (MAH_PER_CHARGE + cv))
    kinds = s.steps.kind.tolist()
    assert kinds.count("cc_charge") == 2 and kinds.count("cv_charge") == 2


def test_ce_follows_the_convention():
    rec = build(CCCV * 2)
    cathode = summarize_cycles(rec, convention="charge-first")
    assert np.allclose(cathode.column("ce"), 100 * 480 / 500)
    assert cathode.ce_definition == "discharge / charge"
    anode = summarize_cycles(rec, convention="discharge-first")
    # discharge-first on a charge-first record: cycle 1 = the leading charge alone
    assert math.isnan(anode.column("ce")[0])
    assert np.allclose(anode.column("ce")[1], 100 * 500 / 480)


def test_mean_voltage_energy_and_polarisation():
    # linear V ramp at constant current: mean voltage = mean of the logged V weighted by dQ
    rec = build(CCCV)
    s = summarize_cycles(rec)
    v_charge = np.mean(3.0 + 1.2 * np.arange(1, 51) / 50)
    v_discharge = np.mean(4.1 - 1.1 * np.arange(1, 49) / 48)
    # trapezoid voltage over each interval except the first (the step's own first V)
    assert s.column("mean_charge_voltage")[0] == pytest.approx(v_charge - 1.2 / 50 / 2 * 49 / 50, rel=1e-9)
    assert s.column("mean_discharge_voltage")[0] == pytest.approx(
        v_discharge + 1.1 / 48 / 2 * 47 / 48, rel=1e-9)
    assert s.column("polarisation")[0] == pytest.approx(
        s.column("mean_charge_voltage")[0] - s.column("mean_discharge_voltage")[0])
    assert s.column("charge_energy")[0] == pytest.approx(
        s.column("mean_charge_voltage")[0] * MAH_PER_CHARGE, rel=1e-12)


def test_specific_and_areal_capacity():
    rec = build(CCCV)
    s = summarize_cycles(rec, loading_mg_cm2=2.0, area_cm2=0.5, active_fraction=0.6)
    assert s.active_mass_mg == pytest.approx(0.6) and s.mass_source == "argument"
    assert s.column("specific_discharge")[0] == pytest.approx(MAH_PER_DISCHARGE / 0.6e-3)
    assert s.column("areal_discharge")[0] == pytest.approx(MAH_PER_DISCHARGE / 0.5)
    direct = summarize_cycles(rec, active_mass_mg=0.6)
    assert direct.column("specific_discharge")[0] == pytest.approx(s.column("specific_discharge")[0])


def test_the_files_own_mass_is_used_and_named_but_never_a_default():
    rec = build(CCCV)
    assert summarize_cycles(rec).active_mass_mg is None
    with_mass = CyclingRecord(rec.columns, {"active_mass_mg": 2.5}, "f")
    s = summarize_cycles(with_mass)
    assert (s.active_mass_mg, s.mass_source) == (2.5, "file")


def test_active_mass_needs_one_consistent_way():
    assert active_mass(composite_mass_mg=10, active_fraction=0.6) == pytest.approx(6.0)
    assert active_mass() is None
    for bad in ({"active_mass_mg": 1, "composite_mass_mg": 2},
                {"composite_mass_mg": 2}, {"loading_mg_cm2": 2},
                {"active_mass_mg": 1, "active_fraction": 0.5}, {"active_fraction": 0.5},
                {"active_mass_mg": -1}, {"composite_mass_mg": 2, "active_fraction": 1.5}):
        with pytest.raises(InputError):
            active_mass(**bad)


def fading_record(capacities_mah):
    """One CC charge and discharge per cycle with the given discharge capacities."""
    rows = []
    for q in capacities_mah:
        n = max(int(round(q / (0.001 * 10 / 3.6))), 1)  # 1 mA, 10 s rows
        rows += [(0.001, n, 3.0, 4.0), (-0.001, n, 4.0, 3.0)]
    return build(rows)


def test_retention_peak_and_cycles_to_thresholds():
    q = np.array([100, 110, 120, 118, 112, 107, 100, 95, 80, 70]) * (0.001 * 10 / 3.6)
    s = summarize_cycles(fading_record(q))
    disc = s.column("discharge")
    assert np.allclose(disc, q, rtol=1e-9)
    assert s.peak_cycle == 3 and s.first_cycle == 1
    assert s.final_retention_vs_peak_pct == pytest.approx(100 * 70 / 120)
    assert s.final_retention_vs_first_pct == pytest.approx(70.0)
    # retention vs peak: 95/120 = 79.2 % (cycle 8) is the first below 80 %; 107/120 = 89.2 % (cycle 6)
    assert s.cycles_to_80 == 8 and s.cycles_to_90 == 6
    never = summarize_cycles(fading_record(q[:4]))
    assert never.cycles_to_80 is None


def test_json_has_one_object_per_cycle_with_units():
    s = summarize_cycles(build(CCCV * 2), active_mass_mg=1.0)
    doc = json.loads(s.to_json())
    assert len(doc["cycles"]) == 2
    first = doc["cycles"][0]
    assert first["cycle"] == 1
    assert first["discharge_capacity"]["unit"] == "mAh"
    assert first["specific_discharge_capacity"]["unit"] == "mAh/g"
    assert first["coulombic_efficiency"] == {"value": pytest.approx(96.0), "unit": "%"}
    assert doc["provenance"]["settings"]["convention"] == "charge-first"
    assert "steps" not in doc


def test_counters_are_checked_against_the_current():
    rec = build(CCCV * 2)
    cols = dict(rec.columns)
    cols["Charging Capacity / Ah"] = cols["Charging Capacity / Ah"] * 1.1  # a misread counter
    s = summarize_cycles(CyclingRecord(cols, {}, "bad"))
    assert s.counter_deviation == pytest.approx(0.1 / 1.1)  # |1.1q − q| / 1.1q
    assert "differ" in s.message
    assert summarize_cycles(rec).message == ""


def test_current_only_record_integrates_the_current():
    t = np.arange(1, 101) * 36.0
    i = np.r_[np.full(50, 0.01), np.full(50, -0.01)]
    rec = CyclingRecord.from_columns({TIME: t, VOLTAGE: np.linspace(3, 4, 100), CURRENT: i,
                                      STEP_COUNT: np.r_[np.ones(50), np.full(50, 2)]})
    s = summarize_cycles(rec)
    assert s.capacity_source == "current"
    # nothing is known before the first row: 49 intervals of charge, then the discharge
    # step's first interval counts with the discharge current
    assert s.column("charge")[0] == pytest.approx(49 * 0.01 * 36 / 3.6)
    assert s.column("discharge")[0] == pytest.approx(50 * 0.01 * 36 / 3.6)


def test_not_a_record():
    with pytest.raises(InputError, match="CyclingRecord"):
        summarize_cycles({"a": 1})


# --- regressions from review --------------------------------------------------------------


def test_a_noise_half_cycle_has_no_coulombic_efficiency():
    # an Arbin file's cycle 1 "charge" was 3e-9 mAh against a 1.7 mAh discharge: CE 5.9e10 %
    rec = build([(1e-12, 3, 3.0, 3.0), (-0.002, 48, 4.1, 3.0), (0.002, 50, 3.0, 4.2),
                 (-0.002, 48, 4.1, 3.0)], reset="step")
    s = summarize_cycles(rec, convention="discharge-first")
    assert np.isnan(s.column("ce")).sum() >= 1
    assert np.nanmax(s.column("ce")) < 200


def test_an_offset_current_in_a_rest_does_not_split_the_cycle():
    rec = build([(0.001, 50, 3.0, 3.8), (-2e-7, 20, 3.8, 3.8), (0.001, 20, 3.8, 4.0),
                 (-0.001, 60, 4.0, 3.0)])
    s = summarize_cycles(rec)
    assert s.steps.kind.tolist() == ["cc_charge", "rest", "cc_charge", "cc_discharge"]
    assert s.n_cycles == 1
    assert s.column("ce")[0] == pytest.approx(100 * 60 / 70, rel=1e-3)


def test_a_record_cut_mid_discharge_is_left_out_of_retention():
    per_row = 0.001 * 10 / 3.6
    full = [(0.001, 40, 3.0, 4.0), (-0.001, 40, 4.0, 3.0)]
    cut = [(0.001, 40, 3.0, 4.0), (-0.001, 10, 4.0, 3.75)]  # stops 0.75 V above the cut-off
    s = summarize_cycles(build(full * 3 + cut))
    assert s.column("complete").tolist() == [True, True, True, False]
    assert np.isnan(s.column("retention_peak")[-1])
    assert s.cycles_to_80 is None and s.final_retention_vs_peak_pct == pytest.approx(100)
    assert "incomplete cycles" in s.message and "4" in s.message
    # a last discharge that reaches the same cut-off is complete
    ended = summarize_cycles(build(full * 3))
    assert ended.column("complete").all()
    assert ended.column("discharge")[-1] == pytest.approx(40 * per_row)


def test_retention_vs_first_starts_at_the_first_complete_cycle():
    # a leading partial discharge is cycle 1 on its own (charge-first) and no reference
    rec = build([(-0.001, 5, 3.5, 3.0)] + [(0.001, 40, 3.0, 4.0), (-0.001, 40, 4.0, 3.0)] * 3)
    s = summarize_cycles(rec)
    assert s.first_cycle == 2
    assert s.final_retention_vs_first_pct == pytest.approx(100)


def test_a_row_without_voltage_does_not_pull_the_mean_voltage_down():
    t = np.arange(1, 11) * 360.0
    v = np.full(10, 3.5)
    v[4] = np.nan
    rec = CyclingRecord.from_columns({TIME: t, VOLTAGE: v, CURRENT: np.full(10, 1e-3),
                                      STEP_COUNT: np.ones(10)})
    s = summarize_cycles(rec)
    assert s.column("mean_charge_voltage")[0] == pytest.approx(3.5)
    assert s.column("charge_energy")[0] == pytest.approx(3.5 * s.column("charge")[0])


def test_native_cycles_that_open_with_a_discharge_give_charge_over_discharge():
    rec = build([(-0.001, 40, 1.0, 0.01), (0.001, 36, 0.01, 1.0)] * 2)
    # build numbers cycles charge-first; renumber natively: each D+C pair one cycle
    cols = dict(rec.columns)
    cols["Cycle Count / 1"] = np.repeat([1, 2], 76)
    s = summarize_cycles(CyclingRecord(cols, {}, "anode"), convention="native")
    assert s.ce_definition == "charge / discharge"
    assert s.column("ce")[0] == pytest.approx(90.0)


def test_one_glitch_row_does_not_make_every_step_a_rest():
    rec = build(CCCV * 2)
    cols = dict(rec.columns)
    i = cols["Current / A"].copy()
    i[7] = 20.0  # a 20 A spike in a 2 mA record
    steps = summarize_cycles(CyclingRecord(cols, {}, "spike")).steps
    assert (steps.kind != "rest").sum() >= 4


def test_the_cyclers_1_mg_placeholder_is_not_a_mass():
    rec = CyclingRecord(build(CCCV).columns, {"active_mass_mg": 1.0}, "f")
    s = summarize_cycles(rec)
    assert s.active_mass_mg is None and "placeholder" in s.message


def test_results_are_frozen_all_the_way_down():
    s = summarize_cycles(build(CCCV * 2))
    with pytest.raises(ValueError):
        s.cycles["discharge"][0] = 999.0
    with pytest.raises(TypeError):
        s.cycles["new"] = np.zeros(2)
    with pytest.raises(ValueError):
        s.steps.charge_ah[0] = 1.0
    from ssbkit.cycling import rate_capability

    r = rate_capability(build(CCCV * 2))
    with pytest.raises(ValueError):
        r.blocks["capacity_mah"][0] = 0.0
