"""``ssbkit xrd``: JSON shapes against the truth the example scan was made with, real files,
figures and tables, and one-line errors.

Truth (examples/make_xrd_data.py): Li5.5PS4.5Cl0.8Br0.7 (a = 9.8532 Å) with LiCl (5.1300 Å) and
Li2S (5.7080 Å), 90 / 6 / 4 wt %, Cu Kα1/Kα2, 10–90° in 0.02° steps; Lorentzian sample
broadening X tanθ + Y/cosθ with X, Y = 0.05, 0.12° (argyrodite) and 0.02, 0.05° (LiCl, Li2S);
the instrument of cuka.instprm. ssbkit's conventions (refine and sizestrain docstrings) turn
those into a size L = 0.9 λ / Y [rad] and a strain ε = X [rad] / 4.
"""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ssbkit.cli import cli
from ssbkit.testing import assert_single_json_document, shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data" / "xrd"
SCAN = EXAMPLES / "argyrodite_licl_li2s.xy"
INSTRUMENT = EXAMPLES / "cuka.instprm"
PHASES = ("--phases", "argyrodite,LiCl,Li2S")
NAMES = ["Li5.5PS4.5Cl0.8Br0.7", "LiCl", "Li2S"]
CELL = {"Li5.5PS4.5Cl0.8Br0.7": 9.8532, "LiCl": 5.1300, "Li2S": 5.7080}
WEIGHT = {"Li5.5PS4.5Cl0.8Br0.7": 90.0, "LiCl": 6.0, "Li2S": 4.0}
XY = {"Li5.5PS4.5Cl0.8Br0.7": (0.05, 0.12), "LiCl": (0.02, 0.05), "Li2S": (0.02, 0.05)}
LAMBDA = 1.540593
KEYS = ("a", "b", "c", "volume", "weight_fraction", "size", "strain")


def size_nm(phase):
    return 0.9 * LAMBDA / math.radians(XY[phase][1]) / 10


def strain_percent(phase):
    return math.radians(XY[phase][0]) / 4 * 100


def invoke(*args):
    return CliRunner().invoke(cli, ["xrd", *map(str, args)], prog_name="ssbkit")


@functools.cache
def ok_json(*args):
    """One successful command's JSON; cached, as several tests read the same fits."""
    result = invoke(*args, "--json")
    assert result.exit_code == 0, (result.stdout[-500:], result.stderr)
    assert result.stderr == ""
    return assert_single_json_document(result.stdout)


def one_line_error(result):
    assert result.exit_code == 1, (result.exit_code, result.stdout[-500:], result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def check_phase_shape(phase):
    for key in KEYS:
        assert set(phase[key]) == {"value", "stderr", "unit"}, (key, phase[key])
    assert [phase[k]["unit"] for k in KEYS] == ["Å", "Å", "Å", "Å³", "%", "nm", "%"]


# ---------------------------------------------------------------------------- xrd read

def test_read_gives_the_columns_of_the_file():
    data = ok_json("read", SCAN)
    table = np.loadtxt(SCAN, comments="#")
    assert data["points"] == 4000 == len(table)
    assert np.array_equal(data["two_theta"], table[:, 0])
    assert np.array_equal(data["intensity"], table[:, 1])
    assert np.array_equal(data["sigma"], table[:, 2])
    assert data["wavelengths"] == []  # the .xy file does not name its radiation


def test_read_writes_the_csv(tmp_path):
    table = tmp_path / "scan.csv"
    result = invoke("read", SCAN, "--csv", table)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("powder pattern")
    lines = table.read_text().splitlines()
    assert lines[0] == "2theta [deg],intensity [counts],sigma [counts]" and len(lines) == 4001
    assert [p.name for p in tmp_path.iterdir()] == ["scan.csv"]


def test_read_the_pbso4_round_robin_gsas_file():
    path = shared_data("xrd", "gsas2_pbso4", "PBSO4.XRA")
    data = ok_json("read", path)
    # BANK 1 6001 601 CONST 1000 2.5: 6001 points from 1000 centidegrees in steps of 2.5
    assert data["points"] == 6001
    assert data["two_theta"][0] == pytest.approx(10.0) and data["two_theta"][-1] == pytest.approx(160.0)
    assert np.allclose(np.diff(data["two_theta"]), 0.025)
    lines = path.read_text().splitlines()
    first = [float(v) for v in lines[2].split()]  # the line after the BANK record
    assert data["intensity"][:10] == first
    assert np.allclose(data["sigma"][:10], np.sqrt(first))  # STD: counting statistics


# ---------------------------------------------------------------------------- xrd identify

def test_identify_finds_the_three_phases_and_their_fractions():
    data = ok_json("identify", SCAN, "--wavelength", "CuKa")
    assert data["success"] is True
    detected = {p["name"]: p for p in data["phases"] if p["detected"]}
    assert set(detected) == set(NAMES)
    for name, phase in detected.items():
        wt = phase["weight_fraction"]
        assert wt["unit"] == "%" and abs(wt["value"] - WEIGHT[name]) < 1.5
        assert phase["cell"][0] == pytest.approx(CELL[name], abs=2e-3)
    others = [p for p in data["candidates"] if not p["detected"]]
    assert others and all(p["detection_limit"] > 0 and p["weight_fraction"]["value"] is None for p in others)
    assert "LiI" in {p["name"] for p in others}


def test_identify_writes_its_figure(tmp_path):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "phases.png"
    result = invoke("identify", SCAN, "--instrument", INSTRUMENT, "--plot", figure)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Identification [ok]")
    assert figure.read_bytes().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------- xrd refine

def check_cells(data, *, a_tol=5e-4):
    phases = {p["name"]: p for p in data["phases"]}
    assert list(phases) == NAMES
    for name, phase in phases.items():
        check_phase_shape(phase)
        a = phase["a"]
        assert abs(a["value"] - CELL[name]) < max(3 * a["stderr"], a_tol)
        assert phase["b"]["value"] == phase["c"]["value"] == a["value"]  # cubic
        volume = phase["volume"]
        assert volume["value"] == pytest.approx(a["value"] ** 3, rel=1e-9)
        assert volume["stderr"] == pytest.approx(3 * a["value"] ** 2 * a["stderr"], rel=1e-6)
    for key in ("Rwp", "Rp", "GOF"):
        assert isinstance(data[key], float)
    return phases


@pytest.mark.parametrize("radiation", [("--wavelength", "CuKa"), ("--instrument", INSTRUMENT)],
                         ids=["wavelength", "instrument"])
def test_rietveld_gives_the_cells_and_weight_fractions_of_the_example(radiation):
    data = ok_json("refine", SCAN, *PHASES, *radiation)
    assert data["success"] is True and data["mode"] == "rietveld"
    phases = check_cells(data)
    for name, phase in phases.items():
        wt = phase["weight_fraction"]
        assert abs(wt["value"] - WEIGHT[name]) < max(3 * wt["stderr"], 1.0)
    assert sum(p["weight_fraction"]["value"] for p in phases.values()) == pytest.approx(100.0)
    assert data["Rwp"] < 6.0 and 0.9 < data["GOF"] < 1.2


def test_rietveld_with_the_instrument_gives_the_sizes_and_strains_of_the_example():
    """With the instrument's own broadening given, what is left is the sample's."""
    phases = check_cells(ok_json("refine", SCAN, *PHASES, "--instrument", INSTRUMENT))
    for name, phase in phases.items():
        size, strain = phase["size"], phase["strain"]
        assert abs(size["value"] - size_nm(name)) < 3 * size["stderr"], (name, size, size_nm(name))
        assert abs(strain["value"] - strain_percent(name)) < 3 * strain["stderr"] + 1e-3, (name, strain)
    # the argyrodite, 90 % of the scan, is well determined
    argyrodite = phases[NAMES[0]]
    assert argyrodite["size"]["value"] == pytest.approx(size_nm(NAMES[0]), rel=0.05)


def test_a_missing_phase_shows_in_rwp_and_gof():
    """Negative control: leave LiCl and Li2S out and the fit says so."""
    full = ok_json("refine", SCAN, *PHASES, "--wavelength", "CuKa")
    alone = ok_json("refine", SCAN, "--phases", "argyrodite", "--wavelength", "CuKa")
    assert alone["Rwp"] > full["Rwp"] + 2 and alone["GOF"] > 1.3


@pytest.mark.parametrize("mode", ["lebail", "pawley"])
def test_lebail_and_pawley_give_the_cells_without_weight_fractions(mode):
    data = ok_json("refine", SCAN, *PHASES, "--instrument", INSTRUMENT, "--mode", mode,
                   "--range", "10,60")
    assert data["success"] is True and data["mode"] == mode
    phases = check_cells(data)
    for phase in phases.values():  # free intensities: no scale, so no weight fraction
        assert phase["weight_fraction"] == {"value": None, "stderr": None, "unit": "%"}
    assert data["Rwp"] < 6.0 and data["GOF"] < 1.2


def test_lebail_without_an_instrument_reaches_the_noise():
    data = ok_json("refine", SCAN, *PHASES, "--wavelength", "CuKa", "--mode", "lebail")
    assert data["GOF"] < 1.3 or data["success"] is False
    check_cells(data)


def test_refine_writes_the_figure_and_the_curves(tmp_path):
    pytest.importorskip("matplotlib")
    figure, table = tmp_path / "fit.png", tmp_path / "fit.csv"
    result = invoke("refine", SCAN, *PHASES, "--instrument", INSTRUMENT, "--plot", figure, "--csv", table)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("RefinementResult [ok]")
    assert figure.read_bytes().startswith(b"\x89PNG")
    lines = table.read_text().splitlines()
    assert lines[0] == ("2theta [deg],observed [counts],calculated [counts],background [counts],"
                        "difference [counts]")
    assert len(lines) == 4001
    row = np.array(lines[1].split(","), float)
    assert row[4] == pytest.approx(row[1] - row[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.csv", "fit.png"]


def test_refine_synth3_with_its_cifs_gives_the_readme_truth():
    folder = shared_data("xrd", "synthetic_argyrodite")
    cifs = ",".join(str(folder / f) for f in ("argyrodite.cif", "LiCl.cif", "Li2S.cif"))
    data = ok_json("refine", folder / "synth3.xy", "--phases", cifs, "--instrument", folder / "cuka.instprm")
    assert data["success"] is True
    phases = data["phases"]
    for phase, a, wt, tol in zip(phases, (9.8532, 5.1300, 5.7080), (90.0, 6.0, 4.0), (2e-4, 5e-4, 5e-4),
                                 strict=True):
        check_phase_shape(phase)
        assert abs(phase["a"]["value"] - a) < tol, phase["name"]
        assert abs(phase["weight_fraction"]["value"] - wt) < 1.5, phase["name"]
    assert [p["name"] for p in phases][1:] == ["LiCl", "Li2S"]
    assert data["Rwp"] < 6.0


# ---------------------------------------------------------------------------- xrd sizestrain

# argyrodite reflections at least 0.4° from any LiCl or Li2S one
CLEAN_PEAKS = "15.58,18.01,25.57,47.96,52.51,59.29,71.63"


def test_williamson_hall_on_clean_argyrodite_peaks_gives_its_size_and_strain():
    data = ok_json("sizestrain", SCAN, "--instrument", INSTRUMENT, "--peaks", CLEAN_PEAKS)
    assert data["success"] is True
    wh = data["williamson_hall"]
    name = NAMES[0]
    assert wh["size"]["unit"] == "nm" and wh["strain"]["unit"] == "%"
    assert abs(wh["size"]["value"] - size_nm(name)) < 2 * wh["size"]["stderr"]
    assert abs(wh["strain"]["value"] - strain_percent(name)) < 2 * wh["strain"]["stderr"]
    # each peak's sample breadth is the Lorentzian X tanθ + Y/cosθ of the argyrodite
    x, y = XY[name]
    for peak in data["fits"]["peaks"]:
        theta = math.radians(peak["position"]["value"] / 2)
        truth = x * math.tan(theta) + y / math.cos(theta)
        fwhm = peak["sample_fwhm"]
        assert abs(fwhm["value"] - truth) < 3 * fwhm["stderr"] + 0.005, (peak["position"], fwhm, truth)


def test_without_the_instrument_sizes_are_lower_bounds(tmp_path):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "wh.png"
    corrected = ok_json("sizestrain", SCAN, "--instrument", INSTRUMENT, "--peaks", CLEAN_PEAKS)
    result = invoke("sizestrain", SCAN, "--wavelength", "CuKa", "--peaks", CLEAN_PEAKS, "--plot", figure,
                    "--json")
    assert result.exit_code == 0, result.stderr
    raw = assert_single_json_document(result.stdout)
    assert "lower bounds" in raw["message"]
    for a, b in zip(raw["scherrer"]["sizes"], corrected["scherrer"]["sizes"], strict=True):
        assert a["value"] <= b["value"] + 1e-9
    assert figure.read_bytes().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------- errors

def test_a_file_without_intensities_is_one_line(tmp_path):
    path = tmp_path / "one_column.xy"
    path.write_text("10.00\n10.02\n10.04\n10.06\n")
    line = one_line_error(invoke("read", path))
    assert str(path) in line


def test_a_file_without_intensities_is_told_so(tmp_path):
    # read_pattern used to sniff with every reader, and the impedance table reader spoke of Z'

    path = tmp_path / "one_column.xy"
    path.write_text("10.00\n10.02\n10.04\n10.06\n")
    line = one_line_error(invoke("read", path))
    assert "intensit" in line and "Z''" not in line


def bad_cif(tmp_path):
    path = tmp_path / "broken.cif"
    path.write_text("data_broken\nthis is not a cif ;;;\n")
    return path


def test_a_cif_that_does_not_parse_is_one_line_naming_it(tmp_path):
    path = bad_cif(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen's own; see the next test
        line = one_line_error(invoke("refine", SCAN, "--phases", path, "--wavelength", "CuKa"))
    assert str(path) in line


def test_a_cif_that_does_not_parse_prints_no_warnings(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        one_line_error(invoke("refine", SCAN, "--phases", bad_cif(tmp_path), "--wavelength", "CuKa"))
    assert [str(w.message) for w in caught] == []


def test_a_phase_whose_peaks_lie_outside_the_scan_is_named(tmp_path):
    short = tmp_path / "short.xy"
    rows = [ln for ln in SCAN.read_text().splitlines() if ln.startswith("#") or float(ln.split()[0]) < 14]
    short.write_text("\n".join(rows) + "\n")
    line = one_line_error(invoke("refine", short, "--phases", "LiCl", "--wavelength", "CuKa"))
    assert "LiCl" in line and "no reflection" in line
    line = one_line_error(invoke("refine", SCAN, "--phases", "argyrodite", "--wavelength", "CuKa",
                                 "--range", "10,14"))
    assert "Li5.5PS4.5Cl0.8Br0.7" in line and "no reflection" in line


def test_a_scan_without_radiation_needs_a_wavelength():
    for command in ("refine", "identify", "sizestrain"):
        args = (command, SCAN, *PHASES) if command == "refine" else (command, SCAN)
        line = one_line_error(invoke(*args))
        assert str(SCAN) in line and "wavelength" in line


@pytest.mark.parametrize(("args", "option"), [
    (("refine", SCAN, "--phases", "unobtainium", "--wavelength", "CuKa"), "--phases"),
    (("refine", SCAN, "--phases", "LiCl,absent.cif", "--wavelength", "CuKa"), "--phases"),
    (("refine", SCAN, "--phases", ",", "--wavelength", "CuKa"), "--phases"),
    (("refine", SCAN, *PHASES, "--wavelength", "XyKa"), "--wavelength"),
    (("identify", SCAN, "--wavelength", "XyKa"), "--wavelength"),
    (("sizestrain", SCAN, "--wavelength", "0"), "--wavelength"),
    (("refine", SCAN, *PHASES, "--wavelength", "CuKa", "--range", "50"), "--range"),
    (("refine", SCAN, *PHASES, "--wavelength", "CuKa", "--range", "60,20"), "--range"),
    (("refine", SCAN, *PHASES, "--wavelength", "CuKa", "--background-terms", "-1"), "--background-terms"),
    (("sizestrain", SCAN, "--wavelength", "CuKa", "--peaks", "x"), "--peaks"),
    (("sizestrain", SCAN, "--wavelength", "CuKa", "--peaks", "5"), "--peaks"),
    (("identify", SCAN, "--wavelength", "CuKa", "--max-phases", "0"), "--max-phases"),
])
def test_a_bad_option_is_one_line_naming_it(args, option):
    line = one_line_error(invoke(*args))
    assert line.startswith(f"error: {option}: "), line


def test_bad_files_are_named(tmp_path):
    bad = tmp_path / "bad.instprm"
    bad.write_text("garbage\n")
    assert str(bad) in one_line_error(invoke("refine", SCAN, *PHASES, "--instrument", bad))
    absent = tmp_path / "absent.xy"
    assert str(absent) in one_line_error(invoke("read", absent))
    assert str(absent) in one_line_error(invoke("refine", absent, *PHASES, "--wavelength", "CuKa"))


def test_output_paths_are_refused_before_any_work(tmp_path):
    for args in (("--plot", tmp_path / "fit.bmp"), ("--plot", tmp_path / "no" / "fit.png"),
                 ("--csv", tmp_path / "no" / "fit.csv")):
        line = one_line_error(invoke("refine", SCAN, "--phases", "unobtainium", *args))
        assert line.startswith(f"error: {args[0]}: ")  # before the phase is even looked up
    assert list(tmp_path.iterdir()) == []


def test_a_failing_command_leaves_no_output_file(tmp_path):
    figure, table = tmp_path / "fit.png", tmp_path / "fit.csv"
    one_line_error(invoke("refine", SCAN, "--phases", "unobtainium", "--wavelength", "CuKa",
                          "--plot", figure, "--csv", table))
    one_line_error(invoke("read", tmp_path / "absent.xy", "--csv", table))
    one_line_error(invoke("sizestrain", SCAN, "--plot", figure))  # no wavelength
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ("read", SCAN, "--bogus"),
    ("refine", SCAN, "--wavelength", "CuKa"),  # --phases is required
    ("refine", SCAN, *PHASES, "--mode", "magic"),
    ("sizestrain", SCAN, "--breadth", "wide"),
    ("identify",),
])
def test_usage_errors_exit_2(args):
    result = invoke(*args)
    assert result.exit_code == 2 and result.stdout == ""
