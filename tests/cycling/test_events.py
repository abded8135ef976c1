"""Events on the cycling record: cycle, step, kind, voltage, SOC and depth at given times.

Truth: hand-made constant-current records whose state of charge at any moment is known in
closed form (1 mA for an hour passes 1 mAh), and a real Neware file whose per-step counters
give the SOC of every row directly.
"""

import json
import math

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.cycling import CyclingRecord, find_steps
from ssbkit.cycling.data import CHARGE_CAPACITY, CURRENT, DISCHARGE_CAPACITY, TIME, UNIX_TIME, VOLTAGE
from ssbkit.cycling.events import (
    EventTable,
    absolute_time,
    place_events,
    unix_seconds_of,
    utc_offset,
)
from ssbkit.testing import shared_data

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
MA = 1e-3  # A


def build(segments, *, dt=60.0, unix=True, metadata=None, counters=None):
    """A record of constant-current segments ``(current [A], duration [s])``, one row every
    ``dt``; each segment's first row repeats the time of the previous one's last row, so the
    switch takes no time and the charge of each segment is exactly current × duration.
    The voltage rises linearly with time (1 V + 0.1 mV/s), so interpolation is exact."""
    times, currents = [], []
    t0 = 0.0
    for current, duration in segments:
        t = t0 + np.arange(0.0, duration + dt / 2, dt)
        times.append(t)
        currents.append(np.full(t.size, current))
        t0 = t[-1]
    t = np.concatenate(times)
    columns = {TIME: t, VOLTAGE: 1.0 + 1e-4 * t, CURRENT: np.concatenate(currents)}
    if unix:
        columns[UNIX_TIME] = START + t
    if counters is not None:
        columns.update(counters(t, columns[CURRENT]))
    return CyclingRecord.from_columns(columns, metadata=metadata, source="hand-made")


# three cycles: 1 h charge, 10 min rest, 1 h discharge, 10 min rest, each at 1 mA
CYCLE = [(MA, 3600.0), (0.0, 600.0), (-MA, 3600.0), (0.0, 600.0)]
PERIOD = 8400.0


def test_soc_and_depth_at_known_times_on_a_constant_current_record():
    rec = build(CYCLE * 3)
    base = PERIOD  # cycle 2
    times = base + np.array([0.0, 900.0, 1800.0, 3600.0, 3900.0, 4200.0 + 900.0, 4200.0 + 2700.0,
                             7800.0, 8100.0])
    ev = place_events(rec, times, time_base="test")
    assert ev.cycle.tolist() == [1, 2, 2, 2, 2, 2, 2, 2, 2]  # the switch instant ends cycle 1
    np.testing.assert_allclose(ev.soc, [0.0, 0.25, 0.5, 1.0, 1.0, 0.75, 0.25, 0.0, 0.0], atol=1e-12)
    # 1 mA for 900 s passes 0.25 mAh
    np.testing.assert_allclose(ev.depth, [1.0, 0.25, 0.5, 1.0, 1.0, 0.25, 0.75, 1.0, 1.0], atol=1e-12)
    assert ev.kind.tolist() == ["rest", "charging", "charging", "charging", "rest", "discharging",
                                "discharging", "discharging", "rest"]
    np.testing.assert_allclose(ev.voltage, 1.0 + 1e-4 * times, rtol=1e-12)
    assert ev.inside.all() and ev.outside == 0 and ev.success and ev.message == ""


def test_events_between_rows_are_interpolated():
    rec = build(CYCLE, dt=600.0)
    ev = place_events(rec, [150.0, 1234.5, 4200.0 + 61.0], time_base="test")
    np.testing.assert_allclose(ev.soc, [150 / 3600, 1234.5 / 3600, 1 - 61 / 3600], rtol=1e-12)
    np.testing.assert_allclose(ev.voltage, 1.0 + 1e-4 * np.array([150.0, 1234.5, 4261.0]), rtol=1e-12)


def test_soc_is_relative_to_each_cycles_own_capacities():
    # cycle 1 charges 2 mAh and discharges 1.5 mAh; cycle 2 charges 1 mAh and discharges 1 mAh
    rec = build([(MA, 7200.0), (-MA, 5400.0), (MA, 3600.0), (-MA, 3600.0)])
    ev = place_events(rec, [3600.0, 7200.0 + 2700.0, 12600.0 + 1800.0, 16200.0 + 900.0],
                      time_base="test")
    assert ev.cycle.tolist() == [1, 1, 2, 2]
    np.testing.assert_allclose(ev.soc, [0.5, 0.5, 0.5, 0.75], atol=1e-12)
    np.testing.assert_allclose(ev.depth, [1.0, 0.75, 0.5, 0.25], atol=1e-12)


def test_a_leading_rest_and_a_leading_discharge():
    rest_first = place_events(build([(0.0, 600.0), *CYCLE]), [300.0, 600.0 + 1800.0], time_base="test")
    np.testing.assert_allclose(rest_first.soc, [0.0, 0.5], atol=1e-12)
    assert rest_first.kind.tolist() == ["rest", "charging"]
    # charge-first: a leading discharge is cycle 1 on its own, and starts charged
    ev = place_events(build([(-MA, 1800.0), (MA, 3600.0), (-MA, 3600.0)]), [450.0, 1800.0 + 900.0],
                      time_base="test")
    assert ev.cycle.tolist() == [1, 2]
    # 0.125 of its 0.5 mAh discharged leaves 0.75; a quarter of cycle 2's charge gives 0.25
    np.testing.assert_allclose(ev.soc, [0.75, 0.25], atol=1e-12)


def test_steps_are_numbered_as_find_steps_numbers_them():
    rec = build(CYCLE * 2)
    steps = find_steps(rec)
    middles = 0.5 * (steps.start_time + steps.end_time)
    ev = place_events(rec, middles, time_base="test")
    assert ev.step.tolist() == steps.step.tolist()
    assert ev.kind.tolist() == ["charging", "rest", "discharging", "rest"] * 2


def test_unix_times_from_the_unix_column_or_from_start_time_agree():
    with_column = build(CYCLE)
    with_start = build(CYCLE, unix=False, metadata={"start_time": "2023-11-14T22:13:20Z"})
    times = START + np.array([900.0, 5100.0])
    a = place_events(with_column, times)
    b = place_events(with_start, times)
    np.testing.assert_allclose(a.soc, [0.25, 0.75], atol=1e-12)
    np.testing.assert_allclose(b.soc, a.soc, atol=1e-12)
    np.testing.assert_allclose(a.test_time, [900.0, 5100.0])
    # date-times are read as UTC where they carry no zone
    c = place_events(with_column, ["2023-11-14T22:28:20", "2023-11-14 23:28:20+01:00"])
    np.testing.assert_allclose(c.test_time, [900.0, 900.0])
    np.testing.assert_allclose(absolute_time(with_start), absolute_time(with_column))


def test_times_outside_the_record_are_flagged_not_dropped():
    rec = build(CYCLE)
    ev = place_events(rec, [-5.0, 1800.0, 9000.0], time_base="test")
    assert ev.inside.tolist() == [False, True, False] and ev.outside == 2
    assert math.isnan(ev.soc[0]) and math.isnan(ev.voltage[2]) and ev.cycle[0] == -1
    assert ev.kind.tolist() == ["", "charging", ""]
    assert "2 of 3 events" in ev.message
    frame = ev.to_frame()
    assert frame["cycle"].isna().tolist() == [True, False, True]
    document = json.loads(json.dumps(ev.to_dict(), allow_nan=False))
    assert document["events"][0]["cycle"] is None and document["events"][1]["cycle"] == 1
    assert document["events"][1]["soc"] == pytest.approx(0.5)


def test_a_record_that_starts_partway_through_a_charge_counts_what_its_counter_held():
    def counters(t, current):
        # the charge counter already holds 0.5 mAh at the first row (the file starts late)
        charge = 0.5e-3 + np.cumsum(np.r_[0.0, np.diff(t)] * np.maximum(current, 0)) / 3600
        return {CHARGE_CAPACITY: np.where(current > 0, charge, 0.0),
                DISCHARGE_CAPACITY: np.where(current < 0, np.cumsum(
                    np.r_[0.0, np.diff(t)] * np.where(current < 0, -current, 0.0)) / 3600, 0.0)}

    rec = build([(MA, 3600.0), (-MA, 3600.0)], counters=counters)
    ev = place_events(rec, [0.0, 1800.0, 3600.0], time_base="test")
    # 1.5 mAh charged in all: 0.5 before the file began
    np.testing.assert_allclose(ev.soc, [0.5 / 1.5, 1.0 / 1.5, 1.0], atol=1e-12)


def test_labels_and_table():
    ev = place_events(build(CYCLE), [900.0, 1800.0], time_base="test")
    assert isinstance(ev, EventTable) and len(ev) == 2
    labels = ev.labels()
    assert labels["state of charge [%]"] == pytest.approx([25.0, 50.0])
    assert labels["cycle"] == [1, 1]
    frame = ev.to_frame()
    assert list(frame.columns) == ["test time [s]", "cycle", "step", "step kind", "voltage [V]",
                                   "state of charge", "depth [mAh]", "inside"]
    assert "cycle 1" in ev.report()


@pytest.mark.parametrize(("times", "options", "source"), [
    ([1.0], {"time_base": "clock"}, "time_base"),
    ([1.0, float("nan")], {"time_base": "test"}, "times"),
    (["not a time"], {}, "times"),
    ([[1.0, 2.0]], {"time_base": "test"}, "times"),
    ([1.0], {"convention": "anode"}, "convention"),
    ([1.0], {"time_base": "test", "rest_current_a": -1}, "rest_current_a"),
])
def test_bad_arguments_name_themselves(times, options, source):
    with pytest.raises(InputError) as info:
        place_events(build(CYCLE), times, **options)
    assert info.value.source == source


def test_absolute_times_need_an_absolute_clock():
    rec = build(CYCLE, unix=False)
    with pytest.raises(InputError, match="no absolute time") as info:
        place_events(rec, [START])
    assert info.value.source == "hand-made"
    assert place_events(rec, [60.0], time_base="test").inside.all()
    with pytest.raises(InputError):
        place_events("a record", [1.0])


def test_unix_seconds_of():
    assert unix_seconds_of("1970-01-02") == 86400.0
    assert unix_seconds_of(12.5) == 12.5
    with pytest.raises(InputError):
        unix_seconds_of("yesterday")


@pytest.mark.shared_data
def test_soc_on_a_real_neware_file_follows_its_own_step_counters():
    from ssbkit.io import read_cycling

    rec = read_cycling(shared_data("cycling", "neware", "navani_test.ndax"))
    steps = find_steps(rec)
    charge, discharge = (np.flatnonzero(steps.kind == k)[0] for k in ("cccv_charge", "cccv_discharge"))
    rows_c = np.arange(steps.start_row[charge], steps.stop_row[charge])
    rows_d = np.arange(steps.start_row[discharge], steps.stop_row[discharge])
    counter_c = rec.column(CHARGE_CAPACITY)[rows_c]
    counter_d = rec.column(DISCHARGE_CAPACITY)[rows_d]
    # the cycler's own per-step counters, normalised by their final values, are the SOC
    ev = place_events(rec, rec.column(UNIX_TIME)[np.r_[rows_c, rows_d]])
    expected = np.r_[counter_c / counter_c[-1], 1 - counter_d / counter_d[-1]]
    np.testing.assert_allclose(ev.soc, expected, atol=1e-9)
    # a step's first row shares its time with the previous step's last row, where an event
    # belongs to the earlier step; every later row is in the step
    assert (ev.kind[1: rows_c.size] == "charging").all()
    assert (ev.kind[rows_c.size + 1:] == "discharging").all()


def test_a_cycler_clock_set_back_by_seconds_is_held_flat_but_not_by_an_hour():
    rec = build(CYCLE)
    unix = START + rec.time.copy()
    unix[10:] -= 2.0  # a network time correction
    stepped = CyclingRecord.from_columns({**rec.columns, UNIX_TIME: unix}, source="stepped")
    absolute = absolute_time(stepped)
    assert (np.diff(absolute) >= 0).all() and absolute[-1] == unix[-1]
    assert place_events(stepped, [START + 1798.0]).soc[0] == pytest.approx(0.5, abs=1e-12)
    unix[20:] -= 3600.0  # 60 s after the row before: 3540 s back
    put_back = CyclingRecord.from_columns({**rec.columns, UNIX_TIME: unix}, source="put back")
    with pytest.raises(InputError, match="goes back 3540 s at row 20"):
        absolute_time(put_back)
    with_start = CyclingRecord.from_columns({**rec.columns, UNIX_TIME: unix}, source="put back",
                                            metadata={"start_time": "2023-11-14T22:13:20Z"})
    np.testing.assert_allclose(absolute_time(with_start), START + rec.time)


def test_a_local_start_time_is_moved_to_utc_by_the_recorded_offset():
    """Regression: a zone-less local start time (utc_offset_s in the metadata) was read as UTC,
    two hours off for a cycler in central European summer time."""
    local = {"start_time": "2023-11-15T00:13:20", "utc_offset_s": 7200}  # START in UTC+02:00
    rec = build(CYCLE, unix=False, metadata=local)
    assert utc_offset(rec) == 7200.0
    np.testing.assert_allclose(absolute_time(rec), START + rec.time)
    # a start that carries its zone is not moved twice; without an offset, zone-less is UTC
    zoned = build(CYCLE, unix=False, metadata={"start_time": "2023-11-15T00:13:20+02:00",
                                               "utc_offset_s": 7200})
    np.testing.assert_allclose(absolute_time(zoned), START + rec.time)
    bare = build(CYCLE, unix=False, metadata={"start_time": "2023-11-15T00:13:20"})
    assert utc_offset(bare) is None
    np.testing.assert_allclose(absolute_time(bare), START + 7200 + rec.time)
    with pytest.raises(InputError, match="utc_offset_s"):
        absolute_time(build(CYCLE, unix=False, metadata={**local, "utc_offset_s": "2 h"}))


@pytest.mark.shared_data
def test_a_neware_start_time_agrees_with_its_unix_time_column():
    # the reader writes the local start with its offset (+02:00); both clocks then agree
    from ssbkit.io import read_cycling

    rec = read_cycling(shared_data("cycling", "neware", "newarenda_issue60_BTS85.ndax"))
    start = unix_seconds_of(rec.metadata["start_time"])
    assert abs(start - absolute_time(rec)[0]) < 5.0  # was 7198 s read as UTC


def test_the_table_is_frozen_however_it_was_built():
    """Regression: an EventTable built directly kept the caller's writable arrays."""
    times = np.array([1.0, 2.0])
    table = EventTable(time=times, time_base="test", test_time=times, cycle=[1, 1], step=[1, 1],
                       kind=["rest", "rest"], voltage=[3.0, 3.0], soc=[0.0, 0.0],
                       depth=[0.0, 0.0], inside=[True, True])
    before = table.to_dict()
    times[0] = 99.0
    with pytest.raises(ValueError, match="read-only"):
        table.soc[0] = 1.0
    placed = place_events(build(CYCLE), [900.0], time_base="test")
    with pytest.raises(ValueError, match="read-only"):
        placed.voltage[0] = 0.0
    frame = placed.to_frame()
    frame.loc[0, "voltage [V]"] = 0.0
    assert table.to_dict() == before and placed.voltage[0] != 0.0
