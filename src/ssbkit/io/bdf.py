"""Battery Data Format (BDF) CSV: the Battery Data Alliance's interchange table.

A BDF file is a CSV whose first row names each column by its BDF label, ``Name / unit``
(``Test Time / s``, ``Voltage / V``, ``Current / A``, ``Cycle Count / 1``, ``Charging
Capacity / Ah`` …), or by its machine-readable name (``test_time_second``,
``voltage_volt``, ``current_ampere``, ``cycle_count``, ``charging_capacity_ah`` …). Both
spellings are read; ``CyclingRecord`` keeps the labels, so a record written with
``CyclingRecord.to_bdf_csv`` reads back with the same columns.

Mapping to the record (``_QUANTITIES``):

- the charge and discharge counters come from ``Charging``/``Discharging Capacity``, else
  the per-step or per-cycle variants (``Step Charging Capacity / Ah``), else from the
  signed ``Step Net Capacity / Ah`` (its rises are charge, its falls discharge), likewise
  the energies;
- ``Step Index / 1`` (what navani and fastnda write for the program step) and the newer
  ``Step ID`` are the program step;
- every other BDF quantity (``Power / W``, ``Temperature T1 / degC``, ``Net Capacity / Ah``
  …) is kept under its label, and a machine-named file has those renamed to labels too.

Units are fixed in BDF, but a file that writes another unit of the same quantity
(``Current / mA``, ``test_time_millisecond``) is converted; a unit ssbkit does not know,
or one of another quantity, is an ``InputError`` naming line 1 and the column.

A file is claimed by its BDF time column and one electrical quantity (voltage, current
or a capacity counter), so a BDF table that lacks voltage or current is still this
reader's and the error names the column it lacks. A last line cut short (fewer values, or
an empty time, voltage or current cell: ``2,3.2,``) is dropped and noted in
``metadata["dropped"]``; an empty cell inside the table is a gap (NaN), as in the other
cycler readers.

Columns that are not BDF are kept as they are. Those that navani and datalab add to their
BDF exports (navani's ``state``, ``half cycle``, ``Capacity`` …, and the Arbin channel
columns it passes through) are known and raise no warning; any other is named in one
``UnknownColumnWarning``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import UnsupportedFormatError
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
from ssbkit.io._build import check_options
from ssbkit.io._cycling import counters_from_net
from ssbkit.io._text import decode, read_text, split_fields
from ssbkit.io.cycler_text import (
    build_record,
    head_lines,
    read_table,
    step_count,
    unique_names,
    unit_factor,
)

__all__ = ["BDF_LABELS", "BdfCsvReader"]

# BDF label (name part, lower case) -> (its unit, quantity of that unit, machine name).
# From the Battery Data Alliance's BDF vocabulary (ontology 1.3), plus the legacy labels
# that published files still carry (Step Index, Step Capacity, Step Energy).
_QUANTITIES: dict[str, tuple[str, str, str]] = {
    "Test Time": ("s", "time", "test_time_second"),
    "Unix Time": ("s", "time", "unix_time_second"),
    "Step Time": ("s", "time", "step_time_second"),
    "Voltage": ("V", "voltage", "voltage_volt"),
    "Current": ("A", "current", "current_ampere"),
    "Cycle Count": ("1", "count", "cycle_count"),
    "Step Count": ("1", "count", "step_count"),
    "Step Index": ("1", "count", "step_index"),
    "Record Index": ("1", "count", "record_index"),
    "Step Record Index": ("1", "count", "step_record_index"),
    "Charging Capacity": ("Ah", "charge", "charging_capacity_ah"),
    "Discharging Capacity": ("Ah", "charge", "discharging_capacity_ah"),
    "Net Capacity": ("Ah", "charge", "net_capacity_ah"),
    "Cumulative Capacity": ("Ah", "charge", "cumulative_capacity_ah"),
    "Step Capacity": ("Ah", "charge", "step_capacity_ah"),
    "Step Charging Capacity": ("Ah", "charge", "step_charging_capacity_ah"),
    "Step Discharging Capacity": ("Ah", "charge", "step_discharging_capacity_ah"),
    "Step Net Capacity": ("Ah", "charge", "step_net_capacity_ah"),
    "Step Cumulative Capacity": ("Ah", "charge", "step_cumulative_capacity_ah"),
    "Cycle Charging Capacity": ("Ah", "charge", "cycle_charging_capacity_ah"),
    "Cycle Discharging Capacity": ("Ah", "charge", "cycle_discharging_capacity_ah"),
    "Cycle Net Capacity": ("Ah", "charge", "cycle_net_capacity_ah"),
    "Cycle Cumulative Capacity": ("Ah", "charge", "cycle_cumulative_capacity_ah"),
    "Schedule Charging Capacity": ("Ah", "charge", "schedule_charging_capacity_ah"),
    "Schedule Discharging Capacity": ("Ah", "charge", "schedule_discharging_capacity_ah"),
    "Charging Energy": ("Wh", "energy", "charging_energy_wh"),
    "Discharging Energy": ("Wh", "energy", "discharging_energy_wh"),
    "Net Energy": ("Wh", "energy", "net_energy_wh"),
    "Cumulative Energy": ("Wh", "energy", "cumulative_energy_wh"),
    "Step Energy": ("Wh", "energy", "step_energy_wh"),
    "Step Charging Energy": ("Wh", "energy", "step_charging_energy_wh"),
    "Step Discharging Energy": ("Wh", "energy", "step_discharging_energy_wh"),
    "Step Net Energy": ("Wh", "energy", "step_net_energy_wh"),
    "Step Cumulative Energy": ("Wh", "energy", "step_cumulative_energy_wh"),
    "Cycle Charging Energy": ("Wh", "energy", "cycle_charging_energy_wh"),
    "Cycle Discharging Energy": ("Wh", "energy", "cycle_discharging_energy_wh"),
    "Cycle Net Energy": ("Wh", "energy", "cycle_net_energy_wh"),
    "Cycle Cumulative Energy": ("Wh", "energy", "cycle_cumulative_energy_wh"),
    "Schedule Charging Energy": ("Wh", "energy", "schedule_charging_energy_wh"),
    "Schedule Discharging Energy": ("Wh", "energy", "schedule_discharging_energy_wh"),
    "Ambient Temperature": ("degC", "temperature", "ambient_temperature_celsius"),
    "Surface Temperature": ("degC", "temperature", "surface_temperature_celsius"),
    **{f"Temperature T{i}": ("degC", "temperature", f"temperature_t{i}_celsius")
       for i in range(1, 6)},
    **{f"Surface Temperature T{i}": ("degC", "temperature", f"temperature_t{i}_celsius")
       for i in range(1, 6)},
    "Applied Pressure": ("Pa", "pressure", "applied_pressure_pa"),
    "Ambient Pressure": ("Pa", "pressure", "ambient_pressure_pa"),
    "Surface Pressure": ("Pa", "pressure", "surface_pressure_pa"),
}
_UNITLESS = {"Step Type": "step_type", "Step ID": "step_id"}
# Units of labels outside the quantities above that ssbkit passes through unconverted.
_OTHER_LABELS = {"Power / W": "power_watt", "Internal Resistance / ohm": "internal_resistance_ohm",
                 "AC Internal Resistance / ohm": "ac_internal_resistance_ohm",
                 "DC Internal Resistance / ohm": "dc_internal_resistance_ohm",
                 "Frequency / Hz": "frequency_hertz", "Real Impedance / ohm": "real_impedance_ohm",
                 "Imaginary Impedance / ohm": "imaginary_impedance_ohm",
                 "Absolute Impedance / ohm": "absolute_impedance_ohm",
                 "Phase / deg": "phase_degree"}

#: every BDF label this reader knows, by machine-readable name
BDF_LABELS: dict[str, str] = {
    **{machine: f"{name} / {unit}" for name, (unit, _, machine) in _QUANTITIES.items()
       if not name.startswith("Surface Temperature T")},
    **{machine: name for name, machine in _UNITLESS.items()},
    **{machine: label for label, machine in _OTHER_LABELS.items()},
}
# machine names that state a unit other than BDF's: name -> (label, factor)
_MACHINE_VARIANTS = {
    "test_time_millisecond": ("Test Time / s", 1e-3),
    "unix_time_millisecond": ("Unix Time / s", 1e-3),
    "date_time_millisecond": ("Unix Time / s", 1e-3),
    "step_time_millisecond": ("Step Time / s", 1e-3),
    "current_milliampere": ("Current / A", 1e-3),
    "voltage_millivolt": ("Voltage / V", 1e-3),
    "cycle_dimensionless": ("Cycle Count / 1", 1.0),
}
# label -> the record's column, in order of preference where several map to one
_TO_RECORD = {
    "Test Time / s": TIME, "Unix Time / s": UNIX_TIME, "Step Time / s": STEP_TIME,
    "Voltage / V": VOLTAGE, "Current / A": CURRENT, "Cycle Count / 1": CYCLE,
    "Step Count / 1": STEP_COUNT, "Step Index / 1": STEP_INDEX, "Step ID": STEP_INDEX,
    "Step Type": STEP_TYPE, "Ambient Temperature / degC": TEMPERATURE,
    "Applied Pressure / Pa": PRESSURE,
}
_COUNTERS = {
    CHARGE_CAPACITY: ("Charging Capacity / Ah", "Step Charging Capacity / Ah",
                      "Cycle Charging Capacity / Ah"),
    DISCHARGE_CAPACITY: ("Discharging Capacity / Ah", "Step Discharging Capacity / Ah",
                         "Cycle Discharging Capacity / Ah"),
    CHARGE_ENERGY: ("Charging Energy / Wh", "Step Charging Energy / Wh",
                    "Cycle Charging Energy / Wh"),
    DISCHARGE_ENERGY: ("Discharging Energy / Wh", "Step Discharging Energy / Wh",
                       "Cycle Discharging Energy / Wh"),
}
_NET = ((CHARGE_CAPACITY, DISCHARGE_CAPACITY, "Step Net Capacity / Ah"),
        (CHARGE_ENERGY, DISCHARGE_ENERGY, "Step Net Energy / Wh"))

# Columns navani/datalab add to their BDF exports, and the Arbin channel-table columns
# navani passes through from .res files: known passengers, kept without a warning.
_NAVANI = ("state", "cycle change", "half cycle", "full cycle", "Capacity", "Time", "Voltage",
           "Current", "Test_ID", "Test_Time", "Step_Time", "DateTime", "Step_Index",
           "Cycle_Index", "Is_FC_Data", "Charge_Capacity", "Discharge_Capacity",
           "Charge_Energy", "Discharge_Energy", "dV/dt", "Internal_Resistance", "AC_Impedance",
           "ACI_Phase_Angle", "Data_Point")

# names that make a BDF time column a cycling table (a time and a pressure alone may be a
# stack-pressure log, which is the pressure reader's)
_MEASURED = ("Voltage / ", "voltage_", "Current / ", "current_", "Charging Capacity / ",
             "charging_capacity_", "Discharging Capacity / ", "discharging_capacity_")
_BY_LOWER_NAME = {name.lower(): name for name in _QUANTITIES}
_LABEL = re.compile(r"^(?P<name>[^/]*?)\s+/\s+(?P<unit>\S.*?)\s*$")


def _label(name: str, *, source: Path, column: int) -> tuple[str, float] | None:
    """(BDF label, factor to its unit) for a header cell, None for a non-BDF column."""
    if name in _UNITLESS or name in _OTHER_LABELS:
        return name, 1.0
    if name in _MACHINE_VARIANTS:
        return _MACHINE_VARIANTS[name]
    if name in BDF_LABELS:
        return BDF_LABELS[name], 1.0
    match = _LABEL.match(name)
    if match is None:
        return None
    quantity = _BY_LOWER_NAME.get(match["name"].lower())
    if quantity is None:
        return None
    unit, kind, _ = _QUANTITIES[quantity]
    factor = unit_factor(match["unit"], kind, column=name, source=source,
                         location=f"line 1, column {column}")
    return f"{quantity} / {unit}", factor


def _header(head: str) -> tuple[list[str], str] | None:
    first = head.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if not first:
        return None
    sep = max((",", ";", "\t"), key=first.count)
    return [f.strip().strip('"') for f in first.split(sep)], sep


class BdfCsvReader:
    """Battery Data Format CSV (``.bdf.csv``, ``.bdf``): BDF labels or machine names."""

    name = "bdf-csv"
    extensions = (".csv", ".bdf")
    techniques = frozenset({"cycling"})
    description = "Battery Data Format CSV (Test Time / s, Voltage / V, Current / A, …)"

    def sniff(self, path: Path, head: bytes) -> bool:
        found = _header(decode(head[:65536]))
        if found is None:
            return False
        names = set(found[0])
        timed = bool({"Test Time / s", "test_time_second", "test_time_millisecond"} & names)
        measured = any(n.startswith(_MEASURED) for n in names)
        # BDF time names and one electrical quantity are claim enough: a BDF file that lacks
        # voltage or current is still ours, and gets an error that says what it lacks
        return timed and measured

    def read(self, path: Path, **options: Any) -> list[CyclingRecord]:
        """One ``CyclingRecord``; no options."""
        check_options(self.name, options)
        path = Path(path)
        content = read_text(path)
        lines = head_lines(content, 1 << 16)
        found = _header(lines[0])
        if found is None:
            raise UnsupportedFormatError("not a BDF table: the first line is empty", source=path,
                                         location="line 1")
        sep = found[1]
        names = unique_names([n.strip('"') for n in split_fields(lines[0], sep)], path, 1)
        labels: dict[str, tuple[str, float]] = {}
        for j, name in enumerate(names):
            label = _label(name, source=path, column=j + 1)
            if label is not None and label[0] not in labels:
                labels[label[0]] = (name, label[1])
        if "Test Time / s" not in labels:
            raise UnsupportedFormatError("not a BDF table: no 'Test Time / s' (test_time_second)"
                                         f" column; columns: {', '.join(names)}", source=path,
                                         location="line 1")
        # Step Type is text; a Step ID may be a number or a name, so it is read leniently
        text = [names.index(labels["Step Type"][0])] if "Step Type" in labels else []
        numeric = [names.index(n) for lb, (n, _) in labels.items()
                   if lb not in ("Step Type", "Step ID")]
        # a last line cut right after a separator leaves time, voltage or current empty
        required = [names.index(labels[lb][0]) for lb in ("Test Time / s", "Voltage / V",
                                                           "Current / A") if lb in labels]
        columns, _, dropped = read_table(content, 0, sep=sep, decimal=".", source=path,
                                         names=names, numeric=numeric, text_columns=text,
                                         required=required)
        values = {label: columns[name] * factor if factor != 1.0 else columns[name]
                  for label, (name, factor) in labels.items()}
        out: dict[str, np.ndarray] = {}
        for label, target in _TO_RECORD.items():
            if label == "Step ID" and values.get(label, np.empty(0)).dtype.kind != "f":
                continue
            if label in values and target not in out:
                out[target] = values.pop(label)
        for target, candidates in _COUNTERS.items():
            label = next((c for c in candidates if c in values), None)
            if label is not None:
                out[target] = values.pop(label)
        for charge, discharge, label in _NET:
            if label in values and charge not in out and discharge not in out:
                steps = out.get(STEP_COUNT)
                if steps is None:
                    keys = [out[STEP_INDEX]] if STEP_INDEX in out else [np.zeros(len(out[TIME]))]
                    steps = out[STEP_COUNT] = step_count(*keys, step_time=out.get(STEP_TIME))
                out[charge], out[discharge] = counters_from_net(steps, values[label])
        meta: dict[str, Any] = {"format": self.name, "file": path.name}
        if sep != ",":
            meta["separator"] = sep
        if dropped:
            meta["dropped"] = dropped
        used = {name for name, _ in labels.values()}
        extra = {**values, **{n: v for n, v in columns.items() if n not in used}}
        return [build_record(out, extra, known=set(values) | set(_NAVANI), source=path,
                             metadata=meta)]
