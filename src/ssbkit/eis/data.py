"""The impedance containers: spectra and DC (chronoamperometry) records.

A ``Spectrum`` holds frequencies [Hz] and complex impedances [Ohm] with the sign
convention Z = Z' + jZ'' (a capacitive arc has Z'' < 0), a mask of points to use (raw data
is never deleted: bad points are masked), and the metadata a reader found (temperature,
file, sweep). Arrays are copied and made read-only, so a spectrum cannot change under a
result that was computed from it.

A ``Chronoamperometry`` record holds time [s], current [A] and the cell voltage [V] of a
DC polarisation (one or several potentiostatic steps), as read from the same instrument
files as the spectra; ``ssbkit.eis.dcpol`` turns it into an electronic conductivity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.units import label
from ssbkit.core.validate import finite_array

__all__ = ["Chronoamperometry", "Spectrum"]


@dataclass(frozen=True, eq=False)
class Spectrum:
    """One impedance sweep: ``frequency`` [Hz], ``impedance`` [Ohm], ``mask`` (True = used)."""

    frequency: np.ndarray
    impedance: np.ndarray
    mask: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or "spectrum"
        f = finite_array(f"{where}: frequency", self.frequency)
        z = finite_array(f"{where}: impedance", self.impedance, dtype=complex)
        if f.shape != z.shape:
            raise InputError(f"{f.size} frequencies but {z.size} impedances", source=where)
        if f.size == 0:
            raise InputError("no data points", source=where)
        if (f <= 0).any():
            first = int(np.flatnonzero(f <= 0)[0])
            raise InputError(f"frequencies must be > 0 Hz; point {first} is {f[first]:g} Hz",
                             source=where)
        if np.unique(f).size != f.size:
            values, counts = np.unique(f, return_counts=True)
            raise InputError(f"duplicate frequency {values[counts > 1][0]:g} Hz", source=where)
        mask = np.ones(f.shape, bool) if self.mask is None else np.array(self.mask, dtype=bool)
        if mask.shape != f.shape:
            raise InputError(f"mask has {mask.size} points, spectrum {f.size}", source=where)
        for name, array in (("frequency", f), ("impedance", z), ("mask", mask)):
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "metadata", dict(self.metadata))

    def __len__(self) -> int:
        return int(self.frequency.size)

    def masked(self) -> Spectrum:
        """Only the points in use (mask all True)."""
        m = self.mask
        return Spectrum(self.frequency[m], self.impedance[m], None, self.metadata, self.source)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({
            label("frequency", "Hz"): self.frequency,
            label("Z_re", "Ohm"): self.impedance.real,
            label("Z_im", "Ohm"): self.impedance.imag,
            "mask": self.mask,
        })


@dataclass(frozen=True, eq=False)
class Chronoamperometry:
    """A DC record: ``time`` [s] (strictly increasing), ``current`` [A], ``voltage`` [V]."""

    time: np.ndarray
    current: np.ndarray
    voltage: np.ndarray
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or "record"
        t = finite_array(f"{where}: time", self.time)
        i = finite_array(f"{where}: current", self.current)
        v = finite_array(f"{where}: voltage", self.voltage)
        if not t.shape == i.shape == v.shape:
            raise InputError(f"time, current and voltage differ in length ({t.size}, {i.size}, "
                             f"{v.size})", source=where)
        if t.size < 2:
            raise InputError("a DC record needs at least two points", source=where)
        if (np.diff(t) <= 0).any():
            first = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
            raise InputError(f"time must increase; point {first} is at {t[first]:g} s after "
                             f"{t[first - 1]:g} s", source=where)
        for name, array in (("time", t), ("current", i), ("voltage", v)):
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "metadata", dict(self.metadata))

    def __len__(self) -> int:
        return int(self.time.size)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({label("time", "s"): self.time, label("current", "A"): self.current,
                             label("voltage", "V"): self.voltage})
