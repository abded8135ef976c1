"""lin-KK: exact Voigt spectra, noisy and drifting synthetic spectra, impedance.py's example."""

import dataclasses
import json
import math

import numpy as np
import pytest

from ssbkit import InputError
from ssbkit.eis import Spectrum, parse_circuit, simulate_spectrum
from ssbkit.eis.kk import KramersKronigResult, _mu, linkk
from ssbkit.testing import shared_data

# Two ideal RC arcs, 3.3 decades apart in τ, 10 points per decade.
F = np.logspace(5, -1, 61)
TWO_ARCS = "R0-p(R1,C1)-p(R2,C2)"
TWO_ARC_PARAMS = {"R0": 10.0, "R1": 100.0, "C1": 1e-6, "R2": 200.0, "C2": 1e-3}


def voigt_on_grid(n_rc, freq, *, r0=5.0, inductance=0.0, capacitance=None):
    """A Voigt circuit whose τ lie exactly on the lin-KK grid for M = n_rc, and its truth."""
    omega = 2 * np.pi * freq
    tau = np.geomspace(1 / omega.max(), 1 / omega.min(), n_rc)
    resistances = np.linspace(20.0, 60.0, n_rc)
    parts, params = ["R0"], {"R0": r0}
    for k, (r, t) in enumerate(zip(resistances, tau, strict=True), start=1):
        parts.append(f"p(R{k},C{k})")
        params[f"R{k}"], params[f"C{k}"] = r, t / r
    if inductance:
        parts.append("L0")
        params["L0"] = inductance
    if capacitance is not None:
        parts.append("C0")
        params["C0"] = capacitance
    circuit = parse_circuit("-".join(parts))
    return Spectrum(freq, circuit.impedance(freq, params)), resistances, tau


# --- analytic truth: exact Voigt spectra ----------------------------------------------------

@pytest.mark.parametrize("fit_type", ["real", "imag", "complex"])
def test_voigt_on_the_grid_is_fitted_exactly(fit_type):
    spectrum, resistances, tau = voigt_on_grid(5, np.logspace(4, -2, 49), inductance=2e-6)
    kk = linkk(spectrum, m=5, fit_type=fit_type)
    assert kk.m == 5 and kk.mu == 1.0
    np.testing.assert_allclose(kk.tau, tau, rtol=1e-12)
    np.testing.assert_allclose(kk.resistances, resistances, rtol=1e-9)
    assert kk.ohmic_resistance.value == pytest.approx(5.0, rel=1e-9)
    assert kk.inductance.value == pytest.approx(2e-6, rel=1e-7)
    assert kk.max_residual < 1e-10
    assert kk.valid


def test_series_capacitance_is_recovered():
    spectrum, resistances, _ = voigt_on_grid(4, np.logspace(3, -2, 41), capacitance=0.05)
    kk = linkk(spectrum, m=4, fit_type="complex", add_capacitance=True)
    assert kk.capacitance.value == pytest.approx(0.05, rel=1e-8)
    assert kk.capacitance.unit == "F"
    np.testing.assert_allclose(kk.resistances, resistances, rtol=1e-8)
    assert kk.max_residual < 1e-10


def test_without_the_capacitance_a_blocking_tail_fails():
    spectrum, _, _ = voigt_on_grid(4, np.logspace(3, -2, 41), capacitance=0.05)
    assert not linkk(spectrum, m=4, fit_type="complex").valid


def test_mu_is_schoenlebers_ratio_of_negative_to_positive_resistance():
    assert _mu(np.array([3.0, -1.0, 1.0])) == pytest.approx(1 - 1 / 4)
    assert _mu(np.array([2.0, 0.0])) == 1.0
    assert _mu(np.array([-2.0])) == -math.inf


def test_time_constants_span_one_over_the_angular_frequency_range():
    freq = np.logspace(6, -2, 33)
    kk = linkk(simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, freq), m=9)
    expected = np.logspace(np.log10(1 / (2 * np.pi * 1e6)), np.log10(1 / (2 * np.pi * 1e-2)), 9)
    np.testing.assert_allclose(kk.tau, expected, rtol=1e-12)


# --- synthetic truth: noise, drift ----------------------------------------------------------

@pytest.mark.parametrize("fit_type", ["real", "complex"])
@pytest.mark.parametrize("seed", range(4))
def test_noisy_valid_spectrum_is_valid_with_residuals_at_the_noise(fit_type, seed):
    s = simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, F, noise=0.005,
                          rng=np.random.default_rng(seed))
    kk = linkk(s, c=0.5, fit_type=fit_type)
    assert kk.valid, kk.message
    assert kk.mu_criterion_met and kk.mu < 0.5
    # 0.5 % noise on each part; the fit absorbs some of it, a real fit also spreads it.
    assert 0.3 <= kk.noise.value <= 0.8
    assert kk.noise.unit == "%"


@pytest.mark.parametrize("fit_type", ["real", "complex"])
@pytest.mark.parametrize("seed", range(4))
def test_drift_during_the_sweep_is_not_valid(fit_type, seed):
    # 20 Ohm drift over the sweep: 10 % of the low-frequency arc.
    s = simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, F, noise=0.005, drift_ohm=20.0,
                          rng=np.random.default_rng(seed))
    kk = linkk(s, c=0.5, fit_type=fit_type)
    assert not kk.valid
    assert kk.noise.value > 1.5
    assert kk.message.startswith("not Kramers–Kronig consistent")


def test_default_c_underfits_ideal_debye_arcs_as_documented():
    # μ of a coarse grid dips below 0.85 long before the two sharp arcs are resolved.
    s = simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, F, noise=0.005, rng=np.random.default_rng(0))
    kk = linkk(s)
    assert kk.m <= 12 and kk.max_residual > 0.05 and not kk.valid


def test_a_masked_outlier_is_left_out():
    clean = simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, F, noise=0.002,
                              rng=np.random.default_rng(3))
    z = clean.impedance.copy()
    z[40] *= 1.3
    spoiled = Spectrum(F, z)
    assert not linkk(spoiled, c=0.5, fit_type="complex").valid
    mask = np.ones(F.size, bool)
    mask[40] = False
    kk = linkk(Spectrum(F, z, mask=mask), c=0.5, fit_type="complex")
    assert kk.valid and kk.frequency.size == F.size - 1 and F[40] not in kk.frequency


def test_mu_never_met_keeps_the_largest_m_and_says_so():
    s = simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, F)
    kk = linkk(s, c=0.01, max_m=3)
    assert kk.m == 3 and not kk.mu_criterion_met
    assert "never fell below" in kk.message


# --- real file: impedance.py's documented lin-KK example ------------------------------------

@pytest.fixture(scope="module")
def example_spectrum():
    # Headerless f, Z', Z''. impedance.py's validation example keeps the points below the
    # real axis (preprocessing.ignoreBelowX: Z'' < 0) and then f < 1000 Hz: 55 points.
    data = np.loadtxt(shared_data("eis", "impedance.py", "exampleData.csv"), delimiter=",")
    f, z = data[:, 0], data[:, 1] + 1j * data[:, 2]
    return Spectrum(f, z, mask=(z.imag < 0) & (f < 1000), source="exampleData.csv")


@pytest.mark.shared_data
def test_impedance_py_example_gives_m_26_and_mu_031(example_spectrum):
    # docs/source/examples/validation_example.ipynb: linKK(f, Z, c=.5, max_M=100,
    # fit_type='complex', add_cap=True) prints "M = 26", "mu = 0.31".
    kk = linkk(example_spectrum, c=0.5, max_m=100, fit_type="complex", add_capacitance=True)
    assert kk.frequency.size == 55
    assert kk.m == 26
    assert round(kk.mu, 2) == 0.31
    assert kk.valid and kk.max_residual < 0.005


@pytest.mark.shared_data
def test_impedance_py_example_intermediate_fits_match_its_printout(example_spectrum):
    # The same notebook prints M, mu and rmse(Z_fit, Z) at M = 10 and 20 on the way.
    def rmse(kk):
        return math.sqrt(np.mean(np.abs(kk.impedance - kk.impedance_fit) ** 2))

    at10 = linkk(example_spectrum, m=10, fit_type="complex", add_capacitance=True)
    at20 = linkk(example_spectrum, m=20, fit_type="complex", add_capacitance=True)
    assert at10.mu == pytest.approx(1.0, abs=1e-12)
    assert rmse(at10) == pytest.approx(8.144660459071784e-05, rel=1e-8)
    assert at20.mu == pytest.approx(0.8929547569244768, rel=1e-7)
    assert rmse(at20) == pytest.approx(5.1002168389472366e-05, rel=1e-7)


# --- the result --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def result():
    s = simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, F, noise=0.005, rng=np.random.default_rng(1))
    return linkk(s, c=0.5, fit_type="complex")


def test_residuals_and_pseudo_chi2_follow_their_definitions(result):
    z, fit = result.impedance, result.impedance_fit
    np.testing.assert_allclose(result.residual_real, (z - fit).real / np.abs(z), rtol=1e-12)
    np.testing.assert_allclose(result.residual_imag, (z - fit).imag / np.abs(z), rtol=1e-12)
    chi2 = np.sum(result.residual_real**2 + result.residual_imag**2)
    assert result.pseudo_chi2 == pytest.approx(chi2, rel=1e-12)
    # pyimpspec's form of the noise estimate, in %.
    assert result.noise.value == pytest.approx(math.sqrt(chi2 * 5000 / z.size), rel=1e-12)


def test_result_is_frozen_and_tabulates_per_point(result):
    assert isinstance(result, KramersKronigResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.m = 3
    frame = result.to_frame()
    assert list(frame.columns) == ["frequency [Hz]", "Z_re [Ohm]", "Z_im [Ohm]",
                                   "Z_fit_re [Ohm]", "Z_fit_im [Ohm]", "residual_re [%]",
                                   "residual_im [%]"]
    assert len(frame) == F.size
    np.testing.assert_allclose(frame["residual_im [%]"], 100 * result.residual_imag)


def test_result_is_strict_json_with_complex_arrays_split(result):
    data = json.loads(result.to_json())
    assert len(data["impedance_fit"]["real"]) == F.size
    assert data["valid"] is True and data["m"] == result.m
    keys = [c["key"] for c in data["provenance"]["citations"]]
    assert "schoenleber2014" in keys and "boukamp1995" in keys
    assert data["provenance"]["settings"]["fit_type"] == "complex"


def test_report_says_the_verdict_m_and_mu(result):
    text = result.report()
    assert "valid: rms residual" in text and f"M = {result.m}" in text and "μ" in text
    assert "Schönleber" in text


# --- bad input ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clean():
    return simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, F)


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"c": 0}, "c"), ({"c": 1}, "c"), ({"c": 1.5}, "c"), ({"c": "x"}, "c"),
    ({"max_m": 0}, "max_m"), ({"max_m": 2.5}, "max_m"), ({"max_m": 10**6}, "max_m"),
    ({"fit_type": "both"}, "fit_type"), ({"m": 0}, "m"), ({"rms_limit": 0}, "rms_limit"),
    ({"add_capacitance": "yes"}, "add_capacitance"),
])
def test_bad_options_name_the_argument(clean, kwargs, argument):
    with pytest.raises(InputError) as info:
        linkk(clean, **kwargs)
    assert info.value.source == argument


def test_a_spectrum_is_required():
    with pytest.raises(InputError, match="spectrum: must be a Spectrum"):
        linkk(np.ones(5))


def test_too_few_points_in_use_are_refused():
    two = Spectrum([1e3, 1.0], [10 - 1j, 20 - 5j], source="two.csv")
    with pytest.raises(InputError, match=r"two.csv: lin-KK needs at least 3 points"):
        linkk(two)
    three = Spectrum([1e3, 10.0, 1.0], [10 - 1j, 15 - 4j, 20 - 5j])
    with pytest.raises(InputError, match="at least 4 points"):
        linkk(three, add_capacitance=True)
    hidden = Spectrum(F, simulate_spectrum(TWO_ARCS, TWO_ARC_PARAMS, F).impedance,
                      mask=np.zeros(F.size, bool))
    with pytest.raises(InputError, match="got 0"):
        linkk(hidden)


def test_zero_impedance_is_refused():
    with pytest.raises(InputError, match=r"\|Z\| is 0 at 10 Hz"):
        linkk(Spectrum([1e3, 100.0, 10.0, 1.0], [10 - 1j, 12 - 3j, 0j, 20 - 5j]))
