"""Boundary checks (ssbkit.core.validate): each returns the clean value or raises an
InputError whose message names the argument."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ssbkit.core.errors import InputError
from ssbkit.core.validate import (
    finite,
    finite_array,
    fraction,
    in_range,
    non_negative,
    one_of,
    positive,
    positive_int,
    ratio,
    require_columns,
)

# Values no numeric check may accept: NaN, infinities, booleans (True is 1 to Python, but a
# flag is never a thickness), text that is not a number, and non-numbers.
NOT_FINITE_NUMBERS = [
    math.nan, math.inf, -math.inf, np.nan, np.float64("inf"), "nan", "inf", True, False,
    "abc", "", None, [1.0], object(),
]


def _raises_naming(name, func, *args, **kwargs):
    with pytest.raises(InputError) as info:
        func(*args, **kwargs)
    assert info.value.source == name
    assert str(info.value).startswith(f"{name}: ")
    return str(info.value)


# --- finite -----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(2, 2.0), ("2.5", 2.5), (-1e300, -1e300),
                                                 (np.float32(0.5), 0.5), (" 3 ", 3.0)])
def test_finite_returns_a_float(value, expected):
    out = finite("x", value)
    assert out == expected and type(out) is float


@pytest.mark.parametrize("value", NOT_FINITE_NUMBERS, ids=repr)
def test_finite_refuses(value):
    _raises_naming("temperature_k", finite, "temperature_k", value)


# --- positive / non_negative ------------------------------------------------------------


def test_positive():
    assert positive("batch_mass_g", "2") == 2.0
    assert positive("batch_mass_g", 1e-12) == 1e-12
    message = _raises_naming("batch_mass_g", positive, "batch_mass_g", 0)
    assert "> 0" in message
    _raises_naming("batch_mass_g", positive, "batch_mass_g", -1)


@pytest.mark.parametrize("value", NOT_FINITE_NUMBERS, ids=repr)
def test_positive_refuses_non_numbers(value):
    _raises_naming("m", positive, "m", value)


def test_non_negative():
    assert non_negative("excess", 0) == 0.0
    assert non_negative("excess", "5") == 5.0
    _raises_naming("excess", non_negative, "excess", -1e-9)
    _raises_naming("excess", non_negative, "excess", math.nan)
    _raises_naming("excess", non_negative, "excess", True)


# --- positive_int -----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (3.0, 3), ("12", 12), (np.int64(7), 7)])
def test_positive_int_accepts_whole_numbers(value, expected):
    out = positive_int("n_cycles", value)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value", [0, -2, 1.5, "2.5", math.nan, math.inf, True, "three"],
                         ids=repr)
def test_positive_int_refuses(value):
    _raises_naming("n_cycles", positive_int, "n_cycles", value)


# --- in_range ---------------------------------------------------------------------------


def test_in_range_closed_ends_include_the_ends():
    assert in_range("packing", 0.0, 0.0, 1.0) == 0.0
    assert in_range("packing", 1.0, 0.0, 1.0) == 1.0
    assert in_range("packing", "0.6", 0.0, 1.0) == 0.6


def test_in_range_open_ends_exclude_them_and_say_so():
    message = _raises_naming("packing", in_range, "packing", 0.0, 0.0, 1.0, low_inclusive=False)
    assert "(0, 1]" in message
    message = _raises_naming("packing", in_range, "packing", 1.0, 0.0, 1.0, high_inclusive=False)
    assert "[0, 1)" in message


def test_in_range_gives_the_reason():
    message = _raises_naming("packing", in_range, "packing", 0.8, 0.0, 0.7405,
                             why="0.7405 is the densest")
    assert "0.7405 is the densest" in message and "0.8" in message


@pytest.mark.parametrize("value", [math.nan, math.inf, True, "x"], ids=repr)
def test_in_range_refuses_non_numbers(value):
    _raises_naming("t", in_range, "t", value, -1e9, 1e9)


# --- one_of -----------------------------------------------------------------------------


def test_one_of_is_case_insensitive_and_returns_the_choice_spelling():
    assert one_of("convention", "BULK", ("solid", "bulk")) == "bulk"
    assert one_of("material", "zro2", ["WC", "ZrO2"]) == "ZrO2"


@pytest.mark.parametrize("value", ["loose", "", None, 1])
def test_one_of_refuses_and_lists_the_choices(value):
    message = _raises_naming("convention", one_of, "convention", value, ("solid", "bulk"))
    assert "solid" in message and "bulk" in message


# --- fraction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10%", 0.10), (" 5 % ", 0.05), ("0.2", 0.2), (0.1, 0.1), (1, 1.0), ("100%", 1.0),
     (0, 0.0), ("12.5%", 0.125)],
)
def test_fraction_accepts_fractions_and_percentages(value, expected):
    assert fraction("frb", value) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("value", ["10", 10, 10.0, "1.5"])
def test_bare_number_above_one_is_ambiguous(value):
    # "10" could mean 10 % or 10-fold: refuse, and show both readings.
    message = _raises_naming("frb", fraction, "frb", value)
    number = float(value)
    assert f"{number / 100:g}" in message and f"{number:g}%" in message


@pytest.mark.parametrize("value", ["nan%", "abc%", "%", "nan", math.inf, True, "ten"], ids=repr)
def test_fraction_refuses_non_numbers(value):
    _raises_naming("frb", fraction, "frb", value)


# --- ratio ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("80:1", 80.0), ("1:4", 0.25), ("80", 80.0), (40, 40.0), (" 20 : 2 ", 10.0)],
)
def test_ratio(value, expected):
    assert ratio("bmr", value) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("value", ["80:0", "80:-1", "a:1", "80:", ":1", "80:1:2", math.nan,
                                   "inf:1", True], ids=repr)
def test_ratio_refuses(value):
    _raises_naming("bmr", ratio, "bmr", value)


# --- finite_array -----------------------------------------------------------------------


def test_finite_array_returns_a_new_float_array():
    source = [1, 2, 3]
    out = finite_array("frequency_hz", source)
    assert out.dtype == np.float64 and out.shape == (3,)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])
    given = np.array([1.0, 2.0])
    out = finite_array("frequency_hz", given)
    out[0] = 99.0
    assert given[0] == 1.0  # a copy: the caller's data stay intact


@pytest.mark.parametrize(("bad", "index"), [(math.nan, 3), (math.inf, 0), (-math.inf, 4)])
def test_finite_array_names_the_first_bad_index(bad, index):
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    values[index] = bad
    message = _raises_naming("z_real", finite_array, "z_real", values)
    assert f"index {index}" in message


def test_finite_array_counts_every_bad_value():
    message = _raises_naming("z_real", finite_array, "z_real", [1.0, math.nan, 2.0, math.nan])
    assert "2 NaN" in message and "index 1" in message


def test_finite_array_checks_dimensions():
    message = _raises_naming("pattern", finite_array, "pattern", [[1.0, 2.0]])
    assert "1 dimension" in message
    out = finite_array("image", [[1.0, 2.0], [3.0, 4.0]], ndim=2)
    assert out.shape == (2, 2)


@pytest.mark.parametrize("values", [["a", "b"], [[1.0, 2.0], [3.0]], object()], ids=repr)
def test_finite_array_refuses_non_numbers(values):
    _raises_naming("x", finite_array, "x", values)


# --- require_columns --------------------------------------------------------------------


def test_require_columns_passes_when_all_present():
    frame = pd.DataFrame({"time [s]": [0.0], "voltage [V]": [3.7], "current [mA]": [1.0]})
    assert require_columns(frame, ["time [s]", "voltage [V]"], source="cell.csv") is None


def test_require_columns_names_the_missing_and_the_present():
    frame = pd.DataFrame({"time [s]": [0.0], "Ewe/V": [3.7]})
    message = _raises_naming(
        "cell.csv", require_columns, frame, ["time [s]", "voltage [V]", "current [mA]"],
        source="cell.csv",
    )
    missing, _, found = message.partition("found")
    assert "'voltage [V]'" in missing and "'current [mA]'" in missing
    assert "'time [s]'" not in missing  # present, so not reported missing
    assert "'time [s]'" in found and "'Ewe/V'" in found
