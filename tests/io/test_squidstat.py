"""Admiral Squidstat CSV exports (synthetic, in the layout the Squidstat software writes)."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum, write_squidstat

from ssbkit.core.errors import InputError
from ssbkit.eis import Chronoamperometry
from ssbkit.io import find_reader, read_chronoamperometry, read_spectra
from ssbkit.io.squidstat import SquidstatReader
from ssbkit.io.table import TableReader

REPEATS = [rc_spectrum(15, r1=r1) for r1 in (100.0, 150.0, 200.0)]


@pytest.mark.parametrize("imag_header", ['"-Z"" (Ohms)"', "-Z'' (Ohms)"])
def test_each_repeat_of_the_eis_step_is_a_spectrum(tmp_path, imag_header):
    path = write_squidstat(tmp_path / "seq.csv", REPEATS, imag_header=imag_header)
    assert find_reader(path) is SquidstatReader
    spectra = read_spectra(path)
    assert [s.metadata["cycle"] for s in spectra] == [1, 2, 3]
    assert {s.metadata["step"] for s in spectra} == {2}
    assert {s.metadata["step_name"] for s in spectra} == {"EIS"}
    assert spectra[0].metadata["instrument"] == "Admiral Squidstat"
    for s, truth in zip(spectra, REPEATS, strict=True):
        np.testing.assert_allclose(s.frequency, truth.frequency, rtol=1e-8)
        # -Z" is stored, so Z'' must come back negative, as simulated
        np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-8)
    # the repeats differ only by R1: their low-frequency Z' grows by 50 Ohm each time
    lowest = [s.impedance.real[-1] for s in spectra]
    np.testing.assert_allclose(np.diff(lowest), [50.0, 50.0], rtol=1e-3)


def test_dc_step_is_a_record_with_its_step_name(tmp_path):
    path = write_squidstat(tmp_path / "seq.csv", REPEATS, dc_points=6)
    (record,) = read_chronoamperometry(path)
    assert isinstance(record, Chronoamperometry) and len(record) == 6
    assert record.metadata["step_name"] == "Constant Potential" and record.metadata["step"] == 1
    np.testing.assert_allclose(record.time, np.arange(1.0, 7.0))
    np.testing.assert_allclose(record.current, 1e-6 / (1 + record.time), rtol=1e-6)
    np.testing.assert_allclose(record.voltage, 0.1)


def test_dc_only_export_has_no_spectrum(tmp_path):
    path = write_squidstat(tmp_path / "dc.csv", [], dc_points=4)
    assert isinstance(SquidstatReader().read(path)[0], Chronoamperometry)
    with pytest.raises(InputError, match="holds no impedance spectrum"):
        read_spectra(path)


def test_the_generic_table_reader_leaves_squidstat_files_alone(tmp_path):
    path = write_squidstat(tmp_path / "seq.csv", REPEATS)
    assert not TableReader().sniff(path, path.read_bytes())


def test_bad_number_in_an_eis_row_names_its_line(tmp_path):
    path = write_squidstat(tmp_path / "seq.csv", REPEATS[:1], dc_points=2)
    lines = path.read_text().splitlines()
    fields = lines[5].split(",")
    fields[7] = "1.0E+0x"
    lines[5] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"line 6: column 'Frequency \(Hz\)'"):
        SquidstatReader().read(path)
