"""The DRT analysis of a study: peak positions and resistances of synthetic cells, the example
charge series, a real multi-sweep file, bad input, determinism and figures."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.core.units import convert
from ssbkit.eis.simulate import simulate_spectrum
from ssbkit.io import read_spectra
from ssbkit.study.drt_analysis import DRT_DEFAULTS, KINDS, drt_figures, region_of, run_drt
from ssbkit.study.kinds import RESULT_KEYS, AnalysisTask, TaskInput
from ssbkit.testing import shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
FREQUENCY = np.logspace(6, -2, 81)
CELL = "R0-ZARC1-ZARC2"
R_CT = (20.0, 40.0, 60.0)  # the charge-transfer arc grows over the charge


def cell_spectrum(r_ct, *, tau_ct=0.1, noise=0.0, rng=None):
    """R∞ = 10 Ohm, an interface arc (20 Ohm, τ = 1e-4 s) and a charge-transfer arc (r_ct, τ_ct)."""
    return simulate_spectrum(CELL, {"R0": 10.0, "ZARC1_0": 20.0, "ZARC1_1": 1e-4, "ZARC1_2": 0.95,
                                    "ZARC2_0": r_ct, "ZARC2_1": tau_ct, "ZARC2_2": 0.95},
                             FREQUENCY, noise=noise, rng=rng)


def write_sweeps(path, spectra):
    rows = np.vstack([np.column_stack([s.frequency, s.impedance.real, s.impedance.imag]) for s in spectra])
    np.savetxt(path, rows, delimiter=",", fmt="%.10e", header="frequency [Hz],Z' [Ohm],Z'' [Ohm]",
               comments="")
    return path


def task_of(path, *, name="raw/eis/C1_charge.csv", conditions=None, settings=None):
    item = TaskInput("eis-C1", str(path), name, "sha256:x",
                     {"soc_percent": [0, 50, 100]} if conditions is None else conditions)
    return AnalysisTask(id="drt:eis-C1", kind="drt", target="C1", inputs=(item,), settings=settings or {})


@pytest.fixture(scope="module")
def synthetic_file(tmp_path_factory):
    rng = np.random.default_rng(11)
    path = tmp_path_factory.mktemp("drt") / "3b5d5c3712955042.csv"
    return write_sweeps(path, [cell_spectrum(r, noise=0.001, rng=rng) for r in R_CT])


@pytest.fixture(scope="module")
def synthetic_result(synthetic_file):
    return run_drt(task_of(synthetic_file))


def value(result, key):
    return result["summary"][key]["value"]


# -- the contract --------------------------------------------------------------------------

def test_the_drt_kind():
    (kind,) = KINDS
    assert (kind.name, kind.technique, kind.target, kind.grouped) == ("drt", "eis", "cell", False)
    json.dumps(kind.defaults)


def test_result_is_strict_json_with_the_contract_keys(synthetic_result):
    assert tuple(synthetic_result) == RESULT_KEYS
    json.dumps(synthetic_result, allow_nan=False)
    assert {"r_polarisation_first", "r_polarisation_last", "n_sweeps"} <= set(synthetic_result["summary"])
    for estimate in synthetic_result["summary"].values():
        convert(1.0, estimate["unit"], estimate["unit"])
    assert synthetic_result["summary"]["r_polarisation_first"]["unit"] == "Ohm"
    assert "3b5d5c3712955042" not in json.dumps(synthetic_result)


def test_region_of_takes_the_first_region_holding_tau():
    regions = {"a": (1e-3, 1e-1), "b": (1e-2, 1.0)}
    found = [region_of(t, regions) for t in (1e-4, 1e-3, 5e-2, 0.5, 1.0)]
    assert found == ["outside", "a", "a", "b", "outside"]


# -- synthetic truth -----------------------------------------------------------------------

def test_synthetic_cell_recovers_resistances_and_peak_positions(synthetic_result):
    r = synthetic_result
    assert r["success"], r["message"]
    assert value(r, "n_sweeps") == 3
    assert value(r, "r_polarisation_first") == pytest.approx(20.0 + R_CT[0], rel=0.02)
    assert value(r, "r_polarisation_last") == pytest.approx(20.0 + R_CT[-1], rel=0.02)
    assert value(r, "r_inf_first") == pytest.approx(10.0, rel=0.02)
    # a ZARC of φ = 0.95 holds 99 % of its resistance within a decade either side of τ
    assert value(r, "r_charge_transfer_last") == pytest.approx(R_CT[-1], rel=0.03)
    rows = r["tables"]["regions"]
    assert [row["soc [%]"] for row in rows] == [0.0, 50.0, 100.0]
    assert [row["charge_transfer [Ohm]"] for row in rows] == pytest.approx(R_CT, rel=0.03)
    assert [row["interface [Ohm]"] for row in rows] == pytest.approx([20.0] * 3, rel=0.03)
    for sweep in range(3):
        peaks = [p for p in r["tables"]["peaks"] if p["sweep"] == sweep]
        ct = max((p for p in peaks if p["region"] == "charge_transfer"), key=lambda p: p["resistance [Ohm]"])
        interface = max((p for p in peaks if p["region"] == "interface"), key=lambda p: p["resistance [Ohm]"])
        assert math.log10(ct["tau [s]"]) == pytest.approx(-1.0, abs=0.1)
        assert math.log10(interface["tau [s]"]) == pytest.approx(-4.0, abs=0.1)
    # the charge-transfer peak is followed as one track across the charge
    tracks = {p["track"] for p in r["tables"]["peaks"]
              if p["region"] == "charge_transfer" and abs(math.log10(p["tau [s]"]) + 1) < 0.1}
    assert len(tracks) == 1


def test_negative_control_a_slower_process_lands_in_another_region(tmp_path):
    path = write_sweeps(tmp_path / "slow.csv", [cell_spectrum(40.0, tau_ct=10.0)])
    r = run_drt(task_of(path, conditions={"soc_percent": [50]}))
    regions = {p["region"] for p in r["tables"]["peaks"] if p["resistance [Ohm]"] > 10}
    assert "charge_transfer" not in regions and "diffusion" in regions
    assert value(r, "r_charge_transfer_first") < 0.2 * 40.0


def test_regions_from_the_settings_give_their_own_summary_keys(synthetic_file):
    regions = {"fast": [1e-6, 1e-2], "slow process": [1e-2, 10]}
    r = run_drt(task_of(synthetic_file, settings={"regions": regions, "lam": 1e-3}))
    assert value(r, "r_slow_process_last") == pytest.approx(R_CT[-1], rel=0.03)
    assert value(r, "r_fast_first") == pytest.approx(20.0, rel=0.03)
    assert "r_charge_transfer_first" not in r["summary"]
    assert r["series"]["settings"]["lam"] == 1e-3


# -- the example charge series -------------------------------------------------------------

def test_the_example_charge_series():
    """examples/data/drt_series/charge.csv: R∞ = 12 Ohm; arcs 6 + 10 + (20 + 60 soc²) + (30 + 20 soc) Ohm,
    the slowest (τ = 10 s) partly below the 10 mHz end of the sweep."""
    labels = np.loadtxt(EXAMPLES / "drt_series" / "labels.csv", delimiter=",", skiprows=1)
    item = TaskInput("eis-charge", str(EXAMPLES / "drt_series" / "charge.csv"), "raw/charge.csv", "x",
                     {"soc_percent": labels[:, 0].tolist()})
    r = run_drt(AnalysisTask("drt:eis-charge", "drt", "C-conventional", (item,)))
    assert r["success"], r["message"]
    assert value(r, "n_sweeps") == 11
    assert value(r, "r_inf_first") == pytest.approx(12.0, rel=0.01)
    assert value(r, "r_polarisation_first") == pytest.approx(6 + 10 + 20 + 30, rel=0.02)
    assert value(r, "r_polarisation_last") == pytest.approx(6 + 10 + 80 + 50, rel=0.02)
    assert r["tables"]["regions"][-1]["soc [%]"] == 100.0
    again = run_drt(AnalysisTask("drt:eis-charge", "drt", "C-conventional", (item,)))
    assert json.dumps(again, sort_keys=True) == json.dumps(r, sort_keys=True)
    stored = r["series"]["map"]
    assert len(stored["gamma"]) == 11 and len(stored["tau"]) <= 200
    assert all(len(row) == len(stored["tau"]) for row in stored["gamma"])


# -- bad input and missing labels ----------------------------------------------------------

def test_without_soc_the_sweeps_are_labelled_by_index(synthetic_file):
    r = run_drt(task_of(synthetic_file, conditions={}))
    assert "no soc_percent for measurement 'eis-C1'" in r["message"]
    assert r["series"]["map"]["label"] == "sweep"
    assert [row["sweep"] for row in r["tables"]["regions"]] == [0, 1, 2]
    assert "soc [%]" not in r["tables"]["regions"][0]


def test_soc_of_the_wrong_length_names_the_measurement_and_file(synthetic_file):
    with pytest.raises(InputError, match=r"^raw/eis/C1_charge.csv: measurement 'eis-C1': soc_percent has 2"):
        run_drt(task_of(synthetic_file, conditions={"soc_percent": [0, 100]}))
    with pytest.raises(InputError, match="soc_percent must hold finite numbers"):
        run_drt(task_of(synthetic_file, conditions={"soc_percent": [0, "half", 100]}))


def test_a_file_that_is_not_impedance_is_named(tmp_path):
    stored = shutil.copy(EXAMPLES / "dcpol.csv", tmp_path / "77aa.csv")
    with pytest.raises(InputError) as caught:
        run_drt(task_of(stored))
    assert str(caught.value).startswith("raw/eis/C1_charge.csv: holds no impedance spectrum")
    assert "77aa" not in str(caught.value)


def test_an_error_in_one_sweep_names_the_file_once_and_the_sweep(tmp_path):
    """Regression: 'raw/eis/C1_charge.csv: raw/eis/C1_charge.csv sweep 1: ...'."""
    from ssbkit.eis.data import Spectrum

    dead = Spectrum(FREQUENCY, np.zeros(FREQUENCY.size, complex))  # a sweep with the leads shorted
    stored = write_sweeps(tmp_path / "9c0d.csv", [cell_spectrum(20.0), dead, cell_spectrum(40.0)])
    with pytest.raises(InputError) as caught:
        run_drt(task_of(stored))
    message = str(caught.value)
    assert message.startswith("raw/eis/C1_charge.csv: sweep 1: the impedance is zero everywhere")
    assert message.count("raw/eis/C1_charge.csv") == 1 and "9c0d" not in message


@pytest.mark.parametrize(("settings", "match"), [
    ({"lambda": 1e-3}, r"\[settings.drt\] lambda: unknown setting"),
    ({"tau_grid": "1e-6:1e2"}, r"\[settings.drt\] tau_grid"),
    ({"regions": {"ct": [1.0, 0.1]}}, r"\[settings.drt\] regions: ct"),
    ({"order": 3}, r"\[settings.drt\] order"),
    ({"lam": 0}, r"\[settings.drt\] lam: must be > 0"),
    ({"lam": "gvc"}, r"\[settings.drt\] lam: must be a number > 0 or one of gcv"),
    ({"rbf": "gauss"}, r"\[settings.drt\] rbf: unknown RBF"),
    ({"inductance": "keep"}, r"\[settings.drt\] inductance"),
])
def test_bad_settings_name_the_setting(synthetic_file, settings, match):
    with pytest.raises(InputError, match=match):
        run_drt(task_of(synthetic_file, settings=settings))


def test_a_tau_grid_from_the_settings_is_used(synthetic_file):
    r = run_drt(task_of(synthetic_file, settings={"tau_grid": "1e-5:10:61"}))
    assert value(r, "r_polarisation_last") == pytest.approx(20.0 + R_CT[-1], rel=0.03)
    tau = r["series"]["map"]["tau"]  # γ is drawn half a decade beyond the grid; 1/f spans 1e-6–1e2 s
    assert 1e-6 < min(tau) < 1e-5 and 10 < max(tau) < 100
    assert DRT_DEFAULTS["tau_grid"] == "auto"


# -- a real multi-sweep file ---------------------------------------------------------------

@pytest.mark.shared_data
def test_a_real_file_with_several_sweeps():
    path = shared_data("eis", "pyimpspec", "case-multiple-spectra.mpt")
    spectra = read_spectra(path)
    r = run_drt(task_of(path, name="case-multiple-spectra.mpt", conditions={}))
    assert value(r, "n_sweeps") == len(spectra) == 3
    lowest = float(spectra[0].impedance.real.min())
    assert 0.9 * lowest <= value(r, "r_inf_first") <= lowest  # R∞ at or just below the highest-f Z'
    for curve in r["series"]["nyquist"]:  # the DRT model follows the measured spectrum
        z = np.asarray(curve["z_real"]) + 1j * np.asarray(curve["z_imag"])
        fit = np.asarray(curve["fit_real"]) + 1j * np.asarray(curve["fit_imag"])
        assert np.max(np.abs(fit - z) / np.abs(z)) < 0.02
    assert str(path) not in json.dumps(r)


# -- figures -------------------------------------------------------------------------------

def test_figures_of_the_drt(synthetic_result):
    specs = drt_figures(synthetic_result)
    assert [s.name for s in specs] == ["map", "nyquist"]
    drt_map, nyquist = specs
    r_pol = value(synthetic_result, "r_polarisation_first")
    assert "state of charge" in drt_map.caption and f"R_pol = {r_pol:.4g} Ω" in drt_map.caption
    assert any(c.get_gid() == "map" for c in drt_map.figure.axes[0].collections)
    assert drt_map.figure.axes[0].get_xlabel() == "soc [%]"
    assert len(nyquist.figure.axes[0].lines) == 4  # data and model of the first and last sweep
    for spec in specs:
        spec.figure.clear()


def test_figures_of_a_failed_result_do_not_raise(synthetic_result):
    specs = drt_figures({**synthetic_result, "success": False})
    assert len(specs) == 2
    for spec in specs:
        spec.figure.clear()
    assert drt_figures({"kind": "drt", "success": False, "message": "bad file", "summary": {}, "tables": {},
                        "series": {}, "provenance": None}) == []
    assert drt_figures({"kind": "drt", "success": False}) == []
