"""Sweep splitting and bad-point bookkeeping shared by every reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.io._build import build_records, build_spectra, runs, split_sweeps, temperature_from_name


def _sweeps(f):
    f = np.asarray(f, dtype=float)
    return [list(map(int, r)) for r in split_sweeps(f, np.arange(f.size))]


def test_repeated_downward_sweeps_split_at_the_jump():
    assert _sweeps([10, 5, 1, 10, 5, 1, 10, 5, 1]) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_up_then_down_sweeps():
    assert _sweeps([1, 5, 10, 5, 1]) == [[0, 1, 2], [3, 4]]


def test_a_repeated_value_does_not_split():
    assert _sweeps([10, 5, 5, 1]) == [[0, 1, 2, 3]]


def test_unusable_frequencies_stay_in_their_sweep():
    assert _sweeps([10, np.nan, 1, 10, -1, 1]) == [[0, 1, 2], [3, 4, 5]]


def test_runs_follow_changes_of_any_group_key():
    groups = {"step": np.array([1, 1, 2, 2, 2]), "cycle": np.array([1, 2, 2, 2, 3])}
    assert [list(map(int, r)) for r in runs(groups, 5)] == [[0], [1], [2, 3], [4]]


def test_spectrum_without_usable_points_is_an_error_naming_the_first_problem():
    with pytest.raises(InputError, match="no usable impedance points; first problem at line 7: "
                                         "frequency -1 Hz is not > 0"):
        build_spectra(Path("x.txt"), np.array([-1.0, 0.0]), np.array([1 + 1j, 2 + 1j]),
                      np.array([7, 8]), metadata={})


def test_infinite_impedance_is_dropped_and_listed():
    (s,) = build_spectra(Path("x.txt"), np.array([3.0, 2.0, 1.0]),
                         np.array([1 - 1j, np.inf + 0j, 3 - 1j]), np.array([1, 2, 3]),
                         metadata={"format": "t"})
    assert len(s) == 2
    assert s.metadata["dropped"] == [{"line": 2, "reason": "impedance is missing or not a number"}]


def test_records_split_by_group_and_keep_group_values():
    t = np.array([0.0, 1, 2, 0, 1, 2])
    records = build_records(Path("x.txt"), t, np.ones(6), np.ones(6), np.arange(1, 7),
                            metadata={}, groups={"step": np.array([1, 1, 1, 2, 2, 2])})
    assert [r.metadata["step"] for r in records] == [1, 2]


@pytest.mark.parametrize(("name", "kelvin"), [
    ("s04147-140deg.txt", 413.15), ("cell_25C.csv", 298.15), ("x-60degC.txt", 333.15),
    ("pellet 80.5 deg.txt", 353.65), ("LIB_data.txt", None), ("Circuit1_EIS_1.z", None),
    ("2ZARC5.csv", None),
])
def test_temperature_in_file_names(name, kelvin):
    found = temperature_from_name(name)
    assert found == (None if kelvin is None else pytest.approx(kelvin))
