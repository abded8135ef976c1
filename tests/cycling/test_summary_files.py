"""Per-cycle summaries of real cycler files, against the numbers measured by hand and the
peers' known errors (``../shared/reference/cycling.md`` §4)."""

import numpy as np
import pytest

from ssbkit.cycling import rate_capability, summarize_cycles
from ssbkit.io import read_cycling
from ssbkit.io._cycling import UnknownColumnWarning
from ssbkit.testing import shared_data


def neware(name):
    return read_cycling(shared_data("cycling", "neware", name))


def test_cccv_in_two_steps_sums_to_5811_mah():
    # BTS 9.1 file: cycle 2 charges CC 5655.09 mAh + CV 155.94 mAh; navani reports 5655.09
    # (the largest step) and cellpy 155.94 (the last)
    s = summarize_cycles(neware("newarenda_issue72_bts91_v130.nda"))
    charge = dict(zip(s.column("cycle").tolist(), s.column("charge"), strict=True))
    assert charge[2] == pytest.approx(5811.0, abs=0.05)
    kinds = s.steps.kind[s.steps.direction == 1].tolist()
    assert "cc_charge" in kinds and "cv_charge" in kinds
    # the counters agree with the integral of the logged current (0.1 % in the CV step,
    # whose current falls between samples)
    assert s.counter_deviation < 2e-3


def test_pulse_file_gives_a_positive_capacity():
    # NewareNDA reports -0.038 mAh for this Pulse step (navani -0.038, cellpy 0.0)
    s = summarize_cycles(neware("newarenda_2-1-6_61_v29.nda"))
    assert s.steps.kind.tolist() == ["pulse"]
    assert s.column("discharge").sum() == pytest.approx(299.86, abs=0.01)
    assert (s.column("charge") >= 0).all()


def test_several_charge_steps_in_one_cycle_are_summed():
    # IFE: several CC steps then CV; the peers report 1390.57 mAh against a true 1418.76
    with pytest.warns(UnknownColumnWarning, match="aux1_"):
        rec = neware("cellpy_IFE_BTS85_2_9_8_1.ndax")
    s = summarize_cycles(rec)
    assert s.column("charge")[0] == pytest.approx(1418.76, abs=0.01)


def test_700k_row_file_cycles_conventions_and_rate_blocks():
    rec = neware("newarenda_issue60_BTS85.ndax")
    s = summarize_cycles(rec)
    # a rate test: 21 charge/discharge pairs and a last charge; the instrument's own cycle
    # column groups them into 15 "cycles", so the convention matters
    assert s.n_cycles == 22
    assert summarize_cycles(rec, convention="native").n_cycles == 15
    full = np.isfinite(s.column("ce"))
    assert full.sum() == 21
    assert np.all((s.column("ce")[full] > 97) & (s.column("ce")[full] < 100))
    # the counters and the current integral agree within 0.1 % in every step
    assert s.counter_deviation < 1e-3
    # an independent count: fastnda's own charge-first ("chg") cycle numbers and its signed
    # per-step counters, summed by cycle and sign
    import fastnda

    raw = fastnda.read(rec.source, cycle_mode="chg")
    cycle = raw["cycle_count"].to_numpy()
    step = raw["step_count"].to_numpy()
    net = raw["capacity_mAh"].to_numpy().astype(float)
    last = np.r_[step[1:] != step[:-1], True]
    charge = np.bincount(cycle[last], weights=np.clip(net[last], 0, None))[1:]
    discharge = np.bincount(cycle[last], weights=np.clip(-net[last], 0, None))[1:]
    assert np.allclose(s.column("charge"), charge, rtol=1e-6)
    assert np.allclose(s.column("discharge"), discharge, rtol=1e-6)
    # seven blocks of three cycles, each at about twice (or 1.5 times) the previous current
    r = rate_capability(rec, summary=s)
    assert r.blocks["n_cycles"].tolist() == [3] * 7
    steps_up = r.blocks["current_ma"][1:] / r.blocks["current_ma"][:-1]
    assert np.allclose(steps_up, [2, 2, 5 / 3, 1.5, 2, 2], rtol=0.01)
    assert np.all(np.diff(r.blocks["capacity_mah"]) < 0)
