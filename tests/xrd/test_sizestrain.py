"""Single-peak fits, Scherrer and Williamson–Hall: closed forms, synthetic Voigt patterns with known
size and strain, negative controls, and the real PbSO4 round-robin pattern."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.special import voigt_profile

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate
from ssbkit.io import read_instrument, read_pattern
from ssbkit.testing import shared_data
from ssbkit.xrd.data import ANODES, Instrument, Pattern
from ssbkit.xrd.sizestrain import (
    PeakFit,
    fit_peaks,
    integral_breadth,
    scherrer,
    sizestrain,
    split_fwhm,
    voigt_breadth,
    williamson_hall,
)

CU = ANODES["CuKa"]
LAM1 = CU[0][0]
FCC = [(1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1), (2, 2, 2), (4, 0, 0), (3, 3, 1), (4, 2, 0), (4, 2, 2),
       (5, 1, 1)]
INSTRUMENT = Instrument(U=0.004, V=-0.002, W=0.002)


def _lorentzian(x, center, fwhm):
    return (fwhm / (2 * math.pi)) / ((x - center) ** 2 + (fwhm / 2) ** 2)


def _gaussian(x, center, fwhm):
    sigma = fwhm / (2 * math.sqrt(2 * math.log(2)))
    return np.exp(-0.5 * ((x - center) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def _voigt_pattern(size_nm, strain, *, a=5.0, seed=7, instrument=INSTRUMENT, scale=3000.0, background=100.0):
    """An fcc pattern drawn with true Voigt profiles (not pseudo-Voigts): sample Lorentzian FWHM
    X·tanθ + Y/cosθ with Y = 0.9λ/L (rad) and X = 4ε (rad), the instrument's Caglioti Gaussian
    and Lorentzian convolved, Cu Kα1 + Kα2 (0.5) each at its own Bragg angle, Poisson noise."""
    x = np.arange(15.0, 110.0, 0.01)
    y = np.full_like(x, background)
    size_term = 0.0 if size_nm is None else math.degrees(0.9 * LAM1 / (size_nm * 10.0))
    strain_term = math.degrees(4 * strain)
    for hkl in FCC:
        d = a / math.sqrt(sum(v * v for v in hkl))
        for lam, weight in CU:
            two_theta = 2 * math.degrees(math.asin(lam / (2 * d)))
            theta = math.radians(two_theta / 2)
            fwhm_l = strain_term * math.tan(theta) + size_term / math.cos(theta)
            fwhm_l += float(instrument.lorentzian_fwhm(two_theta))
            sigma = float(instrument.gaussian_fwhm(two_theta)) / (2 * math.sqrt(2 * math.log(2)))
            y += weight * scale * voigt_profile(x - two_theta, sigma, fwhm_l / 2)
    noisy = np.random.default_rng(seed).poisson(y).astype(float)
    return Pattern(x, noisy, wavelengths=CU)


def _peak(two_theta, fwhm):
    """A PeakFit whose sample FWHM is ``fwhm`` exactly (for the Williamson–Hall algebra)."""
    e = Estimate(fwhm, 0.0, "deg")
    return PeakFit(position=Estimate(two_theta, 0.0, "deg"), fwhm=e, eta=Estimate(1.0),
                   area=Estimate(1.0, 0.0, "counts·deg"), integral_breadth=e, gaussian_fwhm=0.0,
                   lorentzian_fwhm=fwhm, sample_gaussian_fwhm=0.0, sample_lorentzian_fwhm=fwhm,
                   sample_fwhm=e, sample_integral_breadth=e, d_spacing=math.nan, background=(0.0, 0.0),
                   window=(two_theta - 1, two_theta + 1), group=0, r_squared=1.0, reduced_chi2=1.0)


# -- closed forms --------------------------------------------------------------------------------

def test_integral_breadth_of_the_pure_shapes():
    assert integral_breadth(0.3, 1.0) == pytest.approx(0.3 * math.pi / 2, rel=1e-12)
    gaussian = 0.3 * math.sqrt(math.pi / (4 * math.log(2)))
    assert integral_breadth(0.3, 0.0) == pytest.approx(gaussian, rel=1e-12)


def test_voigt_breadth_matches_the_numerical_voigt():
    x = np.linspace(-40, 40, 400001)
    for g, lo in ((0.1, 0.05), (0.05, 0.2), (0.2, 0.0)):
        sigma = g / (2 * math.sqrt(2 * math.log(2)))
        profile = voigt_profile(x, sigma, lo / 2)
        fwhm, beta = voigt_breadth(g, lo)
        above = x[profile >= profile.max() / 2]
        assert beta == pytest.approx(1.0 / profile.max(), rel=1e-6)  # area 1 / height
        assert fwhm == pytest.approx(above[-1] - above[0], rel=0.005)  # TCH is good to ~0.3 %


def test_split_fwhm_inverts_tch():
    for g, lo in ((0.1, 0.05), (0.02, 0.3), (0.3, 0.01)):
        fwhm, _ = voigt_breadth(g, lo)
        q = lo / fwhm
        eta = 1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3
        back = split_fwhm(fwhm, eta)
        assert back == pytest.approx((g, lo), rel=1e-6, abs=1e-9)


def test_scherrer_of_a_lorentzian_peak_of_known_breadth():
    x = np.arange(28.0, 32.0, 0.005)
    p = Pattern(x, 20 + 800 * _lorentzian(x, 30.0, 0.3), wavelengths=ANODES["CuKa1"])
    fits = fit_peaks(p, peaks=[30.0])
    peak = fits.peaks[0]
    assert peak.fwhm.value == pytest.approx(0.3, rel=1e-5)
    assert peak.eta.value == pytest.approx(1.0, abs=1e-4)
    expected = 0.9 * LAM1 / (math.radians(0.3) * math.cos(math.radians(15.0))) / 10
    assert scherrer(fits).sizes[0].value == pytest.approx(expected, rel=1e-5)
    # the integral breadth (π/2 · FWHM) with K = 1: Stokes–Wilson volume-weighted column length
    expected_vol = LAM1 / (math.radians(0.3 * math.pi / 2) * math.cos(math.radians(15.0))) / 10
    assert scherrer(fits, breadth="integral").sizes[0].value == pytest.approx(expected_vol, rel=1e-5)


def test_gaussian_shape_recovers_a_gaussian_peak():
    x = np.arange(48.0, 52.0, 0.01)
    p = Pattern(x, 10 + 500 * _gaussian(x, 50.0, 0.25), wavelengths=ANODES["CuKa1"])
    peak = fit_peaks(p, peaks=[50.1], shape="gaussian").peaks[0]
    got = (peak.position.value, peak.fwhm.value, peak.eta.value)
    assert got == pytest.approx((50.0, 0.25, 0.0), abs=1e-6)
    assert peak.area.value == pytest.approx(500, rel=1e-6)


def test_williamson_hall_line_through_exact_breadths():
    size_nm, strain = 50.0, 0.0015
    peaks = []
    for tt in (25.0, 40.0, 60.0, 85.0, 110.0):
        theta = math.radians(tt / 2)
        beta = 0.9 * LAM1 / (size_nm * 10 * math.cos(theta)) + 4 * strain * math.tan(theta)  # rad
        peaks.append(_peak(tt, math.degrees(beta)))
    wh = williamson_hall(peaks, wavelength="CuKa")
    assert wh.size.value == pytest.approx(size_nm, rel=1e-9)
    assert wh.strain.value == pytest.approx(100 * strain, rel=1e-9)
    assert wh.strain.unit == "%" and wh.size.unit == "nm"
    assert wh.r_squared == pytest.approx(1.0, abs=1e-12)
    # K scales the size only
    assert williamson_hall(peaks, wavelength="CuKa", K=1.0).size.value == pytest.approx(size_nm / 0.9)


# -- synthetic patterns with known size and strain ----------------------------------------------

def test_size_and_strain_recovered_from_a_voigt_pattern():
    result = sizestrain(_voigt_pattern(40.0, 0.002), instrument=INSTRUMENT)
    assert result.success
    assert len(result.fits.peaks) == len(FCC)  # all ten reflections, no Kα2 shoulder counted as a peak
    wh = result.williamson_hall
    assert wh.size.value == pytest.approx(40.0, rel=0.04)
    assert wh.strain.value == pytest.approx(0.2, rel=0.04)
    assert wh.r_squared > 0.99
    assert abs(wh.size.value - 40.0) < 4 * wh.size.stderr + 0.5


def test_size_only_gives_zero_strain_and_scherrer_agrees():
    result = sizestrain(_voigt_pattern(60.0, 0.0, seed=3), instrument=INSTRUMENT)
    wh = result.williamson_hall
    assert wh.size.value == pytest.approx(60.0, rel=0.04)
    assert abs(wh.strain.value) < 0.01  # % ; truth 0
    assert result.scherrer.mean_size.value == pytest.approx(60.0, rel=0.04)


def test_strain_only_broadening_gives_no_finite_size():
    """Negative control: with no size broadening the intercept is ~0, so the 'size' is infinite
    or far above any real crystallite size, while Scherrer (which ignores strain) invents one."""
    result = sizestrain(_voigt_pattern(None, 0.003, seed=11), instrument=INSTRUMENT)
    wh = result.williamson_hall
    assert wh.strain.value == pytest.approx(0.3, rel=0.04)
    assert (not math.isfinite(wh.size.value)) or wh.size.value > 1000
    assert wh.size_lower_limit > 400
    assert result.scherrer.mean_size.value < 100


def test_without_the_instrument_sizes_are_lower_bounds():
    pattern = _voigt_pattern(60.0, 0.0, seed=5)
    raw = sizestrain(pattern)
    corrected = sizestrain(pattern, instrument=INSTRUMENT)
    assert "lower bounds" in raw.message and "lower bounds" not in corrected.message
    assert raw.williamson_hall.size.value < 0.97 * 60.0
    size = raw.williamson_hall.size
    assert size.value < corrected.williamson_hall.size.value - 3 * size.stderr


def test_the_ka2_line_is_modelled_not_counted():
    x = np.arange(68.0, 72.0, 0.005)
    c1 = 70.0
    c2 = 2 * math.degrees(math.asin(CU[1][0] / LAM1 * math.sin(math.radians(c1 / 2))))
    y = 30 + 1000 * _lorentzian(x, c1, 0.12) + 500 * _lorentzian(x, c2, 0.12)
    doublet = fit_peaks(Pattern(x, y, wavelengths=CU))
    assert len(doublet.peaks) == 1
    peak = doublet.peaks[0]
    got = (peak.position.value, peak.fwhm.value, peak.area.value)
    assert got == pytest.approx((70.0, 0.12, 1000), rel=1e-5)
    # negative control: the same data read as one line makes a broader, wrong peak
    single = fit_peaks(Pattern(x, y, wavelengths=ANODES["CuKa1"]), peaks=[70.0], window_deg=1.5)
    assert single.peaks[0].fwhm.value > 1.3 * 0.12


def test_pure_background_finds_no_peak():
    rng = np.random.default_rng(2)
    x = np.arange(10.0, 90.0, 0.02)
    p = Pattern(x, rng.poisson(300 - x, x.size).astype(float), wavelengths=CU)
    fits = fit_peaks(p)
    assert not fits.success and fits.peaks == ()
    result = sizestrain(p)
    assert not result.success and result.williamson_hall is None


def test_results_are_strict_json():
    result = sizestrain(_voigt_pattern(40.0, 0.002), instrument=INSTRUMENT, max_peaks=4)
    doc = json.loads(result.to_json())
    assert doc["williamson_hall"]["size"]["unit"] == "nm"
    assert len(doc["fits"]["peaks"]) == 4
    frame = result.fits.to_frame()
    assert "FWHM [deg]" in frame.columns and len(frame) == 4


# -- bad input -------------------------------------------------------------------------------------

def test_bad_input_is_named():
    p = _voigt_pattern(40.0, 0.002)
    with pytest.raises(InputError, match="peaks.*outside the scan"):
        fit_peaks(p, peaks=[5.0])
    with pytest.raises(InputError, match="shape"):
        fit_peaks(p, shape="voigt")
    with pytest.raises(InputError, match="pattern"):
        fit_peaks(p.two_theta)
    one = fit_peaks(p, peaks=[30.95])
    with pytest.raises(InputError, match="at least 2"):
        williamson_hall(one)
    bare = Pattern(p.two_theta, p.intensity)
    with pytest.raises(InputError, match="wavelength"):
        scherrer(fit_peaks(bare, peaks=[30.95]))
    with pytest.raises(InputError, match="wavelength"):
        sizestrain(bare)  # before any fitting
    with pytest.raises(InputError, match="breadth"):
        scherrer(one, breadth="fwtm")


def test_a_failed_peak_is_not_used():
    p = _voigt_pattern(40.0, 0.002)
    fits = fit_peaks(p, peaks=[30.95, 35.9, 51.66])
    broken = dataclasses.replace(fits.peaks[0], success=False, message="forced")
    wh = williamson_hall([broken, *fits.peaks[1:]], wavelength="CuKa")
    assert wh.x.size == 2


# -- real data -------------------------------------------------------------------------------------

def test_pbso4_peaks_fit_at_its_bragg_positions():
    pattern = read_pattern(shared_data("xrd", "gsas2_pbso4", "PBSO4.XRA"))
    # INST_XRY.PRM: Cu Kα1/Kα2 1.5405/1.5443 Å (0.5), Gaussian GU, GV, GW = 2, -2, 5 centideg²
    instrument = read_instrument(shared_data("xrd", "gsas2_pbso4", "INST_XRY.PRM"))
    assert not pattern.wavelengths  # the .XRA file does not say: the instrument's lines are used
    result = sizestrain(pattern, instrument=instrument)
    peaks = result.fits.peaks
    assert len(peaks) == 12 and all(p.success for p in peaks)
    assert all(p.fwhm.value > float(instrument.gaussian_fwhm(p.position.value)) for p in peaks)
    assert all(p.r_squared > 0.9 for p in peaks)
    assert np.median([p.r_squared for p in peaks]) > 0.99
    # Bragg angles of the published orthorhombic cell (PbSO4-Wyckoff.cif: a, b, c = 8.48, 5.398, 6.958 Å)
    h, k, ell = np.meshgrid(*[np.arange(0, 8)] * 3, indexing="ij")
    inv_d2 = (h / 8.48) ** 2 + (k / 5.398) ** 2 + (ell / 6.958) ** 2
    inv_d2 = inv_d2[inv_d2 > 0]
    bragg = 2 * np.degrees(np.arcsin(np.clip(1.5405 * np.sqrt(inv_d2) / 2, 0, 1)))
    assert result.scherrer.wavelength == 1.5405
    offsets = np.array([p.position.value - bragg[np.argmin(np.abs(bragg - p.position.value))] for p in peaks])
    zero = float(np.median(offsets))  # the scan's zero shift (GSAS-II refines one too)
    assert abs(zero) < 0.1
    misses = np.abs(offsets - zero)
    assert np.sum(misses < 0.02) >= 10
    assert misses.max() < 0.07  # the widest misses are unresolved pairs (44.6°: 312 + 203)
    sizes = [s.value for s in result.scherrer.sizes]
    assert all(20 < s < 300 for s in sizes)
