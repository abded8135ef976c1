"""Peak shapes, LP, background and the banded peak sum against their formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.xrd.data import Instrument
from ssbkit.xrd.profile import add_peaks, chebyshev, lorentz_polarization, pseudo_voigt, tch


def test_tch_limits():
    fwhm, eta = tch([0.1, 0.0, 0.0], [0.0, 0.2, 0.0])
    assert fwhm.tolist() == pytest.approx([0.1, 0.2, 0.0], abs=1e-12)
    assert eta.tolist() == pytest.approx([0.0, 1.0, 0.0], abs=1e-5)


def test_tch_between_the_limits():
    g, lor = 0.1, 0.05
    fwhm, eta = tch(g, lor)
    expected = (g**5 + 2.69269 * g**4 * lor + 2.42843 * g**3 * lor**2 + 4.47163 * g**2 * lor**3
                + 0.07842 * g * lor**4 + lor**5) ** 0.2
    q = lor / expected
    assert float(fwhm) == pytest.approx(expected, rel=1e-12)
    assert float(eta) == pytest.approx(1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3, rel=1e-12)
    assert max(g, lor) < fwhm < g + lor  # a Voigt is wider than either part, narrower than their sum


@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0])
def test_pseudo_voigt_has_unit_area_and_the_fwhm_asked_for(eta):
    gamma, half_range = 0.2, 50.0
    x = np.linspace(-half_range, half_range, 500_001)
    y = pseudo_voigt(x, 0.0, gamma, eta)
    area = np.trapezoid(y, x)
    lorentz_inside = 2 / math.pi * math.atan(2 * half_range / gamma)  # the tails beyond ±50° cut off
    assert area == pytest.approx(eta * lorentz_inside + (1 - eta), rel=1e-6)
    peak = pseudo_voigt(0.0, 0.0, gamma, eta)
    assert pseudo_voigt(gamma / 2, 0.0, gamma, eta) == pytest.approx(peak / 2, rel=1e-12)


def test_lorentz_polarization_formula():
    two_theta = np.array([20.0, 45.0, 90.0, 130.0])
    theta = np.radians(two_theta / 2)
    plain = (1 + np.cos(2 * theta) ** 2) / (2 * np.sin(theta) ** 2 * np.cos(theta))
    assert lorentz_polarization(two_theta, Instrument()) == pytest.approx(plain, rel=1e-12)
    # a graphite monochromator (2θm = 26.6°) with K = 0.5
    c = math.cos(math.radians(26.6)) ** 2
    mono = (0.5 + 0.5 * c * np.cos(2 * theta) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
    assert lorentz_polarization(two_theta, Instrument(monochromator_cos2=c)) == pytest.approx(mono, rel=1e-12)
    # synchrotron: fully polarised in the scattering plane's normal, K = 0
    assert lorentz_polarization(two_theta, Instrument(polarization=0.0)) == pytest.approx(
        1 / (np.sin(theta) ** 2 * np.cos(theta)), rel=1e-12)


def test_chebyshev_against_the_polynomials():
    x = np.linspace(10, 90, 17)
    t = (x - 50) / 40
    expected = 3 + 2 * t + 5 * (2 * t**2 - 1) - 1.5 * (4 * t**3 - 3 * t)
    assert chebyshev(x, [3, 2, 5, -1.5], lo=10, hi=90) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InputError, match="hi > lo"):
        chebyshev(x, [1.0], lo=90, hi=10)


def test_add_peaks_equals_the_sum_of_pseudo_voigts_inside_the_windows():
    x = np.arange(10.0, 40.0, 0.01)
    centers, areas = np.array([15.0, 15.3, 30.0]), np.array([100.0, 50.0, 20.0])
    fwhm, eta = np.array([0.1, 0.12, 0.3]), np.array([0.2, 0.5, 1.0])
    window = 10.0
    expected = np.zeros_like(x)
    for c, a, g, e in zip(centers, areas, fwhm, eta, strict=True):
        inside = np.abs(x - c) <= window * g
        lorentz = (2 / (math.pi * g)) / (1 + 4 * ((x - c) / g) ** 2) / (2 / math.pi * math.atan(2 * window))
        gauss = 2 / g * math.sqrt(math.log(2) / math.pi) * np.exp(-4 * math.log(2) * ((x - c) / g) ** 2)
        expected += np.where(inside, a * (e * lorentz + (1 - e) * gauss), 0.0)
    got = add_peaks(x, centers, areas, fwhm, eta, window=window)
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_add_peaks_keeps_every_peak_area_whatever_the_window():
    x = np.arange(0.5, 60.0, 0.002)
    for window in (4.0, 12.0, 40.0):
        y = add_peaks(x, [20.0, 35.0], [10.0, 30.0], [0.2, 0.25], [1.0, 0.4], window=window)
        assert np.trapezoid(y, x) == pytest.approx(40.0, rel=1e-4)


def test_add_peaks_edges_and_bad_widths():
    x = np.arange(10.0, 20.0, 0.01)
    assert add_peaks(x, [], [], [], []).sum() == 0.0
    assert add_peaks(x, [50.0], [1.0], [0.1], [0.5]).sum() == 0.0  # far outside: nothing
    partial = np.trapezoid(add_peaks(x, [x[-1]], [1.0], [0.1], [0.0]), x)
    assert partial == pytest.approx(0.5, abs=0.005)  # half a peak at the edge of the scan
    with pytest.raises(InputError, match="FWHM"):
        add_peaks(x, [15.0], [1.0], [0.0], [0.5])
    out = np.ones(x.size)
    assert add_peaks(x, [15.0], [1.0], [0.1], [0.5], out=out) is out
