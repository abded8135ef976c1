"""Delimited tables: named columns with units, bare f/Z'/Z'' files, and what must be refused."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum

import ssbkit
from ssbkit.core.errors import InputError, UnitError, UnsupportedFormatError
from ssbkit.eis import Chronoamperometry, Spectrum, simulate_spectrum
from ssbkit.io import read_spectra
from ssbkit.io.table import TableReader, looks_like_minus_z
from ssbkit.testing import shared_data

TABLE = TableReader()


def _write(path, header, rows, sep=",", decimal="."):
    lines = [] if header is None else [sep.join(header)]
    lines += [sep.join(f"{v:.10g}".replace(".", decimal) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.shared_data
def test_impedance_py_example_csv_by_hand():
    (s,) = TABLE.read(shared_data("eis", "impedance.py", "exampleData.csv"))
    # rows 1 and 66 of the file: f, Z', Z'' (Z'' negative on the capacitive arc)
    assert len(s) == 66
    assert s.frequency[0] == pytest.approx(3.1623e-3) and s.frequency[-1] == 1e4
    assert s.impedance[0] == pytest.approx(4.949989776405060160e-02 - 2.043869854441892481e-02j)
    assert s.impedance[-1] == pytest.approx(1.577148266048593317e-02 + 1.015747456493823649e-02j)
    assert s.metadata["assumed_units"] == ["frequency", "z_imag", "z_real"]


@pytest.mark.shared_data
def test_parstat_export_splits_impedance_rows_from_dc_rows():
    spectrum, record = TABLE.read(shared_data("eis", "impedance.py", "exampleDataParstat.txt"))
    assert isinstance(spectrum, Spectrum) and isinstance(record, Chronoamperometry)
    # line 783: first impedance row; 10 kHz, Zre -0.000498…, Zim 0.0175…
    assert len(spectrum) == 31 and spectrum.metadata["first_line"] == 783
    assert spectrum.frequency[0] == 1e4 and spectrum.frequency[-1] == 10.0
    assert spectrum.impedance[0] == pytest.approx(-0.00049816280376104 + 0.0175143479976367j)
    # lines 2-782: the DC rows (frequency 0), a -0.15 A discharge from 3.493 V
    assert len(record) == 781 and record.time[0] == 10.0
    assert record.current[0] == pytest.approx(-0.149962306022644)
    assert record.voltage[0] == pytest.approx(3.49322700500488)


@pytest.mark.shared_data
def test_powersuite_export_with_blank_lines_between_rows():
    (s,) = TABLE.read(shared_data("eis", "impedance.py", "exampleDataPowersuite.txt"))
    assert len(s) == 30 and s.frequency[0] == 0.1
    assert s.impedance[0] == 423929.46 - 49014.063j


@pytest.mark.shared_data
def test_pydrttools_csv_with_an_index_column():
    (s,) = TABLE.read(shared_data("eis", "pyDRTtools", "tutorial_data", "1ZARC.csv"))
    assert len(s) == 81 and s.frequency[0] == 0.01 and s.frequency[-1] == 1e6
    assert s.impedance[0] == 59.20397431908595 + 0.5913301898954791j


@pytest.mark.shared_data
def test_drt_tables_are_refused_not_read_as_spectra():
    with pytest.raises(InputError, match=r"line 1: the columns are neither impedance data.*'tau', "
                                         r"'gamma'"):
        ssbkit.read(shared_data("eis", "pyDRTtools", "tutorial_data", "gamma_data.csv"))
    with pytest.raises(InputError, match="needs three columns"):
        ssbkit.read(shared_data("eis", "pyDRTtools", "tutorial_results", "1ZARC_DRT-RR.csv"))


@pytest.mark.parametrize(("header", "sep", "decimal", "scale_f", "scale_z", "minus"), [
    (["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm"], "\t", ".", 1.0, 1.0, True),
    (["frequency [kHz]", "Z' [kOhm]", "Z'' [kOhm]"], ",", ".", 1e-3, 1e-3, False),
    (["Frequency (MHz)", "Z' (MOhm)", "Z'' (MOhm)"], ";", ",", 1e-6, 1e-6, False),
    (["Index", "Frequency (Hz)", "Z' (Ω)", "-Z'' (Ω)"], ";", ",", 1.0, 1.0, True),
    (["f", "Z'", "Z''"], " ", ".", 1.0, 1.0, False),
])
def test_named_columns_and_units_round_trip(tmp_path, header, sep, decimal, scale_f, scale_z,
                                            minus):
    truth = rc_spectrum(19)
    z_imag = -truth.impedance.imag if minus else truth.impedance.imag
    columns = [truth.frequency * scale_f, truth.impedance.real * scale_z, z_imag * scale_z]
    if header[0] == "Index":
        columns.insert(0, np.arange(len(truth)))
    path = _write(tmp_path / "t.csv", header, np.column_stack(columns), sep, decimal)
    (s,) = read_spectra(path)
    np.testing.assert_allclose(s.frequency, truth.frequency, rtol=1e-9)
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-9)


def test_modulus_and_phase_columns(tmp_path):
    truth = rc_spectrum(11)
    rows = np.column_stack([truth.frequency, np.abs(truth.impedance),
                            -np.degrees(np.angle(truth.impedance))])
    (s,) = TABLE.read(_write(tmp_path / "polar.csv", ["frequency", "|Z|", "-phase"], rows))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-8)


def test_unknown_unit_names_the_column_and_line(tmp_path):
    path = _write(tmp_path / "u.csv", ["Freq (furlongs)", "Z' (Ohm)", "Z'' (Ohm)"], [[1, 2, 3]] * 3)
    with pytest.raises(UnitError, match=r"line 1: column 'Freq \(furlongs\)': unknown frequency "
                                        r"unit 'furlongs'") as info:
        TABLE.read(path)
    assert str(path) in str(info.value)


def test_missing_imaginary_column_is_refused(tmp_path):
    path = _write(tmp_path / "m.csv", ["freq/Hz", "Re(Z)/Ohm"], [[1, 2], [2, 3]])
    with pytest.raises(InputError, match="neither impedance data.*'freq/Hz', 'Re\\(Z\\)/Ohm'"):
        TABLE.read(path)


def test_bare_three_columns_that_hold_minus_z_are_refused_until_told(tmp_path):
    truth = rc_spectrum(25)
    rows = np.column_stack([truth.frequency, truth.impedance.real, -truth.impedance.imag])
    path = _write(tmp_path / "minus.csv", None, rows)
    with pytest.raises(InputError, match="imaginary='minus_z'"):
        TABLE.read(path)
    (s,) = TABLE.read(path, imaginary="minus_z")
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-9)
    (as_stored,) = TABLE.read(path, imaginary="z")
    assert (as_stored.impedance.imag > 0).all()
    with pytest.raises(InputError, match="imaginary: must be one of auto, z, minus_z"):
        TABLE.read(path, imaginary="negative")


def test_negative_control_inductive_data_is_not_mistaken_for_minus_z(tmp_path):
    # R + L: Z'' = ωL > 0 at every point, but |Z| rises with frequency: not a capacitive arc
    f = np.logspace(5, 1, 21)
    truth = simulate_spectrum("R0-L0", {"R0": 5.0, "L0": 1e-4}, f)
    path = _write(tmp_path / "rl.csv", None, np.column_stack(
        [f, truth.impedance.real, truth.impedance.imag]))
    (s,) = TABLE.read(path)
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-9)
    assert not looks_like_minus_z(f, truth.impedance.real, truth.impedance.imag)


def test_nan_negative_and_repeated_frequencies_are_dropped_and_listed(tmp_path):
    truth = rc_spectrum(8)
    rows = np.column_stack([truth.frequency, truth.impedance.real, truth.impedance.imag])
    rows[2, 0] = np.nan
    rows[4, 0] = -rows[4, 0]
    rows[6, 0] = rows[5, 0]
    path = _write(tmp_path / "bad.csv", ["f", "Z'", "Z''"], rows)
    (s,) = TABLE.read(path, split_sweeps=False)
    assert len(s) == 5
    assert s.metadata["dropped"] == [
        {"line": 4, "reason": "frequency is missing or not a number"},
        {"line": 6, "reason": f"frequency {rows[4, 0]:g} Hz is not > 0"},
        {"line": 8, "reason": f"frequency {rows[6, 0]:g} Hz repeats an earlier point"}]
    with pytest.raises(InputError, match="line 4: frequency is missing"):
        TABLE.read(path, strict=True)


def test_text_cell_names_line_and_column(tmp_path):
    path = tmp_path / "text.csv"
    path.write_text("f,Z',Z''\n1,2,-3\n2,abc,-3\n3,2,-1\n")
    with pytest.raises(InputError, match="line 3: column \"Z'\": 'abc' is not a number"):
        TABLE.read(path)


def test_truncated_and_overlong_rows(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("f,Z',Z''\n1,2,-3\n2,2,-3\n3,2")
    with pytest.raises(InputError, match="line 4: the last line has fewer values"):
        TABLE.read(path)
    path.write_text("f,Z',Z''\n1,2,-3\n2,2,-3,7,8\n3,2,-1\n")
    assert not TABLE.sniff(path, path.read_bytes())


def test_empty_and_non_table_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="the file is empty"):
        TABLE.read(empty)
    with pytest.raises(UnsupportedFormatError) as info:
        ssbkit.read(empty)
    assert str(empty) in str(info.value)
    prose = tmp_path / "notes.txt"
    prose.write_text("Results\n1 2 3\nsee the table above\n")
    assert not TABLE.sniff(prose, prose.read_bytes())
    binary = tmp_path / "blob.csv"
    binary.write_bytes(bytes(range(256)))
    assert not TABLE.sniff(binary, binary.read_bytes())


def test_units_in_a_row_of_their_own(tmp_path):
    truth = rc_spectrum(7)
    path = tmp_path / "units.txt"
    rows = "\n".join(f"{f / 1e3:.12g}\t{z.real / 1e3:.12g}\t{z.imag / 1e3:.12g}"
                     for f, z in zip(truth.frequency, truth.impedance, strict=True))
    path.write_text(f"Freq\tZre\tZim\nkHz\tkOhm\tkOhm\n{rows}\n")
    assert TABLE.sniff(path, path.read_bytes())
    (s,) = TABLE.read(path)
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-10)
    assert s.metadata["first_line"] == 3 and "assumed_units" not in s.metadata


def test_a_lone_zero_row_in_a_table_with_dc_columns_is_listed_not_lost(tmp_path):
    truth = rc_spectrum(6)
    lines = ["Elapsed Time (s)\tPotential (V)\tCurrent (A)\tFrequency (Hz)\tZre (ohms)\tZim (ohms)"]
    for k, (f, z) in enumerate(zip(truth.frequency, truth.impedance, strict=True)):
        lines.append(f"{k + 1}\t0.1\t0\t{float(f)!r}\t{float(z.real)!r}\t{float(z.imag)!r}")
        if k == 2:
            lines.append(f"{k + 1.5}\t0.1\t0\t0\t0\t0")
    path = tmp_path / "glitch.txt"
    path.write_text("\n".join(lines) + "\n")
    (s,) = TABLE.read(path)
    assert len(s) == 6
    assert s.metadata["dropped"] == [{"line": 5, "reason": "frequency 0 Hz is not > 0"}]


def test_a_bare_pressure_log_is_left_to_the_pressure_reader(tmp_path):
    # regression: `time [s], pressure [MPa]` was claimed by this reader and by pressure-log
    from ssbkit.io import find_reader

    path = tmp_path / "stack.csv"
    path.write_text("time [s],pressure [MPa]\n" + "".join(f"{60 * k},{10 + 0.01 * k}\n" for k in range(20)))
    assert find_reader(path).name == "pressure-log"
