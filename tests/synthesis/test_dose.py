"""Milling dose, Burgio–Magini model (ssbkit.synthesis.dose).

Every expected number is computed here from the model's equations, written out in the
test with the mill geometry in SI units:

    ω_p = 2π rpm / 60,  ω_v = ratio · ω_p
    v_b = sqrt((ω_p R_p)² + ω_v² (r_v − d_b/2)² (1 − 2 ω_v/ω_p))
    E_b = ½ m_b v_b²,  f_b = K |ω_p − ω_v| / 2π,  φ_b = 1 − n_v^ε
    P = φ_b E_b N_b f_b,  D = P t / m_p
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssbkit import InputError
from ssbkit.synthesis import MillingPlan, milling_dose, plan_milling

WC_DENSITY = 15.6  # g/cm³
BALL_10_MM = math.pi * 1.0**3 / 6  # mL
BALL_MASS_KG = WC_DENSITY * BALL_10_MM / 1e3  # 8.168 g

# The argyrodite study's mill: 300 rpm, R_p 70 mm, 1:−2, 50 mL jar of inner radius 22.5 mm.
MILL = dict(rpm=300, time_h=1, plate_radius_mm=70, jar_radius_mm=22.5)

# Reproducible property tests: the same examples every run, and no example database on disk.
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def wc_plan(**overrides) -> MillingPlan:
    options = dict(jar_volume_ml=50, ball_diameter_mm=10, ball_material="WC", frb=0.10, bmr=80)
    options.update(overrides)
    return plan_milling(**options)


def velocity_by_hand(rpm, ratio, plate_mm, jar_mm, ball_mm):
    omega_p = 2 * math.pi * rpm / 60  # rad/s
    omega_v = ratio * omega_p
    arm = (jar_mm - ball_mm / 2) / 1e3  # m
    return math.sqrt((omega_p * plate_mm / 1e3) ** 2
                     + omega_v**2 * arm**2 * (1 - 2 * omega_v / omega_p))


# --- analytic: the worked example -------------------------------------------------------


def test_worked_example_300_rpm():
    d = milling_dose(wc_plan(), **MILL)
    assert d.ball_velocity.value == pytest.approx(3.30, abs=0.005)
    assert 1e3 * d.impact_energy.value == pytest.approx(44.4, abs=0.05)
    assert d.impact_frequency.value == pytest.approx(15.0, abs=0.05)
    per_ball = d.power.value / d.plan.n_balls
    assert per_ball == pytest.approx(0.67, abs=0.005)
    assert d.ball_velocity.unit == "m/s"
    assert d.impact_energy.unit == "J"
    assert d.impact_frequency.unit == "Hz"
    assert d.power.unit == "W"
    assert d.dose.unit == "J/g"


def test_worked_example_by_hand():
    plan = wc_plan()
    d = milling_dose(plan, **MILL)
    omega_p = 2 * math.pi * 300 / 60  # 31.416 rad/s
    omega_v = -2 * omega_p
    # (ω_p R_p)² = 4.836; ω_v² (r_v − d_b/2)² (1 − 2ω_v/ω_p) = 3947.8 × 0.0175² × 5 = 6.045
    v_squared = (omega_p * 0.070) ** 2 + omega_v**2 * (0.0225 - 0.005) ** 2 * (
        1 - 2 * omega_v / omega_p)
    assert d.ball_velocity.value == pytest.approx(math.sqrt(v_squared), rel=1e-12)
    energy = 0.5 * BALL_MASS_KG * v_squared
    assert d.impact_energy.value == pytest.approx(energy, rel=1e-12)
    frequency = (omega_p - omega_v) / (2 * math.pi)  # 3 × 5 Hz
    assert d.impact_frequency.value == pytest.approx(frequency, rel=1e-12)
    power = energy * 10 * frequency
    assert d.power.value == pytest.approx(power, rel=1e-12)
    assert d.time.value == 3600.0 and d.time.unit == "s"
    assert d.total_energy.value == pytest.approx(power * 3600, rel=1e-12)
    powder_g = 10 * WC_DENSITY * BALL_10_MM / 80
    assert d.dose.value == pytest.approx(power * 3600 / powder_g, rel=1e-12)
    assert d.hindering_factor == 1.0


def test_rpm_to_angular_velocity_without_vial_rotation():
    # Ratio 0: the ball only rides the plate, so v_b = ω_p R_p and f_b = rpm / 60 exactly.
    d = milling_dose(wc_plan(), rpm=600, time_h=1, plate_radius_mm=100, jar_radius_mm=22.5,
                     speed_ratio=0)
    assert d.ball_velocity.value == pytest.approx(2 * math.pi * 600 / 60 * 0.100, rel=1e-12)
    assert d.impact_frequency.value == pytest.approx(600 / 60, rel=1e-12)


@pytest.mark.parametrize(("rpm", "ratio", "plate_mm", "jar_mm", "ball_mm"), [
    (300, -2.0, 70, 22.5, 10),
    (400, -1.0, 75, 25.0, 5),
    (650, -2.5, 62.5, 20.0, 3),
    (200, 0.25, 120, 40.0, 20),
    (800, -3.0, 70, 22.5, 1),
])
def test_velocity_formula(rpm, ratio, plate_mm, jar_mm, ball_mm):
    plan = plan_milling(jar_volume_ml=80, ball_diameter_mm=ball_mm, ball_material="ZrO2",
                        frb=0.2, bmr=10)
    d = milling_dose(plan, rpm=rpm, time_h=1, plate_radius_mm=plate_mm, jar_radius_mm=jar_mm,
                     speed_ratio=ratio)
    assert d.ball_velocity.value == pytest.approx(
        velocity_by_hand(rpm, ratio, plate_mm, jar_mm, ball_mm), rel=1e-12)
    assert d.impact_frequency.value == pytest.approx(abs(1 - ratio) * rpm / 60, rel=1e-12)
    mass_kg = 5.9 * math.pi * (ball_mm / 10) ** 3 / 6 / 1e3
    assert d.impact_energy.value == pytest.approx(0.5 * mass_kg * d.ball_velocity.value**2,
                                                  rel=1e-12)


def test_impact_constant_scales_the_frequency():
    base = milling_dose(wc_plan(), **MILL)
    scaled = milling_dose(wc_plan(), **MILL, impact_constant=0.8)
    assert scaled.impact_frequency.value == pytest.approx(0.8 * base.impact_frequency.value)
    assert scaled.dose.value == pytest.approx(0.8 * base.dose.value, rel=1e-12)


# --- proportionality: dose ∝ time, ∝ BMR; hindering ------------------------------------


@pytest.mark.parametrize("hours", [0.5, 2, 10])
def test_dose_is_proportional_to_time(hours):
    one = milling_dose(wc_plan(), **MILL)
    more = milling_dose(wc_plan(), **{**MILL, "time_h": hours})
    assert more.dose.value == pytest.approx(hours * one.dose.value, rel=1e-12)
    assert more.total_energy.value == pytest.approx(hours * one.total_energy.value, rel=1e-12)
    assert more.power.value == pytest.approx(one.power.value, rel=1e-12)


def test_dose_is_proportional_to_bmr():
    # Same balls, a quarter of the powder: four times the dose.
    low = milling_dose(wc_plan(bmr=20), **MILL)
    high = milling_dose(wc_plan(bmr=80), **MILL)
    assert high.dose.value == pytest.approx(4 * low.dose.value, rel=1e-12)
    assert high.power.value == pytest.approx(low.power.value, rel=1e-12)


@pytest.mark.parametrize("convention", ["solid", "bulk"])
@pytest.mark.parametrize("epsilon", [0.3, 1.0, 2.5])
def test_hindering_factor_is_one_minus_filling_to_epsilon(convention, epsilon):
    plan = wc_plan(frb=0.20, convention=convention, packing=0.62)
    plain = milling_dose(plan, **MILL)
    hindered = milling_dose(plan, **MILL, hindering_exponent=epsilon)
    # n_v = N_b / N_b,max with N_b,max = packing · V_jar / V_ball, whatever the convention.
    n_max = 0.62 * 50 / BALL_10_MM
    phi = 1 - (plan.n_balls / n_max) ** epsilon
    assert hindered.hindering_factor == pytest.approx(phi, rel=1e-12)
    assert 0 < phi < 1
    assert hindered.power.value == pytest.approx(phi * plain.power.value, rel=1e-12)
    assert hindered.dose.value == pytest.approx(phi * plain.dose.value, rel=1e-12)
    # Hindering acts on the power only: a ball still hits as hard and as often.
    assert hindered.impact_energy.value == plain.impact_energy.value
    assert hindered.impact_frequency.value == plain.impact_frequency.value


def test_fuller_jar_is_hindered_more():
    phis = [milling_dose(wc_plan(frb=f), **MILL, hindering_exponent=1.0).hindering_factor
            for f in (0.05, 0.10, 0.20)]
    assert phis[0] > phis[1] > phis[2]


@PROPERTY
@given(
    rpm=st.floats(min_value=50, max_value=1100),
    ratio=st.floats(min_value=-3.5, max_value=0.4),
    plate_mm=st.floats(min_value=30, max_value=150),
    jar_mm=st.floats(min_value=10, max_value=60),
    hours=st.floats(min_value=0.01, max_value=100),
)
def test_dose_matches_the_model_everywhere(rpm, ratio, plate_mm, jar_mm, hours):
    plan = wc_plan()
    d = milling_dose(plan, rpm=rpm, time_h=hours, plate_radius_mm=plate_mm,
                     jar_radius_mm=jar_mm, speed_ratio=ratio)
    v = velocity_by_hand(rpm, ratio, plate_mm, jar_mm, 10)
    energy = 0.5 * BALL_MASS_KG * v**2
    frequency = abs(1 - ratio) * rpm / 60
    powder_g = plan.ball_mass.value / 80
    assert d.ball_velocity.value == pytest.approx(v, rel=1e-9)
    assert d.dose.value == pytest.approx(energy * 10 * frequency * hours * 3600 / powder_g,
                                         rel=1e-9)


# --- result contracts -------------------------------------------------------------------


def test_dose_is_frozen():
    d = milling_dose(wc_plan(), **MILL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.rpm = 400


def test_to_dict_is_strict_json():
    d = milling_dose(wc_plan(), **MILL, hindering_exponent=0.5)
    data = json.loads(json.dumps(d.to_dict(), allow_nan=False))
    assert data["ball_velocity"]["unit"] == "m/s"
    assert data["ball_velocity"]["value"] == d.ball_velocity.value
    assert data["dose"]["unit"] == "J/g"
    assert data["plan"]["n_balls"] == 10
    assert data["hindering_factor"] == d.hindering_factor
    keys = {c["key"] for c in data["provenance"]["citations"]}
    assert {"burgio1991", "iasonna1996"} <= keys


def test_to_frame_columns_carry_units():
    frame = milling_dose(wc_plan(), **MILL).to_frame()
    for column in ("ball_velocity [m/s]", "impact_energy [J]", "impact_frequency [Hz]",
                   "power [W]", "dose [J/g]", "time [s]", "plate_radius [mm]",
                   "jar_radius [mm]"):
        assert column in frame.columns


# --- bad inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"jar_radius_mm": 5}, r"^jar_radius_mm: the jar radius 5 mm must exceed the ball radius "
                           r"5 mm"),
    ({"jar_radius_mm": 4}, r"^jar_radius_mm: the jar radius 4 mm must exceed"),
    ({"speed_ratio": 1}, r"^speed_ratio: a vial turning with the plate \(ratio 1\)"),
    ({"speed_ratio": 3}, r"^speed_ratio: speed ratio 3 gives no ball detachment"),
    ({"speed_ratio": float("nan")}, r"^speed_ratio: must be a finite number"),
    ({"rpm": 0}, r"^rpm: must be > 0"),
    ({"time_h": -1}, r"^time_h: must be > 0"),
    ({"plate_radius_mm": 0}, r"^plate_radius_mm: must be > 0"),
    ({"jar_radius_mm": -22.5}, r"^jar_radius_mm: must be > 0"),
    ({"hindering_exponent": 0}, r"^hindering_exponent: must be > 0"),
    ({"impact_constant": -1}, r"^impact_constant: must be > 0"),
])
def test_bad_dose_inputs_are_refused(overrides, expected):
    with pytest.raises(InputError, match=expected):
        milling_dose(wc_plan(), **{**MILL, **overrides})
