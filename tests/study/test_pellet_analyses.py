"""The conductivity and electronic analyses of a study: synthetic truth, the example files, a real
pellet series, negative controls, determinism and figures."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.core.units import convert
from ssbkit.eis.simulate import simulate_polarisation, simulate_spectrum
from ssbkit.study.kinds import RESULT_KEYS, AnalysisTask, TaskInput
from ssbkit.study.pellet_analyses import (
    CONDUCTIVITY_DEFAULTS,
    KINDS,
    conductivity_figures,
    electronic_figures,
    run_conductivity,
    run_electronic,
)
from ssbkit.testing import shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
K_B = 8.617333262e-5  # eV/K
EA, SIGMA_25 = 0.30, 5e-3  # the synthetic pellet: eV, S/cm at 25 °C
D_MM, L_MM = 10.0, 1.0
AREA_CM2 = math.pi * (D_MM / 20) ** 2
FREQUENCY = np.logspace(6.8, -1, 60)


def sigma_true(t_c):
    """σT = A exp(−Ea/k_B T), pinned to SIGMA_25 at 25 °C [S/cm]."""
    t = t_c + 273.15
    return SIGMA_25 * (298.15 / t) * math.exp(-EA / K_B * (1 / t - 1 / 298.15))


def write_spectra(path, spectra):
    rows = np.vstack([np.column_stack([s.frequency, s.impedance.real, s.impedance.imag]) for s in spectra])
    np.savetxt(path, rows, delimiter=",", fmt="%.10e", header="frequency [Hz],Z' [Ohm],Z'' [Ohm]",
               comments="")
    return path


def pellet_spectrum(t_c, *, noise=0.0, rng=None, r0=None):
    """A sulfide pellet above the analyser's range: the intercept R0 = L/(σA) and the electrode spike."""
    r = L_MM / 10 / (sigma_true(t_c) * AREA_CM2) if r0 is None else r0
    return simulate_spectrum("R0-CPE1", {"R0": r, "CPE1_0": 5e-6, "CPE1_1": 0.85}, FREQUENCY, noise=noise,
                             rng=rng)


def task_of(inputs, *, kind="conductivity", settings=None, diameter_mm=D_MM, thickness_mm=L_MM):
    return AnalysisTask(id=f"{kind}:P1", kind=kind, target="P1", inputs=tuple(inputs),
                        settings=settings or {},
                        context={"diameter_mm": diameter_mm, "thickness_mm": thickness_mm})


def series_inputs(folder, temperatures, *, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    inputs = []
    for t in temperatures:
        # the stored copy is named by its hash; the manifest's name is what messages must use
        path = write_spectra(folder / f"c0ffee{seed:02d}{t + 100:04d}.csv",
                             [pellet_spectrum(t, noise=noise, rng=rng)])
        inputs.append(TaskInput(f"eis-P1-{t}C", str(path), f"raw/eis/P1_{t}C.csv", "sha256:x",
                                {"temperature_C": t}))
    return inputs


def example_inputs(temperatures=(-20, 0, 25, 50, 80)):
    return [TaskInput(f"eis-{t}", str(EXAMPLES / f"argyrodite_{t}C.csv"), f"raw/argyrodite_{t}C.csv",
                      "sha256:x", {"temperature_C": t}) for t in temperatures]


@pytest.fixture(scope="module")
def example_result():
    return run_conductivity(task_of(example_inputs(), diameter_mm=10.0, thickness_mm=0.85))


def value(result, key):
    return result["summary"][key]["value"]


# -- the contract --------------------------------------------------------------------------

def test_kinds_declare_the_pellet_analyses():
    kinds = {k.name: k for k in KINDS}
    assert set(kinds) == {"conductivity", "electronic"}
    assert all(k.target == "pellet" and k.grouped for k in KINDS)
    assert (kinds["conductivity"].technique, kinds["electronic"].technique) == ("eis", "dcpol")
    json.dumps(kinds["conductivity"].defaults), json.dumps(kinds["electronic"].defaults)


def test_result_is_strict_json_with_the_contract_keys_and_known_units(example_result):
    assert tuple(example_result) == RESULT_KEYS
    json.dumps(example_result, allow_nan=False)
    for name, estimate in example_result["summary"].items():
        assert set(estimate) == {"value", "stderr", "unit"}, name
        convert(1.0, estimate["unit"], estimate["unit"])  # a unit ssbkit knows
    assert {"sigma_25C", "ea", "n_temperatures"} <= set(example_result["summary"])
    assert example_result["summary"]["sigma_25C"]["unit"] == "mS/cm"
    assert example_result["summary"]["ea"]["unit"] == "eV"


# -- truth: closed form and synthetic spectra ----------------------------------------------

def test_noiseless_series_gives_the_exact_conductivities_and_activation_energy(tmp_path):
    r = run_conductivity(task_of(series_inputs(tmp_path, (-10, 25, 60))))
    assert r["success"], r["message"]
    assert value(r, "ea") == pytest.approx(EA, abs=1e-6)
    assert value(r, "sigma_25C") == pytest.approx(SIGMA_25 * 1e3, rel=1e-6)
    assert value(r, "n_temperatures") == 3
    for row in r["tables"]["conductivity"]:
        t = row["temperature [°C]"]
        assert row["sigma [mS/cm]"] == pytest.approx(sigma_true(t) * 1e3, rel=1e-6)
        # σ = L/(R·A), by hand from the table's R
        by_hand = 1e3 * 0.1 / (row["resistance [Ohm]"] * AREA_CM2)
        assert row["sigma [mS/cm]"] == pytest.approx(by_hand, rel=1e-12)
        assert row["process"] == "intercept"


def test_noisy_series_recovers_sigma_and_ea(tmp_path):
    r = run_conductivity(task_of(series_inputs(tmp_path, (-20, 0, 25, 50, 80), noise=0.003, seed=7)))
    assert r["success"], r["message"]
    assert value(r, "ea") == pytest.approx(EA, abs=0.003)
    assert value(r, "sigma_25C") == pytest.approx(SIGMA_25 * 1e3, rel=0.01)
    assert "measured" in r["message"]


def test_negative_control_the_wrong_thickness_gives_the_wrong_sigma(tmp_path):
    inputs = series_inputs(tmp_path, (-10, 25, 60))
    wrong = run_conductivity(task_of(inputs, thickness_mm=2 * L_MM))
    assert abs(value(wrong, "sigma_25C") / (SIGMA_25 * 1e3) - 1) > 0.5
    assert value(wrong, "ea") == pytest.approx(EA, abs=1e-6)  # geometry scales σ, not its slope


def test_without_a_25C_measurement_sigma_comes_from_the_arrhenius_line(tmp_path):
    r = run_conductivity(task_of(series_inputs(tmp_path, (0, 40, 80))))
    assert value(r, "sigma_25C") == pytest.approx(SIGMA_25 * 1e3, rel=1e-6)
    assert "Arrhenius line (interpolated" in r["message"]


def test_a_resolved_bulk_arc_through_the_settings(tmp_path):
    """A pellet whose bulk arc is inside the range: circuit and process come from the settings."""
    inputs = []
    truth = {}
    for t, r1 in ((30, 2e4), (90, 4e3)):
        s = simulate_spectrum("p(R1,CPE1)-CPE2", {"R1": r1, "CPE1_0": 2e-11, "CPE1_1": 0.95,
                                                  "CPE2_0": 1e-6, "CPE2_1": 0.8}, FREQUENCY)
        path = write_spectra(tmp_path / f"b{t}.csv", [s])
        inputs.append(TaskInput(f"m{t}", str(path), f"bulk_{t}C.csv", "x", {"temperature_C": t}))
        truth[t] = 0.1 / (r1 * AREA_CM2)
    r = run_conductivity(task_of(inputs, settings={"circuit": "p(R1,CPE1)-CPE2", "process": "bulk"}))
    assert r["success"], r["message"]
    for row in r["tables"]["conductivity"]:
        assert row["process"] == "bulk"
        assert row["sigma [mS/cm]"] == pytest.approx(1e3 * truth[row["temperature [°C]"]], rel=1e-5)
    by_hand = K_B * math.log(truth[90] * 363.15 / (truth[30] * 303.15)) / (1 / 303.15 - 1 / 363.15)
    assert value(r, "ea") == pytest.approx(by_hand, rel=1e-5)


def test_the_last_sweep_of_a_file_is_used_unless_another_is_chosen(tmp_path):
    path = write_spectra(tmp_path / "two.csv", [pellet_spectrum(25, r0=10.0), pellet_spectrum(25, r0=20.0)])
    inputs = [TaskInput("m", str(path), "two_sweeps.csv", "x", {"temperature_C": 25})]
    last = run_conductivity(task_of(inputs))
    first = run_conductivity(task_of(inputs, settings={"sweep": 0}))
    assert last["tables"]["conductivity"][0]["resistance [Ohm]"] == pytest.approx(20.0, rel=1e-6)
    assert first["tables"]["conductivity"][0]["resistance [Ohm]"] == pytest.approx(10.0, rel=1e-6)
    with pytest.raises(InputError, match="two_sweeps.csv.*2 sweep"):
        run_conductivity(task_of(inputs, settings={"sweep": 5}))


@pytest.mark.parametrize("what", ["spike only", "noise"])
def test_a_fit_that_does_not_determine_the_resistance_is_left_out_and_does_not_unweight_the_line(
        tmp_path, what):
    """Regression: a converged fit with R → 0 and no standard error gave σ ≈ 1e18 mS/cm, made the
    whole Arrhenius line unweighted and left success True."""
    from ssbkit.eis.data import Spectrum

    temperatures = (-20, 0, 25, 50, 80)
    control = series_inputs(tmp_path, temperatures, noise=0.003, seed=5)
    if what == "spike only":  # Z' = 0, Z'' = −1/(ωC): no intercept to read
        z = -1j / (2 * np.pi * FREQUENCY * 5e-6)
    else:
        rng = np.random.default_rng(25)
        z = rng.normal(0.0, 1.0, FREQUENCY.size) + 1j * rng.normal(0.0, 1.0, FREQUENCY.size)
    path = write_spectra(tmp_path / "badc0de.csv", [Spectrum(FREQUENCY, z)])
    inputs = [TaskInput(i.measurement, str(path), i.name, "sha256:y", i.conditions) if "25C" in i.name else i
              for i in control]
    r = run_conductivity(task_of(inputs))
    assert not r["success"]
    assert "raw/eis/P1_25C.csv" in r["message"] and "left out" in r["message"]
    row = next(row for row in r["tables"]["conductivity"] if row["temperature [°C]"] == 25)
    assert row["in Arrhenius fit"] is False and row["note"]
    assert value(r, "n_temperatures") == 4 and r["series"]["arrhenius"]["weighted"] is True
    assert 25.0 + 273.15 not in r["series"]["arrhenius"]["temperature_K"]
    assert value(r, "ea") == pytest.approx(EA, abs=0.003)
    # σ(25 °C) from the line through the other four, not from the meaningless fit
    assert value(r, "sigma_25C") == pytest.approx(SIGMA_25 * 1e3, rel=0.01)
    assert "Arrhenius line (interpolated" in r["message"]
    # negative control: the series with its real 25 °C spectrum keeps all five
    good = run_conductivity(task_of(control))
    assert good["success"] and value(good, "n_temperatures") == 5
    assert all(row["in Arrhenius fit"] and row["note"] == "" for row in good["tables"]["conductivity"])


def test_one_temperature_gives_sigma_but_no_activation_energy(tmp_path):
    r = run_conductivity(task_of(series_inputs(tmp_path, (25,))))
    assert r["success"]
    assert value(r, "n_temperatures") == 1
    assert value(r, "ea") is None
    assert "no Arrhenius fit" in r["message"]


# -- bad input -----------------------------------------------------------------------------

def test_a_missing_temperature_names_the_measurement_and_file(tmp_path):
    inputs = series_inputs(tmp_path, (0, 25))
    inputs[1] = TaskInput(inputs[1].measurement, inputs[1].path, inputs[1].name, "x", {})
    with pytest.raises(InputError, match=r"^raw/eis/P1_25C.csv: measurement 'eis-P1-25C' has no temp"):
        run_conductivity(task_of(inputs))


def test_a_file_that_is_not_impedance_is_named_as_the_manifest_names_it(tmp_path):
    stored = tmp_path / "9f86d081884c.csv"
    shutil.copy(EXAMPLES / "dcpol.csv", stored)
    inputs = [TaskInput("eis-P1-25C", str(stored), "raw/eis/P1_25C.csv", "x", {"temperature_C": 25})]
    with pytest.raises(InputError) as caught:
        run_conductivity(task_of(inputs))
    assert str(caught.value).startswith("raw/eis/P1_25C.csv: holds no impedance spectrum")
    assert "9f86d081884c" not in str(caught.value)


@pytest.mark.parametrize(("settings", "match"), [
    ({"circut": "R0-CPE1"}, r"\[settings.conductivity\] circut: unknown setting"),
    ({"circuit": "R0-p(R1,CPE1"}, r"\[settings.conductivity\] circuit: .*not closed"),
    ({"process": "bulky"}, r"\[settings.conductivity\] process: must be one of"),
    ({"weighted": "yes"}, r"\[settings.conductivity\] weighted"),
    ({"assign": {"R0": "core"}}, r"\[settings.conductivity\] assign.R0"),
])
def test_bad_settings_name_the_setting(tmp_path, settings, match):
    with pytest.raises(InputError, match=match):
        run_conductivity(task_of(series_inputs(tmp_path, (25,)), settings=settings))


def test_a_pellet_without_thickness_is_refused(tmp_path):
    task = AnalysisTask("conductivity:P1", "conductivity", "P1", tuple(series_inputs(tmp_path, (25,))),
                        context={"diameter_mm": 10.0})
    with pytest.raises(InputError, match="pellet P1: needs thickness_mm"):
        run_conductivity(task)


def test_a_process_the_fit_does_not_have_names_the_file(tmp_path):
    with pytest.raises(InputError, match=r"raw/eis/P1_25C.csv: .*no bulk resistance"):
        run_conductivity(task_of(series_inputs(tmp_path, (25,)), settings={"process": "bulk"}))


# -- the example files ---------------------------------------------------------------------

def test_the_example_argyrodite_series_gives_the_papers_numbers(example_result):
    """examples/data/argyrodite_*C.csv were made with σ(25 °C) = 13.3 mS/cm and Ea = 0.28 eV."""
    assert CONDUCTIVITY_DEFAULTS["circuit"] == "R0-CPE1"
    assert example_result["success"], example_result["message"]
    assert value(example_result, "sigma_25C") == pytest.approx(13.3, rel=0.005)
    assert value(example_result, "ea") == pytest.approx(0.28, abs=0.001)
    assert value(example_result, "n_temperatures") == 5
    assert example_result["message"].startswith("σ(25 °C) measured: raw/argyrodite_25C.csv")
    temperatures = [row["temperature [°C]"] for row in example_result["tables"]["conductivity"]]
    assert temperatures == [-20.0, 0.0, 25.0, 50.0, 80.0]


def test_series_are_small_and_hold_no_stored_paths(example_result):
    text = json.dumps(example_result)
    assert str(EXAMPLES) not in text
    for curve in example_result["series"]["nyquist"]:
        assert 2 <= len(curve["frequency"]) <= 200
        assert len(curve["fit_real"]) == len(curve["z_real"]) == len(curve["frequency"])


def test_the_same_inputs_in_any_order_give_the_identical_dict(example_result):
    again = run_conductivity(task_of(example_inputs()[::-1], diameter_mm=10.0, thickness_mm=0.85))
    assert json.dumps(again, sort_keys=True) == json.dumps(example_result, sort_keys=True)


# -- a real pellet -------------------------------------------------------------------------

EISFIT = ("eis", "EISFitpython", "Example-3-4")
EISFIT_CIRCUIT = "p(R1,CPE1)-p(R2,CPE2)-CPE3"


def eisfit_inputs(temperatures):
    return [TaskInput(f"m{t}", str(shared_data(*EISFIT, f"s04147-{t}deg.txt")), f"s04147-{t}deg.txt", "x",
                      {"temperature_C": t}) for t in temperatures]


@pytest.mark.shared_data
def test_a_real_spectrum_gives_sigma_from_the_intercept_read_by_hand():
    """s04147 at 200 °C (d = 8 mm, L = 2.1 mm): the arcs end on the real axis where −Z'' is least,
    before the electrode spike rises; that Z' is the total resistance read by hand."""
    path = shared_data(*EISFIT, "s04147-200deg.txt")
    _, z_re, z_im = np.loadtxt(path, skiprows=3, unpack=True)
    r_hand = z_re[np.argmin(-z_im)]
    area = math.pi * 0.4**2
    r = run_conductivity(task_of(eisfit_inputs([200]), diameter_mm=8.0, thickness_mm=2.1,
                                 settings={"circuit": EISFIT_CIRCUIT, "process": "total"}))
    assert r["success"], r["message"]
    row = r["tables"]["conductivity"][0]
    assert row["sigma [mS/cm]"] == pytest.approx(1e3 * 0.21 / (row["resistance [Ohm]"] * area), rel=1e-12)
    assert row["sigma [mS/cm]"] == pytest.approx(1e3 * 0.21 / (r_hand * area), rel=0.03)
    assert value(r, "sigma_25C") is None and value(r, "ea") is None  # one temperature, not 25 °C


@pytest.mark.shared_data
@pytest.mark.parametrize(("process", "ea", "ea_se"), [("bulk", 0.5869, 0.0163), ("total", 0.8555, None)])
def test_the_real_temperature_series_gives_the_authors_activation_energies(process, ea, ea_se):
    """Adediwura et al. (J. Mater. Chem. A 2024), EISFitpython's Arrhenius report: unweighted σT fits
    of the same circuit; their °C → K offset is 273, ours 273.15, hence 1 meV."""
    r = run_conductivity(task_of(eisfit_inputs(range(140, 201, 10)), diameter_mm=8.0, thickness_mm=2.1,
                                 settings={"circuit": EISFIT_CIRCUIT, "process": process, "weighted": False}))
    assert r["success"], r["message"]
    assert value(r, "n_temperatures") == 7
    assert value(r, "ea") == pytest.approx(ea, abs=0.001)
    if ea_se is not None:
        assert r["summary"]["ea"]["stderr"] == pytest.approx(ea_se, rel=0.05)
    assert "extrapolated" in r["message"]


# -- figures -------------------------------------------------------------------------------

def test_figures_of_the_conductivity(example_result):
    specs = conductivity_figures(example_result)
    assert [s.name for s in specs] == ["nyquist", "arrhenius"]
    nyquist, arrhenius = specs
    assert "R0-CPE1" in nyquist.caption and "13.31" in nyquist.caption
    assert "Ea = 0.2800" in arrhenius.caption
    assert len(nyquist.figure.axes) == 2  # the spike dwarfs the intercepts: a zoomed panel beside
    assert any(line.get_gid() == "fit" for line in arrhenius.figure.axes[0].lines)
    for spec in specs:
        spec.figure.clear()


def test_figures_of_a_failed_result_do_not_raise(example_result):
    specs = conductivity_figures({**example_result, "success": False, "message": "fit did not converge"})
    assert len(specs) == 2
    for spec in specs:
        spec.figure.clear()
    assert conductivity_figures({"kind": "conductivity", "success": False, "message": "bad file",
                                 "summary": {}, "tables": {}, "series": {}, "provenance": None}) == []
    assert conductivity_figures({"kind": "conductivity", "success": False}) == []


# -- electronic conductivity ---------------------------------------------------------------

def dc_input(folder, record, name="raw/dcpol/P1.csv"):
    path = folder / "5e884898da28.csv"
    np.savetxt(path, np.column_stack([record.time, record.voltage, record.current]), delimiter=",",
               fmt="%.10e", header="time [s],voltage [V],current [A]", comments="")
    return TaskInput("dcpol-P1", str(path), name, "x", {"temperature_C": 25})


def synthetic_polarisation(r_e=5e7):
    return simulate_polarisation([0.1, 0.2, 0.3, 0.4, 0.5], electronic_resistance=r_e, ionic_resistance=1e3,
                                 time_constant_s=20.0, step_duration_s=600.0, points_per_step=301,
                                 noise_A=1e-12, rng=np.random.default_rng(3))


def test_electronic_conductivity_recovers_a_known_resistance(tmp_path):
    r = run_electronic(task_of([dc_input(tmp_path, synthetic_polarisation())], kind="electronic"))
    assert tuple(r) == RESULT_KEYS
    assert r["success"], r["message"]
    assert value(r, "r_electronic") == pytest.approx(5e7, rel=0.01)
    assert value(r, "sigma_electronic") == pytest.approx(0.1 / (5e7 * AREA_CM2), rel=0.01)
    assert r["summary"]["sigma_electronic"]["unit"] == "S/cm"
    assert value(r, "n_steps") == 5
    assert {row["file"] for row in r["tables"]["steps"]} == {"raw/dcpol/P1.csv"}


def test_negative_control_averaging_the_whole_decay_gives_the_wrong_resistance(tmp_path):
    r = run_electronic(task_of([dc_input(tmp_path, synthetic_polarisation())], kind="electronic",
                               settings={"tail_fraction": 1.0}))
    assert value(r, "r_electronic") < 0.5 * 5e7


def test_the_example_dcpol_file():
    """examples/data/dcpol.csv was made with R_e = 2.4e8 Ohm (d = 10 mm, L = 0.85 mm)."""
    item = TaskInput("dcpol", str(EXAMPLES / "dcpol.csv"), "raw/dcpol.csv", "x", {})
    r = run_electronic(task_of([item], kind="electronic", thickness_mm=0.85))
    assert r["success"], r["message"]
    assert value(r, "r_electronic") == pytest.approx(2.4e8, rel=0.002)
    assert value(r, "sigma_electronic") == pytest.approx(0.085 / (2.4e8 * AREA_CM2), rel=0.002)
    again = run_electronic(task_of([item], kind="electronic", thickness_mm=0.85))
    assert json.dumps(again, sort_keys=True) == json.dumps(r, sort_keys=True)
    json.dumps(r, allow_nan=False)
    specs = electronic_figures(r)
    assert [s.name for s in specs] == ["dc_polarisation"]
    assert "R_e = 2.401e+08" in specs[0].caption
    for spec in specs + electronic_figures({**r, "success": False}):
        spec.figure.clear()
    assert electronic_figures({"kind": "electronic", "success": False, "series": {}}) == []


def test_an_impedance_file_given_as_dc_polarisation_is_named(tmp_path):
    stored = shutil.copy(EXAMPLES / "argyrodite_25C.csv", tmp_path / "0a1b2c.csv")
    item = TaskInput("dcpol-P1", str(stored), "raw/dcpol/P1.csv", "x", {})
    with pytest.raises(InputError, match=r"^raw/dcpol/P1.csv: holds no chronoamperometry record"):
        run_electronic(task_of([item], kind="electronic"))


def test_a_single_voltage_step_is_refused_naming_the_file(tmp_path):
    record = simulate_polarisation([0.2], electronic_resistance=1e8, ionic_resistance=1e3)
    with pytest.raises(InputError, match=r"raw/dcpol/P1.csv: the I–V line needs steps at 2 or more"):
        run_electronic(task_of([dc_input(tmp_path, record)], kind="electronic"))
