"""The cycling container: one cycler record as a table with Battery Data Format columns.

A ``CyclingRecord`` holds every row a cycler wrote for one channel, in the column names and
units of the Battery Data Format (BDF, the Battery Data Alliance's interchange format that
datalab, navani and fastnda also write), so a record exported with ``to_bdf_csv`` opens in
those tools unchanged. The raw columns keep the BDF spelling ``Name / unit``; the tables
ssbkit *derives* (per-step, per-cycle) use the house spelling ``name [unit]``.

=================================  ======================================================
column                             meaning
=================================  ======================================================
``Test Time / s``                  time since the start of the test (required)
``Voltage / V``                    cell voltage as wired (required)
``Current / A``                    current, > 0 charges the cell as wired (required; a
                                   reader derives it from the capacity counters where the
                                   file has none, and says so in ``metadata``)
``Unix Time / s``                  absolute time, seconds since 1970-01-01 UTC
``Step Time / s``                  time since the start of the step
``Cycle Count / 1``                the instrument's own cycle number ("native")
``Step Index / 1``                 the program step (line of the schedule)
``Step Count / 1``                 the sequential step number (increments at each step)
``Step Type``                      the instrument's name for the step ("CC_Chg", "Rest")
``Charging Capacity / Ah``         the cycler's charge counter (≥ 0; may reset each step,
                                   each cycle or never: ``ssbkit.cycling.steps`` finds out)
``Discharging Capacity / Ah``      the cycler's discharge counter (≥ 0)
``Charging Energy / Wh``           the cycler's energy counters (≥ 0)
``Discharging Energy / Wh``
``Ambient Temperature / degC``     auxiliary temperature; further probes ``Temperature
                                   T2 / degC`` …
``Applied Pressure / Pa``          stack pressure where the cycler logs it
=================================  ======================================================

Other columns a file has are kept under their own names (a reader warns once about
columns it does not know), so nothing the instrument wrote is lost.

Examples
--------
>>> rec = CyclingRecord.from_columns({TIME: [0, 1, 2], VOLTAGE: [3.0, 3.1, 3.2],
...                                   CURRENT: [0.001, 0.001, 0.001]}, source="demo")
>>> len(rec), rec.has(CURRENT), rec.has(CHARGE_CAPACITY)
(3, True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CANONICAL_COLUMNS",
    "CHARGE_CAPACITY",
    "CHARGE_ENERGY",
    "CURRENT",
    "CYCLE",
    "CyclingRecord",
    "DISCHARGE_CAPACITY",
    "DISCHARGE_ENERGY",
    "PRESSURE",
    "STEP_COUNT",
    "STEP_INDEX",
    "STEP_TIME",
    "STEP_TYPE",
    "TEMPERATURE",
    "TIME",
    "UNIX_TIME",
    "VOLTAGE",
    "current_from_counters",
]

TIME = "Test Time / s"
UNIX_TIME = "Unix Time / s"
STEP_TIME = "Step Time / s"
VOLTAGE = "Voltage / V"
CURRENT = "Current / A"
CYCLE = "Cycle Count / 1"
STEP_INDEX = "Step Index / 1"
STEP_COUNT = "Step Count / 1"
STEP_TYPE = "Step Type"
CHARGE_CAPACITY = "Charging Capacity / Ah"
DISCHARGE_CAPACITY = "Discharging Capacity / Ah"
CHARGE_ENERGY = "Charging Energy / Wh"
DISCHARGE_ENERGY = "Discharging Energy / Wh"
TEMPERATURE = "Ambient Temperature / degC"
PRESSURE = "Applied Pressure / Pa"

_FLOAT = (TIME, UNIX_TIME, STEP_TIME, VOLTAGE, CURRENT, CHARGE_CAPACITY, DISCHARGE_CAPACITY,
          CHARGE_ENERGY, DISCHARGE_ENERGY, TEMPERATURE, PRESSURE)
_INT = (CYCLE, STEP_INDEX, STEP_COUNT)
CANONICAL_COLUMNS = (*_FLOAT[:3], VOLTAGE, CURRENT, *_INT, STEP_TYPE, *_FLOAT[5:])


@dataclass(frozen=True, eq=False)
class CyclingRecord:
    """One cycler channel's rows (``columns``: BDF name -> array), ``metadata`` and ``source``.

    The columns are numpy arrays (float for quantities, int64 for counts, str for
    ``Step Type``), copied and made read-only so the record cannot change under a result
    computed from it; ``to_frame()`` gives a pandas DataFrame. Numpy, not pandas, inside:
    a 700k-row Neware file goes from fastnda to a per-cycle summary without building a
    DataFrame at all. Metadata keys a reader fills where the file has them: ``format``,
    ``file``, ``instrument``, ``software_version``, ``file_version``, ``channel``,
    ``start_time`` (ISO 8601), ``active_mass_mg``, ``current_derived`` (True when the
    current came from the capacity counters), ``unknown_columns``.
    """

    columns: Mapping[str, np.ndarray]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or "cycling record"
        if not isinstance(self.columns, Mapping):
            raise InputError(f"columns must be a mapping of name to array, got "
                             f"{type(self.columns).__name__}", source=where)
        for required in (TIME, VOLTAGE, CURRENT):
            if required not in self.columns:
                found = ", ".join(map(str, self.columns)) or "none"
                raise InputError(f"no {required!r} column (columns: {found})", source=where)
        columns: dict[str, np.ndarray] = {}
        n = None
        for name, values in self.columns.items():
            if (isinstance(values, np.ndarray) and not values.flags.writeable
                    and values.dtype.kind in "fiU"):
                array = values  # already a record's column: immutable, nothing to check
            elif name in _FLOAT:
                array = _numeric(values, name, where, float)
            elif name in _INT:
                array = _numeric(values, name, where, float)
                if not np.isfinite(array).all():
                    row = int(np.flatnonzero(~np.isfinite(array))[0])
                    raise InputError(f"{name!r} is missing at row {row}", source=where)
                array = array.astype(np.int64)
            elif name == STEP_TYPE:
                array = np.asarray(values).astype(str)
            else:
                array = np.array(values, copy=True)
            if array.ndim != 1:
                raise InputError(f"column {name!r} is not one-dimensional", source=where)
            if n is not None and array.size != n:
                raise InputError(f"column {name!r} has {array.size} rows, {TIME!r} {n}",
                                 source=where)
            n = array.size
            array.flags.writeable = False
            columns[str(name)] = array
        if not n:
            raise InputError("no data rows", source=where)
        time = columns[TIME]
        bad = ~np.isfinite(time)
        if bad.any():
            raise InputError(f"{TIME!r} is not a number at row {int(np.flatnonzero(bad)[0])} "
                             f"({int(bad.sum())} rows in all)", source=where)
        back = np.flatnonzero(np.diff(time) < 0)
        if back.size:
            i = int(back[0])
            raise InputError(f"{TIME!r} goes backwards at row {i + 1} ({time[i]:g} s -> "
                             f"{time[i + 1]:g} s); a time that restarts each step is step "
                             "time, not test time", source=where)
        if not np.isfinite(columns[VOLTAGE]).any():
            raise InputError(f"{VOLTAGE!r} holds no number", source=where)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "metadata", dict(self.metadata))

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], *, metadata: Mapping[str, Any] | None = None,
                     source: str | PathLike[str] = "") -> CyclingRecord:
        """A record from canonical columns (arrays of equal length, canonical units).

        Where ``Current / A`` is missing but the capacity counters are there, the current is
        derived from them (``current_from_counters``) and ``metadata["current_derived"]``
        is set; with neither, the error says what the file lacks.
        """
        where = str(source) or "cycling record"
        columns = dict(columns)
        meta = dict(metadata or {})
        if CURRENT not in columns:
            if TIME in columns and {CHARGE_CAPACITY, DISCHARGE_CAPACITY} <= set(columns):
                columns[CURRENT] = current_from_counters(
                    _numeric(columns[TIME], TIME, where, float),
                    _numeric(columns[CHARGE_CAPACITY], CHARGE_CAPACITY, where, float),
                    _numeric(columns[DISCHARGE_CAPACITY], DISCHARGE_CAPACITY, where, float))
                meta["current_derived"] = True
            else:
                raise InputError("no current column, and no charge and discharge capacity "
                                 "counters to derive the current from", source=where)
        return cls(columns, meta, str(source))

    def __len__(self) -> int:
        return self.columns[TIME].size

    def has(self, column: str) -> bool:
        """True when the record has ``column`` with at least one value (finite, for numbers)."""
        values = self.columns.get(column)
        if values is None:
            return False
        if values.dtype.kind in "fc":
            return bool(np.isfinite(values).any())
        return values.size > 0

    def column(self, name: str) -> np.ndarray:
        """One column (read-only array); ``InputError`` naming the columns if it is absent."""
        if name not in self.columns:
            raise InputError(f"no {name!r} column (columns: {', '.join(self.columns)})",
                             source=self.source or "cycling record")
        return self.columns[name]

    @property
    def time(self) -> np.ndarray:
        """Test time [s]."""
        return self.columns[TIME]

    @property
    def voltage(self) -> np.ndarray:
        """Cell voltage [V]."""
        return self.columns[VOLTAGE]

    @property
    def current(self) -> np.ndarray:
        """Current [A], > 0 charging."""
        return self.columns[CURRENT]

    def fingerprint(self) -> str:
        """``sha256:<hex>`` identifying the data, for provenance.

        The hash of the file the record was read from (``metadata["sha256"]``, set by
        ``ssbkit.io.read_cycling``) where there is one, else of the columns' names, types
        and bytes.
        """
        import hashlib

        if isinstance(self.metadata.get("sha256"), str):
            return self.metadata["sha256"]

        digest = hashlib.sha256()
        for name in sorted(self.columns):
            array = self.columns[name]
            digest.update(f"{name}|{array.dtype.str}|{array.size};".encode())
            digest.update(np.ascontiguousarray(array).tobytes() if array.dtype != object
                          else "\x1f".join(map(str, array)).encode())
        return "sha256:" + digest.hexdigest()

    def to_frame(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (BDF column names, canonical ones first)."""
        import pandas as pd

        order = [c for c in CANONICAL_COLUMNS if c in self.columns]
        order += [c for c in self.columns if c not in order]
        return pd.DataFrame({c: self.columns[c] for c in order})

    def to_bdf_csv(self, path: str | PathLike[str]) -> Path:
        """Write the table as a Battery Data Format CSV (written whole, then renamed)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        try:
            self.to_frame().to_csv(tmp, index=False)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot write: {exc.strerror or exc}", source=path) from None
        return path


def current_from_counters(time_s: np.ndarray, charge_ah: np.ndarray,
                          discharge_ah: np.ndarray) -> np.ndarray:
    """Current [A] from capacity counters: the rate of change of charge − discharge.

    Counters that reset (at a step or cycle) drop back; those drops are not current, so
    each counter's increments are kept only where it grew. The current at row i is the
    backward difference over (t[i-1], t[i]]; row 0 takes row 1's value.

    >>> current_from_counters(np.array([0., 3600, 7200]), np.array([0., 0.1, 0.2]),
    ...                       np.zeros(3)).round(6).tolist()
    [0.1, 0.1, 0.1]
    """
    t = np.asarray(time_s, float)
    if t.size < 2:
        return np.zeros_like(t)
    dq = np.zeros(t.size)
    for counter, sign in ((charge_ah, 1.0), (discharge_ah, -1.0)):
        step = np.diff(np.nan_to_num(np.asarray(counter, float)))
        dq[1:] += sign * np.where(step > 0, step, 0.0)
    dt = np.diff(t)
    current = np.zeros(t.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        current[1:] = np.where(dt > 0, dq[1:] * 3600.0 / np.where(dt > 0, dt, 1.0), 0.0)
    current[0] = current[1]
    return current


def _numeric(values: Any, name: str, where: str, dtype: type) -> np.ndarray:
    try:
        return np.array(values, dtype=dtype, copy=True)
    except (TypeError, ValueError):
        pass
    import pandas as pd  # only to find the offending cell

    series = pd.Series(np.asarray(values, dtype=object))
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{name!r} holds {series.iloc[row]!r} at row {row}, not a number",
                         source=where)
    return converted.to_numpy(dtype=dtype)
