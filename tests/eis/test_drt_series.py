"""DRT series (ssbkit.eis.drt_series): γ(τ, label) matrices, τ-region resistances, peak tracks.

Truth: synthetic series of ZARC spectra whose distribution is known in closed form,

    γ(ln τ) = (R/2π) sin((1−φ)π) / (cosh(φ ln(τ/τ₀)) − cos((1−φ)π)),

so the resistance of any τ region is the integral of that formula (scipy.quad here, never the
code under test). The charge-transfer arc grows linearly with a "soc" label; the region and
the tracked peak must follow it while the peak stays put. Negative controls: a region without
a process holds ~0 Ohm (and a process put there is found), a track does not jump to a peak two
decades away (and does when allowed). Tracking rules are checked on hand-made peak lists. Real
file: the three sweeps of pyimpspec's multi-sweep .mpt.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.integrate import quad

from ssbkit import InputError
from ssbkit.eis import DRTPeak, drt, drt_batch, simulate_spectrum
from ssbkit.eis.drt_series import DRTSeries, check_regions, drt_series
from ssbkit.io import read_spectra
from ssbkit.testing import shared_data

F = np.logspace(6, -2, 81)
SOC = np.array([0.0, 20.0, 40.0, 60.0, 80.0, 100.0])
CIRCUIT = "R0-ZARC1-ZARC2"
TAU_INTERFACE, TAU_CT = 1e-5, 1e-2
PHI = 0.95
LAM = 1e-3


def zarc_gamma(ln_tau, r, tau0, phi):
    x = ln_tau - math.log(tau0)
    angle = (1 - phi) * math.pi
    return r / (2 * math.pi) * math.sin(angle) / (math.cosh(phi * x) - math.cos(angle))


def true_region(arcs, lo, hi):
    """∫ γ d ln τ over [lo, hi] of a sum of ZARCs given as (R, τ₀, φ)."""
    return sum(quad(zarc_gamma, math.log(lo), math.log(hi), args=arc)[0] for arc in arcs)


def r_ct(soc):
    return 10.0 + 0.5 * soc  # Ohm: 10 at 0 %, 60 at 100 %


def arcs(soc):
    return [(20.0, TAU_INTERFACE, PHI), (r_ct(soc), TAU_CT, PHI)]


def cell(soc, *, noise=0.001, seed=0, extra=None):
    params = {"R0": 8.0}
    circuit = CIRCUIT
    for k, (r, tau, phi) in enumerate(arcs(soc) + ([extra] if extra else []), start=1):
        params.update({f"ZARC{k}_0": r, f"ZARC{k}_1": tau, f"ZARC{k}_2": phi})
    if extra:
        circuit += "-ZARC3"
    return simulate_spectrum(circuit, params, F, noise=noise, rng=np.random.default_rng(seed))


@pytest.fixture(scope="module")
def series():
    spectra = [cell(x, seed=k) for k, x in enumerate(SOC)]
    return drt_series(spectra, labels={"soc [%]": SOC, "cycle": [1] * SOC.size}, lam=LAM)


REGIONS = {"interface": (1e-7, 1e-3), "charge transfer": (1e-3, 1.0), "nothing": (1.0, 1e3)}


# --- regions against the closed form --------------------------------------------------------

def test_region_resistances_follow_the_closed_form(series):
    table = series.region_resistances(REGIONS)
    assert list(table.columns) == ["index", "soc [%]", "cycle", "interface [Ohm]", "charge transfer [Ohm]",
                                   "nothing [Ohm]", "R_inf [Ohm]", "R_pol [Ohm]"]
    assert table["soc [%]"].tolist() == SOC.tolist()
    for k, soc in enumerate(SOC):
        for name in ("interface", "charge transfer"):
            expected = true_region(arcs(soc), *REGIONS[name])
            assert table[f"{name} [Ohm]"][k] == pytest.approx(expected, rel=0.02), (soc, name)
        assert table["R_pol [Ohm]"][k] == pytest.approx(20.0 + r_ct(soc), rel=0.01)
        assert table["R_inf [Ohm]"][k] == pytest.approx(8.0, abs=0.1)


def test_charge_transfer_resistance_grows_linearly_with_the_label(series):
    ct = series.region_resistances(REGIONS)["charge transfer [Ohm]"].to_numpy()
    slope, intercept = np.polyfit(SOC, ct, 1)
    inside = true_region([(1.0, TAU_CT, PHI)], *REGIONS["charge transfer"])  # fraction of one arc
    assert slope == pytest.approx(0.5 * inside, rel=0.03)
    assert intercept == pytest.approx(10.0 * inside, rel=0.05)
    assert np.abs(ct - (slope * SOC + intercept)).max() < 0.02 * ct.max()


def test_a_region_without_a_process_holds_nothing(series):
    empty = series.region_resistances(REGIONS)["nothing [Ohm]"].to_numpy()
    assert (np.abs(empty) < 0.01 * (20.0 + r_ct(SOC))).all()


def test_a_process_in_that_region_is_found():
    # The negative control above can fail: put a 15 Ohm arc at τ = 10 s and it shows.
    slow = drt_series([cell(40.0, extra=(15.0, 10.0, PHI))], lam=LAM)
    found = slow.region_resistances({"nothing": REGIONS["nothing"]})["nothing [Ohm]"][0]
    expected = true_region([*arcs(40.0), (15.0, 10.0, PHI)], *REGIONS["nothing"])
    assert found == pytest.approx(expected, rel=0.1)
    assert found > 5.0


def test_the_whole_grid_integrates_to_the_polarisation_resistance(series):
    lo, hi = series.tau[0], series.tau[-1]
    table = series.region_resistances({"all": (lo, hi)})
    assert np.allclose(table["all [Ohm]"], table["R_pol [Ohm]"], rtol=0.01)


def test_no_regions_gives_labels_and_the_two_resistances(series):
    table = series.region_resistances({})
    assert list(table.columns) == ["index", "soc [%]", "cycle", "R_inf [Ohm]", "R_pol [Ohm]"]


# --- peak tracking ----------------------------------------------------------------------------

def test_the_charge_transfer_peak_is_one_track_that_follows_its_resistance(series):
    tracks = series.track_peaks()
    near = tracks[np.abs(np.log10(tracks["tau [s]"]) - math.log10(TAU_CT)) < 0.3]
    assert near["track"].nunique() == 1
    assert near["index"].tolist() == list(range(SOC.size))
    assert near["soc [%]"].tolist() == SOC.tolist()
    assert (np.abs(np.log10(near["tau [s]"]) - math.log10(TAU_CT)) < 0.05).all()
    # the peak's area ends at the valleys beside it: compare with the closed form between them
    for (_, row), soc in zip(near.iterrows(), SOC, strict=True):
        (peak,) = [p for p in series.results[int(row["index"])].peaks if p.tau == row["tau [s]"]]
        expected = true_region(arcs(soc), *peak.tau_range)
        assert row["resistance [Ohm]"] == pytest.approx(expected, rel=0.03)
    slope = np.polyfit(SOC, near["resistance [Ohm]"], 1)[0]
    assert slope == pytest.approx(0.5, rel=0.05)


def test_tracks_are_numbered_fast_to_slow_with_the_columns_asked_for(series):
    tracks = series.track_peaks()
    assert list(tracks.columns) == ["track", "index", "soc [%]", "cycle", "tau [s]", "gamma [Ohm]",
                                    "resistance [Ohm]"]
    medians = tracks.groupby("track")["tau [s]"].median()
    assert medians.is_monotonic_increasing
    assert (tracks.groupby(["track", "index"]).size() == 1).all()  # one peak per track per spectrum


def jumping_series(max_shift=0.3):
    """The charge-transfer arc sits at 10 ms in three spectra, then 1 s in three more."""
    spectra = []
    for k in range(6):
        params = {"R0": 8.0, "ZARC1_0": 20.0, "ZARC1_1": TAU_INTERFACE, "ZARC1_2": PHI,
                  "ZARC2_0": 30.0, "ZARC2_1": TAU_CT if k < 3 else 100 * TAU_CT, "ZARC2_2": PHI}
        spectra.append(simulate_spectrum(CIRCUIT, params, F))
    return drt_series(spectra, lam=LAM).track_peaks(max_shift_decades=max_shift)


def track_of(tracks, tau):
    rows = tracks[np.abs(np.log10(tracks["tau [s]"]) - math.log10(tau)) < 0.3]
    return set(rows["track"]), rows["index"].tolist()


def test_a_track_does_not_jump_two_decades():
    tracks = jumping_series()
    before, spectra_before = track_of(tracks, TAU_CT)
    after, spectra_after = track_of(tracks, 100 * TAU_CT)
    assert spectra_before == [0, 1, 2] and spectra_after == [3, 4, 5]
    assert len(before) == len(after) == 1 and before.isdisjoint(after)


def test_a_track_jumps_when_the_shift_allows_it():
    tracks = jumping_series(max_shift=2.5)
    before, _ = track_of(tracks, TAU_CT)
    after, _ = track_of(tracks, 100 * TAU_CT)
    assert before == after


def with_peaks(result, *taus_and_resistances):
    peaks = tuple(DRTPeak(tau=t, gamma=r, resistance=r, tau_range=(t / 3, t * 3))
                  for t, r in taus_and_resistances)
    return dataclasses.replace(result, peaks=peaks)


def test_the_largest_peak_chooses_first_and_a_track_takes_one_peak_per_spectrum(series):
    base = series.results[0]
    results = [with_peaks(base, (1e-2, 10.0)),
               # two candidates within 0.3 decade of the track: the larger takes it, even though
               # the smaller one is nearer; the smaller starts a track of its own
               with_peaks(base, (1.1e-2, 1.0), (1.6e-2, 20.0)),
               with_peaks(base, (1.5e-2, 21.0))]
    tracks = DRTSeries(results=tuple(results)).track_peaks()
    big = tracks[tracks["resistance [Ohm]"] >= 10]
    small = tracks[tracks["resistance [Ohm]"] < 10]
    assert big["track"].nunique() == 1 and big["index"].tolist() == [0, 1, 2]
    assert small["track"].nunique() == 1 and set(small["track"]).isdisjoint(big["track"])


def test_a_peak_joins_the_nearest_track(series):
    base = series.results[0]
    results = [with_peaks(base, (1e-3, 5.0), (3e-3, 5.0)), with_peaks(base, (2.6e-3, 5.0))]
    tracks = DRTSeries(results=tuple(results)).track_peaks(max_shift_decades=1.0)
    joined = tracks[tracks["index"] == 1]["track"].item()
    assert tracks[(tracks["index"] == 0) & np.isclose(tracks["tau [s]"], 3e-3)]["track"].item() == joined


def test_a_series_without_peaks_has_an_empty_track_table(series):
    tracks = DRTSeries(results=(with_peaks(series.results[0]),)).track_peaks()
    assert tracks.empty and "resistance [Ohm]" in tracks.columns


# --- the matrix, tables and JSON ---------------------------------------------------------------

def test_the_matrix_is_each_fine_grid_gamma_on_a_shared_grid(series):
    assert series.matrix.shape == (SOC.size, series.tau.size)
    assert np.array_equal(series.tau, series.results[0].tau_fine)
    for row, result in zip(series.matrix, series.results, strict=True):
        assert np.array_equal(row, result.gamma_fine)
    with pytest.raises(ValueError):
        series.matrix[0, 0] = 1.0  # read-only, like the results


def test_results_on_different_grids_meet_on_a_log_grid_spanning_both():
    wide = drt(cell(0.0), lam=LAM)
    narrow = drt(simulate_spectrum(CIRCUIT, {"R0": 8.0, "ZARC1_0": 20.0, "ZARC1_1": TAU_INTERFACE,
                                             "ZARC1_2": PHI, "ZARC2_0": 10.0, "ZARC2_1": TAU_CT,
                                             "ZARC2_2": PHI}, np.logspace(5, -1, 49)), lam=LAM)
    merged = DRTSeries(results=(wide, narrow))
    assert merged.tau[0] == pytest.approx(min(wide.tau_fine[0], narrow.tau_fine[0]))
    assert merged.tau[-1] == pytest.approx(max(wide.tau_fine[-1], narrow.tau_fine[-1]))
    assert np.allclose(np.diff(np.log(merged.tau)), np.log(merged.tau[1] / merged.tau[0]))
    assert np.allclose(merged.matrix[1], narrow.gamma_at(merged.tau))
    # both see the same charge-transfer peak where they overlap
    k = np.argmin(np.abs(merged.tau - TAU_CT))
    assert merged.matrix[0, k] == pytest.approx(merged.matrix[1, k], rel=0.1)


def test_to_frame_is_the_matrix_in_long_form(series):
    frame = series.to_frame()
    n, m = series.matrix.shape
    assert list(frame.columns) == ["index", "soc [%]", "cycle", "tau [s]", "gamma [Ohm]"]
    assert len(frame) == n * m
    assert np.array_equal(frame["gamma [Ohm]"].to_numpy().reshape(n, m), series.matrix)
    assert frame[frame["index"] == 2]["soc [%]"].unique().tolist() == [SOC[2]]


def test_to_dict_is_strict_json(series):
    text = series.to_json()
    doc = json.loads(text)
    assert doc["labels"]["soc [%]"] == SOC.tolist()
    assert len(doc["gamma"]) == SOC.size and len(doc["gamma"][0]) == len(doc["tau"])
    assert [s["index"] for s in doc["spectra"]] == list(range(SOC.size))
    assert doc["spectra"][0]["lambda"] == LAM
    assert doc["units"]["gamma"] == "Ohm"
    assert doc["provenance"]["function"] == "ssbkit.eis.drt_series"
    assert doc["provenance"]["settings"]["lam"] == LAM


def test_text_labels_are_kept_as_text(series):
    named = DRTSeries(results=series.results[:2], labels={"file": ["a.mpt", "b.mpt"]})
    assert named.labels["file"].tolist() == ["a.mpt", "b.mpt"]
    assert json.loads(named.to_json())["labels"] == {"file": ["a.mpt", "b.mpt"]}
    assert "file = b.mpt" in named.report()


def test_the_report_names_every_spectrum(series):
    text = series.report()
    assert text.startswith("DRTSeries [ok]")
    assert "soc [%] = 100" in text and "6 spectra" in text


def test_series_equals_one_batch(series):
    spectra = [cell(x, seed=k) for k, x in enumerate(SOC)]
    alone = drt_batch(spectra, lam=LAM)
    for a, b in zip(alone, series.results, strict=True):
        assert np.allclose(a.gamma_fine, b.gamma_fine)


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("labels", "needle"), [
    ({"soc": [0, 1]}, "2 values for 6 spectra"),
    ({"soc": 5}, "must be a sequence"),
    ({"soc": "abc"}, "must be a sequence"),
    ({"soc": [0, 1, 2, 3, 4, float("nan")]}, "not finite"),
    ({"index": list(range(6))}, "rename the label"),
    ({"": list(range(6))}, "non-empty"),
    ([("soc", [0] * 6)], "mapping"),
])
def test_bad_labels_are_named(series, labels, needle):
    with pytest.raises(InputError, match=needle) as info:
        DRTSeries(results=series.results, labels=labels)
    assert info.value.source == "labels"


def test_bad_labels_fail_before_any_drt_is_solved():
    with pytest.raises(InputError, match="1 values for 2 spectra"):
        drt_series([cell(0.0), "not a spectrum"], labels={"soc": [0]})


@pytest.mark.parametrize(("regions", "needle"), [
    ({"ct": (1.0, 1e-2)}, "tau_min < tau_max"),
    ({"ct": (-1.0, 1.0)}, "tau_min < tau_max"),
    ({"ct": (0.0, 1.0)}, "tau_min < tau_max"),
    ({"ct": (1e-3, float("inf"))}, "finite"),
    ({"ct": (1e-3,)}, "pair"),
    ({"ct": "1e-3:1"}, "pair"),
    ({"ct": ("a", "b")}, "pair"),
    ({"": (1e-3, 1.0)}, "non-empty"),
    ([("ct", (1e-3, 1.0))], "mapping"),
])
def test_bad_regions_are_named(series, regions, needle):
    with pytest.raises(InputError, match=needle) as info:
        series.region_resistances(regions)
    assert info.value.source == "regions"


def test_a_region_may_not_shadow_a_column(series):
    with pytest.raises(InputError, match="clash"):
        series.region_resistances({"R_pol": (1e-3, 1.0)})


def test_check_regions_returns_floats():
    assert check_regions({"ct": [1e-2, 1]}) == {"ct": (0.01, 1.0)}


@pytest.mark.parametrize("shift", [0, -0.3, float("nan")])
def test_bad_shift_is_named(series, shift):
    with pytest.raises(InputError, match="max_shift_decades"):
        series.track_peaks(shift)


@pytest.mark.parametrize("results", [(), [1, 2], None])
def test_bad_results_are_named(results):
    with pytest.raises(InputError, match="results"):
        DRTSeries(results=results)


def test_no_spectra_is_an_input_error():
    with pytest.raises(InputError, match="spectra"):
        drt_series([])


def test_drt_options_reach_the_solver():
    (result,) = drt_series([cell(0.0)], lam=2e-3, order=2, tau=np.logspace(-6, 2, 41)).results
    assert result.lam == 2e-3 and result.order == 2 and result.tau.size == 41


def test_a_failed_drt_makes_the_series_unsuccessful(series):
    failed = dataclasses.replace(series.results[0], success=False, message="no")
    bad = DRTSeries(results=(failed, series.results[1]))
    assert not bad.success and "[0]" in bad.message


# --- a real file: the sweeps of one .mpt ---------------------------------------------------------

def test_the_sweeps_of_a_multi_sweep_mpt():
    spectra = read_spectra(shared_data("eis", "pyimpspec", "case-multiple-spectra.mpt"))
    assert len(spectra) == 3
    # the file repeats one sweep three times (checked by hand): the DRTs must agree to rounding
    assert all(np.array_equal(s.impedance, spectra[0].impedance) for s in spectra)
    result = drt_series(spectra, labels={"sweep": [s.metadata["sweep"] for s in spectra]})
    assert result.labels["sweep"].tolist() == [0.0, 1.0, 2.0]
    assert np.abs(result.matrix - result.matrix[0]).max() < 1e-6 * result.matrix.max()
    z = spectra[0].impedance
    f = spectra[0].frequency
    # Z' at 10 kHz (109 Ohm) bounds R∞ from above; R∞ + R_pol exceeds Z' at 1 Hz (645 Ohm): the
    # spectrum has not reached its low-frequency limit (−Z'' is still 91 Ohm there)
    table = result.region_resistances({"all": (result.tau[0], result.tau[-1])})
    assert (table["R_inf [Ohm]"] < z[np.argmax(f)].real).all()
    assert (table["R_inf [Ohm]"] + table["R_pol [Ohm]"] > z[np.argmin(f)].real).all()
    assert np.allclose(table["all [Ohm]"], table["R_pol [Ohm]"], rtol=0.01)
    tracks = result.track_peaks()
    assert (tracks.groupby("track").size() == 3).all()
