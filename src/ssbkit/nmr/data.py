"""The NMR containers: a time-domain ``FID`` as acquired and a frequency-domain ``NMRSpectrum``.

An ``FID`` holds complex points exactly as the spectrometer stored them, one row for a 1D
acquisition, one row per increment of the indirect dimension for a 2D ``ser`` (for States
and echo–antiecho acquisitions the two rows of each increment are stored one after the
other, as on disk). Per dimension, listed from the indirect to the direct one (the array
order), it knows the spectral width [Hz], the observe frequency [MHz], the carrier [ppm]
and the nucleus; for the direct dimension also the digital-filter group delay [points]
(Bruker's GRPDLY) and for the indirect one the quadrature scheme (``acquisition_mode``:
``"QF"``, ``"TPPI"``, ``"States"``, ``"States-TPPI"``, ``"echo-antiecho"``).

An ``NMRSpectrum`` holds the real part of a processed spectrum (and the imaginary part
when it is kept) with one chemical-shift axis [ppm] per dimension, in array order; the
axes usually run from high to low ppm, as spectra are drawn. ``metadata`` keys readers and
processing fill where they know them: ``nucleus`` (tuple, per dimension),
``observe_MHz`` (tuple), ``temperature_K``, ``mixing_time_s`` (EXSY/NOESY ``D8``),
``spinning_rate_Hz`` (MAS, ``MASR``), ``pulse_program``, ``processing`` (list of steps
with their settings), ``file``.

Both are frozen: arrays are copied and made read-only, so a spectrum cannot change under
a result computed from it.

Examples
--------
>>> import numpy as np
>>> ppm = np.linspace(10, -10, 201)
>>> s = NMRSpectrum(np.exp(-((ppm - 2.31) / 0.5) ** 2), (ppm,), metadata={"nucleus": ("6Li",)})
>>> s.ndim, s.shape, round(float(s.ppm[0][s.data.argmax()]), 2)
(1, (201,), 2.3)
>>> s.region(5, 0).shape
(51,)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite_array

__all__ = ["ACQUISITION_MODES", "FID", "NMRSpectrum"]

ACQUISITION_MODES = ("QF", "TPPI", "States", "States-TPPI", "echo-antiecho")


def _per_dimension(name: str, values: Any, ndim: int, where: str, *, positive: bool) -> tuple[float, ...]:
    items = tuple(float(v) for v in np.atleast_1d(np.asarray(values, dtype=float)))
    if len(items) != ndim:
        raise InputError(f"{name} needs one value per dimension ({ndim}), got {len(items)}", source=where)
    for v in items:
        if not np.isfinite(v) or (positive and v <= 0):
            raise InputError(f"{name} must be {'> 0' if positive else 'finite'}, got {v:g}", source=where)
    return items


@dataclass(frozen=True, eq=False)
class FID:
    """Complex time-domain points as stored, with what is needed to turn them into spectra."""

    data: np.ndarray
    spectral_width_Hz: tuple[float, ...]
    observe_MHz: tuple[float, ...]
    carrier_ppm: tuple[float, ...]
    nucleus: tuple[str, ...] = ()
    group_delay: float = 0.0
    acquisition_mode: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or "FID"
        data = np.array(self.data, dtype=complex)
        if data.ndim not in (1, 2):
            raise InputError(f"an FID has 1 or 2 dimensions, this one {data.ndim}", source=where)
        if data.size == 0 or min(data.shape) == 0:
            raise InputError("the FID holds no points", source=where)
        if not np.isfinite(data).all():
            raise InputError("the FID holds points that are not finite numbers", source=where)
        ndim = data.ndim
        object.__setattr__(self, "spectral_width_Hz",
                           _per_dimension("spectral_width_Hz", self.spectral_width_Hz, ndim, where,
                                          positive=True))
        object.__setattr__(self, "observe_MHz",
                           _per_dimension("observe_MHz", self.observe_MHz, ndim, where, positive=True))
        object.__setattr__(self, "carrier_ppm",
                           _per_dimension("carrier_ppm", self.carrier_ppm, ndim, where, positive=False))
        nucleus = tuple(str(n) for n in self.nucleus)
        if nucleus and len(nucleus) != ndim:
            raise InputError(f"nucleus needs one name per dimension ({ndim})", source=where)
        if not np.isfinite(self.group_delay) or self.group_delay < 0:
            raise InputError(f"group_delay must be >= 0 points, got {self.group_delay}", source=where)
        if self.acquisition_mode is not None and self.acquisition_mode not in ACQUISITION_MODES:
            raise InputError(f"acquisition_mode {self.acquisition_mode!r} is not one of "
                             f"{', '.join(ACQUISITION_MODES)}", source=where)
        data.flags.writeable = False
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "nucleus", nucleus)
        object.__setattr__(self, "group_delay", float(self.group_delay))
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def ndim(self) -> int:
        return int(self.data.ndim)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def dwell_s(self, dimension: int = -1) -> float:
        """Time between complex points [s] of one dimension (1 / spectral width)."""
        return 1.0 / self.spectral_width_Hz[dimension]


@dataclass(frozen=True, eq=False)
class NMRSpectrum:
    """A processed 1D or 2D spectrum: real ``data``, one ``ppm`` axis per dimension (array order)."""

    data: np.ndarray
    ppm: Sequence[np.ndarray]
    imag: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or "NMR spectrum"
        data = np.array(finite_array(f"{where}: intensity", self.data, ndim=np.ndim(self.data)))
        if data.ndim not in (1, 2):
            raise InputError(f"a spectrum has 1 or 2 dimensions, this one {data.ndim}", source=where)
        if data.size == 0 or min(data.shape) < 2:
            raise InputError(f"a spectrum needs at least 2 points per dimension, got shape {data.shape}",
                             source=where)
        axes = tuple(self.ppm) if not isinstance(self.ppm, np.ndarray) else (self.ppm,)
        if len(axes) != data.ndim:
            raise InputError(f"{len(axes)} ppm axes for {data.ndim} dimensions", source=where)
        frozen_axes = []
        for k, axis in enumerate(axes):
            a = np.array(finite_array(f"{where}: ppm axis {k}", axis))
            if a.size != data.shape[k]:
                raise InputError(f"ppm axis {k} has {a.size} points, the data {data.shape[k]}", source=where)
            steps = np.diff(a)
            if not ((steps > 0).all() or (steps < 0).all()):
                raise InputError(f"ppm axis {k} must run strictly one way", source=where)
            a.flags.writeable = False
            frozen_axes.append(a)
        imag = None
        if self.imag is not None:
            imag = np.array(finite_array(f"{where}: imaginary part", self.imag, ndim=data.ndim))
            if imag.shape != data.shape:
                raise InputError(f"imaginary part has shape {imag.shape}, real part {data.shape}",
                                 source=where)
            imag.flags.writeable = False
        data.flags.writeable = False
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "ppm", tuple(frozen_axes))
        object.__setattr__(self, "imag", imag)
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def ndim(self) -> int:
        return int(self.data.ndim)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def region(self, *limits: float) -> np.ndarray:
        """The data between two ppm limits per dimension: ``region(hi, lo)``, ``region(f1a, f1b, f2a, f2b)``.

        The limits may come in either order; the bounds are inclusive.
        """
        if len(limits) != 2 * self.ndim:
            raise InputError(f"region needs 2 ppm limits per dimension ({2 * self.ndim}), got {len(limits)}",
                             source="region")
        index = []
        for k, axis in enumerate(self.ppm):
            lo, hi = sorted(limits[2 * k: 2 * k + 2])
            index.append(np.flatnonzero((axis >= lo) & (axis <= hi)))
        return self.data[np.ix_(*index)] if self.ndim == 2 else self.data[index[0]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``ndim``, ``shape``, ``ppm`` (one list per dimension), ``intensity`` and metadata."""
        from ssbkit.core.results import to_json_safe

        return to_json_safe({"ndim": self.ndim, "shape": list(self.shape),
                             "ppm": [a.tolist() for a in self.ppm], "intensity": self.data.tolist(),
                             "metadata": self.metadata, "source": self.source})

    def report(self) -> str:
        """A few lines: dimensions, nuclei, ppm ranges, the tallest point, the processing steps."""
        nuclei = self.metadata.get("nucleus") or ("?",) * self.ndim
        lines = [f"NMR spectrum {self.source or ''}".rstrip()]
        for k, axis in enumerate(self.ppm):
            name = "F2" if k == self.ndim - 1 and self.ndim == 2 else ("F1" if self.ndim == 2 else "F")
            nucleus = nuclei[k] if k < len(nuclei) else "?"
            lines.append(f"  {name} ({nucleus}): {axis.size} points, {axis[0]:.3f} to {axis[-1]:.3f} ppm")
        top = np.unravel_index(int(np.argmax(self.data)), self.shape)
        where = ", ".join(f"{self.ppm[k][i]:.3f}" for k, i in enumerate(top))
        lines.append(f"  maximum {self.data[top]:.4g} at {where} ppm")
        steps = [step.get("step", "?") for step in self.metadata.get("processing", ())
                 if isinstance(step, dict)]
        if steps:
            lines.append("  processing: " + ", ".join(steps))
        return "\n".join(lines)

    def to_frame(self) -> Any:
        """1D: columns ``chemical shift [ppm]`` and ``intensity [a.u.]``; 2D: a long table."""
        import pandas as pd

        if self.ndim == 1:
            return pd.DataFrame({"chemical shift [ppm]": self.ppm[0], "intensity [a.u.]": self.data})
        f1, f2 = np.meshgrid(self.ppm[0], self.ppm[1], indexing="ij")
        return pd.DataFrame({"F1 shift [ppm]": f1.ravel(), "F2 shift [ppm]": f2.ravel(),
                             "intensity [a.u.]": self.data.ravel()})
