"""1D deconvolution: the line shape against its formulas, known lines recovered, sidebands, real data."""

import json
import math

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.nmr.data import NMRSpectrum
from ssbkit.nmr.deconvolve import deconvolve, estimate_noise, pseudo_voigt
from ssbkit.testing import assert_estimate_close, shared_data

PPM = np.linspace(20, -20, 4001)  # 0.01 ppm steps, signal-free beyond ±10 ppm
SITES = {"Li2S": (2.31, 0.9, 0.4, 2.0), "LPSC": (1.29, 1.1, 0.5, 5.0), "LiI": (-4.56, 1.4, 0.3, 1.5)}


def lines(ppm, table, eta=None):
    return sum(area * pseudo_voigt(ppm, p, w, e if eta is None else eta) for p, w, e, area in table)


def spectrum(y, ppm=PPM, **metadata):
    return NMRSpectrum(y, (ppm,), metadata=metadata)


def study(noise=0.0, seed=0):
    """The study's three sites with LPSC/Li2S overlapping, noise as a fraction of the maximum."""
    y = lines(PPM, SITES.values())
    return y + np.random.default_rng(seed).normal(0.0, noise * y.max(), y.size)


# -- the line shape --------------------------------------------------------------------------------

@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0])
def test_line_shape_has_unit_area_and_its_fwhm(eta):
    w, half_range = 0.8, 50.0
    x = np.linspace(-half_range, half_range, 400001)
    # the Lorentzian's tails beyond ±50 ppm hold 1 − (2/π)·arctan(2·50/w) of its area; the Gaussian's none
    expected = eta * (2 / math.pi) * math.atan(2 * half_range / w) + (1 - eta)
    assert np.trapezoid(pseudo_voigt(x, 0.0, w, eta), x) == pytest.approx(expected, rel=1e-7, abs=1e-9)
    peak = pseudo_voigt(1.0, 1.0, w, eta)
    heights = (2 / (math.pi * w), 2 * math.sqrt(math.log(2) / math.pi) / w)  # Lorentzian, Gaussian
    assert peak == pytest.approx(eta * heights[0] + (1 - eta) * heights[1])
    assert pseudo_voigt(1.0 + w / 2, 1.0, w, eta) == pytest.approx(peak / 2)


def test_noise_estimate_from_the_quiet_part_or_a_region():
    y = study(noise=0.01, seed=4)
    sigma = 0.01 * lines(PPM, SITES.values()).max()
    assert estimate_noise(spectrum(y)) == pytest.approx(sigma, rel=0.15)
    assert estimate_noise(spectrum(y), region=(20, 12)) == pytest.approx(sigma, rel=0.1)


# -- known lines recovered --------------------------------------------------------------------------

def test_exact_lines_give_their_areas_and_fractions_that_sum_to_one():
    r = deconvolve(spectrum(study()), peaks=[2.31, 1.29, -4.56], names=list(SITES))
    assert r.success and r.names == tuple(SITES)
    total = sum(t[3] for t in SITES.values())
    for line, (p, w, eta, area) in zip(r.lines, SITES.values(), strict=True):
        assert_estimate_close(line.position, p, unit="ppm", atol=1e-6)
        assert_estimate_close(line.fwhm, w, unit="ppm", rtol=1e-5)
        assert_estimate_close(line.eta, eta, unit="1", atol=1e-5)
        assert_estimate_close(line.area, area, unit="a.u.·ppm", rtol=1e-5)
        assert_estimate_close(line.fraction, area / total, unit="1", rtol=1e-5)
        assert line.area.value == line.centreband_area.value
    assert math.fsum(line.fraction.value for line in r.lines) == pytest.approx(1.0, abs=1e-12)
    assert r.r_squared == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(("shape", "eta"), [("lorentzian", 1.0), ("gaussian", 0.0)])
def test_lorentzian_and_gaussian_limits(shape, eta):
    table = [(3.0, 0.7, eta, 1.0), (-2.0, 1.5, eta, 2.5)]
    data = spectrum(lines(PPM, table))
    fixed = deconvolve(data, peaks=[3.2, -1.9], shape=shape)
    free = deconvolve(data, peaks=[3.2, -1.9])
    for r in (fixed, free):
        for line, (_, w, _, area) in zip(r.lines, table, strict=True):
            assert_estimate_close(line.area, area, rtol=1e-5)
            assert_estimate_close(line.fwhm, w, rtol=1e-5)
            assert_estimate_close(line.eta, eta, atol=1e-5)
    assert all(math.isnan(line.eta.stderr) for line in fixed.lines)  # fixed by the shape, not fitted


def test_the_study_sites_with_noise_are_recovered_within_their_errors():
    r = deconvolve(spectrum(study(noise=0.005, seed=11)), peaks=[2.4, 1.2, -4.4],
                   names=["Li2S", "LPSC", "LiI"])
    assert r.success, r.message
    total = sum(t[3] for t in SITES.values())
    for line, (p, w, _, area) in zip(r.lines, SITES.values(), strict=True):
        assert abs(line.position.value - p) < 0.01
        assert abs(line.fwhm.value - w) < 0.02 * w
        assert abs(line.area.value - area) < 0.02 * area
        assert abs(line.area.value - area) < 4 * line.area.stderr
        assert abs(line.fraction.value - area / total) < 4 * line.fraction.stderr
    assert 0.8 < r.residual_to_noise < 1.3 and r.message == ""


def test_two_lines_for_three_sites_leave_structured_residuals_and_say_so():
    data = spectrum(study(noise=0.005, seed=11))
    right = deconvolve(data, peaks=[2.31, 1.29, -4.56])
    wrong = deconvolve(data, peaks=[1.5, -4.56])
    assert right.residual_to_noise < 1.3
    assert wrong.residual_to_noise > 3
    assert "a line may be missing" in wrong.message
    # the misfit is structured: residuals near the merged lines, not spread like noise
    near = np.abs(wrong.ppm - 1.8) < 1.5
    assert np.abs(wrong.residual[near]).max() > 10 * right.noise


def test_shared_width_gives_every_line_one_fwhm():
    table = [(4.0, 1.0, 0.5, 1.0), (0.0, 1.0, 0.5, 3.0), (-5.0, 1.0, 0.5, 2.0)]
    r = deconvolve(spectrum(lines(PPM, table)), peaks=[4, 0, -5], shared_width=True)
    assert len({line.fwhm for line in r.lines}) == 1
    assert_estimate_close(r.lines[0].fwhm, 1.0, rtol=1e-6)
    assert [round(line.area.value, 6) for line in r.lines] == [1.0, 3.0, 2.0]


def test_peak_picking_finds_resolved_lines_highest_ppm_first():
    table = [(6.0, 0.5, 0.5, 1.0), (0.0, 0.8, 0.5, 3.0), (-8.0, 0.6, 0.5, 2.0)]
    y = lines(PPM, table) + np.random.default_rng(2).normal(0, 1e-3, PPM.size)
    r = deconvolve(spectrum(y))
    assert r.names == ("peak 1", "peak 2", "peak 3")
    assert [round(line.position.value, 2) for line in r.lines] == [6.0, 0.0, -8.0]


def test_a_sloped_baseline_needs_the_linear_term():
    y = lines(PPM, [(1.0, 1.0, 0.5, 2.0)]) + 0.002 + 0.0005 * PPM
    y = y + np.random.default_rng(5).normal(0, 1e-4, PPM.size)
    linear = deconvolve(spectrum(y), peaks=[1.0], baseline="linear")
    constant = deconvolve(spectrum(y), peaks=[1.0], baseline="constant")
    assert abs(linear.lines[0].area.value - 2.0) < 3e-3 and linear.residual_to_noise < 1.3
    assert constant.residual_to_noise > 3
    np.testing.assert_allclose(linear.background, 0.002 + 0.0005 * linear.ppm, atol=2e-5)


# -- spinning sidebands -----------------------------------------------------------------------------

def test_sideband_area_is_counted_in_the_site_area():
    ppm = np.linspace(100, -100, 8001)
    observe, rate = 73.6, 5000.0  # 6Li at 11.7 T, 5 kHz MAS: sidebands every 67.93 ppm
    gap = rate / observe
    table = [(1.29, 1.0, 0.5, 1.0), (1.29 + gap, 1.0, 0.5, 0.1), (1.29 - gap, 1.0, 0.5, 0.08),
             (-4.56, 1.2, 0.5, 0.5), (-4.56 + gap, 1.2, 0.5, 0.05), (-4.56 - gap, 1.2, 0.5, 0.05)]
    data = spectrum(lines(ppm, table), ppm=ppm, observe_MHz=(observe,), spinning_rate_Hz=rate)
    r = deconvolve(data, peaks=[1.29, -4.56], names=["LPSC", "LiI"], sidebands={"orders": 2})
    lpsc, lii = r.lines
    assert_estimate_close(lpsc.area, 1.18, rtol=1e-5)
    assert_estimate_close(lpsc.centreband_area, 1.0, rtol=1e-5)
    assert_estimate_close(lii.area, 0.6, rtol=1e-5)
    assert_estimate_close(lpsc.fraction, 1.18 / 1.78, rtol=1e-5)
    assert r.sideband_orders == 2 and r.spinning_rate_Hz == rate
    # second-order sidebands (±135.9 ppm) lie outside the spectrum and are left out
    without = deconvolve(data, peaks=[1.29, -4.56], region=(30, -30))
    assert without.lines[0].area.value == pytest.approx(1.0, rel=1e-3)


def test_sidebands_need_a_spinning_rate_and_an_observe_frequency():
    with pytest.raises(InputError, match="observe frequency"):
        deconvolve(spectrum(study()), peaks=[1.29], sidebands={"spinning_rate_Hz": 5000})
    with pytest.raises(InputError, match="spinning rate"):
        deconvolve(spectrum(study(), observe_MHz=(73.6,)), peaks=[1.29], sidebands={"orders": 1})
    with pytest.raises(InputError, match="unknown key"):
        deconvolve(spectrum(study()), peaks=[1.29], sidebands={"rate": 5000})


# -- results --------------------------------------------------------------------------------------

def test_json_carries_each_line_with_area_and_fraction():
    r = deconvolve(spectrum(study()), peaks=[2.31, 1.29, -4.56], names=list(SITES))
    document = json.loads(r.to_json())
    first = document["lines"][0]
    assert first["name"] == "Li2S"
    assert set(first) >= {"name", "position", "fwhm", "area", "fraction"}
    assert first["area"]["unit"] == "a.u.·ppm" and first["area"]["value"] == pytest.approx(2.0, rel=1e-5)
    assert first["fraction"]["unit"] == "1"
    table = r.to_frame()
    assert list(table["name"]) == list(SITES)
    assert {"position [ppm]", "FWHM [ppm]", "area [a.u.·ppm]", "fraction"} <= set(table.columns)
    assert r.line("LiI").position.value == pytest.approx(-4.56)
    with pytest.raises(InputError, match="no line"):
        r.line("Li3PS4")
    assert not r.fit.flags.writeable
    np.testing.assert_allclose(r.components.sum(axis=0) + r.background, r.fit)


# -- real data ------------------------------------------------------------------------------------

@pytest.mark.shared_data
def test_real_1h_mas_spectrum_is_described_by_its_main_lines():
    ng = pytest.importorskip("nmrglue")
    folder = shared_data("nmr", "spectrochempy_bruker", "topspin_1d", "1", "pdata", "1")
    dic, data = ng.bruker.read_pdata(str(folder), scale_data=True)
    procs = dic["procs"]
    udic = ng.bruker.guess_udic(dic, data)
    assert udic[0]["size"] == data.size == procs["SI"] == 16384
    # TopSpin's axis: OFFSET is the ppm of the first point, SW_p/SF the width in ppm
    ppm = procs["OFFSET"] - np.arange(procs["SI"]) * procs["SW_p"] / procs["SF"] / procs["SI"]
    s = NMRSpectrum(data, (ppm,), metadata={"observe_MHz": (procs["SF"],)}, source=str(folder))
    r = deconvolve(s, region=(12, -8))
    assert r.success
    assert r.r_squared > 0.98
    assert all(line.area.value > 0 for line in r.lines)
    # the maxima seen by eye on the plotted spectrum: 5.7, 3.0, 1.5 and 0.81 ppm (the tallest)
    assert len(r.lines) == 4
    tallest = max(r.lines, key=lambda line: line.area.value / line.fwhm.value)
    assert tallest.position.value == pytest.approx(0.80, abs=0.02)
    assert [round(line.position.value) for line in r.lines[:2]] == [6, 3]


# -- bad input ------------------------------------------------------------------------------------

def test_an_all_zero_spectrum_is_not_a_successful_fit():
    # regression: it came back success=True with "residuals are inf× the noise"
    with pytest.raises(InputError, match="no signal"):
        deconvolve(spectrum(np.zeros_like(PPM)), peaks=[2.31])


def test_bad_input_is_named():
    s = spectrum(study())
    with pytest.raises(InputError, match="outside the spectrum"):
        deconvolve(s, peaks=[25.0])
    with pytest.raises(InputError, match="outside the region"):
        deconvolve(s, peaks=[2.31, -4.56], region=(5, -2))
    with pytest.raises(InputError, match="1D"):
        deconvolve(NMRSpectrum(np.ones((4, 5)), (np.arange(4.0), np.arange(5.0))))
    with pytest.raises(InputError, match="peaks"):
        deconvolve(s, peaks=[2.31, float("nan")])
    with pytest.raises(InputError, match="NaN"):
        spectrum(np.where(PPM > 0, study(), np.nan))
    with pytest.raises(InputError, match="cannot fix"):
        deconvolve(s, peaks=[2.31, 2.30, 2.29], region=(2.33, 2.27))
    with pytest.raises(InputError, match="names"):
        deconvolve(s, peaks=[2.31, 1.29], names=["Li2S"])
    with pytest.raises(InputError, match="shape"):
        deconvolve(s, peaks=[2.31], shape="voigt")
    with pytest.raises(InputError, match="stands"):
        deconvolve(spectrum(np.random.default_rng(0).normal(0, 1, PPM.size)))
    with pytest.raises(InputError, match="spectrum"):
        deconvolve(np.ones(10))
