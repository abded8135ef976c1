"""Milling designs over FRB × BMR (ssbkit.synthesis.grid).

The grid is the argyrodite study's: FRB 5/10/20 % × BMR 20/40/80 in a 50 mL jar with
10 mm WC balls. Without hindering, the Burgio–Magini power is proportional to the number
of balls and the powder mass is (balls × ball mass) / BMR, so the dose depends on BMR
alone: ratios to the first condition are BMR / 20.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from ssbkit import InputError
from ssbkit.synthesis import MillingGrid, mill_grid

WC_DENSITY = 15.6  # g/cm³
BALL_10_MM = math.pi * 1.0**3 / 6  # mL
FRBS = [0.05, 0.10, 0.20]
BMRS = [20, 40, 80]
JAR = dict(jar_volume_ml=50, ball_diameter_mm=10, ball_material="WC")
MILL = dict(rpm=300, time_h=1, plate_radius_mm=70, jar_radius_mm=22.5)


def study_grid(**options) -> MillingGrid:
    return mill_grid(frbs=FRBS, bmrs=BMRS, **{**JAR, **options})


def test_every_pair_is_planned_frb_slowest():
    grid = study_grid()
    assert len(grid.plans) == 9
    assert [(p.frb_target, p.bmr) for p in grid.plans] == [
        (f, b) for f in FRBS for b in BMRS]
    assert [p.n_balls for p in grid.plans] == [5] * 3 + [10] * 3 + [19] * 3
    for p in grid.plans:
        ball_mass = p.n_balls * WC_DENSITY * BALL_10_MM
        assert p.ball_mass.value == pytest.approx(ball_mass, rel=1e-12)
        assert p.powder_mass.value == pytest.approx(ball_mass / p.bmr, rel=1e-12)
    # 19 balls at 80:1: 155.19 g / 80.
    assert grid.plans[-1].powder_mass.value == pytest.approx(1.940, abs=5e-4)
    assert grid.doses == () and grid.dose_ratios == ()


def test_dose_ratios_follow_bmr_without_hindering():
    grid = study_grid(dose=MILL)
    assert len(grid.doses) == 9
    ratios = grid.dose_ratios
    assert ratios[0] == 1.0
    assert ratios[1] == pytest.approx(2.0, rel=1e-12)  # BMR 40 vs 20
    assert ratios[2] == pytest.approx(4.0, rel=1e-12)  # BMR 80 vs 20
    for plan, ratio in zip(grid.plans, ratios, strict=True):
        assert ratio == pytest.approx(plan.bmr / 20, rel=1e-12)


def test_each_dose_is_the_single_condition_dose():
    grid = study_grid(dose=MILL)
    for plan, dose in zip(grid.plans, grid.doses, strict=True):
        assert dose.plan is plan
        # P = E_b N_b f_b with E_b = 23.45 mJ and f_b = 10 Hz at 300 rpm, 1:−2 (see
        # test_dose): the jar turns at ω_v = −ω_p in the laboratory.
        omega_p = 2 * math.pi * 300 / 60
        v_squared = (omega_p * 0.070) ** 2 + omega_p**2 * 0.0175**2 * 3
        power = 0.5 * WC_DENSITY * BALL_10_MM / 1e3 * v_squared * plan.n_balls * 10.0
        assert dose.dose.value == pytest.approx(power * 3600 / plan.powder_mass.value,
                                                rel=1e-12)


def test_hindering_separates_the_filling_rates():
    epsilon = 0.8
    grid = study_grid(dose={**MILL, "hindering_exponent": epsilon})
    n_max = 0.60 * 50 / BALL_10_MM  # balls in a jar full of a loose bed
    phi = [1 - (p.n_balls / n_max) ** epsilon for p in grid.plans]
    for i, ratio in enumerate(grid.dose_ratios):
        expected = (grid.plans[i].bmr / 20) * phi[i] / phi[0]
        assert ratio == pytest.approx(expected, rel=1e-12)
    # At fixed BMR, more balls means a lower dose per gram once hindering counts.
    assert grid.dose_ratios[0] > grid.dose_ratios[3] > grid.dose_ratios[6]


def test_reference_condition_can_be_chosen():
    grid = study_grid(dose=MILL, reference=4)  # FRB 10 %, BMR 40
    assert grid.dose_ratios[4] == 1.0
    assert grid.dose_ratios[8] == pytest.approx(2.0, rel=1e-12)
    assert grid.dose_ratios[0] == pytest.approx(0.5, rel=1e-12)


def test_plan_options_reach_every_plan():
    grid = study_grid(convention="bulk", packing=0.60)
    assert [p.n_balls for p in grid.plans[::3]] == [3, 6, 11]
    assert {p.convention for p in grid.plans} == {"bulk"}


# --- result contracts -------------------------------------------------------------------


def test_grid_is_frozen():
    grid = study_grid()
    with pytest.raises(dataclasses.FrozenInstanceError):
        grid.reference = 1


def test_to_dict_is_strict_json():
    grid = study_grid(dose=MILL)
    data = json.loads(json.dumps(grid.to_dict(), allow_nan=False))
    assert [p["n_balls"] for p in data["plans"]] == [p.n_balls for p in grid.plans]
    assert data["plans"][0]["powder_mass"]["unit"] == "g"
    assert data["plans"][0]["ball_mass"]["unit"] == "g"
    assert "frb_achieved" in data["plans"][0]
    assert data["dose_ratios"] == pytest.approx([b / 20 for _ in FRBS for b in BMRS])
    assert data["doses"][0]["dose"]["unit"] == "J/g"
    assert data["reference"] == 0


def test_to_frame_without_doses():
    frame = study_grid().to_frame()
    assert list(frame.columns) == ["FRB target [%]", "BMR", "balls", "FRB achieved [%]",
                                   "ball mass [g]", "powder mass [g]"]
    assert list(frame["balls"]) == [5, 5, 5, 10, 10, 10, 19, 19, 19]
    assert list(frame["FRB target [%]"]) == pytest.approx([5, 5, 5, 10, 10, 10, 20, 20, 20])
    assert frame["FRB achieved [%]"].iloc[-1] == pytest.approx(100 * 19 * BALL_10_MM / 50)


def test_to_frame_with_doses():
    grid = study_grid(dose=MILL)
    frame = grid.to_frame()
    assert list(frame.columns)[-2:] == ["dose [J/g]", "dose ratio"]
    assert list(frame["dose ratio"]) == list(grid.dose_ratios)
    assert list(frame["dose [J/g]"]) == [d.dose.value for d in grid.doses]


def test_report_names_the_reference():
    text = study_grid(dose=MILL).report()
    assert "ratios against FRB 5 %, BMR 20:1" in text


def test_report_gives_the_transmission_as_on_the_data_sheet():
    text = study_grid(dose={**MILL, "transmission_ratio": -1.5}).report()
    assert "transmission 1:-1.5" in text


def test_transmission_ratio_reaches_every_dose():
    grid = study_grid(dose={**MILL, "transmission_ratio": -1.5})
    # 1:−1.5: the jar turns at −0.5 ω_p in the laboratory, 1.5 ω_p on the plate.
    assert {d.transmission_ratio for d in grid.doses} == {-1.5}
    assert {d.lab_speed_ratio for d in grid.doses} == {-0.5}
    for d in grid.doses:
        assert d.impact_frequency.value == pytest.approx(1.5 * 300 / 60, rel=1e-12)


# --- bad inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(("frbs", "bmrs"), [([], BMRS), (FRBS, []), ([], [])])
def test_empty_axis_is_refused(frbs, bmrs):
    with pytest.raises(InputError, match="^the grid needs at least one FRB and one BMR"):
        mill_grid(frbs=frbs, bmrs=bmrs, **JAR)


@pytest.mark.parametrize("reference", [9, -1])
def test_reference_outside_the_grid_is_refused(reference):
    with pytest.raises(InputError, match=rf"^reference: must index one of the 9 conditions, "
                                         rf"got {reference}"):
        study_grid(dose=MILL, reference=reference)


def test_bad_condition_in_the_grid_is_refused():
    with pytest.raises(InputError, match=r"^frb: FRB 0.7 is more than balls can fill"):
        mill_grid(frbs=[0.1, 0.7], bmrs=BMRS, **JAR)


def test_bad_dose_option_is_refused():
    with pytest.raises(InputError, match=r"^transmission_ratio: a jar that does not turn"):
        study_grid(dose={**MILL, "transmission_ratio": 0})


def test_grid_without_detachment_is_refused():
    # 1:−3 with 1 mm balls: (22.5 − 0.5) mm · 2² = 88 mm > R_p = 70 mm.
    with pytest.raises(InputError, match=r"^transmission_ratio: .*never leave the jar wall"):
        mill_grid(frbs=[0.1], bmrs=[20], jar_volume_ml=50, ball_diameter_mm=1,
                  ball_material="WC", dose={**MILL, "transmission_ratio": -3})
