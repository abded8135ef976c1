"""DRT: DRTtools' tutorial result, unit independence, known synthetic truth, λ selection."""

from __future__ import annotations

import importlib
import json
import math

import numpy as np
import pandas as pd
import pytest

from ssbkit.core.errors import InputError
from ssbkit.eis import Spectrum, simulate_spectrum
from ssbkit.eis.drt import LAMBDA_METHODS, deconvolve_peaks, drt, drt_batch
from ssbkit.testing import shared_data

# ``ssbkit.eis.drt`` is the function; the module holds the internals some tests check
drt_module = importlib.import_module("ssbkit.eis.drt")

F = np.logspace(6, -2, 81)


def zarc(i: int, r: float, tau0: float, phi: float) -> dict[str, float]:
    """R‖CPE written with τ₀ and φ: Q = τ₀^φ / R, n = φ."""
    return {f"R{i}": r, f"CPE{i}_0": tau0**phi / r, f"CPE{i}_1": phi}


def zarc_drt(tau, r, tau0, phi):
    """The analytic DRT of a ZARC [Ohm]."""
    x = np.log(tau / tau0)
    return r / (2 * np.pi) * np.sin((1 - phi) * np.pi) / (np.cosh(phi * x) - np.cos((1 - phi) * np.pi))


def csv_spectrum(*parts: str) -> Spectrum:
    data = np.loadtxt(shared_data("eis", *parts), delimiter=",")
    return Spectrum(data[:, 0], data[:, 1] + 1j * data[:, 2], source=parts[-1])


@pytest.fixture(scope="module")
def tutorial():
    frame = pd.read_csv(shared_data("eis", "pyDRTtools", "tutorial_data", "1ZARC.csv"))
    return Spectrum(frame["Freq"].to_numpy(), (frame["Real"] + 1j * frame["Imag"]).to_numpy(),
                    source="1ZARC.csv")


TUTORIAL = {"order": 2, "tau": np.logspace(-6, 2, 81), "rbf": "gaussian", "fwhm_coeff": 0.5,
            "inductance": "fit"}


# --- real files: DRTtools' tutorial ------------------------------------------------------


def test_tutorial_result_is_reproduced(tutorial):
    result = drt(tutorial, lam=3.287e-3, **TUTORIAL)
    shipped = pd.read_csv(shared_data("eis", "pyDRTtools", "tutorial_results", "1ZARC_DRT-RR.csv"))
    x_ref = shipped.iloc[:, 0].to_numpy()
    # the tutorial saved the RBF coefficients on τ = logspace(−6, 2, 81)
    assert np.abs(result.coefficients - x_ref).max() <= 0.01 * x_ref.max()
    assert result.coefficients.max() == pytest.approx(9.966, abs=0.01)
    assert result.tau[np.argmax(result.coefficients)] == pytest.approx(0.1, rel=1e-9)
    assert result.R_inf == pytest.approx(10.07, abs=0.01)
    # and the impedance it regressed (with the fitted L₀: Z'' > 0 at 1 MHz)
    z_ref = pd.read_csv(shared_data("eis", "pyDRTtools", "tutorial_results", "1ZARC_Z-RR.csv"))
    order = np.argsort(z_ref["Freq"].to_numpy())[::-1]
    ours = dict(zip(np.round(result.frequency, 6), result.impedance_fit, strict=True))
    expected = (z_ref["Real"] + 1j * z_ref["Imag"]).to_numpy()[order]
    got = np.array([ours[round(f, 6)] for f in z_ref["Freq"].to_numpy()[order]])
    assert np.abs(got - expected).max() < 1e-3 * np.abs(expected).max()


def test_gcv_on_the_tutorial_picks_its_lambda(tutorial):
    result = drt(tutorial, lam="gcv", **TUTORIAL)
    assert result.lam == pytest.approx(3.287e-3, rel=0.02)
    assert result.lambda_method == "gcv"
    assert result.message == ""


def test_gcv_score_equals_the_direct_formula(tutorial):
    """The eigen-decomposition shortcut against K = A (AᵀA + λM)⁻¹ Aᵀ built explicitly."""
    result = drt(tutorial, lam=1e-3, **TUTORIAL)
    problem = drt_module._problem(result.basis, "combined", "fit")
    z = tutorial.impedance[np.argsort(tutorial.frequency)[::-1]]
    rhs = problem.stack(z / np.sqrt(np.mean(np.abs(z) ** 2)))[None, :]
    q, outside = drt_module._ridge_terms(problem, rhs)
    a, m = problem.design, problem.penalty
    n = a.shape[0]
    for lam in (1e-6, 3.287e-3, 0.3):
        k = a @ np.linalg.solve(a.T @ a + lam * m, a.T)
        r = rhs[0] - k @ rhs[0]
        direct = (r @ r / n) / (np.trace(np.eye(n) - k) / n) ** 2
        fast = drt_module._scores(problem, q, outside, np.array([lam]), "gcv")[0, 0]
        assert fast == pytest.approx(direct, rel=1e-7)


def test_same_spectrum_in_ohm_and_milliohm(tmp_path):
    spectrum = csv_spectrum("pyDRTtools", "data_1.csv")  # |Z| ≈ 0.1 Ohm
    milli = Spectrum(spectrum.frequency, spectrum.impedance * 1000)
    for method in LAMBDA_METHODS:
        ohm, mohm = drt(spectrum, lam=method), drt(milli, lam=method)
        assert mohm.lam == pytest.approx(ohm.lam, rel=1e-6), method
        assert np.abs(mohm.gamma - 1000 * ohm.gamma).max() <= 1e-6 * 1000 * ohm.gamma.max(), method
        assert mohm.R_pol == pytest.approx(1000 * ohm.R_pol, rel=1e-6)


def test_lambda_at_the_end_of_the_range_is_reported():
    # data_1 is a low-noise Li-ion spectrum: its GCV score keeps falling below λ = 1e−7
    result = drt(csv_spectrum("pyDRTtools", "data_1.csv"), lam="gcv")
    assert result.lam == pytest.approx(1e-7, rel=0.02)
    assert "end of the search range" in result.message


def test_drttools_sample_zarc():
    result = drt(csv_spectrum("DRTtools", "data_ZARC.csv"), lam="gcv")
    # synthetic ZARC: R∞ ≈ 10 Ohm, R ≈ 50 Ohm
    assert result.R_inf == pytest.approx(10, abs=0.3)
    assert result.R_pol == pytest.approx(50, rel=0.02)
    main = max(result.peaks, key=lambda p: p.resistance)
    assert main.resistance > 0.85 * result.R_pol


# --- synthetic truth -----------------------------------------------------------------------


def test_single_zarc_matches_its_analytic_drt():
    params = {"R0": 10, **zarc(1, 50, 1e-2, 0.8)}
    s = simulate_spectrum("R0-p(R1,CPE1)", params, F)
    result = drt(s, lam=1e-7)
    truth = zarc_drt(result.tau_fine, 50, 1e-2, 0.8)
    inside = (result.tau_fine > 1e-5) & (result.tau_fine < 10)
    assert np.abs(result.gamma_fine - truth)[inside].max() < 0.03 * truth.max()
    assert result.R_inf == pytest.approx(10, abs=0.05)
    assert result.R_pol == pytest.approx(50, rel=0.005)
    assert len(result.peaks) == 1
    assert math.log10(result.peaks[0].tau) == pytest.approx(-2, abs=0.05)
    assert result.peaks[0].resistance == pytest.approx(50, rel=0.01)


def test_single_debye_element_is_one_narrow_peak():
    s = simulate_spectrum("R0-p(R1,C1)", {"R0": 5, "R1": 100, "C1": 1e-5}, F)  # τ = 1 ms
    result = drt(s, lam=1e-5)
    assert len(result.peaks) == 1
    assert math.log10(result.peaks[0].tau) == pytest.approx(-3, abs=0.05)
    assert result.peaks[0].resistance == pytest.approx(100, rel=0.01)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_zarcs_a_decade_apart_are_resolved(seed):
    params = {"R0": 10, **zarc(1, 30, 1e-3, 0.9), **zarc(2, 20, 1e-2, 0.9)}
    s = simulate_spectrum("R0-p(R1,CPE1)-p(R2,CPE2)", params, F, noise=0.001,
                          rng=np.random.default_rng(seed))
    # a fixed λ: GCV sometimes under-smooths spectra this clean (seed 3 splits the slow arc)
    result = drt(s, lam=1e-4)
    big = sorted(sorted(result.peaks, key=lambda p: -p.resistance)[:2], key=lambda p: p.tau)
    assert [math.log10(p.tau) for p in big] == pytest.approx([-3, -2], abs=0.1)
    assert [p.resistance for p in big] == pytest.approx([30, 20], rel=0.08)
    assert result.R_pol == pytest.approx(50, rel=0.01)
    assert sum(p.resistance for p in result.peaks) == pytest.approx(result.R_pol, rel=0.01)
    # Gaussian deconvolution finds the same two processes
    fitted = sorted(deconvolve_peaks(result, n_peaks=2), key=lambda p: p.tau)
    assert [math.log10(p.tau) for p in fitted] == pytest.approx([-3, -2], abs=0.1)
    assert sum(p.resistance for p in fitted) == pytest.approx(50, rel=0.05)


def test_negative_control_a_resistor_has_no_polarisation():
    s = simulate_spectrum("R0", {"R0": 20}, F, noise=0.002, rng=np.random.default_rng(4))
    result = drt(s, lam="gcv")
    assert result.R_inf == pytest.approx(20, rel=0.005)
    assert result.R_pol < 0.01 * 20
    assert all(p.resistance < 0.005 * 20 for p in result.peaks)


def test_negative_control_broad_arcs_a_decade_apart_merge():
    # φ = 0.5 arcs are each 4 decades wide: one decade apart they cannot be told apart
    params = {"R0": 10, **zarc(1, 30, 1e-3, 0.5), **zarc(2, 20, 1e-2, 0.5)}
    s = simulate_spectrum("R0-p(R1,CPE1)-p(R2,CPE2)", params, F, noise=0.001,
                          rng=np.random.default_rng(5))
    result = drt(s, lam="mgcv")  # GCV picks λ ≈ 8e-6 here and the noise splits the arc
    main = max(result.peaks, key=lambda p: p.resistance)
    assert main.resistance > 0.9 * result.R_pol


def test_inductance_fitted_discarded_or_ignored():
    f = np.logspace(6, -1, 71)
    params = {"L0": 2e-6, "R0": 10, **zarc(1, 40, 1e-3, 0.85)}
    s = simulate_spectrum("L0-R0-p(R1,CPE1)", params, f, noise=0.001, rng=np.random.default_rng(6))
    fitted = drt(s, lam="gcv", inductance="fit")
    assert fitted.L0 == pytest.approx(2e-6, rel=0.03)
    assert fitted.R_pol == pytest.approx(40, rel=0.02)
    discarded = drt(s, lam="gcv", inductance="discard")
    assert (discarded.impedance.imag <= 0).all()
    assert discarded.frequency.size < f.size
    assert discarded.L0 == 0
    ignored = drt(s, lam="gcv", inductance="none")
    assert ignored.residual_rms > 5 * fitted.residual_rms


@pytest.mark.parametrize("data", ["re", "im"])
def test_one_part_of_the_data(data):
    params = {"R0": 10, **zarc(1, 30, 1e-3, 0.9), **zarc(2, 20, 1e-2, 0.9)}
    s = simulate_spectrum("R0-p(R1,CPE1)-p(R2,CPE2)", params, F, noise=0.001,
                          rng=np.random.default_rng(7))
    result = drt(s, lam="gcv", data=data)
    assert result.R_pol == pytest.approx(50, rel=0.03)
    assert result.R_inf == pytest.approx(10, abs=0.3)


@pytest.mark.parametrize("method", LAMBDA_METHODS)
def test_every_lambda_method_gives_a_sound_drt(method):
    params = {"R0": 10, **zarc(1, 30, 1e-3, 0.85), **zarc(2, 20, 1e-1, 0.85)}
    s = simulate_spectrum("R0-p(R1,CPE1)-p(R2,CPE2)", params, F, noise=0.005,
                          rng=np.random.default_rng(8))
    result = drt(s, lam=method)
    assert 1e-7 <= result.lam <= 1
    assert result.R_pol == pytest.approx(50, rel=0.03), result.lam
    big = sorted(sorted(result.peaks, key=lambda p: -p.resistance)[:2], key=lambda p: p.tau)
    assert [math.log10(p.tau) for p in big] == pytest.approx([-3, -1], abs=0.15)


def test_batch_equals_one_at_a_time_and_groups_grids():
    rng = np.random.default_rng(9)
    spectra = [simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, r, 1e-3, 0.9)}, F,
                                 noise=0.002, rng=rng) for r in (10, 20, 40)]
    other = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 25, 1e-3, 0.9)},
                              np.logspace(5, -1, 49), noise=0.002, rng=rng)
    batch = drt_batch([spectra[0], other, spectra[1], spectra[2]], lam="gcv")
    singles = [drt(s, lam="gcv") for s in (spectra[0], other, spectra[1], spectra[2])]
    for b, s in zip(batch, singles, strict=True):
        assert b.lam == pytest.approx(s.lam, rel=1e-9)
        assert np.allclose(b.gamma, s.gamma, rtol=0, atol=1e-9 * s.gamma.max())
    assert [round(b.R_pol) for b in batch] == [10, 25, 20, 40]


def test_without_the_constraint_the_ridge_solution():
    s = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 50, 1e-2, 0.8)}, F, noise=0.003,
                          rng=np.random.default_rng(10))
    result = drt(s, lam=1e-3, nonneg=False)
    problem = drt_module._problem(result.basis, "combined", "fit")
    z = result.impedance
    norm = np.sqrt(np.mean(np.abs(z) ** 2))
    a, m = problem.design, problem.penalty
    x = np.linalg.solve(a.T @ a + 1e-3 * m, a.T @ problem.stack(z / norm)) / problem.scale * norm
    assert np.allclose(result.coefficients, x[problem.offset:], atol=1e-8 * np.abs(x).max())
    assert result.coefficients.min() < 0  # the ridge alone overshoots below zero


def test_json_has_what_the_cli_promises():
    s = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 50, 1e-2, 0.8)}, F)
    data = json.loads(drt(s, lam=1e-4).to_json())
    for key in ("tau", "gamma", "lambda", "R_inf", "L0", "R_pol", "peaks"):
        assert key in data
    assert len(data["tau"]) == len(data["gamma"]) == 81
    assert set(data["peaks"][0]) >= {"tau", "gamma", "resistance"}


def test_bad_input():
    s = simulate_spectrum("R0-p(R1,C1)", {"R0": 10, "R1": 50, "C1": 1e-6}, F)
    with pytest.raises(InputError, match="λ must be > 0"):
        drt(s, lam=-1)
    with pytest.raises(InputError, match="lam"):
        drt(s, lam="best")
    with pytest.raises(InputError, match="τ grid"):
        drt(s, tau=[1e-3, 1e-2])
    with pytest.raises(InputError, match="order"):
        drt(s, order=3)
    with pytest.raises(InputError, match="inductance"):
        drt(s, inductance="subtract")
    with pytest.raises(InputError, match="at least 5 points"):
        drt(Spectrum(F[:4], s.impedance[:4]))
    with pytest.raises(InputError, match="zero everywhere"):
        drt(Spectrum(F, np.zeros(F.size, complex)))
    with pytest.raises(InputError, match="not a Spectrum"):
        drt_batch([s, "file.csv"])
    with pytest.raises(InputError, match="no spectra"):
        drt_batch([])
    # all points inductive: nothing left to discard down to
    with pytest.raises(InputError, match="points"):
        drt(Spectrum(F, 1 + 1j * F * 1e-6), inductance="discard")


def test_active_set_solutions_are_the_nnls_optimum():
    """The warm-started active-set path against SciPy's Lawson–Hanson NNLS on the same problem."""
    from scipy.optimize import nnls

    rng = np.random.default_rng(11)
    spectra = [simulate_spectrum("R0-p(R1,CPE1)-p(R2,CPE2)",
                                 {"R0": 10, **zarc(1, r1, 1e-4, 0.8), **zarc(2, r2, 1e-1, 0.7)}, F,
                                 noise=0.01, rng=rng)
               for r1, r2 in [(5, 50), (50, 5), (20, 20), (1, 80), (80, 1)]]
    for lam in (1e-6, 1e-3):
        results = drt_batch(spectra, lam=lam)
        problem = drt_module._problem(results[0].basis, "combined", "fit")
        a, m = problem.design, problem.penalty
        for r in results:
            z = r.impedance
            norm = np.sqrt(np.mean(np.abs(z) ** 2))
            rhs = problem.stack(z / norm)
            ref = nnls(np.vstack([a, np.sqrt(lam) * np.linalg.cholesky(m + 1e-12 * np.eye(m.shape[0])).T]),
                       np.concatenate([rhs, np.zeros(m.shape[0])]), maxiter=10000)[0]
            ref = ref / problem.scale * norm
            assert np.abs(r.coefficients - ref[problem.offset:]).max() <= 1e-6 * np.abs(ref).max()


def test_a_large_batch_is_solved_in_chunks_with_the_same_result():
    rng = np.random.default_rng(12)
    base = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 30, 1e-3, 0.9)}, F)
    spectra = [Spectrum(F, base.impedance * (1 + 0.002 * rng.standard_normal(F.size)))
               for _ in range(600)]
    batch = drt_batch(spectra, lam="gcv")
    for i in (0, 299, 599):
        single = drt(spectra[i], lam="gcv")
        assert batch[i].lam == pytest.approx(single.lam, rel=1e-9)
        assert batch[i].R_pol == pytest.approx(single.R_pol, rel=1e-9)


def test_r_inf_can_be_left_out():
    s = simulate_spectrum("p(R1,CPE1)", zarc(1, 50, 1e-2, 0.8), F)
    result = drt(s, lam=1e-6, fit_r_inf=False)
    assert result.R_inf == 0
    assert result.R_pol == pytest.approx(50, rel=0.005)
    with_r0 = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 50, 1e-2, 0.8)}, F)
    shifted = drt(with_r0, lam=1e-6, fit_r_inf=False)
    # negative control: the 10 Ohm now has to come from the fastest basis functions
    assert shifted.residual_rms > 10 * drt(with_r0, lam=1e-6).residual_rms


def test_lambda_given_as_text():
    s = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 50, 1e-2, 0.8)}, F)
    assert drt(s, lam="1e-3").lam == 1e-3
    assert drt(s, lam="L-curve").lambda_method == "lcurve"
    with pytest.raises(InputError, match="λ must be > 0"):
        drt(s, lam="-1")
    assert drt(s).lambda_method == "mgcv"  # the default


def test_a_blocking_electrode_spike_is_flagged():
    # R0 + CPE: no finite DC resistance, which a DRT cannot describe
    s = simulate_spectrum("R0-CPE1", {"R0": 20, "CPE1_0": 1e-6, "CPE1_1": 0.85}, F)
    result = drt(s, lam=1e-3)
    assert result.residual_rms > 0.05
    assert "unexplained" in result.message
    # negative control: an arc with a DC limit is not flagged
    assert "unexplained" not in drt(simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 50, 1e-2, 0.8)},
                                                      F), lam=1e-3).message


def test_wide_basis_functions_and_dense_grids_still_solve():
    spectrum = csv_spectrum("pyDRTtools", "data_1.csv")
    reference = drt(spectrum, lam=1e-3)
    # AᵀA + λM is singular to working precision for these two; both must still describe the data
    # (R_pol itself differs by up to 35 %: the cell's diffusion tail runs past the lowest frequency)
    for options in ({"fwhm_coeff": 0.2}, {"tau": np.logspace(-6, 3, 400)}):
        result = drt(spectrum, lam=1e-3, **options)
        assert result.residual_rms < 2 * reference.residual_rms
        assert result.R_inf == pytest.approx(reference.R_inf, rel=0.02)
    with pytest.raises(InputError, match="at most 1000"):
        drt(spectrum, tau=np.logspace(-6, 3, 1001))


def test_the_matrix_cache_tells_grids_apart():
    f = np.logspace(5, -2, 71)
    s = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 50, 1e-2, 0.8)}, f)
    first = drt(s, lam=1e-3, tau=[0.1, 1, 10])
    # the same bytes split differently between the frequency and the τ arrays
    second = drt(Spectrum(f[:-1], s.impedance[:-1]), lam=1e-3, tau=[0.01, 0.1, 1, 10])
    assert first.tau.size == 3 and second.tau.size == 4


def test_no_distribution_no_peaks_and_extreme_magnitudes():
    f = np.logspace(5, -2, 71)
    flat = drt(Spectrum(f, np.full(71, 5 + 0j)))
    assert flat.peaks == ()
    assert flat.R_inf == pytest.approx(5, rel=1e-9)
    s = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, **zarc(1, 50, 1e-2, 0.8)}, f)
    ref = drt(s, lam=1e-3)
    for factor in (1e-170, 1e160):
        scaled = drt(Spectrum(f, s.impedance * factor), lam=1e-3)
        assert scaled.R_pol == pytest.approx(ref.R_pol * factor, rel=1e-9)


def test_options_are_checked_for_type():
    s = simulate_spectrum("R0-p(R1,C1)", {"R0": 10, "R1": 50, "C1": 1e-6}, F)
    with pytest.raises(InputError, match="use drt"):
        drt_batch(s)
    with pytest.raises(InputError, match="list of Spectrum"):
        drt_batch(None)
    with pytest.raises(InputError, match="nonneg"):
        drt(s, nonneg="no")
    with pytest.raises(InputError, match="fit_r_inf"):
        drt(s, fit_r_inf="no")
    with pytest.raises(InputError, match="order"):
        drt(s, order=True)
