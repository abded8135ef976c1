"""Build-up fits, series over temperature and their Arrhenius law (ssbkit.nmr.buildup).

Truth: noiseless curves of every model give their rate back to rounding; seeded synthetic
series with 1 % noise give D within 3 % in the typical draw, without bias, with standard
errors that match the scatter (the check of the done-when figure, see the note there); an
Arrhenius series gives Ea within 0.01 eV (line and global fit); negative controls: the
wrong model, T1 decay left in, and a curve complete before the first point. The reader's
refusals each name what is wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ssbkit import InputError
from ssbkit.core.units import BOLTZMANN_EV
from ssbkit.nmr.buildup import (
    BuildupSeriesFit,
    arrhenius_rate,
    fit_buildup,
    fit_buildup_series,
    read_buildup_table,
)
from ssbkit.nmr.models import MODELS
from ssbkit.nmr.simulate import simulate_buildup
from ssbkit.testing import assert_single_json_document

TIMES = np.geomspace(0.01, 10, 20)
TEMPERATURES = [293.0, 313.0, 333.0, 353.0, 373.0]


def truth_of(name):
    return (2.0, {"k_per_s": 2.0}) if name == "first-order" else (5e-10, {"D_cm2_s": 5e-10, "length_um": 1.0})


def times_of(name):
    return np.geomspace(0.01, 1, 20) if name == "sqrt" else TIMES  # √t: the rise only


def fit_table(table, name, **options):
    return fit_buildup(table["mixing_time [s]"], table["intensity"], model=name, length_um=1.0,
                       plateau=0.4 if name == "sqrt" else "free", **options)


# -- exact data --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
def test_noiseless_curves_give_their_rate_and_plateau_back(name):
    truth, kw = truth_of(name)
    table = simulate_buildup(name, mixing_times_s=times_of(name), plateau=0.4, **kw)
    fit = fit_table(table, name)
    assert fit.success, fit.message
    assert fit.rate.value == pytest.approx(truth, rel=1e-6)
    assert fit.plateau.value == pytest.approx(0.4, rel=1e-6)
    assert fit.r_squared == pytest.approx(1.0, abs=1e-10)
    assert fit.rate.unit == ("1/s" if name == "first-order" else "cm²/s")
    assert (fit.D is None) == (name == "first-order")


def test_fixed_plateau_is_kept_and_only_the_rate_is_fitted():
    table = simulate_buildup("sphere", mixing_times_s=TIMES, D_cm2_s=5e-10, length_um=1.0, plateau=0.4)
    fit = fit_buildup(table["mixing_time [s]"], table["intensity"], length_um=1.0, plateau=0.4)
    assert fit.plateau_fixed and fit.plateau.value == 0.4 and math.isnan(fit.correlation)
    assert fit.D.value == pytest.approx(5e-10, rel=1e-6)
    assert fit.degrees_of_freedom == TIMES.size - 1


def test_the_curve_and_prediction_agree_with_the_model():
    table = simulate_buildup("cube", mixing_times_s=TIMES, D_cm2_s=3e-10, length_um=2.0, plateau=0.3)
    fit = fit_buildup(table["mixing_time [s]"], table["intensity"], model="cube", length_um=2.0)
    t = np.array([0.05, 0.5, 5.0])
    np.testing.assert_allclose(fit.predict(t), MODELS["cube"](t, D=3e-10, A=0.3, length_um=2.0), rtol=1e-5)
    np.testing.assert_allclose(fit.residuals, fit.intensity - fit.fitted)


# -- seeded noise: the done-when figure ---------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
def test_one_percent_noise_gives_d_within_three_percent_in_the_typical_draw(name):
    # With 1 % noise (of the plateau) on 20 mixing times the Cramér–Rao bound on σ(D)/D is
    # 1–2 % (sphere 1.9 %), so 3 % is 1.5–3 σ of a single draw: the figure is checked on the
    # median of 25 seeded series, with no bias and standard errors that match the scatter.
    truth, kw = truth_of(name)
    errors, z = [], []
    for seed in range(25):
        table = simulate_buildup(name, mixing_times_s=times_of(name), plateau=0.4, noise=0.01, rng=seed, **kw)
        fit = fit_table(table, name)
        assert fit.success, fit.message
        errors.append(fit.rate.value / truth - 1)
        z.append((fit.rate.value - truth) / fit.rate.stderr)
    errors = np.array(errors)
    assert np.median(np.abs(errors)) < 0.03
    assert abs(errors.mean()) < 0.015
    assert 0.7 < math.sqrt(np.mean(np.square(z))) < 1.4


def test_weighted_fit_with_absolute_errors_reports_the_given_noise():
    table = simulate_buildup("first-order", mixing_times_s=TIMES, k_per_s=2.0, plateau=0.4, noise=0.01, rng=3,
                             stderr_column=True)
    fit = fit_buildup(table["mixing_time [s]"], table["intensity"], model="first-order",
                      stderr=table["intensity stderr"], absolute_sigma=True)
    assert fit.weighted and fit.absolute_sigma
    assert fit.reduced_chi_square == pytest.approx(1.0, abs=0.7)
    assert fit.k.value == pytest.approx(2.0, abs=4 * fit.k.stderr)


# -- negative controls ----------------------------------------------------------------------------

def test_the_wrong_model_gives_a_d_far_off_and_a_worse_fit():
    table = simulate_buildup("sphere", mixing_times_s=TIMES, D_cm2_s=5e-10, length_um=1.0, plateau=0.4,
                             noise=0.01, rng=1)
    right = fit_table(table, "sphere")
    wrong = fit_table(table, "gaussian")
    assert abs(wrong.D.value / 5e-10 - 1) > 0.5
    assert wrong.chi_square > 2 * right.chi_square


def test_t1_decay_is_corrected_when_given_and_biases_d_when_not():
    table = simulate_buildup("sphere", mixing_times_s=TIMES, D_cm2_s=5e-10, length_um=1.0, plateau=0.4,
                             T1_s=4.0)
    corrected = fit_table(table, "sphere", T1_s=4.0)
    assert corrected.D.value == pytest.approx(5e-10, rel=1e-5) and corrected.T1_s == 4.0
    ignored = fit_table(table, "sphere")
    assert abs(ignored.D.value / 5e-10 - 1) > 0.1


def test_a_curve_complete_before_the_first_mixing_time_is_not_a_success():
    t = np.geomspace(1.0, 10.0, 8)
    y = np.full(t.size, 0.4) + 0.001 * np.sin(np.arange(t.size))
    fit = fit_buildup(t, y, length_um=1.0)
    assert not fit.success and "not determined" in fit.message


# -- series and Arrhenius ---------------------------------------------------------------------------

def arrhenius_table(name="sphere", seed=11, noise=0.01):
    _, kw = truth_of(name)
    return simulate_buildup(name, mixing_times_s=TIMES, plateau=0.4, temperatures_K=TEMPERATURES, Ea_eV=0.107,
                            reference_temperature_K=293.0, noise=noise, rng=seed, **kw)


@pytest.mark.parametrize("name", ["sphere", "cube", "gaussian", "first-order"])
def test_an_arrhenius_series_gives_ea_within_a_hundredth_of_an_ev(name):
    result = fit_buildup_series(arrhenius_table(name), model=name, length_um=1.0, arrhenius=True)
    assert result.success, result.message
    assert len(result.fits) == 5 and [f.temperature_K for f in result.fits] == TEMPERATURES
    assert result.arrhenius.activation_energy.value == pytest.approx(0.107, abs=0.01)
    assert result.global_fit.activation_energy.value == pytest.approx(0.107, abs=0.01)
    assert result.Ea is result.global_fit.activation_energy and result.Ea_method == "global fit"
    assert result.arrhenius.weighted


def test_noiseless_series_give_ea_and_the_prefactor_exactly():
    result = fit_buildup_series(arrhenius_table(noise=0.0), length_um=1.0, arrhenius=True,
                                shared_plateau=True)
    d0 = 5e-10 * math.exp(0.107 / (BOLTZMANN_EV * 293.0))
    for estimate in (result.arrhenius, result.global_fit):
        assert estimate.activation_energy.value == pytest.approx(0.107, abs=1e-7)
        assert estimate.prefactor.value == pytest.approx(d0, rel=1e-5)
    assert result.global_fit.shared_plateau and len(set(e.value for e in result.global_fit.plateaus)) == 1
    assert result.global_fit.rate_at_reference.unit == "cm²/s"


def test_series_to_dict_has_the_shape_the_command_line_prints():
    result = fit_buildup_series(arrhenius_table(), length_um=1.0)
    doc = assert_single_json_document(result.to_json())
    assert [f["temperature"] for f in doc["fits"]] == TEMPERATURES
    assert set(doc["fits"][0]["D"]) == {"value", "stderr", "unit"} and doc["fits"][0]["D"]["unit"] == "cm²/s"
    assert doc["Ea"]["unit"] == "eV" and doc["Ea"]["value"] == pytest.approx(0.107, abs=0.01)
    assert result.Ea_method == "weighted line" and result.global_fit is None
    frame = result.to_frame()
    assert list(frame["temperature [K]"]) == TEMPERATURES and "D [cm²/s]" in frame.columns


def test_a_table_without_temperatures_gives_one_fit_and_no_ea():
    table = simulate_buildup("sphere", mixing_times_s=TIMES, D_cm2_s=5e-10, length_um=1.0, plateau=0.4)
    result = fit_buildup_series(table, length_um=1.0)
    assert isinstance(result, BuildupSeriesFit) and len(result.fits) == 1
    assert result.fits[0].temperature_K is None and result.Ea is None
    with pytest.raises(InputError, match="2 or more temperatures"):
        fit_buildup_series(table, length_um=1.0, arrhenius=True)


def test_arrhenius_line_is_exact_on_exact_data_and_needs_two_temperatures():
    t = np.array(TEMPERATURES)
    r = arrhenius_rate(t, 2e-8 * np.exp(-0.142 / (BOLTZMANN_EV * t)))
    assert r.activation_energy.value == pytest.approx(0.142, abs=1e-12)
    assert r.prefactor.value == pytest.approx(2e-8, rel=1e-10)
    with pytest.raises(InputError, match="2 different temperatures"):
        arrhenius_rate([300.0, 300.0], [1e-10, 2e-10])


# -- argument checks -------------------------------------------------------------------------------

def test_bad_arguments_are_input_errors():
    t, y = TIMES, MODELS["sphere"](TIMES, D=5e-10, A=0.4, length_um=1.0)
    with pytest.raises(InputError, match="no plateau"):
        fit_buildup(t, y, model="sqrt", length_um=1.0)
    with pytest.raises(InputError, match="needs a length"):
        fit_buildup(t, y)
    with pytest.raises(InputError, match="2 different mixing times"):
        fit_buildup([0.1, 0.1, 0.1], [0.1, 0.1, 0.1], length_um=1.0)
    with pytest.raises(InputError, match="20 mixing times but 3"):
        fit_buildup(t, y[:3], length_um=1.0)
    with pytest.raises(InputError, match="NaN"):
        fit_buildup(t, np.where(t > 1, np.nan, y), length_um=1.0)
    with pytest.raises(InputError, match="out of range"):
        fit_buildup(t, np.where(t > 5, -0.2, y), length_um=1.0)


# -- the table the command line reads ----------------------------------------------------------------

def write(tmp_path, text, name="buildup.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_a_table_in_ms_and_celsius_and_fit_it(tmp_path):
    table = arrhenius_table(noise=0.0)
    lines = ["mixing_time [ms]\tintensity [a.u.]\ttemperature [C]"]
    lines += [f"{1000 * t!r}\t{y!r}\t{T - 273.15!r}" for t, y, T in table.itertuples(index=False)]
    frame = read_buildup_table(write(tmp_path, "\n".join(lines) + "\n", "b.tsv"))
    assert list(frame.columns) == ["mixing_time [s]", "intensity", "temperature [K]"]
    np.testing.assert_allclose(frame["mixing_time [s]"], table["mixing_time [s]"], rtol=1e-12)
    np.testing.assert_allclose(frame["temperature [K]"], table["temperature [K]"], rtol=1e-12)
    result = fit_buildup_series(frame, length_um=1.0)
    assert result.Ea.value == pytest.approx(0.107, abs=1e-6)
    assert result.fits[0].source.endswith("b.tsv at 293 K")


def test_simulated_table_round_trips_through_a_file(tmp_path):
    path = tmp_path / "sim.csv"
    made = simulate_buildup("sphere", mixing_times_s=TIMES, D_cm2_s=5e-10, length_um=1.0, plateau=0.4,
                            noise=0.01, rng=2, path=path)
    read = read_buildup_table(path)
    np.testing.assert_allclose(read["intensity"], made["intensity"], rtol=1e-12)


def test_a_small_negative_intensity_within_the_noise_is_kept(tmp_path):
    text = "mixing_time [s],intensity\n0.01,-0.004\n0.1,0.05\n0.3,0.12\n1,0.3\n3,0.39\n10,0.4\n"
    assert read_buildup_table(write(tmp_path, text))["intensity"].iloc[0] == -0.004


def test_adjacent_replicates_are_kept(tmp_path):
    text = "mixing_time [s],intensity\n0.1,0.05\n0.1,0.052\n1,0.3\n10,0.4\n"
    assert len(read_buildup_table(write(tmp_path, text))) == 4


@pytest.mark.parametrize(("text", "match"), [
    ("time,intensity\n0.1,0.1\n1,0.3\n", "no mixing-time column"),
    ("mixing_time [s],signal\n0.1,0.1\n1,0.3\n", "no intensity column"),
    ("mixing_time,intensity\n0.1,0.1\n1,0.3\n", "has no unit"),
    ("mixing_time [K],intensity\n0.1,0.1\n1,0.3\n", "not a time unit"),
    ("mixing_time [s],intensity\n0.1,0.1\n0.1,0.12\n", "single mixing time"),
    ("mixing_time [s],intensity,temperature [K]\n0.1,0.1,300\n1,0.3,300\n0.1,0.1,320\n",
     "single mixing time .0.1 s. at 320 K"),
    ("mixing_time [s],intensity\n0.1,0.1\n1,\n10,0.4\n", "row 2: not a finite number"),
    ("mixing_time [s],intensity\n0.1,0.1\n1,abc\n10,0.4\n", "row 2: not a finite number"),
    ("mixing_time [s],intensity\n-0.1,0.1\n1,0.3\n10,0.4\n", "row 1: mixing time -0.1 s is negative"),
    ("mixing_time [s],intensity\n0.01,0.01\n0.03,0.03\n0.1,-0.2\n0.2,0.1\n0.5,0.17\n1,0.25\n2,0.32\n3,0.36\n"
     "5,0.39\n10,0.4\n", "row 3 .* out of range"),
    ("mixing_time [s],intensity\n0.1,0.05\n1,0.3\n10,0.4\n0.1,0.05\n1,0.3\n10,0.4\n",
     "row 4: mixing time 0.1 s appears again"),
    ("\n", "cannot read the table"),
])
def test_bad_tables_are_refused_with_the_reason(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=match) as info:
        read_buildup_table(path)
    assert str(path) in str(info.value)


def test_a_header_only_table_is_refused_not_an_index_error(tmp_path):
    # regression: _validate_frame reached distinct[0] of no mixing times (IndexError)
    path = write(tmp_path, "mixing_time [s],intensity\n")
    with pytest.raises(InputError, match="no data rows"):
        read_buildup_table(path)
    with pytest.raises(InputError, match="no data rows"):
        fit_buildup_series(pd.DataFrame({"mixing_time [s]": [], "intensity": []}), model="first-order")


def test_a_negative_outlier_does_not_hide_in_the_noise_it_inflates(tmp_path):
    # regression: the noise estimate included the outlier itself (0.21), so −0.5 passed 3 × noise
    path = write(tmp_path, "mixing_time [s],intensity\n0.01,-0.5\n0.1,0.2\n1,0.3\n3,0.31\n")
    with pytest.raises(InputError, match="row 1 .* out of range"):
        read_buildup_table(path)
    with pytest.raises(InputError, match="point 0 .* out of range"):
        fit_buildup([0.01, 0.1, 1, 3], [-0.5, 0.2, 0.3, 0.31], model="first-order")


def test_a_series_without_temperature_does_not_say_none_k():
    # regression: the message of a failed curve without a temperature began "None K:"
    t = np.geomspace(0.01, 10, 10)
    table = pd.DataFrame({"mixing_time [s]": t, "intensity": np.zeros_like(t)})
    fit = fit_buildup_series(table, model="first-order")
    assert not fit.success and "None" not in fit.message and "not determined" in fit.message


def test_intensities_near_the_float_limit_are_refused_not_overflowed():
    # regression: 1e300·(1 − e^−t) raised a RuntimeWarning (overflow) inside the fit
    t = np.geomspace(0.01, 10, 10)
    with pytest.raises(InputError, match="scale"):
        fit_buildup(t, 1e300 * (1 - np.exp(-t)), model="first-order")
    fit = fit_buildup(t, 1e6 * (1 - np.exp(-t)), model="first-order")  # the control: large, not extreme
    assert fit.success and fit.k.value == pytest.approx(1.0, rel=1e-6)


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_buildup_table(tmp_path / "absent.csv")


# -- pairs, and the link to the exchange model ------------------------------------------------------

def test_two_site_exchange_normalised_cross_over_cross_plus_diagonal_is_first_order():
    # I_AB/(I_AA + I_AB) = p_B (1 − e^(−(k_AB + k_BA) t)): a first-order build-up with plateau p_B
    from ssbkit.nmr.simulate import simulate_exchange

    table = simulate_exchange(["A", "B"], {"A": 0.3, "B": 0.7}, {("A", "B"): 2.0}, mixing_times_s=TIMES)
    volume = {(a, b): table.loc[(table["from"] == a) & (table["to"] == b), "volume"].to_numpy()
              for a in "AB" for b in "AB"}
    intensity = volume[("A", "B")] / (volume[("A", "B")] + volume[("A", "A")])
    fit = fit_buildup(TIMES, intensity, model="first-order")
    assert fit.k.value == pytest.approx(2.0 + 0.3 * 2.0 / 0.7, rel=1e-6)
    assert fit.plateau.value == pytest.approx(0.7, rel=1e-6)


def test_a_table_of_several_pairs_needs_a_choice(tmp_path):
    one = simulate_buildup("first-order", mixing_times_s=TIMES, k_per_s=2.0, plateau=0.4)
    two = simulate_buildup("first-order", mixing_times_s=TIMES, k_per_s=0.5, plateau=0.2)
    text = "mixing_time [s],from,to,intensity\n" + "".join(
        f"{t!r},{a},{b},{y!r}\n" for (a, b), frame in ((("Li2S", "LPSC"), one), (("Li2S", "LiI"), two))
        for t, y in frame.itertuples(index=False))
    table = read_buildup_table(write(tmp_path, text))
    assert list(dict.fromkeys(table["pair"])) == ["Li2S->LPSC", "Li2S->LiI"]
    with pytest.raises(InputError, match="2 pairs .Li2S->LPSC, Li2S->LiI.: choose one"):
        fit_buildup_series(table, model="first-order")
    result = fit_buildup_series(table, model="first-order", pair="Li2S->LiI")
    assert result.pair == "Li2S->LiI" and result.fits[0].k.value == pytest.approx(0.5, rel=1e-6)
    with pytest.raises(InputError, match="no pair 'LiI->LPSC'"):
        fit_buildup_series(table, model="first-order", pair="LiI->LPSC")


def test_a_single_mixing_time_of_one_pair_is_named(tmp_path):
    text = "mixing_time [s],pair,intensity\n0.1,A->B,0.1\n1,A->B,0.3\n0.1,A->C,0.1\n"
    with pytest.raises(InputError, match=r"single mixing time \(0.1 s\) of A->C"):
        read_buildup_table(write(tmp_path, text))
