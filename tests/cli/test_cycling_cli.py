"""``ssbkit cycling``: JSON shapes against the simulator's truth, tables, figures, errors.

Truth: the example files of examples/make_cycling_data.py (30 cycles with CC-CV charges and
a rate test) are re-simulated here with the same seeds, so the expected capacities come from
the simulator's truth table, not from the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ssbkit.cli import cli
from ssbkit.cycling import CyclingRecord
from ssbkit.cycling.data import TIME, VOLTAGE
from ssbkit.testing import assert_single_json_document, shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data" / "cycling"
CELL = EXAMPLES / "lts_cell.bdf.csv"
RATE = EXAMPLES / "lts_rate.bdf.csv"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="ssbkit")


def one_line_error(result):
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def cell_truth():
    import sys

    sys.path.insert(0, str(EXAMPLES.parents[1]))
    try:
        from make_cycling_data import simulate_cycling
    finally:
        sys.path.pop(0)
    rec = simulate_cycling(n_cycles=30, active_mass_mg=4.2, specific_capacity_mah_g=470.6,
                           peak_cycle=20, fade_per_cycle=0.0003, protocol="cccv", c_rates=0.1,
                           points_per_step=25, noise_v=0.0005, rng=1)
    return rec.metadata["truth"]["cycles"]


def test_summary_json_has_the_cycles_with_units(cell_truth):
    result = invoke("cycling", "summary", CELL, "--active-mass-mg", "4.2", "--json")
    assert result.exit_code == 0, result.stderr
    doc = assert_single_json_document(result.stdout)
    cycles = doc["cycles"]
    assert [c["cycle"] for c in cycles] == list(range(1, 31))
    charge = [c["charge_capacity"]["value"] for c in cycles]
    discharge = [c["discharge_capacity"]["value"] for c in cycles]
    # the file holds 10 significant digits
    assert np.allclose(charge, cell_truth["charge_mah"], rtol=1e-8)
    assert np.allclose(discharge, cell_truth["discharge_mah"], rtol=1e-8)
    assert cycles[0]["coulombic_efficiency"]["unit"] == "%"
    assert cycles[19]["specific_discharge_capacity"] == {"value": pytest.approx(470.6, rel=1e-7),
                                                         "unit": "mAh/g"}
    assert doc["peak_cycle"] == 20
    assert doc["provenance"]["inputs"]["arguments"].startswith("sha256:")


def test_summary_csv_plot_and_reference(tmp_path):
    csv, png = tmp_path / "cycles.csv", tmp_path / "capacity.png"
    result = invoke("cycling", "summary", CELL, "--loading-mg-cm2", "5.35", "--area-cm2", "0.785",
                    "--reference", "Li-In", "--csv", csv, "--plot", png)
    assert result.exit_code == 0, result.stderr
    table = csv.read_text().splitlines()
    assert table[0].startswith("cycle,") and len(table) == 31
    assert "areal discharge capacity [mAh/cm²]" in table[0]
    assert png.stat().st_size > 1000
    plain = json.loads(invoke("cycling", "summary", CELL, "--json").stdout)
    shifted = json.loads(invoke("cycling", "summary", CELL, "--reference", "Li-In", "--json").stdout)
    v0 = plain["cycles"][3]["mean_discharge_voltage"]["value"]
    assert shifted["cycles"][3]["mean_discharge_voltage"]["value"] == pytest.approx(v0 + 0.62)


def test_rate_table():
    result = invoke("cycling", "rate", RATE, "--specific-capacity-mah-g", "483", "--active-mass-mg",
                    "4.2", "--json")
    assert result.exit_code == 0, result.stderr
    blocks = json.loads(result.stdout)["blocks"]
    assert [b["rate"] for b in blocks] == ["0.1C", "0.5C", "1C", "0.1C"]
    assert [round(b["specific_capacity"]["value"]) for b in blocks] == [483, 413, 264, 483]
    assert blocks[3]["recovery"]["value"] == pytest.approx(100, abs=0.1)


def test_read_writes_bdf(tmp_path):
    out = tmp_path / "copy.bdf.csv"
    result = invoke("cycling", "read", CELL, "--bdf", out, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["rows"] == len(CELL.read_text().splitlines()) - 1
    assert "Voltage / V" in doc["columns"]
    again = json.loads(invoke("cycling", "read", out, "--json").stdout)
    assert again["rows"] == doc["rows"]


def test_real_neware_file_cccv():
    path = shared_data("cycling", "neware", "newarenda_issue72_bts91_v130.nda")
    result = invoke("cycling", "summary", path, "--json")
    assert result.exit_code == 0, result.stderr
    cycles = json.loads(result.stdout)["cycles"]
    assert cycles[1]["charge_capacity"]["value"] == pytest.approx(5811.0, abs=0.05)


@pytest.mark.parametrize("args, names", [
    (["--active-mass-mg", "-1"], "--active-mass-mg"),
    (["--composite-mass-mg", "10"], "--active-fraction"),
    (["--active-mass-mg", "1", "--loading-mg-cm2", "2"], "--active-mass-mg"),
    (["--convention", "native"], None),
])
def test_bad_options_are_one_line_errors(args, names, tmp_path):
    target = CELL
    if names is None:  # a record without the instrument's cycle column
        rec = CyclingRecord.from_columns({TIME: [0, 1, 2], VOLTAGE: [3, 3.1, 3.2],
                                          "Current / A": [0.1, 0.1, 0.1]})
        target = rec.to_bdf_csv(tmp_path / "nocycle.bdf.csv")
        names = "native"
    line = one_line_error(invoke("cycling", "summary", target, *args))
    assert names in line


def test_bad_files_are_one_line_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert str(empty) in one_line_error(invoke("cycling", "summary", empty))
    no_current = tmp_path / "voltage_only.bdf.csv"
    no_current.write_text("Test Time / s,Voltage / V\n0,3.0\n1,3.1\n")
    line = one_line_error(invoke("cycling", "summary", no_current))
    assert "current" in line
    eis = Path(__file__).resolve().parents[2] / "examples" / "data" / "argyrodite_25C.csv"
    assert "no cycling record" in one_line_error(invoke("cycling", "summary", eis))
    missing = tmp_path / "nope.nda"
    one_line_error(invoke("cycling", "summary", missing))


def test_profiles_and_dqdv_figures(tmp_path):
    fig = tmp_path / "profiles.png"
    result = invoke("cycling", "profiles", CELL, "--cycles", "1,30", "--active-mass-mg", "4.2", "--out", fig)
    assert result.exit_code == 0, result.stderr
    assert fig.stat().st_size > 1000
    line = one_line_error(invoke("cycling", "profiles", CELL, "--cycles", "99", "--out", tmp_path / "x.png"))
    assert "--cycles" in line and "1–30" in line
    assert not (tmp_path / "x.png").exists()
    out = tmp_path / "dqdv.svg"
    result = invoke("cycling", "dqdv", CELL, "--cycles", "2", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    doc = assert_single_json_document(result.stdout)
    # the simulator's plateaus at 1.60, 2.05 and 2.40 V vs Li-In, shifted by the overpotential
    charge = sorted(p["potential"]["value"] for p in doc["peaks"] if p["direction"] == "charge")
    assert len(charge) == 3 and charge[0] == pytest.approx(1.65, abs=0.03)
    assert out.read_text().startswith("<?xml")
    assert "--cycles" in one_line_error(invoke("cycling", "dqdv", CELL, "--cycles", "a,b"))


def test_no_output_is_written_when_another_cannot_be(tmp_path):
    # regression: --csv was written before --plot failed on a missing folder
    good = tmp_path / "cycles.csv"
    line = one_line_error(invoke("cycling", "summary", CELL, "--csv", good, "--plot",
                                 tmp_path / "missing" / "x.png", "--json"))
    assert "--plot" in line and not good.exists()
    line = one_line_error(invoke("cycling", "read", CELL, "--bdf", tmp_path / "missing" / "x.csv"))
    assert "--bdf" in line and "None" not in line
    line = one_line_error(invoke("cycling", "dqdv", CELL, "--bin-width-mv", "-5"))
    assert "--bin-width-mv" in line and "-5" in line
    assert "figure format" in one_line_error(invoke("cycling", "rate", RATE, "--plot", tmp_path / "x.txt"))
