"""2D-EXSY volumes: box sums against erf, fitted lineshapes, normalisations and T1 correction by hand."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import erf

from ssbkit.core.errors import InputError
from ssbkit.nmr.data import NMRSpectrum
from ssbkit.nmr.deconvolve import pseudo_voigt
from ssbkit.nmr.volumes import exsy_volumes, normalize, t1_correct

F1 = np.linspace(6, -8, 351)  # 0.04 ppm steps
F2 = np.linspace(6, -8, 701)  # 0.02 ppm steps
SITES = {"Li2S": 2.31, "LPSC": 1.29, "LiI": -4.56}
FWHM = {"Li2S": 0.5, "LPSC": 0.6, "LiI": 0.7}
VOLUMES = np.array([[6.0, 0.8, 0.3], [0.7, 9.0, 0.5], [0.1, 0.45, 4.0]])  # rows F1 (from), columns F2 (to)


def gaussian_2d(volumes=VOLUMES, sites=SITES, fwhm=FWHM, f1=F1, f2=F2):
    g = np.stack([pseudo_voigt(f1, p, fwhm[s], 0.0) for s, p in sites.items()], axis=1)
    h = np.stack([pseudo_voigt(f2, p, fwhm[s], 0.0) for s, p in sites.items()], axis=1)
    return g @ volumes @ h.T


def spectrum(data, f1=F1, f2=F2, **metadata):
    return NMRSpectrum(data, (f1, f2), metadata={"mixing_time_s": 0.1, **metadata})


def captured(axis, centre, half, peak, fwhm):
    """Share of a unit Gaussian (FWHM) at ``peak`` on the cells of the points within centre ± half."""
    inside = axis[np.abs(axis - centre) <= half]
    step = abs(axis[1] - axis[0])
    a, b = inside.min() - step / 2, inside.max() + step / 2
    sigma = fwhm / (2 * math.sqrt(2 * math.log(2)))
    return 0.5 * (erf((b - peak) / (sigma * math.sqrt(2))) - erf((a - peak) / (sigma * math.sqrt(2))))


# -- volumes ---------------------------------------------------------------------------------------

def test_box_sums_are_the_volumes_truncated_by_the_box():
    half = 0.45
    r = exsy_volumes(spectrum(gaussian_2d()), sites=SITES, box_ppm=half)
    names = list(SITES)
    # every peak's Gaussian tails reach into every box: the sum over all peaks k, l
    share1 = np.array([[captured(F1, SITES[i], half, SITES[k], FWHM[k]) for k in names] for i in names])
    share2 = np.array([[captured(F2, SITES[j], half, SITES[m], FWHM[m]) for m in names] for j in names])
    expected = share1 @ VOLUMES @ share2.T
    np.testing.assert_allclose(r.matrix(0), expected, rtol=1e-3)
    assert (np.diag(r.matrix(0)) < np.diag(VOLUMES)).all()  # boxes cut the tails off
    assert r.method == "box" and r.volume_unit == "a.u.·ppm²"


def test_fitted_lineshapes_give_the_volumes_exactly():
    r = exsy_volumes(spectrum(gaussian_2d()), sites=SITES, method="fit")
    assert r.success, r.message
    np.testing.assert_allclose(r.matrix(0), VOLUMES, rtol=1e-6, atol=1e-8)
    shapes = pd.DataFrame(dict(r.lineshapes))
    np.testing.assert_allclose(shapes["F1 FWHM [ppm]"], list(FWHM.values()), rtol=1e-6)
    np.testing.assert_allclose(shapes["F2 position [ppm]"], list(SITES.values()), atol=1e-6)


def test_lorentzian_lineshapes_fit_lorentzian_peaks():
    f = np.linspace(12, -14, 521)
    g = np.stack([pseudo_voigt(f, p, 0.6, 1.0) for p in SITES.values()], axis=1)
    data = spectrum(g @ VOLUMES @ g.T, f1=f, f2=f)
    r = exsy_volumes(data, sites=SITES, method="fit", lineshape="lorentzian")
    np.testing.assert_allclose(r.matrix(0), VOLUMES, rtol=1e-6, atol=1e-8)


def test_fit_with_noise_is_within_its_errors():
    rng = np.random.default_rng(7)
    data = gaussian_2d()
    sigma = 0.01 * data.max()
    r = exsy_volumes(spectrum(data + rng.normal(0, sigma, data.shape)), sites=SITES, method="fit")
    t = r.table
    z = (t["volume"].to_numpy() - VOLUMES.ravel()) / t["volume stderr"].to_numpy()
    assert np.abs(z).max() < 4
    assert np.abs(t["volume"].to_numpy() - VOLUMES.ravel()).max() < 0.02 * VOLUMES.max()


def test_box_error_is_the_noise_over_the_box():
    rng = np.random.default_rng(3)
    sigma = 0.05
    r = exsy_volumes(spectrum(gaussian_2d() + rng.normal(0, sigma, (F1.size, F2.size))), sites=SITES,
                     box_ppm=0.4)
    points = np.sum(np.abs(F1 - 2.31) <= 0.4) * np.sum(np.abs(F2 - 2.31) <= 0.4)
    expected = sigma * math.sqrt(points) * 0.04 * 0.02
    assert r.table["volume stderr"].iloc[0] == pytest.approx(expected, rel=0.15)


@pytest.mark.parametrize("seed", range(4))
def test_box_error_noise_is_not_the_quietest_tile(seed):
    # regression: the noise was the smallest standard deviation of 64 tiles, 3 % low on pure noise
    sigma = 0.05
    noisy = gaussian_2d() + np.random.default_rng(seed).normal(0, sigma, (F1.size, F2.size))
    r = exsy_volumes(spectrum(noisy), sites=SITES, box_ppm=0.4)
    points = np.sum(np.abs(F1 - 2.31) <= 0.4) * np.sum(np.abs(F2 - 2.31) <= 0.4)
    expected = sigma * math.sqrt(points) * 0.04 * 0.02
    assert r.table["volume stderr"].iloc[0] == pytest.approx(expected, rel=0.015)


def test_overlapping_sites_bias_boxes_but_not_the_fit():
    sites = {"LPSC": 1.29, "LiI": 0.4}
    fwhm = {"LPSC": 0.8, "LiI": 0.8}
    volumes = np.array([[9.0, 0.5], [0.5, 4.0]])
    data = spectrum(gaussian_2d(volumes, sites, fwhm))
    box = exsy_volumes(data, sites=sites, box_ppm=0.4)
    fit = exsy_volumes(data, sites=sites, method="fit", box_ppm=0.4)
    bias = np.abs(box.matrix(0) - volumes) / volumes
    assert bias.max() > 0.3  # the LPSC tail lands in the small cross-peak boxes
    np.testing.assert_allclose(fit.matrix(0), volumes, rtol=1e-5)


def test_a_series_in_the_long_form_the_exchange_fit_reads():
    times = [0.01, 0.1, 1.0]
    series = [spectrum(gaussian_2d() * (1 + k), mixing_time_s=t, temperature_K=313.0)
              for k, t in enumerate(times)]
    r = exsy_volumes(series, sites=SITES, box_ppm=0.45)
    t = r.table
    assert list(t.columns) == ["spectrum", "mixing_time [s]", "temperature [K]", "from", "to", "volume",
                               "volume stderr"]
    assert len(t) == 27 and sorted(set(t["mixing_time [s]"])) == times
    np.testing.assert_allclose(r.matrix(2), 3 * r.matrix(0))
    # from is the F1 site, to the F2 site: the (Li2S, LiI) element is VOLUMES[0, 2]
    first = t[t["spectrum"] == 0]
    lookup = {(a, b): v for a, b, v in zip(first["from"], first["to"], first["volume"], strict=True)}
    assert lookup[("Li2S", "LiI")] == pytest.approx(0.3, rel=0.2)
    assert lookup[("LiI", "Li2S")] == pytest.approx(0.1, rel=0.2)
    overridden = exsy_volumes(series, sites=SITES, box_ppm=0.45, mixing_times_s=[1, 2, 3])
    assert sorted(set(overridden.table["mixing_time [s]"])) == [1, 2, 3]
    assert json.loads(r.to_json())["columns"]["from"][:3] == ["Li2S"] * 3
    assert not r.columns["volume"].flags.writeable


def test_cross_peaks_follow_f1_to_f2():
    volumes = np.diag([3.0, 2.0, 1.0])
    volumes[0, 2] = 0.5  # only Li2S (F1) -> LiI (F2)
    t = exsy_volumes(spectrum(gaussian_2d(volumes)), sites=SITES, method="fit").table
    lookup = {(a, b): v for a, b, v in zip(t["from"], t["to"], t["volume"], strict=True)}
    assert lookup[("Li2S", "LiI")] == pytest.approx(0.5, rel=1e-6)
    assert abs(lookup[("LiI", "Li2S")]) < 1e-6


# -- normalisations ---------------------------------------------------------------------------------

def hand_table():
    """Two sites; diagonals decay by 0.8 per 0.1 s from A(0) = 12.5 and B(0) = 6.25."""
    rows = []
    volumes = [(0.1, 10.0, 1.0, 2.0, 5.0), (0.2, 8.0, 2.0, 2.5, 4.0), (0.4, 5.12, 3.2, 4.0, 2.56)]
    for t, aa, ab, ba, bb in volumes:
        rows += [(t, "A", "A", aa), (t, "A", "B", ab), (t, "B", "A", ba), (t, "B", "B", bb)]
    frame = pd.DataFrame(rows, columns=["mixing_time [s]", "from", "to", "volume"])
    frame["volume stderr"] = 0.1
    return frame


def test_normalisations_by_hand():
    table = hand_table()
    ratio = normalize(table, method="cross/diagonal")
    assert list(ratio["pair"]) == ["A->B"] * 3 + ["B->A"] * 3
    np.testing.assert_allclose(ratio["intensity"], [1 / 10, 2 / 8, 3.2 / 5.12, 2 / 5, 2.5 / 4, 4 / 2.56])
    assert ratio["intensity stderr"].iloc[0] == pytest.approx(math.sqrt((0.1 / 10) ** 2 + (0.1 / 100) ** 2))
    share = normalize(table)
    np.testing.assert_allclose(share["intensity"], [1 / 11, 2 / 10, 3.2 / 8.32, 2 / 7, 2.5 / 6.5, 4 / 6.56])
    assert share["intensity stderr"].iloc[0] == pytest.approx(0.1 * math.hypot(10, 1) / 121)
    zero = normalize(table, method="diagonal0")
    expected = [v / 12.5 for v in (1, 2, 3.2)] + [v / 6.25 for v in (2, 2.5, 4)]
    np.testing.assert_allclose(zero["intensity"], expected)
    given = normalize(table, method="diagonal0", diagonal0={"A": 10.0, "B": 5.0})
    np.testing.assert_allclose(given["intensity"][:3], [0.1, 0.2, 0.32])
    assert list(zero.columns) == ["mixing_time [s]", "pair", "from", "to", "intensity", "intensity stderr"]


def test_normalisation_per_temperature():
    hot = hand_table()
    hot["volume"] *= np.where(hot["from"] == hot["to"], 2.0, 1.0)
    both = pd.concat([hand_table().assign(**{"temperature [K]": 293.0}),
                      hot.assign(**{"temperature [K]": 353.0})])
    zero = normalize(both, method="diagonal0")
    cold_ab = zero[(zero["pair"] == "A->B") & (zero["temperature [K]"] == 293.0)]["intensity"]
    hot_ab = zero[(zero["pair"] == "A->B") & (zero["temperature [K]"] == 353.0)]["intensity"]
    np.testing.assert_allclose(cold_ab, [0.08, 0.16, 0.256])
    np.testing.assert_allclose(hot_ab, [0.04, 0.08, 0.128])


def test_normalisation_refuses_what_it_cannot_do():
    table = hand_table()
    with pytest.raises(InputError, match="no diagonal peak of B"):
        normalize(table[~((table["from"] == "B") & (table["to"] == "B") & (table["mixing_time [s]"] == 0.2))])
    with pytest.raises(InputError, match="two to extrapolate"):
        normalize(table[table["mixing_time [s]"] == 0.2], method="diagonal0")
    with pytest.raises(InputError, match="missing column"):
        normalize(table.drop(columns="mixing_time [s]"))
    with pytest.raises(InputError, match="two diagonal peaks"):
        normalize(pd.concat([table, table]))
    with pytest.raises(InputError, match="method"):
        normalize(table, method="cross/total")


# -- T1 ------------------------------------------------------------------------------------------

T1 = {"A": 2.0, "B": 0.5}
TIMES = np.array([0.01, 0.1, 0.5, 1.0, 3.0])


def decayed(factor_of):
    rows = []
    for t in TIMES:
        rows += [(t, "A", "A", 10 * math.exp(-t / T1["A"])), (t, "B", "B", 5 * math.exp(-t / T1["B"])),
                 (t, "A", "B", 0.3 * t * factor_of(t))]
    return pd.DataFrame(rows, columns=["mixing_time [s]", "from", "to", "volume"])


def test_t1_correction_of_exact_exponentials():
    def jump(t):  # magnetisation at A until a uniformly random τ, at B after it
        return quad(lambda tau: math.exp(-tau / T1["A"] - (t - tau) / T1["B"]), 0, t)[0] / t

    for option, factor in (("jump", jump), ("detecting", lambda t: math.exp(-t / T1["B"])),
                           ("mean-rate", lambda t: math.exp(-t * (1 / T1["A"] + 1 / T1["B"]) / 2))):
        out = t1_correct(decayed(factor), T1_s=T1, cross_peaks=option)
        diagonal = out[out["from"] == out["to"]]
        np.testing.assert_allclose(diagonal["volume"], np.tile([10.0, 5.0], TIMES.size), rtol=1e-12)
        np.testing.assert_allclose(out[out["from"] != out["to"]]["volume"], 0.3 * TIMES, rtol=1e-9)


def test_equal_t1_makes_the_jump_average_a_plain_decay():
    frame = pd.DataFrame({"mixing_time [s]": [0.0, 1.0], "from": ["A", "A"], "to": ["B", "B"],
                          "volume": [1.0, math.exp(-0.5)], "volume stderr": [0.1, 0.1]})
    out = t1_correct(frame, T1_s={"A": 2.0, "B": 2.0})
    np.testing.assert_allclose(out["volume"], [1.0, 1.0], rtol=1e-12)
    assert out["volume stderr"].iloc[1] == pytest.approx(0.1 * math.exp(0.5))
    with pytest.raises(InputError, match="no T1 for site"):
        t1_correct(frame, T1_s={"A": 2.0})
    with pytest.raises(InputError, match="T1_s: B"):
        t1_correct(frame, T1_s={"A": 2.0, "B": -1})


# -- bad input ------------------------------------------------------------------------------------

def test_bad_input_is_named():
    s = spectrum(gaussian_2d())
    with pytest.raises(InputError, match="overlap"):
        exsy_volumes(s, sites=SITES, box_ppm=0.6)
    with pytest.raises(InputError, match="site LiI at -9 ppm: lies outside the F1 axis"):
        exsy_volumes(s, sites={"Li2S": 2.31, "LiI": -9.0}, method="fit")
    with pytest.raises(InputError, match="its box .* reaches outside"):
        exsy_volumes(s, sites={"Li2S": 2.31, "LiI": -7.8}, box_ppm=0.5)
    with pytest.raises(InputError, match="no mixing time"):
        exsy_volumes(NMRSpectrum(gaussian_2d(), (F1, F2)), sites=SITES, box_ppm=0.4)
    with pytest.raises(InputError, match="2 mixing times for 1 spectra"):
        exsy_volumes(s, sites=SITES, box_ppm=0.4, mixing_times_s=[0.1, 0.2])
    with pytest.raises(InputError, match="1D"):
        exsy_volumes(NMRSpectrum(np.ones(F2.size), (F2,), metadata={"mixing_time_s": 0.1}))
    with pytest.raises(InputError, match="sites"):
        exsy_volumes(s, sites={})
    with pytest.raises(InputError, match="no half-width"):
        exsy_volumes(s, sites=SITES, box_ppm={"Li2S": 0.3})


# -- with the simulator and the exchange fit --------------------------------------------------------

def test_simulated_three_site_exchange_rates_come_back_through_fitted_volumes():
    from ssbkit.nmr.exchange import fit_exchange
    from ssbkit.nmr.simulate import simulate_exsy_spectra

    rates = {("Li2S", "LiI"): 2.0, ("LPSC", "LiI"): 0.5, ("Li2S", "LPSC"): 0.2}
    populations = {"Li2S": 0.3, "LPSC": 0.5, "LiI": 0.2}
    spectra = simulate_exsy_spectra(tuple(populations), tuple(populations.values()), rates,
                                    mixing_times_s=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0], linewidth_ppm=0.6,
                                    noise=0.005, rng=1)
    fitted = fit_exchange(exsy_volumes(spectra, method="fit").table, populations=populations)
    boxed = fit_exchange(exsy_volumes(spectra, box_ppm=0.5).table, populations=populations)
    for pair, k in rates.items():
        assert fitted.rate(*pair).value == pytest.approx(k, rel=0.05)
    # Li2S and LPSC, 1.02 ppm apart with 0.6 ppm lines, spill into each other's boxes
    assert abs(boxed.rate("Li2S", "LPSC").value - 0.2) > 0.1 * 0.2
