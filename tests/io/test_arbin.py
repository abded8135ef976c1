"""Arbin .res databases (through mdb-export) and CSV/Excel exports: real files against their
own counters and the integral of their current, synthetic exports with known units, bad
input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import ssbkit
from ssbkit.core.errors import DependencyError, InputError
from ssbkit.core.registry import list_readers
from ssbkit.cycling.data import CyclingRecord
from ssbkit.io._cycling import UnknownColumnWarning
from ssbkit.io.arbin import ArbinExportReader, ArbinResReader
from ssbkit.io.spreadsheet import SpreadsheetReader
from ssbkit.io.table import TableReader
from ssbkit.testing import shared_data


def _require_mdb_export() -> None:
    """Skip a test that reads a .res where mdb-export is missing, but fail it where
    SSBKIT_REQUIRE_SHARED_DATA=1 (CI, whose Makefile installs mdbtools), as for the files."""
    if shutil.which("mdb-export") is not None:
        return
    reason = "reading .res files needs mdb-export (apt-get install mdbtools)"
    if os.environ.get("SSBKIT_REQUIRE_SHARED_DATA") == "1":
        pytest.fail(reason + " and SSBKIT_REQUIRE_SHARED_DATA=1")
    pytest.skip(reason)


@pytest.fixture
def mdb_export() -> None:
    _require_mdb_export()


needs_mdbtools = pytest.mark.usefixtures("mdb_export")
CHG, DIS = "Charging Capacity / Ah", "Discharging Capacity / Ah"


def _arbin(name: str) -> Path:
    return shared_data("cycling", "arbin", name)


def _claimants(path: Path) -> list[str]:
    head = path.read_bytes()[:65536]
    return sorted(n for n, cls in list_readers().items() if cls().sniff(path, head))


def _check_counters_against_current(record: CyclingRecord) -> int:
    """Per native cycle, the rise of Arbin's counters (which run from each cycle's start)
    equals the integral of the current split by sign within 0.1 %; returns the number of
    checks made. The integral: trapezoid within a step (CV currents decay between logs),
    the value logged at the end for a step's first interval (the current jumped there)."""
    cycle, t, current = record.column("Cycle Count / 1"), record.time, record.current
    step = record.column("Step Count / 1")
    first = np.r_[True, step[1:] != step[:-1]]
    dt = np.r_[0.0, np.diff(t)]
    mean = np.r_[current[0], 0.5 * (current[1:] + current[:-1])]
    interval = np.where(first, current, mean) * dt / 3600.0
    checked = 0
    for c in np.unique(cycle):
        rows = np.flatnonzero(cycle == c)
        inside = rows[1:]  # the first row's interval reaches back into the previous cycle
        for name, sign in ((CHG, 1.0), (DIS, -1.0)):
            counter = record.column(name)
            rise = counter[rows[-1]] - counter[rows[0]]
            integral = sign * interval[inside][sign * interval[inside] > 0].sum()
            if rise > 1e-7:
                assert integral == pytest.approx(rise, rel=1e-3), f"cycle {c}, {name}"
                checked += 1
            else:
                assert integral < 1e-7
    return checked


@needs_mdbtools
@pytest.mark.shared_data
@pytest.mark.parametrize("name, rows, cycles, checks, meta", [
    ("navani_arbin_example.res", 2150, 5, 8,
     {"channel": 12, "test_name": "ajm314_LCO_ajm5-SSB1-F_Wait48hr-Repeat-01-012",
      "start_time": "2023-07-24T18:50:00", "file_version": "Results File 5.23",
      "timezone": "unknown, taken as UTC"}),
    ("cellpy_20160805_test001_45_cc_01.res", 10261, 18, 35,
     {"channel": 3, "software_version": "4.32 Build: 130904",
      "start_time": "2016-08-05T16:16:23", "file_version": "Results File 5.26",
      "timezone": "unknown, taken as UTC"}),
])
def test_res_files_read_and_their_counters_match_the_current(name, rows, cycles, checks, meta):
    path = _arbin(name)
    assert _claimants(path) == ["arbin-res"]
    (record,) = ssbkit.read(path)
    assert len(record) == rows
    assert list(np.unique(record.column("Cycle Count / 1"))) == list(range(1, cycles + 1))
    assert np.all(np.diff(record.column("Data_Point")) > 0)
    assert {k: record.metadata[k] for k in meta} == meta
    assert _check_counters_against_current(record) == checks
    # the counters run per cycle: they fall back only where the cycle changes
    cycle = record.column("Cycle Count / 1")
    for counter in (CHG, DIS):
        falls = np.flatnonzero(np.diff(record.column(counter)) < 0)
        assert falls.size and np.all(cycle[falls + 1] != cycle[falls])


@needs_mdbtools
@pytest.mark.shared_data
def test_res_values_read_by_hand():
    (record,) = ssbkit.read(_arbin("navani_arbin_example.res"))
    # `mdb-export navani_arbin_example.res Channel_Normal_Table`, data point 1
    assert record.time[0] == 0.07259541979508601 and record.voltage[0] == pytest.approx(3.8591957)
    assert record.column("Unix Time / s")[0] == pytest.approx(
        (45131.78472222222 - 25569) * 86400, abs=1e-3)
    # cycle 1: 0.4835 mAh in, 0.4752 mAh out (the file's counters at the end of the cycle)
    last = np.flatnonzero(record.column("Cycle Count / 1") == 1)[-1]
    assert record.column(CHG)[last] == pytest.approx(4.835149e-4, rel=1e-6)
    assert record.column(DIS)[last] == pytest.approx(4.751559e-4, rel=1e-6)


@pytest.mark.shared_data
def test_truncated_res_files_are_input_errors_naming_the_file(tmp_path):
    raw = _arbin("navani_arbin_example.res").read_bytes()
    for size in (300000, 4096 * 74):  # inside a page, and at a page boundary
        path = tmp_path / f"cut{size}.res"
        path.write_bytes(raw[:size])
        assert _claimants(path) == ["arbin-res"]
        if size % 4096 == 0:
            _require_mdb_export()  # a cut at a page boundary is found by mdb-export alone
        with pytest.raises(InputError, match="truncated") as info:
            ssbkit.read(path)
        assert str(path) in str(info.value)


def test_empty_res_file_is_an_input_error(tmp_path):
    path = tmp_path / "empty.res"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty") as info:
        ArbinResReader().read(path)
    assert str(path) in str(info.value)
    with pytest.raises(InputError):
        ssbkit.read(path)


def test_missing_mdb_export_skips_locally_but_fails_in_ci(monkeypatch):
    """Regression: without mdb-export the .res tests skipped even in CI, where the Makefile
    installs mdbtools, so a broken install passed unnoticed."""
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    monkeypatch.setenv("SSBKIT_REQUIRE_SHARED_DATA", "1")
    with pytest.raises(pytest.fail.Exception, match="mdbtools.*SSBKIT_REQUIRE_SHARED_DATA=1"):
        _require_mdb_export()
    monkeypatch.delenv("SSBKIT_REQUIRE_SHARED_DATA")
    with pytest.raises(pytest.skip.Exception, match="apt-get install mdbtools"):
        _require_mdb_export()
    monkeypatch.undo()
    if shutil.which("mdb-export") is not None:  # installed: nothing to skip or fail
        assert _require_mdb_export() is None


@pytest.mark.shared_data
def test_without_mdb_export_the_error_says_how_to_install_it(monkeypatch):
    path = _arbin("navani_arbin_example.res")
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    with pytest.raises(DependencyError, match="apt-get install mdbtools"):
        ssbkit.read(path)


@pytest.mark.shared_data
def test_csv_export_that_starts_partway_through_a_charge():
    path = _arbin("bdt_arbin_example.csv")
    assert _claimants(path) == ["arbin-export"]
    assert not TableReader().sniff(path, path.read_bytes()[:65536])
    (record,) = ssbkit.read(path)
    assert len(record) == 2142 and record.metadata["format"] == "arbin-export"
    # line 2 of the file: Test_Time 0, DateTime 1499006353, counter 0.8800053 Ah already
    assert record.time[0] == 0 and record.column("Unix Time / s")[0] == 1499006353
    assert record.column(CHG)[0] == pytest.approx(0.8800053)
    assert record.column("Ambient Temperature / degC")[0] == pytest.approx(29.18314)
    assert _check_counters_against_current(record) == 4
    assert "unknown_columns" not in record.metadata


@pytest.mark.shared_data
def test_beep_csv_takes_start_and_schedule_from_its_metadata_file():
    path = _arbin("beep_FastCharge_000025_CH8.csv")
    assert _claimants(path) == ["arbin-export"]
    (record,) = ssbkit.read(path)
    assert len(record) == 248 and np.all(record.current == 0)
    assert record.metadata["start_time"] == "2017-05-13T03:13:34"  # first_start_datetime
    assert record.metadata["schedule"].endswith("20170512-4_4C-80PER_4_4C.SDU")


@pytest.mark.shared_data
def test_the_metadata_file_is_not_data_and_the_error_names_the_data_file():
    path = _arbin("beep_FastCharge_000025_CH8_Metadata.csv")
    with pytest.raises(InputError, match="read beep_FastCharge_000025_CH8.csv instead") as info:
        ssbkit.read(path)
    assert str(path) in str(info.value)


@pytest.mark.shared_data
def test_excel_export_channel_sheets():
    path = _arbin("navani_bs542_arbin_channel11.xlsx")
    assert _claimants(path) == ["arbin-export"]
    assert not SpreadsheetReader().sniff(path, path.read_bytes()[:65536])
    (record,) = ssbkit.read(path)
    assert len(record) == 4526
    assert record.metadata["channel"] == 11 and record.metadata["sheets"] == ["Channel_11_1"]
    assert record.metadata["start_time"] == "2020-10-19T11:33:31"
    assert record.metadata["software_version"] == "PV7.0 Build: 180508USB"
    # sheet Channel_11_1, row 2, read by hand
    assert record.time[0] == 1.001 and record.voltage[0] == 2.637298583984375
    assert record.column("Unix Time / s")[0] == pytest.approx(
        (44123.48040025347 - 25569) * 86400, abs=1e-3)
    assert _check_counters_against_current(record) == 2  # one cycle: 5.70 mAh in, 11.05 out


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return path


def test_units_in_column_names_are_converted(tmp_path):
    # a 2 mA charge for 30 min (1 mAh), then a 2 mA discharge; counters in mAh
    t = np.arange(0, 3601, 60)
    rows = []
    for k, s in enumerate(t):
        charging = s <= 1800
        q_in = 2 * min(s, 1800) / 3600
        q_out = 0.0 if charging else 2 * (s - 1800) / 3600
        clock = f"2024-05-01 {10 + s // 3600:02d}:{s // 60 % 60:02d}:00"
        rows.append([k + 1, s, clock, 1 if charging else 2, 1, 2.0 if charging else -2.0, 3.5,
                     q_in, q_out, 25.0])
    header = ["Data_Point", "Test_Time (s)", "Date_Time", "Step_Index", "Cycle_Index",
              "Current (mA)", "Voltage (V)", "Charge_Capacity (mAh)", "Discharge_Capacity (mAh)",
              "Aux_Temperature_1 (C)"]
    path = _write_csv(tmp_path / "new_style.csv", header, rows)
    assert _claimants(path) == ["arbin-export"]
    (record,) = ssbkit.read(path)
    np.testing.assert_allclose(record.current[:3], 2e-3)
    assert record.column(CHG)[-1] == pytest.approx(1e-3) and record.column(DIS)[-1] == \
        pytest.approx(1e-3)
    assert record.column("Ambient Temperature / degC")[0] == 25.0  # °C, not coulomb
    assert record.column("Unix Time / s")[0] == 1714557600.0
    assert list(np.unique(record.column("Step Count / 1"))) == [1, 2]
    assert _check_counters_against_current(record) == 2


def test_an_unknown_column_is_kept_and_named(tmp_path):
    header = ["Data_Point", "Test_Time", "Step_Index", "Cycle_Index", "Current", "Voltage",
              "Charge_Capacity", "Discharge_Capacity", "Pressure_Sensor"]
    path = _write_csv(tmp_path / "p.csv", header, [[1, 0, 1, 1, 0, 3.0, 0, 0, 7],
                                                   [2, 1, 1, 1, 0, 3.0, 0, 0, 8]])
    with pytest.warns(UnknownColumnWarning, match="Pressure_Sensor"):
        (record,) = ssbkit.read(path)
    assert list(record.column("Pressure_Sensor")) == [7, 8]


def test_voltage_without_current_or_capacity_is_an_input_error(tmp_path):
    # negative control: an Arbin-like CSV that cannot give a cycling record
    path = _write_csv(tmp_path / "v.csv", ["Data_Point", "Test_Time", "Step_Index", "Voltage"],
                      [[1, 0, 1, 3.0], [2, 1, 1, 3.1]])
    with pytest.raises(InputError) as info:
        ssbkit.read(path)
    assert str(path) in str(info.value)
    with pytest.raises(InputError, match="needs Test_Time, Voltage, Current") as info:
        ArbinExportReader().read(path)
    assert str(path) in str(info.value)


def test_truncated_and_empty_csv_are_input_errors(tmp_path):
    header = ["Data_Point", "Test_Time", "Step_Index", "Cycle_Index", "Current", "Voltage"]
    path = tmp_path / "cut.csv"
    path.write_text(",".join(header) + "\n1,0,1,1,0,3.0\n2,1,1,1,0,3.0\n3,2,1")
    with pytest.raises(InputError, match="line 4: the last line has fewer values"):
        ssbkit.read(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty") as info:
        ArbinExportReader().read(empty)
    assert str(empty) in str(info.value)
