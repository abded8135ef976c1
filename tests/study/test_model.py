"""The process–property model: correlations and the Gaussian-process suggestion.

Analytic truth: perfect linear data (r = ρ = 1), Anscombe's quartet (r = 0.816 for all four
sets, Anscombe 1973), the closed-form p-value of n = 4 (t with 2 degrees of freedom gives
p = 1 − |r|), a hand-ranked Spearman ρ, and the GP's closed-form leave-one-out against
refitting by brute force. Synthetic truth: known smooth functions on a 4 × 4 grid (held-out
points, an interior maximum, a monotone function), and pure noise as the negative control.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

from ssbkit.core.errors import InputError
from ssbkit.study.model import (
    Correlations,
    Suggestion,
    _negative_lml,
    correlate,
    plot_correlations,
    plot_suggestion,
    suggest_next,
)

GRID = np.linspace(0.0, 1.0, 4)
A, B = (m.ravel() for m in np.meshgrid(GRID, GRID, indexing="ij"))


def bump(a, b):
    """A smooth hill with its maximum 1 at (0.4, 0.6), between the 4 × 4 grid's nodes."""
    return np.exp(-((a - 0.4) ** 2 + (b - 0.6) ** 2) / 0.18)


def smooth(a, b):
    return np.sin(2.5 * a) + a * np.cos(2.0 * b)


def grid_frame(values):
    return pd.DataFrame({"a": A, "b": B, "y [mS/cm]": values}, index=[f"S{i}" for i in range(A.size)])


def suggest(values, **options):
    options.setdefault("rng", 1)
    return suggest_next(grid_frame(values), parameters=["a", "b"], target="y [mS/cm]", **options)


# --- correlations ------------------------------------------------------------------------------


def test_perfect_linear_data_correlate_with_r_and_rho_one_and_p_zero():
    frame = pd.DataFrame({"frb [%]": [10, 20, 30, 40, 50], "sigma [mS/cm]": [1.0, 3, 5, 7, 9],
                          "ea [eV]": [0.5, 0.4, 0.3, 0.2, 0.1]})
    c = correlate(frame, parameters=["frb [%]"], properties=["sigma [mS/cm]", "ea [eV]"])
    assert isinstance(c, Correlations) and c.success and c.message == ""
    assert c.pearson_r[0].tolist() == pytest.approx([1.0, -1.0], abs=1e-12)
    assert c.spearman_rho[0].tolist() == pytest.approx([1.0, -1.0], abs=1e-12)
    assert c.pearson_p[0].tolist() == pytest.approx([0.0, 0.0], abs=1e-12)
    assert c.n.tolist() == [[5, 5]]


def test_anscombes_quartet_all_have_r_0816():
    x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5]
    ys = {"y1": [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68],
          "y2": [9.14, 8.14, 8.74, 8.77, 9.26, 8.10, 6.13, 3.10, 9.13, 7.26, 4.74],
          "y3": [7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73]}
    frame = pd.DataFrame({"x": x, **ys, "x4": [8] * 7 + [19] + [8] * 3,
                          "y4": [6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.50, 5.56, 7.91, 6.89]})
    c = correlate(frame, parameters=["x", "x4"], properties=["y1", "y2", "y3", "y4"])
    assert c.pearson_r[0, :3].tolist() == pytest.approx([0.816] * 3, abs=6e-4)
    assert c.pair("x4", "y4")["pearson_r"] == pytest.approx(0.816, abs=6e-4)


def test_four_points_give_the_closed_form_p_value_one_minus_r():
    # t = r √2 / √(1 − r²) on 2 degrees of freedom has two-sided p = 1 − |r| exactly
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 3.0, 2.0, 5.0]})
    c = correlate(frame, parameters=["x"], properties=["y"])
    r = c.pair("x", "y")
    assert r["pearson_r"] == pytest.approx(0.8315218, abs=1e-6)  # 5.5 / √(5 · 8.75)
    assert r["pearson_p"] == pytest.approx(1 - r["pearson_r"], abs=1e-9)
    assert r["spearman_rho"] == pytest.approx(0.8, abs=1e-12)  # ranks (1,3,2,4): 1 − 6·2/(4·15)
    assert r["spearman_p"] == pytest.approx(0.2, abs=1e-9)


def test_missing_values_are_dropped_pairwise_and_short_or_constant_pairs_are_nan_and_named():
    frame = pd.DataFrame({"frb [%]": [10, 20, 30, 10, 20], "bmr [1]": [80.0] * 5,
                          "sigma [mS/cm]": [13.3, 11.0, 9.0, 12.0, np.nan],
                          "size [nm]": [np.nan, np.nan, np.nan, 40.0, 30.0]})
    c = correlate(frame, parameters=["frb [%]", "bmr [1]"], properties=["sigma [mS/cm]", "size [nm]"])
    assert c.n.tolist() == [[4, 2], [4, 2]]
    assert np.isfinite(c.pearson_r[0, 0])
    assert np.isnan(c.pearson_r[0, 1]) and np.isnan(c.spearman_p[0, 1])
    assert np.isnan(c.pearson_r[1]).all()
    assert "frb [%] × size [nm] (n = 2 < 3)" in c.message
    assert "bmr [1] × sigma [mS/cm] (bmr [1] is constant over the 4 rows)" in c.message
    assert c.success


def test_correlations_long_table_and_strict_json():
    frame = pd.DataFrame({"p": [1, 2, 3, 4], "q": [2.0, 1.0, 4.0, 3.0], "r": [1.0, 1.0, 1.0, 1.0]})
    c = correlate(frame, parameters=["p"], properties=["q", "r"])
    table = c.to_frame()
    assert table.columns.tolist() == ["parameter", "property", "n", "pearson_r", "pearson_p",
                                      "spearman_rho", "spearman_p"]
    assert table["property"].tolist() == ["q", "r"] and table["n"].tolist() == [4, 4]
    data = json.loads(json.dumps(c.to_dict(), allow_nan=False))
    assert data["pairs"][1] == {"parameter": "p", "property": "r", "n": 4, "pearson_r": None,
                                "pearson_p": None, "spearman_rho": None, "spearman_p": None}
    assert data["pearson_r"][0][1] is None


def test_correlate_bad_input_names_the_column():
    frame = pd.DataFrame({"frb [%]": [10, 20, 30], "sigma [mS/cm]": ["1.0", "x", "2"]})
    with pytest.raises(InputError, match=r"'bmr \[1\]'"):
        correlate(frame, parameters=["bmr [1]"], properties=["sigma [mS/cm]"])
    with pytest.raises(InputError, match=r"column 'sigma \[mS/cm\]'.*'x', not a number"):
        correlate(frame, parameters=["frb [%]"], properties=["sigma [mS/cm]"])
    with pytest.raises(InputError, match="frame: must be a pandas DataFrame"):
        correlate({"a": [1]}, parameters=["a"], properties=["a"])


# --- the Gaussian process ----------------------------------------------------------------------


def test_gp_interpolates_training_points_and_predicts_held_out_points_within_two_sd():
    s = suggest(smooth(A, B))
    assert isinstance(s, Suggestion) and s.success, s.message
    mean, sd = s.predict(np.c_[A, B])
    assert np.abs(mean - smooth(A, B)).max() < 1e-3 * np.ptp(smooth(A, B))
    held = np.random.default_rng(7).uniform(0, 1, (25, 2))
    mean, sd = s.predict(held)
    truth = smooth(held[:, 0], held[:, 1])
    assert np.all(np.abs(mean - truth) < 2 * sd)
    assert np.abs(mean - truth).max() < 0.02 * np.ptp(smooth(A, B))
    assert s.noise_sd.value < 1e-2 and s.q_squared > 0.99
    assert s.signal_sd.unit == s.predicted.unit == "mS/cm"


def test_closed_form_leave_one_out_agrees_with_refitting_without_each_point():
    s = suggest(bump(A, B) + np.random.default_rng(3).normal(0, 0.05, A.size))
    m = s.model
    u, y = np.asarray(m.u), np.asarray(m.y)

    def kernel(p, q):
        d = (p[:, None, :] - q[None, :, :]) / np.asarray(m.length_scales)
        return m.signal_variance * np.exp(-0.5 * np.sum(d * d, axis=2))

    for i in range(y.size):
        keep = np.arange(y.size) != i
        k = kernel(u[keep], u[keep]) + m.noise_variance * np.eye(y.size - 1)
        cross = kernel(u[keep], u[i:i + 1])[:, 0]
        mean = cross @ np.linalg.solve(k, y[keep])
        var = m.signal_variance + m.noise_variance - cross @ np.linalg.solve(k, cross)
        assert s.loo_mean[i] == pytest.approx(m.y_mean + m.y_scale * mean, abs=1e-8)
        assert s.loo_sd[i] == pytest.approx(m.y_scale * math.sqrt(var), rel=1e-7)
    assert s.loo_z == pytest.approx((s.y - s.loo_mean) / s.loo_sd)


def test_likelihood_gradient_matches_finite_differences():
    u = np.c_[A, B]
    y = (smooth(A, B) - smooth(A, B).mean()) / smooth(A, B).std()
    theta = np.log([0.8, 0.4, 0.9, 1e-3])
    _, grad = _negative_lml(theta, u, y)
    h = 1e-6
    numeric = [(_negative_lml(theta + h * e, u, y)[0] - _negative_lml(theta - h * e, u, y)[0]) / (2 * h)
               for e in np.eye(theta.size)]
    assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_an_interior_maximum_is_suggested_within_one_grid_step():
    s = suggest(bump(A, B), grid_points=41)
    step = 1.0 / 40
    assert abs(s.next_point["a"] - 0.4) <= step + 1e-12
    assert abs(s.next_point["b"] - 0.6) <= step + 1e-12
    assert not s.already_measured
    assert s.predicted.value == pytest.approx(1.0, abs=2 * s.predicted.stderr + 0.01)
    assert s.best_sample == "S6" and s.best_point == {"a": pytest.approx(1 / 3), "b": pytest.approx(2 / 3)}
    assert s.best_measured.value == pytest.approx(bump(1 / 3, 2 / 3))
    # a confident improvement over the best sample: more than 2 sd above its prediction
    assert s.predicted.value - s.best_predicted.value > 2 * s.predicted.stderr


def test_minimising_finds_the_bottom_of_the_inverted_hill():
    s = suggest(-bump(A, B), maximize=False)
    assert s.next_point["a"] == pytest.approx(0.4, abs=0.026)
    assert s.next_point["b"] == pytest.approx(0.6, abs=0.026)
    assert s.best_sample == "S6"


def test_a_monotone_function_is_suggested_at_the_boundary_corner():
    values = A + 2 * B
    s = suggest(values)
    assert s.next_point == {"a": pytest.approx(1.0), "b": pytest.approx(1.0)}
    assert s.already_measured and s.measured_sample == "S15"
    assert "expected improvement is ~0" in s.message
    wide = suggest(values, bounds={"a": (0.0, 1.5), "b": (0.0, 1.5)})
    assert wide.next_point == {"a": pytest.approx(1.5), "b": pytest.approx(1.5)}
    assert not wide.already_measured
    assert wide.predicted.value == pytest.approx(4.5, rel=0.02)
    assert wide.grid["a"][-1] == pytest.approx(1.5)


def test_expected_improvement_is_non_negative_and_zero_at_noise_free_measured_points():
    s = suggest(bump(A, B), grid_points=31)  # nodes 0, 10, 20, 30 are the measured values
    ei = np.asarray(s.grid["expected_improvement"])
    assert (ei >= 0).all()
    measured = ei[np.ix_([0, 10, 20, 30], [0, 10, 20, 30])]
    # with μ ≤ f* at a measured point, EI ≤ σ·φ(0), and σ there is at most the (tiny) noise sd
    assert s.noise_sd.value == pytest.approx(1e-3 * np.std(bump(A, B)), rel=0.01)  # the 1e-6 variance floor
    assert measured.max() <= s.noise_sd.value / math.sqrt(2 * math.pi) * 1.001
    assert measured.max() < 0.01 * ei.max()
    assert s.expected_improvement.value == pytest.approx(ei.max())


def test_pure_noise_gives_no_confident_maximum_and_a_poor_leave_one_out():
    q2, width = [], []
    for seed in range(12):
        values = np.random.default_rng(100 + seed).normal(10.0, 1.0, A.size)
        s = suggest(values, rng=seed, grid_points=21)
        assert s.predicted.value - s.best_predicted.value < 2 * s.predicted.stderr
        q2.append(s.q_squared)
        width.append(s.predicted.stderr / values.std())
    assert np.median(q2) < 0.3
    assert np.median(width) > 0.2  # the model stays unsure where it points
    # the same design with structure of the same size is predicted well (positive control)
    structured = suggest(10 + 2 * bump(A, B) + np.random.default_rng(5).normal(0, 0.05, A.size))
    assert structured.q_squared > 0.9


def test_the_same_seed_gives_the_same_suggestion():
    values = bump(A, B) + np.random.default_rng(2).normal(0, 0.05, A.size)
    one = suggest(values, rng=4).to_dict()
    two = suggest(values, rng=np.random.default_rng(4)).to_dict()
    one["provenance"].pop("settings"), two["provenance"].pop("settings")  # rng recorded as seed vs Generator
    assert json.dumps(one, allow_nan=False) == json.dumps(two, allow_nan=False)


def test_a_milling_grid_with_log_bmr():
    frb = np.repeat([10.0, 20.0, 30.0], 3)
    bmr = np.tile([20.0, 40.0, 80.0], 3)
    sigma = 13.3 - 0.02 * (frb - 10) ** 2 / 10 - 2.5 * np.log2(80 / bmr) ** 2 / 2
    frame = pd.DataFrame({"frb [%]": frb, "bmr [1]": bmr, "sigma_25C [mS/cm]": sigma, "ea [eV]": np.nan},
                         index=[f"S-F{f:g}-B{b:g}" for f, b in zip(frb, bmr, strict=True)])
    frame.loc["S-extra", "frb [%]"] = np.nan  # no target: left out, so its missing FRB is no error
    s = suggest_next(frame, parameters=["frb [%]", "bmr [1]"], target="sigma_25C [mS/cm]",
                     log_parameters=["bmr [1]"], rng=0)
    assert s.success and "1 row(s) without sigma_25C [mS/cm] left out" in s.message
    assert s.best_sample == "S-F10-B80" and s.best_measured.value == pytest.approx(13.3)
    assert s.grid["bmr [1]"][[0, 20, 40]] == pytest.approx([20.0, 40.0, 80.0])  # geometric axis
    assert s.bounds == {"frb [%]": (10.0, 30.0), "bmr [1]": (20.0, 80.0)}
    table = s.to_frame()
    assert table["sample"].tolist()[0] == "S-F10-B20" and "sigma_25C loo z" in table
    data = json.loads(s.to_json())
    assert data["model"]["length_scales"].keys() == {"frb [%]", "bmr [1]"}
    assert [c["key"] for c in data["provenance"]["citations"]] == ["ssbkit", "rasmussen2006", "jones1998"]
    assert "next:" in s.report()


@pytest.mark.parametrize(("change", "options", "pattern"), [
    ("drop_a", {}, r"missing column\(s\) 'a'"),
    ("nan_a", {}, r"column 'a': is missing in row 'S3'"),
    ("two_rows", {}, r"column 'y \[mS/cm\]': a model needs at least 3 rows"),
    ("constant_y", {}, r"column 'y \[mS/cm\]': is the same"),
    (None, {"log_parameters": ["a"]}, r"column 'a': is a log parameter but row 'S0' is 0"),
    (None, {"log_parameters": ["c"]}, r"log_parameters: names \['c'\]"),
    (None, {"bounds": {"a": (1.0, 0.0)}}, r"bounds\['a'\]: needs finite low < high"),
    (None, {"bounds": {"z": (0.0, 1.0)}}, r"bounds: names \['z'\]"),
    (None, {"grid_points": 1}, "grid_points: must be ≥ 2"),
    (None, {"rng": "seed"}, "rng: must be a numpy Generator"),
    (None, {"restarts": -1}, "restarts: must be an int ≥ 0"),
])
def test_bad_input_is_an_input_error_naming_the_argument(change, options, pattern):
    frame = grid_frame(bump(A, B))
    if change == "drop_a":
        frame = frame.drop(columns="a")
    elif change == "nan_a":
        frame.loc["S3", "a"] = np.nan
    elif change == "two_rows":
        frame.loc[frame.index[2:], "y [mS/cm]"] = np.nan
    elif change == "constant_y":
        frame["y [mS/cm]"] = 1.0
    with pytest.raises(InputError, match=pattern):
        suggest_next(frame, parameters=["a", "b"], target="y [mS/cm]", **options)


def test_too_large_a_grid_is_refused_before_any_work():
    frame = pd.DataFrame({p: np.arange(5.0) + i for i, p in enumerate("abcd")} | {"y": np.arange(5.0) ** 2})
    with pytest.raises(InputError, match=r"grid_points: 41\^4 grid nodes"):
        suggest_next(frame, parameters=list("abcd"), target="y")


# --- figures -----------------------------------------------------------------------------------


def test_correlation_heat_map_writes_each_value():
    frame = pd.DataFrame({"p": [1, 2, 3, 4], "q": [2.0, 1.0, 4.0, 3.0], "r": [1.0] * 4})
    fig = plot_correlations(correlate(frame, parameters=["p"], properties=["q", "r"]))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["0.60", "n/a"]
    assert fig.axes[1].get_ylabel() == "Pearson r"


def test_suggestion_figures_for_two_one_and_three_parameters():
    s2 = suggest_next(grid_frame(bump(A, B)).assign(a=lambda f: f["a"] + 1.0), parameters=["a", "b"],
                      target="y [mS/cm]", log_parameters=["a"], grid_points=11, rng=0)
    fig = plot_suggestion(s2)
    mean_ax, sd_ax = fig.axes[:2]
    assert mean_ax.get_xscale() == "log" and sd_ax.get_xlabel() == "a"
    assert mean_ax.get_xticks() == pytest.approx(GRID + 1.0)  # ticked at the measured levels
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["measured", "next"]
    assert "predicted sd [mS/cm]" in [ax.get_ylabel() for ax in fig.axes]
    star = mean_ax.collections[-1].get_offsets()[0]
    assert star.tolist() == pytest.approx([s2.next_point["a"], s2.next_point["b"]])

    x = np.linspace(0, 1, 6)
    s1 = suggest_next(pd.DataFrame({"x": x, "y": np.sin(3 * x)}), parameters=["x"], target="y", rng=0)
    assert s1.next_point["x"] == pytest.approx(0.5, abs=0.03)  # sin 3x peaks at π/6 = 0.52
    ax = plot_suggestion(s1).axes[0]
    assert ax.get_ylabel() == "y" and any(c.get_label() == "mean ± 2 sd" for c in ax.collections)

    cube = np.random.default_rng(0).uniform(0, 1, (12, 3))
    s3 = suggest_next(pd.DataFrame(cube, columns=list("abc")).assign(y=cube.sum(axis=1)),
                      parameters=list("abc"), target="y", grid_points=6, rng=0)
    assert plot_suggestion(s3).axes[0].get_xlabel() == "measured y"
    with pytest.raises(InputError, match="suggestion: must be a Suggestion"):
        plot_suggestion(s3.to_dict())
