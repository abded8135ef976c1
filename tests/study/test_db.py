"""The lab database: migrations, entities linked by foreign keys, analyses replaced whole."""

import pytest
from sqlalchemy import text

from ssbkit.core.errors import InputError
from ssbkit.study.db import MIGRATIONS, LabDatabase, default_url


def _rows():
    return {"materials": [{"id": "LPSCB", "composition": "Li5.5PS4.5Cl0.8Br0.7", "role": None, "line": 3,
                           "fields_json": "{}"}],
            "samples": [{"id": "S1", "material_id": "LPSCB", "frb_percent": 10.0, "bmr": 80.0, "line": 8,
                         "fields_json": "{}"}],
            "pellets": [{"id": "P1", "sample_id": "S1", "diameter_mm": 10.0, "thickness_mm": 0.85, "line": 20,
                         "fields_json": "{}"}],
            "measurements": [{"id": "m1", "technique": "eis", "file": "a.csv", "sha256": "sha256:aa",
                              "pellet_id": "P1", "temperature_C": 25.0, "line": 30, "fields_json": "{}"}]}


def test_a_new_database_has_every_migration_recorded(tmp_path):
    db = LabDatabase(default_url(tmp_path))
    assert (tmp_path / ".ssbkit" / "lab.sqlite").is_file()
    assert db.schema_version == MIGRATIONS[-1][0]
    with db.engine.connect() as c:
        names = [r[0] for r in c.execute(text("SELECT name FROM schema_migrations ORDER BY version"))]
    assert names == [name for _, name, _ in MIGRATIONS]
    # opening it again applies nothing twice
    assert LabDatabase(default_url(tmp_path)).schema_version == db.schema_version


def test_a_database_from_a_newer_ssbkit_is_refused(tmp_path):
    db = LabDatabase(default_url(tmp_path))
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO schema_migrations VALUES (99, 'from the future', 'x')"))
    with pytest.raises(InputError, match="newer ssbkit"):
        LabDatabase(default_url(tmp_path))


def test_entities_are_replaced_whole_and_blobs_only_added(tmp_path):
    db = LabDatabase(default_url(tmp_path))
    blob = {"sha256": "sha256:aa", "size": 3, "suffix": ".csv", "first_name": "a.csv"}
    db.replace_entities(_rows(), [blob])
    assert [r["id"] for r in db.entities("pellets")] == ["P1"]
    assert db.entities("samples")[0]["bmr"] == 80.0
    db.replace_entities({"materials": _rows()["materials"]}, [])
    assert db.entities("pellets") == [] and db.entities("measurements") == []
    with db.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM blobs")).scalar() == 1
    assert db.check() == []


def test_a_link_to_nothing_is_refused_by_the_database(tmp_path):
    db = LabDatabase(default_url(tmp_path))
    rows = _rows()
    rows["pellets"][0]["sample_id"] = "no such sample"
    with pytest.raises(Exception, match="FOREIGN KEY"):
        db.replace_entities(rows, [{"sha256": "sha256:aa", "size": 3, "suffix": ".csv", "first_name": "a"}])
    # the failed transaction left nothing behind
    assert db.entities("materials") == []


def test_an_analysis_is_replaced_and_stale_ones_dropped(tmp_path):
    db = LabDatabase(default_url(tmp_path))
    common = {"kind": "conductivity", "target": "P1", "message": "", "inputs": {}, "settings": {"a": 1},
              "ssbkit_version": "0", "duration_s": 0.1, "run_id": None}
    db.save_analysis(id="conductivity:P1", key="k1", status="done", result={"summary": {}}, **common)
    db.save_analysis(id="conductivity:P1", key="k2", status="failed", result=None, **common)
    db.save_analysis(id="conductivity:P2", key="k3", status="done", result={"x": [1.5]}, **common)
    assert db.analysis_keys() == {"conductivity:P1": ("k2", "failed"), "conductivity:P2": ("k3", "done")}
    assert db.analysis_rows()["conductivity:P2"]["result"] == {"x": [1.5]}
    assert db.drop_analyses(["conductivity:P2"]) == ["conductivity:P1"]
    assert list(db.analysis_rows()) == ["conductivity:P2"]


def test_a_bad_url_is_an_input_error():
    with pytest.raises(InputError, match="cannot open the database"):
        LabDatabase("nosuchdialect://x/y")


def test_runs_are_recorded(tmp_path):
    db = LabDatabase(default_url(tmp_path))
    run = db.start_run(manifest_sha256="sha256:m", workers="serial", planned=3)
    db.finish_run(run, recomputed=2, failed=1)
    (row,) = db.runs()
    assert (row["planned"], row["recomputed"], row["failed"]) == (3, 2, 1)
    assert row["finished_at"] is not None
