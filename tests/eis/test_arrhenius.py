"""Arrhenius fits (ssbkit.eis.arrhenius).

Truth: exact Arrhenius data (Ea back to rounding), the identity between the two forms
(their Ea differ by k_B times the least-squares slope of ln T against 1/T, ≈ k_B·T̄), seeded
synthetic data with known Ea (recovered, and its standard error right in repeated draws), a
negative control, and the EISFitpython series: the authors' Arrhenius report, reproduced from
their fitted resistances to the digits it prints.
"""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from ssbkit import InputError
from ssbkit.core.results import Estimate
from ssbkit.core.units import BOLTZMANN_EV
from ssbkit.eis.arrhenius import arrhenius, arrhenius_from_conductivities
from ssbkit.eis.conductivity import PelletGeometry, conductivity_from_fit, ionic_conductivity
from ssbkit.testing import assert_single_json_document, shared_data

K_B = BOLTZMANN_EV  # eV/K; checked against CODATA below
T = np.array([253.15, 273.15, 298.15, 323.15, 353.15])


def sigma_t_form(t, ea, a):
    return a / t * np.exp(-ea / (K_B * t))


# -- closed form ---------------------------------------------------------------------------

def test_exact_sigma_t_data_give_ea_and_prefactor_back():
    r = arrhenius(T, sigma_t_form(T, 0.28, 2.5e5))
    assert r.activation_energy.value == pytest.approx(0.28, abs=1e-12)
    assert r.activation_energy.unit == "eV" and r.prefactor.unit == "S·K/cm"
    assert r.prefactor.value == pytest.approx(2.5e5, rel=1e-10)
    assert r.r_squared == pytest.approx(1.0, abs=1e-12)
    assert r.activation_energy.stderr < 1e-12
    assert r.reference_temperature_K == 298.15
    assert r.conductivity_at_reference.value == pytest.approx(float(sigma_t_form(298.15, 0.28, 2.5e5)),
                                                              rel=1e-10)
    assert r.predict([400.0])[0] == pytest.approx(float(sigma_t_form(400.0, 0.28, 2.5e5)), rel=1e-10)


def test_exact_sigma_data_in_the_sigma_form():
    sigma = 40.0 * np.exp(-0.35 / (K_B * T))
    r = arrhenius(T, sigma, form="sigma")
    assert r.activation_energy.value == pytest.approx(0.35, abs=1e-12)
    assert r.prefactor.value == pytest.approx(40.0, rel=1e-10) and r.prefactor.unit == "S/cm"


def test_the_two_forms_differ_by_kb_times_the_slope_of_ln_t():
    sigma = sigma_t_form(T, 0.30, 1e5)
    t_form = arrhenius(T, sigma, form="sigmaT").activation_energy.value
    s_form = arrhenius(T, sigma, form="sigma").activation_energy.value
    slope_ln_t = np.polyfit(1 / T, np.log(T), 1)[0]  # d ln T / d(1/T), about −T̄
    assert t_form - s_form == pytest.approx(-K_B * slope_ln_t, rel=1e-9)
    assert t_form - s_form == pytest.approx(K_B * T.mean(), rel=0.02)


def test_boltzmann_constant_is_codata():
    assert BOLTZMANN_EV == pytest.approx(8.617333262e-5, rel=1e-10)


def test_celsius_input():
    t_c = T - 273.15
    a = arrhenius(t_c, sigma_t_form(T, 0.28, 2.5e5), temperature_unit="°C")
    assert a.activation_energy.value == pytest.approx(0.28, abs=1e-10)
    with pytest.raises(InputError, match="look like °C"):
        arrhenius([25.0, 50.0, 80.0], [1e-3, 2e-3, 4e-3])


# -- synthetic data with noise -------------------------------------------------------------

def noisy(rng, ea=0.32, a=3e5, rel=0.03):
    sigma = sigma_t_form(T, ea, a)
    return sigma * (1 + rel * rng.standard_normal(T.size))


def recovers(result, ea):
    """The check a user would make: Ea within 3 standard errors, and a straight line."""
    return abs(result.activation_energy.value - ea) <= 3 * result.activation_energy.stderr \
        and result.r_squared > 0.99


def test_noisy_data_recover_ea():
    r = arrhenius(T, noisy(np.random.default_rng(3)))
    assert recovers(r, 0.32)


def test_the_stderr_and_the_interval_mean_what_they_say():
    from scipy import stats

    rng = np.random.default_rng(7)
    within, contains = 0, 0
    draws = 400
    truth_25 = float(sigma_t_form(298.15, 0.32, 3e5))
    for _ in range(draws):
        r = arrhenius(T, noisy(rng))
        within += abs(r.activation_energy.value - 0.32) <= r.activation_energy.stderr
        contains += r.interval_low <= truth_25 <= r.interval_high
    # With the residual variance estimated from 3 degrees of freedom, ±1 stderr holds
    # P(|t₃| ≤ 1) = 61 % of draws, and the t-based 95 % interval 95 % (binomial spread 2.4 %, 1.1 %).
    expected = 2 * stats.t.cdf(1.0, 3) - 1
    assert within / draws == pytest.approx(expected, abs=0.06)
    assert 0.92 <= contains / draws <= 0.98


def test_weighted_fit_with_absolute_errors():
    rng = np.random.default_rng(11)
    rel = np.array([0.01, 0.01, 0.02, 0.05, 0.10])
    estimates, errors = [], []
    for _ in range(300):
        sigma = sigma_t_form(T, 0.32, 3e5) * (1 + rel * rng.standard_normal(T.size))
        r = arrhenius(T, sigma, stderr=rel * sigma, absolute_sigma=True)
        estimates.append(r.activation_energy.value)
        errors.append(r.activation_energy.stderr)
    assert r.weighted and r.absolute_sigma
    assert np.mean(estimates) == pytest.approx(0.32, abs=3 * np.std(estimates) / math.sqrt(300))
    # the stated error is the spread of the estimates over repeated experiments
    assert np.median(errors) == pytest.approx(np.std(estimates), rel=0.15)


def test_negative_control_shuffled_temperatures_do_not_give_the_activation_energy():
    sigma = noisy(np.random.default_rng(3))  # the draw recovered above
    r = arrhenius(T[[2, 0, 4, 1, 3]], sigma)
    assert not recovers(r, 0.32)
    assert r.r_squared < 0.9


def test_two_temperatures_fit_exactly_without_errors():
    r = arrhenius([300.0, 350.0], sigma_t_form(np.array([300.0, 350.0]), 0.3, 1e4))
    assert r.activation_energy.value == pytest.approx(0.3, abs=1e-12)
    assert math.isnan(r.activation_energy.stderr) and "exactly" in r.message
    assert math.isnan(r.interval_low)


# -- results -------------------------------------------------------------------------------

def test_json_and_report_name_the_form():
    r = arrhenius(T, noisy(np.random.default_rng(0)), stderr=0.03 * sigma_t_form(T, 0.32, 3e5))
    data = assert_single_json_document(r.to_json())
    assert data["form"] == "sigmaT" and "σT" in data["equation"]
    assert data["activation_energy"]["unit"] == "eV"
    assert data["reference_temperature_K"] == 298.15
    text = r.report()
    assert "sigmaT" in text and "k_B·T̄" in text and "298.15 K" in text and "weighted" in text
    s = arrhenius(T, noisy(np.random.default_rng(0)), form="sigma")
    assert assert_single_json_document(s.to_json())["form"] == "sigma" and "σ0" in s.report()
    assert "activation_energy [eV]" in r.to_frame().columns


def test_conductivity_at_carries_an_error():
    r = arrhenius(T, noisy(np.random.default_rng(5)))
    e = r.conductivity_at(298.15)
    assert e.value == pytest.approx(r.conductivity_at_reference.value, rel=1e-12)
    assert e.stderr == pytest.approx(r.conductivity_at_reference.stderr, rel=1e-12)
    assert r.interval_low < e.value < r.interval_high


@pytest.mark.parametrize("kwargs, name", [
    (dict(temperature_K=[300, float("nan")], conductivity_S_cm=[1e-3, 2e-3]), "temperature_K"),
    (dict(temperature_K=[300, 320, 340], conductivity_S_cm=[1e-3, 2e-3]), "conductivity_S_cm"),
    (dict(temperature_K=[300], conductivity_S_cm=[1e-3]), "temperature_K"),
    (dict(temperature_K=[300, 300], conductivity_S_cm=[1e-3, 1e-3]), "temperature_K"),
    (dict(temperature_K=[300, 320], conductivity_S_cm=[1e-3, -2e-3]), "conductivity_S_cm"),
    (dict(temperature_K=[300, 320], conductivity_S_cm=[1e-3, 2e-3], stderr=[1e-5]), "stderr"),
    (dict(temperature_K=[300, 320], conductivity_S_cm=[1e-3, 2e-3], stderr=[0, 1e-5]), "stderr"),
    (dict(temperature_K=[300, 320], conductivity_S_cm=[1e-3, 2e-3], form="ln"), "form"),
    (dict(temperature_K=[300, 320], conductivity_S_cm=[1e-3, 2e-3], temperature_unit="mm"),
     "temperature_unit"),
    (dict(temperature_K=[-10, 320], conductivity_S_cm=[1e-3, 2e-3]), "temperature_K"),
])
def test_bad_input_names_the_argument(kwargs, name):
    with pytest.raises(InputError, match=name):
        arrhenius(**kwargs)


def test_from_conductivities_weights_when_every_error_is_known():
    g = PelletGeometry.from_diameter(10.0, 1.0)
    sigma = noisy(np.random.default_rng(2))
    resistance = 0.1 / (sigma * math.pi * 0.25)
    with_errors = [ionic_conductivity(Estimate(r, 0.03 * r, "Ohm"), g, temperature_K=t)
                   for r, t in zip(resistance, T, strict=True)]
    a = arrhenius_from_conductivities(with_errors)
    b = arrhenius(T, [c.conductivity.value for c in with_errors],
                  stderr=[c.conductivity.stderr for c in with_errors])
    assert a.weighted and a.activation_energy.value == pytest.approx(b.activation_energy.value, rel=1e-12)
    without = [ionic_conductivity(r, g, temperature_K=t) for r, t in zip(resistance, T, strict=True)]
    c = arrhenius_from_conductivities(without)
    assert not c.weighted and "unweighted" in c.message
    with pytest.raises(InputError, match="temperature_K"):
        arrhenius_from_conductivities([ionic_conductivity(10.0, g), ionic_conductivity(20.0, g)])
    with pytest.raises(InputError, match="at least 2"):
        arrhenius_from_conductivities(without[:1])


# -- the EISFitpython series ---------------------------------------------------------------

D_CM, L_CM = 0.8, 0.21
SECTIONS = {"bulk": "Bulk Analysis", "grain_boundary": "Gb Analysis", "total": "Total Analysis"}


def report(name):
    return shared_data("eis", "EISFitpython", "Example3_reference_outputs", name).read_text(encoding="utf-8")


def fitted_resistances():
    """{T [K]: (R1, R2)} from the authors' batch fit report."""
    pieces = re.split(r"Data_(\d+)K", report("Batch_EISfit_Report.txt"))[1:]
    out = {}
    for temperature, body in zip(pieces[::2], pieces[1::2], strict=True):
        r1 = float(re.search(r"^R1 =\s+(\S+)", body, re.M)[1])
        r2 = float(re.search(r"^R2 =\s+(\S+)", body, re.M)[1])
        out[float(temperature)] = (r1, r2)
    return out


def published(text, section):
    block = text.split(section, 1)[1].split("=====", 1)[0]
    ea, ea_se = re.search(r"\(EA\): (\S+) ± (\S+) eV", block).groups()
    a0, a0_factor = re.search(r"\(a0\): (\S+) ± (\S+) S·K/cm", block).groups()
    return dict(ea=float(ea), ea_se=float(ea_se), r2=float(re.search(r"R-squared: (\S+)", block)[1]),
                a0=float(a0), a0_factor=float(a0_factor),
                rt=float(re.search(r"\(σRT\): (\S+) S/cm", block)[1]))


@pytest.mark.shared_data
@pytest.mark.parametrize("process", ["bulk", "grain_boundary", "total"])
def test_the_authors_arrhenius_report_is_reproduced(process):
    expected = published(report("Arrhenius_Analysis_Report.txt"), SECTIONS[process])
    rs = fitted_resistances()
    t = np.array(sorted(rs))
    r = np.array([{"bulk": a, "grain_boundary": b, "total": a + b}[process] for a, b in
                  (rs[x] for x in t)])
    sigma = L_CM / (r * math.pi * D_CM**2 / 4)
    fit = arrhenius(t, sigma)  # unweighted, as theirs
    # Printed to 4 decimals; their inputs were unrounded, ours are R to 4 significant figures.
    assert fit.activation_energy.value == pytest.approx(expected["ea"], abs=1e-4)
    assert fit.activation_energy.stderr == pytest.approx(expected["ea_se"], abs=1e-4)
    assert fit.r_squared == pytest.approx(expected["r2"], abs=1e-4)
    # The intercept at 1/T = 0 is an extrapolation: the rounding of R moves it by ≈ 0.2 %.
    assert fit.prefactor.value == pytest.approx(expected["a0"], rel=3e-3)
    assert math.exp(fit.ln_prefactor.stderr) == pytest.approx(expected["a0_factor"], rel=1e-3)
    # Their "RT" is 298 K (their °C→K offset is 273), not the 298.15 K we report.
    assert fit.conductivity_at(298.0).value == pytest.approx(expected["rt"], rel=3e-3)


@pytest.mark.shared_data
def test_sigma_form_of_the_bulk_is_lower_by_kb_t():
    rs = fitted_resistances()
    t = np.array(sorted(rs))
    sigma = L_CM / (np.array([rs[x][0] for x in t]) * math.pi * D_CM**2 / 4)
    assert arrhenius(t, sigma, form="sigma").activation_energy.value == pytest.approx(0.5488, abs=1e-4)


@pytest.mark.shared_data
def test_the_whole_chain_from_fitted_circuits():
    """Hand-built fit results → conductivity_from_fit → arrhenius_from_conductivities."""
    rs = fitted_resistances()
    text = report("Batch_EISfit_Report.txt")
    pieces = re.split(r"Data_(\d+)K", text)[1:]
    names = ("R1", "CPE1_0", "CPE1_1", "R2", "CPE2_0", "CPE2_1", "CPE3_0", "CPE3_1")
    fits = []
    for temperature, body in zip(pieces[::2], pieces[1::2], strict=True):
        rows = re.findall(r"^\s*[RQn]\d =\s+(\S+)\s+(\S+)", body, flags=re.M)[:8]
        fits.append(SimpleNamespace(
            parameters={n: Estimate(float(v), float(s)) for n, (v, s) in zip(names, rows, strict=True)},
            circuit="p(R1,CPE1)-p(R2,CPE2)-CPE3", success=True,
            metadata={"temperature_K": float(temperature)}))
    assert len(fits) == len(rs) == 7
    g = PelletGeometry.from_diameter(8.0, 2.1)
    for process in SECTIONS:
        expected = published(report("Arrhenius_Analysis_Report.txt"), SECTIONS[process])
        results = [conductivity_from_fit(f, g, process=process) for f in fits]
        fit = arrhenius_from_conductivities(results, weighted=False)
        assert fit.activation_energy.value == pytest.approx(expected["ea"], abs=1e-4)
        # weighting by the fits' errors is a different (defensible) estimate: not theirs
        weighted = arrhenius_from_conductivities(results)
        assert weighted.weighted
        assert abs(weighted.activation_energy.value - expected["ea"]) > 1e-4


@pytest.mark.shared_data
def test_the_global_fit_series_in_celsius():
    """The authors' second report (one global fit, R per temperature in °C): their °C→K offset
    is 273, and their R are printed to 4 figures, so agreement is to about 2e-4 eV."""
    text = report("Example4_Single-chi_Report.txt")
    expected = report("Example4_Arrhenius_Analysis_Report.txt")

    def series(name):
        rows = re.findall(name + r"_(\d+)°C =\s+(\S+)", text)
        return np.array([float(c) for c, _ in rows]), np.array([float(v) for _, v in rows])

    t_c, r1 = series("R1")
    _, r2 = series("R2")
    for r, section in ((r1, "Bulk Analysis"), (r2, "Gb Analysis"), (r1 + r2, "Total Analysis")):
        sigma = L_CM / (r * math.pi * D_CM**2 / 4)
        theirs = published(expected, section)
        ours = arrhenius(t_c - 0.15, sigma, temperature_unit="°C")  # their 273 K offset
        assert ours.activation_energy.value == pytest.approx(theirs["ea"], abs=2e-4)
        assert ours.activation_energy.stderr == pytest.approx(theirs["ea_se"], abs=1e-4)


def test_a_table_in_degrees_celsius_and_ms_per_cm_gives_the_activation_energy(tmp_path):
    from ssbkit.eis.arrhenius import arrhenius_from_table

    kelvin = np.array([253.15, 273.15, 298.15, 323.15, 353.15])
    sigma_s_cm = 1e4 / kelvin * np.exp(-0.28 / (8.617333262e-5 * kelvin))
    table = tmp_path / "sigma.csv"
    np.savetxt(table, np.column_stack([kelvin - 273.15, 1e3 * sigma_s_cm]), delimiter=",",
               header="temperature [°C],conductivity [mS/cm]", comments="", encoding="utf-8")
    result = arrhenius_from_table(table)
    assert result.activation_energy.value == pytest.approx(0.28, rel=1e-9)


def test_a_table_without_a_conductivity_column_is_refused_naming_its_columns(tmp_path):
    from ssbkit.eis.arrhenius import arrhenius_from_table

    table = tmp_path / "sigma.csv"
    table.write_text("temperature [K],resistance [Ohm]\n300,10\n320,8\n")
    with pytest.raises(InputError, match="conductivity.*'resistance \\[Ohm\\]'"):
        arrhenius_from_table(table)


# -- regressions ---------------------------------------------------------------------------

def test_a_noise_free_point_does_not_overflow_or_tilt_the_weighted_line():
    """Regression: a resistor spectrum fitted to 1e-16 gave one σ a weight 1e32 times the others'
    and math.exp overflowed (the study's series with a 10 Ohm resistor at 25 °C)."""
    t = [253.15, 273.15, 298.15, 323.15, 353.15]
    sigma = [0.0022565275331340832, 0.005358698068634203, 0.010313240312354817, 0.02850615242846837,
             0.0611813441585454]
    err = [1.9782430044243806e-06, 3.753811780267806e-06, 1.6793911850190606e-19, 1.947999692511677e-05,
           5.2108083352252715e-05]
    r = arrhenius(t, sigma, stderr=err)
    assert r.success and "floor" in r.message
    assert 0.2 < r.activation_energy.value < 0.35 and math.isfinite(r.prefactor.value)
    # With one weight overwhelming, the line goes through that point and the others set the slope:
    # the weighted least-squares slope about the fixed point, in closed form.
    x, y, w = 1 / np.array(t), np.log(np.array(sigma) * t), (np.array(sigma) / np.array(err)) ** 2
    others = np.arange(5) != 2
    dx, dy = x[others] - x[2], y[others] - y[2]
    slope = np.sum(w[others] * dx * dy) / np.sum(w[others] * dx**2)
    assert r.activation_energy.value == pytest.approx(-slope * K_B, rel=1e-6)


def test_exact_data_with_one_exact_error_give_ea_back_to_rounding():
    """Regression: Σw·(1/T − x̄)·y lost the slope to rounding once one weight dwarfed the rest
    (0.3179 eV instead of 0.32)."""
    sigma = sigma_t_form(T, 0.32, 3e5)
    err = 0.03 * sigma
    err[2] = 1e-17 * sigma[2]
    assert arrhenius(T, sigma, stderr=err).activation_energy.value == pytest.approx(0.32, abs=1e-9)


def test_a_line_too_steep_for_floats_is_a_failed_result_not_an_exception(tmp_path):
    """Regression: exp(ln A) raised OverflowError (an 'internal error' on the command line)."""
    from click.testing import CliRunner

    from ssbkit.cli.main import cli

    r = arrhenius([300.0, 300.0000001], [1e-3, 1e-2])
    assert not r.success and "no usable Arrhenius line" in r.message
    assert assert_single_json_document(r.to_json())["prefactor"]["value"] is None
    table = tmp_path / "steep.csv"
    table.write_text("temperature [K],conductivity [S/cm]\n300,1e-3\n300.0000001,1e-2\n")
    out = CliRunner().invoke(cli, ["eis", "arrhenius", "--table", str(table), "--json"], prog_name="ssbkit")
    assert out.exit_code in (0, 1) and "internal error" not in out.output
    assert assert_single_json_document(out.stdout)["success"] is False
    # negative control: a sane line through the same two temperatures' neighbourhood succeeds
    assert arrhenius([300.0, 320.0], [1e-3, 2e-3]).success


def test_an_exact_conductivity_keeps_the_others_weighted():
    """A zero standard error (an exact σ) is raised to the floor instead of unweighting the fit."""
    g = PelletGeometry.from_diameter(10.0, 1.0)
    sigma = noisy(np.random.default_rng(4))
    resistance = 0.1 / (sigma * math.pi * 0.25)
    results = [ionic_conductivity(Estimate(r, 0.03 * r, "Ohm"), g, temperature_K=t)
               for r, t in zip(resistance, T, strict=True)]
    results[1] = ionic_conductivity(Estimate(resistance[1], 0.0, "Ohm"), g, temperature_K=T[1])
    fit = arrhenius_from_conductivities(results)
    assert fit.weighted and fit.success and "raised" in fit.message
    assert fit.conductivity_stderr[1] == pytest.approx(1e-9 * fit.conductivity[1])
