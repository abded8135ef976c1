"""``ssbkit eis``: JSON shapes, one result per spectrum, plots, and errors as one line."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ssbkit.cli import cli
from ssbkit.eis import simulate_spectrum
from ssbkit.testing import assert_single_json_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
PELLET = "p(R1,CPE1)-p(R2,CPE2)-CPE3"
TRUTH = {"R1": 1e5, "CPE1_0": 3e-11, "CPE1_1": 0.9, "R2": 1e6, "CPE2_0": 2e-9, "CPE2_1": 0.8,
         "CPE3_0": 1e-6, "CPE3_1": 0.6}


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="ssbkit")


def write_spectrum(path: Path, circuit: str = PELLET, truth: dict | None = None) -> Path:
    s = simulate_spectrum(circuit, truth or TRUTH, np.logspace(7, -2, 55))
    np.savetxt(path, np.column_stack([s.frequency, s.impedance.real, s.impedance.imag]), delimiter=",",
               header="frequency [Hz],Z' [Ohm],Z'' [Ohm]", comments="")
    return path


def test_fit_of_one_file_is_one_result_with_value_stderr_unit(tmp_path):
    path = write_spectrum(tmp_path / "pellet.csv")
    result = invoke("eis", "fit", path, "--circuit", PELLET, "--json")
    assert result.exit_code == 0, result.stderr
    doc = assert_single_json_document(result.stdout)
    assert doc["success"] is True
    assert set(doc["parameters"]) == set(TRUTH)
    for name, value in TRUTH.items():
        entry = doc["parameters"][name]
        assert set(entry) == {"value", "stderr", "unit"}
        assert math.isclose(entry["value"], value, rel_tol=1e-5), name
    assert doc["parameters"]["R1"]["unit"] == "Ohm"


def test_fit_of_several_files_is_a_list_in_order(tmp_path):
    small = write_spectrum(tmp_path / "a.csv", truth={**TRUTH, "R1": 5e4})
    large = write_spectrum(tmp_path / "b.csv")
    result = invoke("eis", "fit", large, small, "--circuit", PELLET, "--json")
    assert result.exit_code == 0, result.stderr
    docs = assert_single_json_document(result.stdout)
    assert [round(d["parameters"]["R1"]["value"]) for d in docs] == [100000, 50000]


def test_fixed_and_initial_values_reach_the_fit(tmp_path):
    path = write_spectrum(tmp_path / "pellet.csv")
    result = invoke("eis", "fit", path, "--circuit", PELLET, "--fix", "CPE3_1=0.6",
                    "--initial", "R1=2e5,R2=5e5", "--weights", "unit", "--json")
    doc = assert_single_json_document(result.stdout)
    assert doc["fixed"] == ["CPE3_1"] and doc["weights"] == "unit"
    assert doc["initial"]["R1"] == 2e5
    assert math.isclose(doc["parameters"]["R2"]["value"], 1e6, rel_tol=1e-5)


def test_fit_plot_is_written(tmp_path):
    path = write_spectrum(tmp_path / "pellet.csv")
    figure = tmp_path / "fit.png"
    result = invoke("eis", "fit", path, "--circuit", PELLET, "--plot", figure)
    assert result.exit_code == 0, result.stderr
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_conductivity_of_the_example_pellet_is_the_truth_it_was_made_with():
    result = invoke("eis", "conductivity", EXAMPLES / "argyrodite_25C.csv", "--diameter-mm", "10",
                    "--thickness-mm", "0.85", "--circuit", "R0-CPE1", "--json")
    doc = assert_single_json_document(result.stdout)
    sigma = doc["conductivity"]
    assert sigma["unit"] == "S/cm"
    assert sigma["value"] == pytest.approx(13.3e-3, rel=0.01)  # examples/make_data.py: 13.3 mS/cm


def test_arrhenius_of_the_example_series_gives_the_activation_energy_it_was_made_with():
    files = [EXAMPLES / f"argyrodite_{t}C.csv" for t in (-20, 0, 25, 50, 80)]
    result = invoke("eis", "arrhenius", *files, "--temperatures-c", "-20,0,25,50,80", "--circuit",
                    "R0-CPE1", "--diameter-mm", "10", "--thickness-mm", "0.85", "--json")
    doc = assert_single_json_document(result.stdout)
    assert doc["form"] == "sigmaT"
    assert doc["activation_energy"]["value"] == pytest.approx(0.28, abs=0.003)


def test_arrhenius_from_a_table(tmp_path):
    t = np.array([253.15, 273.15, 298.15, 323.15])
    sigma = 1e4 / t * np.exp(-0.3 / (8.617333262e-5 * t))
    table = tmp_path / "sigma.csv"
    np.savetxt(table, np.column_stack([t, sigma]), delimiter=",",
               header="temperature [K],conductivity [S/cm]", comments="")
    doc = assert_single_json_document(invoke("eis", "arrhenius", "--table", table, "--json").stdout)
    assert doc["activation_energy"]["value"] == pytest.approx(0.3, rel=1e-9)


def test_a_spectrum_without_temperature_needs_temperatures(tmp_path):
    path = write_spectrum(tmp_path / "pellet.csv")
    result = invoke("eis", "arrhenius", path, "--thickness-mm", "2", "--diameter-mm", "8")
    assert result.exit_code == 1
    assert result.stderr.startswith("error:") and "--temperatures-c" in result.stderr


@pytest.mark.parametrize(("args", "needle"), [
    (("--circuit", "R0-p(R1,CPE1"), "not closed"),
    (("--circuit", "R0-X1"), "unknown element"),
    (("--circuit", PELLET, "--fix", "R9=1"), "unknown parameter R9"),
    (("--circuit", PELLET, "--initial", "R1=abc"), "not a number"),
])
def test_bad_fit_input_is_one_error_line_and_exit_1(tmp_path, args, needle):
    path = write_spectrum(tmp_path / "pellet.csv")
    result = invoke("eis", "fit", path, *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error:") and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_impedance_is_one_error_line(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("tau,gamma\n1e-3,5\n1e-2,7\n")
    result = invoke("eis", "fit", path, "--circuit", "R0")
    assert result.exit_code == 1
    assert "notes.csv" in result.stderr and "Traceback" not in result.stderr


def test_dcpol_of_the_example_record():
    result = invoke("eis", "dcpol", EXAMPLES / "dcpol.csv", "--diameter-mm", "10", "--thickness-mm", "0.85",
                    "--json")
    doc = assert_single_json_document(result.stdout)
    # examples/make_data.py: R_e = 2.4e8 Ohm, so σ_e = 0.085 cm / (2.4e8 Ohm · 0.7854 cm²)
    assert doc["electronic_conductivity"]["value"] == pytest.approx(0.085 / (2.4e8 * 0.785398), rel=0.01)
