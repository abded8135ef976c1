"""Gamry .DTA: real EIS files checked by hand, aborted and drift-corrected runs, CHRONOA."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum, write_dta, write_dta_chronoa

from ssbkit.core.errors import InputError, UnitError, UnsupportedFormatError
from ssbkit.eis import Chronoamperometry
from ssbkit.io import read_chronoamperometry, read_spectra
from ssbkit.io.gamry import GamryReader
from ssbkit.testing import shared_data

DTA = GamryReader()


@pytest.mark.shared_data
def test_impedance_py_gamry_example_by_hand():
    (s,) = DTA.read(shared_data("eis", "impedance.py", "exampleDataGamry.DTA"))
    # ZCURVE rows 0 and 71 (file lines 449 and 520): Freq, Zreal, Zimag
    assert len(s) == 72
    assert s.frequency[0] == 200015.6 and s.frequency[-1] == 0.0158898
    assert s.impedance[0] == 825.8584 - 1367.239j
    assert s.impedance[-1] == 17007.49 - 6635.557j
    meta = s.metadata
    assert meta["technique"] == "EISPOT" and meta["start_time"] == "4/23/2018 16:43:15"
    assert meta["instrument"] == "Gamry REF3000-34128"
    assert meta["dc_potential_V"] == -0.05 and meta["area_cm2"] == 1.0
    assert meta["open_circuit_V"] == -0.2919803
    assert meta["first_line"] == 449 and meta["last_line"] == 520
    assert meta["time_s"] == [1.0, 861.0]


@pytest.mark.shared_data
def test_aborted_run_reads_the_points_that_exist():
    (s,) = DTA.read(shared_data("eis", "impedance.py", "exampleDataGamryABORT.DTA"))
    assert s.metadata["aborted"] is True
    assert len(s) == 72 and s.metadata["last_line"] == 171  # the line before EXPERIMENTABORTED
    assert s.impedance[1] == 1100.361 - 1502.195j


@pytest.mark.shared_data
def test_decimal_comma_file():
    (s,) = DTA.read(shared_data("eis", "pyimpspec", "data.dta"))
    assert len(s) == 29 and s.frequency[0] == 10000.0
    assert s.impedance[0] == 109.00918219439 - 26.5556798765152j
    assert s.impedance[-1] == 645.478700150494 - 90.618128307383j


@pytest.mark.shared_data
def test_drift_corrected_columns_are_used_unless_declined():
    path = shared_data("eis", "pyimpspec", "drift-corrected-data.dta")
    (corrected,) = DTA.read(path)
    (raw,) = DTA.read(path, drift_corrected=False)
    # file line 158: Zreal 163443,2  Zimag -207897,9  ...  ZrealDrCor 163521,3  ZimagDrCor -207613,7
    assert corrected.metadata["drift_corrected"] and not raw.metadata["drift_corrected"]
    assert corrected.impedance[-1] == 163521.3 - 207613.7j
    assert raw.impedance[-1] == 163443.2 - 207897.9j
    assert corrected.metadata["area_cm2"] == 0.02 and len(corrected) == 55
    with pytest.raises(InputError, match="no ZrealDrCor"):
        DTA.read(shared_data("eis", "pyimpspec", "data.dta"), drift_corrected=True)


def test_round_trip_and_decimal_comma(tmp_path):
    truth = rc_spectrum(21)
    for decimal in (".", ","):
        (s,) = read_spectra(write_dta(tmp_path / f"eis{decimal}.DTA", truth, decimal=decimal))
        np.testing.assert_allclose(s.frequency, truth.frequency, rtol=1e-5)
        np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-5)
        assert s.metadata["area_cm2"] == pytest.approx(0.785)


def test_synthetic_abort_keeps_the_measured_points(tmp_path):
    (s,) = DTA.read(write_dta(tmp_path / "abort.DTA", rc_spectrum(21), aborted_after=8))
    assert len(s) == 8 and s.metadata["aborted"]


def test_chronoamperometry_curve_gives_a_dc_record(tmp_path):
    t = np.arange(1.0, 101.0)
    current = 2e-7 + 5e-6 * np.exp(-t / 15)
    path = write_dta_chronoa(tmp_path / "ca.DTA", t, np.full(t.size, 0.1), current)
    (record,) = read_chronoamperometry(path)
    assert isinstance(record, Chronoamperometry)
    np.testing.assert_allclose(record.time, t)
    np.testing.assert_allclose(record.current, current, rtol=1e-6)
    np.testing.assert_allclose(record.voltage, 0.1)
    assert record.metadata["technique"] == "CHRONOA" and record.metadata["table"] == "CURVE"


def test_other_experiments_are_not_claimed(tmp_path):
    path = write_dta(tmp_path / "cv.DTA", rc_spectrum(5), tag="CV")
    assert not DTA.sniff(path, path.read_bytes())
    with pytest.raises(UnsupportedFormatError, match="'CV' is neither impedance"):
        DTA.read(path)


def test_missing_zimag_column_is_named(tmp_path):
    path = write_dta(tmp_path / "bad.DTA", rc_spectrum(5))
    path.write_text(path.read_text(encoding="latin-1").replace("\tZimag\t", "\tZfoo\t"),
                    encoding="latin-1")
    with pytest.raises(InputError, match=r"line 18: ZCURVE lacks column\(s\) Zimag"):
        DTA.read(path)


def test_wrong_unit_row_is_a_unit_error(tmp_path):
    path = write_dta(tmp_path / "unit.DTA", rc_spectrum(5))
    path.write_text(path.read_text(encoding="latin-1").replace("\tHz\tohm", "\tkHz\tohm"),
                    encoding="latin-1")
    with pytest.raises(UnitError, match="line 19: ZCURVE column 'Freq' is in 'khz'"):
        DTA.read(path)


def test_truncated_row_names_its_line(tmp_path):
    path = write_dta(tmp_path / "cut.DTA", rc_spectrum(6))
    raw = path.read_bytes()
    path.write_bytes(raw[:-25])
    with pytest.raises(InputError, match="line 25: the last line has fewer values"):
        DTA.read(path)


def test_no_zcurve_table(tmp_path):
    path = write_dta(tmp_path / "none.DTA", rc_spectrum(5))
    text = path.read_text(encoding="latin-1")
    path.write_text(text[:text.index("ZCURVE")], encoding="latin-1")
    with pytest.raises(InputError, match="no ZCURVE table"):
        DTA.read(path)
