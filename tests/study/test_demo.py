"""`ssbkit demo`: the bundled example study, from simulated raw files to the report, reproduces
the papers' numbers."""

import json

import pytest
from click.testing import CliRunner

from ssbkit.cli import cli


@pytest.mark.slow
def test_the_demo_reproduces_the_papers_headline_numbers_from_its_raw_files(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--out", str(tmp_path / "demo"), "--json"], prog_name="ssbkit")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["run"]["failed"] == [], data["run"]["failed"]
    headline = data["headline"]
    assert len(headline) >= 10
    off = [(h["quantity"], h["paper"], h["ssbkit"], h["note"]) for h in headline if not h["within_5_percent"]]
    assert off == []
    results = json.loads((tmp_path / "demo" / "report" / "results.json").read_text())
    assert results["study"]["simulated"] is True
    assert results["suggestion"] is not None
    # the process-property table has the 3 x 3 milling grid
    grid = {(r.get("frb [%]"), r.get("bmr [1]")) for r in results["process_property"] if r.get("frb [%]")}
    assert len(grid) == 9
    # a second demo run recomputes nothing
    again = runner.invoke(cli, ["demo", "--out", str(tmp_path / "demo"), "--json"], prog_name="ssbkit")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["run"]["recomputed"] == []
