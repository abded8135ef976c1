"""Battery Data Format CSV: datalab's export of an Arbin file by hand, both spellings of
the column names, round trips through ``CyclingRecord.to_bdf_csv``, and bad files."""

from __future__ import annotations

import numpy as np
import pytest

import ssbkit
from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.core.registry import find_reader
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    CURRENT,
    CYCLE,
    DISCHARGE_CAPACITY,
    DISCHARGE_ENERGY,
    PRESSURE,
    STEP_COUNT,
    STEP_INDEX,
    STEP_TIME,
    STEP_TYPE,
    TEMPERATURE,
    TIME,
    UNIX_TIME,
    VOLTAGE,
    CyclingRecord,
)
from ssbkit.io._cycling import UnknownColumnWarning
from ssbkit.io.bdf import BDF_LABELS, BdfCsvReader
from ssbkit.io.cycler_text import BasytecReader
from ssbkit.io.maccor import MaccorReader
from ssbkit.testing import shared_data

READER = BdfCsvReader()


def _rises(q: np.ndarray) -> np.ndarray:
    """Per-row gain of a counter that may restart (a fall is a restart from zero)."""
    d = np.diff(q, prepend=0.0)
    return np.where(d >= 0, d, q)


def _step_integral(t, current, steps, mask):
    """∫ I dt [Ah] (trapezoid) over the rows in ``mask``, not across step boundaries."""
    same = np.r_[False, steps[1:] == steps[:-1]]
    area = np.where(same, 0.5 * (current + np.r_[0.0, current[:-1]]) * np.diff(t, prepend=t[0]), 0)
    return float(area[mask].sum() / 3600.0)


@pytest.mark.shared_data
def test_datalab_arbin_export_by_hand():
    path = shared_data("cycling", "other", "datalab_arbin_example.bdf.csv")
    (rec,) = READER.read(path)  # navani's and Arbin's columns are known: no warning
    assert len(rec) == 2150
    assert "unknown_columns" not in rec.metadata
    # line 2: Test Time / s 0.072595419795086, Voltage / V 3.8591957, Current / A 0.0,
    #         Cycle Count / 1 0.0, Step Index / 1 1, Step Count / 1 1
    assert rec.time[0] == 0.072595419795086 and rec.voltage[0] == 3.8591957
    assert rec.current[0] == 0.0
    assert (rec.column(CYCLE)[0], rec.column(STEP_INDEX)[0], rec.column(STEP_COUNT)[0]) == (0, 1, 1)
    # line 2151 (last): 345733.3894574374, 3.872108, cycle 4, step index 5, step count 17
    assert rec.time[-1] == 345733.3894574374 and rec.voltage[-1] == 3.872108
    assert (rec.column(CYCLE)[-1], rec.column(STEP_INDEX)[-1], rec.column(STEP_COUNT)[-1]) == (4, 5, 17)
    assert np.all(np.diff(rec.time) >= 0)
    # the passengers are kept as they are
    assert rec.column("state")[0] == "R" and rec.column("half cycle")[-1] == 8
    assert rec.column("Capacity")[-1] == 0.00047081967546
    # a solid-state LCO cell at ~87 nA: currents are tiny but in A
    assert 5e-8 < np.abs(rec.current).max() < 1e-7
    assert find_reader(path).name == "bdf-csv"


@pytest.mark.shared_data
def test_datalab_export_per_cycle_counters_vs_integral_of_current():
    (rec,) = READER.read(shared_data("cycling", "other", "datalab_arbin_example.bdf.csv"))
    t, current, cycles, steps = rec.time, rec.current, rec.column(CYCLE), rec.column(STEP_COUNT)
    charge, discharge = _rises(rec.column(CHARGE_CAPACITY)), _rises(rec.column(DISCHARGE_CAPACITY))
    checked = 0
    for cycle in np.unique(cycles):
        m = cycles == cycle
        for gained, sign in ((charge, 1.0), (discharge, -1.0)):
            integral = _step_integral(t, np.clip(sign * current, 0, None), steps, m)
            if integral == 0:
                assert gained[m].sum() == 0
                continue
            assert gained[m].sum() == pytest.approx(integral, rel=5e-3)
            checked += 1
    assert checked == 8  # cycles 1-4, charge and discharge; cycle 0 is a rest
    # cycle 1 charges 0.48350 µAh by the counter
    assert charge[cycles == 1].sum() == pytest.approx(4.8350e-7, rel=1e-4)


def _record() -> CyclingRecord:
    t = np.arange(0.0, 40.0, 4.0)
    current = np.r_[np.full(5, 0.002), np.full(5, -0.002)]
    steps = np.r_[np.full(5, 1), np.full(5, 2)]
    st = np.r_[np.arange(5) * 4.0, np.arange(5) * 4.0]
    q = 0.002 * st / 3600
    return CyclingRecord.from_columns({
        TIME: t, UNIX_TIME: 1.7e9 + t, STEP_TIME: st, VOLTAGE: 3.6 + 0.01 * np.arange(10),
        CURRENT: current, CYCLE: np.ones(10), STEP_INDEX: steps + 2, STEP_COUNT: steps,
        STEP_TYPE: np.r_[["CC_Chg"] * 5, ["CC_DChg"] * 5],
        CHARGE_CAPACITY: np.where(steps == 1, q, 0), DISCHARGE_CAPACITY: np.where(steps == 2, q, 0),
        CHARGE_ENERGY: np.where(steps == 1, 3.6 * q, 0),
        DISCHARGE_ENERGY: np.where(steps == 2, 3.6 * q, 0),
        TEMPERATURE: np.full(10, 25.0), PRESSURE: np.full(10, 5e6),
    }, source="synthetic")


def test_round_trip_of_a_record_keeps_every_column(tmp_path):
    rec = _record()
    path = rec.to_bdf_csv(tmp_path / "cell.bdf.csv")
    assert READER.sniff(path, path.read_bytes())
    (back,) = ssbkit.read(path)
    assert back.metadata["format"] == "bdf-csv"
    assert set(back.columns) == set(rec.columns)
    for name, values in rec.columns.items():
        if values.dtype.kind == "f":
            np.testing.assert_allclose(back.column(name), values, rtol=1e-15, err_msg=name)
        else:
            np.testing.assert_array_equal(back.column(name), values, err_msg=name)


@pytest.mark.shared_data
def test_round_trip_of_real_records_from_other_formats(tmp_path):
    for reader, parts in ((MaccorReader(), ("maccor", "beep_PredictionDiagnostics_000151_test.052")),
                          (BasytecReader(), ("other", "pyprobe_basytec.txt"))):
        (rec,) = reader.read(shared_data("cycling", *parts))
        path = rec.to_bdf_csv(tmp_path / f"{parts[1]}.bdf.csv")
        # the vendor's own passenger columns are not BDF: kept, and named in a warning
        with pytest.warns(UnknownColumnWarning):
            (back,) = READER.read(path)
        assert set(back.columns) == set(rec.columns)
        for name in (TIME, VOLTAGE, CURRENT, CHARGE_CAPACITY, DISCHARGE_CAPACITY, UNIX_TIME):
            np.testing.assert_allclose(back.column(name), rec.column(name), rtol=1e-15)


def test_machine_readable_names_and_step_net_capacity(tmp_path):
    # fastnda-style: a signed net capacity that restarts each step
    rec = _record()
    net = rec.column(CHARGE_CAPACITY) - rec.column(DISCHARGE_CAPACITY)
    header = ("test_time_second,voltage_volt,current_ampere,cycle_count,step_count,step_index,"
              "step_type,step_net_capacity_ah,temperature_t1_celsius,power_watt")
    rows = [f"{rec.time[i]},{rec.voltage[i]},{rec.current[i]},1,{rec.column(STEP_COUNT)[i]},"
            f"{rec.column(STEP_INDEX)[i]},{rec.column(STEP_TYPE)[i]},{float(net[i])!r},24.5,"
            f"{rec.voltage[i] * rec.current[i]}" for i in range(len(rec))]
    path = tmp_path / "fast.bdf.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    assert READER.sniff(path, path.read_bytes())
    (back,) = READER.read(path)
    np.testing.assert_allclose(back.column(CHARGE_CAPACITY), rec.column(CHARGE_CAPACITY), atol=1e-15)
    np.testing.assert_allclose(back.column(DISCHARGE_CAPACITY), rec.column(DISCHARGE_CAPACITY),
                               atol=1e-15)
    # known BDF quantities outside the record's own columns are kept under their labels
    assert back.column("Temperature T1 / degC")[0] == 24.5
    assert back.column("Power / W")[0] == pytest.approx(3.6 * 0.002)
    assert back.column("Step Net Capacity / Ah")[-1] == pytest.approx(-0.002 * 16 / 3600)
    assert back.column(STEP_TYPE)[0] == "CC_Chg"


def test_other_units_of_the_same_quantity_are_converted(tmp_path):
    path = tmp_path / "milli.csv"
    path.write_text("Test Time / min,Voltage / mV,Current / mA,Charging Capacity / mAh\n"
                    "0,3600,2,0\n1,3610,2,0.0333\n")
    (rec,) = READER.read(path)
    assert rec.time.tolist() == [0.0, 60.0] and rec.voltage.tolist() == [3.6, 3.61]
    assert rec.current.tolist() == [0.002, 0.002]
    assert rec.column(CHARGE_CAPACITY)[1] == pytest.approx(3.33e-5)
    machine = tmp_path / "ms.csv"
    machine.write_text("test_time_millisecond,voltage_millivolt,current_milliampere\n"
                       "0,3600,2\n1500,3610,-2\n")
    (rec,) = READER.read(machine)
    assert rec.time.tolist() == [0.0, 1.5] and rec.current.tolist() == [0.002, -0.002]


def test_unknown_unit_names_file_line_and_column(tmp_path):
    path = tmp_path / "kv.bdf.csv"
    path.write_text("Test Time / s,Voltage / kV,Current / A\n0,0.0036,0.001\n")
    with pytest.raises(InputError, match=r"kv\.bdf\.csv, line 1, column 2: column 'Voltage / kV' "
                                         r"has unit 'kV', which ssbkit does not know for voltage"):
        READER.read(path)
    wrong = tmp_path / "wrong.bdf.csv"
    wrong.write_text("Test Time / s,Voltage / A,Current / A\n0,3.6,0.001\n")
    with pytest.raises(InputError, match=r"line 1, column 2: .*for voltage"):
        READER.read(wrong)


def test_unknown_column_warns_and_is_kept(tmp_path):
    path = tmp_path / "extra.bdf.csv"
    path.write_text("Test Time / s,Voltage / V,Current / A,Gizmo\n0,3.6,0.001,a\n1,3.7,0.001,b\n")
    with pytest.warns(UnknownColumnWarning, match="Gizmo"):
        (rec,) = READER.read(path)
    assert rec.column("Gizmo").tolist() == ["a", "b"]


def test_bad_files(tmp_path):
    empty = tmp_path / "empty.bdf.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        READER.read(empty)
    head = tmp_path / "head.bdf.csv"
    head.write_text("Test Time / s,Voltage / V,Current / A\n")
    with pytest.raises(InputError, match=r"line 1: no data rows after the column header"):
        READER.read(head)
    cut = tmp_path / "cut.bdf.csv"
    cut.write_text("Test Time / s,Voltage / V,Current / A\n0,3.6,0.001\n1,3.7,0.001\n2,3.")
    (rec,) = READER.read(cut)
    assert len(rec) == 2
    assert rec.metadata["dropped"] == [{"line": 4, "reason": "the last line holds 2 of 3 values: "
                                                            "the file was cut short"}]
    text = tmp_path / "text.bdf.csv"
    text.write_text("Test Time / s,Voltage / V,Current / A\n0,3.6,0.001\n1,high,0.001\n")
    with pytest.raises(InputError, match=r"line 3: column 'Voltage / V': 'high' is not a number"):
        READER.read(text)
    no_current = tmp_path / "nocurrent.bdf.csv"
    no_current.write_text("Test Time / s,Voltage / V\n0,3.6\n1,3.7\n")
    # still claimed (BDF names), so ssbkit.read says what it lacks, not "unknown format"
    assert READER.sniff(no_current, no_current.read_bytes())
    with pytest.raises(InputError, match="no current column"):
        ssbkit.read(no_current)
    not_bdf = tmp_path / "plain.csv"
    not_bdf.write_text("time,voltage,current\n0,3.6,0.001\n")
    assert not READER.sniff(not_bdf, not_bdf.read_bytes())
    with pytest.raises(UnsupportedFormatError, match="no 'Test Time / s'"):
        READER.read(not_bdf)
    with pytest.raises(InputError, match="takes no option 'strict'"):
        READER.read(cut, strict=True)


def _claimants(path):
    from ssbkit.core.registry import list_readers

    head = path.read_bytes()
    return sorted(n for n, cls in list_readers().items() if cls().sniff(path, head))


def test_a_last_line_cut_after_its_separator_is_dropped_not_read_as_a_nan_current(tmp_path):
    """Regression: '2,3.2,' at the end gave a row whose current was NaN, silently."""
    path = tmp_path / "cut.bdf.csv"
    path.write_text("Test Time / s,Voltage / V,Current / A\n0,3.6,0.001\n1,3.7,0.001\n2,3.8,")
    (rec,) = ssbkit.read(path)
    assert rec.time.tolist() == [0.0, 1.0] and np.isfinite(rec.current).all()
    assert rec.metadata["dropped"] == [{"line": 4, "reason": "the last line has no value for "
                                                            "'Current / A': the file was cut short"}]


def test_an_empty_cell_inside_the_table_is_a_gap_as_in_the_other_cycler_readers(tmp_path):
    rows = "0,3.6,0.001\n1,,0.001\n2,3.8,\n3,3.9,0.001\n"
    path = tmp_path / "gaps.bdf.csv"
    path.write_text("Test Time / s,Voltage / V,Current / A\n" + rows)
    (rec,) = READER.read(path)
    assert len(rec) == 4 and "dropped" not in rec.metadata
    assert np.isnan(rec.voltage[1]) and np.isnan(rec.current[2])
    # the same rows in a Maccor export: read the same way
    maccor = tmp_path / "gaps.001"
    maccor.write_text("Rec#\tCyc#\tStep\tTest (Sec)\tStep (Sec)\tAmp-hr\tAmps\tVolts\tState\n"
                      + "".join(f"{k + 1}\t0\t1\t{t}\t{t}\t0\t{i}\t{v}\tC\n" for k, (t, v, i)
                                in enumerate(r.split(",") for r in rows.split())))
    (other,) = MaccorReader().read(maccor)
    np.testing.assert_array_equal(other.voltage, rec.voltage)
    np.testing.assert_array_equal(other.current, rec.current)


def test_a_bdf_table_without_voltage_is_claimed_and_says_what_it_lacks(tmp_path):
    """Regression: a BDF CSV without 'Voltage / V' was 'no installed reader recognises'."""
    for header in ("Test Time / s,Current / A", "test_time_second,current_ampere"):
        path = tmp_path / "novoltage.bdf.csv"
        path.write_text(header + "\n0,0.001\n1,0.001\n")
        assert _claimants(path) == ["bdf-csv"]
        with pytest.raises(InputError, match=r"no 'Voltage / V' column") as info:
            ssbkit.read(path)
        assert not isinstance(info.value, UnsupportedFormatError)
        assert str(path) in str(info.value)
    # a time and a pressure alone are a stack-pressure log, not a cycling table
    pressure = tmp_path / "pressure.csv"
    pressure.write_text("Test Time / s,Applied Pressure / Pa\n0,1e6\n60,1.01e6\n")
    assert _claimants(pressure) == ["pressure-log"]


def test_semicolon_separated_bdf(tmp_path):
    path = tmp_path / "semi.bdf.csv"
    path.write_text("Test Time / s;Voltage / V;Current / A\n0;3.6;0.001\n1;3.7;0.001\n")
    assert READER.sniff(path, path.read_bytes())
    (rec,) = READER.read(path)
    assert rec.voltage.tolist() == [3.6, 3.7] and rec.metadata["separator"] == ";"


def test_every_machine_name_maps_to_a_label_with_a_unit_or_none():
    assert BDF_LABELS["test_time_second"] == "Test Time / s"
    assert BDF_LABELS["step_net_capacity_ah"] == "Step Net Capacity / Ah"
    assert BDF_LABELS["applied_pressure_pa"] == "Applied Pressure / Pa"
    assert BDF_LABELS["step_type"] == "Step Type"
    assert len(set(BDF_LABELS.values())) == len(BDF_LABELS)
