"""The cycling simulator (ssbkit.cycling.simulate).

Truth: closed forms written out here (I = C-rate × capacity, t = Q/I, retention
1 − fade·(n − peak), dQ/dV peaks at the plateau potentials ± (I·R + h/2), polarisation
2·I·R + h), the record's own columns summed and integrated independently of the simulator
(counters per step and per cycle, trapezoid ∫I dt and ∫V dQ), and the paper's numbers
(112 % first charge, peak 470.6 mAh/g at cycle 62, 96.22 % at cycle 200, 483 / 413 / 264 mAh/g
at 0.1 / 0.5 / 1 C). Negative controls: the peers' per-cycle charge (largest or last step of a
CC-CV charge) misses the truth, and a record with one current sample changed no longer
integrates to its counters.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssbkit import InputError
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    CURRENT,
    CYCLE,
    DISCHARGE_CAPACITY,
    DISCHARGE_ENERGY,
    STEP_COUNT,
    STEP_INDEX,
    STEP_TIME,
    STEP_TYPE,
    TIME,
    UNIX_TIME,
    CyclingRecord,
)
from ssbkit.cycling.simulate import default_rate_fraction, simulate_cycling, simulate_rate_test

PLATEAUS_V = (1.60, 2.05, 2.40)  # the default curve's plateaus, as documented


def step_last_rows(rec: CyclingRecord) -> np.ndarray:
    count = rec.columns[STEP_COUNT]
    return np.flatnonzero(np.diff(count, append=count[-1] + 1) != 0)


def per_cycle(rec: CyclingRecord, column: str) -> np.ndarray:
    """Sum of each step's final counter value, by the record's native cycle number."""
    last = step_last_rows(rec)
    cycle = rec.columns[CYCLE][last]
    return np.bincount(cycle - 1, rec.columns[column][last])


def step_integral(rec: CyclingRecord, values: np.ndarray, against: np.ndarray) -> np.ndarray:
    """Trapezoid integral of ``values`` over ``against`` within each step."""
    count = rec.columns[STEP_COUNT]
    same = count[1:] == count[:-1]
    inc = np.where(same, 0.5 * (values[1:] + values[:-1]) * np.diff(against), 0.0)
    return np.bincount(count[1:] - 1, inc, minlength=int(count.max()))


# --- counters, the truth table and the integral of current -----------------------------------

@pytest.mark.parametrize("protocol", ["cc", "cccv"])
def test_counters_sum_per_cycle_to_the_truth_table(protocol):
    rec = simulate_cycling(n_cycles=6, capacity_mah=4.8, protocol=protocol, ce=0.99)
    truth = rec.metadata["truth"]["cycles"]
    assert truth["cycle"] == [1, 2, 3, 4, 5, 6]
    assert per_cycle(rec, CHARGE_CAPACITY) * 1000 == pytest.approx(truth["charge_mah"], rel=1e-12)
    assert per_cycle(rec, DISCHARGE_CAPACITY) * 1000 == pytest.approx(truth["discharge_mah"],
                                                                      rel=1e-12)
    assert per_cycle(rec, CHARGE_ENERGY) == pytest.approx(truth["charge_wh"], rel=1e-12)
    halves = rec.metadata["truth"]["half_cycles"]
    assert halves["capacity_mah"][0::2] == pytest.approx(truth["charge_mah"], rel=1e-15)
    assert halves["capacity_mah"][1::2] == pytest.approx(truth["discharge_mah"], rel=1e-15)


@pytest.mark.parametrize("protocol", ["cc", "cccv"])
def test_counters_equal_the_integral_of_current(protocol):
    rec = simulate_cycling(n_cycles=4, capacity_mah=4.8, protocol=protocol, noise_v=0.003,
                           rng=np.random.default_rng(3))
    t, i = rec.time, rec.current
    per_step = step_integral(rec, i, t) / 3600.0
    last = step_last_rows(rec)
    counters = rec.columns[CHARGE_CAPACITY][last] - rec.columns[DISCHARGE_CAPACITY][last]
    assert per_step == pytest.approx(counters, rel=1e-12, abs=1e-18)
    # over the whole record too: the rows between steps share a time, so carry no charge
    net = rec.columns[CHARGE_CAPACITY][last].sum() - rec.columns[DISCHARGE_CAPACITY][last].sum()
    assert np.trapezoid(i, t) / 3600.0 == pytest.approx(net, rel=1e-9)


def test_cv_counter_is_the_running_trapezoid_of_its_current():
    rec = simulate_cycling(n_cycles=1, capacity_mah=2.0, protocol="cccv", points_per_step=50)
    rows = np.flatnonzero(rec.columns[STEP_TYPE] == "CV_Chg")
    t, i = rec.columns[STEP_TIME][rows], rec.current[rows]
    running = np.concatenate([[0.0], np.cumsum(0.5 * (i[1:] + i[:-1]) * np.diff(t))]) / 3600.0
    assert rec.columns[CHARGE_CAPACITY][rows] == pytest.approx(running, rel=1e-12, abs=1e-18)


def test_energy_counters_are_the_integral_of_v_dq():
    rec = simulate_cycling(n_cycles=3, capacity_mah=4.8, protocol="cccv")
    q = rec.columns[CHARGE_CAPACITY] + rec.columns[DISCHARGE_CAPACITY]
    last = step_last_rows(rec)
    energy = rec.columns[CHARGE_ENERGY][last] + rec.columns[DISCHARGE_ENERGY][last]
    assert step_integral(rec, rec.voltage, q) == pytest.approx(energy, rel=1e-12, abs=1e-18)


def test_a_changed_current_sample_breaks_the_integral_check():
    """Negative control: the check above is sensitive to one sample."""
    rec = simulate_cycling(n_cycles=2, capacity_mah=4.8)
    columns = dict(rec.columns)
    current = columns[CURRENT].copy()
    current[np.flatnonzero(columns[STEP_TYPE] == "CC_DChg")[10]] *= 1.5
    columns[CURRENT] = current
    broken = CyclingRecord(columns)
    last = step_last_rows(broken)
    counters = broken.columns[CHARGE_CAPACITY][last] - broken.columns[DISCHARGE_CAPACITY][last]
    assert step_integral(broken, broken.current, broken.time) / 3600 != pytest.approx(counters,
                                                                                      rel=1e-6)


def test_rests_carry_no_current_and_counters_restart_each_step():
    rec = simulate_cycling(n_cycles=3, capacity_mah=4.8, rest_s=1200)
    rest = rec.columns[STEP_TYPE] == "Rest"
    assert rest.sum() == 7 * 100  # the opening rest and one after every step
    assert (rec.current[rest] == 0).all()
    assert (rec.columns[CHARGE_CAPACITY][rest] == 0).all()
    assert (rec.columns[DISCHARGE_CAPACITY][rest] == 0).all()
    starts = np.flatnonzero(np.diff(rec.columns[STEP_COUNT], prepend=0) != 0)
    assert (rec.columns[CHARGE_CAPACITY][starts] == 0).all()
    assert (rec.columns[STEP_TIME][starts] == 0).all()
    assert rec.columns[STEP_TIME][rest].max() == 1200


# --- the closed forms of the protocol -------------------------------------------------------

def test_cc_currents_durations_and_cut_offs():
    rec = simulate_cycling(n_cycles=2, capacity_mah=4.8, c_rates=0.2, ce=1.0, first_charge_extra=0.0,
                           rate_capacity=1.0, v_min=1.0, v_max=3.0)
    kind = rec.columns[STEP_TYPE]
    assert np.unique(rec.current[kind == "CC_Chg"]) == pytest.approx([0.2 * 4.8e-3], rel=1e-15)
    assert np.unique(rec.current[kind == "CC_DChg"]) == pytest.approx([-0.2 * 4.8e-3], rel=1e-15)
    last = step_last_rows(rec)
    active = np.isin(kind[last], ["CC_Chg", "CC_DChg"])
    assert rec.columns[STEP_TIME][last][active] == pytest.approx(5 * 3600.0, rel=1e-12)  # Q/I
    assert rec.voltage[last][kind[last] == "CC_Chg"] == pytest.approx(3.0, abs=1e-9)
    assert rec.voltage[last][kind[last] == "CC_DChg"] == pytest.approx(1.0, abs=1e-9)


def test_first_cycle_charge_and_efficiency_as_asked():
    rec = simulate_cycling(n_cycles=5, capacity_mah=4.8, first_charge_extra=0.12, ce=0.995)
    charge, discharge = per_cycle(rec, CHARGE_CAPACITY), per_cycle(rec, DISCHARGE_CAPACITY)
    assert charge[0] / discharge[0] == pytest.approx(1.12, rel=1e-12)
    assert discharge[1:] / charge[1:] == pytest.approx([0.995] * 4, rel=1e-12)


def test_paper_peak_cycle_and_retention():
    rec = simulate_cycling(n_cycles=200, active_mass_mg=8.0, specific_capacity_mah_g=470.6,
                           peak_cycle=62, initial_capacity_fraction=0.9,
                           fade_per_cycle=(1 - 0.9622) / (200 - 62), points_per_step=10)
    specific = per_cycle(rec, DISCHARGE_CAPACITY) * 1e6 / 8.0
    assert int(np.argmax(specific)) + 1 == 62
    assert specific[61] == pytest.approx(470.6, rel=1e-12)
    assert specific[0] == pytest.approx(0.9 * 470.6, rel=1e-12)
    assert specific[199] / specific[61] == pytest.approx(0.9622, rel=1e-12)
    assert specific[99] / specific[61] == pytest.approx(1 - (1 - 0.9622) * 38 / 138, rel=1e-12)
    assert rec.metadata["truth"]["cycles"]["discharge_mah_g"] == pytest.approx(specific, rel=1e-12)
    assert rec.metadata["active_mass_mg"] == 8.0


def test_default_rate_fraction_reproduces_the_paper_rate_table():
    assert 483 * default_rate_fraction([0.1, 0.5, 1.0]) == pytest.approx([483, 413, 264], abs=0.1)
    fractions = default_rate_fraction([0.05, 0.1, 0.2, 0.5, 1, 2, 5])
    assert (np.diff(fractions) < 0).all()


def test_rate_blocks_have_the_asked_currents_and_capacities():
    rates = (0.1, 0.2, 0.5, 1.0, 2.0, 0.1)
    share = {0.1: 1.0, 0.2: 0.98, 0.5: 413 / 483, 1.0: 264 / 483, 2.0: 0.2}
    rec = simulate_rate_test(rates=rates, cycles_per_rate=3, active_mass_mg=10.0,
                             specific_capacity_mah_g=483.0, rate_capacity=share)
    capacity = 4.83e-3  # Ah: 483 mAh/g × 10 mg, also the nominal capacity that defines 1 C
    expected_rate = np.repeat(rates, 3)
    kind, cycle = rec.columns[STEP_TYPE], rec.columns[CYCLE]
    for n, rate in enumerate(expected_rate, start=1):
        discharging = (kind == "CC_DChg") & (cycle == n)
        assert np.unique(rec.current[discharging]) == pytest.approx([-rate * capacity], rel=1e-15)
    specific = per_cycle(rec, DISCHARGE_CAPACITY) * 1e6 / 10.0
    assert specific[[0, 6, 9, 15]] == pytest.approx([483, 413, 264, 483], rel=1e-12)
    assert rec.metadata["truth"]["cycles"]["c_rate"] == expected_rate.tolist()
    # one schedule loop per rate block: the step lines differ between blocks
    lines = [set(rec.columns[STEP_INDEX][cycle == n].tolist()) for n in (1, 4, 16)]
    assert lines[0].isdisjoint(lines[1]) and lines[1].isdisjoint(lines[2])


def test_per_cycle_rate_list_and_nominal_capacity():
    rec = simulate_cycling(capacity_mah=3.0, nominal_capacity_mah=4.0, c_rates=[0.1, 0.5],
                           rate_capacity=lambda c: 1.0 / (1.0 + c))
    truth = rec.metadata["truth"]["cycles"]
    assert truth["current_a"] == pytest.approx([0.4e-3, 2.0e-3], rel=1e-15)
    assert truth["discharge_mah"] == pytest.approx([3.0 / 1.1, 3.0 / 1.5], rel=1e-15)


def test_cccv_charge_is_written_as_two_steps():
    rec = simulate_cycling(n_cycles=3, capacity_mah=4.8, protocol="cccv", cv_fraction=0.05,
                           cv_end_current_fraction=0.1, v_max=2.9)
    last = step_last_rows(rec)
    kinds = rec.columns[STEP_TYPE][last].tolist()
    assert kinds == ["Rest"] + ["CC_Chg", "CV_Chg", "Rest", "CC_DChg", "Rest"] * 3
    cv = rec.columns[STEP_TYPE] == "CV_Chg"
    assert rec.voltage[cv] == pytest.approx(2.9, abs=1e-9)
    for n in (1, 2, 3):
        i = rec.current[cv & (rec.columns[CYCLE] == n)]
        assert (np.diff(i) < 0).all()
        assert i[-1] / i[0] == pytest.approx(0.1, rel=1e-9)
        assert i[0] == pytest.approx(0.1 * 4.8e-3, rel=1e-3)  # continues the CC current
    truth = rec.metadata["truth"]["cycles"]
    cv_counts = rec.columns[CHARGE_CAPACITY][last][np.array(kinds) == "CV_Chg"] * 1000
    assert cv_counts == pytest.approx(0.05 * np.array(truth["charge_mah"]), rel=1e-12)
    assert truth["cc_charge_mah"] == pytest.approx(0.95 * np.array(truth["charge_mah"]), rel=1e-15)


def test_peers_ways_of_counting_a_cccv_charge_miss_the_truth():
    """Negative control: the largest step (navani) or the last step (cellpy) of the charge."""
    rec = simulate_cycling(n_cycles=2, capacity_mah=4.8, protocol="cccv", cv_fraction=0.1)
    last = step_last_rows(rec)
    charging = rec.columns[STEP_TYPE][last] != "Rest"
    counts = rec.columns[CHARGE_CAPACITY][last][charging & (rec.columns[CYCLE][last] == 2)] * 1000
    truth = rec.metadata["truth"]["cycles"]["charge_mah"][1]
    assert counts.sum() == pytest.approx(truth, rel=1e-12)
    assert counts.max() == pytest.approx(0.9 * truth, rel=1e-12)
    assert counts[counts > 0][-1] == pytest.approx(0.1 * truth, rel=1e-12)


def test_start_with_discharge_numbers_cycles_charge_first():
    rec = simulate_cycling(n_cycles=3, capacity_mah=4.8, start_with="discharge", ce=0.98)
    last = step_last_rows(rec)
    kinds = rec.columns[STEP_TYPE][last]
    active = kinds != "Rest"
    assert kinds[active].tolist() == ["CC_DChg", "CC_Chg"] * 3
    assert rec.columns[CYCLE][last][active].tolist() == [1, 2, 2, 3, 3, 4]
    charge, discharge = per_cycle(rec, CHARGE_CAPACITY), per_cycle(rec, DISCHARGE_CAPACITY)
    truth = rec.metadata["truth"]["cycles"]
    # native cycle k ≥ 2 = the charge of protocol cycle k-1 + the discharge of protocol cycle k
    assert charge * 1000 == pytest.approx([0.0, *truth["charge_mah"]], rel=1e-12, abs=1e-15)
    assert discharge * 1000 == pytest.approx([*truth["discharge_mah"], 0.0], rel=1e-12, abs=1e-15)
    assert rec.metadata["truth"]["half_cycles"]["native_cycle"] == [1, 2, 2, 3, 3, 4]


# --- voltage: dQ/dV peaks, polarisation, activation plateau ---------------------------------

@pytest.mark.parametrize("direction", ["CC_Chg", "CC_DChg"])
def test_dqdv_peaks_sit_at_the_plateaus_shifted_by_the_overpotential(direction):
    rec = simulate_cycling(n_cycles=2, capacity_mah=4.8, resistance_ohm=20.0, hysteresis_v=0.06,
                           points_per_step=4000, rest_s=0)
    eta = 0.1 * 4.8e-3 * 20.0 + 0.03
    rows = (rec.columns[STEP_TYPE] == direction) & (rec.columns[CYCLE] == 2)
    v = rec.voltage[rows]
    q = rec.columns[CHARGE_CAPACITY if direction == "CC_Chg" else DISCHARGE_CAPACITY][rows]
    dqdv = np.abs(np.gradient(q, v))
    peak = (dqdv[1:-1] > dqdv[:-2]) & (dqdv[1:-1] > dqdv[2:]) & (dqdv[1:-1] > 0.1 * dqdv.max())
    found = np.sort(v[1:-1][peak])
    sign = 1.0 if direction == "CC_Chg" else -1.0
    assert found == pytest.approx(np.array(PLATEAUS_V) + sign * eta, abs=1e-3)
    assert rec.metadata["truth"]["ocv_peaks_v"] == pytest.approx(PLATEAUS_V)


@pytest.mark.parametrize(("resistance", "hysteresis"), [(20.0, 0.06), (50.0, 0.0), (0.0, 0.0)])
def test_polarisation_is_twice_the_overpotential(resistance, hysteresis):
    rec = simulate_cycling(n_cycles=2, capacity_mah=4.8, c_rates=0.5, resistance_ohm=resistance,
                           hysteresis_v=hysteresis, points_per_step=2000)
    mean_charge = per_cycle(rec, CHARGE_ENERGY) / per_cycle(rec, CHARGE_CAPACITY)
    mean_discharge = per_cycle(rec, DISCHARGE_ENERGY) / per_cycle(rec, DISCHARGE_CAPACITY)
    expected = 2 * 0.5 * 4.8e-3 * resistance + hysteresis
    assert mean_charge[1] - mean_discharge[1] == pytest.approx(expected, abs=2e-4)


def test_default_resistance_drops_0_15_v_at_1c():
    rec = simulate_cycling(n_cycles=1, capacity_mah=2.0, c_rates=1.0, hysteresis_v=0.0,
                           rate_capacity=1.0)
    assert rec.metadata["truth"]["resistance_ohm"] == pytest.approx(0.15 / 2.0e-3)
    assert rec.metadata["truth"]["cycles"]["overpotential_v"] == pytest.approx([0.15])


def test_first_charge_activation_plateau():
    rec = simulate_cycling(n_cycles=2, capacity_mah=4.8, first_charge_extra=0.25, activation_v=1.7,
                           activation_overpotential_v=0.1, points_per_step=1000, rest_s=0)
    first = (rec.columns[STEP_TYPE] == "CC_Chg") & (rec.columns[CYCLE] == 1)
    v, q, t = rec.voltage[first], rec.columns[CHARGE_CAPACITY][first], rec.time[first]
    flat = v == 1.8
    # the charge passed on the plateau is the extra 25 % of the first discharge, to one row
    on = q[flat]
    assert on.max() - on.min() == pytest.approx(0.25 * 4.8e-3, abs=2 * q[-1] / 999)
    assert (np.diff(v) >= 0).all()  # the curve pauses, it does not step back
    plateau = rec.metadata["truth"]["activation"]
    assert plateau["plateau_v"] == pytest.approx(1.8)
    assert plateau["capacity_mah"] == pytest.approx(1.2)
    assert plateau["start_s"] <= t[flat].min() and t[flat].max() <= plateau["end_s"]
    second = (rec.columns[STEP_TYPE] == "CC_Chg") & (rec.columns[CYCLE] == 2)
    assert not (rec.voltage[second] == 1.8).any()


# --- noise, seeds, time ---------------------------------------------------------------------

def test_noise_changes_the_voltage_but_no_counter():
    clean = simulate_cycling(n_cycles=3, capacity_mah=4.8)
    noisy = simulate_cycling(n_cycles=3, capacity_mah=4.8, noise_v=0.002, rng=np.random.default_rng(1))
    difference = noisy.voltage - clean.voltage
    assert np.std(difference) == pytest.approx(0.002, rel=0.05)
    for column in (CHARGE_CAPACITY, DISCHARGE_CAPACITY, CHARGE_ENERGY, DISCHARGE_ENERGY, CURRENT,
                   TIME):
        assert np.array_equal(noisy.columns[column], clean.columns[column]), column
    assert noisy.metadata["truth"] == clean.metadata["truth"]


def test_same_seed_same_record_other_seed_other_voltage():
    def make(seed):
        return simulate_cycling(n_cycles=2, capacity_mah=4.8, noise_v=0.001, rng=seed)

    a, b, c = make(np.random.default_rng(7)), make(np.random.default_rng(7)), make(8)
    assert all(np.array_equal(a.columns[k], b.columns[k]) for k in a.columns)
    assert np.array_equal(make(7).voltage, a.voltage)  # an int seeds the same generator
    assert not np.array_equal(a.voltage, c.voltage)


def test_noise_without_a_generator_is_refused():
    with pytest.raises(InputError) as info:
        simulate_cycling(n_cycles=2, capacity_mah=4.8, noise_v=0.001)
    assert info.value.source == "rng"


def test_time_columns_and_step_numbers():
    rec = simulate_cycling(n_cycles=2, capacity_mah=4.8, start_unix_s=1.7e9)
    assert rec.columns[UNIX_TIME] == pytest.approx(1.7e9 + rec.time, abs=1e-6)
    assert (np.diff(rec.time) >= 0).all()
    steps = rec.columns[STEP_COUNT]
    assert set(np.diff(steps).tolist()) == {0, 1} and steps[0] == 1
    assert rec.metadata["start_time"].startswith("2023-11-14T22:13:20")


def test_sample_interval_spaces_the_rows():
    rec = simulate_cycling(n_cycles=1, capacity_mah=1.0, c_rates=1.0, rate_capacity=1.0,
                           first_charge_extra=0.0, rest_s=100.0, sample_interval_s=7.0)
    rows = rec.columns[STEP_TYPE] == "CC_DChg"
    gaps = np.diff(rec.columns[STEP_TIME][rows])
    assert gaps[:-1] == pytest.approx(7.0) and 0 < gaps[-1] <= 7.0
    assert rows.sum() == int(np.ceil(3600 / 7)) + 1


def test_defaults_describe_the_li2tis3_cell_and_truth_is_json():
    rec = simulate_cycling(n_cycles=2)
    truth = rec.metadata["truth"]
    assert truth["capacity_mah"] == pytest.approx(4.8) and truth["active_mass_mg"] == 10.0
    assert truth["cycles"]["discharge_mah_g"] == pytest.approx([480.0, 480.0])
    assert rec.voltage.min() >= 1.0 - 1e-9 and rec.voltage.max() <= 3.0 + 1e-9
    json.loads(json.dumps(rec.metadata))


# --- bad arguments ----------------------------------------------------------------------------

@pytest.mark.parametrize(("options", "argument"), [
    ({"n_cycles": 0}, "n_cycles"),
    ({"n_cycles": 2.5}, "n_cycles"),
    ({"capacity_mah": -1.0}, "capacity_mah"),
    ({"active_mass_mg": 0}, "active_mass_mg"),
    ({"ce": 2.5}, "ce"),
    ({"ce": 0.0}, "ce"),
    ({"c_rates": -0.1}, "c_rates"),
    ({"c_rates": [0.1, 0.2]}, "c_rates"),
    ({"c_rates": "fast"}, "c_rates"),
    ({"rate_capacity": {0.2: 0.9}}, "rate_capacity"),
    ({"fade_per_cycle": 0.6}, "fade_per_cycle"),
    ({"v_max": 0.5}, "v_max"),
    ({"protocol": "cv"}, "protocol"),
    ({"start_with": "rest"}, "start_with"),
    ({"rest_s": -1}, "rest_s"),
    ({"points_per_step": 1}, "points_per_step"),
    ({"resistance_ohm": 1e4}, "resistance_ohm"),
    ({"ocv": lambda x: 3.0 - x}, "ocv"),
    ({"ocv": "nmc"}, "ocv"),
    ({"activation_v": 2.99}, "activation_v"),
    ({"activation_v": 1.7, "first_charge_extra": 0.0}, "activation_v"),
    ({"noise_v": -0.1}, "noise_v"),
    ({"sample_interval_s": 0.001}, "sample_interval_s"),
    ({"rng": "seed"}, "rng"),
])
def test_bad_arguments_name_themselves(options, argument):
    kwargs = {"n_cycles": 3, "capacity_mah": 4.8, **options}
    with pytest.raises(InputError) as info:
        simulate_cycling(**kwargs)
    assert info.value.source == argument


def test_rate_test_leaves_the_cycle_count_to_its_blocks():
    with pytest.raises(InputError) as info:
        simulate_rate_test(n_cycles=3)
    assert info.value.source == "n_cycles"
    with pytest.raises(InputError):
        simulate_rate_test(rates=())


def test_huge_or_broken_inputs_are_refused_before_any_work():
    with pytest.raises(InputError) as info:
        simulate_cycling(n_cycles=10**9, capacity_mah=1.0)
    assert info.value.source == "n_cycles"
    with pytest.raises(InputError) as info:
        simulate_cycling(c_rates=[(0.1, 10**9)], capacity_mah=1.0)
    assert info.value.source == "c_rates"
    with pytest.raises(InputError) as info:
        simulate_cycling(n_cycles=2, capacity_mah=1.0, rate_capacity=lambda c: [1.0, 2.0, 3.0])
    assert info.value.source == "rate_capacity"
