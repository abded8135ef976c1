"""Electronic conductivity from DC polarisation (ssbkit.eis.dcpol) and its synthetic records
(ssbkit.eis.simulate.simulate_polarisation).

Truth: records built by hand (a current that jumps in the last tenth of a step must give the
mean of that tenth), synthetic steps with a known R_e (noise-free and seeded noise), σ_e = L/(R_e·A)
written out, and a negative control: steps too short for the ionic current to die away must be
flagged, and they give a wrong R_e.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssbkit import InputError
from ssbkit.eis.conductivity import PelletGeometry
from ssbkit.eis.data import Chronoamperometry
from ssbkit.eis.dcpol import electronic_conductivity, split_steps
from ssbkit.eis.simulate import simulate_polarisation
from ssbkit.testing import assert_single_json_document

PELLET = PelletGeometry.from_diameter(10.0, 1.0, thickness_stderr_mm=0.01)  # A = π/4 cm², L = 0.1 cm
VOLTS = [0.1, 0.2, 0.3, 0.4, 0.5]
R_E = 2.0e8


def test_noise_free_steps_give_r_e_and_sigma_e():
    rec = simulate_polarisation(VOLTS, electronic_resistance=R_E, ionic_resistance=500.0,
                                time_constant_s=20.0)
    r = electronic_conductivity(rec, PELLET)
    assert len(r.steps) == 5 and all(s.steady for s in r.steps) and r.success
    assert r.electronic_resistance.value == pytest.approx(R_E, rel=1e-6)
    assert r.electronic_conductivity.value == pytest.approx(0.1 / (R_E * math.pi / 4), rel=1e-6)
    assert abs(r.intercept.value) < 1e-6 * 0.5 / R_E
    assert [s.voltage for s in r.steps] == pytest.approx(VOLTS)
    # the geometry's 1 % thickness error is all that remains
    assert r.electronic_conductivity.relative_stderr == pytest.approx(0.01, rel=1e-3)


def test_seeded_noise_and_an_offset_are_recovered():
    rec = simulate_polarisation(VOLTS, electronic_resistance=R_E, ionic_resistance=500.0,
                                time_constant_s=20.0, noise_A=2e-11, offset_A=3e-10,
                                rng=np.random.default_rng(42))
    r = electronic_conductivity(rec, PELLET)
    assert r.weighted and r.success
    # five steps leave 3 degrees of freedom: errors follow Student's t₃ (99 % at 5.84 stderr)
    assert abs(r.electronic_resistance.value - R_E) < 5.84 * r.electronic_resistance.stderr
    assert abs(r.intercept.value - 3e-10) < 5.84 * r.intercept.stderr
    assert abs(r.electronic_resistance.value / R_E - 1) < 0.01
    # scatter of the mean: noise / √(points in the last 10 % of 601)
    for step in r.steps:
        assert step.current_std == pytest.approx(2e-11, rel=0.3)
        assert step.current.stderr == pytest.approx(step.current_std / math.sqrt(step.window_points))


def test_the_stderr_of_r_e_means_what_it_says():
    from scipy import stats

    pulls = []
    for seed in range(200):
        rec = simulate_polarisation(VOLTS, electronic_resistance=R_E, ionic_resistance=500.0,
                                    time_constant_s=20.0, noise_A=2e-11, points_per_step=201,
                                    rng=np.random.default_rng(seed))
        r = electronic_conductivity(rec, PELLET)
        pulls.append((r.electronic_resistance.value - R_E) / r.electronic_resistance.stderr)
    pulls = np.array(pulls)
    # unbiased, and ±1 stderr holds P(|t₃| ≤ 1) = 61 % of draws (binomial spread 3.4 %)
    assert abs(np.median(pulls)) < 0.25
    assert np.mean(np.abs(pulls) <= 1) == pytest.approx(2 * stats.t.cdf(1.0, 3) - 1, abs=0.08)


def test_negative_control_steps_that_have_not_settled_are_flagged_and_wrong():
    rec = simulate_polarisation(VOLTS, electronic_resistance=R_E, ionic_resistance=5e5,
                                time_constant_s=300.0, noise_A=2e-12, rng=np.random.default_rng(1))
    r = electronic_conductivity(rec, PELLET)
    assert not any(s.steady for s in r.steps)
    assert "still changing" in r.message and "longer" in r.message
    assert all(s.relative_change < -0.01 for s in r.steps)
    assert abs(r.electronic_resistance.value / R_E - 1) > 0.5


def test_the_steady_current_is_the_mean_of_the_last_tenth():
    t = np.arange(100.0)
    current = np.where(t >= 89.5, 7e-9, 1e-6)
    current[90:] += np.array([1, -1] * 5) * 1e-10  # flat, with scatter
    rec = Chronoamperometry(np.concatenate([t, t + 100]), np.concatenate([current, 2 * current]),
                            np.repeat([0.25, 0.5], 100))
    r = electronic_conductivity(rec, PELLET)
    s0 = r.steps[0]
    assert s0.window_points == 10  # t ≥ 99 − 0.1·99 = 89.1 picks t = 90…99
    assert s0.current.value == pytest.approx(7e-9, rel=1e-12)
    assert s0.current_std == pytest.approx(np.std(current[90:], ddof=1))
    assert s0.steady
    assert r.slope.value == pytest.approx(7e-9 / 0.25, rel=1e-12)
    assert math.isnan(r.slope.stderr) and "exactly" in r.message  # two steps, no degrees of freedom
    wider = electronic_conductivity(rec, PELLET, tail_fraction=0.5)
    assert wider.steps[0].current.value > 1e-7  # half the step reaches back before the jump


def test_several_records_and_one_record_agree():
    whole = simulate_polarisation(VOLTS, electronic_resistance=R_E, ionic_resistance=500.0,
                                  time_constant_s=20.0)
    parts = [simulate_polarisation([v], electronic_resistance=R_E, ionic_resistance=500.0,
                                   time_constant_s=20.0) for v in VOLTS]
    a = electronic_conductivity(whole, PELLET)
    b = electronic_conductivity(parts, PELLET)
    assert b.electronic_resistance.value == pytest.approx(a.electronic_resistance.value, rel=1e-12)
    assert [s.record for s in b.steps] == [0, 1, 2, 3, 4]


def test_transitions_between_steps_are_dropped():
    t = np.arange(40.0)
    v = np.concatenate([np.full(15, 0.1), [0.13, 0.16, 0.19], np.full(22, 0.2)])
    rec = Chronoamperometry(t, v / R_E, v)
    assert split_steps(rec) == [slice(0, 15), slice(18, 40)]
    assert split_steps(rec, voltage_tolerance_V=0.05) == [slice(0, 40)]
    assert split_steps(rec, min_points=30) == []


def test_table_and_json():
    rec = simulate_polarisation(VOLTS, electronic_resistance=R_E, ionic_resistance=500.0,
                                time_constant_s=20.0)
    r = electronic_conductivity(rec, PELLET, temperature_K=298.15)
    frame = r.to_frame()
    assert len(frame) == 5
    for column in ("voltage [V]", "current [A]", "current stderr [A]", "steady", "fitted current [A]"):
        assert column in frame.columns
    data = assert_single_json_document(r.to_json())
    assert data["electronic_conductivity"]["unit"] == "S/cm" and len(data["steps"]) == 5
    assert "σ_e" in r.report() and "intercept" in r.report()


def test_a_negative_slope_is_a_failed_result():
    t = np.arange(60.0)
    v = np.repeat([0.1, 0.2, 0.3], 20)
    rec = Chronoamperometry(t, -v / R_E + 1e-13 * np.sin(t), v)
    r = electronic_conductivity(rec, PELLET)
    assert not r.success and "not positive" in r.message


def test_bad_input():
    rec = simulate_polarisation([0.1, 0.2], electronic_resistance=R_E, ionic_resistance=500.0,
                                time_constant_s=20.0)
    one_level = simulate_polarisation([0.1], electronic_resistance=R_E, ionic_resistance=500.0)
    with pytest.raises(InputError, match="2 or more voltages"):
        electronic_conductivity(one_level, PELLET)
    with pytest.raises(InputError, match="records"):
        electronic_conductivity([], PELLET)
    with pytest.raises(InputError, match="records"):
        electronic_conductivity([rec, "file.mpt"], PELLET)
    with pytest.raises(InputError, match="geometry"):
        electronic_conductivity(rec, 0.785)
    with pytest.raises(InputError, match="tail_fraction"):
        electronic_conductivity(rec, PELLET, tail_fraction=0)
    with pytest.raises(InputError, match="voltage_tolerance_V"):
        electronic_conductivity(rec, PELLET, voltage_tolerance_V=-1)


def test_simulated_record():
    rec = simulate_polarisation([0.1, -0.2], electronic_resistance=1e6, ionic_resistance=1e3,
                                time_constant_s=1.0, step_duration_s=50.0, points_per_step=51)
    assert len(rec) == 102 and np.all(np.diff(rec.time) > 0)
    assert rec.current[0] == pytest.approx(0.1 / 1e6 + 0.1 / 1e3)  # both carriers at t = 0
    assert rec.current[50] == pytest.approx(0.1 / 1e6, rel=1e-12)
    assert rec.current[-1] == pytest.approx(-0.2 / 1e6, rel=1e-12)
    with pytest.raises(InputError, match="rng"):
        simulate_polarisation([0.1], electronic_resistance=1e6, ionic_resistance=1e3, noise_A=1e-9)
    with pytest.raises(InputError, match="electronic_resistance"):
        simulate_polarisation([0.1], electronic_resistance=-1, ionic_resistance=1e3)
    with pytest.raises(InputError, match="voltages"):
        simulate_polarisation([0.1, float("nan")], electronic_resistance=1, ionic_resistance=1)
    a = simulate_polarisation([0.1], electronic_resistance=1e6, ionic_resistance=1e3, noise_A=1e-9,
                              rng=np.random.default_rng(5))
    b = simulate_polarisation([0.1], electronic_resistance=1e6, ionic_resistance=1e3, noise_A=1e-9,
                              rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.current, b.current)
