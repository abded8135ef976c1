"""The public test helpers (ssbkit.testing): each must pass what is right and fail what is not."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

import ssbkit.testing
from ssbkit.core.results import Estimate
from ssbkit.synthesis import recipe
from ssbkit.testing import (
    assert_element_balance,
    assert_estimate_close,
    assert_single_json_document,
    shared_data,
    shared_data_root,
)

# --- shared_data --------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A shared-data folder of our own, holding eis/cell.csv, and no CI requirement."""
    (tmp_path / "eis").mkdir()
    (tmp_path / "eis" / "cell.csv").write_text("f,re,im\n1,2,3\n")
    monkeypatch.setenv("SSBKIT_SHARED_DATA", str(tmp_path))
    monkeypatch.delenv("SSBKIT_REQUIRE_SHARED_DATA", raising=False)
    return tmp_path


def test_shared_data_returns_the_path_under_the_folder_named_by_the_environment(data_dir):
    assert shared_data_root() == data_dir
    path = shared_data("eis", "cell.csv")
    assert path == data_dir / "eis" / "cell.csv"
    assert path.read_text().startswith("f,re,im")


@pytest.mark.parametrize("require", [None, "0", ""])
def test_shared_data_skips_when_the_file_is_absent(data_dir, monkeypatch, require):
    if require is not None:
        monkeypatch.setenv("SSBKIT_REQUIRE_SHARED_DATA", require)
    with pytest.raises(pytest.skip.Exception, match=r"'eis/missing\.csv' not found"):
        shared_data("eis", "missing.csv")


def test_shared_data_skips_when_there_is_no_folder_at_all(monkeypatch):
    monkeypatch.setattr(ssbkit.testing, "shared_data_root", lambda: None)
    monkeypatch.delenv("SSBKIT_REQUIRE_SHARED_DATA", raising=False)
    with pytest.raises(pytest.skip.Exception, match="set SSBKIT_SHARED_DATA"):
        shared_data("eis", "cell.csv")


def test_shared_data_fails_when_ci_requires_it(data_dir, monkeypatch):
    monkeypatch.setenv("SSBKIT_REQUIRE_SHARED_DATA", "1")
    with pytest.raises(pytest.fail.Exception,
                       match=r"'eis/missing\.csv' not found.*SSBKIT_REQUIRE_SHARED_DATA=1"):
        shared_data("eis", "missing.csv")
    # A file that is there is still found.
    assert shared_data("eis", "cell.csv") == data_dir / "eis" / "cell.csv"


@pytest.mark.shared_data
def test_shared_data_finds_the_real_eis_readme():
    # Runs in CI with SSBKIT_REQUIRE_SHARED_DATA=1, where a missing file is a failure.
    path = shared_data("eis", "README.md")
    assert path.is_file()
    assert path.relative_to(shared_data_root()) == Path("eis", "README.md")
    assert path.read_text(encoding="utf-8").startswith("# EIS reference data")


# --- assert_estimate_close --------------------------------------------------------------


def test_estimate_close_passes_within_the_tolerance():
    assert_estimate_close(Estimate(1.0 + 5e-8, unit="g"), 1.0, unit="g")
    assert_estimate_close(Estimate(1.01, unit="g"), 1.0, rtol=0.02)
    assert_estimate_close(Estimate(1e-12, unit="V"), 0.0, atol=1e-9)


@pytest.mark.parametrize(("actual", "expected", "options", "message"), [
    (Estimate(1.01, unit="g"), 1.0, {}, r"1\.01 g != 1\.0 \(rtol=1e-07, atol=0\)"),
    (Estimate(1e-12, unit="V"), 0.0, {}, r"1e-12 V != 0\.0"),
    (Estimate(math.nan, unit="g"), 1.0, {}, r"nan g != 1\.0"),
    (Estimate(1.0, unit="mg"), 1.0, {"unit": "g"}, r"unit 'mg' != expected 'g'"),
    (1.0, 1.0, {}, r"expected an Estimate, got float"),
])
def test_estimate_close_fails_outside_it(actual, expected, options, message):
    with pytest.raises(AssertionError, match=message):
        assert_estimate_close(actual, expected, **options)


# --- assert_element_balance -------------------------------------------------------------


def _fake_recipe(target, **coefficients):
    """A recipe-like object: a target and precursor lines with a formula and a coefficient."""
    return SimpleNamespace(
        target=target,
        precursors=[SimpleNamespace(formula=f, coefficient=c) for f, c in coefficients.items()],
    )


def test_element_balance_passes_a_real_recipe():
    assert_element_balance(recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0))


def test_element_balance_passes_a_balanced_fake():
    assert_element_balance(_fake_recipe("Li2TiS3", Li2S=1.0, TiS2=1.0))


def test_element_balance_fails_a_short_precursor():
    # 0.9 TiS2 leaves Li2TiS3 short of Ti (0.9 of 1) and S (2.8 of 3).
    # Elements are checked in alphabetical order, so S is the first to be named.
    with pytest.raises(AssertionError,
                       match=r"^S: precursors supply 2\.8, target and by-products need 3\.0"):
        assert_element_balance(_fake_recipe("Li2TiS3", Li2S=1.0, TiS2=0.9))


def test_element_balance_fails_an_element_the_target_lacks():
    # LiCl brings Cl, which Li2S does not have; Li is over-supplied too.
    with pytest.raises(AssertionError,
                       match=r"^Cl: precursors supply 1\.0, target and by-products need 0\.0"):
        assert_element_balance(_fake_recipe("Li2S", Li2S=1.0, LiCl=1.0))


def test_element_balance_counts_what_is_released():
    r = recipe("Li7La3Zr2O12", ["Li2CO3", "La2O3", "ZrO2"], 1.0, byproducts=["CO2"])
    assert_element_balance(r)


# --- assert_single_json_document --------------------------------------------------------


def test_single_json_document_is_parsed_and_returned():
    assert assert_single_json_document('{"a": [1, null], "b": "x"}\n') == {"a": [1, None],
                                                                            "b": "x"}


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": 1}\n{"b": 2}\n', "not one JSON document"),
    ('{"a": 1}\nsaved to out.json\n', "not one JSON document"),
    ("", "not one JSON document"),
    ('{"a": NaN}', "not strict JSON: NaN"),
    ('{"a": Infinity}', "not strict JSON: Infinity"),
    ("[-Infinity]", "not strict JSON: -Infinity"),
])
def test_single_json_document_rejects(text, message):
    with pytest.raises(AssertionError, match=message):
        assert_single_json_document(text)
