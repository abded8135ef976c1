"""BioLogic EC-Lab files: real .mpt exports checked by hand, synthetic round trips, bad files."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from eis_writers import rc_spectrum, write_mpt, write_mpt_ca

import ssbkit
from ssbkit.core.errors import DependencyError, InputError
from ssbkit.eis import Chronoamperometry
from ssbkit.io import read_chronoamperometry, read_spectra
from ssbkit.io.biologic import BioLogicMprReader, BioLogicMptReader
from ssbkit.testing import shared_data

MPT = BioLogicMptReader()


@pytest.mark.shared_data
def test_impedance_py_example_values_by_hand():
    (s,) = MPT.read(shared_data("eis", "impedance.py", "exampleDataBioLogic.mpt"))
    # file lines 62 and 104: freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm
    assert len(s) == 43
    assert s.frequency[0] == 1.0003201e3 and s.frequency[-1] == 1.6895540e-2
    assert s.impedance[0] == pytest.approx(6.5470886e1 - 3.8998979e-1j, rel=1e-12)
    assert s.impedance[-1] == pytest.approx(1.1097003e2 - 2.3458567j, rel=1e-12)
    # -Im(Z) is stored: the capacitive low-frequency points must come out with Z'' < 0
    assert (s.impedance.imag[-10:] < 0).all()
    meta = s.metadata
    assert meta["technique"] == "Potentio Electrochemical Impedance Spectroscopy"
    assert meta["start_time"] == "02/04/2018 10:02:46"
    assert meta["instrument"] == "BioLogic SP-150 (SN 10791079)"
    assert meta["area_cm2"] == 0.001 and meta["cycle"] == 1
    assert meta["first_line"] == 62 and meta["last_line"] == 104
    assert meta["time_s"] == pytest.approx([0.7836904905780102, 288.5022309564229])


@pytest.mark.shared_data
def test_three_sweeps_in_one_file_are_three_spectra():
    spectra = MPT.read(shared_data("eis", "pyimpspec", "case-multiple-spectra.mpt"))
    assert [len(s) for s in spectra] == [29, 29, 29]
    assert [(s.metadata["first_line"], s.metadata["last_line"]) for s in spectra] == \
        [(69, 97), (98, 126), (127, 155)]
    assert [s.metadata["sweep"] for s in spectra] == [0, 1, 2]
    for s in spectra:
        assert s.frequency[0] == 1e4 and s.frequency[-1] == 1.0
        assert s.impedance[0] == pytest.approx(1.0900918e2 - 2.6555680e1j)
    # without splitting, the repeated frequencies of sweeps 2 and 3 are dropped, and listed
    (whole,) = MPT.read(shared_data("eis", "pyimpspec", "case-multiple-spectra.mpt"),
                        split_sweeps=False)
    assert len(whole) == 29 and len(whole.metadata["dropped"]) == 58
    assert whole.metadata["dropped"][0] == {"line": 98, "reason":
                                            "frequency 10000 Hz repeats an earlier point"}


@pytest.mark.shared_data
def test_header_missing_the_frequency_column_is_refused_naming_the_line():
    # impedance.py's variant lists 17 column names over rows of 18 values: any guess of
    # which name is missing would put values under the wrong quantity.
    path = shared_data("eis", "impedance.py", "exampleDataBioLogic_MissingFreq.mpt")
    with pytest.raises(InputError, match=r"line 62: 18 values but the column header \(line 61\) "
                                         r"names 17 columns") as info:
        MPT.read(path)
    assert str(path) in str(info.value)


def test_round_trip_of_two_sweeps_with_cycle_numbers(tmp_path):
    truth = [rc_spectrum(25), rc_spectrum(25, r1=300.0)]
    spectra = read_spectra(write_mpt(tmp_path / "two.mpt", truth))
    assert [s.metadata["cycle"] for s in spectra] == [1, 2]
    for s, t in zip(spectra, truth, strict=True):
        np.testing.assert_allclose(s.frequency, t.frequency, rtol=1e-7)
        np.testing.assert_allclose(s.impedance, t.impedance, rtol=1e-6)
    assert spectra[0].metadata["area_cm2"] == pytest.approx(0.785)
    assert spectra[0].metadata["dc_potential_vs"] == "Eoc"


def test_decimal_comma_export_reads_the_same(tmp_path):
    truth = rc_spectrum(15)
    (s,) = MPT.read(write_mpt(tmp_path / "comma.mpt", [truth], decimal=","))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-6)
    assert s.metadata["area_cm2"] == pytest.approx(0.785)


def test_chronoamperometry_file_gives_a_record_in_ampere(tmp_path):
    t = np.arange(0.0, 60.0, 1.0)
    current_mA = 1e-3 * (1 + 5 * np.exp(-t / 10))  # decays to 1 µA
    path = write_mpt_ca(tmp_path / "ca.mpt", t, current_mA, np.full(t.size, 0.1))
    (record,) = read_chronoamperometry(path)
    assert isinstance(record, Chronoamperometry)
    np.testing.assert_allclose(record.time, t)
    np.testing.assert_allclose(record.current, current_mA * 1e-3, rtol=1e-7)
    np.testing.assert_allclose(record.voltage, 0.1)
    assert record.metadata["technique"] == "Chronoamperometry / Chronocoulometry"
    with pytest.raises(InputError, match="holds no impedance spectrum.*1 Chronoamperometry"):
        read_spectra(path)


def test_chronoamperometry_with_averaged_current_column(tmp_path):
    t = np.linspace(0, 10, 11)
    path = write_mpt_ca(tmp_path / "ca.mpt", t, np.full(11, 2.0), np.full(11, 0.05),
                        average_current=True)
    (record,) = MPT.read(path)
    np.testing.assert_allclose(record.current, 2e-3)


def test_repeated_time_stamps_in_a_dc_record_are_dropped_and_listed(tmp_path):
    t = np.array([0.0, 1.0, 1.0, 2.0, 3.0])
    path = write_mpt_ca(tmp_path / "ca.mpt", t, np.ones(5), np.full(5, 0.1))
    (record,) = MPT.read(path)
    assert len(record) == 4
    assert record.metadata["dropped"] == [{"line": 15, "reason": "time 1 s does not increase"}]
    with pytest.raises(InputError, match="line 15: time 1 s does not increase"):
        MPT.read(path, strict=True)


def test_truncated_last_row_names_its_line(tmp_path):
    path = write_mpt(tmp_path / "cut.mpt", [rc_spectrum(10)])
    text = path.read_bytes()
    path.write_bytes(text[: len(text) - 60])  # cut inside the last row
    with pytest.raises(InputError, match=r"line 24: the last line has fewer values"):
        MPT.read(path)


def test_file_cut_inside_its_header(tmp_path):
    path = write_mpt(tmp_path / "head.mpt", [rc_spectrum(10)])
    lines = path.read_text(encoding="latin-1").splitlines()[:8]
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(InputError, match="line 2: the header is said to have 14 lines but the "
                                         "file has 8"):
        MPT.read(path)


def test_nan_frequency_is_dropped_and_listed_or_refused_when_strict(tmp_path):
    path = write_mpt(tmp_path / "nan.mpt", [rc_spectrum(10)])
    lines = path.read_text(encoding="latin-1").splitlines()
    fields = lines[16].split("\t")
    fields[0] = "NaN"
    lines[16] = "\t".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    (s,) = MPT.read(path)
    assert len(s) == 9
    assert s.metadata["dropped"] == [{"line": 17, "reason": "frequency is missing or not a number"}]
    with pytest.raises(InputError, match="line 17: frequency is missing"):
        MPT.read(path, strict=True)


def test_text_in_a_number_column_names_line_and_column(tmp_path):
    path = write_mpt(tmp_path / "bad.mpt", [rc_spectrum(10)])
    text = path.read_text(encoding="latin-1").splitlines()
    text[18] = text[18].replace("E", "x", 1)
    path.write_text("\n".join(text) + "\n", encoding="latin-1")
    with pytest.raises(InputError, match=r"line 19: column 'freq/Hz': .* is not a number"):
        MPT.read(path)


def test_unknown_option_is_an_input_error(tmp_path):
    path = write_mpt(tmp_path / "a.mpt", [rc_spectrum(5)])
    with pytest.raises(InputError, match="takes no option 'drift'"):
        ssbkit.read(path, drift=True)


def test_mpr_without_galvani_asks_for_the_gpl_extra(tmp_path, monkeypatch):
    path = tmp_path / "run.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a" + bytes(100))
    reader = BioLogicMprReader()
    assert reader.sniff(path, path.read_bytes())
    monkeypatch.setitem(sys.modules, "galvani", None)  # import galvani -> ImportError
    with pytest.raises(DependencyError, match=r'pip install "ssbkit\[gpl\]"'):
        reader.read(path)
    with pytest.raises(DependencyError):
        ssbkit.read(path)


def test_mpr_columns_from_galvani_are_read_by_name(tmp_path, monkeypatch):
    # galvani itself (GPL) is not installed in the test environment: a stand-in module
    # returns the structured array galvani's MPRfile.data holds for a PEIS file.
    import types

    truth = rc_spectrum(11)
    data = np.zeros(len(truth), dtype=[("freq/Hz", "f4"), ("Re(Z)/Ohm", "f4"),
                                       ("-Im(Z)/Ohm", "f4"), ("time/s", "f8"),
                                       ("cycle number", "f8"), ("I Range", "u2")])
    data["freq/Hz"], data["Re(Z)/Ohm"] = truth.frequency, truth.impedance.real
    data["-Im(Z)/Ohm"], data["time/s"], data["cycle number"] = -truth.impedance.imag, 1.0, 1.0

    class MPRfile:
        def __init__(self, name):
            self.data, self.timestamp = data, "2024-01-02 10:00:00"

    fake = types.ModuleType("galvani")
    fake.BioLogic = types.SimpleNamespace(MPRfile=MPRfile)
    monkeypatch.setitem(sys.modules, "galvani", fake)
    path = tmp_path / "peis.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a" + bytes(100))
    (s,) = read_spectra(path)
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-6)  # float32 in the file
    assert s.metadata["start_time"] == "2024-01-02 10:00:00" and s.metadata["first_row"] == 1


def test_mpt_sniff_needs_the_ec_lab_first_line():
    assert not MPT.sniff(None, b"freq/Hz\tRe(Z)/Ohm\n1\t2\n")
    assert not MPT.sniff(None, b"")
    assert MPT.sniff(None, b"EC-Lab ASCII FILE\nNb header lines : 5\n\n"
                           b"Potentio Electrochemical Impedance Spectroscopy\n")
