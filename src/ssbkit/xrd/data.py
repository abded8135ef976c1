"""The powder-diffraction containers: a measured ``Pattern`` and the ``Instrument`` that made it.

A ``Pattern`` holds one scan: ``two_theta`` [deg] (strictly increasing), ``intensity``
[counts] and, where the file gives them, the standard errors ``sigma`` [counts] (otherwise
counting statistics, √I with a floor of 1, are used by fits and said so in
``metadata["sigma"] = "poisson"``). The radiation is a tuple of ``(wavelength [Å], relative
weight)`` lines, e.g. Cu Kα1 + Kα2 ``((1.540593, 1.0), (1.544414, 0.5))``; empty when the
file does not say (a refinement then needs ``wavelength=``). ``metadata`` keys readers fill
where they can: ``format``, ``file``, ``anode``, ``step_deg``, ``time_per_step_s``,
``sample``, ``start_time``, ``instrument``, ``scan_axis``.

An ``Instrument`` holds the peak-shape and geometry parameters of a diffractometer, in one
convention (FullProf's, in degrees 2θ), whatever file they came from:

- Gaussian FWHM² = U·tan²θ + V·tanθ + W [deg²] (Caglioti);
- Lorentzian FWHM = X·tanθ + Y/cosθ [deg] (X: strain-like, Y: size-like);
- ``zero`` [deg], added to the true 2θ to give where a peak is seen;
- ``polarization``: the fraction K in LP = (1 − K + K·cos²2θ·c)/(sin²θ·cosθ) with c = cos²2θ_m of
  a monochromator; K = 0.5 and c = 1 is unpolarised lab radiation, (1 + cos²2θ)/2;
- ``asymmetry`` (S/L + H/L, Finger–Cox–Jephcoat; 0 = none).

GSAS-II instrument files use σ² [centideg²] and γ [centideg] with X the 1/cosθ and Y the
tanθ term; ``Instrument.from_gsas`` converts: FWHM² = 8 ln2 · σ² / 10⁴, X_ours = Y_gsas / 100,
Y_ours = X_gsas / 100. GSAS-II's ``Polariz.`` P weights the term without cos²2θ (at azimuth 0,
P + (1 − P)·cos²2θ), so K = 1 − P.

Examples
--------
>>> p = Pattern([10.0, 10.02, 10.04], [412, 422, 393], wavelengths=ANODES["CuKa"])
>>> p.sigma.round(2).tolist(), p.metadata["sigma"], p.wavelength
([20.3, 20.54, 19.82], 'poisson', 1.540593)
>>> Pattern([10.0, 10.02], [5, 6], wavelengths=0.41391).wavelengths
((0.41391, 1.0),)
>>> ins = Instrument.from_gsas(U=7.21, V=-3.61, W=3.61, X=0.0, Y=0.0, wavelengths=ANODES["CuKa"])
>>> round(ins.U, 5), round(ins.W, 5)
(0.004, 0.002)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite_array

__all__ = ["ANODES", "Instrument", "Pattern", "wavelengths_from"]

# Kα1, Kα2 [Å] (Hölzer et al., Phys. Rev. A 56, 4554 (1997)) and the usual Kα2/Kα1 ratio 0.5.
ANODES: Mapping[str, tuple[tuple[float, float], ...]] = {
    "CuKa": ((1.540593, 1.0), (1.544414, 0.5)),
    "CuKa1": ((1.540593, 1.0),),
    "CoKa": ((1.788996, 1.0), (1.792835, 0.5)),
    "FeKa": ((1.936041, 1.0), (1.939973, 0.5)),
    "CrKa": ((2.289726, 1.0), (2.293651, 0.5)),
    "MoKa": ((0.709317, 1.0), (0.713607, 0.5)),
    "AgKa": ((0.559422, 1.0), (0.563813, 0.5)),
}
_FWHM2_PER_CENTIDEG2_SIGMA2 = 8.0 * math.log(2.0) / 1e4


def wavelengths_from(value: Any, *, source: str = "wavelength") -> tuple[tuple[float, float], ...]:
    """Radiation lines from an anode name (``"CuKa"``), one wavelength [Å] or ``[(λ, weight), …]``."""
    if isinstance(value, str):
        key = value.replace("α", "a").replace(" ", "")
        for name, lines in ANODES.items():
            if name.lower() == key.lower():
                return lines
        try:
            value = float(value)
        except ValueError:
            raise InputError(f"unknown radiation {value!r}; give a wavelength in Å or one of "
                             f"{', '.join(ANODES)}", source=source) from None
    if np.ndim(value) == 0:
        value = [(float(value), 1.0)]
    lines = []
    for item in value:
        pair = tuple(float(v) for v in np.atleast_1d(item))
        if len(pair) == 1:
            pair = (pair[0], 1.0)
        if len(pair) != 2 or not all(math.isfinite(v) and v > 0 for v in pair):
            raise InputError(f"a radiation line is (wavelength [Å] > 0, weight > 0), got {item!r}",
                             source=source)
        if not 0.05 <= pair[0] <= 5.0:
            raise InputError(f"wavelength {pair[0]:g} Å is outside 0.05–5 Å; is it in nm or keV?",
                             source=source)
        lines.append(pair)
    if not lines:
        raise InputError("no radiation lines given", source=source)
    return tuple(lines)


@dataclass(frozen=True, eq=False)
class Pattern:
    """One powder scan: ``two_theta`` [deg], ``intensity`` [counts], ``sigma`` [counts]."""

    two_theta: np.ndarray
    intensity: np.ndarray
    sigma: np.ndarray | None = None
    wavelengths: Sequence[tuple[float, float]] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or "pattern"
        x = finite_array(f"{where}: 2θ", self.two_theta)
        y = finite_array(f"{where}: intensity", self.intensity)
        if x.size != y.size:
            raise InputError(f"{x.size} 2θ values but {y.size} intensities", source=where)
        if x.size < 2:
            raise InputError(f"a pattern needs at least 2 points, got {x.size}", source=where)
        if not (np.diff(x) > 0).all():
            i = int(np.flatnonzero(np.diff(x) <= 0)[0])
            raise InputError(f"2θ must increase; point {i + 1} ({x[i + 1]:g}°) follows {x[i]:g}°",
                             source=where)
        if x[0] <= 0 or x[-1] >= 180:
            raise InputError(f"2θ must lie in (0, 180)°, the scan runs {x[0]:g}–{x[-1]:g}°", source=where)
        metadata = dict(self.metadata)
        if self.sigma is None:
            s = np.sqrt(np.maximum(y, 1.0))
            metadata.setdefault("sigma", "poisson")
        else:
            s = finite_array(f"{where}: sigma", self.sigma)
            if s.size != y.size:
                raise InputError(f"{s.size} standard errors for {y.size} intensities", source=where)
            if (s <= 0).any():
                i = int(np.flatnonzero(s <= 0)[0])
                raise InputError(f"standard errors must be > 0; point {i} has {s[i]:g}", source=where)
            metadata.setdefault("sigma", "file")
        given = self.wavelengths
        lines = () if given is None or (not isinstance(given, str | float | int) and len(given) == 0) \
            else wavelengths_from(given, source=where)
        for name, array in (("two_theta", x), ("intensity", y), ("sigma", s)):
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "wavelengths", lines)
        object.__setattr__(self, "metadata", metadata)

    def __len__(self) -> int:
        return int(self.two_theta.size)

    @property
    def wavelength(self) -> float | None:
        """The strongest line [Å] (Kα1 for a Kα doublet), or None where the file did not say."""
        if not self.wavelengths:
            return None
        return max(self.wavelengths, key=lambda line: line[1])[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the columns, the radiation and the metadata."""
        from ssbkit.core.results import to_json_safe

        return to_json_safe({"points": len(self), "two_theta": self.two_theta.tolist(),
                             "intensity": self.intensity.tolist(), "sigma": self.sigma.tolist(),
                             "wavelengths": [list(line) for line in self.wavelengths],
                             "metadata": self.metadata, "source": self.source})

    def report(self) -> str:
        """A few lines: range, step, counts, radiation."""
        steps = np.diff(self.two_theta)
        step = (f"step {steps.mean():.4g}°" if np.ptp(steps) <= 1e-6 * max(steps.mean(), 1e-12)
                else f"steps {steps.min():.4g}–{steps.max():.4g}°")
        radiation = ", ".join(f"{lam:.6g} Å × {w:g}" for lam, w in self.wavelengths) or "not given"
        return "\n".join([
            f"powder pattern {self.source}".rstrip(),
            f"  {len(self)} points, 2θ {self.two_theta[0]:.4g}–{self.two_theta[-1]:.4g}°, {step}",
            f"  counts {self.intensity.min():.6g}–{self.intensity.max():.6g} "
            f"(σ: {self.metadata.get('sigma', '?')})",
            f"  radiation: {radiation}",
        ])

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"2theta [deg]": self.two_theta, "intensity [counts]": self.intensity,
                             "sigma [counts]": self.sigma})


@dataclass(frozen=True, kw_only=True)
class Instrument:
    """Diffractometer profile and geometry in FullProf's convention (see the module docstring)."""

    wavelengths: Sequence[tuple[float, float]] = ANODES["CuKa"]
    U: float = 0.0
    V: float = 0.0
    W: float = 0.002
    X: float = 0.0
    Y: float = 0.0
    zero: float = 0.0
    polarization: float = 0.5
    monochromator_cos2: float = 1.0
    asymmetry: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or "instrument"
        object.__setattr__(self, "wavelengths", wavelengths_from(self.wavelengths, source=where))
        for name in ("U", "V", "W", "X", "Y", "zero", "polarization", "monochromator_cos2", "asymmetry"):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise InputError(f"{name} must be a finite number, got {value}", source=where)
            object.__setattr__(self, name, value)
        if not 0.0 <= self.polarization <= 1.0:
            raise InputError(f"polarization is a fraction in [0, 1], got {self.polarization:g}", source=where)
        if self.asymmetry < 0:
            raise InputError(f"asymmetry must be >= 0, got {self.asymmetry:g}", source=where)

    @classmethod
    def from_gsas(cls, *, U: float, V: float, W: float, X: float = 0.0, Y: float = 0.0,
                  zero: float = 0.0, polarization: float = 0.5, SH_L: float = 0.0,
                  wavelengths: Any = ANODES["CuKa"], source: str = "") -> Instrument:
        """From GSAS-II's σ² [centideg²] U, V, W, γ [centideg] X (1/cosθ), Y (tanθ), zero [deg], P."""
        k = _FWHM2_PER_CENTIDEG2_SIGMA2
        return cls(wavelengths=wavelengths, U=U * k, V=V * k, W=W * k, X=Y / 100.0, Y=X / 100.0,
                   zero=zero, polarization=1.0 - polarization, asymmetry=SH_L, source=source)

    def gaussian_fwhm(self, two_theta: Any) -> np.ndarray:
        """Caglioti Gaussian FWHM [deg] at ``two_theta`` [deg] (0 where U·tan²θ + V·tanθ + W < 0)."""
        t = np.tan(np.radians(np.asarray(two_theta, dtype=float) / 2))
        return np.sqrt(np.maximum(self.U * t * t + self.V * t + self.W, 0.0))

    def lorentzian_fwhm(self, two_theta: Any) -> np.ndarray:
        """Lorentzian FWHM [deg] at ``two_theta`` [deg]."""
        theta = np.radians(np.asarray(two_theta, dtype=float) / 2)
        return self.X * np.tan(theta) + self.Y / np.cos(theta)
