"""Multi-site exchange (ssbkit.nmr.exchange).

Truth: the two-site closed form A_AB(t) = p_A p_B (1 − e^(−(k_AB + k_BA)t)) e^(−R1 t), and
scipy's expm of −Lt (the model itself goes through a symmetric eigendecomposition);
conservation and detailed balance; the matrix-log inversion of noiseless volumes (with
site-specific T1) gives the rates back exactly; a seeded three-site series (7 mixing times,
0.5 % noise) gives every rate within 10 %; negative controls: wrong populations and a
two-site model of three-site data are flagged by the χ² test, a complex logarithm is not a
success. The reader's refusals each name what is wrong.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.linalg import expm

from ssbkit import InputError
from ssbkit.nmr.exchange import (
    exchange_matrix_inversion,
    exchange_volumes,
    fit_exchange,
    kinetic_matrix,
    rate_constants,
    read_exchange_table,
)
from ssbkit.nmr.simulate import simulate_exchange
from ssbkit.testing import assert_single_json_document

SITES = ["Li2S", "LPSC", "LiI"]
POPULATIONS = {"Li2S": 0.3, "LPSC": 0.5, "LiI": 0.2}
RATES = {("Li2S", "LPSC"): 1.0, ("Li2S", "LiI"): 3.0, ("LPSC", "LiI"): 0.5}
MIXING = [0.01, 0.03, 0.1, 0.3, 0.6, 1.0, 2.0]


# -- the model ---------------------------------------------------------------------------------------

def test_two_sites_follow_the_closed_form_with_equal_t1():
    pa, pb, kab, t1 = 0.3, 0.7, 2.0, 5.0
    kba = pa * kab / pb
    t = np.array([0.0, 0.05, 0.2, 1.0, 4.0])
    v = exchange_volumes(t, populations={"A": pa, "B": pb}, rates={("A", "B"): kab}, T1_s=t1, total=2.0)
    decay, relax = np.exp(-(kab + kba) * t), np.exp(-t / t1)
    np.testing.assert_allclose(v[:, 0, 1], 2.0 * pa * pb * (1 - decay) * relax, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(v[:, 1, 0], v[:, 0, 1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(v[:, 0, 0], 2.0 * pa * (pa + pb * decay) * relax, rtol=1e-12)
    np.testing.assert_allclose(v[:, 1, 1], 2.0 * pb * (pb + pa * decay) * relax, rtol=1e-12)


def test_three_sites_agree_with_scipy_expm_with_site_specific_t1():
    p = np.array([POPULATIONS[s] for s in SITES])
    k = rate_constants(RATES, SITES, p)
    r1 = np.array([1 / 20, 1 / 10, 1 / 5])
    L = kinetic_matrix(k, r1)
    v = exchange_volumes(MIXING, populations=POPULATIONS, rates=RATES, T1_s=[20, 10, 5], total=3.0)
    for t, vt in zip(MIXING, v, strict=True):
        np.testing.assert_allclose(vt, (expm(-L * t) * (3.0 * p)[None, :]).T, rtol=1e-11, atol=1e-15)


def test_kinetic_matrix_columns_sum_to_r1_and_detailed_balance_holds():
    p = np.array([POPULATIONS[s] for s in SITES])
    k = rate_constants(RATES, SITES, p)
    flux = p[:, None] * k
    np.testing.assert_allclose(flux, flux.T, rtol=1e-14)
    np.testing.assert_allclose(kinetic_matrix(k, [0.1, 0.2, 0.3]).sum(axis=0), [0.1, 0.2, 0.3], atol=1e-14)
    # given in both directions: accepted when consistent, refused when not
    both = {("Li2S", "LiI"): 3.0, ("LiI", "Li2S"): 3.0 * 0.3 / 0.2}
    assert rate_constants(both, SITES, p)[2, 0] == pytest.approx(4.5)
    with pytest.raises(InputError, match="detailed balance"):
        rate_constants({("Li2S", "LiI"): 3.0, ("LiI", "Li2S"): 3.0}, SITES, p)


def test_without_relaxation_the_volumes_are_conserved_and_symmetric():
    v = exchange_volumes(MIXING, populations=POPULATIONS, rates=RATES, total=1.0)
    np.testing.assert_allclose(v.sum(axis=(1, 2)), 1.0, rtol=1e-13)
    np.testing.assert_allclose(v, np.transpose(v, (0, 2, 1)), atol=1e-15)
    # at long times every row tends to its population times the equilibrium distribution
    late = exchange_volumes([100.0], populations=POPULATIONS, rates=RATES)[0]
    p = np.array([POPULATIONS[s] for s in SITES])
    np.testing.assert_allclose(late, np.outer(p, p), atol=1e-12)


# -- the global fit -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_three_site_series_gives_every_rate_within_ten_percent(seed):
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING, noise=0.005, rng=seed)
    fit = fit_exchange(table, populations=POPULATIONS)
    assert fit.success, fit.message
    p = POPULATIONS
    for (a, b), k in RATES.items():
        assert fit.rate(a, b).value == pytest.approx(k, rel=0.10)
        # both directions reported; the dependent one by detailed balance, same relative stderr
        assert p[a] * fit.rate(a, b).value == pytest.approx(p[b] * fit.rate(b, a).value, rel=1e-12)
        assert fit.rate(b, a).relative_stderr == pytest.approx(fit.rate(a, b).relative_stderr, rel=1e-12)
    assert sum(r.derived for r in fit.rates) == 3 and len(fit.rates) == 6
    assert fit.relative_rms < 0.01


def test_noiseless_volumes_with_site_t1_fitted_give_everything_back():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING, T1_s=[20, 10, 5], total=7.0)
    fit = fit_exchange(table, populations=POPULATIONS, T1_s="fit")
    assert fit.R1_fitted
    for (a, b), k in RATES.items():
        assert fit.rate(a, b).value == pytest.approx(k, rel=1e-6)
    np.testing.assert_allclose([e.value for e in fit.R1], [1 / 20, 1 / 10, 1 / 5], rtol=1e-5)
    assert fit.total.value == pytest.approx(7.0, rel=1e-8)
    np.testing.assert_allclose(fit.predict(MIXING).reshape(-1), table["volume"], rtol=1e-6, atol=1e-12)


def test_a_pair_left_out_has_no_rate():
    rates = {("Li2S", "LiI"): 3.0, ("LPSC", "LiI"): 0.5}  # Li2S and LPSC only through LiI
    table = simulate_exchange(SITES, POPULATIONS, rates, mixing_times_s=MIXING)
    fit = fit_exchange(table, populations=POPULATIONS, pairs=[("Li2S", "LiI"), ("LiI", "LPSC")])
    assert fit.rate("Li2S", "LiI").value == pytest.approx(3.0, rel=1e-6)
    assert fit.rate("Li2S", "LPSC").value == 0.0 and len(fit.rates) == 4


def test_a_pair_that_does_not_exchange_is_said_so_and_keeps_the_others_stderr():
    rates = {("Li2S", "LPSC"): 1.0, ("Li2S", "LiI"): 3.0}
    table = simulate_exchange(SITES, POPULATIONS, rates, mixing_times_s=MIXING, noise=0.005, rng=1)
    fit = fit_exchange(table, populations=POPULATIONS)
    assert "no exchange detected between LPSC–LiI" in fit.message
    assert fit.rate("LPSC", "LiI").value < 1e-3 and math.isnan(fit.rate("LPSC", "LiI").stderr)
    assert 0 < fit.rate("Li2S", "LiI").stderr < 0.1 * 3.0


def test_with_standard_errors_the_right_model_passes_the_chi_square_test():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING, noise=0.005, rng=4,
                              stderr_column=True)
    fit = fit_exchange(table, populations=POPULATIONS)
    assert fit.weighted and fit.lack_of_fit is False and fit.p_value > 1e-3


def test_wrong_populations_are_flagged():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING, noise=0.005, rng=4,
                              stderr_column=True)
    fit = fit_exchange(table, populations={"Li2S": 0.45, "LPSC": 0.35, "LiI": 0.2})
    assert fit.lack_of_fit is True and "does not describe" in fit.message


def test_a_two_site_model_of_three_site_data_is_flagged():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING, noise=0.005, rng=4,
                              stderr_column=True)
    two = table[(table["from"] != "LiI") & (table["to"] != "LiI")]
    fit = fit_exchange(two, populations={"Li2S": 0.3, "LPSC": 0.5})
    assert fit.lack_of_fit is True
    assert fit.relative_rms > 5 * fit_exchange(table, populations=POPULATIONS).relative_rms


FAST = {"A": 0.2, "B": 0.3, "C": 0.5}


@pytest.mark.parametrize(("T1_s", "seed"), [(None, 2), (1.0, 2), ("fit", 0), ("fit", 1)])
def test_fast_exchange_does_not_overflow_the_rate(T1_s, seed):
    # regression: unbounded ln k ran past 710 (OverflowError in math.exp) and, with T1_s="fit",
    # exp overflowed in the propagators (RuntimeWarning); k_AB = 100/s is still seen at 10 ms
    table = simulate_exchange(list(FAST), list(FAST.values()), {("A", "B"): 100.0, ("B", "C"): 1.0},
                              mixing_times_s=[0.01, 0.05, 0.1, 0.5], noise=0.003, rng=seed,
                              T1_s=T1_s if T1_s != "fit" else None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_exchange(table, populations=FAST, T1_s=T1_s)
    assert math.isfinite(fit.rate("A", "B").value) and fit.rate("A", "B").value < 1e5  # the bound 1e3/t_min
    assert fit.rate("B", "C").value == pytest.approx(1.0, rel=0.3)


def test_exchange_complete_before_the_first_mixing_time_gives_only_a_lower_bound():
    # regression: k = 1e4/s (complete at 10 ms) came back as success with k = 1926 ± 3.6e6
    table = simulate_exchange(["A", "B"], [0.4, 0.6], {("A", "B"): 1e4},
                              mixing_times_s=[0.01, 0.05, 0.1, 0.5], noise=0.003, rng=1)
    for T1_s in (None, "fit"):
        fit = fit_exchange(table, populations={"A": 0.4, "B": 0.6}, T1_s=T1_s)
        assert not fit.success and "only a lower bound" in fit.message and "A–B" in fit.message
        assert fit.rate("A", "B").value > 100.0  # the bound: at least complete within 10 ms


def test_measurable_exchange_is_not_called_a_bound():  # the negative control of the test above
    table = simulate_exchange(["A", "B"], [0.4, 0.6], {("A", "B"): 10.0},
                              mixing_times_s=[0.01, 0.05, 0.1, 0.5], noise=0.003, rng=1)
    fit = fit_exchange(table, populations={"A": 0.4, "B": 0.6})
    assert fit.success and "bound" not in fit.message
    assert fit.rate("A", "B").value == pytest.approx(10.0, rel=0.1)


def test_a_site_with_a_population_but_no_rows_is_refused():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING)
    two = table[(table["from"] != "LiI") & (table["to"] != "LiI")]
    with pytest.raises(InputError, match="LiI.*no row"):
        fit_exchange(two, populations=POPULATIONS)


def test_a_table_naming_a_site_without_population_is_an_input_error():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING)
    with pytest.raises(InputError, match="LiI .*no population"):
        fit_exchange(table, populations={"Li2S": 0.3, "LPSC": 0.5})


def test_exchange_fit_to_dict_has_the_shape_the_command_line_prints():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING, noise=0.005, rng=0)
    doc = assert_single_json_document(fit_exchange(table, populations=POPULATIONS).to_json())
    first = doc["rates"][0]
    assert {"from", "to", "k"} <= set(first) and first["k"]["unit"] == "1/s"
    assert {(r["from"], r["to"]) for r in doc["rates"]} == {(a, b) for a in SITES for b in SITES if a != b}


# -- one mixing time: the matrix logarithm ----------------------------------------------------------------

def test_matrix_log_inversion_returns_the_rates_and_t1_exactly():
    # the reference note's check: populations 0.3/0.2/0.5, k = 2, 5, 0.2 /s, T1 = 20/10/5 s, t = 0.1 s
    sites = ["Li2S", "LiI", "LPSC"]
    pops = {"Li2S": 0.3, "LiI": 0.2, "LPSC": 0.5}
    rates = {("Li2S", "LiI"): 2.0, ("LiI", "LPSC"): 5.0, ("Li2S", "LPSC"): 0.2}
    v = exchange_volumes([0.1], populations=pops, rates=rates, T1_s=[20, 10, 5])[0]
    inv = exchange_matrix_inversion(v, 0.1, pops, sites=sites, total=1.0)
    assert inv.success
    got = {(r.from_site, r.to_site): r.k.value for r in inv.rates}
    for (a, b), k in rates.items():
        assert got[(a, b)] == pytest.approx(k, rel=1e-9)
    np.testing.assert_allclose(inv.R1, [1 / 20, 1 / 10, 1 / 5], rtol=1e-8)
    assert inv.detailed_balance_deviation < 1e-9


def test_matrix_log_inversion_of_a_long_form_table():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=[0.05])
    inv = exchange_matrix_inversion(table, populations=POPULATIONS)
    assert inv.mixing_time_s == 0.05
    assert {(r.from_site, r.to_site): round(r.k.value, 9) for r in inv.rates}[("Li2S", "LiI")] == 3.0
    with pytest.raises(InputError, match="one mixing time"):
        exchange_matrix_inversion(simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING),
                                  populations=POPULATIONS)


def test_volumes_that_are_not_first_order_exchange_are_not_a_success():
    # X = [[0.2, 0.8], [0.8, 0.2]] has an eigenvalue −0.6: no real logarithm
    inv = exchange_matrix_inversion([[0.1, 0.4], [0.4, 0.1]], 0.1, {"A": 0.5, "B": 0.5})
    assert not inv.success and "complex" in inv.message


def test_complete_exchange_is_only_a_lower_bound_by_inversion():
    # regression: X = [[.5, .5], [.5, .5]] (equilibrium reached) gave k = 18.4/s and success=True
    inv = exchange_matrix_inversion([[0.25, 0.25], [0.25, 0.25]], 1.0, {"A": 0.5, "B": 0.5})
    assert not inv.success and "exchange complete: only a lower bound" in inv.message


def test_an_eigenvalue_within_the_noise_is_complete_exchange_too():
    # k_AB + k_BA = 6/s at t = 1 s leaves e^-6 = 0.0025 of the difference: below volume noise of 0.01,
    # whose size shows in the broken symmetry V[A→B] ≠ V[B→A]
    v = exchange_volumes([1.0], populations={"A": 0.5, "B": 0.5}, rates={("A", "B"): 3.0})[0]
    noisy = v + np.array([[0.0, 0.01], [-0.01, 0.0]])
    inv = exchange_matrix_inversion(noisy, 1.0, {"A": 0.5, "B": 0.5})
    assert not inv.success and "only a lower bound" in inv.message
    exact = exchange_matrix_inversion(v, 1.0, {"A": 0.5, "B": 0.5})  # the control: noiseless, resolved
    assert exact.success and exact.rates[0].k.value == pytest.approx(3.0, rel=1e-6)


# -- the long-form table --------------------------------------------------------------------------------

def write(tmp_path, text):
    path = tmp_path / "exchange.csv"
    path.write_text(text)
    return path


def test_read_a_table_in_ms_and_fit_it(tmp_path):
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING)
    text = "mixing_time [ms],from,to,volume\n" + "".join(
        f"{1000 * t!r},{a},{b},{v!r}\n" for t, a, b, v in table.itertuples(index=False))
    frame = read_exchange_table(write(tmp_path, text))
    assert list(frame.columns) == ["mixing_time [s]", "from", "to", "volume"]
    np.testing.assert_allclose(frame["mixing_time [s]"], table["mixing_time [s]"], rtol=1e-12)
    fit = fit_exchange(frame, populations=POPULATIONS, source=frame.attrs["source"])
    assert fit.rate("LPSC", "LiI").value == pytest.approx(0.5, rel=1e-6)


def test_simulated_table_round_trips_through_a_file(tmp_path):
    path = tmp_path / "sim.csv"
    made = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING, noise=0.005, rng=1,
                             stderr_column=True, path=path)
    read = read_exchange_table(path)
    np.testing.assert_allclose(read["volume"], made["volume"], rtol=1e-12)
    assert list(read["from"]) == list(made["from"]) and "volume stderr" in read.columns


@pytest.mark.parametrize(("text", "match"), [
    ("mixing_time [s],from,volume\n0.1,A,1\n", "no 'to' column"),
    ("from,to,volume\nA,B,1\n", "no 'mixing_time \\[s\\]' column"),
    ("mixing_time [s],from,to,volume\n0.1,A,B,x\n", "row 1: not a finite number"),
    ("mixing_time [s],from,to,volume\n-0.1,A,B,0.1\n", "row 1: negative mixing time"),
    ("mixing_time [s],from,to,volume\n0.1,A,,0.1\n", "column 'to', row 1: no site name"),
    ("mixing_time [s],from,to,volume\n0.1,A,B,0.1\n0.1,A,B,0.2\n", "row 2: the peak A → B .* twice"),
    ("mixing_time [s],from,to,volume\n0.1,A,A,0.5\n0.1,B,B,0.5\n", "no cross peak"),
    ("mixing_time [s],from,to,volume\n0.1,A,A,0.5\n0.1,A,B,-0.1\n", "row 2: volume -0.1 is below"),
])
def test_bad_exchange_tables_are_refused_with_the_reason(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=match) as info:
        read_exchange_table(path)
    assert str(path) in str(info.value)


def test_a_missing_exchange_table_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_exchange_table(tmp_path / "absent.csv")


def test_t1_options_are_checked():
    table = simulate_exchange(SITES, POPULATIONS, RATES, mixing_times_s=MIXING)
    with pytest.raises(InputError, match="no T1 for LiI"):
        fit_exchange(table, populations=POPULATIONS, T1_s={"Li2S": 1.0, "LPSC": 2.0})
    with pytest.raises(InputError, match="2 T1 values for 3 sites"):
        fit_exchange(table, populations=POPULATIONS, T1_s=[1.0, 2.0])
    assert math.isnan(fit_exchange(table, populations=POPULATIONS, T1_s=50.0).p_value)


def test_populations_from_the_shortest_mixing_time_are_the_equilibrium_magnetisations():
    from ssbkit.nmr.exchange import populations_from_diagonal

    # fast exchange: by 50 ms a third of each diagonal has moved, yet the sums keep M0
    table = simulate_exchange(["Li2S", "LPSC", "LiI"], [0.3, 0.5, 0.2],
                              {("Li2S", "LiI"): 2.0, ("LiI", "LPSC"): 5.0, ("Li2S", "LPSC"): 0.2},
                              mixing_times_s=[0.05, 0.5, 5.0])
    found = populations_from_diagonal(table)
    assert found == pytest.approx({"Li2S": 0.3, "LPSC": 0.5, "LiI": 0.2}, abs=1e-12)
    diagonal = table[(table["from"] == table["to"]) & (table["mixing_time [s]"] == 0.05)]
    naive = diagonal["volume"].to_numpy() / diagonal["volume"].sum()
    assert abs(naive[2] - 0.2) > 0.01  # the diagonal alone would be wrong


def test_populations_need_every_site_positive():
    from ssbkit.nmr.exchange import populations_from_diagonal

    table = simulate_exchange(["A", "B"], [0.5, 0.5], {("A", "B"): 1.0}, mixing_times_s=[0.1, 1.0])
    table.loc[table["from"] == "B", "volume"] = -1.0
    with pytest.raises(InputError, match="give the populations"):
        populations_from_diagonal(table)
