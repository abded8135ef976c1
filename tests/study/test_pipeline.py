"""`ssbkit study run`: incremental, failure-tolerant, identical on Dask, safe to kill."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.study.db import LabDatabase, default_url
from ssbkit.study.pipeline import run_study

EXPECTED = {"conductivity:P-F10-B80", "electronic:P-F10-B80", "xrd:xrd", "cycling:cycling", "rate:rate",
            "drt:in-situ-eis", "cycling:cycling-pressure-cell", "pressure:pressure", "exsy:exsy"}


def _results(study):
    db = LabDatabase(default_url(study))
    try:
        return {i: (r["status"], r["result_json"]) for i, r in db.analysis_rows().items()}
    finally:
        db.close()


def _append_measurement(study, text):
    manifest = study / "study.toml"
    manifest.write_text(manifest.read_text() + "\n" + text)


def test_a_run_analyses_everything_and_a_second_run_recomputes_nothing(example_study):
    first = run_study(example_study)
    assert set(first.recomputed) == EXPECTED
    assert first.failed == (), first.failed
    assert first.analysed == len(EXPECTED)
    second = run_study(example_study)
    assert second.recomputed == () and second.unchanged == len(EXPECTED)
    assert second.analysed == len(EXPECTED)
    summary = json.loads(_results(example_study)["conductivity:P-F10-B80"][1])["summary"]
    assert summary["sigma_25C"]["value"] == pytest.approx(13.3, rel=0.02)


def test_changing_one_file_recomputes_only_what_reads_it(example_study):
    run_study(example_study)
    log = example_study.parent / "data" / "pressure" / "stack_pressure_normal.csv"
    lines = log.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",10.5"  # one pressure sample changed
    log.write_text("\n".join(lines) + "\n")
    again = run_study(example_study)
    assert again.recomputed == ("pressure:pressure",)


def test_changing_a_pellet_recomputes_the_pellet_analyses_only(example_study):
    run_study(example_study)
    manifest = example_study / "study.toml"
    manifest.write_text(manifest.read_text().replace("thickness_mm = 0.85", "thickness_mm = 0.90"))
    again = run_study(example_study)
    assert set(again.recomputed) == {"conductivity:P-F10-B80", "electronic:P-F10-B80"}
    summary = json.loads(_results(example_study)["conductivity:P-F10-B80"][1])["summary"]
    assert summary["sigma_25C"]["value"] == pytest.approx(13.3 * 0.90 / 0.85, rel=0.02)


def test_force_recomputes_everything(example_study):
    run_study(example_study)
    assert set(run_study(example_study, force=True).recomputed) == EXPECTED


def test_a_bad_file_fails_its_analysis_and_the_rest_completes(example_study):
    (example_study / "broken.csv").write_text("frequency [Hz],Z' [Ohm],Z'' [Ohm]\n1e3,10,nan\n")
    _append_measurement(example_study, '[[measurements]]\nid = "eis-broken"\nfile = "broken.csv"\n'
                        'technique = "eis"\ncell = "LTS-pressure"\n')
    report = run_study(example_study)
    assert [f["analysis"] for f in report.failed] == ["drt:eis-broken"]
    assert "broken.csv" in report.failed[0]["message"]
    assert set(report.recomputed) == EXPECTED | {"drt:eis-broken"}
    assert report.analysed == len(EXPECTED)
    # still failing, not retried, while nothing it reads changes
    again = run_study(example_study)
    assert again.recomputed == () and [f["analysis"] for f in again.failed] == ["drt:eis-broken"]


def test_a_measurement_dropped_from_the_manifest_drops_its_analysis(example_study):
    run_study(example_study)
    manifest = example_study / "study.toml"
    text = manifest.read_text()
    start = text.index('[[measurements]]\nid = "exsy"')
    manifest.write_text(text[:start] + text[text.index("[[headline]]"):])
    report = run_study(example_study)
    assert report.removed == ("exsy:exsy",) and report.recomputed == ()
    assert "exsy:exsy" not in _results(example_study)


def test_a_manifest_naming_a_missing_file_is_refused_with_its_line(example_study):
    manifest = example_study / "study.toml"
    text = manifest.read_text().replace('"../data/dcpol.csv"', '"../data/no_such_file.csv"')
    manifest.write_text(text)
    line = text.splitlines().index('file = "../data/no_such_file.csv"') + 1
    with pytest.raises(InputError) as info:
        run_study(example_study)
    assert "no_such_file.csv" in str(info.value)
    assert f"study.toml:{line}:" in str(info.value)
    assert not (example_study / ".ssbkit" / "lab.sqlite").exists()


@pytest.mark.slow
def test_two_dask_workers_give_the_serial_results(example_study, tmp_path):
    import shutil

    serial_copy = tmp_path / "serial"
    shutil.copytree(example_study.parent, serial_copy)
    run_study(serial_copy / "study")
    report = run_study(example_study, workers=2)
    assert "2 workers" in report.workers
    assert set(report.recomputed) == EXPECTED and report.failed == ()
    assert _results(example_study) == _results(serial_copy / "study")


def _slow_study(study, copies=8):
    """The example study with the XRD scan named several times: a run long enough to kill."""
    text = "".join(f'\n[[measurements]]\nid = "xrd-{i}"\nfile = "../data/xrd/argyrodite_licl_li2s.xy"\n'
                   f'technique = "xrd"\nsample = "S-F10-B80"\n' for i in range(copies))
    _append_measurement(study, text)
    return copies


def _stored_ids(study):
    path = study / ".ssbkit" / "lab.sqlite"
    if not path.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as c:
            return {r[0] for r in c.execute("SELECT id FROM analyses")}
    except sqlite3.OperationalError:  # the schema is being created
        return set()


@pytest.mark.slow
def test_a_run_killed_part_way_loses_nothing_and_the_next_run_finishes(example_study, tmp_path):
    _slow_study(example_study)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, "-m", "ssbkit", "study", "run", str(example_study)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(_stored_ids(example_study)) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = _stored_ids(example_study)
    assert 3 <= len(done_before) < len(EXPECTED) + 8
    db = LabDatabase(default_url(example_study))
    assert db.check() == []
    db.close()
    report = run_study(example_study)
    assert set(report.recomputed).isdisjoint(done_before)  # nothing finished is redone
    assert set(report.recomputed) | done_before == EXPECTED | {f"xrd:xrd-{i}" for i in range(8)}
    assert report.failed == ()
    # what the killed run stored equals a clean run's results
    import shutil

    clean = tmp_path / "clean"
    shutil.copytree(example_study.parent, clean, ignore=shutil.ignore_patterns(".ssbkit"))
    run_study(clean / "study")
    assert _results(example_study) == _results(clean / "study")
    xrd = [json.loads(r[1])["summary"]["lattice_a"]["value"] for i, r in _results(example_study).items()
           if i.startswith("xrd:")]
    assert np.ptp(xrd) == 0.0  # the same file gives the same answer in every analysis


def test_editing_free_text_recomputes_nothing(example_study):
    run_study(example_study)
    manifest = example_study / "study.toml"
    text = manifest.read_text().replace('id = "S-F10-B80"\n', 'id = "S-F10-B80"\ndescription = "batch 2"\n',
                                        1)
    manifest.write_text(text.replace('id = "dcpol"\n', 'id = "dcpol"\nnotes = "left overnight"\n', 1))
    assert run_study(example_study).recomputed == ()


def test_a_database_holding_another_study_is_refused(example_study, tmp_path):
    import shutil

    shared = tmp_path / "shared.sqlite"
    other = tmp_path / "other"
    shutil.copytree(example_study.parent, other)
    for study, name in ((example_study, "first"), (other / "study", "second")):
        manifest = study / "study.toml"
        text = manifest.read_text().replace("[study]\n", f'[study]\ndatabase = "sqlite:///{shared}"\n', 1)
        manifest.write_text(text.replace('name = "Example files', f'name = "{name}: Example files', 1))
    run_study(example_study)
    with pytest.raises(InputError, match="belongs to the study"):
        run_study(other / "study")
    assert run_study(example_study).recomputed == ()  # the first study's results are untouched


def test_a_database_that_is_not_ssbkit_s_is_refused(example_study, tmp_path):
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE samples (name TEXT)")
    manifest = example_study / "study.toml"
    manifest.write_text(manifest.read_text().replace("[study]\n", f'[study]\ndatabase = "sqlite:///{foreign}"\n'))
    with pytest.raises(InputError, match="not an ssbkit lab database"):
        run_study(example_study)
    with sqlite3.connect(foreign) as c:
        assert [r[0] for r in c.execute("SELECT name FROM sqlite_master")] == ["samples"]


def test_an_error_that_is_not_the_input_s_is_tried_again(example_study, monkeypatch):
    import dataclasses

    from ssbkit.study import kinds

    real = kinds.get_kind

    def out_of_memory(task):
        raise MemoryError("the worker ran out of memory")

    def flaky(name):
        kind = real(name)
        return dataclasses.replace(kind, run=out_of_memory) if name == "exsy" else kind

    monkeypatch.setattr(kinds, "get_kind", flaky)
    first = run_study(example_study)
    assert [f["analysis"] for f in first.failed] == ["exsy:exsy"]
    assert "MemoryError" in first.failed[0]["message"]
    monkeypatch.setattr(kinds, "get_kind", real)
    second = run_study(example_study)
    assert second.recomputed == ("exsy:exsy",) and second.failed == ()


def test_a_scheduler_address_is_checked_before_anything_runs(example_study):
    with pytest.raises(InputError, match="--scheduler"):
        run_study(example_study, scheduler="not-an-address")
    assert not (example_study / ".ssbkit" / "lab.sqlite").exists()
