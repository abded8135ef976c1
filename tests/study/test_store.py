"""The content-addressed store: each content once, by its SHA-256, never half-written."""

import hashlib

import pytest

from ssbkit.core.errors import InputError
from ssbkit.study.store import ObjectStore


def test_a_file_is_stored_under_the_sha256_of_its_bytes(tmp_path):
    source = tmp_path / "eis_25C.CSV"
    source.write_bytes(b"frequency,Z'\n1,2\n")
    digest, stored = ObjectStore(tmp_path / "objects").add(source)
    expected = hashlib.sha256(b"frequency,Z'\n1,2\n").hexdigest()
    assert digest == "sha256:" + expected
    assert stored == tmp_path / "objects" / expected[:2] / f"{expected}.csv"
    assert stored.read_bytes() == source.read_bytes()


def test_the_same_bytes_under_two_names_are_stored_once_and_others_apart(tmp_path):
    store = ObjectStore(tmp_path / "objects")
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("same")
    (tmp_path / "c.csv").write_text("other")
    paths = {store.add(tmp_path / n)[1] for n in ("a.csv", "b.csv")}
    assert len(paths) == 1
    assert store.add(tmp_path / "c.csv")[1] not in paths
    assert len(list((tmp_path / "objects").rglob("*.csv"))) == 2


def test_a_stored_file_survives_the_original_changing_or_going(tmp_path):
    store = ObjectStore(tmp_path / "objects")
    source = tmp_path / "log.csv"
    source.write_text("version 1")
    digest, _ = store.add(source)
    source.unlink()
    assert store.has(digest, ".csv")
    restored = store.export(digest, ".csv", tmp_path / "restored.csv")
    assert restored.read_text() == "version 1"


def test_left_over_temporary_files_are_cleaned_and_never_taken_for_content(tmp_path):
    store = ObjectStore(tmp_path / "objects")
    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / ".incoming-abc").write_bytes(b"half a fi")  # a run killed mid-copy
    assert store.clean() == 1
    assert list((tmp_path / "objects").iterdir()) == []


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="missing.csv"):
        ObjectStore(tmp_path / "objects").add(tmp_path / "missing.csv")
    assert not list((tmp_path / "objects").glob(".incoming-*"))
