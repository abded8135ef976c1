"""Simulators of EXSY data (ssbkit.nmr.simulate).

Truth: noiseless tables equal the models they come from (written out independently here:
the two-site closed form, the Arrhenius law); seeded noise has the stated size and is
reproducible; the 2D spectra hold peaks at the sites' shifts whose integrals are the
exchange volumes (a box sum, independent of how the peaks were drawn).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssbkit import InputError
from ssbkit.core.units import BOLTZMANN_EV
from ssbkit.nmr.data import NMRSpectrum
from ssbkit.nmr.exchange import exchange_volumes
from ssbkit.nmr.simulate import STUDY_SHIFTS_PPM, simulate_buildup, simulate_exchange, simulate_exsy_spectra

TIMES = np.geomspace(0.01, 10, 12)
POPULATIONS = {"Li2S": 0.3, "LPSC": 0.5, "LiI": 0.2}
RATES = {("Li2S", "LPSC"): 1.0, ("Li2S", "LiI"): 3.0, ("LPSC", "LiI"): 0.5}


# -- build-up tables -----------------------------------------------------------------------------------

def test_noiseless_first_order_table_is_the_exponential():
    table = simulate_buildup("first-order", mixing_times_s=TIMES, k_per_s=1.5, plateau=0.3)
    assert list(table.columns) == ["mixing_time [s]", "intensity"]
    np.testing.assert_allclose(table["intensity"], 0.3 * (1 - np.exp(-1.5 * TIMES)), rtol=1e-14)
    assert table.attrs["truth"]["rates"] == [{"temperature_K": None, "value": 1.5}]


def test_a_series_follows_the_arrhenius_law_from_the_reference_temperature():
    temperatures = [293.0, 333.0, 373.0]
    table = simulate_buildup("sphere", mixing_times_s=TIMES, D_cm2_s=1e-10, length_um=1.0, plateau=0.4,
                             temperatures_K=temperatures, Ea_eV=0.117, reference_temperature_K=293.0)
    assert len(table) == 3 * TIMES.size and list(table["temperature [K]"].unique()) == temperatures
    rates = [r["value"] for r in table.attrs["truth"]["rates"]]
    expected = [1e-10 * math.exp(-(0.117 / BOLTZMANN_EV) * (1 / T - 1 / 293.0)) for T in temperatures]
    np.testing.assert_allclose(rates, expected, rtol=1e-14)
    assert rates[0] == 1e-10


def test_plateau_noise_has_its_size_and_is_reproducible():
    kw = dict(mixing_times_s=np.geomspace(0.01, 10, 4000), k_per_s=2.0, plateau=0.4, noise=0.01)
    a = simulate_buildup("first-order", rng=5, **kw)
    b = simulate_buildup("first-order", rng=np.random.default_rng(5), **kw)
    clean = simulate_buildup("first-order", **{**kw, "noise": 0.0})
    np.testing.assert_array_equal(a["intensity"], b["intensity"])
    assert np.std(a["intensity"] - clean["intensity"]) == pytest.approx(0.004, rel=0.05)


def test_proportional_noise_scales_with_the_value():
    kw = dict(mixing_times_s=np.full(4000, 0.1), k_per_s=2.0, plateau=0.4, noise=0.02,
              noise_model="proportional")
    table = simulate_buildup("first-order", rng=1, stderr_column=True, **kw)
    value = 0.4 * (1 - math.exp(-0.2))
    assert np.std(table["intensity"]) == pytest.approx(0.02 * value, rel=0.05)
    assert table["intensity stderr"].iloc[0] == pytest.approx(0.02 * value)


def test_build_up_arguments_are_checked():
    with pytest.raises(InputError, match="seeded generator"):
        simulate_buildup("sphere", mixing_times_s=TIMES, D_cm2_s=1e-10, length_um=1.0, noise=0.01)
    with pytest.raises(InputError, match="takes its rate as k_per_s"):
        simulate_buildup("first-order", mixing_times_s=TIMES, D_cm2_s=1e-10)
    with pytest.raises(InputError, match="needs length_um"):
        simulate_buildup("cube", mixing_times_s=TIMES, D_cm2_s=1e-10)
    with pytest.raises(InputError, match="Ea_eV needs temperatures_K"):
        simulate_buildup("first-order", mixing_times_s=TIMES, k_per_s=1.0, Ea_eV=0.1)
    with pytest.raises(InputError, match="folder does not exist"):
        simulate_buildup("first-order", mixing_times_s=TIMES, k_per_s=1.0, path="/nonexistent/dir/x.csv")


def test_a_written_table_leaves_no_temporary_file(tmp_path):
    simulate_buildup("first-order", mixing_times_s=TIMES, k_per_s=1.0, path=tmp_path / "b.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["b.csv"]


# -- volume tables -------------------------------------------------------------------------------------

def test_exchange_table_lists_every_peak_in_order_with_the_closed_form():
    table = simulate_exchange(["A", "B"], {"A": 0.3, "B": 0.7}, {("A", "B"): 2.0}, mixing_times_s=[0.0, 0.5])
    assert list(table.columns) == ["mixing_time [s]", "from", "to", "volume"]
    peaks = [("A", "A"), ("A", "B"), ("B", "A"), ("B", "B")] * 2
    assert list(zip(table["from"], table["to"], strict=True)) == peaks
    kappa = 2.0 + 0.3 * 2.0 / 0.7
    cross = 0.3 * 0.7 * (1 - math.exp(-kappa * 0.5))
    np.testing.assert_allclose(table["volume"], [0.3, 0, 0, 0.7, 0.3 - cross, cross, cross, 0.7 - cross],
                               atol=1e-15)
    truth = table.attrs["truth"]
    assert truth["populations"] == [0.3, 0.7]
    assert {(r["from"], r["to"]) for r in truth["rates"]} == {("A", "B"), ("B", "A")}


def test_exchange_noise_is_relative_to_the_largest_initial_volume():
    kw = dict(mixing_times_s=np.full(500, 0.1), total=2.0, noise=0.005)
    noisy = simulate_exchange(list(POPULATIONS), POPULATIONS, RATES, rng=3, **kw)
    clean = simulate_exchange(list(POPULATIONS), POPULATIONS, RATES, **{**kw, "noise": 0.0})
    sigma = 0.005 * 2.0 * 0.5
    assert noisy.attrs["truth"]["sigma"] == pytest.approx(sigma)
    assert np.std(noisy["volume"] - clean["volume"]) == pytest.approx(sigma, rel=0.05)


# -- 2D spectra ----------------------------------------------------------------------------------------

def box_volume(spectrum, f1, f2, half_width):
    a1, a2 = spectrum.ppm
    rows = np.abs(a1 - f1) <= half_width
    cols = np.abs(a2 - f2) <= half_width
    d1, d2 = abs(a1[1] - a1[0]), abs(a2[1] - a2[0])
    return float(spectrum.data[np.ix_(rows, cols)].sum() * d1 * d2)


def test_spectra_hold_the_exchange_volumes_at_the_study_shifts():
    spectra = simulate_exsy_spectra(list(POPULATIONS), POPULATIONS, RATES, mixing_times_s=[0.05, 0.5],
                                    linewidth_ppm=0.3, points=(256, 512))
    assert all(isinstance(s, NMRSpectrum) and s.shape == (256, 512) for s in spectra)
    truth = exchange_volumes([0.05, 0.5], populations=POPULATIONS, rates=RATES)
    for spectrum, volumes in zip(spectra, truth, strict=True):
        assert spectrum.metadata["nucleus"] == ("6Li", "6Li")
        for i, a in enumerate(POPULATIONS):
            for j, b in enumerate(POPULATIONS):
                # F1 = starting site, F2 = arriving site; ±0.45 ppm keeps LPSC apart from Li2S (1.02 ppm)
                got = box_volume(spectrum, STUDY_SHIFTS_PPM[a], STUDY_SHIFTS_PPM[b], 0.45)
                assert got == pytest.approx(volumes[i, j], rel=0.01, abs=1e-4)
        np.testing.assert_allclose(spectrum.metadata["truth"]["volumes"], volumes, rtol=1e-12)
    # the tallest point is the biggest diagonal peak (LPSC, 1.29 ppm) in both dimensions
    i1, i2 = np.unravel_index(np.argmax(spectra[0].data), spectra[0].shape)
    assert spectra[0].ppm[0][i1] == pytest.approx(1.29, abs=0.05)
    assert spectra[0].ppm[1][i2] == pytest.approx(1.29, abs=0.05)
    assert spectra[0].ppm[0][0] > spectra[0].ppm[0][-1]  # high to low ppm, as drawn


def test_lorentzian_peaks_lose_their_tails_outside_the_window():
    kw = dict(mixing_times_s=[0.0], linewidth_ppm=0.5, points=(128, 128))
    gauss = simulate_exsy_spectra(["Li2S", "LiI"], [0.5, 0.5], {}, **kw)[0]
    lorentz = simulate_exsy_spectra(["Li2S", "LiI"], [0.5, 0.5], {}, lineshape="lorentzian", **kw)[0]
    area = lambda s: float(s.data.sum() * abs(np.diff(s.ppm[0])[0]) * abs(np.diff(s.ppm[1])[0]))  # noqa: E731
    assert area(gauss) == pytest.approx(1.0, rel=1e-3)
    assert 0.8 < area(lorentz) < 0.99


def test_spectrum_noise_is_seeded_and_relative_to_the_tallest_point():
    kw = dict(mixing_times_s=[0.1, 1.0], noise=0.01, points=(64, 128))
    a = simulate_exsy_spectra(list(POPULATIONS), POPULATIONS, RATES, rng=9, **kw)
    b = simulate_exsy_spectra(list(POPULATIONS), POPULATIONS, RATES, rng=9, **kw)
    clean = simulate_exsy_spectra(list(POPULATIONS), POPULATIONS, RATES, **{**kw, "noise": 0.0})
    np.testing.assert_array_equal(a[1].data, b[1].data)
    sigma = a[0].metadata["truth"]["noise_sigma"]
    assert sigma == pytest.approx(0.01 * clean[0].data.max())
    assert np.std(a[1].data - clean[1].data) == pytest.approx(sigma, rel=0.05)


def test_sites_without_a_default_shift_need_shifts():
    with pytest.raises(InputError, match="no default shift for X"):
        simulate_exsy_spectra(["X", "LiI"], [0.5, 0.5], {}, mixing_times_s=[0.1])
    s = simulate_exsy_spectra(["X", "Y"], [0.5, 0.5], {("X", "Y"): 1.0}, mixing_times_s=[0.1],
                              shifts_ppm={"X": 3.0, "Y": -1.0})
    assert s[0].metadata["truth"]["shifts_ppm"] == [3.0, -1.0]
