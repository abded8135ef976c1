"""Neware readers: real .nda/.ndax files against NewareNDA and its reference tables, the
current integral, the pulse and CC-CV files, the fallback path, bad files, and the CSV export."""

from __future__ import annotations

import functools
import warnings
import zipfile
from datetime import UTC, datetime

import numpy as np
import pytest

import ssbkit
from ssbkit.core.errors import InputError
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    CURRENT,
    CYCLE,
    DISCHARGE_CAPACITY,
    DISCHARGE_ENERGY,
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
from ssbkit.cycling.events import unix_seconds_of
from ssbkit.io import find_reader
from ssbkit.io._cycling import UnknownColumnWarning
from ssbkit.io.cycler_text import ZONE_UNKNOWN
from ssbkit.io.neware import NewareCsvReader, NewareNdaReader, _clock
from ssbkit.testing import shared_data

pytestmark = pytest.mark.shared_data

# file -> rows (README of shared/data/cycling, counted by the peers)
BINARIES = {
    "navani_test.nda": 439,
    "navani_test.ndax": 1464,
    "newarenda_issue72_bts91_v130.nda": 6670,
    "newarenda_2-1-6_61_v29.nda": 15567,
    "newarenda_issue94_unit27.ndax": 301,
    "newarenda_issue60_BTS85.ndax": 699677,
    "cellpy_IFE_BTS85_2_9_8_1.ndax": 252951,
}
PULSE = "newarenda_2-1-6_61_v29.nda"
CCCV = "newarenda_issue72_bts91_v130.nda"
BIG = "newarenda_issue60_BTS85.ndax"
# float32 counters: the two libraries round the same value to neighbouring float32 numbers
F32 = 2.5e-7


def _path(name):
    return shared_data("cycling", "neware", name)


@functools.cache
def _read(name, engine="auto"):
    """The record and the warnings its reading raised (read once per session)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (record,) = NewareNdaReader().read(_path(name), engine=engine)
    return record, tuple(caught)


@functools.cache
def _newarenda(name):
    NewareNDA = pytest.importorskip("NewareNDA")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return NewareNDA.read(str(_path(name)), software_cycle_number=False, log_level="ERROR")


@pytest.fixture(scope="module", autouse=True)
def _free_cached_records():
    yield
    _read.cache_clear()  # the large records are not kept for the rest of the session
    _newarenda.cache_clear()


def _step_ends(record):
    steps = record.columns[STEP_COUNT]
    return np.flatnonzero(np.r_[steps[1:] != steps[:-1], True])


# ----------------------------------------------------------------------------- binaries


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_every_binary_is_read_through_ssbkit_read_by_this_reader_alone(name):
    path = _path(name)
    assert find_reader(path) is NewareNdaReader
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (record,) = ssbkit.read(path)
    assert isinstance(record, CyclingRecord) and len(record) == BINARIES[name]
    meta = record.metadata
    assert meta["format"] == "neware-nda" and meta["instrument"] == "Neware"
    assert meta["file"] == name and meta["engine"].startswith("fastnda")
    assert meta["file_version"].startswith("nda" if name.endswith(".nda") else "ndax, ndc")
    assert np.all(np.diff(record.time) >= 0)
    for column in (VOLTAGE, CURRENT, STEP_TIME, UNIX_TIME, STEP_INDEX, STEP_COUNT, STEP_TYPE,
                   CHARGE_CAPACITY, DISCHARGE_CAPACITY, CHARGE_ENERGY, DISCHARGE_ENERGY):
        assert record.has(column), column
    for column in (CHARGE_CAPACITY, DISCHARGE_CAPACITY, CHARGE_ENERGY, DISCHARGE_ENERGY):
        assert record.columns[column].min() >= 0
    # only the IFE file's third aux channel is of a kind fastnda cannot name
    unknown = [w for w in caught if issubclass(w.category, UnknownColumnWarning)]
    assert [str(w.message).split(": ", 1)[1] for w in unknown] == (
        ["columns ssbkit does not know were kept as they are: aux1_?"]
        if name.startswith("cellpy_IFE") else [])


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_current_is_positive_on_charge_steps_and_negative_on_discharge_steps(name):
    record, _ = _read(name)
    types, current = record.columns[STEP_TYPE], record.current
    charge = np.char.endswith(types, "_Chg")
    discharge = np.char.endswith(types, "_DChg") | (types == "Pulse")
    assert (current[charge] >= 0).all() and (current[discharge] <= 0).all()
    assert (current[types == "Rest"] == 0).all()


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_per_step_capacities_equal_newarenda(name):
    record, _ = _read(name)
    frame = _newarenda(name)
    assert len(frame) == len(record)
    np.testing.assert_array_equal(frame["Step"].to_numpy(), record.columns[STEP_COUNT])
    np.testing.assert_array_equal(frame["Index"].to_numpy(), record.columns["Record Index / 1"])
    steps = record.columns[STEP_COUNT]
    for ours, theirs in ((CHARGE_CAPACITY, "Charge_Capacity(mAh)"),
                         (DISCHARGE_CAPACITY, "Discharge_Capacity(mAh)"),
                         (CHARGE_ENERGY, "Charge_Energy(mWh)"),
                         (DISCHARGE_ENERGY, "Discharge_Energy(mWh)")):
        mine = record.columns[ours] * 1e3
        peer = np.abs(frame[theirs].to_numpy(float))
        per_step_mine = np.maximum.reduceat(mine, np.flatnonzero(np.r_[True, np.diff(steps) != 0]))
        per_step_peer = np.maximum.reduceat(peer, np.flatnonzero(np.r_[True, np.diff(steps) != 0]))
        # 1e-6 mAh, or two float32 steps where the counter is larger than a few mAh
        np.testing.assert_allclose(per_step_mine, per_step_peer, rtol=F32, atol=1e-6)
        np.testing.assert_allclose(mine, peer, rtol=F32, atol=1e-6)


REFERENCES = {
    "new_nda_file.ftr": "navani_test.nda",
    "TestFile.ftr": CCCV,
    "2-1-6_6107005012.ftr": PULSE,
    "123456789012_Unit27_Example_Data_File.ftr": "newarenda_issue94_unit27.ndax",
}


@pytest.mark.parametrize("reference", sorted(REFERENCES))
def test_newarenda_reference_tables(reference):
    # Feather v2 is Arrow IPC, which polars (installed with fastnda) reads without pyarrow.
    polars = pytest.importorskip("polars")
    table = polars.read_ipc(shared_data("cycling", "neware", "newarenda_reference", reference))
    record, _ = _read(REFERENCES[reference])
    index = table["Index"].to_numpy()
    if reference.startswith("123456789012"):
        # NewareNDA's table repeats record 1; both libraries now drop the repeat (302 -> 301)
        assert len(table) == 302 and (index == 1).sum() == 2
        table = table[1:]
        index = index[1:]
    assert len(table) == len(record)
    np.testing.assert_array_equal(index, record.columns["Record Index / 1"])
    for ours, theirs in ((CHARGE_CAPACITY, "Charge_Capacity(mAh)"),
                         (DISCHARGE_CAPACITY, "Discharge_Capacity(mAh)")):
        np.testing.assert_allclose(record.columns[ours] * 1e3,
                                   np.abs(table[theirs].to_numpy().astype(float)),
                                   rtol=F32, atol=1e-6)
    np.testing.assert_allclose(record.voltage, table["Voltage"].to_numpy(), rtol=1e-6)


def test_bts91_time_is_total_time_and_the_cccv_charge_is_two_steps():
    for engine in ("fastnda", "newarenda"):
        record, _ = _read(CCCV, engine)
        time, step_time = record.time, record.columns[STEP_TIME]
        ends = _step_ends(record)
        # test time runs on through step boundaries, where step time starts again ...
        assert time[-1] == pytest.approx(72373.26, abs=0.01)
        gaps = time[ends[:-1] + 1] - time[ends[:-1]]
        assert len(gaps) == 10 and (gaps >= 0).all() and (gaps < 0.1).all()
        assert (step_time[ends[:-1] + 1] < 0.1).all()
        # ... and within a step grows as step time does
        inside = np.ones(len(time) - 1, bool)
        inside[ends[:-1]] = False
        np.testing.assert_allclose(np.diff(time)[inside], np.diff(step_time)[inside], atol=0.02)
        cycle, types = record.columns[CYCLE], record.columns[STEP_TYPE]
        charges = [(types[i], record.columns[CHARGE_CAPACITY][i] * 1e3)
                   for i in ends if cycle[i] == 2 and types[i].endswith("_Chg")]
        assert [(kind, round(mah, 2)) for kind, mah in charges] == [("CC_Chg", 5655.09),
                                                                    ("CV_Chg", 155.94)]
        assert charges[0][1] + charges[1][1] == pytest.approx(5811.02, abs=0.01)


def test_pulse_file_counts_its_discharge_positive_and_matches_the_current():
    record, _ = _read(PULSE)
    columns = record.columns
    assert set(columns[STEP_TYPE]) == {"Pulse"} and CYCLE not in columns
    assert record.metadata["native_cycle"] is False
    charge, discharge = columns[CHARGE_CAPACITY], columns[DISCHARGE_CAPACITY]
    assert (charge == 0).all() and (np.diff(discharge) >= 0).all()
    assert discharge[-1] * 1e3 == pytest.approx(299.861, abs=1e-3)
    # NewareNDA hands this counter over negative: the bug the reader must not repeat
    assert _newarenda(PULSE)["Discharge_Capacity(mAh)"].to_numpy().max() < 0
    # The records sit just after each 1.7 A pulse and 4 ms later in the 0.1 A phase, so a
    # current integral over the samples is no check (right rule 114 mAh, trapezoid 900 mAh).
    # Where a gap lies inside the 0.1 A phase the counter must grow by I·dt:
    # (within 1 % and two float32 steps of the counter, which is stored as float32 mAh)
    time, current = record.time, record.current
    dt, dq = np.diff(time), np.diff(discharge) * 3600
    short = dt < 0.01
    assert short.sum() > 7000
    expected = -current[1:][short] * dt[short]
    float32_step = np.spacing(np.float32(discharge[1:][short] * 1e3)).astype(float) * 3.6
    assert (np.abs(dq[short] - expected) <= 0.01 * expected + 2 * float32_step).all()
    # and the mean current of the whole step lies between the two pulse levels
    mean = discharge[-1] * 3600 / time[-1]  # the step starts at step time 0
    assert -current.max() < mean < -current.min()
    assert mean == pytest.approx(0.2997, abs=5e-4)
    # energy over capacity is a voltage the cell actually had
    average_v = columns[DISCHARGE_ENERGY][-1] / discharge[-1]
    assert record.voltage.min() < average_v < record.voltage.max()


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_counters_agree_with_the_current_integral(name):
    record, _ = _read(name)
    time, current, types = record.time, record.current, record.columns[STEP_TYPE]
    net = record.columns[CHARGE_CAPACITY] - record.columns[DISCHARGE_CAPACITY]
    ends = _step_ends(record)
    starts = np.r_[0, ends[:-1] + 1]
    checked = 0
    for a, b in zip(starts, ends + 1, strict=True):
        long_enough = b - a >= 20 and time[b - 1] - time[a] >= 600
        if types[a] == "Pulse" or not long_enough or net[b - 1] == 0:
            continue
        integral = np.trapezoid(current[a:b], time[a:b]) / 3600
        assert integral == pytest.approx(net[b - 1], rel=5e-3), (types[a], a)
        checked += 1
    expected = {"newarenda_issue60_BTS85.ndax": 43, CCCV: 6, "navani_test.ndax": 2,
                "cellpy_IFE_BTS85_2_9_8_1.ndax": 2}
    assert checked == expected.get(name, 0)


def test_big_file_keeps_stdout_clean_and_its_notes_in_metadata(capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (record,) = ssbkit.read(_path(BIG))
    out, err = capsys.readouterr()
    assert out == "" and err == "" and not caught
    notes = record.metadata["reader_notes"]
    assert any("negative jumps in the 'unix_time_s' column" in n for n in notes)
    assert record.metadata["channel"] == "36-0-45"
    assert record.metadata["start_time"] == "2024-05-06T08:58:57+02:00"
    assert record.columns[CYCLE].max() == 15


def test_aux_temperatures_and_metadata():
    record, _ = _read("newarenda_issue94_unit27.ndax")
    assert record.columns[TEMPERATURE][0] == pytest.approx(25.487, abs=1e-3)
    assert record.has("Temperature T2 / degC")
    assert record.metadata["barcode"] == "123456789012"
    nda, _ = _read("navani_test.nda")
    assert nda.metadata["active_mass_mg"] == 1.0
    # a UK lab in March (GMT): the local clock is UTC, and the offset found says so
    assert nda.metadata["start_time"] == "2020-03-25T11:16:21+00:00"
    assert nda.metadata["utc_offset_s"] == 0
    assert nda.metadata["software_version"].startswith("BTS 7.6")
    bts91, _ = _read(CCCV)
    assert bts91.has(TEMPERATURE) and "Temperature T2 / degC" not in bts91.columns


@pytest.mark.parametrize("name, start, offset", [
    # central European summer time (6 May) and winter time (27 February)
    (BIG, "2024-05-06T08:58:57+02:00", 7200),
    ("cellpy_IFE_BTS85_2_9_8_1.ndax", "2026-02-27T11:17:33+01:00", 3600),
])
def test_start_time_local_clock_gets_its_utc_offset_from_the_unix_time(name, start, offset):
    """Regression: start_time was the local wall clock without a zone, read as UTC it was
    7198 s (BIG) and 3599 s (IFE) after the file's own Unix Time."""
    record, _ = _read(name)
    meta = record.metadata
    assert meta["start_time"] == start and meta["utc_offset_s"] == offset
    assert meta["timezone"] == f"UTC+0{offset // 3600}:00"
    first = record.columns[UNIX_TIME][0] - record.time[0]
    assert unix_seconds_of(meta["start_time"]) == pytest.approx(first, abs=5)
    # negative control: the zone-less start the reader used to give is hours off
    naive = unix_seconds_of(meta["start_time"][:19])
    assert abs(naive - first) > offset - 5


def test_a_start_the_library_gives_in_utc_is_kept_with_the_local_offset_unknown():
    record, _ = _read(CCCV)
    meta = record.metadata
    assert meta["start_time"] == "2024-05-27T08:02:48.782+00:00"
    assert "utc_offset_s" not in meta and "local offset is unknown" in meta["timezone"]
    first = record.columns[UNIX_TIME][0] - record.time[0]
    assert unix_seconds_of(meta["start_time"]) == pytest.approx(first, abs=10)


def test_clock_offsets_west_of_greenwich_quarter_hours_and_what_it_will_not_guess():
    utc = datetime(2024, 1, 2, 15, 0, 3, tzinfo=UTC).timestamp()  # 3 s of logging delay
    columns = {UNIX_TIME: np.array([utc + 10.0]), TIME: np.array([10.0])}
    assert _clock({"start_time": "2024-01-02T10:00:00"}, columns) == {
        "start_time": "2024-01-02T10:00:00-05:00", "utc_offset_s": -18000,
        "timezone": "UTC-05:00"}
    assert _clock({"start_time": "2024-01-02T20:45:00"}, columns)["utc_offset_s"] == 20700
    # 8 minutes is no time zone, nor is it a few seconds from one: not guessed
    odd = _clock({"start_time": "2024-01-02T15:08:00"}, columns)
    assert odd["timezone"].startswith(ZONE_UNKNOWN) and "start_time" not in odd
    # fastnda makes nda 1/3/4 Unix time from the local start: nothing to compare with
    derived = {"start_time": "2024-01-02T10:00:00", "engine": "fastnda 1.3.1",
               "file_version": "nda 3"}
    assert _clock(derived, columns) == {"timezone": ZONE_UNKNOWN}
    # no start at all: the first record's Unix time, in UTC
    assert _clock({}, columns)["start_time"] == "2024-01-02T15:00:03+00:00"
    assert _clock({"start_time": "2024-01-02T10:00:00"}, {TIME: np.array([0.0])}) == {
        "timezone": ZONE_UNKNOWN}


@pytest.mark.parametrize("name", [CCCV, PULSE, "navani_test.ndax", "navani_test.nda"])
def test_fallback_to_newarenda_gives_the_same_record(name, monkeypatch):
    fastnda = pytest.importorskip("fastnda")
    reference, _ = _read(name, "fastnda")

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(fastnda, "read", broken)
    (fallback,) = NewareNdaReader().read(_path(name))
    assert fallback.metadata["engine"].startswith("NewareNDA")
    assert "not read by fastnda: RuntimeError: simulated failure" in \
        fallback.metadata["reader_notes"][0]
    assert set(fallback.columns) == set(reference.columns)
    for column, values in reference.columns.items():
        if values.dtype.kind in "iuU":
            np.testing.assert_array_equal(fallback.columns[column], values, err_msg=column)
        elif column in (TIME, STEP_TIME):
            np.testing.assert_allclose(fallback.columns[column], values, atol=0.02,
                                       err_msg=column)
        else:
            np.testing.assert_allclose(fallback.columns[column], values, rtol=F32, atol=1e-9,
                                       err_msg=column)


def test_both_engines_failing_names_both(monkeypatch):
    fastnda = pytest.importorskip("fastnda")
    NewareNDA = pytest.importorskip("NewareNDA")
    monkeypatch.setattr(fastnda, "read", lambda *a, **k: 1 / 0)
    monkeypatch.setattr(NewareNDA, "read", lambda *a, **k: {}["Status"])
    path = _path("navani_test.nda")
    with pytest.raises(InputError, match=r"fastnda: ZeroDivisionError.*newarenda: KeyError"):
        NewareNdaReader().read(path)
    with pytest.raises(InputError, match="newarenda: KeyError") as info:
        NewareNdaReader().read(path, engine="newarenda")
    assert str(path) in str(info.value)


def test_synthetic_pulse_step_gets_both_counters(monkeypatch):
    """A fake fastnda table: one pulse step alternating +2 mA and -1 mA, 1 s records."""
    fastnda = pytest.importorskip("fastnda")
    polars = pytest.importorskip("polars")
    n = 200
    current = np.where(np.arange(n) % 20 < 10, 2.0, -1.0)  # mA, held over the second before
    current[0] = 0.0
    net = np.cumsum(current) / 3600  # mAh, the signed per-step counter fastnda writes
    frame = polars.DataFrame({
        "index": np.arange(1, n + 1, dtype=np.uint32), "voltage_V": np.full(n, 3.7, np.float32),
        "current_mA": current.astype(np.float32), "unix_time_s": 1.7e9 + np.arange(n, dtype=float),
        "step_time_s": np.arange(n, dtype=float), "total_time_s": np.arange(n, dtype=float),
        "cycle_count": np.ones(n, np.uint32), "step_count": np.ones(n, np.uint32),
        "step_index": np.ones(n, np.uint32), "step_type": np.full(n, 16, np.uint8),
        "capacity_mAh": net, "energy_mWh": net * 3.7,
    })
    monkeypatch.setattr(fastnda, "read", lambda *a, **k: frame)
    (record,) = NewareNdaReader().read(_path("navani_test.nda"), engine="fastnda")
    charged = current.clip(min=0).sum() / 3600 * 1e-3  # Ah: 100 s at 2 mA
    discharged = -current.clip(max=0).sum() / 3600 * 1e-3  # 100 s at 1 mA
    assert record.columns[CHARGE_CAPACITY][-1] == pytest.approx(charged, rel=1e-12)
    assert record.columns[DISCHARGE_CAPACITY][-1] == pytest.approx(discharged, rel=1e-12)
    assert record.columns[CHARGE_ENERGY][-1] == pytest.approx(charged * 3.7, rel=1e-12)
    # negative control: splitting the net counter by its sign loses most of both
    by_sign = net.clip(min=0)[-1] * 1e-3
    assert by_sign != pytest.approx(charged, rel=0.1)
    assert set(record.columns[STEP_TYPE]) == {"Pulse"}
    # an nda version fastnda finds no start time in has no Unix time: none is made up
    monkeypatch.setattr(fastnda, "read", lambda *a, **k: frame.drop("unix_time_s"))
    (bare,) = NewareNdaReader().read(_path("navani_test.nda"), engine="fastnda")
    assert UNIX_TIME not in bare.columns
    assert bare.metadata["start_time"] == "2020-03-25T11:16:21"
    assert bare.metadata["timezone"] == ZONE_UNKNOWN and "utc_offset_s" not in bare.metadata


def test_content_not_the_name_decides(tmp_path):
    renamed = tmp_path / "channel 7.bin"
    renamed.write_bytes(_path("navani_test.ndax").read_bytes())
    (record,) = ssbkit.read(renamed)
    assert len(record) == 1464 and record.metadata["file"] == "channel 7.bin"


def test_options_are_checked():
    with pytest.raises(InputError, match="engine: must be one of auto, fastnda, newarenda"):
        NewareNdaReader().read(_path("navani_test.nda"), engine="fast")
    with pytest.raises(InputError, match="takes no option 'cycle_mode'"):
        NewareNdaReader().read(_path("navani_test.nda"), cycle_mode="chg")


# ----------------------------------------------------------------------------- bad files


def test_truncated_nda_is_an_input_error_naming_the_file(tmp_path):
    cut = tmp_path / "cut.nda"
    cut.write_bytes(_path("navani_test.nda").read_bytes()[:1000])
    for read in (ssbkit.read, NewareNdaReader().read):
        with pytest.raises(InputError, match="cannot read this Neware .nda file of 1000 bytes") \
                as info:
            read(cut)
        assert str(cut) in str(info.value)


def test_truncated_ndax_is_an_input_error(tmp_path):
    cut = tmp_path / "cut.ndax"
    cut.write_bytes(_path("navani_test.ndax").read_bytes()[:20000])
    with pytest.raises(InputError, match="cannot be opened, truncated or damaged") as info:
        NewareNdaReader().read(cut)
    assert str(cut) in str(info.value)
    with pytest.raises(InputError, match="no installed reader recognises"):
        ssbkit.read(cut)


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.nda"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="the file is empty"):
        NewareNdaReader().read(empty)
    with pytest.raises(InputError) as info:
        ssbkit.read(empty)
    assert str(empty) in str(info.value)


def test_zip_without_neware_members_is_not_claimed(tmp_path):
    other = tmp_path / "other.ndax"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "hello")
        archive.writestr("data.ndc", b"\x01\x00\x0e")  # a data file alone is not enough
    with pytest.raises(InputError, match=r"zip archive without Neware members \(it holds "
                                         r"data.ndc, notes.txt") as info:
        NewareNdaReader().read(other)
    assert str(other) in str(info.value)
    with pytest.raises(InputError, match="no installed reader recognises"):
        ssbkit.read(other)
    workbook = tmp_path / "book.xlsx"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert not NewareNdaReader().sniff(workbook, workbook.read_bytes()[:65536])


def test_sniff_never_raises(tmp_path):
    missing = tmp_path / "missing.ndax"
    assert NewareNdaReader().sniff(missing, b"PK\x03\x04 not really") is False
    assert NewareCsvReader().sniff(missing, b"\xff\xfe\x00garbage") is False


# ----------------------------------------------------------------------------- BTSDA CSV

CSV = "cellpy_neware_uio.csv"


def test_csv_export_values_by_hand():
    path = _path(CSV)
    assert find_reader(path) is NewareCsvReader
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (record,) = ssbkit.read(path)
    assert not caught and len(record) == 9065
    c = record.columns
    # file line 1502: 1501,1,2,CC DChg,09:47:00,21:47:00,-0.00024868,0.1760,0.00243294,...
    row = 1500
    assert c["DataPoint"][row] == 1501 and c[CYCLE][row] == 1 and c[STEP_INDEX][row] == 2
    assert c[STEP_TYPE][row] == "CC_DChg"
    assert c[STEP_TIME][row] == 9 * 3600 + 47 * 60 and c[TIME][row] == 21 * 3600 + 47 * 60
    assert c[CURRENT][row] == -0.00024868 and c[VOLTAGE][row] == 0.1760
    assert c[DISCHARGE_CAPACITY][row] == 0.00243294 and c[CHARGE_CAPACITY][row] == 0
    assert c[DISCHARGE_ENERGY][row] == 0.00060486
    assert c[UNIX_TIME][row] == datetime(2022, 5, 19, 14, 14, 48, tzinfo=UTC).timestamp()
    # the last line: Cumulative Time 144:02:18
    assert c[TIME][-1] == 144 * 3600 + 2 * 60 + 18
    assert np.all(np.diff(record.time) >= 0)
    assert c[STEP_COUNT].max() == 32
    # mass from another row than the reader used: 2.41983 mAh at 1163.38 mAh/g (line 3002)
    assert record.metadata["active_mass_mg"] == pytest.approx(2.41983 / 1163.38 * 1e3, rel=1e-4)
    # line 2: Cumulative Time 00:00:00, Date 2022-05-18 16:27:52, local time of no known zone
    assert record.metadata["start_time"] == "2022-05-18T16:27:52"
    assert record.metadata["timezone"] == ZONE_UNKNOWN


def test_csv_counters_agree_with_the_current_integral():
    (record,) = NewareCsvReader().read(_path(CSV))
    ends = _step_ends(record)
    starts = np.r_[0, ends[:-1] + 1]
    net = record.columns[CHARGE_CAPACITY] - record.columns[DISCHARGE_CAPACITY]
    checked = 0
    for a, b in zip(starts, ends + 1, strict=True):
        if b - a < 20 or net[b - 1] == 0:
            continue
        integral = np.trapezoid(record.current[a:b], record.time[a:b]) / 3600
        assert integral == pytest.approx(net[b - 1], rel=5e-3)
        checked += 1
    assert checked == 16


def _write_btsda8(path, voltage="3.0"):
    path.write_text(
        "Record ID,Cycle ID,Step ID,Step Type,Time(h:min:s.ms),Realtime,Current(mA),"
        "Voltage(V),Capacitance_Chg(mAh),Capacitance_DChg(mAh),Engy_Chg(mWh),Engy_DChg(mWh),"
        "DCIR(O)\n"
        f"1,1,1,CC Chg,0:00:00.000,2024-01-02 03:04:05,10.0,{voltage},0,0,0,0,0\n"
        "2,1,1,CC Chg,0:00:30.500,2024-01-02 03:04:35.500,10.0,3.1,0.0847,0,0.26,0,0\n"
        "3,1,2,CC DChg,0:00:01.000,2024-01-02 03:04:36.500,-5.0,3.0,0,0.0014,0,0.004,0\n",
        encoding="utf-8")
    return path


def test_csv_btsda8_spelling_with_milliamps(tmp_path):
    path = _write_btsda8(tmp_path / "btsda8.csv")
    assert find_reader(path) is NewareCsvReader
    (record,) = ssbkit.read(path)
    c = record.columns
    np.testing.assert_allclose(c[TIME], [0.0, 30.5, 31.5])
    np.testing.assert_allclose(c[STEP_TIME], [0.0, 30.5, 1.0])
    np.testing.assert_allclose(c[CURRENT], [0.01, 0.01, -0.005])
    np.testing.assert_allclose(c[CHARGE_CAPACITY], [0, 8.47e-5, 0])
    np.testing.assert_allclose(c[DISCHARGE_ENERGY], [0, 0, 4e-6])
    assert list(c[STEP_TYPE]) == ["CC_Chg", "CC_Chg", "CC_DChg"]
    assert list(c[STEP_COUNT]) == [1, 1, 2]


def test_csv_bad_cells_and_missing_columns(tmp_path):
    with pytest.raises(InputError, match=r"column 'Voltage\(V\)' holds 'abc' at row 0"):
        NewareCsvReader().read(_write_btsda8(tmp_path / "bad.csv", voltage="abc"))
    header_only = tmp_path / "header.csv"
    header_only.write_text("DataPoint,Step Index,Chg. Cap.(Ah),Current(A),Voltage(V)\n")
    with pytest.raises(InputError, match="no data rows"):
        NewareCsvReader().read(header_only)
    no_voltage = tmp_path / "novoltage.csv"
    no_voltage.write_text("DataPoint,Step Index,Cumulative Time,Current(A),Chg. Cap.(Ah)\n"
                          "1,1,00:00:00,0.1,0\n2,1,00:00:10,0.1,0.0003\n")
    with pytest.raises(InputError, match="no 'Voltage / V' column") as info:
        ssbkit.read(no_voltage)
    assert str(no_voltage) in str(info.value)
    other = tmp_path / "other.csv"
    other.write_text("time,voltage\n0,1\n")
    with pytest.raises(InputError, match="not a Neware BTSDA export"):
        NewareCsvReader().read(other)
