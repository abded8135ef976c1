"""Maccor text exports: three real files checked by hand, synthetic cycles with known
capacities (counters that restart each step or run on), and bad files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

import ssbkit
from ssbkit.core.errors import InputError
from ssbkit.core.registry import find_reader
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    CURRENT,
    CYCLE,
    DISCHARGE_CAPACITY,
    STEP_COUNT,
    STEP_INDEX,
    STEP_TIME,
    STEP_TYPE,
    TIME,
    UNIX_TIME,
    VOLTAGE,
)
from ssbkit.io._cycling import UnknownColumnWarning
from ssbkit.io.maccor import MaccorReader, per_step_counters
from ssbkit.testing import shared_data

READER = MaccorReader()


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def _integral(t: np.ndarray, current: np.ndarray) -> float:
    """∫ I dt [Ah] by the trapezoid rule (independent of the reader)."""
    return float(np.sum(0.5 * (current[1:] + current[:-1]) * np.diff(t)) / 3600.0)


# ----------------------------------------------------------------------- real files

@pytest.mark.shared_data
def test_beep_052_values_by_hand_and_sign_from_state():
    path = shared_data("cycling", "maccor", "beep_PredictionDiagnostics_000151_test.052")
    (rec,) = READER.read(path)
    assert len(rec) == 333  # lines 3-335; line 336 is blank
    # line 3: 249791 37 44 769267.2400 14.2500 0.0191579754 0.0744874270 -4.8400091554
    #         3.86823835 D 1 10/21/2019 23:59:59
    assert rec.time[0] == 769267.24 and rec.column(STEP_TIME)[0] == 14.25
    assert rec.voltage[0] == 3.86823835
    assert rec.current[0] == -4.8400091554  # D: discharge, negative
    assert rec.column(DISCHARGE_CAPACITY)[0] == 0.0191579754
    assert rec.column(CHARGE_CAPACITY)[0] == 0.0
    assert rec.column(CYCLE)[0] == 37 and rec.column(STEP_INDEX)[0] == 44
    assert rec.column(UNIX_TIME)[0] == _utc(2019, 10, 21, 23, 59, 59)
    # line 47 is stamped '10/22/2019' without a clock: Maccor's midnight row
    assert rec.column(UNIX_TIME)[44] == _utc(2019, 10, 22, 0, 0, 0)
    # line 335 (last): 769270.5700 17.5800 0.0236349063 … -4.8402380407 3.86251621
    assert rec.time[-1] == 769270.57 and rec.voltage[-1] == 3.86251621
    assert rec.column(DISCHARGE_CAPACITY)[-1] == 0.0236349063
    assert (rec.current < 0).all() and set(rec.column(STEP_TYPE)) == {"D"}
    assert np.all(np.diff(rec.time) > 0)
    meta = rec.metadata
    assert meta["procedure"] == "PredictionDiagnostics_000151.000"
    assert meta["channel"] == "052" and meta["header"]["Comment/Barcode"] == "00001E"
    assert meta["date_order"].startswith("month first")


@pytest.mark.shared_data
def test_beep_052_counter_started_with_the_step_and_matches_the_current():
    path = shared_data("cycling", "maccor", "beep_PredictionDiagnostics_000151_test.052")
    (rec,) = READER.read(path)
    start = rec.metadata["starts_mid_step"]
    assert start["line"] == 3 and start["step_time_s"] == 14.25
    # the counter on the first row is the current times the step time: it counts from the
    # start of step 44, not from an earlier step of the same cycle
    assert start["discharge_ah"] == pytest.approx(4.84 * 14.25 / 3600, rel=1e-3)
    # native cycle 37: what the counter gained inside the file vs ∫|I| dt
    q = rec.column(DISCHARGE_CAPACITY)
    gained = q[-1] - q[0]
    assert gained == pytest.approx(0.0236349063 - 0.0191579754, rel=1e-12)
    assert gained == pytest.approx(_integral(rec.time, -rec.current), rel=5e-3)
    assert rec.column(CHARGE_ENERGY).max() == 0.0


@pytest.mark.shared_data
def test_argonne_001_times_in_minutes():
    path = shared_data("cycling", "maccor", "bdt_maccor_example.001")
    (rec,) = READER.read(path)
    assert len(rec) == 8
    # header 'Test (Min)': line 4 holds 0.1667 min, 10 s after line 3 by the date stamps
    np.testing.assert_allclose(rec.time, np.array([0, 0.1667, 0.3333, 0.5, 0.6667, 0.8333, 1.0,
                                                   1.1667]) * 60.0, rtol=1e-12)
    np.testing.assert_allclose(rec.column(STEP_TIME), rec.time)
    stamps = rec.column(UNIX_TIME)
    assert stamps[0] == _utc(2016, 3, 31, 16, 5, 31) and stamps[-1] == _utc(2016, 3, 31, 16, 6, 41)
    assert rec.time[-1] == pytest.approx(stamps[-1] - stamps[0], abs=0.5)
    assert rec.voltage[0] == 3.30678264 and (rec.current == 0).all()
    assert set(rec.column(STEP_TYPE)) == {"R"}
    # header 'Date of Test: 03/31/2016' (no clock); the first stamp, 16:05:31 at test time 0
    assert rec.metadata["start_time"] == "2016-03-31T16:05:31"


@pytest.mark.shared_data
def test_cellpy_simba_export_decimal_comma_unitless_minutes_and_cut_last_line():
    path = shared_data("cycling", "maccor", "cellpy_maccor_two.txt")
    (rec,) = READER.read(path)
    # 214 records; the file's last line (229) stops after 9 of 28 values: dropped, noted
    assert len(rec) == 213
    assert rec.metadata["dropped"] == [
        {"line": 229, "reason": "the last line holds 9 of 28 values: the file was cut short"}]
    # line 16: 1 0 1 1 0,000000 0,000000 … 0,1377 R 0 06/05/2021 11:23:46
    assert rec.voltage[0] == 0.1377 and rec.voltage[1] == 0.1385
    # 'TestTime' has no unit; the stamps advance 60 s per unit: minutes
    assert rec.metadata["time_unit"].startswith("min")
    assert rec.time[1] == 60.0 and rec.time[-1] == 212 * 60.0
    assert np.all(np.diff(rec.time) > 0)
    assert rec.column(UNIX_TIME)[-1] - rec.column(UNIX_TIME)[0] == rec.time[-1]
    # no day above 12: day-first assumed for a decimal-comma file, and said so
    assert rec.metadata["date_order"] == "day first (assumed from the decimal comma)"
    assert rec.column(UNIX_TIME)[0] == _utc(2021, 5, 6, 11, 23, 46)
    assert rec.metadata["channel"] == "81" and rec.metadata["instrument"] == "Maccor (Maccor #4)"
    assert rec.metadata["header"]["SCap"] == "0,017"
    # month-first on request
    (us,) = READER.read(path, dayfirst=False)
    assert us.column(UNIX_TIME)[0] == _utc(2021, 6, 5, 11, 23, 46)


@pytest.mark.shared_data
def test_start_time_is_iso_8601_and_agrees_with_the_unix_time_column():
    """Regression: start_time was the header's text ('06/05/2021 11:23:46', '03/31/2016')."""
    path = shared_data("cycling", "maccor", "cellpy_maccor_two.txt")
    for dayfirst, start in ((None, "2021-05-06T11:23:46"), (False, "2021-06-05T11:23:46")):
        (rec,) = READER.read(path, dayfirst=dayfirst)
        assert rec.metadata["start_time"] == start
        assert rec.metadata["timezone"] == "unknown, taken as UTC"
        first = rec.column(UNIX_TIME)[0] - rec.time[0]
        assert datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp() == first
    # BEEP's .052 names the test's date only and resumes three days later: the date alone
    (rec,) = READER.read(shared_data("cycling", "maccor",
                                     "beep_PredictionDiagnostics_000151_test.052"))
    assert rec.metadata["start_time"] == "2019-10-10"
    assert rec.column(UNIX_TIME)[0] - rec.time[0] > _utc(2019, 10, 11)


def test_a_day_above_12_in_the_header_start_sets_the_date_order(tmp_path):
    # a decimal point and stamps that fit either order: only the header's start can tell
    lines = ["Name:\tcell", "Started\t13/05/2021 10:00:00", "",
             "Rec\tCycle P\tStep\tTestTime\tStepTime\tCap. [Ah]\tCurrent [A]\tVoltage [V]"
             "\tMd\tDPT Time"]
    lines += [f"{k + 1}\t0\t1\t{k}.000000\t{k}.000000\t0.0\t0.0\t3.70\tR\t"
              f"01/06/2021 10:00:{k:02d}" for k in range(3)]  # a fragment from 1 June
    path = tmp_path / "simba.txt"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    (rec,) = READER.read(path)
    assert rec.metadata["date_order"] == "day first (a day above 12 comes first)"
    assert rec.metadata["start_time"] == "2021-05-13T10:00:00"
    assert rec.column(UNIX_TIME)[0] == _utc(2021, 6, 1, 10, 0, 0)  # not 6 January


def test_synthetic_header_date_and_first_stamp_give_the_start(tmp_path):
    (rec,) = READER.read(write_maccor(tmp_path / "cell.001"))
    assert rec.metadata["start_time"] == "2024-01-02T09:00:00"


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["beep_PredictionDiagnostics_000151_test.052",
                                  "bdt_maccor_example.001", "cellpy_maccor_two.txt"])
def test_ssbkit_read_picks_the_maccor_reader(name):
    path = shared_data("cycling", "maccor", name)
    assert find_reader(path).name == "maccor-txt"
    (rec,) = ssbkit.read(path)
    assert rec.metadata["format"] == "maccor-txt"


# ----------------------------------------------------------------------- synthetic files

_COLUMNS = ["Rec#", "Cyc#", "Step", "Test (Sec)", "Step (Sec)", "Amp-hr", "Watt-hr", "Amps",
            "Volts", "State", "ES", "DPt Time"]
_I = 0.01  # A
_TAU = 600.0  # s, CV current decay
_CV = _I * _TAU * (1 - np.exp(-3.0)) / 3600  # Ah passed in a 1800 s CV step
_DISCHARGE = _I * 3000 / 3600


def _steps(run_on: bool):
    """(cycle, step, state, step times, current, counter) for rest + 2 × (CC, CV, rest, CC)."""
    out = [(0, 1, "R", np.arange(0, 61, 20.0), np.zeros(4), np.zeros(4))]
    for cycle in (1, 2):
        ts = np.arange(0, 3601, 360.0)
        out.append((cycle, 2, "C", ts, np.full(ts.size, _I), _I * ts / 3600))
        ts = np.arange(0, 1801, 180.0)
        q = _I * _TAU * (1 - np.exp(-ts / _TAU)) / 3600
        out.append((cycle, 3, "C", ts, _I * np.exp(-ts / _TAU), q + (_I if run_on else 0.0)))
        ts = np.arange(0, 61, 20.0)
        out.append((cycle, 4, "R", ts, np.zeros(ts.size), np.zeros(ts.size)))
        ts = np.arange(0, 3001, 300.0)
        out.append((cycle, 5, "D", ts, np.full(ts.size, _I), _I * ts / 3600))
    return out


def write_maccor(path, *, run_on=False, signed=False, time_unit="Sec", extra_column=None):
    factor = {"Sec": 1.0, "Min": 60.0, "Hr": 3600.0}.get(time_unit, 1.0)
    start = datetime(2024, 1, 2, 9, 0, 0)
    lines = ["Today's Date 01/03/2024  Date of Test:\t01/02/2024\t Filename:\tC:\\cell.001 "
             "Procedure:\tform.000\tComment/Barcode:\tsynthetic",
             "\t".join([c.replace("Sec", time_unit) for c in _COLUMNS]
                       + ([extra_column] if extra_column else []))]
    t0, rec = 0.0, 1
    for cycle, step, state, ts, amps, q in _steps(run_on):
        for k, (ts_k, i_k, q_k) in enumerate(zip(ts, amps, q, strict=True)):
            t = t0 + ts_k
            stamp = (start + timedelta(seconds=t)).strftime("%m/%d/%Y %H:%M:%S")
            current = -i_k if (signed and state == "D") else i_k
            row = [rec, cycle, step, f"{t / factor:.6f}", f"{ts_k / factor:.6f}", f"{q_k:.10f}",
                   f"{q_k * 3.7:.10f}", f"{current:.10f}", "3.70000000", state,
                   1 if k else 0, stamp] + ([f"{rec * 2}"] if extra_column else [])
            lines.append("\t".join(map(str, row)))
            rec += 1
        t0 += ts[-1] + 1.0
    path.write_text("\r\n".join(lines) + "\r\n", encoding="latin-1")
    return path


def _per_cycle(rec, column):
    """Per native cycle: the sum over its steps of each step's final counter value."""
    cycles, steps, q = rec.column(CYCLE), rec.column(STEP_COUNT), rec.column(column)
    last = np.r_[steps[1:] != steps[:-1], True]
    return {int(c): float(q[last & (cycles == c)].sum()) for c in np.unique(cycles)}


@pytest.mark.parametrize("run_on", [False, True])
def test_synthetic_cc_cv_cycles_recover_known_capacities(tmp_path, run_on):
    (rec,) = READER.read(write_maccor(tmp_path / "cell.001", run_on=run_on))
    assert len(rec) == 4 + 2 * (11 + 11 + 4 + 11)
    charge, discharge = _per_cycle(rec, CHARGE_CAPACITY), _per_cycle(rec, DISCHARGE_CAPACITY)
    for cycle in (1, 2):
        assert charge[cycle] == pytest.approx(_I + _CV, abs=2e-10)  # CC 0.01 Ah + CV
        assert discharge[cycle] == pytest.approx(_DISCHARGE, abs=2e-10)
    assert charge[0] == discharge[0] == 0.0
    expected = ("runs on through consecutive steps of the same direction" if run_on
                else "restarts at each step")
    assert rec.metadata["capacity_counter"] == expected
    # every step's counters start from (nearly) zero: restarted at each step
    first = np.r_[True, rec.column(STEP_COUNT)[1:] != rec.column(STEP_COUNT)[:-1]]
    assert rec.column(CHARGE_CAPACITY)[first].max() < 1e-12
    # unsigned Amps, direction from State
    state = rec.column(STEP_TYPE)
    assert (rec.current[state == "D"] == -_I).all() and (rec.current[state == "C"] > 0).all()
    assert rec.column(CHARGE_ENERGY).max() == pytest.approx(3.7 * _I, rel=1e-9)
    assert "starts_mid_step" not in rec.metadata


def test_negative_control_raw_counters_that_run_on_would_double_count(tmp_path):
    # the check above must be able to fail: the same sum over the raw Amp-hr of the run-on
    # file counts the CC step's 0.01 Ah twice
    lines = write_maccor(tmp_path / "cell.001", run_on=True).read_text().splitlines()[2:]
    rows = [line.split("\t") for line in lines]
    steps = [(r[1], r[2]) for r in rows]
    naive = sum(float(rows[i][5]) for i in range(len(rows))
                if rows[i][1] == "1" and rows[i][9] == "C"
                and (i + 1 == len(rows) or steps[i + 1] != steps[i]))
    assert naive == pytest.approx(2 * _I + _CV, abs=1e-9)
    assert abs(naive - (_I + _CV)) > 1e-3


def test_signed_amps_give_the_same_current(tmp_path):
    (unsigned,) = READER.read(write_maccor(tmp_path / "a.001"))
    (signed,) = READER.read(write_maccor(tmp_path / "b.001", signed=True))
    np.testing.assert_array_equal(unsigned.current, signed.current)


def test_per_cycle_counters_match_the_integral_of_current(tmp_path):
    (rec,) = READER.read(write_maccor(tmp_path / "cell.001"))
    cycles, steps = rec.column(CYCLE), rec.column(STEP_COUNT)
    for cycle in (1, 2):
        for column, sign in ((CHARGE_CAPACITY, 1.0), (DISCHARGE_CAPACITY, -1.0)):
            integral = 0.0
            for step in np.unique(steps[cycles == cycle]):
                m = steps == step
                integral += _integral(rec.time[m], np.clip(sign * rec.current[m], 0, None))
            assert _per_cycle(rec, column)[cycle] == pytest.approx(integral, rel=5e-3)


@pytest.mark.parametrize(("unit", "factor"), [("Sec", 1.0), ("Min", 60.0), ("Hr", 3600.0)])
def test_time_units_from_the_header(tmp_path, unit, factor):
    (rec,) = READER.read(write_maccor(tmp_path / "cell.001", time_unit=unit))
    assert rec.time[-1] == pytest.approx(60 + 2 * (3600 + 1800 + 60 + 3000) + 8,
                                         rel=1e-6 if unit != "Hr" else 1e-5)


def test_unknown_time_unit_names_file_line_and_column(tmp_path):
    path = write_maccor(tmp_path / "cell.001", time_unit="Fortnight")
    with pytest.raises(InputError, match=r"cell\.001, line 2, column 4: column 'Test \(Fortnight\)' "
                                         r"has unit 'Fortnight'") as info:
        READER.read(path)
    assert str(path) in str(info.value)


def test_unknown_column_is_kept_and_named_in_a_warning(tmp_path):
    path = write_maccor(tmp_path / "cell.001", extra_column="Pressure Cell 3")
    with pytest.warns(UnknownColumnWarning, match="Pressure Cell 3"):
        (rec,) = READER.read(path)
    assert rec.metadata["unknown_columns"] == ["Pressure Cell 3"]
    assert rec.column("Pressure Cell 3")[:3].tolist() == [2.0, 4.0, 6.0]


def test_per_step_counters_without_direction_changes_is_undetermined():
    c, d, how = per_step_counters(np.array([1, 1, 2]), np.array(["R", "R", "C"]),
                                  np.array([0.0, 0.0, 0.5]))
    assert c.tolist() == [0.0, 0.0, 0.5] and d.tolist() == [0.0] * 3
    assert how.startswith("not determined")


def test_time_unit_option_for_a_bare_test_time_without_stamps(tmp_path):
    text = ("Rec\tCycle P\tStep\tTestTime\tStepTime\tCap. [Ah]\tCurrent [A]\tVoltage [V]\tMd\n"
            "1\t0\t1\t0,0\t0,0\t0,0\t0,0\t3,1\tR\n2\t0\t1\t1,5\t1,5\t0,0\t0,0\t3,2\tR\n")
    path = tmp_path / "bare.txt"
    path.write_text(text)
    (rec,) = READER.read(path)
    assert rec.time.tolist() == [0.0, 1.5] and rec.voltage.tolist() == [3.1, 3.2]
    assert rec.metadata["time_unit"].startswith("s (assumed")
    assert rec.metadata["assumed_units"] == ["TestTime"]
    (rec,) = READER.read(path, time_unit="min")
    assert rec.time.tolist() == [0.0, 90.0]
    with pytest.raises(InputError, match="time_unit: must be one of s, min, h"):
        READER.read(path, time_unit="fortnight")


# ----------------------------------------------------------------------- bad files

def test_empty_file(tmp_path):
    path = tmp_path / "empty.001"
    path.write_text("")
    with pytest.raises(InputError, match="empty"):
        READER.read(path)


def test_header_only(tmp_path):
    lines = write_maccor(tmp_path / "cell.001").read_text().splitlines()[:2]
    path = tmp_path / "head.001"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"head\.001, line 2: no data rows after the column header"):
        READER.read(path)


def test_last_row_cut_in_half_is_dropped_and_noted(tmp_path):
    path = write_maccor(tmp_path / "cell.001")
    whole = path.read_text()
    lines = whole.splitlines()
    path.write_text("\n".join(lines[:-1] + [lines[-1][: len(lines[-1]) // 2]]))
    (rec,) = READER.read(path)
    assert len(rec) == len(lines) - 3
    assert rec.metadata["dropped"][0]["line"] == len(lines)
    assert "cut short" in rec.metadata["dropped"][0]["reason"]


def test_text_in_a_number_column_names_line_and_column(tmp_path):
    path = write_maccor(tmp_path / "cell.001")
    lines = path.read_text().splitlines()
    fields = lines[6].split("\t")
    fields[8] = "3.7x"
    lines[6] = "\t".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"line 7: column 'Volts': '3.7x' is not a number"):
        READER.read(path)


def test_unknown_option_and_not_maccor(tmp_path):
    path = write_maccor(tmp_path / "cell.001")
    with pytest.raises(InputError, match="takes no option 'mass'"):
        READER.read(path, mass=1)
    with pytest.raises(InputError, match="dayfirst: must be True, False or None"):
        READER.read(path, dayfirst="yes")
    other = tmp_path / "other.txt"
    other.write_text("a\tb\n1\t2\n")
    assert not READER.sniff(other, other.read_bytes())
    with pytest.raises(InputError, match="not a Maccor export"):
        READER.read(other)


def test_sniff_on_content_not_extension(tmp_path):
    path = write_maccor(tmp_path / "whatever.dat")
    assert READER.sniff(path, path.read_bytes())
    assert find_reader(path).name == "maccor-txt"
    (rec,) = ssbkit.read(path)
    assert rec.has(CURRENT) and rec.has(VOLTAGE) and rec.has(TIME)
