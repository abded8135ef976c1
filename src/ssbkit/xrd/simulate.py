"""The powder-pattern forward model: phases + instrument → counts at each 2θ.

``calculate_pattern`` is what a refinement calls (hundreds of times); ``simulate_pattern``
wraps it into a ``Pattern`` with seeded Poisson noise and keeps the truth in
``metadata["truth"]``. For each phase p with scale S_p, each radiation line j (λ_j, weight
w_j; Cu Kα2 at its own 2θ with weight ½) and each reflection k:

    2θ_jk = 2 asin(λ_j / 2d_k)                       Bragg angle
    centre = 2θ_jk + zero − (2s/R)·cosθ_jk·(180/π)    zero shift [deg], sample displacement s [mm],
                                                     goniometer radius R [mm] (default 240 mm);
                                                     s > 0: a recessed sample, peaks to lower 2θ
    area   = S_p · w_j · m_k · |F_k|² · LP(2θ_jk)      ``crystal.structure_factors``, ``profile``
    Γ_G²   = U tan²θ + V tanθ + W + U_p tan²θ         instrument (Caglioti) + phase strain (U_p)
    Γ_L    = (X + X_p) tanθ + (Y + Y_p)/cosθ          instrument + phase strain (X_p) and size (Y_p)
    y(2θ)  = background(2θ) + Σ area · Ω_TCH(2θ − centre; Γ_G, Γ_L)

Widths and LP are taken at the Bragg angle (the zero shift and displacement move a peak,
not its width). The background is a Chebyshev series over the scan range
[2θ_first, 2θ_last] (``profile.chebyshev``) or an explicit array, one value per point.
No absorption, preferred orientation or peak asymmetry (an ``Instrument.asymmetry`` is not
used).

Weight fractions follow Hill & Howard (1987): w_p = S_p (ZMV)_p / Σ_i S_i (ZMV)_i with
Z·M = ``Phase.cell_mass`` and V = ``Phase.volume`` (``weight_fractions``,
``scales_from_weight_fractions``).

Speed: reflection tables are cached on each phase's symmetry operations and re-used while
the cell changes by a few per cent, |F|² is one complex matrix product, and all peaks of all
phases and lines are summed in one banded pass (``profile.add_peaks``).

Examples
--------
>>> import numpy as np
>>> from ssbkit.xrd.data import Instrument
>>> from ssbkit.xrd.structures import licl
>>> x = np.arange(20.0, 60.0, 0.02)
>>> y = calculate_pattern(x, [licl()], scales=[1e-3], instrument=Instrument(), background=[100.0])
>>> round(float(x[np.argmax(y)]), 2)   # LiCl (111), Kα1: 2·asin(1.540593·√3/(2·5.13)) = 30.150°
30.14
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite, finite_array, positive
from ssbkit.xrd.crystal import Phase, _enumerate, _structure_factors
from ssbkit.xrd.data import Instrument, Pattern
from ssbkit.xrd.profile import _grid, add_peaks, chebyshev, lorentz_polarization, tch

__all__ = [
    "DEFAULT_GONIOMETER_RADIUS_MM",
    "PhaseBroadening",
    "calculate_pattern",
    "scales_from_weight_fractions",
    "simulate_pattern",
    "weight_fractions",
]

citations.register(
    "hill1987",
    "R. J. Hill, C. J. Howard, Quantitative phase analysis from neutron powder diffraction data using "
    "the Rietveld method, J. Appl. Cryst. 20 (1987) 467-474.",
    "10.1107/S0021889887086199",
)

DEFAULT_GONIOMETER_RADIUS_MM = 240.0
_MARGIN_DEG = 3.0  # peaks this far outside the scan still reach it with their tails


@dataclass(frozen=True)
class PhaseBroadening:
    """Per-phase broadening added to the instrument's: ``X``, ``Y`` [deg] Lorentzian
    (X_p tanθ strain, Y_p/cosθ size), ``U`` [deg²] Gaussian strain (U_p tan²θ)."""

    X: float = 0.0
    Y: float = 0.0
    U: float = 0.0

    def __post_init__(self) -> None:
        for name in ("X", "Y", "U"):
            object.__setattr__(self, name, finite(f"phase_broadening {name}", getattr(self, name)))

    @classmethod
    def coerce(cls, value: Any, *, source: str = "phase_broadening") -> PhaseBroadening:
        if value is None:
            return cls()
        if isinstance(value, PhaseBroadening):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"X", "Y", "U"}
            if unknown:
                raise InputError(f"broadening keys are X, Y, U; got {', '.join(sorted(unknown))}",
                                 source=source)
            return cls(**{k: float(v) for k, v in value.items()})
        raise InputError("expected a PhaseBroadening or a mapping with X, Y, U, got "
                         f"{type(value).__name__}", source=source)


def weight_fractions(phases: Sequence[Phase], scales: Any) -> np.ndarray:
    """Hill–Howard weight fractions w_p = S_p (ZMV)_p / Σ S (ZMV) (``cite: hill1987``).

    >>> from ssbkit.xrd.structures import li2s, licl
    >>> s = scales_from_weight_fractions([licl(), li2s()], [0.6, 0.4])
    >>> weight_fractions([licl(), li2s()], s).round(6).tolist()
    [0.6, 0.4]
    """
    return _hill_howard(_phases(phases), scales)


def _hill_howard(phases: list[Phase], scales: Any) -> np.ndarray:
    s = finite_array("scales", scales)
    if s.size != len(phases):
        raise InputError(f"{s.size} scales for {len(phases)} phases", source="scales")
    zmv = np.array([p.cell_mass * p.volume for p in phases])
    total = float((s * zmv).sum())
    if not total > 0:
        raise InputError("the scales add up to no material (Σ S·ZMV <= 0)", source="scales")
    return s * zmv / total


def scales_from_weight_fractions(phases: Sequence[Phase], fractions: Any, *,
                                 total: float = 1.0) -> np.ndarray:
    """Scales S_p = total · w_p / (ZMV)_p that give the weight fractions ``fractions`` (normalised)."""
    phases, w = _phases(phases), finite_array("weight_fractions", fractions)
    if w.size != len(phases) or (w < 0).any() or not w.sum() > 0:
        raise InputError(f"give {len(phases)} weight fractions >= 0 that do not all vanish",
                         source="weight_fractions")
    zmv = np.array([p.cell_mass * p.volume for p in phases])
    return positive("total", total) * (w / w.sum()) / zmv


def _phases(phases: Any) -> list[Phase]:
    if isinstance(phases, Phase):
        phases = [phases]
    phases = list(phases)
    if not phases:
        raise InputError("no phases given", source="phases")
    for p in phases:
        if not isinstance(p, Phase):
            raise InputError(f"phases must be Phase objects, got {type(p).__name__}", source="phases")
    return phases


def _per_phase(value: Any, n: int, name: str) -> list[Any]:
    if value is None or isinstance(value, PhaseBroadening | Mapping):
        return [value] * n if value is None else ([value] if n == 1 else _wrong_count(name, 1, n))
    values = list(value)
    if len(values) != n:
        _wrong_count(name, len(values), n)
    return values


def _wrong_count(name: str, got: int, n: int) -> list[Any]:
    raise InputError(f"give one value per phase: {got} for {n} phases", source=name)


def calculate_pattern(two_theta: Any, phases: Sequence[Phase], *, scales: Any, instrument: Instrument,
                      background: Any = None, phase_broadening: Any = None, displacement: float = 0.0,
                      goniometer_radius: float = DEFAULT_GONIOMETER_RADIUS_MM, window: float = 12.0,
                      form_factor_table: str = "it1992") -> np.ndarray:
    """Calculated intensity [counts] at each ``two_theta`` [deg] (module docstring).

    ``scales``: one per phase. ``background``: Chebyshev coefficients over the scan range, or
    an array with one value per point, or None. ``phase_broadening``: one ``PhaseBroadening``
    (or mapping with X, Y, U) per phase, or None. ``displacement`` [mm] is the sample
    height error s (positive: surface below the focusing circle, a recessed sample; peaks move
    to lower 2θ by 2s·cosθ/R);
    ``goniometer_radius`` R [mm]. An InputError names a phase with no reflection in the scan.
    """
    x = _grid(two_theta)
    phases = _phases(phases)
    s = finite_array("scales", scales)
    if s.size != len(phases):
        raise InputError(f"{s.size} scales for {len(phases)} phases", source="scales")
    if not isinstance(instrument, Instrument):
        raise InputError(f"expected an Instrument, got {type(instrument).__name__}", source="instrument")
    broadening = [PhaseBroadening.coerce(b) for b in _per_phase(phase_broadening, len(phases),
                                                                  "phase_broadening")]
    shift_per_cos = -2.0 * finite("displacement", displacement) / positive("goniometer_radius",
                                                                            goniometer_radius)
    lo, hi = float(x[0]), float(x[-1])
    out = _background(x, background)
    reach = _MARGIN_DEG + abs(instrument.zero) + abs(math.degrees(shift_per_cos))
    primary = max(instrument.wavelengths, key=lambda line: line[1])[0]
    centers, areas, fwhm_g, fwhm_l = [], [], [], []
    lo_reach, hi_reach = max(lo - reach, 1e-3), min(hi + reach, 179.999)
    longest = max(lam for lam, _ in instrument.wavelengths)
    d_min = longest / (2.0 * math.sin(math.radians(hi_reach / 2.0)))
    for phase, scale, extra in zip(phases, s, broadening, strict=True):
        if not phase.sites:
            raise InputError(f"phase {phase.name!r} has no sites: a calculated pattern needs a structure",
                             source=f"phase {phase.name!r}")
        # one table, one |F|² per phase; each line only places the peaks at its own 2θ
        g = phase.reciprocal_metric
        hkl, multiplicity = _enumerate(phase.operations, g, d_min)
        inv_d2 = np.einsum("ni,ij,nj->n", hkl, g, hkl)
        f2 = _structure_factors(phase, hkl, 0.25 * inv_d2, form_factor_table) if len(hkl) else inv_d2
        half_inv_d = 0.5 * np.sqrt(inv_d2)
        for lam, weight in instrument.wavelengths:
            ratio = lam * half_inv_d
            tt = np.degrees(2.0 * np.arcsin(np.minimum(ratio, 1.0)))
            if lam == primary and not ((tt >= lo) & (tt <= hi) & (ratio < 1.0)).any():
                raise InputError(f"no reflection of {phase.name} lies in the scan 2θ = {lo:g}–{hi:g}° "
                                 f"at λ = {primary:g} Å", source=f"phase {phase.name!r}")
            keep = (ratio < 1.0) & (tt >= lo_reach) & (tt <= hi_reach)
            tt = tt[keep]
            theta = np.radians(tt / 2.0)
            tan_t, cos_t = np.tan(theta), np.cos(theta)
            centers.append(tt + instrument.zero + np.degrees(shift_per_cos * cos_t))
            lp = lorentz_polarization(tt, instrument)
            areas.append(scale * weight * multiplicity[keep] * f2[keep] * lp)
            g2 = (instrument.U + extra.U) * tan_t * tan_t + instrument.V * tan_t + instrument.W
            fwhm_g.append(np.sqrt(np.maximum(g2, 0.0)))
            fwhm_l.append((instrument.X + extra.X) * tan_t + (instrument.Y + extra.Y) / cos_t)
    if not centers:
        return out
    fwhm, eta = tch(np.concatenate(fwhm_g), np.concatenate(fwhm_l))
    if not (fwhm > 0).all():
        raise InputError("a peak has zero or negative width: check U, V, W, X, Y and the phase broadening",
                         source="instrument")
    return add_peaks(x, np.concatenate(centers), np.concatenate(areas), fwhm, eta, window=window, out=out)


def _background(x: np.ndarray, background: Any) -> np.ndarray:
    if background is None:
        return np.zeros(x.size)
    values = finite_array("background", background)
    if values.size == x.size and values.size > 32:
        return values.copy()
    if values.size > 32:
        raise InputError(f"{values.size} values are neither Chebyshev coefficients (<= 32) nor one per "
                         f"point ({x.size})", source="background")
    return chebyshev(x, values, lo=float(x[0]), hi=float(x[-1]))


def simulate_pattern(phases: Sequence[Phase], *, two_theta: Any = None,
                     two_theta_range: tuple[float, float] = (10.0, 90.0), step: float = 0.02,
                     instrument: Instrument | None = None, scales: Any = None,
                     weight_fractions: Any = None, peak_counts: float = 4000.0, background: Any = None,
                     phase_broadening: Any = None, displacement: float = 0.0,
                     goniometer_radius: float = DEFAULT_GONIOMETER_RADIUS_MM, noise: bool = True,
                     rng: np.random.Generator | int | None = None) -> Pattern:
    """A simulated scan with known truth (kept in ``metadata["truth"]``).

    Give ``scales`` (absolute, as ``calculate_pattern`` takes them) or ``weight_fractions``
    (Hill–Howard), in which case the scales are chosen so that the strongest point of the
    noise-free pattern above the background has ``peak_counts`` counts. Counts are drawn
    from a Poisson distribution with the seeded ``rng`` (``noise=False``: the exact model).

    >>> from ssbkit.xrd.structures import li2s, licl
    >>> p = simulate_pattern([licl(), li2s()], weight_fractions=[0.5, 0.5], background=[200.0], rng=1)
    >>> len(p), p.metadata["truth"]["weight_fractions"]
    (4000, [0.5, 0.5])
    """
    phases = _phases(phases)
    instrument = Instrument() if instrument is None else instrument
    if two_theta is None:
        lo, hi = (finite("two_theta_range", v) for v in two_theta_range)
        step = positive("step", step)
        count = int(math.floor((hi - lo) / step + 1e-9))
        if count < 1 or count > 10_000_000:
            raise InputError(f"{lo:g}–{hi:g}° in steps of {step:g}° gives {count} points",
                             source="two_theta_range")
        two_theta = lo + step * np.arange(count)
    x = _grid(two_theta)
    if (scales is None) == (weight_fractions is None):
        raise InputError("give either scales or weight_fractions", source="scales")
    if noise and rng is None:
        raise InputError("Poisson noise needs a seed: pass rng=np.random.default_rng(N) or an int",
                         source="rng")
    options = {"instrument": instrument, "phase_broadening": phase_broadening,
               "displacement": displacement, "goniometer_radius": goniometer_radius}
    if weight_fractions is not None:
        unit = scales_from_weight_fractions(phases, weight_fractions)
        net = calculate_pattern(x, phases, scales=unit, **options)
        scales = unit * positive("peak_counts", peak_counts) / float(net.max())
    s = finite_array("scales", scales)
    model = calculate_pattern(x, phases, scales=s, background=background, **options)
    if (model < 0).any():
        raise InputError("the model is negative somewhere (check the background)", source="background")
    counts = np.random.default_rng(rng).poisson(model).astype(float) if noise else model
    truth = {
        "phases": [p.name for p in phases],
        "cells": [p.free_cell_parameters() for p in phases],
        "scales": s.tolist(),
        "weight_fractions": [round(float(w), 12) for w in _hill_howard(phases, s)],
        "instrument": {k: getattr(instrument, k) for k in ("U", "V", "W", "X", "Y", "zero", "polarization")},
        "phase_broadening": [vars(PhaseBroadening.coerce(b))
                             for b in _per_phase(phase_broadening, len(phases), "phase_broadening")],
        "background": None if background is None else np.atleast_1d(background).tolist(),
        "displacement_mm": float(displacement),
        "goniometer_radius_mm": float(goniometer_radius),
        "model": model,
    }
    return Pattern(x, counts, wavelengths=instrument.wavelengths,
                   metadata={"format": "simulated", "noise": "poisson" if noise else "none", "truth": truth},
                   source="simulate_pattern")
