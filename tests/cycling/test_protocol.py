"""Reference conversion, activation plateau and fixed-capacity protocols (analytic truth)."""

import numpy as np
import pytest
from test_steps import build

from ssbkit.core.errors import InputError
from ssbkit.cycling import CyclingRecord, summarize_cycles
from ssbkit.cycling.data import CURRENT, STEP_COUNT, TIME, VOLTAGE
from ssbkit.cycling.protocol import activation_plateau, convert_reference, fixed_capacity


def test_li_in_to_li_adds_062_v_and_keeps_polarisation():
    rec = build([(0.001, 20, 1.0, 2.5), (-0.001, 20, 2.5, 1.0)])
    shifted = convert_reference(rec)
    assert np.allclose(shifted.voltage - rec.voltage, 0.62)
    assert shifted.metadata["voltage_reference"] == "Li/Li+"
    a, b = summarize_cycles(rec), summarize_cycles(shifted)
    assert b.column("mean_charge_voltage")[0] == pytest.approx(a.column("mean_charge_voltage")[0] + 0.62)
    assert b.column("polarisation")[0] == pytest.approx(a.column("polarisation")[0])
    assert np.allclose(convert_reference(rec, offset_v=-0.1).voltage, rec.voltage - 0.1)
    with pytest.raises(InputError, match="unknown reference"):
        convert_reference(rec, reference="SHE")


def plateau_record(plateau_v=1.8, share=0.6, n=400):
    """A charge: a slope to the plateau, a flat plateau holding ``share`` of the charge, a rise."""
    n_flat = int(share * n)
    n_ramp = (n - n_flat) // 2
    v = np.r_[np.linspace(1.2, plateau_v - 0.05, n_ramp), np.full(n_flat, plateau_v),
              np.linspace(plateau_v + 0.05, 2.6, n - n_flat - n_ramp)]
    t = np.arange(1, n + 1) * 10.0
    return CyclingRecord.from_columns({TIME: t, VOLTAGE: v, CURRENT: np.full(n, 1e-3),
                                       STEP_COUNT: np.ones(n)})


def test_activation_plateau_potential_share_and_overpotential():
    r = activation_plateau(plateau_record(), equilibrium_v=1.7)
    assert r.plateau_voltage.value == pytest.approx(1.8)
    assert r.overpotential.value == pytest.approx(100.0)
    assert r.plateau_fraction == pytest.approx(0.6, abs=0.02)
    with pytest.raises(InputError, match="no cycle 5"):
        activation_plateau(plateau_record(), equilibrium_v=1.7, cycle=5)


def test_fixed_capacity_finds_the_first_short_charge():
    mah_per_row = 0.001 * 10 / 3.6
    rows = [40, 40, 40, 39, 35]
    rec = build([s for n in rows for s in ((0.001, n, 3, 4), (-0.001, n, 4, 3))])
    summary = summarize_cycles(rec, active_mass_mg=1.0)
    r = fixed_capacity(summary, limit_mah=40 * mah_per_row)
    assert r.n_reached == 3 and r.first_short_cycle == 4  # 39/40 is 2.5 % short
    per_gram = fixed_capacity(summary, limit_mah_g=40 * mah_per_row / 1e-3, tolerance=0.03)
    assert per_gram.first_short_cycle == 5 and per_gram.n_reached == 4
    with pytest.raises(InputError, match="exactly one"):
        fixed_capacity(summary)
