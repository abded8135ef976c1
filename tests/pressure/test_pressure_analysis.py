"""analyze_pressure: per-cycle pressure, growth per cycle, drift, correlations, alignment.

Analytic truth: hand-made constant-current records (pressure_records.cc_record) with pressure
logs written from closed forms, p(t) = p0·(1 + g·t/T) + b·SOC(t), so every per-cycle number
is known exactly. Synthetic truth: ssbkit's cycling and pressure simulators with seeded
noise, including a zero-growth negative control.
"""

import json
import math
import warnings

import numpy as np
import pytest
from pressure_records import HALF, PERIOD, START, cc_record, triangle_soc

from ssbkit.core.errors import InputError
from ssbkit.cycling import CyclingRecord
from ssbkit.cycling.simulate import simulate_cycling
from ssbkit.pressure import PressureLog, PressureResult, analyze_pressure, simulate_pressure

P0, G, B = 10.0, 0.021, 0.4  # MPa, fraction per cycle, MPa
N = 6


def hand_log(t, *, p0=P0, growth=G, breathing=B, shift_s=0.0, source="stack.csv"):
    """Pressure at test times ``t`` (aligned with ``cc_record``), logged by a clock ``shift_s`` behind."""
    t = np.asarray(t, float)
    pressure = p0 * (1 + growth * np.clip(t, 0, N * PERIOD) / PERIOD) + breathing * triangle_soc(t, N)
    return PressureLog(START + t - shift_s, pressure, source=source)


MINUTES = np.arange(0.0, N * PERIOD + 1, 60.0)


def test_a_known_linear_baseline_growth_is_recovered_exactly():
    result = analyze_pressure(hand_log(MINUTES), cc_record(N))
    assert isinstance(result, PressureResult) and result.success
    assert result.growth_per_cycle.value == pytest.approx(100 * G, rel=1e-9)
    assert result.growth_per_cycle.unit == "%"
    assert result.growth_per_cycle.stderr == pytest.approx(0.0, abs=1e-9)
    assert result.growth_rate.value == pytest.approx(P0 * G, rel=1e-9)
    assert result.initial_pressure.value == pytest.approx(P0, rel=1e-12)
    # the baseline ends cycle 6 at p0·(1 + 6g)
    assert result.drift.value == pytest.approx(P0 * G * N, rel=1e-9)
    assert result.drift_percent.value == pytest.approx(100 * G * N, rel=1e-9)
    assert result.cycles_fitted == N and result.samples_used == MINUTES.size
    assert result.samples_before == result.samples_after == 0


def test_per_cycle_values_follow_the_closed_form():
    cycles = analyze_pressure(hand_log(MINUTES), cc_record(N)).cycles
    k = np.arange(1, N + 1)
    assert cycles["cycle"].tolist() == k.tolist()
    assert cycles["complete"].all()
    # a sample at a cycle's first instant belongs to the cycle before (it ends there)
    assert cycles["samples"].tolist() == [121] + [120] * (N - 1)
    np.testing.assert_allclose(cycles["start pressure [MPa]"], P0 * (1 + G * (k - 1)), rtol=1e-12)
    np.testing.assert_allclose(cycles["end pressure [MPa]"], P0 * (1 + G * k), rtol=1e-12)
    np.testing.assert_allclose(cycles["rise [MPa]"], P0 * G, rtol=1e-9)
    # top of charge, half-way through each cycle: baseline there plus the full breathing
    maximum = P0 * (1 + G * (k - 0.5)) + B
    np.testing.assert_allclose(cycles["max pressure [MPa]"], maximum, rtol=1e-12)
    # the least pressure: cycle 1's first sample; later cycles' first sample, 60 s in
    first = P0 * (1 + G * (k - 1 + 60 / PERIOD)) + B * 60 / HALF
    minimum = np.where(k == 1, P0, first)
    np.testing.assert_allclose(cycles["min pressure [MPa]"], minimum, rtol=1e-12)
    np.testing.assert_allclose(cycles["swing [MPa]"], maximum - minimum, rtol=1e-12)
    np.testing.assert_allclose(cycles["discharge capacity [mAh]"], 1.0, rtol=1e-12)


def test_samples_out_of_step_with_the_cycles_still_give_the_turning_points_exactly():
    # samples 23 s past each minute: none falls on a cycle boundary, the V-shaped minimum
    # between discharge and charge; a line through the samples on each side of it would
    # pass above it, the samples of the step that ends there extrapolate onto it
    late = np.arange(23.0, N * PERIOD, 60.0)
    result = analyze_pressure(hand_log(late), cc_record(N))
    k = np.arange(1, N + 1)
    np.testing.assert_allclose(result.cycles["start pressure [MPa]"], P0 * (1 + G * (k - 1)), rtol=1e-12)
    np.testing.assert_allclose(result.cycles["end pressure [MPa]"], P0 * (1 + G * k), rtol=1e-12)
    assert result.growth_per_cycle.value == pytest.approx(100 * G, rel=1e-9)


def test_a_cycle_the_record_cuts_off_is_not_complete():
    record = cc_record(N)
    cut = record.time <= (N - 1) * PERIOD + 1800.0  # the last cycle stops half-way through its charge
    short = CyclingRecord({k: v[cut] for k, v in record.columns.items()}, source="cut")
    result = analyze_pressure(hand_log(MINUTES[MINUTES <= (N - 1) * PERIOD + 1800.0]), short)
    assert result.cycles["complete"].tolist() == [True] * (N - 1) + [False]
    assert result.drift.value == pytest.approx(P0 * G * (N - 1), rel=1e-9)


def test_the_minimum_baseline_gives_the_growth_of_the_minima():
    result = analyze_pressure(hand_log(MINUTES), cc_record(N), baseline="min")
    minima = result.cycles["min pressure [MPa]"].to_numpy()
    slope, intercept = np.polyfit(np.arange(1, N + 1), minima, 1)
    assert result.baseline == "min"
    assert result.growth_per_cycle.value == pytest.approx(100 * slope / (intercept + slope), rel=1e-9)


def test_a_clock_offset_is_undone_by_offset_s():
    record = cc_record(N)
    aligned = analyze_pressure(hand_log(MINUTES), record)
    behind = hand_log(MINUTES, shift_s=45.0)
    shifted = analyze_pressure(behind, record, offset_s=45.0)
    np.testing.assert_allclose(shifted.cycles["start pressure [MPa]"],
                               aligned.cycles["start pressure [MPa]"], rtol=1e-12)
    assert shifted.growth_per_cycle.value == pytest.approx(aligned.growth_per_cycle.value, rel=1e-12)
    assert shifted.offset_s == 45.0
    unaligned = analyze_pressure(behind, record)  # the negative control
    assert not np.allclose(unaligned.cycles["start pressure [MPa]"],
                           aligned.cycles["start pressure [MPa]"], rtol=1e-6)


def test_samples_outside_the_record_are_counted_not_used():
    record = cc_record(N)
    longer = np.r_[-600.0 + 60 * np.arange(10), MINUTES, N * PERIOD + 60 * np.arange(1, 6)]
    result = analyze_pressure(hand_log(longer), record)
    assert (result.samples_before, result.samples_after, result.samples_used) == (10, 5, MINUTES.size)
    assert "10 samples before and 5 after" in result.message
    inner = analyze_pressure(hand_log(MINUTES), record)
    np.testing.assert_allclose(result.cycles["max pressure [MPa]"], inner.cycles["max pressure [MPa]"])
    np.testing.assert_allclose(result.cycles["min pressure [MPa]"], inner.cycles["min pressure [MPa]"])


def test_cycles_the_log_covers_only_in_part_are_left_out_of_the_fit():
    partial = np.arange(3000.0, 30000.0 + 1, 60.0)
    result = analyze_pressure(hand_log(partial), cc_record(N))
    assert result.cycles["complete"].tolist() == [False, True, True, True, False, False]
    assert result.cycles["samples"].iloc[-1] == 0 and math.isnan(result.cycles["max pressure [MPa]"].iloc[-1])
    assert result.cycles_fitted == 3
    assert result.growth_per_cycle.value == pytest.approx(100 * G, rel=1e-9)
    assert "3 incomplete cycle(s)" in result.message


def test_fewer_than_two_complete_cycles_is_not_a_success():
    result = analyze_pressure(hand_log(np.arange(0.0, PERIOD + 1, 60.0)), cc_record(N))
    assert not result.success and result.cycles_fitted == 1
    assert math.isnan(result.growth_per_cycle.value)
    assert "needs two" in result.message


def test_swing_that_follows_capacity_correlates_perfectly():
    lengths = np.array([3600.0, 3000.0, 2400.0, 3300.0, 1800.0])  # 1.0, 0.83, … mAh per cycle
    record = cc_record(charge_s=lengths)
    ends = np.cumsum(2 * lengths)
    starts = ends - 2 * lengths
    t = np.arange(0.0, ends[-1] + 1, 60.0)
    k = np.clip(np.searchsorted(ends, t, side="left"), 0, lengths.size - 1)
    phase = (t - starts[k]) / lengths[k]
    soc = np.where(phase <= 1, phase, 2 - phase)
    breathing = 0.3 * (lengths[k] / 3600.0) * soc  # 0.3 MPa per mAh, no growth
    result = analyze_pressure(PressureLog(START + t, P0 + breathing), record)
    np.testing.assert_allclose(result.cycles["discharge capacity [mAh]"], lengths / 3600.0, rtol=1e-12)
    swing = result.correlations["swing"]
    assert swing.r == pytest.approx(1.0, abs=1e-12) and swing.n == 5 and swing.p_value < 1e-6
    # without growth the rise and the baseline are constant: r is undefined, not made up
    assert math.isnan(result.correlations["rise"].r)
    assert math.isnan(result.correlations["baseline"].r)
    assert result.growth_per_cycle.value == pytest.approx(0.0, abs=1e-9)


def test_an_absolute_start_time_in_the_metadata_serves_as_well_as_a_unix_column():
    with_start = cc_record(N, unix=False, metadata={"start_time": "2023-11-14T22:13:20"})
    a = analyze_pressure(hand_log(MINUTES), with_start)
    b = analyze_pressure(hand_log(MINUTES), cc_record(N))
    assert a.growth_per_cycle.value == pytest.approx(b.growth_per_cycle.value, rel=1e-12)


def test_the_result_as_json_table_and_report():
    result = analyze_pressure(hand_log(MINUTES), cc_record(N))
    document = json.loads(result.to_json())
    assert document["growth_per_cycle"]["unit"] == "%"
    assert document["growth_per_cycle"]["value"] == pytest.approx(2.1)
    assert document["drift"]["unit"] == "MPa" and document["drift_percent"]["unit"] == "%"
    assert len(document["cycles"]) == N and document["cycles"][0]["complete"] is True
    assert set(document["correlations"]) == {"swing", "rise", "baseline"}
    assert document["provenance"]["settings"]["baseline"] == "start"
    assert result.to_frame().shape[0] == N
    assert "growth per cycle: 2.1" in result.report()


def test_a_log_that_does_not_overlap_the_record_names_the_log():
    late = hand_log(MINUTES + 10 * N * PERIOD)
    with pytest.raises(InputError, match="does not overlap") as info:
        analyze_pressure(late, cc_record(N))
    assert info.value.source == "stack.csv"
    assert "2023-11-" in str(info.value)  # both spans are given as dates


def test_a_log_on_local_time_is_said_to_be_hours_off_with_the_offset_that_fixes_it():
    """Regression: a log in UTC+02:00 read as UTC against a UTC cycler overlapped in part, and
    nothing said why (a Neware file's Unix time is UTC; a logger's zone-less stamps are not)."""
    record = cc_record(N)
    early = np.r_[-300.0 + 60 * np.arange(5), MINUTES]  # the logger started 5 min before
    local = hand_log(early, shift_s=-7200.0)  # its stamps 2 h ahead of UTC
    result = analyze_pressure(local, record)
    assert "1.92 h after the cycling record, close to +2 h" in result.message
    assert "offset_s=-7200 (--offset-s -7200)" in result.message
    fixed = analyze_pressure(local, record, offset_s=-7200.0)
    assert "h after" not in fixed.message and "time zone" not in fixed.message
    assert fixed.growth_per_cycle.value == pytest.approx(100 * G, rel=1e-9)
    # a second offset given is kept in the one suggested
    assert "offset_s=-7170" in analyze_pressure(local, record, offset_s=30.0).message


@pytest.mark.parametrize("shift_s", [0.0, -600.0, -1800.0, -5400.0, -20 * 3600.0])
def test_misfits_that_are_no_whole_hours_get_no_time_zone_hint(shift_s):
    # negative control: on time, 10 min or 30 min late, 1.5 h, and more hours than zones have
    result = analyze_pressure(hand_log(MINUTES, shift_s=shift_s), cc_record(3 * N))
    assert "zone" not in result.message and "offset_s=" not in result.message


def test_the_records_utc_offset_names_a_half_hour_zone():
    # a cycler in UTC+05:30 whose reader recorded utc_offset_s; the log is on local time
    record = cc_record(N, metadata={"utc_offset_s": 19800})
    result = analyze_pressure(hand_log(MINUTES, shift_s=-19800.0), record)
    assert "about the +5.5 h by which the cycler's local time is ahead of UTC" in result.message
    assert "offset_s=-19800" in result.message


def test_a_log_hours_off_that_misses_the_record_says_so_in_the_error():
    with pytest.raises(InputError, match=r"close to \+13 h.*offset_s=-46800") as info:
        analyze_pressure(hand_log(MINUTES, shift_s=-13 * 3600.0), cc_record(N))
    assert "does not overlap" in str(info.value)


def test_the_result_is_frozen_and_its_tables_are_copies():
    """Regression: ``result.cycles[...] = x`` changed the result's JSON and report later."""
    result = analyze_pressure(hand_log(MINUTES), cc_record(N))
    before, report = result.to_json(), result.report()
    table = result.cycles
    table["start pressure [MPa]"] = 0.0
    table.loc[0, "max pressure [MPa]"] = 99.0
    with warnings.catch_warnings():  # pandas warns that these land on a copy; they do
        warnings.simplefilter("ignore")
        result.cycles["complete"] = False
        result.to_frame().loc[0, "cycle"] = 7
    with pytest.raises(ValueError, match="read-only"):
        result.per_cycle["start pressure [MPa]"][0] = 0.0
    with pytest.raises(TypeError):
        result.per_cycle["extra"] = np.zeros(N)
    with pytest.raises(TypeError):
        result.correlations["swing"] = None
    assert result.to_json() == before and result.report() == report
    assert result.cycles["complete"].all() and result.cycles["cycle"].iloc[0] == 1


@pytest.mark.parametrize(("options", "source"), [({"offset_s": float("nan")}, "offset_s"),
                                                 ({"baseline": "max"}, "baseline"),
                                                 ({"convention": "anode"}, "convention")])
def test_bad_options_name_themselves(options, source):
    with pytest.raises(InputError) as info:
        analyze_pressure(hand_log(MINUTES), cc_record(N), **options)
    assert info.value.source == source


def test_bad_inputs():
    with pytest.raises(InputError, match="PressureLog"):
        analyze_pressure(MINUTES, cc_record(N))
    with pytest.raises(InputError, match="CyclingRecord"):
        analyze_pressure(hand_log(MINUTES), "cycling.csv")
    with pytest.raises(InputError, match="no absolute time") as info:
        analyze_pressure(hand_log(MINUTES), cc_record(N, unix=False))
    assert info.value.source == "hand-made cycling"


# --- synthetic truth: ssbkit's simulators with seeded noise --------------------------------


@pytest.fixture(scope="module")
def cycling():
    return simulate_cycling(n_cycles=20, capacity_mah=2.0, c_rates=0.5, points_per_step=20)


def simulated(record, growth, seed, **options):
    log = simulate_pressure(record, p0_mpa=10.0, growth_per_cycle=growth, breathing_mpa=0.5,
                            noise_mpa=0.05, rng=np.random.default_rng(seed), **options)
    return log


@pytest.mark.parametrize("growth_pct", [2.1, 3.6])
def test_the_studys_growth_rates_are_recovered_through_noise(cycling, growth_pct):
    result = analyze_pressure(simulated(cycling, growth_pct / 100, seed=5), cycling)
    estimate = result.growth_per_cycle
    assert abs(estimate.value - growth_pct) < 0.1
    assert abs(estimate.value - growth_pct) < 3 * estimate.stderr
    assert estimate.value / estimate.stderr > 50  # the error bar is not vacuous
    assert result.initial_pressure.value == pytest.approx(10.0, abs=0.05)
    assert result.drift_percent.value == pytest.approx(20 * growth_pct, rel=0.05)


def test_zero_growth_gives_an_interval_that_holds_zero(cycling):
    for seed in (1, 2, 3):
        estimate = analyze_pressure(simulated(cycling, 0.0, seed=seed), cycling).growth_per_cycle
        assert abs(estimate.value) <= 1.96 * estimate.stderr, (seed, estimate)


def test_the_standard_error_matches_the_scatter_over_seeds(cycling):
    start, minimum = [], []
    errors = []
    for seed in range(30):
        log = simulated(cycling, 0.021, seed=100 + seed)
        fit = analyze_pressure(log, cycling)
        start.append(fit.growth_per_cycle.value)
        errors.append(fit.growth_per_cycle.stderr)
        minimum.append(analyze_pressure(log, cycling, baseline="min").growth_per_cycle.value)
    start, minimum = np.array(start), np.array(minimum)
    assert 0.7 < start.std(ddof=1) / np.mean(errors) < 1.4
    # the start-of-cycle baseline is unbiased; the minimum is biased high (its least-of-many
    # noisy samples lowers the initial pressure it divides by): the reason it is not the default
    standard_error_of_mean = start.std(ddof=1) / np.sqrt(start.size)
    assert abs(start.mean() - 2.1) < 3 * standard_error_of_mean
    assert minimum.mean() - 2.1 > 3 * minimum.std(ddof=1) / np.sqrt(minimum.size)


def test_a_simulated_clock_offset_and_margins(cycling):
    log = simulated(cycling, 0.021, seed=9, clock_offset_s=90.0, margin_s=1800.0)
    result = analyze_pressure(log, cycling, offset_s=90.0)
    assert result.samples_before == 30 and result.samples_after == 30
    assert abs(result.growth_per_cycle.value - 2.1) < 0.1


def test_the_p_value_of_r_agrees_with_scipys_pearsonr():
    stats = pytest.importorskip("scipy.stats")
    from ssbkit.pressure.analysis import correlation_p_value

    rng = np.random.default_rng(3)
    for n in (3, 4, 5, 8, 13, 40, 201, 1000):
        for slope in (0.0, 0.05, 0.3, 1.0, 5.0):
            x = rng.normal(size=n)
            y = slope * x + rng.normal(size=n)
            expected = stats.pearsonr(x, y)
            r = np.corrcoef(x, y)[0, 1]
            assert correlation_p_value(r, n) == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert correlation_p_value(1.0, 10) == 0.0 and math.isnan(correlation_p_value(0.5, 2))


@pytest.mark.shared_data
def test_a_real_700k_row_record_with_a_simulated_log():
    # the Neware BTS 8.5 file: 22 cycles at rising rates, a clock set back 17 times by up to
    # 2.2 s, and a last cycle cut off during its charge
    from ssbkit.io import read_cycling
    from ssbkit.testing import shared_data

    record = read_cycling(shared_data("cycling", "neware", "newarenda_issue60_BTS85.ndax"))
    log = simulate_pressure(record, p0_mpa=10.0, growth_per_cycle=0.021, breathing_mpa=0.4,
                            noise_mpa=0.0)
    result = analyze_pressure(log, record)
    assert result.growth_per_cycle.value == pytest.approx(2.1, abs=1e-6)
    assert result.cycles_fitted == 21 and not result.cycles["complete"].iloc[-1]
    k = result.cycles["cycle"].to_numpy()[:-1]
    np.testing.assert_allclose(result.cycles["start pressure [MPa]"].to_numpy()[:-1],
                               10.0 * (1 + 0.021 * (k - 1)), rtol=1e-7)
    noisy = simulate_pressure(record, p0_mpa=10.0, growth_per_cycle=0.021, breathing_mpa=0.4,
                              noise_mpa=0.02, rng=np.random.default_rng(0))
    estimate = analyze_pressure(noisy, record).growth_per_cycle
    assert abs(estimate.value - 2.1) < min(0.1, 3 * estimate.stderr)
