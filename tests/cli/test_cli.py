"""The ``ssbkit`` command: help, exit codes, one JSON document, one-line errors.

The contract (DESIGN.md): with ``--json`` stdout holds exactly one JSON document and
nothing else; exit 0 on success, 1 on a data error (one ``error: …`` line on stderr, no
traceback unless ``--debug``), 2 on a usage error; every command has help with an example.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import ssbkit
from ssbkit.cli import cli
from ssbkit.testing import assert_single_json_document


def invoke(*args: str):
    # click >= 8.2 keeps stdout and stderr apart (result.stdout / result.stderr).
    return CliRunner().invoke(cli, list(args), prog_name="ssbkit")


def assert_one_line_error(result):
    """Exit 1, nothing on stdout, one ``error: …`` line on stderr and no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def walk(command: click.Command, path: tuple[str, ...] = ()):
    """Every command under ``command`` (itself included), with its argv path."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1] if path else "ssbkit")
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path + (name,))} is listed but cannot be loaded"
            yield from walk(sub, path + (name,))


ALL_COMMANDS = dict(walk(cli))
ARGYRODITE = ("synth", "recipe", "Li5.5PS4.5Cl0.8Br0.7", "--precursors", "Li2S,P2S5,LiCl,LiBr")
CHARGE = ("--jar-ml", "50", "--ball-diameter-mm", "10", "--ball-material", "WC")
DOSE = ("--rpm", "300", "--time-h", "1", "--plate-radius-mm", "70", "--jar-radius-mm", "22.5")

# Hand numbers for a WC charge in a 50 mL jar with 10 mm balls.
BALL_VOLUME_ML = math.pi * 1.0**3 / 6  # d = 1 cm
BALL_MASS_G = 15.6 * BALL_VOLUME_ML  # WC, 15.6 g/cm³


# --- version and help -------------------------------------------------------------------


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ssbkit {ssbkit.__version__}"


def test_help_lists_the_groups():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Usage: ssbkit" in result.stdout
    for group in ("synth", "mill"):
        assert group in result.stdout


def test_the_walk_finds_every_known_command():
    # Guards the parametrised help tests below against walking an empty tree.
    assert {("synth", "recipe"), ("mill", "plan"), ("mill", "grid"), ("mill", "dose")} <= set(
        ALL_COMMANDS
    )


@pytest.mark.parametrize("path", list(ALL_COMMANDS), ids=lambda p: " ".join(p) or "ssbkit")
def test_every_command_has_help_with_an_example(path):
    command = ALL_COMMANDS[path]
    assert command.help and "Example" in command.help, f"{' '.join(path)} has no example"
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


def _examples(help_text: str) -> list[list[str]]:
    return [shlex.split(line.strip())[1:] for line in help_text.splitlines()
            if line.strip().startswith("ssbkit ")]


@pytest.mark.parametrize("path", list(ALL_COMMANDS), ids=lambda p: " ".join(p) or "ssbkit")
def test_every_help_example_runs(path, tmp_path, monkeypatch):
    # An example that no longer runs teaches the wrong thing. It runs in an empty folder
    # (figures it writes land there, not in the checkout) with the example files found
    # where the repository keeps them.
    examples = _examples(ALL_COMMANDS[path].help or "")
    assert examples, f"{' '.join(path)} has no runnable 'ssbkit …' example line"
    repo = Path(__file__).resolve().parents[2]
    if path and path[0] == "demo":
        pytest.skip("the demo's example is the whole demo: tests/study/test_demo.py runs it and checks it")
    if path and path[0] == "study":
        # a study run writes its database beside the manifest: work on a copy of examples/
        shutil.copytree(repo / "examples", tmp_path / "examples",
                        ignore=shutil.ignore_patterns(".ssbkit", "__pycache__"))
        repo = tmp_path
    monkeypatch.chdir(tmp_path)
    for argv in examples:
        argv = [str(repo / a) if a.startswith("examples/") else a for a in argv]
        result = invoke(*argv)
        assert result.exit_code == 0, (argv, result.stderr)


# --- synth recipe -----------------------------------------------------------------------


def test_recipe_json_is_one_document_with_the_hand_masses():
    result = invoke(*ARGYRODITE, "--batch-g", "2", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = assert_single_json_document(result.stdout)
    # Li5.5PS4.5Cl0.8Br0.7 = 2 Li2S + 0.5 P2S5 + 0.8 LiCl + 0.7 LiBr; masses for 2 g worked
    # out by hand from the CIAAW 2021 atomic weights.
    expected = {"Li2S": 0.6173, "P2S5": 0.7465, "LiCl": 0.2278, "LiBr": 0.4084}
    got = {p["formula"]: p["mass"] for p in data["precursors"]}
    assert set(got) == set(expected)
    for formula, grams in expected.items():
        assert got[formula]["unit"] == "g"
        assert got[formula]["value"] == pytest.approx(grams, abs=5e-4), formula
    assert sum(m["value"] for m in got.values()) == pytest.approx(2.0, rel=1e-9)
    assert data["success"] is True
    assert data["provenance"]["ssbkit_version"] == ssbkit.__version__


def test_recipe_without_json_prints_the_report():
    result = invoke(*ARGYRODITE, "--batch-g", "2")
    assert result.exit_code == 0
    assert result.stdout.startswith("Recipe [ok]")
    assert "0.6173" in result.stdout and "Li2S" in result.stdout


def test_recipe_excess():
    result = invoke(*ARGYRODITE, "--batch-g", "2", "--excess-pct", "Li2S=5", "--json")
    assert result.exit_code == 0, result.stderr
    lines = assert_single_json_document(result.stdout)["precursors"]
    masses = {p["formula"]: p["mass"]["value"] for p in lines}
    assert masses["Li2S"] == pytest.approx(0.6173 * 1.05, abs=5e-4)
    assert masses["P2S5"] == pytest.approx(0.7465, abs=5e-4)


def test_recipe_excess_with_a_percent_sign():
    plain = invoke(*ARGYRODITE, "--batch-g", "2", "--excess-pct", "Li2S=5", "--json")
    signed = invoke(*ARGYRODITE, "--batch-g", "2", "--excess-pct", "Li2S=5%", "--json")
    assert signed.exit_code == 0, signed.stderr
    lines = assert_single_json_document(signed.stdout)["precursors"]
    assert lines == assert_single_json_document(plain.stdout)["precursors"]
    assert lines[0]["formula"] == "Li2S" and lines[0]["excess_pct"] == 5.0


def test_recipe_excess_given_twice_is_refused():
    line = assert_one_line_error(invoke(*ARGYRODITE, "--batch-g", "2", "--excess-pct", "Li2S=5",
                                        "--excess-pct", "Li2S=3"))
    assert "--excess-pct" in line and "Li2S is given more than once" in line


def test_recipe_with_byproducts():
    result = invoke("synth", "recipe", "Li7La3Zr2O12", "--precursors", "Li2CO3,La2O3,ZrO2",
                    "--byproducts", "CO2", "--batch-g", "1", "--json")
    assert result.exit_code == 0, result.stderr
    data = assert_single_json_document(result.stdout)
    # 3.5 Li2CO3 + 1.5 La2O3 + 2 ZrO2 -> Li7La3Zr2O12 + 3.5 CO2; by hand from CIAAW 2021
    # weights: M(LLZO) = 839.746, M(Li2CO3) = 73.888, M(CO2) = 44.009 g/mol.
    got = {p["formula"]: (p["coefficient"], p["mass"]["value"]) for p in data["precursors"]}
    assert got["Li2CO3"] == (3.5, pytest.approx(3.5 * 73.888 / 839.746, rel=1e-9))
    (co2,) = data["byproducts"]
    assert co2["formula"] == "CO2" and co2["coefficient"] == 3.5
    assert co2["mass"]["value"] == pytest.approx(3.5 * 44.009 / 839.746, rel=1e-9)
    report = invoke("synth", "recipe", "Li7La3Zr2O12", "--precursors", "Li2CO3,La2O3,ZrO2",
                    "--byproducts", "CO2", "--batch-g", "1")
    assert "released: CO2" in report.stdout


# --- mill plan / grid / dose ------------------------------------------------------------


def test_mill_plan_json():
    result = invoke("mill", "plan", *CHARGE, "--frb", "10%", "--bmr", "80:1", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = assert_single_json_document(result.stdout)
    # 10 % of 50 mL = 5 mL of balls = 9.55 balls of 0.5236 mL -> 10 balls.
    assert data["n_balls"] == round(0.10 * 50 / BALL_VOLUME_ML) == 10
    assert data["powder_mass"]["unit"] == "g"
    assert data["powder_mass"]["value"] == pytest.approx(10 * BALL_MASS_G / 80, rel=1e-9)
    assert data["powder_mass"]["value"] == pytest.approx(1.021, abs=5e-4)


@pytest.mark.parametrize(("frb", "bmr"), [("10%", "80:1"), ("0.1", "80"), ("0.10", "160:2")])
def test_mill_plan_accepts_every_spelling_of_frb_and_bmr(frb, bmr):
    result = invoke("mill", "plan", *CHARGE, "--frb", frb, "--bmr", bmr, "--json")
    assert result.exit_code == 0, result.stderr
    data = assert_single_json_document(result.stdout)
    assert data["frb_target"] == pytest.approx(0.1) and data["bmr"] == pytest.approx(80)


def test_mill_grid_without_dose():
    result = invoke("mill", "grid", *CHARGE, "--frb", "5%,10%,20%", "--bmr", "20,40,80",
                    "--json")
    assert result.exit_code == 0, result.stderr
    data = assert_single_json_document(result.stdout)
    assert len(data["plans"]) == 9
    # FRB varies slowest: 5 % of 50 mL holds 4.8 balls, 10 % 9.5, 20 % 19.1.
    assert [p["n_balls"] for p in data["plans"]] == [5] * 3 + [10] * 3 + [19] * 3
    assert [p["bmr"] for p in data["plans"]] == [20, 40, 80] * 3
    assert data["doses"] == [] and data["dose_ratios"] == []


def test_mill_grid_with_dose_ratios_equal_the_bmr_ratios():
    # Without hindering, dose = N·E·f·t / (N·m_ball/BMR) ∝ BMR: the number of balls cancels.
    result = invoke("mill", "grid", *CHARGE, "--frb", "5%,10%,20%", "--bmr", "20,40,80",
                    *DOSE, "--json")
    assert result.exit_code == 0, result.stderr
    data = assert_single_json_document(result.stdout)
    assert len(data["doses"]) == 9
    assert data["dose_ratios"] == pytest.approx([1, 2, 4] * 3, rel=1e-9)


def test_mill_grid_report():
    result = invoke("mill", "grid", *CHARGE, *DOSE)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("MillingGrid [ok]")
    assert "dose [J/g]" in result.stdout


def _burgio_magini_dose_j_per_g(rpm, hours, plate_mm, jar_mm, ball_mm, n_balls, ball_g, powder_g,
                                transmission=-2.0):
    """The dose written out from Burgio et al. (1991), independently of ssbkit; the data
    sheet's 1:k is counted on the plate, so the jar turns at (1 + k) ω_p in the laboratory."""
    w_p = 2 * math.pi * rpm / 60
    w_v = (1 + transmission) * w_p
    v2 = (w_p * plate_mm / 1e3) ** 2 + w_v**2 * ((jar_mm - ball_mm / 2) / 1e3) ** 2 * (
        1 - 2 * w_v / w_p)
    impact_j = 0.5 * (ball_g / 1e3) * v2
    impacts_per_s = (w_p - w_v) / (2 * math.pi)
    return impact_j * n_balls * impacts_per_s * hours * 3600 / powder_g


def test_mill_dose_json():
    result = invoke("mill", "dose", *CHARGE, "--frb", "10%", "--bmr", "80", *DOSE, "--json")
    assert result.exit_code == 0, result.stderr
    data = assert_single_json_document(result.stdout)
    expected = _burgio_magini_dose_j_per_g(300, 1, 70, 22.5, 10, 10, BALL_MASS_G,
                                           10 * BALL_MASS_G / 80)
    assert data["dose"]["unit"] == "J/g"
    assert data["dose"]["value"] == pytest.approx(expected, rel=1e-9)
    assert data["plan"]["n_balls"] == 10
    assert [c["key"] for c in data["provenance"]["citations"]] == [
        "ssbkit", "burgio1991", "iasonna1996"]


@pytest.mark.parametrize("transmission", ["-2", "-1.5", "-3"])
def test_mill_dose_transmission_ratio(transmission):
    # R_p 100 mm so that 1:−3 still detaches: (22.5 − 5)·2² = 70 mm < 100 mm.
    result = invoke("mill", "dose", *CHARGE, "--frb", "10%", "--bmr", "80", "--rpm", "300",
                    "--time-h", "1", "--plate-radius-mm", "100", "--jar-radius-mm", "22.5",
                    "--transmission-ratio", transmission, "--json")
    assert result.exit_code == 0, result.stderr
    data = assert_single_json_document(result.stdout)
    k = float(transmission)
    expected = _burgio_magini_dose_j_per_g(300, 1, 100, 22.5, 10, 10, BALL_MASS_G,
                                           10 * BALL_MASS_G / 80, transmission=k)
    assert data["dose"]["value"] == pytest.approx(expected, rel=1e-9)
    assert data["transmission_ratio"] == k
    assert data["lab_speed_ratio"] == pytest.approx(1 + k)
    assert data["impact_frequency"]["value"] == pytest.approx(-k * 300 / 60, rel=1e-9)


def test_mill_speed_ratio_option_is_gone():
    result = invoke("mill", "dose", *CHARGE, "--frb", "10%", "--bmr", "80", *DOSE,
                    "--speed-ratio", "-2")
    assert result.exit_code == 2
    assert "--speed-ratio" in result.stderr


# --- data errors: exit 1, one line ------------------------------------------------------

BAD_INPUTS = {
    "unknown element": ["synth", "recipe", "Li6PS5Xx", "--precursors", "Li2S,P2S5,LiCl",
                        "--batch-g", "2"],
    "precursors cannot make target": ["synth", "recipe", "Li6PS5Cl", "--precursors",
                                      "Li2S,P2S5", "--batch-g", "2"],
    "negative batch": [*ARGYRODITE, "--batch-g=-1"],
    "negative batch, separate value": [*ARGYRODITE, "--batch-g", "-0.5"],
    "zero batch": [*ARGYRODITE, "--batch-g", "0"],
    "bad excess spelling": [*ARGYRODITE, "--batch-g", "2", "--excess-pct", "Li2S"],
    "FRB above what balls fill": ["mill", "plan", *CHARGE, "--frb", "70%", "--bmr", "80"],
    "unknown ball material": ["mill", "plan", "--jar-ml", "50", "--ball-diameter-mm", "10",
                              "--ball-material", "unobtainium", "--frb", "10%", "--bmr", "80"],
    "bare FRB 10 is ambiguous": ["mill", "plan", *CHARGE, "--frb", "10", "--bmr", "80"],
    "dose options partial (dose)": ["mill", "dose", *CHARGE, "--frb", "10%", "--bmr", "80",
                                    "--rpm", "400"],
    "dose options partial (grid)": ["mill", "grid", *CHARGE, "--rpm", "400", "--time-h", "2"],
    "excess given twice": [*ARGYRODITE, "--batch-g", "2", "--excess-pct", "Li2S=5",
                           "--excess-pct", "Li2S=5"],
    "carbonate without byproducts": ["synth", "recipe", "Li7La3Zr2O12", "--precursors",
                                     "Li2CO3,La2O3,ZrO2", "--batch-g", "1"],
    "byproduct also a precursor": ["synth", "recipe", "Li7La3Zr2O12", "--precursors",
                                   "Li2CO3,La2O3,ZrO2,CO2", "--byproducts", "CO2",
                                   "--batch-g", "1"],
    "balls never leave the wall": ["mill", "dose", *CHARGE, "--frb", "10%", "--bmr", "80",
                                   *DOSE, "--transmission-ratio", "2"],
    "transmission ratio zero": ["mill", "dose", *CHARGE, "--frb", "10%", "--bmr", "80", *DOSE,
                                "--transmission-ratio", "0"],
    # Regression: this jar volume used to hang `mill plan` (balls taken off one at a time).
    "huge jar volume": ["mill", "plan", "--jar-ml", "2.0163792766308415e24",
                        "--ball-diameter-mm", "10", "--ball-material", "WC", "--frb", "60%",
                        "--bmr", "80"],
}


@pytest.mark.parametrize("with_json", [False, True], ids=["report", "json"])
@pytest.mark.parametrize("args", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_data_error_is_one_line_and_exit_1(args, with_json):
    assert_one_line_error(invoke(*args, *(["--json"] if with_json else [])))


def test_error_lines_say_what_is_wrong():
    line = assert_one_line_error(invoke(*BAD_INPUTS["unknown element"]))
    assert "Xx" in line
    line = assert_one_line_error(invoke(*BAD_INPUTS["precursors cannot make target"]))
    assert "Cl" in line
    line = assert_one_line_error(invoke(*BAD_INPUTS["unknown ball material"]))
    assert "unobtainium" in line and "WC" in line
    line = assert_one_line_error(invoke(*BAD_INPUTS["bare FRB 10 is ambiguous"]))
    assert "--frb" in line and "10%" in line
    line = assert_one_line_error(invoke(*BAD_INPUTS["dose options partial (dose)"]))
    for missing in ("--time-h", "--plate-radius-mm", "--jar-radius-mm"):
        assert missing in line
    assert "--rpm" not in line  # it was given
    line = assert_one_line_error(invoke(*BAD_INPUTS["carbonate without byproducts"]))
    assert "C (in Li2CO3)" in line and "byproducts" in line
    line = assert_one_line_error(invoke(*BAD_INPUTS["balls never leave the wall"]))
    assert "1:2" in line and "never leave the jar wall" in line
    line = assert_one_line_error(invoke(*BAD_INPUTS["huge jar volume"]))
    assert "2.0163792766308415e+24" in line


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (BAD_INPUTS["zero batch"], "--batch-g"),
        (BAD_INPUTS["unknown ball material"], "--ball-material"),
        (BAD_INPUTS["FRB above what balls fill"], "--frb"),
        (BAD_INPUTS["excess given twice"], "--excess-pct"),
        (BAD_INPUTS["byproduct also a precursor"], "--byproducts"),
        (BAD_INPUTS["balls never leave the wall"], "--transmission-ratio"),
        (BAD_INPUTS["transmission ratio zero"], "--transmission-ratio"),
        (BAD_INPUTS["huge jar volume"], "--jar-ml"),
    ],
)
def test_error_names_the_option_the_user_typed(args, option):
    assert option in assert_one_line_error(invoke(*args))


def test_debug_shows_the_traceback():
    result = invoke("--debug", *BAD_INPUTS["unknown element"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: ")
    assert result.stdout == ""


def test_an_internal_error_is_still_one_line(monkeypatch):
    # A bug (not an SSBKitError) must not dump a traceback on users either.
    # import_module, not `import … as`: the package re-exports a function named `recipe`
    # that shadows the submodule as an attribute.
    recipe_module = importlib.import_module("ssbkit.synthesis.recipe")

    def broken(*args, **kwargs):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(recipe_module, "recipe", broken)
    line = assert_one_line_error(invoke(*ARGYRODITE, "--batch-g", "2", "--json"))
    assert "internal error" in line and "ZeroDivisionError" in line and "--debug" in line


# --- usage errors: exit 2 ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["synth", "recipe", "Li6PS5Cl", "--batch-g", "2"],  # --precursors missing
        ["synth", "recipe", "Li6PS5Cl", "--precursors", "Li2S,P2S5,LiCl", "--batch-g", "abc"],
        ["synth", "recipe", "--precursors", "Li2S", "--batch-g", "2"],  # TARGET missing
        ["mill", "plan", *CHARGE, "--bmr", "80"],  # --frb missing
        ["mill", "plan", *CHARGE, "--frb", "10%", "--bmr", "80", "--convention", "loose"],
        ["frobnicate"],
        ["mill", "frobnicate"],
    ],
    ids=["missing option", "non-numeric", "missing argument", "missing --frb",
         "bad choice", "unknown command", "unknown subcommand"],
)
def test_usage_error_exits_2(args):
    result = invoke(*args)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert "Usage:" in result.stderr


# --- the installed entry point, in a fresh interpreter ----------------------------------


def test_console_entry_point_runs_in_a_subprocess():
    proc = subprocess.run(
        [sys.executable, "-c", "from ssbkit.cli import main; main()", "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage: ssbkit" in proc.stdout


@pytest.mark.skipif(importlib.util.find_spec("ssbkit.__main__") is None,
                    reason="ssbkit has no __main__ module")
def test_python_dash_m_ssbkit():
    proc = subprocess.run([sys.executable, "-m", "ssbkit", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: ssbkit" in proc.stdout


def test_console_entry_point_reports_errors_with_exit_1():
    proc = subprocess.run(
        [sys.executable, "-c", "from ssbkit.cli import main; main()",
         "synth", "recipe", "Li6PS5Xx", "--precursors", "Li2S", "--batch-g", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) == 1


LAZY_CHECK = """
import sys
from ssbkit.cli import main
sys.argv = ["ssbkit", *{argv!r}]
try:
    main()
except SystemExit as exc:
    assert exc.code == 0, exc.code
print("HEAVY:", sorted(m for m in ("numpy", "pandas") if m in sys.modules))
"""


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["synth", "--help"], ["synth", "recipe", "--help"], ["mill", "plan", "--help"],
     ["mill", "grid", "--help"], ["--version"]],
    ids=" ".join,
)
def test_help_does_not_import_numpy_or_pandas(argv):
    # `ssbkit --help` must stay instant: heavy libraries load only when a command runs.
    proc = subprocess.run([sys.executable, "-c", LAZY_CHECK.format(argv=argv)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY: []"


def test_the_lazy_import_check_can_fail():
    # Negative control: `synth recipe` solves its balance with numpy, and the check sees it.
    argv = [*ARGYRODITE, "--batch-g", "2", "--json"]
    proc = subprocess.run([sys.executable, "-c", LAZY_CHECK.format(argv=argv)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "numpy" in proc.stdout.strip().splitlines()[-1]
