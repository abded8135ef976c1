"""The pressure-log reader: layouts, units, start times, sniffing and bad input.

Expected times are worked out by hand from the calendar (2024-03-01T00:00:00Z is
1709251200 s after 1970-01-01); units by hand (1 bar = 0.1 MPa, 1 psi = 6894.757 Pa,
1 kN on 1 cm² = 10 MPa).
"""

from pathlib import Path

import numpy as np
import pytest

import ssbkit
from ssbkit.core.errors import InputError
from ssbkit.core.registry import _head, find_reader
from ssbkit.io.pressure import PressureLogReader, read_pressure
from ssbkit.pressure import PressureLog
from ssbkit.testing import shared_data, shared_data_root

MARCH_1 = 1_709_251_200.0  # 2024-03-01T00:00:00Z
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data" / "pressure"


def write(tmp_path, text, name="log.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_iso_time_stamps_and_megapascal(tmp_path):
    path = write(tmp_path, "timestamp,pressure [MPa]\n2024-03-01T00:00:00,10.0\n"
                           "2024-03-01T00:01:00,10.25\n2024-03-01T00:02:30.5,10.5\n")
    log = read_pressure(path)
    assert isinstance(log, PressureLog) and log.source == str(path)
    np.testing.assert_allclose(log.unix_time, MARCH_1 + np.array([0.0, 60.0, 150.5]))
    np.testing.assert_allclose(log.pressure, [10.0, 10.25, 10.5])
    assert log.metadata["time_column"] == "timestamp" and log.metadata["unit"] == "MPa"


def test_time_zones_are_honoured_and_zoneless_times_are_utc(tmp_path):
    path = write(tmp_path, "Date/Time,Pressure (kPa)\n2024-03-01T01:00:00+01:00,10000\n"
                           "2024-03-01T00:01:00Z,10100\n")
    log = read_pressure(path)
    np.testing.assert_allclose(log.unix_time, [MARCH_1, MARCH_1 + 60])
    np.testing.assert_allclose(log.pressure, [10.0, 10.1])


def test_date_and_time_columns_in_bar(tmp_path):
    path = write(tmp_path, "Date,Time,Pressure [bar]\n2024-03-01,00:00:00,100\n2024-03-01,23:59:00,101\n")
    log = read_pressure(path)
    np.testing.assert_allclose(log.unix_time, [MARCH_1, MARCH_1 + 86340])
    np.testing.assert_allclose(log.pressure, [10.0, 10.1])


def test_day_first_dates(tmp_path):
    path = write(tmp_path, "Date;Time;Pressure [MPa]\n01.03.2024;00:00:00;5\n02.03.2024;00:00:00;5\n")
    log = read_pressure(path, dayfirst=True)
    np.testing.assert_allclose(log.unix_time, [MARCH_1, MARCH_1 + 86400])


def test_elapsed_seconds_from_a_start_time_in_the_header(tmp_path):
    path = write(tmp_path, "Logger: LC-1\nStart time: 2024-03-01T00:00:00\n"
                           "elapsed time [s]\tpressure [psi]\n0\t1450.377\n60\t1500\n", "log.tsv")
    log = read_pressure(path)
    np.testing.assert_allclose(log.unix_time, [MARCH_1, MARCH_1 + 60])
    np.testing.assert_allclose(log.pressure, [1450.377 * 6894.757293168e-6, 1500 * 6894.757293168e-6])
    assert log.metadata["header"]["Logger"] == "LC-1"
    assert log.metadata["start_time"] == "2024-03-01T00:00:00"


def test_elapsed_minutes_and_a_start_given_as_option(tmp_path):
    path = write(tmp_path, "time [min],pressure [MPa]\n0,5\n1.5,5.1\n")
    log = read_pressure(path, start_time="2024-03-01T00:00:00Z")
    np.testing.assert_allclose(log.unix_time, [MARCH_1, MARCH_1 + 90])


def test_clock_durations_and_unix_seconds(tmp_path):
    clock = write(tmp_path, "# exported\nStart: 2024-03-01 00:00:00\nTime,Pressure [MPa]\n0:00:00,5\n"
                            "1:00:00,5\n", "clock.csv")
    np.testing.assert_allclose(read_pressure(clock).unix_time, [MARCH_1, MARCH_1 + 3600])
    unix = write(tmp_path, "unix time [s],pressure [MPa]\n1709251200,5\n1709251260.5,5\n", "unix.csv")
    np.testing.assert_allclose(read_pressure(unix).unix_time, [MARCH_1, MARCH_1 + 60.5])


def test_force_with_an_area(tmp_path):
    path = write(tmp_path, "timestamp,Force [N]\n2024-03-01T00:00:00,785\n2024-03-01T00:01:00,800\n")
    log = read_pressure(path, area_cm2=0.785)
    np.testing.assert_allclose(log.pressure, [10.0, 8.0 / 0.785 * 1.0], rtol=1e-12)
    np.testing.assert_allclose(log.force, [0.785, 0.8])
    assert log.metadata["area_cm2"] == 0.785


def test_force_without_an_area_says_what_is_missing(tmp_path):
    path = write(tmp_path, "timestamp,force [kN]\n2024-03-01T00:00:00,0.785\n")
    with pytest.raises(InputError, match="area_cm2") as info:
        read_pressure(path)
    assert info.value.source == str(path) and "force" in str(info.value)


def test_semicolons_and_decimal_commas(tmp_path):
    path = write(tmp_path, "timestamp;pressure [MPa];temperature [°C]\n2024-03-01T00:00:00;10,5;25,0\n"
                           "2024-03-01T00:01:00;10,75;25,1\n")
    np.testing.assert_allclose(read_pressure(path).pressure, [10.5, 10.75])


def test_a_units_row_under_the_names(tmp_path):
    path = write(tmp_path, "timestamp,pressure\n,MPa\n2024-03-01T00:00:00,10\n")
    np.testing.assert_allclose(read_pressure(path, unit="MPa").pressure, [10.0])


def test_a_column_without_a_unit_needs_the_unit_option(tmp_path):
    path = write(tmp_path, "timestamp,pressure\n2024-03-01T00:00:00,10\n")
    with pytest.raises(InputError, match="names no unit"):
        read_pressure(path)
    np.testing.assert_allclose(read_pressure(path, unit="bar").pressure, [1.0])


@pytest.mark.parametrize(("text", "match", "line"), [
    ("pressure [MPa],temperature [K]\n10,300\n", "no time column", "line 1"),
    ("timestamp,pressure [MPa]\n2024-03-01T00:00:00,10\n2024-03-01T00:01:00,nan\n",
     "not a finite number", "line 3"),
    ("timestamp,pressure [MPa]\n2024-03-01T00:00:00,10\n2024-03-01T00:01:00,\n", "is empty", "line 3"),
    ("timestamp,pressure [MPa]\n2024-03-01T00:00:00,10\n2024-03-01T00:01:00,1O.2\n",
     "'1O.2', not a finite number", "line 3"),
    ("timestamp,pressure [MPa]\n2024-03-01T00:00:00,10\nyesterday,10\n", "not a date", "line 3"),
    ("timestamp,pressure [MPa]\n2024-03-01T00:02:00,10\n2024-03-01T00:01:00,10\n", "goes backwards",
     "line 3"),
    ("timestamp,pressure [MPa]\n", "no data rows", "line 1"),
])
def test_bad_files_name_the_file_and_the_line(tmp_path, text, match, line):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=match) as info:
        read_pressure(path)
    assert info.value.source == str(path)
    assert info.value.location == line


@pytest.mark.parametrize(("text", "options", "match"), [
    ("time [s],pressure [MPa]\n0,10\n", {}, "no start time"),
    ("timestamp,pressure [furlong]\n2024-03-01T00:00:00,10\n", {}, "not a pressure unit"),
    ("timestamp,force [kg]\n2024-03-01T00:00:00,10\n", {"area_cm2": 1}, "force units"),
    ("voltage [V],current [A]\n1,2\n", {}, "no column header naming a pressure"),
    ("timestamp,pressure [MPa]\n2024-03-01T00:00:00,10\n", {"colour": "red"}, "takes no option"),
    ("time [fortnight],pressure [MPa]\n0,1\n", {"start_time": "2024-03-01"}, "time units"),
])
def test_other_bad_input(tmp_path, text, options, match):
    with pytest.raises(InputError, match=match):
        read_pressure(write(tmp_path, text), **options)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_pressure(write(tmp_path, ""))
    with pytest.raises(InputError, match="cannot read"):
        read_pressure(tmp_path / "absent.csv")


# --- sniffing ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["stack_pressure_normal.csv", "stack_pressure_high.csv",
                                  "stack_force_normal.tsv"])
def test_the_example_logs_are_read_by_this_reader_alone(name):
    path = EXAMPLES / name
    assert find_reader(path).name == "pressure-log"
    containers = ssbkit.read(path, **({"area_cm2": 0.785} if "force" in name else {}))
    assert len(containers) == 1 and isinstance(containers[0], PressureLog)


def test_cycler_tables_with_a_pressure_column_are_not_claimed(tmp_path):
    reader = PressureLogReader()
    cycler = write(tmp_path, "Test Time / s,Voltage / V,Current / A,Applied Pressure / Pa\n0,3,0.1,1e6\n")
    assert not reader.sniff(cycler, cycler.read_bytes())
    no_time = write(tmp_path, "pressure [MPa],temperature [K]\n10,300\n", "no_time.csv")
    assert not reader.sniff(no_time, no_time.read_bytes())
    for head in (b"", b"\x00\x01\x02pressure,time"):
        assert reader.sniff(cycler, head) is False
    # a log saved as UTF-16 (Excel's "Unicode text") is text, whatever its zero bytes
    assert reader.sniff(cycler, "timestamp\tpressure [MPa]\n".encode("utf-16")) is True


def _shared_files(folder):
    root = shared_data_root()
    base = None if root is None else root / folder
    if base is None or not base.is_dir():
        return []
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


@pytest.mark.shared_data
@pytest.mark.parametrize(("folder", "name"), [("cycling", n) for n in _shared_files("cycling")]
                         + [("eis", n) for n in _shared_files("eis")])
def test_no_shared_cycler_or_impedance_file_is_claimed(folder, name):
    path = shared_data(folder, name)
    assert not PressureLogReader().sniff(path, _head(path))


@pytest.mark.shared_data
def test_the_shared_folders_are_there_to_check():
    # guards the parametrised test above against checking an empty list
    shared_data("cycling", "README.md")
    assert len(_shared_files("cycling")) > 20 and len(_shared_files("eis")) > 50
