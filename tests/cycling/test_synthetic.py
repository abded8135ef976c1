"""Synthetic cycling from ``simulate`` with known truth, recovered by the analyses."""

import numpy as np
import pytest

from ssbkit.cycling import rate_capability, simulate_cycling, simulate_rate_test, summarize_cycles


@pytest.fixture(scope="module")
def long_cell():
    # the argyrodite study's conventional-loading cell: peak 470.6 mAh/g at cycle 62, then
    # 96.22 % of it after 200 cycles; CC-CV charges written as two steps
    fade = (1 - 0.9622) / (200 - 62)
    return simulate_cycling(n_cycles=200, active_mass_mg=4.2, specific_capacity_mah_g=470.6,
                            peak_cycle=62, fade_per_cycle=fade, protocol="cccv", c_rates=0.1,
                            points_per_step=40, noise_v=0.002, rng=7)


def test_capacities_ce_and_retention_are_recovered_exactly(long_cell):
    truth = long_cell.metadata["truth"]["cycles"]
    s = summarize_cycles(long_cell, active_mass_mg=4.2)
    assert s.n_cycles == 200
    assert np.allclose(s.column("charge"), truth["charge_mah"], rtol=1e-9)
    assert np.allclose(s.column("discharge"), truth["discharge_mah"], rtol=1e-9)
    ce = 100 * np.array(truth["discharge_mah"]) / np.array(truth["charge_mah"])
    assert np.allclose(s.column("ce"), ce, rtol=1e-9)
    assert s.peak_cycle == 62
    assert s.column("specific_discharge")[61] == pytest.approx(470.6, rel=1e-9)
    assert s.final_retention_vs_peak_pct == pytest.approx(96.22, abs=1e-6)
    assert np.allclose(s.column("charge_energy"), 1e3 * np.array(truth["charge_wh"]), rtol=1e-9)
    # the CV part is there and counted
    assert (np.array(truth["cv_charge_mah"]) > 0).all()
    assert s.counter_deviation < 1e-9


def test_native_and_charge_first_agree_and_discharge_first_does_not(long_cell):
    a = summarize_cycles(long_cell, convention="charge-first")
    b = summarize_cycles(long_cell, convention="native")
    assert np.array_equal(a.column("discharge"), b.column("discharge"))
    c = summarize_cycles(long_cell, convention="discharge-first")
    # negative control: pairing each discharge with the next charge changes every CE
    assert c.n_cycles == 201
    assert not np.allclose(c.column("ce")[1:-1], a.column("ce")[:-1], rtol=1e-3)


def test_mean_voltages_and_polarisation():
    rec = simulate_cycling(n_cycles=3, capacity_mah=4.8, points_per_step=400)
    truth = rec.metadata["truth"]["cycles"]
    s = summarize_cycles(rec)
    assert np.allclose(s.column("mean_charge_voltage"), truth["mean_charge_v"], atol=2e-4)
    assert np.allclose(s.column("mean_discharge_voltage"), truth["mean_discharge_v"], atol=2e-4)


def test_rate_table_of_the_argyrodite_study():
    rec = simulate_rate_test(rates=(0.1, 0.5, 1.0, 0.1), cycles_per_rate=5, active_mass_mg=4.2,
                             specific_capacity_mah_g=483.0, first_charge_extra=0.0,
                             points_per_step=60)
    r = rate_capability(rec, specific_capacity_mah_g=483.0, active_mass_mg=4.2)
    assert r.labels() == ["0.1C", "0.5C", "1C", "0.1C"]
    assert np.allclose(r.blocks["specific_capacity"], [483, 413, 264, 483], atol=0.5)
    assert r.blocks["recovery"][3] == pytest.approx(100.0, abs=0.1)
    assert r.blocks["n_cycles"].tolist() == [5, 5, 5, 5]
