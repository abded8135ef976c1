"""The study's xrd and exsy analyses: truth from simulated files, the bundled examples, a real scan.

Truth: patterns from ``ssbkit.xrd.simulate.simulate_pattern`` with known cells and weight
fractions, and build-up tables from ``ssbkit.nmr.simulate.simulate_buildup`` with a known D(T)
(Ea = 0.142 eV), written to files and read back as a study would; the README truth of
``shared/data/xrd/synthetic_argyrodite/synth3.xy``; an independent weighted line (numpy's
polyfit) for D(25 °C) and its error. No measured EXSY data exist to test against.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.core.results import hash_file
from ssbkit.core.units import BOLTZMANN_EV, convert
from ssbkit.nmr.simulate import simulate_buildup
from ssbkit.study.kinds import RESULT_KEYS, AnalysisTask, TaskInput
from ssbkit.study.material_analyses import KINDS, exsy_figures, run_exsy, run_xrd, xrd_figures
from ssbkit.testing import shared_data
from ssbkit.xrd.data import Instrument
from ssbkit.xrd.simulate import PhaseBroadening, simulate_pattern
from ssbkit.xrd.structures import argyrodite, li2s, licl

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
TRUTH_A = {"argyrodite": 9.8400, "LiCl": 5.1350, "Li2S": 5.7000}
TRUTH_WT = {"argyrodite": 80.0, "LiCl": 12.0, "Li2S": 8.0}
INSTRUMENT = {"U": 0.004, "V": -0.002, "W": 0.002}
# Scherrer with K = 0.9 on the argyrodite's Lorentzian Y = 0.12°: 0.9·1.540593 Å/(0.12·π/180)/10 nm
SIZE_NM = 0.9 * 1.540593 / math.radians(0.12) / 10.0
EA_EV, D_298_CM2_S = 0.142, 1e-9


def task(kind: str, path: Path, *, name: str | None = None, settings: dict | None = None) -> AnalysisTask:
    """The task of one file; an exsy task gets the simulated 1 µm radius unless ``settings`` say."""
    item = TaskInput(measurement="m1", path=str(path), name=name or f"raw/{kind}/{path.name}",
                     sha256=hash_file(path))
    given = {**({"length_um": 1.0} if kind == "exsy" else {}), **(settings or {})}
    return AnalysisTask(id=f"{kind}:m1", kind=kind, target="S-1", inputs=(item,), settings=given)


def write_xy(pattern, path: Path) -> Path:
    rows = "\n".join(f"{x:.4f} {y:.0f} {s:.4f}" for x, y, s in
                     zip(pattern.two_theta, pattern.intensity, pattern.sigma, strict=True))
    path.write_text("# simulated\n# 2theta [deg]  counts  sigma [counts]\n" + rows + "\n")
    return path


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Path:
    phases = [argyrodite(a=TRUTH_A["argyrodite"]), licl(a=TRUTH_A["LiCl"]), li2s(a=TRUTH_A["Li2S"])]
    pattern = simulate_pattern(
        phases, two_theta_range=(14.0, 75.0), instrument=Instrument(**INSTRUMENT),
        weight_fractions=[TRUTH_WT[n] / 100 for n in TRUTH_A], peak_counts=6000.0,
        background=[250.0, -40.0, 20.0], rng=8,
        phase_broadening=[PhaseBroadening(X=0.05, Y=0.12), PhaseBroadening(Y=0.05), PhaseBroadening(Y=0.05)])
    return write_xy(pattern, tmp_path_factory.mktemp("xrd") / "scan.xy")


@pytest.fixture(scope="module")
def refined(scan) -> dict:
    return run_xrd(task("xrd", scan))


@pytest.fixture(scope="module")
def buildups(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("exsy") / "buildup.csv"
    simulate_buildup("sphere", mixing_times_s=np.geomspace(0.01, 10.0, 12), D_cm2_s=D_298_CM2_S,
                     length_um=1.0, plateau=0.5, temperatures_K=[273.0, 298.0, 323.0, 348.0, 373.0],
                     Ea_eV=EA_EV, noise=0.01, rng=142, path=path)
    return path


@pytest.fixture(scope="module")
def diffusion(buildups) -> dict:
    return run_exsy(task("exsy", buildups))


def value(result: dict, key: str) -> float:
    return result["summary"][key]["value"]


def stderr(result: dict, key: str) -> float:
    return result["summary"][key]["stderr"]


# -- the contract ---------------------------------------------------------------------------------

def test_kinds_declare_sample_targets_and_defaults_the_runs_accept():
    kinds = {k.name: k for k in KINDS}
    assert sorted(kinds) == ["exsy", "xrd"]
    assert {(k.technique, k.target, k.grouped) for k in KINDS} == {("xrd", "sample", False),
                                                                  ("exsy", "sample", False)}
    assert kinds["xrd"].defaults["phases"][0] == "argyrodite"


@pytest.mark.parametrize("which", ["refined", "diffusion"])
def test_results_have_the_contract_keys_json_safe_and_units_the_core_converts(which, request):
    result = request.getfixturevalue(which)
    assert tuple(result) == RESULT_KEYS
    json.dumps(result, allow_nan=False)
    for key, entry in result["summary"].items():
        assert set(entry) == {"value", "stderr", "unit"}, key
        convert(1.0, entry["unit"], entry["unit"])  # raises for a unit ssbkit does not know
    assert result["provenance"]["analysis"]["kind"] == result["kind"]
    name = result["series"]["file"]
    assert result["provenance"]["inputs"][name].startswith("sha256:")
    assert str(Path(name).parent) == f"raw/{result['kind']}"  # the manifest's name, not the stored copy


# -- xrd ------------------------------------------------------------------------------------------

def test_xrd_recovers_the_simulated_cells_and_weight_fractions(refined):
    assert refined["success"], refined["message"]
    assert value(refined, "lattice_a") == pytest.approx(TRUTH_A["argyrodite"], abs=5e-4)
    assert refined["summary"]["lattice_a"]["unit"] == "Å"
    for row in refined["tables"]["phases"]:
        assert row["a [Å]"] == pytest.approx(TRUTH_A[row["phase"]], abs=1e-3), row["phase"]
        assert value(refined, f"wt_{row['phase']}") == pytest.approx(TRUTH_WT[row["phase"]], abs=1.5)
    assert sum(value(refined, f"wt_{n}") for n in TRUTH_WT) == pytest.approx(100.0)
    assert 0.9 < value(refined, "gof") < 1.2
    assert value(refined, "rwp") == pytest.approx(value(refined, "gof") * value(refined, "rexp"))


def test_xrd_with_the_true_instrument_gives_the_scherrer_size_of_the_simulated_width(scan):
    result = run_xrd(task("xrd", scan, settings={"instrument": MappingProxyType(INSTRUMENT)}))
    assert result["success"], result["message"]
    assert value(result, "size") == pytest.approx(SIZE_NM, abs=3 * stderr(result, "size") + 1.0)
    # X = 0.05° → ε = X·π/720, 0.0218 %
    strain = 0.05 * math.pi / 720 * 100
    assert value(result, "strain") == pytest.approx(strain, abs=3 * stderr(result, "strain"))


def test_xrd_negative_control_a_phase_left_out_fits_worse(scan, refined):
    result = run_xrd(task("xrd", scan, settings={"phases": ["argyrodite", "LiCl"]}))
    assert value(result, "rwp") > 1.1 * value(refined, "rwp")
    assert "wt_Li2S" not in result["summary"]


def test_xrd_series_are_small_and_hold_curves_and_ticks_per_phase(refined):
    series = refined["series"]
    x = series["two_theta [deg]"]
    assert 1000 < len(x) <= 1500
    assert np.all(np.diff(x) > 0)
    for label in ("observed [counts]", "calculated [counts]", "background [counts]", "difference [counts]"):
        assert len(series[label]) == len(x)
    obs, calc = np.array(series["observed [counts]"]), np.array(series["calculated [counts]"])
    assert np.allclose(np.array(series["difference [counts]"]), obs - calc, atol=0.02)
    assert list(series["ticks [deg]"]) == ["argyrodite", "LiCl", "Li2S"]
    # LiCl 200 at 2θ = 2·asin(λ/(2·a/2)): Bragg's law at the true cell (zero shift 0)
    licl_200 = 2 * math.degrees(math.asin(1.540593 / TRUTH_A["LiCl"]))
    assert min(abs(t - licl_200) for t in series["ticks [deg]"]["LiCl"]) < 0.01


def test_xrd_range_setting_limits_the_fitted_pattern(scan):
    # the manifest hands over read-only values: lists as tuples
    result = run_xrd(task("xrd", scan, settings={"range_deg": (20, 50), "phases": ("argyrodite", "LiCl")}))
    x = result["series"]["two_theta [deg]"]
    assert 20 <= x[0] and x[-1] <= 50
    assert result["provenance"]["settings"]["two_theta_range"] == [20, 50]


def test_xrd_twice_gives_identical_json(scan, refined):
    again = run_xrd(task("xrd", scan))
    assert json.dumps(again, sort_keys=True) == json.dumps(refined, sort_keys=True)


def test_xrd_bundled_example_gives_its_generating_cells_and_fractions():
    result = run_xrd(task("xrd", EXAMPLES / "xrd" / "argyrodite_licl_li2s.xy"))
    assert result["success"], result["message"]
    truth = {"argyrodite": (9.8532, 90.0), "LiCl": (5.1300, 6.0), "Li2S": (5.7080, 4.0)}
    for row in result["tables"]["phases"]:
        a, wt = truth[row["phase"]]
        assert row["a [Å]"] == pytest.approx(a, abs=5e-4)
        assert row["wt [%]"] == pytest.approx(wt, abs=1.0)


@pytest.mark.shared_data
def test_xrd_real_file_synth3_with_built_in_phases_matches_its_readme():
    path = shared_data("xrd", "synthetic_argyrodite", "synth3.xy")
    result = run_xrd(task("xrd", path))
    assert result["success"], result["message"]
    truth = {"argyrodite": (9.8532, 2e-4, 90.0), "LiCl": (5.1300, 5e-4, 6.0), "Li2S": (5.7080, 5e-4, 4.0)}
    for name, (a, tolerance, wt) in truth.items():
        row = next(r for r in result["tables"]["phases"] if r["phase"] == name)
        assert row["a [Å]"] == pytest.approx(a, abs=tolerance), name
        assert value(result, f"wt_{name}") == pytest.approx(wt, abs=1.5), name
    assert value(result, "rwp") < 5.39 + 0.3  # GSAS-II reached 5.39 % with the CIFs and instrument


def test_xrd_bad_file_is_an_input_error_naming_the_manifest_path(tmp_path):
    bad = tmp_path / "0123abcd.xy"
    bad.write_text("this is not a diffraction pattern\n")
    with pytest.raises(InputError) as caught:
        run_xrd(task("xrd", bad, name="raw/xrd/S-1.xy"))
    assert str(caught.value).startswith("raw/xrd/S-1.xy")
    assert str(tmp_path) not in str(caught.value)


@pytest.mark.parametrize(("settings", "where"), [
    ({"phases": ["argyrodite", "LiFoo"]}, "phases"),
    ({"phases": ["phase.cif"]}, "phases"),
    ({"phases": ["LiCl", "licl"]}, "phases"),
    ({"range_deg": [60, 20]}, "range_deg"),
    ({"mode": "fullprof"}, "mode"),
    ({"wavelength": "Unobtainium"}, "wavelength"),
    ({"instrument": {"U": 0.004, "Q": 1}}, "instrument"),
    ({"background_terms": 2.5}, "background_terms"),
])
def test_xrd_bad_settings_name_the_setting(scan, settings, where):
    with pytest.raises(InputError, match=rf"\[settings\.xrd\] {where}"):
        run_xrd(task("xrd", scan, settings=settings))


def test_xrd_figure_draws_the_stored_refinement_with_a_caption(refined):
    figures = xrd_figures(refined)
    assert [f.name for f in figures] == ["xrd_refinement"]
    figure, caption = figures[0].figure, figures[0].caption
    main = figure.axes[0]
    observed = next(line for line in main.get_lines() if line.get_gid() == "observed")
    assert len(observed.get_xdata()) == len(refined["series"]["two_theta [deg]"])
    assert {c.get_gid() for ax in figure.axes for c in ax.collections} >= {"ticks:argyrodite", "ticks:LiCl",
                                                                         "ticks:Li2S"}
    assert "Rwp" in caption and "argyrodite" in caption and "wt %" in caption
    assert f"{value(refined, 'rwp'):.2f} %" in caption


def test_xrd_figures_of_a_failed_result_say_so_and_of_an_empty_one_are_none(refined):
    failed = copy.deepcopy(refined)
    failed["success"], failed["message"] = False, "LiCl: cell on its bound"
    figures = xrd_figures(failed)
    assert len(figures) == 1 and "did not converge: LiCl: cell on its bound" in figures[0].caption
    unresolved = copy.deepcopy(refined)
    unresolved["summary"]["size"]["value"] = None  # an infinite size, as to_json_safe writes it
    unresolved["tables"]["phases"][0]["size lower limit [nm]"] = 184.8
    assert "crystallite size > 185 nm" in xrd_figures(unresolved)[0].caption
    empty = {"kind": "xrd", "success": False, "message": "x", "summary": {}, "tables": {}, "series": {},
             "provenance": {}}
    assert xrd_figures(empty) == []


# -- exsy -----------------------------------------------------------------------------------------

def test_exsy_recovers_the_simulated_activation_energy_and_d_at_25C(diffusion):
    assert diffusion["success"], diffusion["message"]
    assert value(diffusion, "ea") == pytest.approx(EA_EV, abs=0.01)
    assert diffusion["summary"]["ea"]["unit"] == "eV"
    assert diffusion["summary"]["d_298K"]["unit"] == "cm²/s"
    assert value(diffusion, "d_298K") == pytest.approx(D_298_CM2_S, rel=0.05)
    assert value(diffusion, "n_temperatures") == 5
    assert [row["temperature [K]"] for row in diffusion["tables"]["diffusion"]] == [273, 298, 323, 348, 373]


def test_exsy_d_at_25C_and_its_error_agree_with_an_independent_weighted_line(diffusion):
    rows = diffusion["tables"]["diffusion"]
    t = np.array([r["temperature [K]"] for r in rows])
    d = np.array([r["D [cm²/s]"] for r in rows])
    err = np.array([r["D stderr [cm²/s]"] for r in rows])
    # centred at 25 °C, the intercept is ln D(298.15 K); polyfit scales the covariance by χ²/(N − 2)
    (slope, intercept), cov = np.polyfit(1.0 / t - 1.0 / 298.15, np.log(d), 1, w=d / err, cov=True)
    assert value(diffusion, "d_298K") == pytest.approx(math.exp(intercept), rel=1e-9)
    assert stderr(diffusion, "d_298K") == pytest.approx(math.exp(intercept) * math.sqrt(cov[1, 1]), rel=1e-6)
    assert value(diffusion, "ea") == pytest.approx(-slope * BOLTZMANN_EV, rel=1e-9)


def test_exsy_wrong_model_gives_a_different_d(buildups, diffusion):
    gaussian = run_exsy(task("exsy", buildups, settings={"model": "gaussian"}))
    assert value(gaussian, "d_298K") > 3 * value(diffusion, "d_298K")
    assert gaussian["provenance"]["settings"]["model"] == "gaussian"


def test_exsy_first_order_model_reports_k_in_hz_without_a_length(tmp_path):
    path = tmp_path / "k.csv"
    simulate_buildup("first-order", mixing_times_s=np.geomspace(0.01, 10.0, 12), k_per_s=1.0, plateau=0.4,
                     temperatures_K=[273.0, 298.15, 323.0, 348.0], Ea_eV=0.2, noise=0.005, rng=1, path=path)
    result = run_exsy(task("exsy", path, settings={"model": "first-order", "length_um": 1.0}))
    assert result["summary"]["k_298K"]["unit"] == "Hz"
    assert value(result, "k_298K") == pytest.approx(1.0, rel=0.03)
    assert value(result, "ea") == pytest.approx(0.2, abs=0.01)
    assert result["series"]["length_um"] is None and "exchange" in result["tables"]


def test_exsy_bundled_example_gives_its_generating_ea():
    result = run_exsy(task("exsy", EXAMPLES / "nmr" / "exsy_buildup.csv"))
    # examples/make_nmr_data.py: sphere, L = 1 µm, D = 1e-9 cm²/s at 298.15 K, Ea = 0.107 eV
    assert value(result, "ea") == pytest.approx(0.107, abs=0.01)
    assert value(result, "d_298K") == pytest.approx(1e-9, rel=0.05)


def test_exsy_table_without_temperatures_is_an_input_error_naming_the_file(tmp_path):
    path = tmp_path / "feedbeef.csv"
    simulate_buildup("sphere", mixing_times_s=np.geomspace(0.01, 10.0, 10), D_cm2_s=1e-9, length_um=1.0,
                     path=path)
    with pytest.raises(InputError, match=r"^raw/exsy/one\.csv: no 'temperature \[K\]' column"):
        run_exsy(task("exsy", path, name="raw/exsy/one.csv"))


def test_exsy_peak_volume_table_is_refused_with_what_it_is():
    with pytest.raises(InputError, match=r"^raw/exsy/v\.csv: a peak-volume table"):
        run_exsy(task("exsy", EXAMPLES / "nmr" / "exsy_volumes.csv", name="raw/exsy/v.csv"))


def test_exsy_one_temperature_only_is_an_input_error(tmp_path):
    path = tmp_path / "one_t.csv"
    simulate_buildup("sphere", mixing_times_s=np.geomspace(0.01, 10.0, 10), D_cm2_s=1e-9, length_um=1.0,
                     temperatures_K=[300.0], path=path)
    with pytest.raises(InputError, match="one temperature only"):
        run_exsy(task("exsy", path))


@pytest.mark.parametrize(("settings", "where"), [
    ({"model": "cylinder"}, "model"), ({"length_um": -1}, "length_um"), ({"plateau": "fixed"}, "plateau"),
    ({"normalisation": "cross/total"}, "normalisation"), ({"pair": 3}, "pair")])
def test_exsy_bad_settings_name_the_setting(buildups, settings, where):
    with pytest.raises(InputError, match=rf"\[settings\.exsy\] {where}"):
        run_exsy(task("exsy", buildups, settings=settings))


def test_exsy_a_model_with_a_length_but_no_length_um_is_refused_not_given_1_um(buildups):
    """Regression: length_um defaulted to 1 µm silently, while D scales with L²."""
    from ssbkit.study.material_analyses import EXSY_DEFAULTS

    assert EXSY_DEFAULTS["length_um"] is None
    for model in ("sphere", "cube"):
        with pytest.raises(InputError, match=r"^\[settings\.exsy\] length_um: .*add length_um = "):
            run_exsy(task("exsy", buildups, settings={"model": model, "length_um": None}))
    # a model without a length needs none; the given one gives back the simulated D
    assert run_exsy(task("exsy", buildups, settings={"model": "first-order", "length_um": None}))["success"]
    assert value(run_exsy(task("exsy", buildups, settings={"length_um": 1.0})), "d_298K") == pytest.approx(
        D_298_CM2_S, rel=0.05)


def test_examples_study_manifest_gives_the_length_its_build_ups_were_made_with():
    from ssbkit.study.manifest import load_manifest

    settings = load_manifest(EXAMPLES.parent / "study").settings["exsy"]
    assert settings["length_um"] == 1.0  # examples/make_nmr_data.py: sphere, L = 1 µm, D = 1e-9 cm²/s
    result = run_exsy(task("exsy", EXAMPLES / "nmr" / "exsy_buildup.csv", settings=dict(settings)))
    assert value(result, "d_298K") == pytest.approx(1e-9, rel=0.05)


def test_exsy_an_error_at_one_temperature_names_the_file_once(tmp_path):
    """Regression: 'raw/exsy/x.csv: raw/exsy/x.csv at 320 K: ...'."""
    table = simulate_buildup("sphere", mixing_times_s=np.geomspace(0.01, 10.0, 10), D_cm2_s=1e-9,
                             length_um=1.0, plateau=0.5, temperatures_K=[300.0, 320.0], Ea_eV=0.1,
                             noise=0.01, rng=1)
    table.loc[table["temperature [K]"] == 320.0, "intensity"] *= 1e160  # beyond the fit's sums of squares
    path = tmp_path / "0f1e2d.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError) as caught:
        run_exsy(task("exsy", path, name="raw/exsy/x.csv"))
    message = str(caught.value)
    assert message.startswith("raw/exsy/x.csv: at 320 K: intensities up to")
    assert message.count("raw/exsy/x.csv") == 1 and "0f1e2d" not in message


def test_exsy_a_temperature_with_only_a_bound_is_left_off_the_line_and_fails_the_result(tmp_path):
    times = np.geomspace(0.01, 10.0, 12)
    path = tmp_path / "partly.csv"
    good = simulate_buildup("sphere", mixing_times_s=times, D_cm2_s=1e-9, length_um=1.0, plateau=0.5,
                            temperatures_K=[273.0, 298.0, 323.0], Ea_eV=EA_EV, noise=0.01, rng=3)
    complete = simulate_buildup("sphere", mixing_times_s=times, D_cm2_s=1e-5, length_um=1.0, plateau=0.5,
                                temperatures_K=[400.0], noise=0.01, rng=4)  # done before the first 10 ms
    import pandas as pd

    pd.concat([good, complete]).to_csv(path, index=False)
    result = run_exsy(task("exsy", path))
    assert not result["success"] and "400 K" in result["message"]
    assert value(result, "n_temperatures") == 3
    assert value(result, "ea") == pytest.approx(EA_EV, abs=0.03)
    figures = exsy_figures(result)
    assert [f.name for f in figures] == ["exsy_buildup", "exsy_arrhenius"]
    assert all("Not every fit succeeded" in f.caption for f in figures)


def test_exsy_twice_gives_identical_json(buildups, diffusion):
    again = run_exsy(task("exsy", buildups))
    assert json.dumps(again, sort_keys=True) == json.dumps(diffusion, sort_keys=True)


def test_exsy_figures_draw_buildups_with_fits_and_the_arrhenius_line(diffusion):
    buildup, line = exsy_figures(diffusion)
    assert buildup.name == "exsy_buildup" and line.name == "exsy_arrhenius"
    gids = {artist.get_gid() for artist in buildup.figure.axes[0].get_lines()}
    assert {"data 273 K", "fit 273 K", "fit 373 K"} <= gids
    fit_298 = next(a for a in buildup.figure.axes[0].get_lines() if a.get_gid() == "fit 298 K")
    curve = next(c for c in diffusion["series"]["buildup"] if c["temperature [K]"] == 298.0)
    # the redrawn curve is the stored fit: same model, rate and plateau
    assert np.interp(1.0, fit_298.get_xdata(), fit_298.get_ydata()) == pytest.approx(
        np.interp(1.0, curve["fit mixing_time [s]"], curve["fit intensity"]), rel=2e-3)
    assert "sphere" in buildup.caption and "298 K" in buildup.caption
    assert f"Ea = {value(diffusion, 'ea'):.3g}" in line.caption and "D(25 °C)" in line.caption
    fitted = next(a for a in line.figure.axes[0].get_lines() if a.get_gid() == "fit")
    assert fitted.get_label().startswith(f"Ea = {value(diffusion, 'ea'):.3f}")


def test_exsy_figures_of_an_empty_result_are_none():
    assert exsy_figures({"kind": "exsy", "success": False, "message": "", "summary": {}, "tables": {},
                         "series": {}, "provenance": {}}) == []
