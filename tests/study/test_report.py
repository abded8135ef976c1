"""`ssbkit study report`: the HTML report, its figures and tables, results.json and the headline."""

import json
import os
import re
import shutil
import subprocess

import pytest

from ssbkit.core.errors import InputError
from ssbkit.study.pipeline import run_study
from ssbkit.study.report import write_report


@pytest.fixture
def analysed(example_study):
    run_study(example_study)
    return example_study


def test_the_report_holds_every_analysis_with_figures_and_the_headline(analysed, tmp_path):
    out = tmp_path / "report"
    result = write_report(analysed, out)
    page = (out / "index.html").read_text()
    data = json.loads((out / "results.json").read_text())
    # the headline compares the papers' numbers with the ones derived from the raw files
    rows = {h["quantity"]: h for h in data["headline"]}
    assert rows["σ(25 °C), FRB 10 %, BMR 80:1"]["paper"] == 13.3
    assert rows["σ(25 °C), FRB 10 %, BMR 80:1"]["ssbkit"] == pytest.approx(13.3, rel=0.05)
    assert rows["Ea, FRB 10 %, BMR 80:1"]["ssbkit"] == pytest.approx(0.28, rel=0.05)
    assert all(h["within_5_percent"] for h in data["headline"])
    assert set(data["analyses"]) >= {"conductivity:P-F10-B80", "xrd:xrd", "cycling:cycling", "exsy:exsy",
                                     "pressure:pressure", "drt:in-situ-eis", "rate:rate"}
    # every analysis that succeeded has at least one figure, each with a caption and both formats
    with_figures = {f["analysis"] for f in data["figures"]}
    assert {i for i, a in data["analyses"].items() if a["status"] != "failed"} <= with_figures
    for figure in data["figures"]:
        assert figure["caption"]
        for path in figure["files"].values():
            assert (out / path).stat().st_size > 0
    # every image the page shows exists, and each carries its provenance
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == result.n_figures == len(data["figures"])
    assert all((out / src).is_file() for src in images)
    assert page.count("ssbkit ") >= len(images)
    assert "simulated" in page
    for table in data["tables"]:
        assert (out / table).read_text().count("\n") >= 2


def test_a_second_report_replaces_the_first_whole(analysed, tmp_path):
    out = tmp_path / "report"
    write_report(analysed, out, formats=("png",))
    (out / "stale.txt").write_text("from before")
    write_report(analysed, out, formats=("png",))
    assert not (out / "stale.txt").exists()
    assert not list(out.rglob("*.svg"))
    assert (out / "index.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]


def test_a_study_that_was_never_run_has_no_report(example_study, tmp_path):
    with pytest.raises(InputError, match="ssbkit study run"):
        write_report(example_study, tmp_path / "report")
    assert not (tmp_path / "report").exists()


def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    reason = "Debian's chromium is not installed (make test installs it)"
    if os.environ.get("SSBKIT_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason + " and SSBKIT_REQUIRE_CHROMIUM=1")
    pytest.skip(reason)


def _images_in_browser(chromium, page):
    """(images, missing) as the page's own script counts them in headless Chromium."""
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                          "--allow-file-access-from-files", "--virtual-time-budget=10000", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    counts = dict(re.findall(r'data-(images(?:-missing)?)="(\d+)"', body.group(1)))
    return int(counts["images"]), int(counts["images-missing"])


def test_the_report_opens_in_a_headless_browser_with_no_missing_image(analysed, tmp_path):
    chromium = _chromium()
    out = tmp_path / "report"
    result = write_report(analysed, out, formats=("png",))
    images, missing = _images_in_browser(chromium, out / "index.html")
    assert images == result.n_figures > 5
    assert missing == 0
    # negative control: the same check sees an image that is gone
    next((out / "figures").glob("*.png")).unlink()
    assert _images_in_browser(chromium, out / "index.html") == (images, 1)


@pytest.mark.parametrize("where", ["study", "parent", "store", "data", "foreign"])
def test_a_report_never_replaces_the_study_its_files_or_a_folder_that_is_not_a_report(analysed, where):
    target = {"study": analysed, "parent": analysed.parent, "store": analysed / ".ssbkit",
              "data": analysed.parent / "data", "foreign": analysed.parent / "notes"}[where]
    if where == "foreign":
        target.mkdir()
        (target / "lab-notebook.txt").write_text("mine")
    before = sorted(p.relative_to(analysed.parent) for p in analysed.parent.rglob("*"))
    with pytest.raises(InputError, match="--out"):
        write_report(analysed, target, formats=("png",))
    assert sorted(p.relative_to(analysed.parent) for p in analysed.parent.rglob("*")) == before


def test_a_report_of_a_changed_study_says_which_analyses_are_out_of_date(analysed, tmp_path):
    manifest = analysed / "study.toml"
    manifest.write_text(manifest.read_text().replace("thickness_mm = 0.85", "thickness_mm = 1.70"))
    write_report(analysed, tmp_path / "report", formats=("png",))
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    assert data["out_of_date"] == ["conductivity:P-F10-B80", "electronic:P-F10-B80"]
    assert data["never_run"] == []
    sigma = next(h for h in data["headline"] if h["field"] == "sigma_25C")
    assert sigma["up_to_date"] is False
    assert data["analyses"]["xrd:xrd"]["up_to_date"] is True
    assert "out of date" in (tmp_path / "report" / "index.html").read_text()
    # after a run the report is current again
    run_study(analysed)
    write_report(analysed, tmp_path / "report", formats=("png",))
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    assert data["out_of_date"] == [] and all(h["up_to_date"] for h in data["headline"])


def test_no_figure_format_is_an_input_error(analysed, tmp_path):
    with pytest.raises(InputError, match="--format"):
        write_report(analysed, tmp_path / "report", formats=())


def _add_second_pellet(study):
    manifest = study / "study.toml"
    text = manifest.read_text()
    text = text.replace("[[cells]]", '[[pellets]]\nid = "P-F10-B80-rep"\nsample = "S-F10-B80"\n'
                        'diameter_mm = 10\nthickness_mm = 1.7\n\n[[cells]]', 1)
    text += ('\n[[measurements]]\nid = "rep-25C"\nfile = "../data/argyrodite_25C.csv"\ntechnique = "eis"\n'
             'pellet = "P-F10-B80-rep"\ntemperature_C = 25\n'
             '\n[[measurements]]\nid = "rep-50C"\nfile = "../data/argyrodite_50C.csv"\ntechnique = "eis"\n'
             'pellet = "P-F10-B80-rep"\ntemperature_C = 50\n')
    manifest.write_text(text)


def test_a_sample_with_two_pellets_gets_their_mean_whatever_order_they_were_stored_in(example_study):
    from ssbkit.study.manifest import load_manifest
    from ssbkit.study.pipeline import open_database
    from ssbkit.study.report import process_property_frame

    _add_second_pellet(example_study)
    run_study(example_study)
    manifest = load_manifest(example_study)
    db = open_database(manifest)
    rows = db.analysis_rows()
    db.close()
    orders = (list(rows.items()), list(reversed(rows.items())))
    frames = [process_property_frame(manifest, dict(order)) for order in orders]
    one = frames[0].set_index("sample").loc["S-F10-B80"]
    # the same files with twice the thickness: σ doubles on the replicate
    assert one["sigma_25C [mS/cm]"] == pytest.approx(13.3 * 1.5, rel=0.02)
    assert one["n sigma_25C [mS/cm]"] == 2
    assert frames[0].equals(frames[1])


def test_figures_of_ids_that_read_alike_do_not_overwrite_each_other(analysed, tmp_path):
    from ssbkit.study.report import _slug

    assert _slug("P F5") != _slug("P_F5") and _slug("P_F5") == "P_F5"
    write_report(analysed, tmp_path / "report", formats=("png",))
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    files = [f["file"] for f in data["figures"]]
    assert len(files) == len(set(files))


def test_a_headline_in_a_unit_of_another_quantity_is_a_note_not_a_failed_report(analysed, tmp_path):
    manifest = analysed / "study.toml"
    manifest.write_text(manifest.read_text().replace('unit = "mS/cm"', 'unit = "mAh/g"'))
    write_report(analysed, tmp_path / "report", formats=("png",))
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    sigma = next(h for h in data["headline"] if h["field"] == "sigma_25C")
    assert sigma["ssbkit"] is None and "study.toml:" in sigma["note"] and "mAh/g" in sigma["note"]


def test_the_pressure_figures_name_the_cycling_record_they_draw(analysed, tmp_path):
    write_report(analysed, tmp_path / "report", formats=("png",))
    page = (tmp_path / "report" / "index.html").read_text()
    section = page[page.index("<h3>pressure:pressure"):]
    assert "cell_normal.bdf.csv" in section[:section.index("</figure>")]


def test_two_reports_of_one_database_are_byte_identical_figures(analysed, tmp_path):
    write_report(analysed, tmp_path / "a", formats=("svg",))
    write_report(analysed, tmp_path / "b", formats=("svg",))
    for svg in (tmp_path / "a" / "figures").glob("*.svg"):
        assert svg.read_bytes() == (tmp_path / "b" / "figures" / svg.name).read_bytes(), svg.name
