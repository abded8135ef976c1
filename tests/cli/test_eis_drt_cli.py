"""``ssbkit eis drt`` and ``ssbkit eis drt-map``: JSON shapes, τ grids, tables, figures, errors.

Truth: synthetic files with known arcs (a ZARC of 50 Ohm at τ = 0.1 s after 10 Ohm; the example
charge series of examples/make_data.py, whose charge-transfer arc is 20 + 60·soc² Ohm at 0.1 s
and whose region resistances are integrals of the closed-form ZARC distribution); a real
multi-sweep .mpt through drt-map. Errors: one line, exit 1, and no output file left behind.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.integrate import quad

from ssbkit.cli import cli
from ssbkit.eis import simulate_spectrum
from ssbkit.testing import assert_single_json_document, shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
SERIES = EXAMPLES / "drt_series" / "charge.csv"
SERIES_LABELS = EXAMPLES / "drt_series" / "labels.csv"
F = np.logspace(6, -2, 81)
REGIONS = "bulk/grain boundary=1e-7:1e-5,interface=1e-5:1e-2,charge transfer=1e-2:1,diffusion=1:1e3"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="ssbkit")


def one_line_error(result):
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def write_zarc(path: Path, r1=50.0, tau=0.1) -> Path:
    s = simulate_spectrum("R0-ZARC1", {"R0": 10.0, "ZARC1_0": r1, "ZARC1_1": tau, "ZARC1_2": 0.9}, F)
    np.savetxt(path, np.column_stack([s.frequency, s.impedance.real, s.impedance.imag]), delimiter=",",
               header="frequency [Hz],Z' [Ohm],Z'' [Ohm]", comments="")
    return path


# --- drt ------------------------------------------------------------------------------------------

def test_drt_of_one_file_is_one_object_with_the_issue_fields(tmp_path):
    doc = assert_single_json_document(invoke("eis", "drt", write_zarc(tmp_path / "z.csv"), "--json").stdout)
    assert isinstance(doc, dict)
    assert {"tau", "gamma", "lambda", "R_inf", "L0", "R_pol", "peaks"} <= set(doc)
    assert doc["units"]["tau"] == "s" and doc["units"]["gamma"] == "Ohm"
    assert np.allclose(doc["tau"], np.sort(1 / F))  # without --tau-grid, τ = 1/f
    assert len(doc["gamma"]) == F.size
    assert doc["R_inf"] == pytest.approx(10.0, rel=0.01)
    assert doc["R_pol"] == pytest.approx(50.0, rel=0.01)
    biggest = max(doc["peaks"], key=lambda p: p["resistance"])
    assert {"tau", "gamma", "resistance"} <= set(biggest)
    assert math.log10(biggest["tau"]) == pytest.approx(-1.0, abs=0.1)


def test_drt_options_reach_the_solver(tmp_path):
    path = write_zarc(tmp_path / "z.csv")
    doc = assert_single_json_document(invoke(
        "eis", "drt", path, "--lambda", "1e-3", "--order", "2", "--rbf", "c2", "--fwhm-coeff", "0.4",
        "--inductance", "none", "--data", "im", "--tau-grid", "1e-6:1e2:81", "--json").stdout)
    assert doc["lambda"] == 1e-3 and doc["lambda_method"] == "given"
    assert doc["settings"] == {**doc["settings"], "rbf": "c2-matern", "order": 2, "data": "im",
                               "inductance": "none"}
    assert np.allclose(doc["tau"], np.logspace(-6, 2, 81))
    shaped = assert_single_json_document(invoke("eis", "drt", path, "--shape-factor", "2.5", "--json").stdout)
    assert shaped["settings"]["epsilon"] == 2.5


@pytest.mark.parametrize("method", ["gcv", "mgcv", "rgcv", "lcurve", "reim", "kfold"])
def test_drt_lambda_methods(tmp_path, method):
    doc = assert_single_json_document(invoke("eis", "drt", write_zarc(tmp_path / "z.csv"), "--lambda", method,
                                             "--json").stdout)
    assert doc["lambda_method"] == method and 0.999e-7 <= doc["lambda"] <= 1.0


def test_drt_of_several_files_and_sweeps_is_a_list_in_order(tmp_path):
    small = write_zarc(tmp_path / "small.csv", r1=20.0)
    large = write_zarc(tmp_path / "large.csv", r1=80.0)
    result = invoke("eis", "drt", large, small, "--lambda", "1e-4", "--json")
    docs = assert_single_json_document(result.stdout)
    assert [round(d["R_pol"]) for d in docs] == [80, 20]
    sweeps = assert_single_json_document(invoke("eis", "drt", SERIES, "--lambda", "1e-3", "--json").stdout)
    assert len(sweeps) == 11
    assert [d["labels"]["sweep"] for d in sweeps] == list(range(11))


def test_drt_text_is_the_report(tmp_path):
    result = invoke("eis", "drt", write_zarc(tmp_path / "z.csv"), "--lambda", "1e-3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("DRTResult [ok]")
    assert "R_pol = " in result.stdout and "peak τ = " in result.stdout


def test_drt_writes_a_figure_and_a_table(tmp_path):
    paths = [write_zarc(tmp_path / "a.csv"), write_zarc(tmp_path / "b.csv", r1=30.0)]
    figure, table = tmp_path / "drt.svg", tmp_path / "gamma.csv"
    result = invoke("eis", "drt", *paths, "--lambda", "1e-3", "--out", figure, "--csv", table, "--json")
    assert result.exit_code == 0, result.stderr
    docs = assert_single_json_document(result.stdout)
    assert figure.read_text().lstrip().startswith("<?xml")
    import pandas as pd

    frame = pd.read_csv(table)
    assert list(frame.columns) == ["index", "source", "tau [s]", "gamma [Ohm]"]
    assert sorted(frame["index"].unique()) == [0, 1]
    assert [Path(x).name for x in frame["source"].unique()] == ["a.csv", "b.csv"]
    # ∫γ d ln τ of each spectrum's table is its R_pol
    for k, doc in enumerate(docs):
        rows = frame[frame["index"] == k]
        area = np.trapezoid(rows["gamma [Ohm]"], np.log(rows["tau [s]"]))
        assert area == pytest.approx(doc["R_pol"], rel=0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv", "drt.svg", "gamma.csv"]


BAD_DRT = {
    "unknown rbf": (("--rbf", "wavelet"), "--rbf", "unknown RBF"),
    "tau grid, two parts": (("--tau-grid", "1e-6:1e2"), "--tau-grid", "MIN:MAX:N"),
    "tau grid, not numbers": (("--tau-grid", "a:b:c"), "--tau-grid", "MIN:MAX:N"),
    "tau grid, reversed": (("--tau-grid", "1e2:1e-6:81"), "--tau-grid", "MIN < MAX"),
    "tau grid, negative": (("--tau-grid", "-1:1e2:81"), "--tau-grid", "MIN < MAX"),
    "tau grid, two points": (("--tau-grid", "1e-6:1e2:2"), "--tau-grid", "N ≥ 3"),
    "tau grid, fractional N": (("--tau-grid", "1e-6:1e2:8.5"), "--tau-grid", "MIN:MAX:N"),
    "lambda, unknown method": (("--lambda", "best"), "--lambda", "gcv"),
    "lambda, negative": (("--lambda", "-1"), "--lambda", "> 0"),
    "fwhm coefficient zero": (("--fwhm-coeff", "0"), "--fwhm-coeff", "> 0"),
    "shape factor negative": (("--shape-factor", "-2"), "--shape-factor", "> 0"),
    "figure format": (("--out", "drt.jpg"), "--out", ".jpg"),
}


@pytest.mark.parametrize("case", list(BAD_DRT), ids=list(BAD_DRT))
def test_bad_drt_input_is_one_line_naming_the_option(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args, option, needle = BAD_DRT[case]
    path = write_zarc(tmp_path / "z.csv")
    line = one_line_error(invoke("eis", "drt", path, *args, "--csv", tmp_path / "gamma.csv", "--json"))
    assert option in line and needle in line
    assert [p.name for p in tmp_path.iterdir()] == ["z.csv"]  # nothing written, not even the table


def test_drt_of_a_missing_or_unreadable_file_is_one_line(tmp_path):
    line = one_line_error(invoke("eis", "drt", tmp_path / "absent.csv"))
    assert "absent.csv" in line
    notes = tmp_path / "notes.csv"
    notes.write_text("tau,gamma\n1e-3,5\n1e-2,7\n")
    assert "notes.csv" in one_line_error(invoke("eis", "drt", notes, "--json"))


def test_drt_output_into_a_missing_folder_is_refused_before_work(tmp_path):
    path = write_zarc(tmp_path / "z.csv")
    line = one_line_error(invoke("eis", "drt", path, "--out", tmp_path / "no" / "x.png"))
    assert "--out" in line and "does not exist" in line


def test_drt_order_3_is_a_usage_error(tmp_path):
    result = invoke("eis", "drt", write_zarc(tmp_path / "z.csv"), "--order", "3")
    assert result.exit_code == 2 and "--order" in result.stderr


# --- drt-map --------------------------------------------------------------------------------------

def zarc_integral(r, tau0, phi, lo, hi):
    angle = (1 - phi) * math.pi

    def gamma(ln_tau):
        x = ln_tau - math.log(tau0)
        return r / (2 * math.pi) * math.sin(angle) / (math.cosh(phi * x) - math.cos(angle))

    return quad(gamma, math.log(lo), math.log(hi))[0]


def example_region(soc_fraction, lo, hi):
    """The example cell (ssbkit.study.example.insitu_cell_parameters) integrated over [lo, hi] by hand."""
    arcs = [(6.0, 1e-6, 0.9), (10.0, 3e-4, 0.85), (20.0 + 60.0 * soc_fraction**2, 0.1, 0.85),
            (30.0 + 20.0 * soc_fraction, 10.0, 0.8)]
    return sum(zarc_integral(*arc, lo, hi) for arc in arcs)


def test_drt_map_of_the_example_charge_gives_the_region_resistances_it_was_made_with(tmp_path):
    figure, table = tmp_path / "map.png", tmp_path / "regions.csv"
    result = invoke("eis", "drt-map", SERIES, "--labels", SERIES_LABELS, "--regions", REGIONS,
                    "--lambda", "mgcv", "--out", figure, "--csv", table)
    assert result.exit_code == 0, result.stderr
    assert figure.read_bytes()[:4] == b"\x89PNG"
    import pandas as pd

    frame = pd.read_csv(table)
    assert list(frame.columns) == ["index", "soc [%]", "voltage [V]", "time [h]", "bulk/grain boundary [Ohm]",
                                   "interface [Ohm]", "charge transfer [Ohm]", "diffusion [Ohm]",
                                   "R_inf [Ohm]", "R_pol [Ohm]"]
    assert frame["soc [%]"].tolist() == list(range(0, 101, 10))
    bounds = {"bulk/grain boundary": (1e-7, 1e-5), "interface": (1e-5, 1e-2), "charge transfer": (1e-2, 1),
              "diffusion": (1, 1e3)}
    # 0.2 % noise in the files: each region within 1.5 % of R_pol of the truth, diffusion within
    # 4 %: its arc (10 s, φ = 0.8) sits a decade from the lowest frequency and leaves 4 % of
    # its area beyond τ = 100 s, where the data cannot place it
    tolerance = {"bulk/grain boundary": 0.015, "interface": 0.015, "charge transfer": 0.015,
                 "diffusion": 0.04}
    for _, row in frame.iterrows():
        x = row["soc [%]"] / 100
        total = row["R_pol [Ohm]"]
        for name, (lo, hi) in bounds.items():
            assert abs(row[f"{name} [Ohm]"] - example_region(x, lo, hi)) < tolerance[name] * total, (x, name)
    assert frame["charge transfer [Ohm]"].iloc[-1] > 3 * frame["charge transfer [Ohm]"].iloc[0]
    assert frame["R_inf [Ohm]"].to_numpy() == pytest.approx(12.0, rel=0.01)
    # the text output is the same table
    assert "charge transfer [Ohm]" in result.stdout.splitlines()[0]
    assert len(result.stdout.splitlines()) == 12


def test_drt_map_json_holds_the_series_regions_and_tracks():
    soc = "soc=" + ",".join(str(x) for x in range(0, 101, 10))
    result = invoke("eis", "drt-map", SERIES, "--labels", soc,
                    "--labels", "cycle=" + ",".join(["1"] * 11), "--regions", "ct=1e-2:1",
                    "--lambda", "1e-3", "--json")
    assert result.exit_code == 0, result.stderr
    doc = assert_single_json_document(result.stdout)
    assert doc["labels"] == {"soc": [float(x) for x in range(0, 101, 10)], "cycle": [1.0] * 11}
    assert doc["regions"] == {"ct": [0.01, 1.0]}
    assert len(doc["gamma"]) == 11 and len(doc["gamma"][0]) == len(doc["tau"])
    assert [row["soc"] for row in doc["region_resistances"]] == [float(x) for x in range(0, 101, 10)]
    ct = [row for row in doc["peak_tracks"] if abs(math.log10(row["tau [s]"]) + 1) < 0.2]
    assert len({row["track"] for row in ct}) == 1 and len(ct) == 11
    assert ct[-1]["resistance [Ohm]"] > 3 * ct[0]["resistance [Ohm]"]  # 80 Ohm against 20


def test_drt_map_of_the_sweeps_of_a_real_mpt(tmp_path):
    path = shared_data("eis", "pyimpspec", "case-multiple-spectra.mpt")
    figure = tmp_path / "sweeps.pdf"
    result = invoke("eis", "drt-map", path, "--labels", "sweep=0,1,2", "--regions", "arc=1e-4:1",
                    "--out", figure, "--json")
    assert result.exit_code == 0, result.stderr
    doc = assert_single_json_document(result.stdout)
    rows = doc["region_resistances"]
    assert [row["sweep"] for row in rows] == [0.0, 1.0, 2.0]
    # the three sweeps hold the same numbers: the same resistances
    assert rows[1]["arc [Ohm]"] == pytest.approx(rows[0]["arc [Ohm]"], rel=1e-6)
    assert rows[2]["R_pol [Ohm]"] == pytest.approx(rows[0]["R_pol [Ohm]"], rel=1e-6)
    assert figure.read_bytes()[:4] == b"%PDF"


def test_drt_map_without_labels_counts_the_spectra(tmp_path):
    result = invoke("eis", "drt-map", write_zarc(tmp_path / "a.csv"), write_zarc(tmp_path / "b.csv", r1=70.0),
                    "--lambda", "1e-4", "--label-name", "index", "--out", tmp_path / "map.png")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["index", "R_inf", "[Ohm]", "R_pol", "[Ohm]"]
    assert [round(float(line.split()[-1])) for line in lines[1:]] == [50, 70]


def test_drt_map_labels_from_a_table_with_text(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,temperature [°C]\na,25\nb,50\n", encoding="utf-8")
    paths = [write_zarc(tmp_path / "a.csv"), write_zarc(tmp_path / "b.csv")]
    doc = assert_single_json_document(invoke("eis", "drt-map", *paths, "--labels", labels, "--lambda", "1e-3",
                                             "--json").stdout)
    assert doc["labels"] == {"file": ["a", "b"], "temperature [°C]": [25.0, 50.0]}


BAD_MAP = {
    "labels count": (("--labels", "soc=0,50"), "--labels", "2 values for 3 spectra"),
    "labels table rows": (("--labels", "{table}"), "--labels", "4 values for 3 spectra"),
    "labels twice": (("--labels", "soc=0,1,2", "--labels", "soc=0,1,2"), "--labels", "more than once"),
    "labels without values": (("--labels", "soc="), "--labels", "NAME=V1,V2"),
    "labels, no such table": (("--labels", "missing.csv"), "--labels", "existing CSV"),
    "label name": (("--labels", "soc=0,1,2", "--label-name", "cycle"), "--label-name", "no label 'cycle'"),
    "region syntax": (("--regions", "ct=1e-2"), "--regions", "NAME=MIN:MAX"),
    "region reversed": (("--regions", "ct=1:1e-2"), "--regions", "tau_min < tau_max"),
    "region twice": (("--regions", "ct=1e-2:1,ct=1e-3:1"), "--regions", "more than once"),
    "region not numbers": (("--regions", "ct=a:b"), "--regions", "NAME=MIN:MAX"),
    "region named like a column": (("--regions", "R_pol=1e-2:1"), "--regions", "clash"),
    "unknown rbf": (("--rbf", "wavelet"), "--rbf", "unknown RBF"),
    "bad tau grid": (("--tau-grid", "1:0:5"), "--tau-grid", "MIN < MAX"),
    "shift": (("--max-shift-decades", "0"), "--max-shift-decades", "> 0"),
}


@pytest.mark.parametrize("case", list(BAD_MAP), ids=list(BAD_MAP))
def test_bad_drt_map_input_is_one_line_and_writes_nothing(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = tmp_path / "labels.csv"
    table.write_text("soc\n0\n10\n20\n30\n")
    args, option, needle = BAD_MAP[case]
    args = tuple(a.replace("{table}", str(table)) for a in args)
    paths = [write_zarc(tmp_path / f"{k}.csv") for k in range(3)]
    before = sorted(p.name for p in tmp_path.iterdir())
    line = one_line_error(invoke("eis", "drt-map", *paths, *args, "--lambda", "1e-3",
                                 "--out", tmp_path / "map.png", "--csv", tmp_path / "regions.csv"))
    assert option in line and needle in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_drt_map_json_is_strict(tmp_path):
    path = write_zarc(tmp_path / "a.csv")
    result = invoke("eis", "drt-map", path, "--data", "im", "--lambda", "1e-3", "--json")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs a folder that exists and cannot be written")
def test_an_output_folder_that_cannot_be_written_is_an_input_error(tmp_path):
    data = write_zarc(tmp_path / "z.csv")
    line = one_line_error(invoke("eis", "drt", data, "--lambda", "1e-3", "--out", "/proc/x.png"))
    assert "cannot write '/proc/x.png'" in line and ".tmp" not in line
    line = one_line_error(invoke("eis", "drt", data, "--lambda", "1e-3", "--csv", "/proc/x.csv"))
    assert "cannot write" in line
    assert list(tmp_path.iterdir()) == [data]
