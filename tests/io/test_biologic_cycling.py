"""BioLogic cycling files (.mpr through galvani, .mpt): real files checked against their own
counters and the integral of their current, synthetic GCPL exports with known charge, and
bad input."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from eis_writers import write_mpt_ca

import ssbkit
from ssbkit.core.errors import DependencyError, InputError
from ssbkit.core.registry import list_readers
from ssbkit.cycling.data import CyclingRecord
from ssbkit.eis import Spectrum
from ssbkit.io import find_reader, read_spectra
from ssbkit.io._cycling import UnknownColumnWarning
from ssbkit.io.biologic import BioLogicMprReader, BioLogicMptReader
from ssbkit.io.table import TableReader
from ssbkit.testing import shared_data

needs_galvani = pytest.mark.skipif(importlib.util.find_spec("galvani") is None,
                                   reason="reading .mpr files needs the gpl extra (galvani)")

CHG, DIS = "Charging Capacity / Ah", "Discharging Capacity / Ah"


def _biologic(name: str) -> Path:
    return shared_data("cycling", "biologic", name)


def _claimants(path: Path) -> list[str]:
    head = path.read_bytes()[:65536]
    return sorted(n for n, cls in list_readers().items() if cls().sniff(path, head))


def _step_increments(record: CyclingRecord) -> tuple[np.ndarray, np.ndarray]:
    """Per-row charge and discharge [Ah] from counters that restart at every step."""
    step = record.column("Step Count / 1")
    first = np.r_[True, step[1:] != step[:-1]]
    out = []
    for name in (CHG, DIS):
        counter = record.column(name)
        out.append(np.where(first, counter, np.diff(counter, prepend=0.0)))
    return out[0], out[1]


def _current_integral_per_step(record: CyclingRecord) -> tuple[np.ndarray, np.ndarray]:
    """Per step: net charge from the counters, and the integral of the logged current (the
    value logged at the end of each interval, as EC-Lab integrates)."""
    step = record.column("Step Count / 1")
    t, current = record.time, record.current
    ends = np.r_[np.flatnonzero(step[1:] != step[:-1]), step.size - 1]
    starts = np.r_[0, ends[:-1] + 1]
    net = record.column(CHG)[ends] - record.column(DIS)[ends]
    interval = np.r_[0.0, current[1:] * np.diff(t)] / 3600.0
    integral = np.array([interval[a + 1:b + 1].sum() for a, b in zip(starts, ends, strict=True)])
    return net, integral


@needs_galvani
@pytest.mark.shared_data
@pytest.mark.parametrize("name, rows, first_charge_mAh", [
    ("navani_jdb11-1_gcpl_5cycles_C09.mpr", 46102, 0.986781),
    ("datalab_jdb11-1_e1_s3_squidTest_C15.mpr", 32917, 0.100435),
])
def test_gcpl_without_a_current_column_agrees_with_the_files_half_cycle_counter(
        name, rows, first_charge_mAh):
    path = _biologic(name)
    assert _claimants(path) == ["biologic-mpr"]
    (record,) = ssbkit.read(path)
    assert len(record) == rows and record.metadata["current_derived"] is True
    assert record.metadata["start_time"].startswith("2020-")
    charge, discharge = _step_increments(record)
    # EC-Lab's own "Q charge/discharge" restarts each half cycle, signed: > 0 charge
    half, own = record.column("half cycle"), record.column("Q charge/discharge/mA.h")
    for h in np.unique(half):
        rows_h = half == h
        file_q = own[np.flatnonzero(rows_h)[-1]] * 1e-3
        ours = charge[rows_h].sum() if file_q > 0 else discharge[rows_h].sum()
        other = discharge[rows_h].sum() if file_q > 0 else charge[rows_h].sum()
        assert ours == pytest.approx(abs(file_q), rel=1e-3), f"half cycle {h}"
        assert other <= 1e-3 * abs(file_q) + 1e-12
    # the first charge (half cycle 2 after the initial discharge), read off the file by hand
    assert charge[half == 2].sum() * 1e3 == pytest.approx(first_charge_mAh, rel=1e-5)
    # the derived current: BioLogic's sign kept, > 0 while charging
    assert np.all(record.current[(half == 2) & (charge > 0)] > 0)
    assert np.all(record.current[(half == 3) & (discharge > 0)] < 0)


@needs_galvani
@pytest.mark.shared_data
def test_impedance_points_inside_cycling_are_left_out_and_returned_as_spectra():
    path = _biologic("cellpy_biol.mpr")
    record, *spectra = ssbkit.read(path)
    assert isinstance(record, CyclingRecord) and all(isinstance(s, Spectrum) for s in spectra)
    assert len(record) == 23561 - 310 and record.metadata["impedance_rows_dropped"] == 310
    assert np.all(record.column("freq/Hz") == 0)
    assert [len(s) for s in spectra] == [64, 64, 64, 64, 54]
    assert sum(len(s) for s in spectra) + sum(len(s.metadata.get("dropped", []))
                                              for s in spectra) == 310
    assert len(read_spectra(path)) == 5
    net, integral = _current_integral_per_step(record)
    active = np.abs(net) > 1e-6
    assert active.sum() == 4  # four 0.325 mA charges of 1.30, 1.30, 1.30 and 1.08 mAh
    np.testing.assert_allclose(integral[active], net[active], rtol=1e-3)
    np.testing.assert_allclose(net[active] * 1e3, [1.298721, 1.298706, 1.298714, 1.080752],
                               rtol=1e-5)


@needs_galvani
@pytest.mark.shared_data
def test_modulo_bat_file_counters_agree_with_the_current():
    (record,) = ssbkit.read(_biologic("navani_00_test_04_MB_C01.mpr"))
    assert len(record) == 1501 and "current_derived" not in record.metadata
    assert set(record.column("Step Type")) == {"CV"}
    net, integral = _current_integral_per_step(record)
    np.testing.assert_allclose(integral, net, rtol=1e-3)
    assert net[0] == pytest.approx(-1.7953e-8, rel=1e-4)  # -0.045 mA for 1.5 s: -18 nAh


@needs_galvani
@pytest.mark.shared_data
def test_cp_mpr_and_its_mpt_export_give_the_same_record():
    binary = _biologic("yadg_cp.mpr")
    text = _biologic("yadg_cp.mpt")
    assert _claimants(binary) == ["biologic-mpr"] and _claimants(text) == ["biologic-mpt"]
    (a,) = ssbkit.read(binary)
    (b,) = ssbkit.read(text)
    assert len(a) == len(b) == 121
    assert a.metadata["start_time"] == b.metadata["start_time"] == "2021-03-02T16:17:59"
    np.testing.assert_allclose(a.time, b.time, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.column("Unix Time / s"), b.column("Unix Time / s"), atol=1e-6)
    np.testing.assert_allclose(a.current, b.current, rtol=1e-6)
    for name in (CHG, DIS):
        np.testing.assert_allclose(a.column(name), b.column(name), rtol=1e-6, atol=1e-12)
    assert list(a.column("Step Type")) == list(b.column("Step Type"))
    np.testing.assert_allclose(a.voltage, b.voltage, atol=2e-6)
    # -100 mA for 119 s, in coulomb in the file: 3.30 mAh of discharge, none of charge
    assert a.column(DIS)[-1] == pytest.approx(0.1 * (a.time[-1] - a.time[0]) / 3600, rel=2e-3)
    assert a.column(CHG).max() == 0
    net, integral = _current_integral_per_step(a)
    np.testing.assert_allclose(integral, net, rtol=1e-3)


@needs_galvani
@pytest.mark.shared_data
def test_mpt_whose_ewe_is_written_as_zero_takes_ece_plus_ewe_minus_ece():
    """Regression: the CP export's <Ewe>/V is 0 from row 5 on, and the record's voltage was
    0 there while the .mpr gives about -3.45 V."""
    (binary,) = ssbkit.read(_biologic("yadg_cp.mpr"))
    (text,) = ssbkit.read(_biologic("yadg_cp.mpt"))
    raw = text.column("<Ewe>/V")
    assert (raw[:4] != 0).all() and (raw[4:] == 0).all()  # what the export wrote
    # the binary's Ewe on every row, to the 7-8 digits the export writes
    np.testing.assert_allclose(text.voltage, binary.voltage, rtol=0, atol=2e-6)
    assert text.voltage[4] == pytest.approx(-3.4454153, abs=1e-6)  # .mpr row 5, <Ewe>/V
    # rows 1-4, where the export has <Ewe>, keep it as written
    np.testing.assert_array_equal(text.voltage[:4], raw[:4])
    assert text.metadata["voltage_derived"]["rows"] == 117
    assert text.metadata["voltage_derived"]["from"] == "<Ece>/V + Ewe-Ece/V"
    assert "voltage_derived" not in binary.metadata
    assert text.metadata["timezone"] == binary.metadata["timezone"] == "unknown, taken as UTC"


def _header_less(path: Path, ewe: list[str], ece: list[str] | None, diff: list[str] | None):
    names = ["mode", "ox/red", "Ns", "time/s", "<Ewe>/V", "I/mA"]
    names += (["<Ece>/V"] if ece else []) + (["Ewe-Ece/V"] if diff else [])
    rows = []
    for k in range(len(ewe)):
        row = ["1", "1", "1", f"{k * 10.0}", ewe[k], "1.0"]
        row += ([ece[k]] if ece else []) + ([diff[k]] if diff else [])
        rows.append("\t".join(row))
    path.write_text("\t".join(names) + "\n" + "\n".join(rows) + "\n")
    return path


def test_ewe_is_derived_only_where_it_is_exactly_zero_and_the_counter_electrode_is_there(
        tmp_path):
    ewe, ece, diff = ["3.5", "0", "0"], ["1.0", "1.1", "0"], ["2.5", "2.45", "0"]
    (rec,) = ssbkit.read(_header_less(tmp_path / "a.mpt", ewe, ece, diff))
    # row 2 from Ece + (Ewe - Ece); row 3: every electrode at 0 V is a true 0 V
    np.testing.assert_allclose(rec.voltage, [3.5, 3.55, 0.0])
    assert rec.metadata["voltage_derived"]["rows"] == 1
    # negative control: without the counter-electrode columns nothing can be derived
    (bare,) = ssbkit.read(_header_less(tmp_path / "b.mpt", ewe, None, None))
    np.testing.assert_array_equal(bare.voltage, [3.5, 0.0, 0.0])
    assert "voltage_derived" not in bare.metadata
    (half,) = ssbkit.read(_header_less(tmp_path / "c.mpt", ewe, ece, None))
    np.testing.assert_array_equal(half.voltage, [3.5, 0.0, 0.0])


@pytest.mark.shared_data
def test_mpt_without_its_header_block_is_claimed_by_its_column_names():
    path = _biologic("pyprobe_biologic_no_header.mpt")
    assert _claimants(path) == ["biologic-mpt"]
    assert not TableReader().sniff(path, path.read_bytes())
    (record,) = ssbkit.read(path)
    assert len(record) == 13 and record.metadata["header"] == "none (columns only)"
    assert record.metadata["voltage_column"] == "Ecell/V"
    assert record.voltage[0] == 2.9344745 and record.time[0] == pytest.approx(2.816723801174285e5)
    assert np.all(record.current == 0) and np.all(record.column(CHG) == 0)


def _write_gcpl(path: Path, *, charge_unit: str = "mA.h", decimal: str = ".",
                columns: tuple[str, ...] = ("I/mA", "(Q-Qo)"), extra: str | None = None,
                absolute: bool = False) -> Path:
    """A GCPL export: rest, +1 mA for 1 h, -1 mA for 1 h, logged every 60 s (Q known)."""
    t = np.arange(0.0, 600 + 2 * 3600 + 1, 60.0)
    current = np.where(t <= 600, 0.0, np.where(t <= 600 + 3600, 1.0, -1.0))  # mA
    q = np.r_[0.0, np.cumsum(current[1:] * np.diff(t) / 3600)]  # mAh, logged at interval ends
    ns = np.where(t <= 600, 0, np.where(t <= 4200, 1, 2))
    mode = np.where(ns == 0, 3, 1)
    names = ["mode", "ox/red", "Ns", "time/s", "Ewe/V"]
    if "I/mA" in columns:
        names.append("I/mA")
    if "(Q-Qo)" in columns:
        names.append(f"(Q-Qo)/{charge_unit}")
    if "dq" in columns:
        names.append("dq/mA.h")
    names += ["half cycle", "cycle number"] + ([extra] if extra else [])
    factor = 3.6 if charge_unit == "C" else 1.0
    rows = []
    for k in range(t.size):
        since_nine = 1800 + t[k]  # the acquisition starts at 09:30:00
        clock = f"03/04/2024 {9 + since_nine // 3600:02.0f}:{since_nine // 60 % 60:02.0f}:00.000"
        values = [str(mode[k]), str(int(current[k] > 0)), str(ns[k]),
                  clock if absolute else f"{t[k]:.6E}", f"{3.0 + 0.1 * q[k]:.7E}"]
        if "I/mA" in columns:
            values.append(f"{current[k]:.7E}")
        if "(Q-Qo)" in columns:
            values.append(f"{q[k] * factor:.15E}")
        if "dq" in columns:
            values.append(f"{q[k] - q[k - 1] if k else 0.0:.15E}")
        values += [str(max(ns[k] - 1, 0)), "1.0"] + (["7"] if extra else [])
        rows.append("\t".join(v if v is clock else v.replace(".", decimal) for v in values))
    header = ["EC-Lab ASCII FILE", "Nb header lines : {n}", "",
              "Galvanostatic Cycling with Potential Limitation", "",
              "Acquisition started on : 03/04/2024 09:30:00", "Device : VMP3 (SN 1)",
              "EC-Lab for windows v11.50 (software)", "Characteristic mass : 2.500 mg", ""]
    header[1] = header[1].format(n=len(header) + 1)
    path.write_bytes(("\n".join(header + ["\t".join(names) + "\t"] + rows) + "\n")
                     .encode("latin-1"))
    return path


@pytest.mark.parametrize("charge_unit, decimal", [("mA.h", "."), ("C", "."), ("mA.h", ",")])
def test_synthetic_gcpl_gives_the_charge_it_was_written_with(tmp_path, charge_unit, decimal):
    path = _write_gcpl(tmp_path / "gcpl.mpt", charge_unit=charge_unit, decimal=decimal)
    assert _claimants(path) == ["biologic-mpt"]
    (record,) = ssbkit.read(path)
    steps = record.column("Step Count / 1")
    assert list(np.unique(steps)) == [1, 2, 3]
    ends = [np.flatnonzero(steps == s)[-1] for s in (1, 2, 3)]
    np.testing.assert_allclose(record.column(CHG)[ends], [0.0, 1e-3, 0.0], atol=1e-12)
    np.testing.assert_allclose(record.column(DIS)[ends], [0.0, 0.0, 1e-3], atol=1e-12)
    assert list(record.column("Step Type")[[0, ends[1], ends[2]]]) == ["Rest", "CC", "CC"]
    np.testing.assert_allclose(record.current[steps == 2], 1e-3)
    assert set(record.column("Cycle Count / 1")) == {1}
    assert record.metadata["start_time"] == "2024-03-04T09:30:00"
    assert record.metadata["timezone"] == "unknown, taken as UTC"
    assert record.metadata["active_mass_mg"] == 2.5
    assert record.metadata["software_version"] == "v11.50"
    np.testing.assert_allclose(record.column("Unix Time / s")[0], 1709544600.0)


def test_absolute_time_stamps_become_test_time_from_the_acquisition_start(tmp_path):
    # "Time format : Absolute": time/s holds dates; acquisition started at 09:30:00 and
    # the first row is logged at 09:30:00 too, so test time equals what was written
    (record,) = ssbkit.read(_write_gcpl(tmp_path / "abs.mpt", absolute=True))
    np.testing.assert_allclose(record.time, np.arange(0.0, 7801, 60.0), atol=1e-6)
    np.testing.assert_allclose(record.column("Unix Time / s"), 1709544600.0 + record.time)
    assert record.column(CHG).max() == pytest.approx(1e-3)


def test_current_is_derived_from_the_charge_counter_when_the_file_has_none(tmp_path):
    path = _write_gcpl(tmp_path / "noi.mpt", columns=("(Q-Qo)",))
    (record,) = ssbkit.read(path)
    assert record.metadata["current_derived"] is True
    steps = record.column("Step Count / 1")
    np.testing.assert_allclose(record.current[steps == 2], 1e-3, rtol=1e-9)
    np.testing.assert_allclose(record.current[steps == 3][1:], -1e-3, rtol=1e-9)
    np.testing.assert_allclose(record.current[steps == 1], 0.0, atol=1e-15)


def test_per_row_dq_gives_the_counters_when_there_is_nothing_else(tmp_path):
    (record,) = ssbkit.read(_write_gcpl(tmp_path / "dq.mpt", columns=("dq",)))
    assert record.metadata["current_from"] == "dq/mA.h"
    steps = record.column("Step Count / 1")
    assert record.column(CHG)[steps == 2][-1] == pytest.approx(1e-3, rel=1e-12)
    assert record.column(DIS)[steps == 3][-1] == pytest.approx(1e-3, rel=1e-12)
    np.testing.assert_allclose(record.current[steps == 2], 1e-3, rtol=1e-9)


def test_voltage_without_current_or_charge_is_an_input_error_naming_the_file(tmp_path):
    # negative control: nothing says how much charge passed
    path = _write_gcpl(tmp_path / "bare.mpt", columns=())
    with pytest.raises(InputError, match="neither a current column .* nor a charge column") \
            as info:
        ssbkit.read(path)
    assert str(path) in str(info.value)


def test_an_unknown_column_is_kept_and_named_in_a_warning(tmp_path):
    path = _write_gcpl(tmp_path / "new.mpt", extra="Pressure/bar")
    with pytest.warns(UnknownColumnWarning, match="Pressure/bar"):
        (record,) = ssbkit.read(path)
    assert record.metadata["unknown_columns"] == ["Pressure/bar"]
    assert set(record.column("Pressure/bar")) == {7.0}


def test_a_ca_export_relabelled_gcpl_is_now_a_cycling_record(tmp_path):
    path = write_mpt_ca(tmp_path / "gcpl.mpt", np.arange(3.0), np.ones(3), np.ones(3))
    text = path.read_text(encoding="latin-1").replace(
        "Chronoamperometry / Chronocoulometry", "Galvanostatic Cycling with Potential Limitation")
    path.write_text(text, encoding="latin-1")
    assert BioLogicMptReader().sniff(path, path.read_bytes())
    (record,) = ssbkit.read(path)
    assert isinstance(record, CyclingRecord)
    np.testing.assert_allclose(record.current, 1e-3)


def test_header_less_impedance_export_is_not_claimed():
    head = b"freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\ttime/s\tEwe/V\tNs\tcycle number\n1\t2\t3\t4\t5\t0\t0\n"
    assert not BioLogicMptReader().sniff(None, head)


@needs_galvani
@pytest.mark.shared_data
def test_truncated_mpr_is_an_input_error_naming_the_file(tmp_path):
    path = tmp_path / "cut.mpr"
    path.write_bytes(_biologic("yadg_cp.mpr").read_bytes()[:15000])
    assert find_reader(path).name == "biologic-mpr"
    with pytest.raises(InputError, match="truncated or damaged") as info:
        ssbkit.read(path)
    assert str(path) in str(info.value)


def test_empty_files_are_input_errors_naming_the_file(tmp_path):
    for name, reader in (("empty.mpr", BioLogicMprReader()), ("empty.mpt", BioLogicMptReader())):
        path = tmp_path / name
        path.write_bytes(b"")
        with pytest.raises(InputError) as info:
            reader.read(path)
        assert str(path) in str(info.value)
        with pytest.raises(InputError) as info:
            ssbkit.read(path)
        assert str(path) in str(info.value)


@pytest.mark.shared_data
def test_cycling_mpr_without_galvani_asks_for_the_gpl_extra(monkeypatch):
    path = _biologic("yadg_cp.mpr")
    monkeypatch.setitem(sys.modules, "galvani", None)  # import galvani -> ImportError
    with pytest.raises(DependencyError, match=r'pip install "ssbkit\[gpl\]"'):
        ssbkit.read(path)
