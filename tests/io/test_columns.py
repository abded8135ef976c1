"""Column headers: names, units and signs as instruments write them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ssbkit.core.errors import UnitError
from ssbkit.io._columns import classify_header, map_columns


@pytest.mark.parametrize(("header", "quantity", "unit", "negated"), [
    ("freq/Hz", "frequency", "Hz", False),
    ("Re(Z)/Ohm", "z_real", "Ohm", False),
    ("-Im(Z)/Ohm", "z_imag", "Ohm", True),
    ("|Z|/Ohm", "z_mod", "Ohm", False),
    ("Phase(Z)/deg", "phase", "deg", False),
    ("<Ewe>/V", "voltage", "V", False),
    ("<I>/mA", "current", "mA", False),
    ("I/mA", "current", "mA", False),
    ("cycle number", "cycle", "", False),
    ("Frequency (Hz)", "frequency", "Hz", False),
    ("Z' (Ohms)", "z_real", "Ohms", False),
    ('-Z" (Ohms)', "z_imag", "Ohms", True),
    ("-Z'' (Ω)", "z_imag", "Ω", True),
    ("Freq.[Hz]", "frequency", "Hz", False),
    ("Zs''[ohm]", "z_imag", "ohm", False),
    ("frequency [kHz]", "frequency", "kHz", False),
    ("Z\"/ohm", "z_imag", "ohm", False),
    ("Z/ohm", "z_mod", "ohm", False),
    ("-Phase (°)", "phase", "°", True),
    ("Zimg", "z_imag", "", False),
    ("Repeats", "cycle", "", False),
    ("Step number", "step", "", False),
    ("Elapsed Time (s)", "time", "s", False),
    ("Time(Sec)", "time", "Sec", False),
    ("Z'(a)", "z_real", "", False),
    ("Temperature/°C", "temperature", "°C", False),
])
def test_headers_instruments_write(header, quantity, unit, negated):
    column = classify_header(header)
    assert (column.quantity, column.unit, column.negated) == (quantity, unit, negated)


@pytest.mark.parametrize("header", ["|Ewe|/V", "|I|/A", "Re(Y)/Ohm-1", "Cs/µF", "tau", "gamma",
                                    "control/V/mA", "Step Name", "", "0", "(Q-Qo)/mA.h"])
def test_headers_that_are_not_used(header):
    assert classify_header(header).quantity is None


def test_units_are_converted_and_signs_undone():
    headers = ["Frequency (kHz)", "Z' (kOhm)", "-Z'' (kOhm)", "I/mA", "Temperature/°C"]
    columns = map_columns(headers, source=Path("x.csv"))
    values = np.array([[2.0, 1.5, 0.5, 3.0, 25.0]])
    assert columns.get(values, "frequency")[0] == 2000.0
    assert columns.impedance(values)[0] == 1500 - 500j
    assert columns.get(values, "current")[0] == pytest.approx(3e-3)
    assert columns.get(values, "temperature")[0] == pytest.approx(298.15)
    assert columns.assumed_units == ()


def test_missing_units_are_reported_as_assumed():
    columns = map_columns(["f", "Z'", "Z''"], source=Path("x.csv"))
    assert columns.assumed_units == ("frequency", "z_imag", "z_real")


def test_polar_columns_in_radians():
    columns = map_columns(["f/Hz", "|Z|/Ohm", "phase/rad"], source=Path("x.csv"))
    z = columns.impedance(np.array([[1.0, 2.0, -np.pi / 2]]))
    assert z[0] == pytest.approx(-2j)


@pytest.mark.parametrize(("header", "match"), [
    ("Freq (furlongs)", "unknown frequency unit 'furlongs'"),
    ("Z' (V)", "unknown resistance unit 'V'"),
    ("Phase (grad)", "unknown angle unit 'grad'"),
])
def test_unknown_units_name_the_column(header, match):
    headers = ["f/Hz", "Z'/Ohm", "Z''/Ohm"]
    headers[0 if "Freq" in header else 1 if "Z'" in header else 2] = header
    if "Phase" in header:
        headers = ["f/Hz", "|Z|/Ohm", header]
    with pytest.raises(UnitError, match=match):
        map_columns(headers, source=Path("x.csv"), location="line 1")
