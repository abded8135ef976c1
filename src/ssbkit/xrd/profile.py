"""Peak shapes, Lorentz–polarisation, background, and the fast sum of many peaks.

All angles in degrees 2θ; widths are full widths at half maximum (FWHM).

- Thompson–Cox–Hastings pseudo-Voigt (TCH, FullProf Npr = 7): from the Gaussian and
  Lorentzian FWHM Γ_G, Γ_L,

      Γ⁵ = Γ_G⁵ + 2.69269 Γ_G⁴Γ_L + 2.42843 Γ_G³Γ_L² + 4.47163 Γ_G²Γ_L³ + 0.07842 Γ_GΓ_L⁴ + Γ_L⁵,
      η = 1.36603 q − 0.47719 q² + 0.11116 q³,   q = Γ_L/Γ;

- pseudo-Voigt Ω = η·L + (1 − η)·G with L, G of the same FWHM Γ, each of unit area:
  L = (2/(πΓ)) / (1 + 4x²/Γ²), G = (2/Γ)·√(ln2/π)·exp(−4 ln2 x²/Γ²);
- Lorentz–polarisation LP = (1 − K + K·c·cos²2θ)/(sin²θ cosθ) with K = ``polarization`` and
  c = ``monochromator_cos2`` of the ``Instrument`` (K = ½, c = 1: (1 + cos²2θ)/(2 sin²θ cosθ));
- Chebyshev background Σ c_k T_k(x), x = 2θ scaled linearly from [lo, hi] to [−1, 1].

``add_peaks`` evaluates each peak only within ±``window``·FWHM of its centre: the points of
all windows are laid out in one flat array (no Python loop over peaks) and summed into the
pattern with ``np.bincount``. The Lorentzian part loses (1 − (2/π)·atan(2·window)) of its area
outside the window (2.7 % at the default 12); it is scaled back up so that every peak keeps
its full integrated intensity (the scale factors, and the weight fractions from them, do not
depend on the window). Peak asymmetry is not modelled.

Examples
--------
>>> import numpy as np
>>> x = np.linspace(-5, 5, 20001)
>>> y = pseudo_voigt(x, 0.0, 0.2, 0.5)
>>> round(float(y.sum() * (x[1] - x[0])), 3)   # unit area (the Lorentzian tails beyond ±5 aside)
0.994
>>> fwhm, eta = tch(0.1, 0.0)
>>> float(fwhm), float(eta)
(0.1, 0.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite_array, positive

__all__ = ["add_peaks", "chebyshev", "lorentz_polarization", "pseudo_voigt", "tch"]

citations.register(
    "thompson1987",
    "P. Thompson, D. E. Cox, J. B. Hastings, Rietveld refinement of Debye-Scherrer synchrotron X-ray "
    "data from Al2O3, J. Appl. Cryst. 20 (1987) 79-83.",
    "10.1107/S0021889887087090",
)

_LN2 = math.log(2.0)
_GAUSS_NORM = 2.0 * math.sqrt(_LN2 / math.pi)


def tch(fwhm_g: Any, fwhm_l: Any) -> tuple[np.ndarray, np.ndarray]:
    """Total FWHM and Lorentzian fraction η of the TCH pseudo-Voigt (module docstring).

    >>> [round(float(v), 6) for v in tch(0.0, 0.1)]
    [0.1, 1.0]
    """
    g = np.asarray(fwhm_g, dtype=float)
    lor = np.asarray(fwhm_l, dtype=float)
    g2, l2 = g * g, lor * lor
    fwhm = (g2 * g2 * g + 2.69269 * g2 * g2 * lor + 2.42843 * g2 * g * l2 + 4.47163 * g2 * l2 * lor
            + 0.07842 * g * l2 * l2 + l2 * l2 * lor) ** 0.2
    q = np.divide(lor, fwhm, out=np.zeros_like(fwhm), where=fwhm > 0)
    eta = np.clip(q * (1.36603 - q * (0.47719 - 0.11116 * q)), 0.0, 1.0)
    return fwhm, eta


def pseudo_voigt(x: Any, center: Any, fwhm: Any, eta: Any) -> np.ndarray:
    """Area-normalised pseudo-Voigt [1/deg] at ``x`` (module docstring)."""
    x = np.asarray(x, dtype=float)
    gamma = np.asarray(fwhm, dtype=float)
    if (gamma <= 0).any():
        raise InputError("FWHM must be > 0", source="fwhm")
    u = (x - center) / gamma
    u2 = u * u
    lorentz = (2.0 / math.pi) / (gamma * (1.0 + 4.0 * u2))
    gauss = _GAUSS_NORM / gamma * np.exp(-4.0 * _LN2 * u2)
    return eta * lorentz + (1.0 - eta) * gauss


def lorentz_polarization(two_theta: Any, instrument: Any = None, *, polarization: float = 0.5,
                         monochromator_cos2: float = 1.0) -> np.ndarray:
    """LP = (1 − K + K·c·cos²2θ)/(sin²θ cosθ); K and c from ``instrument`` when given.

    >>> round(float(lorentz_polarization(90.0)), 6)   # (1 + 0)/(2 · ½ · √½)
    1.414214
    """
    if instrument is not None:
        polarization, monochromator_cos2 = instrument.polarization, instrument.monochromator_cos2
    theta = np.radians(np.asarray(two_theta, dtype=float) / 2.0)
    cos2t = np.cos(2.0 * theta)
    sin_t = np.sin(theta)
    return (1.0 - polarization + polarization * monochromator_cos2 * cos2t * cos2t) / (sin_t * sin_t
                                                                                        * np.cos(theta))


def chebyshev(two_theta: Any, coefficients: Any, *, lo: float, hi: float) -> np.ndarray:
    """Σ c_k T_k(x), x = 2(2θ − lo)/(hi − lo) − 1.

    >>> chebyshev([10.0, 50.0, 90.0], [300, -60, 30], lo=10, hi=90).tolist()
    [390.0, 270.0, 270.0]
    """
    coefficients = np.atleast_1d(np.asarray(coefficients, dtype=float))
    if not np.isfinite(coefficients).all():
        raise InputError("background coefficients must be finite", source="background")
    if not hi > lo:
        raise InputError(f"Chebyshev range needs hi > lo, got {lo:g}, {hi:g}", source="background")
    x = (2.0 * np.asarray(two_theta, dtype=float) - (lo + hi)) / (hi - lo)
    return np.polynomial.chebyshev.chebval(x, coefficients)


def add_peaks(two_theta: Any, centers: Any, areas: Any, fwhm: Any, eta: Any, *, window: float = 12.0,
              out: np.ndarray | None = None) -> np.ndarray:
    """Σ_k area_k · Ω(2θ − center_k; FWHM_k, η_k) on the increasing grid ``two_theta``.

    Each peak is evaluated within ±``window``·FWHM only (module docstring); ``out``, when
    given, is added to in place and returned.

    >>> x = np.arange(10.0, 20.0, 0.01)
    >>> y = add_peaks(x, [12.0, 15.0], [1.0, 2.0], [0.1, 0.2], [0.0, 0.0])
    >>> round(float(y.sum() * 0.01), 6)   # the two areas
    3.0
    """
    x = np.asarray(two_theta, dtype=float)
    centers = np.asarray(centers, dtype=float).ravel()
    n = centers.size
    areas, fwhm, eta = (np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in (areas, fwhm, eta))
    window = positive("window", window)
    if out is None:
        out = np.zeros(x.size)
    if not n:
        return out
    if (fwhm <= 0).any() or not np.isfinite(fwhm).all():
        raise InputError("every peak needs a finite FWHM > 0", source="fwhm")
    half = window * fwhm
    first = np.searchsorted(x, centers - half)
    last = np.searchsorted(x, centers + half)
    counts = last - first
    total = int(counts.sum())
    if not total:
        return out
    peak = np.repeat(np.arange(n), counts)
    index = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + first[peak]
    gamma = fwhm[peak]
    u = (x[index] - centers[peak]) / gamma
    u2 = u * u
    lorentz_scale = (2.0 / math.pi) / ((2.0 / math.pi) * math.atan(2.0 * window))
    e = eta[peak]
    values = areas[peak] / gamma * (e * lorentz_scale / (1.0 + 4.0 * u2)
                                    + (1.0 - e) * _GAUSS_NORM * np.exp(-4.0 * _LN2 * u2))
    out += np.bincount(index, weights=values, minlength=x.size)
    return out


def _grid(two_theta: Any, *, source: str = "two_theta") -> np.ndarray:
    """A finite, strictly increasing 2θ grid in (0, 180)°."""
    x = finite_array(source, two_theta)
    if x.size < 2 or not (np.diff(x) > 0).all():
        raise InputError("2θ must have at least 2 points and increase strictly", source=source)
    if x[0] <= 0 or x[-1] >= 180:
        raise InputError(f"2θ must lie in (0, 180)°, got {x[0]:g}–{x[-1]:g}", source=source)
    return x
