"""``ssbkit pressure analyze``: one JSON document, the growth the example files were made
with (examples/make_pressure_data.py: 2.1 % and 3.6 % per cycle), one-line errors."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from ssbkit.cli import cli
from ssbkit.testing import assert_single_json_document

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data" / "pressure"
NORMAL = (str(DATA / "stack_pressure_normal.csv"), "--cycling", str(DATA / "cell_normal.bdf.csv"))
HIGH = (str(DATA / "stack_pressure_high.csv"), "--cycling", str(DATA / "cell_high.bdf.csv"))
FORCE = (str(DATA / "stack_force_normal.tsv"), "--cycling", str(DATA / "cell_normal.bdf.csv"))


def invoke(*args):
    return CliRunner().invoke(cli, ["pressure", "analyze", *args], prog_name="ssbkit")


def one_line_error(result):
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(("args", "truth"), [(NORMAL, 2.1), (HIGH, 3.6)])
def test_json_holds_the_growth_the_examples_were_made_with(args, truth):
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = assert_single_json_document(result.stdout)
    growth = data["growth_per_cycle"]
    assert growth["unit"] == "%" and set(growth) == {"value", "stderr", "unit"}
    assert abs(growth["value"] - truth) < 0.1 and growth["stderr"] < 0.1
    assert data["drift"]["unit"] == "MPa" and data["drift_percent"]["unit"] == "%"
    assert len(data["cycles"]) == 8 and data["cycles_fitted"] == 8
    assert data["samples_before"] == data["samples_after"] == 10
    # the examples fade while the pressure builds up
    assert data["correlations"]["baseline"]["r"] < -0.9
    assert data["success"] is True


def test_a_force_log_with_area_and_offset_gives_the_same_cell():
    result = invoke(*FORCE, "--area-cm2", "0.785", "--offset-s", "30", "--json")
    assert result.exit_code == 0, result.stderr
    data = assert_single_json_document(result.stdout)
    assert abs(data["growth_per_cycle"]["value"] - 2.1) < 0.1
    assert data["offset_s"] == 30.0
    assert data["initial_pressure"]["value"] == pytest.approx(10.0, abs=0.05)


def test_the_report_without_json():
    result = invoke(*NORMAL)
    assert result.exit_code == 0
    assert result.stdout.startswith("PressureResult [ok]")
    assert "growth per cycle" in result.stdout


def test_a_figure_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "pressure.png"
    result = invoke(*NORMAL, "--plot", str(figure), "--json")
    assert result.exit_code == 0, result.stderr
    assert figure.read_bytes().startswith(b"\x89PNG")


def test_a_force_log_without_an_area_is_one_line_naming_the_option():
    line = one_line_error(invoke(*FORCE))
    assert "--area-cm2" in line and "stack_force_normal.tsv" in line


def test_a_log_that_misses_the_record_is_one_line_naming_the_log():
    line = one_line_error(invoke(*NORMAL, "--offset-s", "1e7"))
    assert "stack_pressure_normal.csv" in line and "does not overlap" in line


def test_bad_figure_paths_fail_before_any_work(tmp_path):
    assert "--plot" in one_line_error(invoke(*NORMAL, "--plot", str(tmp_path / "fig.bmp")))
    assert "--plot" in one_line_error(invoke(*NORMAL, "--plot", str(tmp_path / "no" / "fig.png")))


def test_missing_files_and_usage_errors(tmp_path):
    assert "cannot read" in one_line_error(invoke(str(tmp_path / "absent.csv"), "--cycling", NORMAL[2]))
    assert invoke(NORMAL[0]).exit_code == 2  # --cycling is required
    wrong = invoke(NORMAL[2], "--cycling", NORMAL[2])  # a cycler file given as the pressure log
    assert "pressure" in one_line_error(wrong)


@pytest.mark.parametrize(("args", "option"), [
    (("--unit", "furlong"), "--unit"),
    (("--area-cm2", "-1"), "--area-cm2"),
    (("--area-cm2", "nan"), "--area-cm2"),
    (("--start-time", "garbage"), "--start-time"),
    (("--offset-s", "inf"), "--offset-s"),
])
def test_a_bad_option_is_refused_even_where_the_file_supplies_the_value(args, option):
    """Regression: the force log's header names its start and its column its unit, and a bad
    --unit, --area-cm2 or --start-time beside them was ignored without a word."""
    line = one_line_error(invoke(*FORCE, "--area-cm2", "0.785", *args))
    assert line.startswith(f"error: {option}: ") and args[1] in line


@pytest.mark.parametrize(("files", "args", "option", "words"), [
    (FORCE, ("--area-cm2", "0.785", "--unit", "N"), "--unit", "names its own unit (kN)"),
    (NORMAL, ("--unit", "bar"), "--unit", "names its own unit (MPa)"),
    (NORMAL, ("--area-cm2", "0.785"), "--area-cm2", "logs pressure"),
    (NORMAL, ("--start-time", "2024-12-31T23:40:00"), "--start-time", "use --offset-s"),
])
def test_an_option_the_file_makes_moot_is_refused_not_ignored(files, args, option, words):
    line = one_line_error(invoke(*files, *args))
    assert line.startswith(f"error: {option}: ") and words in line


def test_options_that_agree_with_the_file_or_are_used_are_accepted():
    reference = assert_single_json_document(invoke(*FORCE, "--area-cm2", "0.785", "--offset-s", "30",
                                                   "--json").stdout)
    # the unit the column names, and a start time that replaces the header's (23:39:30 + 30 s)
    result = invoke(*FORCE, "--area-cm2", "0.785", "--unit", "kN", "--start-time",
                    "2024-12-31T23:40:00", "--json")
    assert result.exit_code == 0, result.stderr
    data = assert_single_json_document(result.stdout)
    assert data["growth_per_cycle"] == reference["growth_per_cycle"]
    assert data["cycles"] == reference["cycles"]
    assert invoke(*NORMAL, "--unit", "MPa", "--json").exit_code == 0
