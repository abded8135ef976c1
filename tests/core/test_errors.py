"""The exception tree (ssbkit.core.errors) and how InputError messages name their source."""

from __future__ import annotations

from pathlib import Path

import pytest

import ssbkit
from ssbkit.core.errors import (
    AmbiguousFormatError,
    DependencyError,
    FitError,
    InputError,
    SSBKitError,
    UnitError,
    UnsupportedFormatError,
)


@pytest.mark.parametrize(
    "cls", [InputError, UnsupportedFormatError, AmbiguousFormatError, UnitError,
            DependencyError, FitError]
)
def test_every_error_is_an_ssbkit_error(cls):
    # One `except SSBKitError` catches everything ssbkit raises on purpose (the CLI relies on it).
    assert issubclass(cls, SSBKitError)


@pytest.mark.parametrize("cls", [UnsupportedFormatError, AmbiguousFormatError, UnitError])
def test_format_and_unit_errors_are_input_errors(cls):
    assert issubclass(cls, InputError)


@pytest.mark.parametrize("cls", [DependencyError, FitError])
def test_dependency_and_fit_errors_are_not_input_errors(cls):
    # A missing extra or a failed fit is not the user's bad input.
    assert not issubclass(cls, InputError)


def test_builtin_bases_let_generic_code_catch_them():
    # Code that knows nothing of ssbkit still catches bad values and missing imports.
    assert issubclass(InputError, ValueError)
    assert issubclass(DependencyError, ImportError)
    with pytest.raises(ValueError):
        raise UnitError("unknown unit 'x'")


def test_base_classes_are_exported_at_the_top_level():
    assert ssbkit.SSBKitError is SSBKitError
    assert ssbkit.InputError is InputError


def test_message_without_source_is_the_message():
    err = InputError("expected a number")
    assert str(err) == "expected a number"
    assert err.source is None and err.location is None and err.detail == "expected a number"


def test_message_with_source_names_it_first():
    err = InputError("must be > 0, got -1", source="--thickness-mm")
    assert str(err) == "--thickness-mm: must be > 0, got -1"
    assert err.source == "--thickness-mm"
    assert err.detail == "must be > 0, got -1"


def test_message_with_source_and_location():
    err = InputError("expected a number", source="cell.csv", location="line 12, column 3")
    assert str(err) == "cell.csv, line 12, column 3: expected a number"
    assert err.location == "line 12, column 3"


def test_message_with_location_only():
    assert str(InputError("bad header", location="line 1")) == "line 1: bad header"


def test_path_source_is_kept_as_text(tmp_path):
    path = tmp_path / "run 1.mpr"
    err = InputError("truncated file", source=path)
    assert err.source == str(path)
    assert isinstance(err.source, str)
    assert str(err) == f"{path}: truncated file"


def test_subclasses_format_the_same_way():
    err = UnsupportedFormatError("no reader", source=Path("x.bin"))
    assert str(err) == "x.bin: no reader"
    with pytest.raises(InputError, match=r"^x\.bin: no reader$"):
        raise err
