"""Basytec and Novonix exports: the real format samples by hand, synthetic cycles with
known capacities, bad files; and the two format samples no reader takes."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

import ssbkit
from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.core.registry import find_reader, list_readers
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    CYCLE,
    DISCHARGE_CAPACITY,
    STEP_COUNT,
    STEP_INDEX,
    STEP_TIME,
    STEP_TYPE,
    TEMPERATURE,
    UNIX_TIME,
)
from ssbkit.io._cycling import UnknownColumnWarning
from ssbkit.io.bdf import BdfCsvReader
from ssbkit.io.cycler_text import (
    ZONE_UNKNOWN,
    BasytecReader,
    NovonixReader,
    counters_by_current_sign,
    split_unit,
    unit_factor,
)
from ssbkit.io.maccor import MaccorReader
from ssbkit.testing import shared_data

BASYTEC, NOVONIX = BasytecReader(), NovonixReader()
MINE = (MaccorReader(), BdfCsvReader(), BASYTEC, NOVONIX)


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def _integral(t: np.ndarray, current: np.ndarray) -> float:
    return float(np.sum(0.5 * (current[1:] + current[:-1]) * np.diff(t)) / 3600.0)


# ----------------------------------------------------------------------- Basytec

@pytest.mark.shared_data
def test_basytec_sample_by_hand():
    path = shared_data("cycling", "other", "pyprobe_basytec.txt")
    (rec,) = BASYTEC.read(path)
    assert len(rec) == 74  # lines 14-87
    assert np.all(np.diff(rec.time) > 0)
    # line 76, the first charge row: 60.2322676666668 63 0 … 4 Charge 3.52575489148741
    #   0.00195196122033401 … Ah-Step 1.259385498273E-7 … T1 25.47953 … Cyc-Count 1
    row = 62
    assert rec.time[row] == 60.2322676666668 and rec.column(STEP_TIME)[row] == 0.0
    assert rec.voltage[row] == 3.52575489148741 and rec.current[row] == 0.00195196122033401
    assert rec.column(CHARGE_CAPACITY)[row] == 1.259385498273e-7
    assert rec.column(STEP_INDEX)[row] == 4 and rec.column(STEP_TYPE)[row] == "Charge"
    assert rec.column(TEMPERATURE)[row] == 25.47953  # T1[°C], the degree sign mangled in the file
    assert rec.column(CYCLE)[0] == 0 and rec.column(CYCLE)[1] == 1
    # two steps: the pause on line 3 (rows 0-61) and the charge on line 4 (rows 62-73)
    assert rec.column(STEP_COUNT)[[0, 61, 62, 73]].tolist() == [1, 1, 2, 2]
    assert rec.column(DISCHARGE_CAPACITY).max() == 0.0
    # absolute time: 'Start of Test: 19.06.2023 17:56:53' + ~Time[s]
    assert rec.column(UNIX_TIME)[0] == _utc(2023, 6, 19, 17, 56, 53)
    assert rec.column(UNIX_TIME)[row] == pytest.approx(_utc(2023, 6, 19, 17, 56, 53) + 60.2322676666668)
    assert rec.metadata["header"]["Testchannel"] == "1814 CH14 XCTS_40"
    assert find_reader(path).name == "basytec-txt"


@pytest.mark.shared_data
def test_basytec_start_time_is_iso_8601_and_agrees_with_the_unix_time():
    """Regression: start_time was the header's text, '19.06.2023 17:56:53'."""
    (rec,) = BASYTEC.read(shared_data("cycling", "other", "pyprobe_basytec.txt"))
    assert rec.metadata["start_time"] == "2023-06-19T17:56:53"
    assert rec.metadata["timezone"] == ZONE_UNKNOWN
    start = datetime.fromisoformat(rec.metadata["start_time"]).replace(tzinfo=UTC).timestamp()
    assert start == rec.column(UNIX_TIME)[0] - rec.time[0]


@pytest.mark.shared_data
def test_basytec_charge_counter_vs_integral_of_current():
    (rec,) = BASYTEC.read(shared_data("cycling", "other", "pyprobe_basytec.txt"))
    charge = rec.column(STEP_COUNT) == 2
    q = rec.column(CHARGE_CAPACITY)[charge]
    assert q[-1] == 0.001248916998009  # line 87, Ah-Step
    # the step's first row already holds the charge since the step began (0.0023 s earlier)
    integral = _integral(rec.time[charge], rec.current[charge]) + q[0]
    assert q[-1] == pytest.approx(integral, rel=5e-3)
    assert rec.column(CHARGE_ENERGY)[charge][-1] == 0.00441094744918941


_BASYTEC_HEAD = """~Resultfile from Basytec Battery Test System
~Date and Time of Data Converting: 07.07.2023 10:55:58
~
~Name of Test: synthetic
~Start of Test: 02.01.2024 09:00:00
~
~Time[s]\tDataSet\tt-Step[s]\tLine\tCommand\tU[V]\tI[A]\tAh[Ah]\tAh-Step\tT1[°C]\tCyc-Count
"""


def _basytec_rows(with_step: bool = True):
    """Charge 1 A for 360 s, discharge 0.5 A for 720 s, a ±1 A pulse step (6 × 10 s)."""
    rows, total, t, k = [], 0.0, 0.0, 1
    for line, command, currents, dt in ((2, "Charge", [1.0] * 7, 60.0),
                                        (3, "Discharge", [-0.5] * 13, 60.0),
                                        (4, "Pulse", [1, -1, 1, -1, 1, -1, 1], 10.0)):
        step_ah = 0.0
        for j, current in enumerate(currents):
            if j:
                step_ah += currents[j - 1] * dt / 3600  # the current held over the interval
                total += currents[j - 1] * dt / 3600
                t += dt
            rows.append(f"{t:.4f}\t{k}\t{j * dt:.4f}\t{line}\t{command}\t3.7\t{current}\t"
                        f"{total:.12f}\t" + (f"{step_ah:.12f}" if with_step else "") + "\t25.0\t1")
            k += 1
        t += 1.0
    return rows


def test_basytec_synthetic_charge_discharge_and_pulse(tmp_path):
    path = tmp_path / "cell.txt"
    path.write_text(_BASYTEC_HEAD + "\n".join(_basytec_rows()) + "\n", encoding="utf-8")
    assert BASYTEC.sniff(path, path.read_bytes())
    (rec,) = BASYTEC.read(path)
    steps, c, d = rec.column(STEP_COUNT), rec.column(CHARGE_CAPACITY), rec.column(DISCHARGE_CAPACITY)
    assert c[steps == 1].max() == pytest.approx(0.1, abs=1e-11)  # 1 A × 360 s
    assert d[steps == 2].max() == pytest.approx(0.1, abs=1e-11)  # 0.5 A × 720 s
    assert c[steps == 2].max() == 0.0 and d[steps == 1].max() == 0.0
    # the pulse step charged 3 × 10 s and discharged 3 × 10 s at 1 A: both counters positive
    assert c[steps == 3].max() == pytest.approx(30 / 3600, abs=1e-11)
    assert d[steps == 3].max() == pytest.approx(30 / 3600, abs=1e-11)
    assert rec.column(TEMPERATURE)[0] == 25.0
    assert rec.column(UNIX_TIME)[0] == _utc(2024, 1, 2, 9, 0, 0)


def test_basytec_running_total_alone_gives_the_same_counters(tmp_path):
    both, total_only = tmp_path / "a.txt", tmp_path / "b.txt"
    both.write_text(_BASYTEC_HEAD + "\n".join(_basytec_rows()) + "\n", encoding="utf-8")
    head = _BASYTEC_HEAD.replace("\tAh-Step", "")
    rows = [r.replace("\t\t", "\t") for r in _basytec_rows(with_step=False)]
    total_only.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    (a,), (b,) = BASYTEC.read(both), BASYTEC.read(total_only)
    np.testing.assert_allclose(a.column(CHARGE_CAPACITY), b.column(CHARGE_CAPACITY), atol=1e-11)
    np.testing.assert_allclose(a.column(DISCHARGE_CAPACITY), b.column(DISCHARGE_CAPACITY),
                               atol=1e-11)


def test_basytec_unknown_unit_names_line_and_column(tmp_path):
    path = tmp_path / "cell.txt"
    path.write_text(_BASYTEC_HEAD.replace("U[V]", "U[kV]") + "\n".join(_basytec_rows()) + "\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"cell\.txt, line 7, column 6: column 'U\[kV\]' has "
                                         r"unit 'kV', which ssbkit does not know for voltage"):
        BASYTEC.read(path)


def test_basytec_bad_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        BASYTEC.read(empty)
    head = tmp_path / "head.txt"
    head.write_text(_BASYTEC_HEAD, encoding="utf-8")
    with pytest.raises(InputError, match=r"line 7: no data rows after the column header"):
        BASYTEC.read(head)
    cut = tmp_path / "cut.txt"
    rows = _basytec_rows()
    cut.write_text(_BASYTEC_HEAD + "\n".join(rows[:-1] + [rows[-1][:15]]), encoding="utf-8")
    (rec,) = BASYTEC.read(cut)
    assert len(rec) == len(rows) - 1
    assert rec.metadata["dropped"] == [{"line": 7 + len(rows), "reason":
                                        "the last line holds 3 of 11 values: the file was cut short"}]
    # cut right after a separator: every value there, the current's cell empty
    fields = rows[-1].split("\t")
    blank = tmp_path / "blank.txt"
    blank.write_text(_BASYTEC_HEAD + "\n".join(rows[:-1] + ["\t".join(fields[:6]) + "\t"
                                                            + "\t" * (len(fields) - 7)]),
                     encoding="utf-8")
    (rec,) = BASYTEC.read(blank)
    assert len(rec) == len(rows) - 1 and np.isfinite(rec.current).all()
    assert rec.metadata["dropped"] == [{"line": 7 + len(rows), "reason":
                                        "the last line has no value for 'I[A]': the file was "
                                        "cut short"}]
    extra = tmp_path / "extra.txt"
    extra.write_text(_BASYTEC_HEAD.replace("Cyc-Count", "Cyc-Count\tMystery")
                     + "\n".join(r + "\t7" for r in rows) + "\n", encoding="utf-8")
    with pytest.warns(UnknownColumnWarning, match="Mystery"):
        (rec,) = BASYTEC.read(extra)
    assert (rec.column("Mystery") == 7).all()


# ----------------------------------------------------------------------- Novonix

@pytest.mark.shared_data
def test_novonix_sample_by_hand():
    path = shared_data("cycling", "other", "pyprobe_novonix.csv")
    (rec,) = NOVONIX.read(path)
    assert len(rec) == 207  # lines 22-228
    assert np.all(np.diff(rec.time) > 0)
    # line 23: 2025-07-19 15:26:21,1,7,0.0003556,0.0003556,0.49989602,3.85240349,0.00013502,
    #          24.648,25.270,0.00052012,…,1,0,1.92580115
    assert rec.time[1] == pytest.approx(0.0003556 * 3600, rel=1e-12)  # Run Time (h)
    assert rec.current[1] == 0.49989602 and rec.voltage[1] == 3.85240349
    assert rec.column(CHARGE_CAPACITY)[1] == 0.00013502
    assert rec.column(TEMPERATURE)[1] == 24.648
    assert rec.column(UNIX_TIME)[1] == _utc(2025, 7, 19, 15, 26, 21)
    assert rec.column(STEP_TYPE)[1] == "7" and rec.column(CYCLE)[1] == 1
    assert rec.column("Circuit Temperature (°C)")[1] == 25.270
    # line 228 (last): Run Time 3.4131889 h, Capacity 1.70652976 Ah
    assert rec.time[-1] == pytest.approx(3.4131889 * 3600, rel=1e-12)
    assert rec.column(CHARGE_CAPACITY)[-1] == 1.70652976
    assert rec.column(DISCHARGE_CAPACITY).max() == 0.0
    meta = rec.metadata
    assert meta["software_version"] == "2.13.0" and meta["channel"] == "01"
    # 'Started: 2025-07-19 15:26:20', local time of no known zone
    assert meta["start_time"] == "2025-07-19T15:26:20" and meta["timezone"] == ZONE_UNKNOWN
    assert find_reader(path).name == "novonix-csv"


@pytest.mark.shared_data
def test_novonix_charge_counter_vs_integral_of_current():
    (rec,) = NOVONIX.read(shared_data("cycling", "other", "pyprobe_novonix.csv"))
    q = rec.column(CHARGE_CAPACITY)
    assert q[-1] == pytest.approx(_integral(rec.time, rec.current), rel=5e-3)


_NOVONIX_HEAD = """[Summary]
Novonix UHPC data file
Novonix
Channel: 07
Started: 2024-01-02 09:00:00
Version: 2.13.0
[End Summary]
[Data]
Date and Time,Cycle Number,Step Type,Run Time (h),Step Time (h),Current (A),Potential (V),\
Capacity (Ah),Temperature (°C),Energy (Wh),Step Number
"""


def _novonix_rows():
    rows, t = [], 0.0
    for step, current in ((1, 0.2), (2, -0.2)):
        for j in range(11):
            st = j * 0.1  # h
            q = abs(current) * st
            rows.append(f"2024-01-02 09:00:00,1,{1 if current > 0 else 2},{t + st:.6f},{st:.6f},"
                        f"{current},3.7,{q:.8f},25.0,{q * 3.7:.8f},{step}")
        t += 1.0 + 0.01
    return rows


def test_novonix_synthetic_unsigned_capacity_split_by_current(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text(_NOVONIX_HEAD + "\n".join(_novonix_rows()) + "\n", encoding="utf-8")
    assert NOVONIX.sniff(path, path.read_bytes())
    (rec,) = NOVONIX.read(path)
    steps = rec.column(STEP_COUNT)
    assert rec.column(CHARGE_CAPACITY)[steps == 1].max() == pytest.approx(0.2, abs=1e-9)
    assert rec.column(DISCHARGE_CAPACITY)[steps == 2].max() == pytest.approx(0.2, abs=1e-9)
    assert rec.column(CHARGE_CAPACITY)[steps == 2].max() == 0.0
    assert rec.column(DISCHARGE_CAPACITY)[steps == 1].max() == 0.0
    assert rec.time[-1] == pytest.approx(3600 * 2.01, rel=1e-9)


def test_novonix_signed_capacity_is_read_as_a_net_counter(tmp_path):
    rows = [r.split(",") for r in _novonix_rows()]
    for r in rows:
        if r[-1] == "2":
            r[7] = "-" + r[7]
    path = tmp_path / "signed.csv"
    path.write_text(_NOVONIX_HEAD + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    (rec,) = NOVONIX.read(path)
    assert rec.column(DISCHARGE_CAPACITY).max() == pytest.approx(0.2, abs=1e-9)
    assert rec.column(CHARGE_CAPACITY).max() == pytest.approx(0.2, abs=1e-9)


def test_novonix_bad_files(tmp_path):
    head = tmp_path / "head.csv"
    head.write_text(_NOVONIX_HEAD, encoding="utf-8")
    with pytest.raises(InputError, match=r"line 9: no data rows after the column header"):
        NOVONIX.read(head)
    bad_unit = tmp_path / "unit.csv"
    bad_unit.write_text(_NOVONIX_HEAD.replace("Run Time (h)", "Run Time (fortnights)")
                        + "\n".join(_novonix_rows()) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unit\.csv, line 9, column 4: column 'Run Time "
                                         r"\(fortnights\)' has unit 'fortnights'"):
        NOVONIX.read(bad_unit)
    no_data = tmp_path / "nodata.csv"
    no_data.write_text("[Summary]\nNovonix\n[End Summary]\n", encoding="utf-8")
    with pytest.raises(UnsupportedFormatError, match=r"no '\[Data\]' line"):
        NOVONIX.read(no_data)
    cut = tmp_path / "cut.csv"
    rows = _novonix_rows()
    cut.write_text(_NOVONIX_HEAD + "\n".join(rows[:-1] + [rows[-1][:30]]), encoding="utf-8")
    (rec,) = NOVONIX.read(cut)
    assert len(rec) == len(rows) - 1 and rec.metadata["dropped"][0]["line"] == 9 + len(rows)
    blank = tmp_path / "blank.csv"
    blank.write_text(_NOVONIX_HEAD + "\n".join(rows[:-1] + [",".join(
        v if j != 6 else "" for j, v in enumerate(rows[-1].split(",")))]), encoding="utf-8")
    (rec,) = NOVONIX.read(blank)
    assert len(rec) == len(rows) - 1 and np.isfinite(rec.voltage).all()
    assert "'Potential (V)'" in rec.metadata["dropped"][0]["reason"]
    no_current = tmp_path / "nocurrent.csv"
    no_current.write_text(_NOVONIX_HEAD.replace("Current (A)", "Flux (A)")
                          + "\n".join(_novonix_rows()) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 9: no current column"):
        NOVONIX.read(no_current)


# ----------------------------------------------------------------------- helpers

def test_split_unit_and_unit_factor():
    assert split_unit("T1[\ufffdC]") == ("T1", "\ufffdC")
    assert split_unit("Amp-hr") == ("Amp-hr", None)
    assert split_unit("Cap. [Ah]") == ("Cap.", "Ah")
    assert unit_factor("\ufffdC", "temperature", column="T1", source="f") == 1.0
    assert unit_factor("mAh", "charge", column="Q", source="f") == 1e-3
    assert unit_factor(None, "charge", column="Amp-hr", source="f", default="Ah") == 1.0
    # 'C' is a coulomb for a charge column, not a degree
    assert unit_factor("C", "charge", column="Q", source="f") == pytest.approx(1 / 3600)
    with pytest.raises(InputError, match="for current"):
        unit_factor("V", "current", column="I[V]", source="f")


def test_counters_by_current_sign_rest_rows_follow_the_step():
    steps = np.array([1, 1, 1, 1])
    c, d = counters_by_current_sign(steps, np.array([0.0, 1.0, 1.0, 2.0]),
                                    np.array([-1.0, -1.0, 0.0, -1.0]))
    assert c.tolist() == [0.0] * 4 and d.tolist() == [0.0, 1.0, 1.0, 2.0]


# ----------------------------------------------------------------------- formats nobody reads

@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["cellpy_pec_Test25209.csv", "cellpy_custom_data_001.csv"])
def test_pec_and_cellpy_custom_files_are_unsupported_naming_the_readers(name):
    path = shared_data("cycling", "other", name)
    head = path.read_bytes()[:65536]
    assert not any(reader.sniff(path, head) for reader in MINE)
    with pytest.raises(UnsupportedFormatError, match="no installed reader recognises") as info:
        ssbkit.read(path)
    message = str(info.value)
    assert str(path) in message
    for reader in ("maccor-txt", "bdf-csv", "basytec-txt", "novonix-csv"):
        assert reader in message
    assert all(n in message for n in list_readers())


def test_read_table_takes_the_same_values_by_either_path(tmp_path):
    from ssbkit.io.cycler_text import read_table

    head = "meta line\nt\tv\tstate\tnote\n"
    rows = ["0\t3.5\tC\tN/A", "1\t3.6\tC\tN/A", "2\t3.7\tD\t7"]
    names = ["t", "v", "state", "note"]
    kwargs = {"sep": "\t", "decimal": ".", "source": tmp_path / "f.txt", "names": names,
              "numeric": [0, 1], "text_columns": [2]}
    fast = read_table(head + "\n".join(rows) + "\n", 1, **kwargs)
    # a blank line inside, and old Mac line ends, go line by line
    for text, lines in ((head + rows[0] + "\n\n" + "\n".join(rows[1:]) + "\n", [3, 5, 6]),
                        ((head + "\n".join(rows)).replace("\n", "\r"), [3, 4, 5])):
        slow = read_table(text, 1, **kwargs)
        for name in names:
            np.testing.assert_array_equal(slow[0][name], fast[0][name])
        assert slow[1].tolist() == lines
    assert fast[1].tolist() == [3, 4, 5]
    assert np.isnan(fast[0]["note"][0]) and fast[0]["note"][2] == 7.0
    assert fast[0]["state"].tolist() == ["C", "C", "D"]
    # a cut last line is dropped on both paths with the same note
    cut = head + "\n".join(rows[:2]) + "\n2\t3."
    for text in (cut, cut.replace("\n", "\r")):
        columns, lines, dropped = read_table(text, 1, **kwargs)
        assert lines.tolist() == [3, 4] and dropped == [
            {"line": 5, "reason": "the last line holds 2 of 4 values: the file was cut short"}]


def test_read_table_drops_a_last_line_whose_required_cell_is_empty(tmp_path):
    """Regression: 'value,' at the end of a file (cut after the separator) gave a NaN row."""
    from ssbkit.io.cycler_text import read_table

    kwargs = {"sep": ",", "decimal": ".", "source": tmp_path / "f.csv", "names": ["t", "v", "i"],
              "numeric": [0, 1, 2]}
    text = "t,v,i\n0,3.0,0.001\n1,,0.001\n2,3.2,\n"
    # not required: kept on both paths, a gap in the middle and at the end alike
    columns, lines, dropped = read_table(text, 0, **kwargs)
    assert lines.tolist() == [2, 3, 4] and not dropped and np.isnan(columns["i"][-1])
    for body in (text, text.replace("\n", "\r")):
        columns, lines, dropped = read_table(body, 0, required=[1, 2], **kwargs)
        assert lines.tolist() == [2, 3] and columns["i"].tolist() == [0.001, 0.001]
        assert np.isnan(columns["v"][1])  # a gap inside the table stays a gap
        assert dropped == [{"line": 4, "reason": "the last line has no value for 'i': the file "
                                                 "was cut short"}]
    with pytest.raises(InputError, match=r"line 1: no data rows after the column header "
                                         r"\(line 2 was cut short\)"):
        read_table("t,v,i\n0,3.0,\n", 0, required=[2], **kwargs)
