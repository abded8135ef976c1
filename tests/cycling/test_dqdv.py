"""dQ/dV: analytic curves, exact charge conservation, noise, CV exclusion, peaks and tracks."""

import json
import math

import numpy as np
import pytest
from scipy.integrate import quad

from ssbkit.core.errors import InputError
from ssbkit.cycling import find_steps, summarize_cycles
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CURRENT,
    DISCHARGE_CAPACITY,
    STEP_COUNT,
    STEP_TYPE,
    TIME,
    VOLTAGE,
    CyclingRecord,
)
from ssbkit.cycling.dqdv import DQDVCurve, DQDVResult, dqdv
from ssbkit.cycling.simulate import simulate_cycling
from ssbkit.io import read_cycling
from ssbkit.testing import shared_data

CURRENT_A = 1e-3  # 1 mA: one mAh takes an hour


def build(halves, *, counters=True):
    """A record from half-cycles ``(direction, q_mah, v[, step type[, current_a]])``.

    ``q_mah`` is the charge passed since the step began (rising), ``v`` the voltage at each
    row; each half is one step whose counters restart at zero, the current constant (or
    the array given), and time advancing by the charge over the current.
    """
    cols = {k: [] for k in (TIME, VOLTAGE, CURRENT, CHARGE_CAPACITY, DISCHARGE_CAPACITY,
                            STEP_COUNT, STEP_TYPE)}
    now = 0.0
    for k, (direction, q, v, *rest) in enumerate(halves, start=1):
        q, v = np.asarray(q, float), np.asarray(v, float)
        name = rest[0] if rest else ("CC_Chg" if direction > 0 else "CC_DChg")
        amps = np.broadcast_to(np.asarray(rest[1] if len(rest) > 1 else CURRENT_A, float), q.shape)
        dt = np.diff(q, prepend=0.0) * 3.6 / amps  # s per row: mAh · 3600 / (A · 1000)
        time = now + np.cumsum(np.maximum(dt, 1e-3))
        now = float(time[-1])
        cols[TIME] += time.tolist()
        cols[VOLTAGE] += v.tolist()
        cols[CURRENT] += (direction * amps).tolist()
        cols[CHARGE_CAPACITY] += (q * 1e-3 if direction > 0 else np.zeros(q.size)).tolist()
        cols[DISCHARGE_CAPACITY] += (q * 1e-3 if direction < 0 else np.zeros(q.size)).tolist()
        cols[STEP_COUNT] += [k] * q.size
        cols[STEP_TYPE] += [name] * q.size
    if not counters:
        del cols[CHARGE_CAPACITY], cols[DISCHARGE_CAPACITY]
    return CyclingRecord.from_columns(cols, source="built")


def plateau_q(v, *, v0=3.6137, width=0.03, share=2.0, slope=1.0, v1=3.3):
    """Q(V) [mAh] of a sloping background plus one tanh plateau; dQ/dV is known in closed form."""
    return slope * (v - v1) + share * (1 + np.tanh((v - v0) / width)) / 2


def plateau_dqdv(v, *, v0=3.6137, width=0.03, share=2.0, slope=1.0):
    return slope + share / (2 * width) / np.cosh((v - v0) / width) ** 2


def charge_of(q_of_v, v):
    q = q_of_v(v)
    return q - q[0]


def two_ramps(n=3001):
    """3.0 -> 3.5 V over 1 mAh (2 mAh/V), then 3.5 -> 4.0 V over 2 mAh (4 mAh/V)."""
    q = np.linspace(0.0, 3.0, n)
    v = np.where(q <= 1.0, 3.0 + 0.5 * q, 3.5 + 0.25 * (q - 1.0))
    return q, v


def interior(curve, lo, hi, margin):
    keep = (curve.voltage > lo + margin) & (curve.voltage < hi - margin)
    return curve.voltage[keep], curve.binned[keep], curve.dqdv[keep]


# -- analytic ------------------------------------------------------------------------------------

def test_two_linear_ramps_give_the_inverse_slopes():
    q, v = two_ramps()
    result = dqdv(build([(1, q, v)]), smooth="none", bin_width_v=0.005)
    curve = result.curve(1, "charge")
    for lo, hi, expected in ((3.0, 3.5, 2.0), (3.5, 4.0, 4.0)):
        _, binned, _ = interior(curve, lo, hi, 0.006)
        assert binned.size > 90
        np.testing.assert_allclose(binned, expected, rtol=1e-9)
    assert result.unit == "mAh/V"
    assert result.peaks == () and result.tracks == ()


def test_specific_dqdv_divides_by_the_active_mass():
    q, v = two_ramps()
    result = dqdv(build([(1, q, v)]), smooth="none", active_mass_mg=2.0)
    _, binned, _ = interior(result.curves[0], 3.0, 3.5, 0.006)
    np.testing.assert_allclose(binned, 2.0 / 2e-3, rtol=1e-9)  # mAh/V over 0.002 g
    assert result.unit == "mAh/g/V" and result.mass_source == "argument"


def test_sparse_rows_do_not_alias_into_empty_bins():
    # rows 20 mV apart, bins of 5 mV: each row's charge is spread over the span it crossed
    q = np.linspace(0.0, 1.0, 51)
    result = dqdv(build([(1, q, 3.0 + 0.5 * q)]), smooth="none", bin_width_v=0.005)
    _, binned, _ = interior(result.curves[0], 3.0, 3.5, 0.006)
    np.testing.assert_allclose(binned, 2.0, rtol=1e-9)


@pytest.mark.parametrize("smooth, width", [("none", 0.0), ("gaussian", 0.005),
                                           ("gaussian", 0.01), ("savgol", 0.02)])
def test_tanh_plateau_peak_at_its_potential_with_the_known_height(smooth, width):
    v = np.linspace(3.3, 3.9, 6001)
    result = dqdv(build([(1, charge_of(plateau_q, v), v)]), smooth=smooth, smooth_width_v=width,
                  bin_width_v=0.005)
    assert len(result.peaks) == 1
    peak = result.peaks[0]
    if smooth == "gaussian":  # the Gaussian-smoothed closed form, integrated numerically
        expected = quad(lambda u: math.exp(-u * u / (2 * width ** 2)) / (math.sqrt(2 * math.pi) * width)
                        * plateau_dqdv(3.6137 - u), -8 * width, 8 * width)[0]
    else:
        expected = plateau_dqdv(3.6137)
    assert peak.potential.value == pytest.approx(3.6137, abs=1e-4)  # 5 mV bins: sub-bin precision
    assert peak.potential.unit == "V"
    assert peak.height.value == pytest.approx(expected, rel=5e-3)


def test_spline_method_finds_the_same_peak_and_keeps_the_capacity():
    v = np.linspace(3.3, 3.9, 6001)
    q = charge_of(plateau_q, v)
    result = dqdv(build([(1, q, v)]), method="spline", smooth_width_v=0.005, bin_width_v=0.002)
    assert len(result.peaks) == 1
    assert result.peaks[0].potential.value == pytest.approx(3.6137, abs=2e-4)
    assert result.peaks[0].height.value == pytest.approx(plateau_dqdv(3.6137), rel=0.05)
    curve = result.curves[0]
    assert curve.dqdv.sum() * result.bin_width_v == pytest.approx(q[-1], rel=1e-3)


@pytest.mark.parametrize("method, smooth", [("bin", "none"), ("bin", "gaussian"), ("bin", "savgol")])
def test_binning_conserves_the_half_cycle_capacity_exactly(method, smooth):
    v = np.linspace(3.3, 3.9, 3001)
    q = charge_of(plateau_q, v)
    down = q[-1] - q[::-1]  # the same curve discharged: V falls as charge leaves
    record = build([(1, q, v), (-1, down, v[::-1]), (1, q * 0.97, v - 0.01)])
    result = dqdv(record, method=method, smooth=smooth)
    summary = summarize_cycles(record)
    assert [(c.cycle, c.direction) for c in result.curves] == [(1, "charge"), (1, "discharge"),
                                                               (2, "charge")]
    for curve in result.curves:
        j = list(summary.cycles["cycle"]).index(curve.cycle)
        expected = summary.cycles["charge" if curve.direction == "charge" else "discharge"][j]
        assert curve.capacity_mah == pytest.approx(expected, rel=1e-12)
        assert curve.binned.sum() * result.bin_width_v == pytest.approx(expected, rel=1e-9)
        # the smoothed curve keeps it too, but for the ends, where it averages one-sided
        assert curve.dqdv.sum() * result.bin_width_v == pytest.approx(expected, rel=1e-6)
        assert np.all(curve.binned >= 0)


def test_current_integral_is_used_without_counters():
    q, v = two_ramps()
    record = build([(1, q, v)], counters=False)
    result = dqdv(record, smooth="none")
    assert result.curves[0].capacity_mah == pytest.approx(3.0, rel=1e-9)
    _, binned, _ = interior(result.curves[0], 3.0, 3.5, 0.006)
    np.testing.assert_allclose(binned, 2.0, rtol=1e-6)


# -- noise and non-monotonic voltage ---------------------------------------------------------------

def test_noisy_non_monotonic_ramp_gives_the_same_curve():
    q, v = two_ramps(20001)
    rng = np.random.default_rng(7)
    noisy = v + rng.uniform(-0.005, 0.005, v.size)
    assert (np.diff(noisy) < 0).sum() > 1000  # the voltage steps back again and again
    clean = dqdv(build([(1, q, v)]), smooth_width_v=0.02).curves[0]
    rough = dqdv(build([(1, q, noisy)]), smooth_width_v=0.02).curves[0]
    assert rough.capacity_mah == pytest.approx(3.0, rel=1e-12)
    common = np.intersect1d(np.round(clean.voltage / 0.005), np.round(rough.voltage / 0.005))
    for lo, hi, level in ((3.0, 3.5, 2.0), (3.5, 4.0, 4.0)):
        # away from the ends and the slope break, by more than the smoothing's reach
        keep = (common * 0.005 > lo + 0.08) & (common * 0.005 < hi - 0.08)
        a = clean.dqdv[np.isin(np.round(clean.voltage / 0.005), common[keep])]
        b = rough.dqdv[np.isin(np.round(rough.voltage / 0.005), common[keep])]
        np.testing.assert_allclose(a, level, rtol=1e-6)
        np.testing.assert_allclose(b, a, rtol=0.03)


def test_voltage_that_steps_back_never_throws_and_keeps_the_charge():
    q = np.linspace(0.0, 2.0, 4001)
    v = 3.0 + 0.3 * q
    v[1500:1600] -= 0.05  # a relaxation dip mid-charge
    v[2000] = np.nan  # a lost reading
    result = dqdv(build([(1, q, v)]))
    curve = result.curves[0]
    lost = np.diff(q, prepend=0.0)[2000]
    assert curve.capacity_mah == pytest.approx(2.0 - lost, rel=1e-12)
    assert np.isfinite(curve.dqdv).all()


def test_a_linear_ramp_has_no_peaks_negative_control():
    q = np.linspace(0.0, 2.0, 8001)
    v = 3.0 + 0.4 * q
    rng = np.random.default_rng(3)
    noisy = v + rng.normal(0.0, 0.002, v.size)
    for voltage, smoothers in ((v, ({}, {"smooth": "none"}, {"smooth": "savgol"},
                                    {"method": "spline"})),
                               # 2 mV of noise on rows 0.1 mV apart leaves 8 % noise in the
                               # bins; the Gaussian and the spline bring it to 1 %
                               (noisy, ({}, {"method": "spline"}))):
        for kw in smoothers:
            result = dqdv(build([(1, q, voltage)]), **kw)
            assert result.peaks == (), kw


# -- CV parts --------------------------------------------------------------------------------------

def cccv_record(*, one_step):
    q_cc = np.linspace(0.0, 2.0, 2001)
    v_cc = 3.0 + 0.5 * q_cc
    decay = 1e-3 * np.exp(-np.linspace(0.0, 3.0, 300))  # A, falling at 4.0 V
    q_cv = np.cumsum(decay * 60.0 / 3.6)  # mAh: one row a minute
    if one_step:
        q = np.r_[q_cc, q_cc[-1] + q_cv]
        amps = np.r_[np.full(q_cc.size, CURRENT_A), decay]
        v = np.r_[v_cc, np.full(q_cv.size, 4.0)]
        return build([(1, q, v, "CCCV_Chg", amps)]), float(q_cv[-1])
    return build([(1, q_cc, v_cc), (1, q_cv, np.full(q_cv.size, 4.0), "CV_Chg", decay)]), float(q_cv[-1])


@pytest.mark.parametrize("one_step", [False, True])
def test_constant_voltage_charge_is_left_out_and_reported(one_step):
    record, cv_mah = cccv_record(one_step=one_step)
    kinds = set(find_steps(record).kind)
    assert kinds == ({"cccv_charge"} if one_step else {"cc_charge", "cv_charge"})
    result = dqdv(record, smooth="none")
    curve = result.curves[0]
    # the CV part begins where the voltage came within 1 mV of the held 4.0 V: the last
    # 1 mV of the CC ramp (0.002 mAh at 0.5 V/mAh) and the row that crossed into it
    # (0.001 mAh) go with it
    assert curve.capacity_mah == pytest.approx(2.0, abs=0.0035)
    assert curve.capacity_mah + curve.cv_capacity_mah == pytest.approx(2.0 + cv_mah, rel=1e-12)
    assert result.cv_excluded_mah == pytest.approx(curve.cv_capacity_mah)
    assert "constant voltage" in result.message
    assert curve.binned.max() < 2.1  # no spike at the 4.0 V cut-off; the ramp gives 2 mAh/V


# -- peak tracking ---------------------------------------------------------------------------------

def shifting_record(n_cycles=6, *, shift_charge=0.01, shift_discharge=-0.008):
    halves = []
    v = np.linspace(3.3, 4.1, 4001)
    for c in range(n_cycles):
        def up(x, c=c):
            return (plateau_q(x, v0=3.60 + shift_charge * c, width=0.02)
                    + plateau_q(x, v0=3.90, width=0.02, share=1.0, slope=0.0))
        def down(x, c=c):
            return plateau_q(x, v0=3.55 + shift_discharge * c, width=0.02)
        q_up = charge_of(up, v)
        q_down = charge_of(down, v)
        halves += [(1, q_up, v), (-1, q_down[-1] - q_down[::-1], v[::-1])]
    return build(halves)


def test_peaks_that_shift_linearly_are_tracked_across_cycles():
    result = dqdv(shifting_record(), bin_width_v=0.002, smooth_width_v=0.004)
    tracks = {(t.direction, round(float(np.median(t.potential_v)), 1)): t for t in result.tracks}
    assert sorted(tracks) == [("charge", 3.6), ("charge", 3.9), ("discharge", 3.5)]
    moving, still, back = tracks["charge", 3.6], tracks["charge", 3.9], tracks["discharge", 3.5]
    for track, start, slope in ((moving, 3.60, 0.01), (still, 3.90, 0.0), (back, 3.55, -0.008)):
        assert track.cycles.tolist() == [1, 2, 3, 4, 5, 6]
        np.testing.assert_allclose(track.potential_v, start + slope * np.arange(6), atol=3e-4)
        assert track.shift.value == pytest.approx(slope, abs=1e-4)
        assert track.shift.unit == "V/cycle"
    assert [t.track for t in result.tracks] == [1, 2, 3]  # charge first, by potential
    assert {p.track for p in result.peaks if p.direction == "discharge"} == {back.track}
    assert len(result.peaks) == 18


def test_a_shift_beyond_the_window_starts_new_tracks():
    result = dqdv(shifting_record(3, shift_charge=0.05), bin_width_v=0.002,
                  smooth_width_v=0.004, track_window_v=0.02)
    moving = [t for t in result.tracks if t.direction == "charge" and t.potential_v[0] < 3.8]
    assert len(moving) == 3 and all(t.cycles.size == 1 for t in moving)
    assert all(math.isnan(t.shift.value) for t in moving)


def test_reference_offset_moves_every_voltage():
    record = shifting_record(2)
    plain = dqdv(record, bin_width_v=0.002, smooth_width_v=0.004)
    shifted = dqdv(record, bin_width_v=0.002, smooth_width_v=0.004, reference_offset_v=0.62)
    a = sorted(p.potential.value for p in plain.peaks)
    b = sorted(p.potential.value for p in shifted.peaks)
    np.testing.assert_allclose(np.array(b) - np.array(a), 0.62, atol=1e-9)
    assert shifted.curves[0].voltage_min == pytest.approx(plain.curves[0].voltage_min + 0.62)


# -- selection, output, bad input -----------------------------------------------------------------

def test_cycles_and_direction_select_half_cycles():
    record = shifting_record(4)
    result = dqdv(record, cycles=[2, 4], direction="discharge")
    assert [(c.cycle, c.direction) for c in result.curves] == [(2, "discharge"), (4, "discharge")]
    assert dqdv(record, cycles=3).curves[0].cycle == 3


def test_to_dict_is_strict_json_with_units():
    result = dqdv(shifting_record(2), bin_width_v=0.002, smooth_width_v=0.004)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["unit"] == "mAh/V"
    assert data["curves"][0]["cycle"] == 1 and len(data["curves"][0]["voltage"]) == len(
        data["curves"][0]["dqdv"])
    peak = data["peaks"][0]
    assert peak["potential"]["unit"] == "V" and peak["height"]["unit"] == "mAh/V"
    assert {"cycle", "direction", "track"} <= set(peak)
    track = data["tracks"][0]
    assert track["potential"]["unit"] == "V" and len(track["cycles"]) == 2
    assert data["provenance"]["settings"]["bin_width_v"] == 0.002
    frame = result.to_frame()
    assert list(frame.columns) == ["cycle", "direction", "voltage [V]", "dQ/dV [mAh/V]",
                                   "binned dQ/dV [mAh/V]"]
    assert list(result.peak_frame().columns)[:4] == ["cycle", "direction", "track", "potential [V]"]
    assert "track 1 (charge)" in result.report()


def test_a_cycle_that_does_not_exist_names_those_that_do():
    record = shifting_record(3)
    with pytest.raises(InputError, match=r"no cycle 9 .*its cycles are 1–3"):
        dqdv(record, cycles=[1, 9])


@pytest.mark.parametrize("kw, source", [
    ({"bin_width_v": 0}, "bin_width_v"), ({"bin_width_v": -0.005}, "bin_width_v"),
    ({"bin_width_v": float("nan")}, "bin_width_v"), ({"smooth_width_v": -1}, "smooth_width_v"),
    ({"direction": "up"}, "direction"), ({"method": "fft"}, "method"),
    ({"smooth": "box"}, "smooth"), ({"convention": "first"}, "convention"),
    ({"cycles": "1,2"}, "cycles"), ({"cycles": [1.5]}, "cycles"), ({"cycles": []}, "cycles"),
    ({"peak_prominence": 0}, "peak_prominence"), ({"track_window_v": 0}, "track_window_v"),
    ({"active_mass_mg": 0}, "active_mass_mg"), ({"method": "spline", "smooth_width_v": 0},
                                                "smooth_width_v"),
    ({"reference_offset_v": "x"}, "reference_offset_v"),
])
def test_bad_arguments_are_input_errors_naming_the_argument(kw, source):
    with pytest.raises(InputError) as info:
        dqdv(shifting_record(1), **kw)
    assert info.value.source == source


def test_bad_record_and_foreign_steps():
    with pytest.raises(InputError, match="CyclingRecord"):
        dqdv([1, 2, 3])
    with pytest.raises(InputError, match="StepTable of this record"):
        dqdv(shifting_record(2), steps=find_steps(shifting_record(1)))
    q, v = two_ramps(11)
    with pytest.raises(InputError, match="native"):
        dqdv(build([(1, q, v)]), convention="native")


def test_bin_width_error_names_the_argument_and_the_value_given():
    # the CLI renames the source to --bin-width-mv; the detail carries the value in volts
    with pytest.raises(InputError) as info:
        dqdv(shifting_record(1), bin_width_v=-0.005)
    assert info.value.source == "bin_width_v" and info.value.detail == "must be > 0, got -0.005"


@pytest.mark.parametrize("kw", [{"bin_width_v": 1e-8}, {"bin_width_v": 1e-8, "smooth": "none"},
                                {"bin_width_v": 1e-5, "smooth_width_v": 0.1, "smooth": "savgol"}])
def test_bins_too_narrow_are_an_error_not_a_hang(kw):
    # 1e-8 V bins over the 0.8 V of a half-cycle would be 8e7 bins (it ran for minutes)
    with pytest.raises(InputError, match="wider bins") as info:
        dqdv(shifting_record(1), **kw)
    assert info.value.source == "bin_width_v"


def test_a_voltage_glitch_is_an_error_naming_the_file_and_the_half_cycle():
    q, v = two_ramps(101)
    v = v.copy()
    v[40] = 6.5e4  # a glitch row (an unsigned overflow), not a cell voltage
    with pytest.raises(InputError, match=r"cycle 1 charge crosses .*65000 V.*glitch") as info:
        dqdv(build([(1, q, v)]))
    assert info.value.source == "built"


# -- results are frozen ----------------------------------------------------------------------------

def test_result_arrays_are_read_only_and_to_dict_cannot_change():
    """Regression: a caller's edit of a curve's or a track's array changed the result's JSON."""
    result = dqdv(shifting_record(3), bin_width_v=0.002, smooth_width_v=0.004)
    before = json.dumps(result.to_dict(), allow_nan=False)
    curve, track = result.curves[0], result.tracks[0]
    for array in (curve.voltage, curve.dqdv, curve.binned, track.cycles, track.potential_v,
                  track.height):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 99
    frame = result.to_frame()
    frame.loc[0, "voltage [V]"] = 99.0  # the table is the caller's copy
    with pytest.raises(AttributeError):
        result.curves = ()
    assert json.dumps(result.to_dict(), allow_nan=False) == before


def test_arrays_given_to_a_curve_are_copied():
    voltage = np.array([3.0, 3.1])
    curve = DQDVCurve(cycle=1, direction="charge", voltage=voltage, dqdv=[1.0, 2.0],
                      binned=[1.0, 2.0], unit="mAh/V", capacity_mah=0.3, cv_capacity_mah=0.0,
                      voltage_min=2.95, voltage_max=3.15)
    voltage[0] = 99.0
    assert curve.voltage.tolist() == [3.0, 3.1] and not curve.dqdv.flags.writeable
    result = DQDVResult(convention="charge-first", method="bin", smooth="none",
                        smooth_width_v=0.0, bin_width_v=0.1, reference_offset_v=0.0,
                        active_mass_mg=None, mass_source=None, unit="mAh/V", curves=[curve],
                        peaks=[], tracks=[], cv_excluded_mah=0.0)
    assert isinstance(result.curves, tuple) and isinstance(result.tracks, tuple)


# -- synthetic cycling from the simulator --------------------------------------------------------

def test_simulated_peaks_sit_at_the_plateaus_plus_the_overpotential():
    rates = [0.1, 0.2, 0.3, 0.4, 0.5]
    record = simulate_cycling(n_cycles=5, c_rates=rates, points_per_step=400)
    truth = record.metadata["truth"]
    eta = np.array(truth["cycles"]["overpotential_v"])
    result = dqdv(record, bin_width_v=0.002, smooth_width_v=0.005)
    assert len(result.tracks) == 6
    for track in result.tracks:
        sign = 1.0 if track.direction == "charge" else -1.0
        plateau = min(truth["ocv_peaks_v"], key=lambda e: abs(e + sign * eta[0] - track.potential_v[0]))
        assert track.cycles.tolist() == [1, 2, 3, 4, 5]
        np.testing.assert_allclose(track.potential_v, plateau + sign * eta, atol=1e-4)
        slope = sign * (eta[1] - eta[0])  # η grows linearly with the rate here
        assert track.shift.value == pytest.approx(slope, abs=2e-5)


def test_simulated_cccv_charge_splits_into_cc_and_cv_as_the_truth():
    record = simulate_cycling(n_cycles=3, protocol="cccv", points_per_step=200)
    cycles = record.metadata["truth"]["cycles"]
    result = dqdv(record, direction="charge")
    for curve in result.curves:
        j = curve.cycle - 1
        assert curve.capacity_mah == pytest.approx(cycles["cc_charge_mah"][j], rel=1e-9)
        assert curve.cv_capacity_mah == pytest.approx(cycles["cv_charge_mah"][j], rel=1e-9)


def test_simulated_noise_keeps_peaks_within_millivolts():
    record = simulate_cycling(n_cycles=3, points_per_step=2000, noise_v=0.002, rng=11)
    truth = record.metadata["truth"]
    eta = truth["cycles"]["overpotential_v"][0]
    result = dqdv(record, smooth_width_v=0.02)
    expected = sorted([e + eta for e in truth["ocv_peaks_v"]] + [e - eta for e in truth["ocv_peaks_v"]])
    assert len(result.tracks) == 6
    for cycle in (1, 2, 3):
        found = sorted(p.potential.value for p in result.peaks if p.cycle == cycle)
        np.testing.assert_allclose(found, expected, atol=4e-3)


def test_simulated_linear_ocv_has_no_peaks_negative_control():
    record = simulate_cycling(n_cycles=2, ocv="linear", points_per_step=2000, noise_v=0.002, rng=5)
    result = dqdv(record, smooth_width_v=0.02)
    assert len(result.curves) == 4 and result.peaks == ()


# -- real cycler files ----------------------------------------------------------------------------

def read(*parts):
    records = read_cycling(shared_data("cycling", *parts))
    return records[0] if isinstance(records, list) else records


def test_neware_cccv_as_two_steps_keeps_5811_mah_in_cycle_2():
    # the CC-CV file of NewareNDA issue 72: 5655.1 mAh CC + 155.9 mAh CV = 5811.0 mAh
    record = read("neware", "newarenda_issue72_bts91_v130.nda")
    curve = dqdv(record, cycles=[2], direction="charge").curves[0]
    assert curve.capacity_mah + curve.cv_capacity_mah == pytest.approx(5811.0, abs=0.05)
    assert curve.cv_capacity_mah == pytest.approx(155.9, abs=0.1)
    assert curve.binned.sum() * 0.005 == pytest.approx(curve.capacity_mah, rel=1e-9)


@pytest.mark.parametrize("parts", [("neware", "cellpy_neware_uio.csv"),
                                   ("neware", "navani_test.ndax")])
def test_real_files_conserve_each_half_cycle_against_the_summary(parts):
    record = read(*parts)
    steps = find_steps(record)
    summary = summarize_cycles(record, steps=steps)
    result = dqdv(record, steps=steps)
    assert result.success and result.curves
    for curve in result.curves:
        j = list(summary.cycles["cycle"]).index(curve.cycle)
        expected = summary.cycles["charge" if curve.direction == "charge" else "discharge"][j]
        assert curve.capacity_mah + curve.cv_capacity_mah == pytest.approx(expected, rel=1e-9)
        per_gram = 1.0 if result.active_mass_mg is None else result.active_mass_mg * 1e-3
        assert curve.binned.sum() * result.bin_width_v * per_gram == pytest.approx(
            curve.capacity_mah, rel=1e-9)
        assert np.isfinite(curve.dqdv).all()
