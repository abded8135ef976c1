"""Decoding and table parsing shared by the text readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.io._text import decode, is_number, parse_table, split_lines


@pytest.mark.parametrize(("raw", "text"), [
    ("cm²".encode(), "cm²"),
    ("cm²".encode("latin-1"), "cm²"),
    (b"\xef\xbb\xbfZ60W", "Z60W"),
    ("PalmSens".encode("utf-16"), "PalmSens"),
])
def test_decode_tries_boms_then_utf8_then_latin1(raw, text):
    assert decode(raw) == text


def test_lines_split_only_at_line_ends():
    assert split_lines("a\r\nb\rc\nd\x0ce\n") == ["a", "b", "c", "d\x0ce"]


@pytest.mark.parametrize(("text", "number"), [
    ("1.5", True), ("-2,5E-3", True), ("nan", True), (".5", True), ("1.2.3", False),
    ("abc", False), ("", False), ("1e", False),
])
def test_is_number(text, number):
    assert is_number(text) is number


def test_parse_table_keeps_line_numbers_across_blank_lines():
    lines = ["header", "1\t2", "", "3\t4", "   ", "5\t6"]
    table = parse_table(lines, 1, names=["a", "b"], sep="\t", decimal=".", source=Path("x"))
    np.testing.assert_array_equal(table.lines, [2, 4, 6])
    np.testing.assert_array_equal(table.values, [[1, 2], [3, 4], [5, 6]])


def test_parse_table_reports_a_row_with_too_many_values():
    lines = ["1,2", "3,4,5", "6,7"]
    with pytest.raises(InputError, match="line 2: 3 values where the header names 2 columns"):
        parse_table(lines, 0, names=["a", "b"], sep=",", decimal=".", source=Path("x"))
