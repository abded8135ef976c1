"""The stack-pressure container: one logger's samples of absolute time and pressure.

Solid-state cells are cycled in a press or a spring-loaded cell holder, and a load cell
logs the stack pressure beside the cycler (one sample a minute, say). A ``PressureLog``
holds those samples: ``unix_time`` [s since 1970-01-01 UTC] and ``pressure`` [MPa], both
read-only numpy arrays, plus ``metadata`` and ``source``. The time is absolute because a
pressure log and a cycler record come from two instruments with two clocks: they meet
only on the calendar (``ssbkit.pressure.analyze_pressure`` aligns them, with an offset).

Load cells often log force rather than pressure; ``PressureLog.from_force`` turns force
[kN] into pressure with the electrode (pellet) area, P = F / A, and keeps the force too.

Examples
--------
>>> log = PressureLog.from_force([0, 60, 120], [0.785, 0.80, 0.81], area_cm2=0.785,
...                              source="demo")
>>> log.pressure.round(3).tolist()  # 1 kN on 1 cm² is 10 MPa
[10.0, 10.191, 10.318]
>>> len(log), log.to_frame().columns.tolist()
(3, ['unix time [s]', 'pressure [MPa]', 'force [kN]'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.validate import positive

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KN_PER_CM2_IN_MPA", "PressureLog"]

# 1 kN / 1 cm² = 1e3 N / 1e-4 m² = 1e7 Pa = 10 MPa.
KN_PER_CM2_IN_MPA = 10.0


@dataclass(frozen=True, eq=False)
class PressureLog:
    """Stack-pressure samples: ``unix_time`` [s], ``pressure`` [MPa], optional ``force`` [kN].

    Arrays are copied and made read-only. Every time and pressure must be a finite number
    and the time may not go backwards (a logger's clock that jumps back would put samples
    in the wrong cycle); the error names the row. Metadata keys a reader fills: ``format``,
    ``file``, ``start_time`` (ISO 8601, where the file gives one), ``time_column``,
    ``pressure_column``, ``unit`` (as written), ``area_cm2`` (for force logs), ``header``.
    """

    unix_time: np.ndarray
    pressure: np.ndarray
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    force: np.ndarray | None = None

    def __post_init__(self) -> None:
        where = self.source or "pressure log"
        time = _column(self.unix_time, "unix time", where)
        pressure = _column(self.pressure, "pressure", where)
        if pressure.size != time.size:
            raise InputError(f"{pressure.size} pressures for {time.size} times", source=where)
        if time.size == 0:
            raise InputError("no samples", source=where)
        back = np.flatnonzero(np.diff(time) < 0)
        if back.size:
            i = int(back[0])
            raise InputError(f"the time goes backwards at sample {i + 1} ({time[i]:.0f} s -> "
                             f"{time[i + 1]:.0f} s since 1970); a logger clock that jumps back "
                             "cannot be placed on the cycling record", source=where)
        force = None
        if self.force is not None:
            force = _column(self.force, "force", where)
            if force.size != time.size:
                raise InputError(f"{force.size} forces for {time.size} times", source=where)
        object.__setattr__(self, "unix_time", time)
        object.__setattr__(self, "pressure", pressure)
        object.__setattr__(self, "force", force)
        object.__setattr__(self, "metadata", dict(self.metadata))
        object.__setattr__(self, "source", str(self.source))

    @classmethod
    def from_force(cls, unix_time: Any, force_kn: Any, *, area_cm2: float,
                   metadata: Mapping[str, Any] | None = None,
                   source: str | PathLike[str] = "") -> PressureLog:
        """A log from force [kN] on an area [cm²]: P [MPa] = 10 · F [kN] / A [cm²]."""
        area = positive("area_cm2", area_cm2)
        force = _column(force_kn, "force", str(source) or "pressure log")
        meta = {**(metadata or {}), "area_cm2": area}
        return cls(unix_time, force * KN_PER_CM2_IN_MPA / area, meta, str(source), force=force)

    def __len__(self) -> int:
        return self.unix_time.size

    @property
    def duration_s(self) -> float:
        """Seconds from the first sample to the last."""
        return float(self.unix_time[-1] - self.unix_time[0])

    def to_frame(self) -> pd.DataFrame:
        """The samples as a table: ``unix time [s]``, ``pressure [MPa]`` (and ``force [kN]``)."""
        import pandas as pd

        columns = {"unix time [s]": self.unix_time, "pressure [MPa]": self.pressure}
        if self.force is not None:
            columns["force [kN]"] = self.force
        return pd.DataFrame(columns)


def _column(values: Any, name: str, where: str) -> np.ndarray:
    try:
        array = np.array(values, dtype=float, copy=True)
    except (TypeError, ValueError):
        raise InputError(f"the {name} must be numbers", source=where) from None
    if array.ndim != 1:
        raise InputError(f"the {name} must be one-dimensional, got {array.ndim} dimensions",
                         source=where)
    bad = ~np.isfinite(array)
    if bad.any():
        raise InputError(f"the {name} is not a finite number at sample {int(np.flatnonzero(bad)[0])} "
                         f"({int(bad.sum())} samples in all)", source=where)
    array.flags.writeable = False
    return array
