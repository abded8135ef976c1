"""Ball-mill plans (ssbkit.synthesis.milling).

The worked example is the argyrodite study's 50 mL jar with 10 mm WC balls; the expected
ball counts and masses are computed here by hand from the sphere volume π d³ / 6.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssbkit import InputError
from ssbkit.synthesis import BALL_MATERIALS, MillingPlan, find_ball_material, plan_milling
from ssbkit.synthesis.milling import ball_volume_ml

WC_DENSITY = 15.6  # g/cm³
BALL_10_MM = math.pi * 1.0**3 / 6  # mL: a 10 mm (1 cm) sphere, 0.5236 mL
JAR = 50.0  # mL

# Reproducible property tests: the same examples every run, and no example database on disk.
PROPERTY = settings(max_examples=80, deadline=None, derandomize=True, database=None)


def wc_plan(**overrides) -> MillingPlan:
    options = dict(jar_volume_ml=JAR, ball_diameter_mm=10, ball_material="WC", frb=0.10,
                   bmr=80)
    options.update(overrides)
    return plan_milling(**options)


# --- analytic: the 50 mL jar of the argyrodite study -----------------------------------


def test_worked_example_10_percent_bmr_80():
    plan = wc_plan()
    # 10 % of 50 mL = 5 mL of balls = 5 / 0.5236 = 9.55 balls -> 10.
    assert plan.n_balls_exact == pytest.approx(0.10 * JAR / BALL_10_MM, rel=1e-12)
    assert plan.n_balls == 10
    single = WC_DENSITY * BALL_10_MM  # 8.168 g
    assert plan.single_ball_mass.value == pytest.approx(single, rel=1e-12)
    assert plan.ball_mass.value == pytest.approx(10 * single, rel=1e-12)
    assert plan.powder_mass.value == pytest.approx(10 * single / 80, rel=1e-12)
    assert plan.powder_mass.value == pytest.approx(1.02, abs=0.005)
    assert plan.ball_volume == pytest.approx(BALL_10_MM, rel=1e-12)
    assert plan.ball_material == "WC"
    assert plan.convention == "solid"
    assert plan.frb_target == 0.10 and plan.bmr == 80.0


@pytest.mark.parametrize(
    ("frb", "n_balls", "achieved_pct", "ball_mass_g"),
    [(0.05, 5, 5.24, 40.84), (0.10, 10, 10.47, 81.68), (0.20, 19, 19.90, 155.19)],
)
def test_solid_convention_table(frb, n_balls, achieved_pct, ball_mass_g):
    plan = wc_plan(frb=frb)
    assert plan.n_balls == n_balls
    # The published table, to its last printed digit ...
    assert 100 * plan.frb_achieved == pytest.approx(achieved_pct, abs=0.005)
    assert plan.ball_mass.value == pytest.approx(ball_mass_g, abs=0.005)
    # ... and the formulas behind it: N V_ball / V_jar and N ρ V_ball.
    assert plan.frb_achieved == pytest.approx(n_balls * BALL_10_MM / JAR, rel=1e-12)
    assert plan.ball_mass.value == pytest.approx(n_balls * WC_DENSITY * BALL_10_MM, rel=1e-12)


@pytest.mark.parametrize(("frb", "n_balls"), [(0.05, 3), (0.10, 6), (0.20, 11)])
def test_bulk_convention_with_packing_060(frb, n_balls):
    plan = wc_plan(frb=frb, convention="bulk", packing=0.60)
    # The bed of balls (balls / 0.60) fills frb of the jar.
    assert plan.n_balls_exact == pytest.approx(frb * 0.60 * JAR / BALL_10_MM, rel=1e-12)
    assert plan.n_balls == n_balls
    assert plan.frb_achieved == pytest.approx(n_balls * BALL_10_MM / (0.60 * JAR), rel=1e-12)
    assert plan.convention == "bulk" and plan.packing == 0.60


def test_conventions_differ_by_the_packing_fraction():
    solid = wc_plan(frb=0.3)
    bulk = wc_plan(frb=0.3, convention="bulk", packing=0.62)
    assert bulk.n_balls_exact == pytest.approx(0.62 * solid.n_balls_exact, rel=1e-12)


def test_powder_mass_is_ball_mass_over_bmr():
    for bmr in (20, 40, 80):
        plan = wc_plan(bmr=bmr)
        assert plan.powder_mass.value == pytest.approx(plan.ball_mass.value / bmr, rel=1e-12)
    assert wc_plan(bmr=20).powder_mass.value == pytest.approx(
        4 * wc_plan(bmr=80).powder_mass.value, rel=1e-12)


def test_density_instead_of_material():
    plan = wc_plan(ball_material=None, ball_density_g_cm3=14.5)
    assert plan.ball_material == "custom"
    assert plan.ball_density.value == 14.5
    assert plan.ball_mass.value == pytest.approx(10 * 14.5 * BALL_10_MM, rel=1e-12)


@pytest.mark.parametrize(("name", "key", "density"), [
    ("WC", "WC", 15.6), ("tungsten carbide", "WC", 15.6), ("zirconia", "ZrO2", 5.9),
    ("YSZ", "ZrO2", 5.9), ("Stainless Steel", "steel", 7.9), ("agate", "agate", 2.65),
    ("silicon nitride", "Si3N4", 3.2),
])
def test_ball_materials_and_aliases(name, key, density):
    material = find_ball_material(name)
    assert material is BALL_MATERIALS[key]
    assert material.density == density
    assert material.source  # every density says where it comes from


@pytest.mark.parametrize("convention", ["solid", "bulk"])
def test_rounding_up_never_overfills_a_jar(convention):
    # Numbers picked so that the nearest whole ball is one too many: 10 mm balls in a
    # 50.5 mL jar, packing 0.6. The jar holds 0.6 × 50.5 / 0.5236 = 57.87 balls; FRB 0.598
    # of the limit asks for 57.68, which rounds up to 58 and would overfill it.
    packing = 0.6
    frb_max = packing if convention == "solid" else 1.0
    bed = 1.0 if convention == "solid" else packing
    frb = 0.598 / 0.6 * frb_max
    n_exact = frb * bed * 50.5 / BALL_10_MM
    limit = frb_max * bed * 50.5 / BALL_10_MM
    assert n_exact == pytest.approx(57.68, abs=0.005)
    assert limit == pytest.approx(57.87, abs=0.005)
    assert round(n_exact) == 58 > math.floor(limit) == 57  # the case this test is for
    assert 58 * BALL_10_MM / (bed * 50.5) > frb_max  # 58 balls do overfill

    plan = plan_milling(jar_volume_ml=50.5, ball_diameter_mm=10, ball_material="WC",
                        frb=frb, bmr=80, convention=convention, packing=packing)
    assert plan.n_balls_exact == pytest.approx(n_exact, rel=1e-12)
    assert plan.n_balls == 57
    assert plan.frb_achieved == pytest.approx(57 * BALL_10_MM / (bed * 50.5), rel=1e-12)
    assert plan.frb_achieved <= frb_max


@pytest.mark.parametrize("convention", ["solid", "bulk"])
def test_a_full_jar_is_filled_to_the_limit(convention):
    # FRB at its limit: 0.6 × 50 / 0.5236 = 57.30 balls -> 57, in either convention.
    frb = 0.60 if convention == "solid" else 1.0
    plan = wc_plan(frb=frb, convention=convention, packing=0.60)
    assert plan.n_balls == 57
    assert plan.frb_achieved <= frb


def test_ball_volume_helper():
    assert ball_volume_ml(10) == pytest.approx(math.pi / 6, rel=1e-15)  # a 1 cm sphere
    assert ball_volume_ml(1) == pytest.approx(math.pi / 6000, rel=1e-15)
    assert ball_volume_ml(20) == pytest.approx(8 * math.pi / 6, rel=1e-15)


def test_huge_jar_volume_no_longer_hangs():
    # Regression: `--jar-ml 2.0163792766308415e24` asked for ~1e23 balls; rounding up went
    # one ball over the limit and the plan took balls off one at a time, never finishing.
    with pytest.raises(InputError, match=r"^jar_volume_ml: must be in \(0, 1e\+06\]"):
        plan_milling(jar_volume_ml=2.0163792766308415e24, ball_diameter_mm=10,
                     ball_material="WC", frb=0.6, bmr=80)


def test_too_many_balls_are_refused():
    # 10 % of a 1 m³ jar in 1 mm balls: 1e5 mL / 5.236e-4 mL = 1.91e8 balls.
    with pytest.raises(InputError, match=r"^jar_volume_ml: the plan would need 1.91e\+08 balls"):
        wc_plan(jar_volume_ml=1e6, ball_diameter_mm=1)


def test_vanishing_ball_is_refused():
    with pytest.raises(InputError):
        wc_plan(ball_diameter_mm=1e-200)


def test_largest_accepted_inputs():
    # A 1 m ball in a 1 m³ jar; BMR 1e5; the densest allowed balls.
    plan = plan_milling(jar_volume_ml=1e6, ball_diameter_mm=1e3, ball_density_g_cm3=25,
                        frb=0.6, bmr=1e5)
    volume = math.pi * 100.0**3 / 6  # mL: 5.24e5
    assert plan.n_balls == 1  # 0.6 × 1e6 / 5.24e5 = 1.15
    assert plan.ball_mass.value == pytest.approx(25 * volume, rel=1e-12)
    assert plan.powder_mass.value == pytest.approx(25 * volume / 1e5, rel=1e-12)


def test_overflowing_powder_mass_is_refused():
    # BMR 1e-320 (subnormal) makes powder = ball mass / BMR overflow.
    with pytest.raises(InputError, match=r"non-finite powder_mass \(inf\)"):
        wc_plan(bmr=1e-320)


def test_single_ball_that_overfills_the_jar_is_refused():
    # Regression: one 10 mm ball (0.5236 mL) in a 0.8 mL jar is 65 % of it, above the 60 %
    # that balls can fill in the solid convention; the plan used to keep it anyway.
    with pytest.raises(InputError, match="overfills"):
        plan_milling(jar_volume_ml=0.8, ball_diameter_mm=10, ball_material="WC",
                     frb=0.60, bmr=10)


# --- property: any valid request gives a consistent plan -------------------------------


@PROPERTY
@given(
    jar=st.floats(min_value=10, max_value=500),
    diameter=st.floats(min_value=1, max_value=20),
    frb_share=st.floats(min_value=0.01, max_value=1.0),
    bmr=st.floats(min_value=1, max_value=200),
    convention=st.sampled_from(["solid", "bulk"]),
    packing=st.floats(min_value=0.55, max_value=0.64),
    density=st.floats(min_value=2, max_value=16),
)
def test_plan_is_consistent(jar, diameter, frb_share, bmr, convention, packing, density):
    volume = math.pi * (diameter / 10) ** 3 / 6
    frb_max = packing if convention == "solid" else 1.0
    bed = 1.0 if convention == "solid" else packing
    frb = frb_share * frb_max
    n_exact = frb * bed * jar / volume
    if round(n_exact) < 1:
        with pytest.raises(InputError, match="at least one is needed"):
            plan_milling(jar_volume_ml=jar, ball_diameter_mm=diameter, frb=frb, bmr=bmr,
                         ball_density_g_cm3=density, convention=convention, packing=packing)
        return
    plan = plan_milling(jar_volume_ml=jar, ball_diameter_mm=diameter, frb=frb, bmr=bmr,
                        ball_density_g_cm3=density, convention=convention, packing=packing)
    assert plan.n_balls_exact == pytest.approx(n_exact, rel=1e-12)
    assert plan.n_balls >= 1
    # The nearest whole ball, unless that would overfill the jar: then the most it holds.
    most = math.floor(frb_max * bed * jar / volume + 1e-9)
    assert plan.n_balls <= most
    assert plan.n_balls == round(n_exact) or plan.n_balls == most < round(n_exact)
    assert plan.frb_achieved == pytest.approx(plan.n_balls * volume / (bed * jar), rel=1e-12)
    assert plan.frb_achieved <= frb_max * (1 + 1e-12)
    assert plan.ball_mass.value == pytest.approx(plan.n_balls * density * volume, rel=1e-12)
    assert plan.powder_mass.value == pytest.approx(plan.ball_mass.value / bmr, rel=1e-12)


# --- result contracts ------------------------------------------------------------------


def test_plan_is_frozen():
    plan = wc_plan()
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.n_balls = 11


def test_to_dict_is_strict_json():
    plan = wc_plan()
    data = json.loads(json.dumps(plan.to_dict(), allow_nan=False))
    assert data["n_balls"] == 10
    assert data["ball_mass"]["unit"] == "g"
    assert data["ball_mass"]["value"] == pytest.approx(10 * WC_DENSITY * BALL_10_MM)
    assert data["powder_mass"]["unit"] == "g"
    assert data["powder_mass"]["value"] == plan.powder_mass.value
    assert data["frb_achieved"] == plan.frb_achieved
    assert data["jar_volume"] == {"value": 50.0, "stderr": None, "unit": "mL"}
    assert data["convention"] == "solid"


def test_to_frame_columns_carry_units():
    frame = wc_plan().to_frame()
    assert len(frame) == 1
    for column in ("jar_volume [mL]", "ball_diameter [mm]", "ball_density [g/cm³]",
                   "ball_mass [g]", "powder_mass [g]", "single_ball_mass [g]", "n_balls",
                   "frb_achieved"):
        assert column in frame.columns
    assert frame["n_balls"].iloc[0] == 10
    assert frame["powder_mass [g]"].iloc[0] == pytest.approx(10 * WC_DENSITY * BALL_10_MM / 80)


def test_report_says_convention_and_counts():
    text = wc_plan().report()
    assert "solid convention" in text and "10 balls" in text


# --- bad inputs ------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"frb": 0.61}, r"^frb: FRB 0.61 is more than balls can fill \(balls packed at 0.6"),
    ({"frb": 0.65, "packing": 0.64}, r"^frb: FRB 0.65 is more than balls can fill"),
    ({"frb": 1.2, "convention": "bulk"}, r"^frb: .*a ball bed cannot exceed the jar volume"),
    ({"frb": 0.005}, r"^frb: FRB 0.005 holds 0.48 balls of 10 mm; at least one is needed"),
    ({"frb": 0}, r"^frb: must be > 0"),
    ({"frb": float("nan")}, r"^frb: must be a finite number"),
    ({"bmr": 0}, r"^bmr: must be in \(0, 100000\]"),
    ({"bmr": -80}, r"^bmr: must be in \(0, 100000\]"),
    ({"bmr": 1.5e5}, r"^bmr: must be in \(0, 100000\]"),
    ({"jar_volume_ml": 0}, r"^jar_volume_ml: must be in \(0, 1e\+06\]"),
    ({"jar_volume_ml": 1.1e6}, r"^jar_volume_ml: must be in \(0, 1e\+06\]"),
    ({"jar_volume_ml": float("inf")}, r"^jar_volume_ml: must be a finite number"),
    ({"ball_diameter_mm": -10}, r"^ball_diameter_mm: must be in \[0.001, 1000\]"),
    ({"ball_diameter_mm": 1001}, r"^ball_diameter_mm: must be in \[0.001, 1000\]"),
    ({"jar_volume_ml": 0.5}, r"^ball_diameter_mm: one 10 mm ball \(0.524 mL\) is larger than "
                             r"the 0.5 mL jar"),
    ({"ball_material": "diamond"}, r"^ball_material: unknown ball material 'diamond'; "
                                   r"known: WC, ZrO2, steel, agate, Si3N4"),
    ({"ball_density_g_cm3": 15.6}, r"^ball_material: give either a ball material or a ball "
                                   r"density, not both or neither"),
    ({"ball_material": None}, r"^ball_material: give either a ball material or a ball density"),
    ({"ball_material": None, "ball_density_g_cm3": 0},
     r"^ball_density_g_cm3: must be in \(0, 25\]"),
    ({"ball_material": None, "ball_density_g_cm3": 25.1},
     r"^ball_density_g_cm3: must be in \(0, 25\] \(osmium, the densest element, is 22.6\)"),
    ({"ball_material": None, "ball_density_g_cm3": float("nan")},
     r"^ball_density_g_cm3: must be a finite number"),
    ({"convention": "packed"}, r"^convention: must be one of solid, bulk"),
    ({"packing": 0.8}, r"^packing: must be in \(0, 0.7405\]"),
    ({"packing": 0}, r"^packing: must be in \(0, 0.7405\]"),
])
def test_bad_plan_inputs_are_refused(overrides, expected):
    with pytest.raises(InputError, match=expected):
        wc_plan(**overrides)


def test_unknown_material_lookup_is_refused():
    with pytest.raises(InputError, match="unknown ball material 'glass'"):
        find_ball_material("glass")
